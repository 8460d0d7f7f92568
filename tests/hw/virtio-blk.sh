#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hw suite: passvm's virtio-blk and virtio-rng with a real Linux driver. In
# the emulated host (nested KVM), passvm boots the layer-2 guest (2 vCPUs, so
# its virtio-blk driver uses both queues of a two-queue disk) with
#   - a writable disk (image file, serial, two queues): the guest reads the
#     pattern the host put there, writes its own, powers off, and the host
#     reads the guest's pattern back from the image;
#   - a read-only disk: the guest sees it read-only, a write fails, and the
#     image is unchanged afterwards;
#   - a loop block device with O_DIRECT (direct): the guest writes, the host
#     reads it back from the device;
#   - virtio-rng: the guest's hwrng is virtio_rng and gives bytes.
# Usage: virtio-blk.sh PASSVM
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
passvm=$(readlink -f "${1:?usage: virtio-blk.sh PASSVM}")
lab=$here/lab
skip() {
	if [ "${CI:-}" = true ]; then echo "FAIL: would skip ($1), and CI=true allows no skip"; exit 1; fi
	echo "SKIP: $1"; exit 77
}
[ "$(id -u)" = 0 ] || skip "the lab needs root"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/deps)"

tmp=$(mktemp -d /tmp/passvm-virtio-blk.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# The guest: find the disks by serial, check them, write the pattern.
cat >"$tmp/guest.sh" <<'GUEST'
# l2-init's coldplug ran before virtio_pci made the virtio devices, and no
# udev loads their drivers: load them by the virtio bus's modaliases.
modprobe -qa $(cat /sys/bus/virtio/devices/*/modalias 2>/dev/null)
dev_of() { for b in /sys/block/vd*; do [ "$(cat $b/serial 2>/dev/null)" = "$1" ] && basename $b; done; }
n=0
while [ -z "$(dev_of passvm-rw)" ] || [ -z "$(dev_of passvm-ro)" ] || [ -z "$(dev_of passvm-direct)" ]; do
	n=$((n + 1)); [ $n -gt 100 ] && break; sleep 0.1
done
rw=$(dev_of passvm-rw) ro=$(dev_of passvm-ro) dir=$(dev_of passvm-direct)
echo "BLKTEST devices=rw:$rw,ro:$ro,direct:$dir"
echo "BLKTEST rw_sectors=$(cat /sys/block/$rw/size) rw_queues=$(ls /sys/block/$rw/mq | wc -l)"
echo "BLKTEST ro_flag=$(cat /sys/block/$ro/ro) rw_flag=$(cat /sys/block/$rw/ro)"
echo "BLKTEST host_pattern=$(dd if=/dev/$rw bs=512 count=1 2>/dev/null | head -c 15)"
i=0
while [ $i -lt 512 ]; do printf 'passvm-virtio-blk-%04d-guest-pattern-line......\n' $i; i=$((i + 1)); done >/tmp/pat
dd if=/tmp/pat of=/dev/$rw bs=4096 seek=256 conv=fsync 2>/dev/null; echo "BLKTEST rw_write_rc=$?"
dd if=/tmp/pat of=/dev/$dir bs=4096 seek=16 oflag=direct conv=fsync 2>/dev/null; echo "BLKTEST direct_write_rc=$?"
echo "BLKTEST direct_readback=$(dd if=/dev/$dir bs=4096 skip=16 count=6 iflag=direct 2>/dev/null | cmp -s - /tmp/pat && echo same || echo differs)"
dd if=/tmp/pat of=/dev/$ro bs=4096 count=1 conv=fsync 2>/dev/null; echo "BLKTEST ro_write_rc=$?"
echo "BLKTEST ro_pattern=$(dd if=/dev/$ro bs=512 count=1 2>/dev/null | head -c 11)"
echo "BLKTEST rng=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
echo "BLKTEST rng_bytes=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)"
dmesg | grep -iE 'virtio|vd[a-z]' | grep -iE 'error|fail|broken' | sed 's/^/BLKTEST dmesg_bad=/'
# For a failure's diagnosis: the PCI functions, their drivers, the kernel's view.
for d in /sys/bus/pci/devices/*; do
	echo "BLKDIAG pci $(basename $d) $(cat $d/vendor):$(cat $d/device) driver=$(basename "$(readlink $d/driver)" 2>/dev/null) irq=$(cat $d/irq)"
done
dmesg | grep -iE 'pci|virtio|msi|vd[a-z]' | tail -60 | sed 's/^/BLKDIAG dmesg /'
GUEST
"$lab" l2-initrd --run-file "$tmp/guest.sh" -o "$tmp/l2.gz" || skip "cannot build the layer-2 initramfs"
head -c 4096 /dev/urandom >"$tmp/random"
i=0
while [ $i -lt 512 ]; do printf 'passvm-virtio-blk-%04d-guest-pattern-line......\n' $i; i=$((i + 1)); done >"$tmp/pat"

# The emulated host: images in its tmpfs, a loop device for the direct disk.
cat >"$tmp/host.sh" <<HOST
cd /run
truncate -s 16M rw.img ro.img lo.img
printf 'HOST-PATTERN-OK' | dd of=rw.img conv=notrunc 2>/dev/null
printf 'RO-PATTERN!' | dd of=ro.img conv=notrunc 2>/dev/null
dd if=$tmp/random of=ro.img bs=4096 seek=1 conv=notrunc 2>/dev/null
ro_before=\$(md5sum <ro.img)
loop=\$(losetup -f --show lo.img) || echo "HOSTTEST no_loop"
"$passvm" run --kernel "\$PASSVM_LAB_KERNEL" --initrd "$tmp/l2.gz" --memory 256M --cpus 2 \
	--console /run/console --cmdline "console=ttyS0 panic=-1 quiet" \
	--disk rw.img,serial=passvm-rw,queues=2 --disk ro.img,readonly,serial=passvm-ro \
	--disk "\$loop",direct,serial=passvm-direct --rng 2>/run/passvm.err
echo "HOSTTEST passvm_rc=\$?"
sed 's/^/HOSTTEST stderr=/' /run/passvm.err
tr -d '\r' </run/console | grep -E "BLKTEST|BLKDIAG|PASSVM-L2-DONE|Kernel panic"
dd if=rw.img bs=4096 skip=256 count=6 2>/dev/null | cmp -s - $tmp/pat && echo "HOSTTEST rw_readback=same"
dd if="\$loop" bs=4096 skip=16 count=6 iflag=direct 2>/dev/null | cmp -s - $tmp/pat && echo "HOSTTEST direct_readback=same"
[ "\$(md5sum <ro.img)" = "\$ro_before" ] && echo "HOSTTEST ro_unchanged=yes"
HOST
out=$("$lab" run noiommu --mem 2048 --modules 'kvm_amd loop' --timeout 900 -- bash "$tmp/host.sh" 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || { echo "FAIL: the lab run failed (status $rc)"; exit 1; }

fail=0
want() { # DESCRIPTION PATTERN
	grep -qE -- "$2" <<<"$out" && echo "ok: $1" || { echo "FAIL: $1 (no line matching '$2')"; fail=1; }
}
want "passvm exited 0 (the guest powered off)" '^HOSTTEST passvm_rc=0$'
want "the guest's init finished" 'PASSVM-L2-DONE rc=0'
want "three virtio disks found by serial" 'BLKTEST devices=rw:vd[a-z],ro:vd[a-z],direct:vd[a-z]$'
want "the writable disk has 16 MiB and two queues" 'BLKTEST rw_sectors=32768 rw_queues=2$'
want "the read-only disk is read-only, the other is not" 'BLKTEST ro_flag=1 rw_flag=0$'
want "the guest read the host's pattern" 'BLKTEST host_pattern=HOST-PATTERN-OK$'
want "the guest's write succeeded" 'BLKTEST rw_write_rc=0$'
want "the host read the guest's pattern from the image" '^HOSTTEST rw_readback=same$'
want "O_DIRECT disk: guest write and read-back" 'BLKTEST direct_write_rc=0$'
want "O_DIRECT disk: guest reads its data back" 'BLKTEST direct_readback=same$'
want "O_DIRECT disk: the host reads it from the loop device" '^HOSTTEST direct_readback=same$'
want "a write to the read-only disk fails in the guest" 'BLKTEST ro_write_rc=[1-9]'
want "the read-only disk still reads" 'BLKTEST ro_pattern=RO-PATTERN!$'
want "the read-only image is unchanged" '^HOSTTEST ro_unchanged=yes$'
want "the guest's hwrng is virtio-rng" 'BLKTEST rng=virtio_rng'
want "virtio-rng gave 64 bytes" 'BLKTEST rng_bytes=64$'
if grep -qE 'BLKTEST dmesg_bad=|HOSTTEST stderr=' <<<"$out"; then
	echo "FAIL: errors in the guest's dmesg or on passvm's stderr"; fail=1
fi
exit $fail
