#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Layer 2: the lab's guest image boots under QEMU with -accel kvm -M microvm
# inside the emulated host (nested KVM), runs its snippet and reports the
# snippet's exit status by its marker. This is the reference run that
# passvm's own Linux boots are compared with.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"
hw_enter intel --modules kvm_amd -- "$@"

[ -c /dev/kvm ] || hw_skip "no /dev/kvm"
command -v qemu-system-x86_64 >/dev/null || hw_skip "qemu-system-x86_64 not installed"
eval "$("$here/lab" paths)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/lab" l2-initrd -o "$tmp/l2.gz" --run '
echo "layer 2 says hello from $(uname -r)"
grep -c ^processor /proc/cpuinfo
exit 3'
hw_ok "layer-2 initramfs built ($(stat -c %s "$tmp/l2.gz") bytes)"

timeout 300 qemu-system-x86_64 -accel kvm -M microvm -cpu host -smp 1 -m 256 \
	-nodefaults -no-user-config -display none -no-reboot -serial stdio \
	-kernel "$PASSVM_LAB_KERNEL" -initrd "$tmp/l2.gz" \
	-append "console=ttyS0 panic=-1 quiet reboot=t" </dev/null >"$tmp/out" 2>&1 || true
tr -d '\r' <"$tmp/out" >"$tmp/console"
hw_check "the guest ran its snippet" grep -q "^layer 2 says hello from $PASSVM_LAB_KVER" "$tmp/console"
hw_check "the guest reported the snippet's exit status" grep -q '^PASSVM-L2-DONE rc=3$' "$tmp/console"
[ "$hw_failures" = 0 ] || sed 's/^/  | /' "$tmp/console" | tail -n 30 >&2
hw_done
