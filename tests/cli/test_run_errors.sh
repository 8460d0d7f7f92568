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
exit $fail
