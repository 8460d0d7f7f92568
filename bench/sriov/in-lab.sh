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

# by_hand [provision]: the issue's "plain echo to sriov_numvfs plus a bind
# loop"; with "provision", also nvme-cli's virt-mgmt per VF (without it the
# VFs are bound but offline: not usable, but that is what a boot script does).
by_hand() {
	echo 0 > $sys/sriov_drivers_autoprobe
	echo 2 > $sys/sriov_numvfs
	[ "${1:-}" = provision ] && for i in 0 1; do
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

ms() { echo "($2 - $1) / 1000000" | bc; }
echo "# $pf ($ctrl): 2 VFs on vfio-pci, /dev/vfio/N present; $rounds rounds; ms"
echo "# echo+bind: sriov_numvfs + override/drivers_probe loop (VFs offline)"
echo "# +virt-mgmt: the same plus nvme-cli virt-mgmt (3 commands per VF)"
echo "# passvm: passvm sriov create PF 2 --bind vfio (provisioned, journaled)"
printf '%-6s %10s %12s %8s\n' round echo+bind +virt-mgmt passvm
for r in $(seq "$rounds"); do
	t0=$(now); by_hand; t1=$(now); undo_by_hand
	t2=$(now); by_hand provision; t3=$(now); undo_by_hand
	t4=$(now); "$passvm" sriov create "$pf" 2 --bind vfio >/dev/null; t5=$(now)
	"$passvm" vfio restore --all >/dev/null; "$passvm" sriov remove "$pf" >/dev/null
	printf '%-6s %10s %12s %8s\n' "$r" "$(ms $t0 $t1)" "$(ms $t2 $t3)" "$(ms $t4 $t5)"
done
