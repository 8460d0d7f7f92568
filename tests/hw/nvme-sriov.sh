#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SR-IOV on QEMU's NVMe controller: sriov_numvfs=2 creates two VFs, each in
# an IOMMU group of its own, and 0 removes them. The PF must have its
# driver (nvme) bound, or the write fails with ENOENT (shared/LAB.md).
# On a real host: PASSVM_HW=host PASSVM_HW_NVME=BDF (an SR-IOV PF you can spare).
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"
topo=${1:-intel}
hw_enter "$topo" -- "$@"

pf=$(hw_pick PASSVM_HW_NVME 1b36:0010 "SR-IOV NVMe controller")
dev=/sys/bus/pci/devices/$pf
[ -f "$dev/sriov_totalvfs" ] || hw_skip "$pf has no SR-IOV capability"
hw_wait_for "$dev/driver" 20 || hw_die "$pf: no driver bound (SR-IOV needs the PF's driver)"
total=$(cat "$dev/sriov_totalvfs")
[ "$total" -ge 2 ] || hw_skip "$pf supports $total VFs, the test needs 2"
[ "$(cat "$dev/sriov_numvfs")" = 0 ] || hw_skip "$pf already has VFs; not touching them"
hw_ok "$pf ($(hw_driver_of "$pf")) supports $total VFs"

autoprobe=$(cat "$dev/sriov_drivers_autoprobe")
restore() {
	echo 0 >"$dev/sriov_numvfs" 2>/dev/null || true
	echo "$autoprobe" >"$dev/sriov_drivers_autoprobe" 2>/dev/null || true
}
trap restore EXIT
# QEMU's NVMe VFs start offline (no resources assigned), so a host driver
# probing them only fails; keep them unbound, as a VFIO user wants them.
echo 0 >"$dev/sriov_drivers_autoprobe"
echo 2 >"$dev/sriov_numvfs"
hw_check_eq "sriov_numvfs reads 2" "$(cat "$dev/sriov_numvfs")" 2
pfgroup=$(hw_group_of "$pf")
groups=()
for n in 0 1; do
	if ! vf=$(basename "$(readlink "$dev/virtfn$n" 2>/dev/null)"); then
		hw_fail "virtfn$n missing"; continue
	fi
	g=$(hw_group_of "$vf")
	hw_check_eq "VF $vf alone in its IOMMU group ($g)" "$(hw_group_members "$vf")" "$vf"
	groups+=("$g")
	hw_check_eq "VF $vf unbound" "$(hw_driver_of "$vf")" ""
done
if [ -n "$pfgroup" ] && [ ${#groups[@]} = 2 ]; then
	hw_check "VF groups differ from each other and from the PF's ($pfgroup)" \
		test "${groups[0]}" != "${groups[1]}" -a "${groups[0]}" != "$pfgroup" -a "${groups[1]}" != "$pfgroup"
fi
# A VF is usable once the PF has given it resources and set it online:
# then the host's nvme driver brings its controller up, and the shared
# namespace shows a path through it (nvme multipath: nvme<subsys>c<ctrl>n1).
# Done in the lab only: on a real drive the resource split is the owner's.
vf=$(basename "$(readlink "$dev/virtfn0")")
if hw_in_lab; then
	hw_check "VF $vf given resources and set online (nvme virt-mgmt)" hw_nvme_vf_online "$pf" "$vf"
	echo nvme >"/sys/bus/pci/devices/$vf/driver_override"
	echo "$vf" >/sys/bus/pci/drivers_probe
	hw_check_eq "VF $vf bound to nvme" "$(hw_driver_of "$vf")" nvme
	vf_live() { grep -qx live /sys/bus/pci/devices/"$vf"/nvme/nvme*/state 2>/dev/null; }
	n=100; until vf_live || [ $n = 0 ]; do sleep 0.1; n=$((n - 1)); done
	hw_check "VF $vf controller live" vf_live
	vf_ns_path() { compgen -G "/sys/bus/pci/devices/$vf/nvme/nvme*/nvme*c*n1" >/dev/null; }
	hw_check "the namespace has a path through VF $vf" vf_ns_path
	[ -e "/sys/bus/pci/devices/$vf/driver" ] && echo "$vf" >"/sys/bus/pci/devices/$vf/driver/unbind"
	echo >"/sys/bus/pci/devices/$vf/driver_override"
fi
echo 0 >"$dev/sriov_numvfs"
hw_check_eq "sriov_numvfs back to 0" "$(cat "$dev/sriov_numvfs")" 0
hw_check "VFs removed" test ! -e "$dev/virtfn0"
hw_done
