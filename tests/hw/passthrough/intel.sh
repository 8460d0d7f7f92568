#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inside the lab's `intel` host: passvm passes the e1000e, the NVMe PF and
# both at once to a layer-2 guest; the SATA function of the ICH9 group is
# refused; every run leaves every driver as it was, also a passvm killed
# with SIGKILL once `passvm vfio restore` ran. Usage: intel.sh PASSVM DIR
set -u
passvm=$1 dir=$2
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
snap() { lspci -k 2>/dev/null || for d in /sys/bus/pci/devices/*; do echo "${d##*/} $(basename "$(readlink "$d/driver" 2>/dev/null)")"; done; }
same_as() { # SNAPSHOT WHAT
	local now; now=$(snap)
	if [ "$now" = "$1" ]; then ok "lspci -k as before: $2"; else diff <(echo "$1") <(echo "$now"); fail "lspci -k differs: $2"; fi
}
nic=0000:00:02.0 nvme=0000:00:03.0
kernel=$PASSVM_LAB_KERNEL
boot() { # NAME INITRD ARGS...: passvm run; console in /run/NAME.console
	local name=$1 initrd=$2; shift 2
	echo "\$ passvm run ... $*"
	timeout 600 "$passvm" run --kernel "$kernel" --initrd "$dir/$initrd.gz" --memory 192M \
		--console "/run/$name.console" --cmdline "console=ttyS0 panic=-1 quiet" "$@" \
		>"/run/$name.out" 2>&1
	rc=$?
	sed 's/^/  passvm| /' "/run/$name.out"
	[ -f "/run/$name.console" ] && tr -d '\r' <"/run/$name.console" | grep -E '^L2 |PASSVM-L2-DONE|Kernel panic|BUG|nvme|e1000e' | sed 's/^/  guest| /' | head -40
	return $rc
}
console_has() { tr -d '\r' <"/run/$1.console" | grep -q "$2"; }

before=$(snap)
dd if=/dev/zero of=/dev/nvme0n1 bs=512 count=64 conv=fsync 2>/dev/null
printf 'PASSVM-HOST-PATTERN-0042' | dd of=/dev/nvme0n1 bs=512 conv=sync,fsync 2>/dev/null

echo "## dry run: the plan, nothing changed"
"$passvm" run --dry-run --device vfio=$nic --device vfio=$nvme --device vfio=00:1f.2; echo "rc=$?"
same_as "$before" "after --dry-run"

echo "## the e1000e"
boot nic nic --device vfio=$nic && ok "passvm exited 0" || fail "passvm exited $rc"
console_has nic "^L2 driver=e1000e" && ok "e1000e driver bound in the guest" || fail "no e1000e in the guest"
console_has nic "^L2 carrier=1" && ok "link up" || fail "no link"
console_has nic "^L2 address=10.0.2." && ok "DHCP address" || fail "no DHCP address"
console_has nic "^L2 ping=ok" && ok "ping answered" || fail "no ping"
same_as "$before" "after the e1000e run"

echo "## the NVMe PF"
boot nvme nvme --device vfio=$nvme && ok "passvm exited 0" || fail "passvm exited $rc"
console_has nvme "^L2 read=PASSVM-HOST-PATTERN-0042" && ok "guest read the host's pattern" || fail "guest did not read the host's pattern"
wrote=$(tr -d '\r' <"/run/nvme.console" | sed -n 's/^L2 wrote=//p')
n=0; while [ ! -e /dev/nvme0n1 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
got=$(dd if=/dev/nvme0n1 bs=512 skip=8 count=1 iflag=direct 2>/dev/null | head -c ${#wrote})
[ -n "$wrote" ] && [ "$got" = "$wrote" ] && ok "host reads what the guest wrote ($got)" || fail "host read '$got', guest wrote '$wrote'"
same_as "$before" "after the NVMe run"

echo "## both in one VM"
boot both both --device vfio=$nic --device vfio=$nvme && ok "passvm exited 0" || fail "passvm exited $rc"
console_has both "^L2 ping=ok" && ok "ping answered" || fail "no ping with two devices"
console_has both "^L2 read=PASSVM-HOST-PATTERN-0042" && ok "NVMe read with two devices" || fail "no NVMe read with two devices"
same_as "$before" "after two devices"

echo "## an NVMe VF (passvm sriov create), the same way"
"$passvm" sriov create $nvme 1 --bind host --nvme-queues 2 --nvme-interrupts 1 || fail "sriov create"
vf=$(basename "$(readlink /sys/bus/pci/devices/$nvme/virtfn0)")
vf_before=$(snap)
boot vf nvme --device vfio=$vf && ok "passvm exited 0" || fail "passvm exited $rc"
console_has vf "^L2 read=PASSVM-HOST-PATTERN-0042" && ok "guest read the host's pattern through the VF" ||
	fail "guest did not read the host's pattern through VF $vf"
wrote=$(tr -d '\r' <"/run/vf.console" | sed -n 's/^L2 wrote=//p')
got=$(dd if=/dev/nvme0n1 bs=512 skip=8 count=1 iflag=direct 2>/dev/null | head -c ${#wrote})
[ -n "$wrote" ] && [ "$got" = "$wrote" ] && ok "host reads what the guest wrote through the VF ($got)" ||
	fail "host read '$got', guest wrote '$wrote' through the VF"
same_as "$vf_before" "after the VF run (VF back on nvme)"
"$passvm" sriov remove $nvme || fail "sriov remove"
same_as "$before" "after the VF was removed"

echo "## refusal: the SATA function of the shared ICH9 group"
boot sata nic --device vfio=00:1f.2; rc=$?
[ $rc = 1 ] && ok "refused, exit 1" || fail "exit $rc"
grep -q "cannot pass through 0000:00:1f.2: .*group" "/run/sata.out" && ok "reason names the group" || fail "no group in the reason"
grep -q "fallback=none\|nothing was changed" "/run/sata.out" && ok "says nothing changed" || fail "does not say nothing changed"
same_as "$before" "after the refusal"

echo "## SIGTERM: passvm gives the device back"
"$passvm" run --kernel "$kernel" --initrd "$dir/wait.gz" --memory 192M --console /run/term.console \
	--cmdline "console=ttyS0 panic=-1 quiet" --device vfio=$nic >/run/term.out 2>&1 &
pid=$!
n=0; while [ "$(basename "$(readlink /sys/bus/pci/devices/$nic/driver)")" != vfio-pci ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done
sleep 2
kill -TERM $pid; wait $pid; echo "passvm after SIGTERM: rc=$?"
same_as "$before" "after SIGTERM"

echo "## kill -9, then passvm vfio restore"
"$passvm" run --kernel "$kernel" --initrd "$dir/wait.gz" --memory 192M --console /run/kill.console \
	--cmdline "console=ttyS0 panic=-1 quiet" --device vfio=$nic >/run/kill.out 2>&1 &
pid=$!
n=0; while [ "$(basename "$(readlink /sys/bus/pci/devices/$nic/driver)")" != vfio-pci ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done
sleep 2
kill -9 $pid; wait $pid 2>/dev/null
[ "$(snap)" != "$before" ] && ok "after kill -9 the NIC is still on vfio-pci" || fail "kill -9 left nothing to restore?"
"$passvm" vfio restore --all
same_as "$before" "after kill -9 and passvm vfio restore"

[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all passthrough checks passed"
