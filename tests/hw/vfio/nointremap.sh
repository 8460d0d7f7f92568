#!/usr/bin/env bash
# hw (intel-nointremap): VT-d without interrupt remapping. Opening the group
# fails in VFIO_SET_IOMMU with EPERM; the user must get the explanation
# and the allow_unsafe_interrupts trade-off, not a bare EPERM.
set -u
source "$(dirname "$0")/common.sh"
before=$(snap)
run 0 "$passvm" vfio bind 00:02.0
run 1 "$passvm" vfio reset 00:02.0
grep -q "no interrupt remapping" <<<"$out" || fail "no interrupt-remapping explanation"
grep -q "allow_unsafe_interrupts=1 (now N" <<<"$out" || fail "no allow_unsafe_interrupts trade-off"
run 1 "$hwtool" open-group 00:02.0
grep -q "interrupt remapping" <<<"$out" || fail "the library gives no explanation"
run 0 "$passvm" vfio restore --all
same_as "$before" "after restore"
echo "PASS"
