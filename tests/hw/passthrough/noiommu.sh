#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inside the lab's `noiommu` host (no IOMMU at all): nothing can be passed
# through. fallback=auto gives the guest the NVMe's namespace as virtio-blk
# through the host's nvme driver (same contents both ways); fallback=none
# refuses; the e1000e's fallback is virtio-net on a macvtap over its host
# netdev: DHCP and ping through it. lspci -k never changes.
# Usage: noiommu.sh PASSVM DIR
set -u
passvm=$1 dir=$2
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
snap() { lspci -k; }
same_as() { # SNAPSHOT WHAT
	local now; now=$(snap)
	if [ "$now" = "$1" ]; then ok "lspci -k as before: $2"; else diff <(echo "$1") <(echo "$now"); fail "lspci -k differs: $2"; fi
}
nic=0000:00:02.0 nvme=0000:00:03.0
kernel=$PASSVM_LAB_KERNEL
boot() { # NAME INITRD ARGS...
	local name=$1 initrd=$2; shift 2
	echo "\$ passvm run ... $*"
	timeout 600 "$passvm" run --kernel "$kernel" --initrd "$dir/$initrd.gz" --memory 192M \
		--console "/run/$name.console" --cmdline "console=ttyS0 panic=-1 quiet" "$@" \
		>"/run/$name.out" 2>&1
	rc=$?
	sed 's/^/  passvm| /' "/run/$name.out"
	[ -f "/run/$name.console" ] && tr -d '\r' <"/run/$name.console" | grep -E '^L2 |PASSVM-L2-DONE|Kernel panic' | sed 's/^/  guest| /' | head -40
	return $rc
}
console_has() { tr -d '\r' <"/run/$1.console" | grep -q "$2"; }

n=0; while [ ! -e /dev/nvme0n1 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
before=$(snap)
dd if=/dev/zero of=/dev/nvme0n1 bs=512 count=64 conv=fsync 2>/dev/null
printf 'PASSVM-HOST-PATTERN-0042' | dd of=/dev/nvme0n1 bs=512 conv=sync,fsync 2>/dev/null

echo "## dry run"
"$passvm" run --dry-run --device vfio=$nic,fallback=auto --device vfio=$nvme,fallback=auto; echo "rc=$?"
same_as "$before" "after --dry-run"

echo "## the NVMe, fallback=auto: virtio-blk on the host's /dev/nvme0n1"
boot vda vda --device vfio=$nvme,fallback=auto && ok "passvm exited 0" || fail "passvm exited $rc"
grep -q "$nvme: not passed through (.*IOMMU.*); the guest gets virtio-blk on the host's /dev/nvme0n1 instead" /run/vda.out &&
	ok "one line: which device, why, what the guest gets" || fail "no substitution line"
console_has vda "^L2 read=PASSVM-HOST-PATTERN-0042" && ok "guest reads the host's pattern through virtio-blk" ||
	fail "guest did not read the host's pattern"
wrote=$(tr -d '\r' <"/run/vda.console" | sed -n 's/^L2 wrote=//p')
got=$(dd if=/dev/nvme0n1 bs=512 skip=8 count=1 iflag=direct 2>/dev/null | head -c ${#wrote})
[ -n "$wrote" ] && [ "$got" = "$wrote" ] && ok "host reads what the guest wrote ($got)" || fail "host read '$got', guest wrote '$wrote'"
same_as "$before" "after the NVMe fallback"

echo "## the NVMe, fallback=none: refused"
boot none vda --device vfio=$nvme,fallback=none; rc=$?
[ $rc = 1 ] && ok "refused, exit 1" || fail "exit $rc"
grep -q "cannot pass through $nvme: .*IOMMU.*fallback: nothing (fallback=none); nothing was changed" /run/none.out &&
	ok "reason given" || fail "no reason"
same_as "$before" "after fallback=none"

echo "## the e1000e, fallback=auto: virtio-net on a macvtap over the host's eth0"
# The lower device must be up for the macvtap to carry frames; passvm does
# not change the host's interfaces, the test brings it up (no address).
ip link set eth0 up
before=$(snap)
boot vnet vnet --device vfio=$nic,fallback=auto && ok "passvm exited 0" || fail "passvm exited $rc"
grep -q "$nic: not passed through (.*IOMMU.*); the guest gets virtio-net on a macvtap over the host's eth0 instead" /run/vnet.out &&
	ok "one line: which device, why, what the guest gets" || fail "no substitution line"
console_has vnet "^L2 driver=virtio_net" && ok "virtio-net in the guest" || fail "no virtio-net in the guest"
console_has vnet "^L2 address=10.0.2." && ok "DHCP address through the host's NIC" || fail "no DHCP address"
console_has vnet "^L2 ping=ok" && ok "ping answered" || fail "no ping"
ip -o link show type macvtap | grep -q . && fail "a macvtap was left behind: $(ip -o link show type macvtap)" ||
	ok "the macvtap is gone"
same_as "$before" "after the e1000e fallback"

[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all noiommu fallback checks passed"
