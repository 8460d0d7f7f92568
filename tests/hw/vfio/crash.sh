#!/usr/bin/env bash
# hw (intel + a PCI bridge with two e1000 behind it: one IOMMU group of
# three): passvm dies (SIGKILL) after the second unbind of a group bind;
# restore returns the host to exactly its prior state; restore twice; then a
# whole-group bind and a hot (secondary bus) reset of the bridge's bus.
set -u
source "$(dirname "$0")/common.sh"
before=$(snap)
group=$(basename "$(readlink /sys/bus/pci/devices/0000:01:01.0/iommu_group)")
echo "IOMMU group $group: $(ls /sys/kernel/iommu_groups/$group/devices | tr '\n' ' ')"

step "bind, killed after the second unbind"
echo "\$ PASSVM_FAULT=after-unbind:2 passvm vfio bind 01:01.0"
PASSVM_FAULT=after-unbind:2 "$passvm" vfio bind 01:01.0; rc=$?
[ $rc = 137 ] || fail "passvm exited $rc, expected to be killed (137)"
snap | grep -E '^0000:0(0:04|1:0)'
run 0 "$passvm" vfio status
for j in /run/passvm/vfio/*.journal; do echo "--- $j"; cat "$j"; done
[ "$(snap)" != "$before" ] || fail "the crash changed nothing: the test proves nothing"

step "restore"
run 0 "$passvm" vfio restore --all
same_as "$before" "after restore"
run 0 "$passvm" vfio restore --all
grep -q "nothing to restore" <<<"$out" || fail "second restore did something"
same_as "$before" "after the second restore"

step "the whole bind, then restore"
run 0 "$passvm" vfio bind 01:01.0
grep -q "0000:00:04.0 .* left alone" <<<"$out" || fail "the bridge was not left alone"
# e1000 has no FLR and shares its bus: VFIO offers no reset of it alone
run 1 "$passvm" vfio reset 01:01.0
grep -q "has no usable reset" <<<"$out" || fail "no-reset device not reported"
run 0 "$hwtool" hot-reset 01:01.0
run 0 "$passvm" vfio restore --all
same_as "$before" "after bind + restore"
echo "PASS"
