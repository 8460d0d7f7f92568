#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hands the e1000e NIC to vfio-pci the way passvm must (driver_override,
# unbind, drivers_probe), opens its group through a VFIO container, and
# gives it back to its own driver. In intel-nointremap, VFIO_SET_IOMMU must
# fail with EPERM until allow_unsafe_interrupts is set (shared/LAB.md).
# On a real host: PASSVM_HW=host PASSVM_HW_NIC=BDF (a NIC you can lose).
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/lib.sh"
topo=${1:-intel}
hw_enter "$topo" --modules vfio-pci -- "$@"
if [ "$hw_topology" = host ] && [ "$topo" = intel-nointremap ]; then
	hw_skip "the EPERM case needs the lab's intel-nointremap topology, not a real host"
fi

nic=$(hw_pick PASSVM_HW_NIC 8086:10d3 "e1000e NIC")
dev=/sys/bus/pci/devices/$nic
modprobe vfio-pci
hw_wait_for "$dev/driver" 20 || hw_die "$nic: no driver bound to start from"
orig=$(hw_driver_of "$nic")
group=$(hw_group_of "$nic")
[ -n "$group" ] || hw_die "$nic has no IOMMU group"
members=$(hw_group_members "$nic")
[ "$members" = "$nic" ] || hw_skip "$nic shares group $group with others ($members); this test binds one device"
hw_ok "$nic bound to $orig, alone in IOMMU group $group"

restore() {
	echo >"$dev/driver_override" 2>/dev/null || true
	if [ "$(hw_driver_of "$nic")" != "$orig" ]; then
		[ -e "$dev/driver" ] && echo "$nic" >"$dev/driver/unbind" 2>/dev/null
		echo "$nic" >/sys/bus/pci/drivers_probe 2>/dev/null || true
	fi
	if [ -f /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts ]; then
		echo N >/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts 2>/dev/null || true
	fi
}
trap restore EXIT

# Documentation/ABI/testing/sysfs-bus-pci (driver_override): the override
# decides the next probe; drivers_probe asks for it.
echo vfio-pci >"$dev/driver_override"
echo "$nic" >"$dev/driver/unbind"
echo "$nic" >/sys/bus/pci/drivers_probe
hw_check_eq "$nic bound to vfio-pci" "$(hw_driver_of "$nic")" vfio-pci
hw_check "/dev/vfio/$group appeared" hw_wait_for "/dev/vfio/$group" 10

case $topo in
intel-nointremap)
	hw_check "VFIO_SET_IOMMU refused with EPERM without interrupt remapping" \
		python3 "$here/vfio_container.py" "$group" EPERM
	echo Y >/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
	hw_check "VFIO_SET_IOMMU accepted with allow_unsafe_interrupts=1" \
		python3 "$here/vfio_container.py" "$group" ok ;;
*)
	hw_check "group viable, container gets a Type1v2 IOMMU" \
		python3 "$here/vfio_container.py" "$group" ok ;;
esac

# Give it back, and see the host driver take it again.
echo >"$dev/driver_override"
echo "$nic" >"$dev/driver/unbind"
echo "$nic" >/sys/bus/pci/drivers_probe
hw_check_eq "$nic back on $orig" "$(hw_driver_of "$nic")" "$orig"
if [ "$orig" = e1000e ]; then
	hw_check "$nic has its network interface again" hw_wait_for "$dev/net" 10
fi
hw_check_eq "driver_override cleared" "$(cat "$dev/driver_override")" "(null)"
hw_done
