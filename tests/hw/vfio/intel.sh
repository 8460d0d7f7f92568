#!/usr/bin/env bash
# hw (intel topology): refusals leave sysfs untouched; bind the e1000e and
# use its BAR and its INTx (with unmask) and MSI through VFIO; bind the NVMe PF and run Identify through VFIO
# (DMA + MSI-X); reset through VFIO; restore (twice) gives both back.
set -u
source "$(dirname "$0")/common.sh"
before=$(snap)
serial=$(cat /sys/bus/pci/devices/0000:00:03.0/nvme/nvme*/serial)
model=$(cat /sys/bus/pci/devices/0000:00:03.0/nvme/nvme*/model)

step "refusals: nothing may change"
run 1 "$passvm" vfio bind 00:1f.2
grep -q "00:1f.0 is the ISA/LPC bridge, a chipset function" <<<"$out" || fail "no chipset reason"
run 1 "$passvm" vfio bind --force 00:1f.2
run 1 "$passvm" vfio bind 00:00.0
grep -q "host bridge" <<<"$out" || fail "no host-bridge reason"
run 1 "$passvm" vfio bind 00:09.0
grep -q "no such PCI function" <<<"$out" || fail "no reason for a missing function"
run 2 "$passvm" vfio bind 00:1x.0
run 2 "$passvm" vfio bind 00:03.0x
same_as "$before" "after the refusals"

step "e1000e: bind, BAR through VFIO"
run 0 "$passvm" vfio bind 00:02.0
[ -c /dev/vfio/"$(basename "$(readlink /sys/bus/pci/devices/0000:00:02.0/iommu_group)")" ] || fail "no group node"
run 0 "$hwtool" e1000e 00:02.0
run 0 "$hwtool" e1000e-irq 00:02.0

step "locked memory: a process without CAP_IPC_LOCK and an 8 MiB RLIMIT_MEMLOCK"
run 1 bash -c "ulimit -l 8192; exec setpriv --bounding-set -ipc_lock $hwtool dma-bench 00:02.0 64"
grep -q "needs 64 MiB of locked memory.*RLIMIT_MEMLOCK is 8 MiB: raise it to at least 64 MiB" <<<"$out" ||
	fail "no locked-memory explanation"

step "NVMe PF: bind, Identify Controller through VFIO with MSI-X"
run 0 "$passvm" vfio bind 00:03.0
run 0 "$hwtool" nvme-identify 00:03.0 "$serial" "$model"
grep -q "interrupt fired" <<<"$out" || fail "no MSI-X interrupt"
run 0 "$passvm" vfio reset 00:03.0
run 0 "$passvm" vfio status
grep -q "^0000:00:03.0 .* vfio-pci .* nvme " <<<"$out" || fail "status does not show the NVMe"
run 0 "$passvm" vfio status --json

step "a process holding a group open: status names it, restore refuses"
g=$(basename "$(readlink /sys/bus/pci/devices/0000:00:02.0/iommu_group)")
sleep 600 9<>"/dev/vfio/$g" &
holder=$!
for i in $(seq 50); do [ -e "/proc/$holder/fd/9" ] && break; sleep 0.1; done
run 0 "$passvm" vfio status
grep -q "^0000:00:02.0 .* $holder (sleep)\$" <<<"$out" || fail "status does not name the holder"
run 1 "$passvm" vfio restore 00:02.0
grep -q "held open" <<<"$out" || fail "restore did not refuse a held group"
kill "$holder"; wait "$holder" 2>/dev/null

step "restore, twice"
run 0 "$passvm" vfio restore --all
run 0 "$passvm" vfio restore --all
grep -q "nothing to restore" <<<"$out" || fail "second restore did something"
same_as "$before" "after restore"

step "the host drivers work again"
for i in $(seq 100); do [ -b /dev/nvme0n1 ] && break; sleep 0.1; done
run 0 dd if=/dev/nvme0n1 of=/dev/null bs=4096 count=16
if command -v nvme >/dev/null; then
	echo "\$ nvme id-ctrl /dev/nvme0 -o json | grep -E '\"(sn|mn)\"'"
	id=$(nvme id-ctrl /dev/nvme0 -o json) || fail "nvme id-ctrl /dev/nvme0 failed"
	grep -E '"(sn|mn)"' <<<"$id"
	grep -q "\"sn\" *: *\"$serial" <<<"$id" || fail "nvme id-ctrl serial"
fi
run 0 ip link show eth0
echo "PASS"
