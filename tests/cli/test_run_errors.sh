#!/usr/bin/env bash
# passvm run: every bad input is one line on stderr, a non-zero exit (2 for
# usage, 1 for failures), and leaves nothing behind (no console file).
# Usage: test_run_errors.sh PASSVM
set -u
passvm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	[ "${CI:-}" = true ] && { echo "FAIL: no usable /dev/kvm and CI=true"; exit 1; }
	echo "SKIP: no usable /dev/kvm"; exit 77
fi

# expect STATUS PATTERN ARGS...: exit status, one stderr line matching PATTERN
expect() {
	local want=$1 pattern=$2; shift 2
	"$passvm" run --console "$tmp/console" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local got=$?
	local lines
	lines=$(wc -l <"$tmp/err")
	if [ "$got" != "$want" ] || [ "$lines" != 1 ] || ! grep -q -- "$pattern" "$tmp/err"; then
		echo "FAIL: passvm run $*: status $got (want $want), $lines line(s):"
		cat "$tmp/err"
		fail=1
	fi
	if [ -e "$tmp/console" ]; then
		echo "FAIL: passvm run $*: left $tmp/console behind"
		rm -f "$tmp/console"
		fail=1
	fi
}

printf 'not a kernel\n' >"$tmp/text"
expect 2 "--kernel PATH is required"
expect 2 "unexpected argument" --kernel "$tmp/text" extra
expect 2 "--memory '0'" --kernel "$tmp/text" --memory 0
expect 2 "--memory 'lots'" --kernel "$tmp/text" --memory lots
expect 2 "--memory '4X'" --kernel "$tmp/text" --memory 4X
expect 2 "more than this host has" --kernel "$tmp/text" --memory 64T
expect 2 "at least 16 MiB" --kernel "$tmp/text" --memory 1M
expect 2 "--cpus '0'" --kernel "$tmp/text" --cpus 0
expect 2 "--cpus 'two'" --kernel "$tmp/text" --cpus two
expect 1 "above .* limit" --kernel "$tmp/text" --cpus 60000
expect 1 "cannot load kernel $tmp/missing: No such file" --kernel "$tmp/missing"
expect 1 "cannot load kernel $tmp: Is a directory" --kernel "$tmp"
expect 1 "is not a bzImage" --kernel "$tmp/text"
if [ "$(id -u)" != 0 ]; then
	chmod 000 "$tmp/text"
	expect 1 "Permission denied" --kernel "$tmp/text"
fi
# No /dev/kvm (a private /dev without it) and no permission (an unprivileged
# user, when /dev/kvm is not open to everyone): needs root to set up.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	passvm_real=$passvm
	passvm=$tmp/no-dev-kvm
	printf '#!/bin/sh\nexec unshare -m sh -c '\''mount -t tmpfs none /dev && exec "$0" "$@"'\'' %s "$@"\n' \
		"$passvm_real" >"$passvm"
	chmod +x "$passvm"
	expect 1 "/dev/kvm not found" --kernel "$tmp/text"
	passvm=$passvm_real
	if command -v setpriv >/dev/null && [ "$(stat -c %a /dev/kvm)" != 666 ]; then
		chmod 755 "$tmp"
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$passvm" run \
			--kernel "$tmp/text" --memory 64M 2>&1 >/dev/null)
		if [ "$(wc -l <<<"$out")" != 1 ] || ! grep -q "no permission to open /dev/kvm" <<<"$out"; then
			echo "FAIL: unprivileged user: $out"; fail=1
		fi
	fi
fi
if grep -q '^HugePages_Free: *0$' /proc/meminfo; then
	expect 1 "cannot get 64 MiB of 2 MiB huge pages" --kernel "$tmp/text" --memory 64M --hugepages
fi
expect 1 "must be a multiple of 2 MiB with --hugepages" --kernel "$tmp/text" --memory 65M --hugepages
# --device: bad syntax is a usage error; a device that cannot be passed
# through (missing, or this machine has no IOMMU) is refused before the VM
# exists, in one line, with what the guest would have got instead.
expect 2 "--device 'vfio=zz': cannot parse at 'zz'" --kernel "$tmp/text" --device vfio=zz
expect 2 "--device 'pci=00:02.0'" --kernel "$tmp/text" --device pci=00:02.0
expect 2 "cannot parse at 'fallback=maybe'" --kernel "$tmp/text" --device vfio=00:02.0,fallback=maybe
expect 2 "named twice" --kernel "$tmp/text" --device vfio=00:1e.7 --device vfio=0000:00:1e.7
expect 1 "cannot pass through 0000:00:1e.7: no such PCI function on this host" \
	--kernel "$tmp/text" --device vfio=00:1e.7
if [ ! -d /sys/class/iommu ] || [ -z "$(ls /sys/class/iommu)" ]; then
	dev=$(cd /sys/bus/pci/devices && for d in *; do
		case $(cat "$d/class") in 0x0600*|0x0604*|0x0601*) ;; *) echo "$d"; break ;; esac; done)
	[ -n "$dev" ] && expect 1 "cannot pass through $dev: .*IOMMU.*fallback: nothing: .*nothing was changed" \
		--kernel "$tmp/text" --device "vfio=$dev,fallback=auto"
fi

# --disk: usage errors (exit 2) before anything is created; images that
# cannot be used fail the VM's start (exit 1) after a kernel that loads (a
# synthetic bzImage: tests/bzimage_synth.h's header, 16 bytes of "kernel").
python3 - "$tmp/bzImage" <<'PY'
import struct, sys
f = bytearray(1024 + 16)
f[0x1f1] = 1
struct.pack_into('<I', f, 0x1f4, 1)
struct.pack_into('<H', f, 0x1fe, 0xaa55)
f[0x200:0x202] = b'\xeb\x6a'
f[0x202:0x206] = b'HdrS'
struct.pack_into('<H', f, 0x206, 0x020f)
f[0x211] = 1
struct.pack_into('<I', f, 0x214, 0x100000)
struct.pack_into('<I', f, 0x22c, 0x7fffffff)
struct.pack_into('<I', f, 0x230, 0x200000)
f[0x234] = 1
struct.pack_into('<H', f, 0x236, 1)
struct.pack_into('<I', f, 0x238, 2048)
struct.pack_into('<Q', f, 0x258, 0x1000000)
struct.pack_into('<I', f, 0x260, 4 << 20)
open(sys.argv[1], 'wb').write(f)
PY
truncate -s 1M "$tmp/disk.img"
k=(--kernel "$tmp/bzImage" --memory 64M)
expect 2 "unknown option 'fast'" "${k[@]}" --disk "$tmp/disk.img,fast"
expect 2 "'readonly' given twice" "${k[@]}" --disk "$tmp/disk.img,readonly,readonly"
expect 2 "'queues' given twice" "${k[@]}" --disk "$tmp/disk.img,queues=2,queues=2"
expect 2 "serial given twice" "${k[@]}" --disk "$tmp/disk.img,serial=a,serial=b"
expect 2 "queues must be a number from 1 to 16" "${k[@]}" --disk "$tmp/disk.img,queues=0"
expect 2 "queues must be a number from 1 to 16" "${k[@]}" --disk "$tmp/disk.img,queues=17"
expect 2 "serial must be 1 to 20 bytes" "${k[@]}" --disk "$tmp/disk.img,serial=123456789012345678901"
expect 2 "give the image first" "${k[@]}" --disk ",readonly"
expect 2 "given twice: one image, one disk" "${k[@]}" --disk "$tmp/disk.img" --disk "$tmp/disk.img,readonly"
expect 1 "--disk $tmp/missing.img: cannot open the image: No such file" "${k[@]}" --disk "$tmp/missing.img"
expect 1 "--disk $tmp: not a regular file or block device" "${k[@]}" --disk "$tmp,readonly"
: >"$tmp/empty.img"
expect 1 "--disk $tmp/empty.img: not a regular file or block device with at least" "${k[@]}" --disk "$tmp/empty.img"
# The second disk fails: the first one's device is taken down again.
expect 1 "--disk $tmp/missing.img: cannot open" "${k[@]}" --disk "$tmp/disk.img" --disk "$tmp/missing.img"
exit $fail
