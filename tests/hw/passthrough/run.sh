#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hw suite: `passvm run --device vfio=...` in the lab. Usage: run.sh PASSVM INNER TOPOLOGY
# Builds the layer-2 initramfs images (a NIC check and an NVMe check), boots
# the lab's emulated host of TOPOLOGY and runs tests/hw/passthrough/INNER
# there. Exit 77 (a failure under CI=true) when the lab cannot run here.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
passvm=$(readlink -f "${1:?usage: run.sh PASSVM INNER TOPOLOGY}")
inner=$2 topo=$3
lab=$here/../lab
skip() {
	if [ "${CI:-}" = true ]; then echo "FAIL: would skip ($1), and CI=true allows no skip"; exit 1; fi
	echo "SKIP: $1"; exit 77
}
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/deps)"
tmp=$(mktemp -d /tmp/passvm-passthrough.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# The NIC: link, an address from QEMU's user network (DHCP), a ping of its
# gateway. Devices appear asynchronously after modprobe: wait for them.
cat >"$tmp/nic.sh" <<'GUEST'
n=0; while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
echo "L2 driver=$(basename "$(readlink /sys/class/net/eth0/device/driver)")"
ip link set eth0 up
n=0; while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
echo "L2 carrier=$(cat /sys/class/net/eth0/carrier)"
printf '#!/bin/sh\n[ "$1" = bound ] && ifconfig "$interface" "$ip" netmask "$subnet" && echo "L2 address=$ip"\nexit 0\n' >/dhcp.sh
chmod +x /dhcp.sh
udhcpc -i eth0 -n -q -t 20 -T 1 -s /dhcp.sh
grep -i -E 'msi|eth0' /proc/interrupts | sed 's/^/L2 irq /'
ping -c 3 -W 3 10.0.2.2 && echo "L2 ping=ok"
GUEST
# The NVMe: read what the host wrote, write something the host must see.
cat >"$tmp/nvme.sh" <<'GUEST'
n=0; while [ ! -e /dev/nvme0n1 ] && [ $n -lt 200 ]; do sleep 0.1; n=$((n+1)); done
echo "L2 nvme=$(ls /dev/nvme0n1 2>&1)"
echo "L2 read=$(dd if=/dev/nvme0n1 bs=512 count=1 2>/dev/null | head -c 24)"
echo "PASSVM-GUEST-WROTE-$(cat /proc/sys/kernel/random/boot_id | head -c 8)" >/w
echo "L2 wrote=$(cat /w)"
dd if=/w of=/dev/nvme0n1 bs=512 seek=8 conv=sync,fsync 2>/dev/null
grep -i -E 'nvme' /proc/interrupts | sed 's/^/L2 irq /'
GUEST
# The NVMe's fallback: the same namespace as a virtio-blk disk.
# l2-init loads drivers by modalias once, before virtio-pci has made the
# virtio device whose alias names virtio_blk: load it by name.
{ echo "modprobe virtio_blk"
  sed 's|/dev/nvme0n1|/dev/vda|g; s|L2 nvme=|L2 vda=|; s|nvme|virtio|' "$tmp/nvme.sh"; } >"$tmp/vda.sh"
# The NIC's fallback: virtio-net on a macvtap over the host's e1000e.
{ echo "modprobe virtio_net"; cat "$tmp/nic.sh"; } >"$tmp/vnet.sh"
# Both at once.
cat "$tmp/nic.sh" "$tmp/nvme.sh" >"$tmp/both.sh"
# Stays up until killed (the kill -9 test).
echo 'echo "L2 waiting"; sleep 600' >"$tmp/wait.sh"
for g in nic nvme vda vnet both wait; do
	"$lab" l2-initrd --run-file "$tmp/$g.sh" -o "$tmp/$g.gz" >/dev/null || skip "cannot build the layer-2 initramfs"
done
# The guest-side attack program (attack.c, for faults.sh): static, in an
# archive appended to the image (concatenated cpio archives are one
# initramfs), run by the guest's init.
mkdir "$tmp/attack-root"
cc -static -O2 -o "$tmp/attack-root/attack" "$here/attack.c" || skip "cannot build the static attack program (libc6-dev)"
(cd "$tmp/attack-root" && echo attack | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$tmp/attack-bin.gz"
"$lab" l2-initrd --run '/attack; echo "L2 attack rc=$?"' -o "$tmp/attack-base.gz" >/dev/null ||
	skip "cannot build the layer-2 initramfs"
cat "$tmp/attack-base.gz" "$tmp/attack-bin.gz" >"$tmp/attack.gz"
"$lab" run "$topo" --mem 3072 --modules "kvm_amd vfio-pci" --timeout 1500 -- \
	bash "$here/$inner" "$passvm" "$tmp"
rc=$?
[ $rc = 125 ] && echo "FAIL: the lab itself failed (exit 125)"
exit $rc
