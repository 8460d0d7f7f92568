#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# /dev/kvm in the emulated host: the project's own KVM test binary
# (tests/kvm/test_realmode.c, given as $1) against the real nested KVM
# (kvm_amd on QEMU's emulated SVM). On a real host it runs there directly.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"
bin=${1:?usage: kvm.sh PATH/TO/test-kvm-realmode}
bin=$(readlink -f "$bin")
hw_enter intel --modules kvm_amd -- "$bin"

[ -x "$bin" ] || hw_die "$bin: not built (ninja -C build)"
if hw_in_lab; then
	hw_check "/dev/kvm present (kvm_amd loaded)" test -c /dev/kvm
	hw_check "CPU is QEMU's emulated AMD with SVM" grep -qw svm /proc/cpuinfo
else
	[ -c /dev/kvm ] || hw_skip "no /dev/kvm on this host"
fi
hw_check "$(basename "$bin") passes against this kernel's KVM" "$bin"
hw_done
