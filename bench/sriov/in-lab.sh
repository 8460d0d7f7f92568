#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inside the lab (bench/sriov/run): both ways of getting 2 NVMe VFs ready on
# vfio-pci, alternated ROUNDS times, each timed from the first write to the
# last /dev/vfio/N node.
set -euo pipefail
passvm=$1 rounds=$2
pf=
for d in /sys/bus/pci/devices/*; do [ -e "$d/sriov_totalvfs" ] && { pf=$(basename "$d"); break; }; done
sys=/sys/bus/pci/devices/$pf
ctrl=$(ls $sys/nvme)
now() { date +%s%N; }

by_hand() {
	echo 0 > $sys/sriov_drivers_autoprobe
	echo 2 > $sys/sriov_numvfs
	for i in 0 1; do
		# secondary controller i+1 is VF i in QEMU's nvme (nvme list-secondary)
		nvme virt-mgmt /dev/$ctrl -c $((i + 1)) -r 0 -a 8 -n 2 >/dev/null
		nvme virt-mgmt /dev/$ctrl -c $((i + 1)) -r 1 -a 8 -n 1 >/dev/null
		nvme virt-mgmt /dev/$ctrl -c $((i + 1)) -a 9 >/dev/null
	done
	for i in 0 1; do
		vf=$(basename "$(readlink $sys/virtfn$i)")
		echo vfio-pci > /sys/bus/pci/devices/$vf/driver_override
		echo $vf > /sys/bus/pci/drivers_probe
	done
	for i in 0 1; do
		g=$(basename "$(readlink $sys/virtfn$i/iommu_group)")
		while [ ! -e /dev/vfio/$g ]; do :; done
	done
	echo 1 > $sys/sriov_drivers_autoprobe
}
undo_by_hand() {
	for i in 0 1; do
		vf=$(basename "$(readlink $sys/virtfn$i)")
		echo > /sys/bus/pci/devices/$vf/driver_override
	done
	echo 0 > $sys/sriov_numvfs
}

echo "# $pf ($ctrl): 2 VFs, provisioned, on vfio-pci; $rounds rounds"
for r in $(seq "$rounds"); do
	t0=$(now); by_hand; t1=$(now); undo_by_hand
	t2=$(now); "$passvm" sriov create "$pf" 2 --bind vfio >/dev/null; t3=$(now)
	"$passvm" vfio restore --all >/dev/null; "$passvm" sriov remove "$pf" >/dev/null
	printf 'round %d: by hand %6.1f ms   passvm sriov create %6.1f ms\n' "$r" \
		"$(echo "($t1 - $t0) / 1000000" | bc -l)" "$(echo "($t3 - $t2) / 1000000" | bc -l)"
done
