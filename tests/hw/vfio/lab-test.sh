#!/usr/bin/env bash
# tests/hw/vfio/lab-test.sh INNER TOPOLOGY [lab options...]: boots the lab
# (tests/hw/lab) with TOPOLOGY and runs tests/hw/vfio/INNER inside it with
# the build's passvm and vfio-hwtool. Exit 77 (skip; a failure under
# CI=true) when the lab cannot run here.
# Environment: BUILD (build dir, set by meson), PASSVM_LAB (the lab script).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
inner=$1 topo=$2; shift 2
lab=${PASSVM_LAB:-$here/../lab}
skip() {
	if [ "${CI:-}" = true ]; then echo "FAIL: would skip ($1), and CI=true allows no skip"; exit 1; fi
	echo "SKIP: $1"; exit 77
}
[ -x "$lab" ] || skip "no lab at $lab (tests/hw/lab)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/deps test)"
build=${BUILD:?BUILD must name the build directory}
"$lab" run "$topo" --timeout 500 "$@" -- \
	bash "$here/$inner" "$build/cli/passvm" "$build/tests/vfio-hwtool"
rc=$?
[ $rc = 125 ] && echo "FAIL: the lab itself failed (exit 125)"
exit $rc
