#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# IOMMU groups as each lab topology builds them (tests/hw/topologies/*):
# which IOMMU driver registered, which functions share a group. On a real
# host (PASSVM_HW=host): the groups are consistent with the devices' links.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"
topo=${1:?usage: iommu-groups.sh TOPOLOGY}
hw_enter "$topo" -- "$@"
topo=$hw_topology  # "host" under PASSVM_HW=host

iommus=$(ls /sys/class/iommu 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
ngroups=$(ls /sys/kernel/iommu_groups 2>/dev/null | wc -l)

same_group() { # what BDF...: all in one group that holds exactly them
	local what=$1; shift
	local want
	want=$(printf '0000:%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//')
	hw_check_eq "$what" "$(hw_group_members "0000:$1")" "$want"
}

# Interrupt remapping, as the kernel reports it (DMAR-IR / AMD-Vi lines).
# (Not `dmesg | grep -q`: grep quitting early gives dmesg SIGPIPE, which
# pipefail turns into a failure.)
intremap_on() {
	local log
	log=$(dmesg)
	grep -qE 'Enabled IRQ remapping|Interrupt remapping enabled' <<<"$log"
}

case $topo in
intel|intel-nointremap)
	hw_check_eq "Intel IOMMU registered" "$iommus" dmar0
	same_group "e1000e alone in its group" 00:02.0
	same_group "NVMe alone in its group" 00:03.0
	same_group "ICH9 LPC, SATA, SMBus share one group" 00:1f.0 00:1f.2 00:1f.3
	same_group "host bridge alone" 00:00.0
	if [ "$topo" = intel ]; then
		hw_check "interrupt remapping enabled" intremap_on
	else
		hw_check "interrupt remapping off" eval '! intremap_on'
	fi ;;
amd)
	hw_check_eq "AMD IOMMU registered" "$iommus" ivhd0
	same_group "e1000e alone in its group" 00:02.0
	same_group "NVMe alone in its group" 00:03.0
	same_group "ICH9 LPC, SATA, SMBus share one group" 00:1f.0 00:1f.2 00:1f.3 ;;
noiommu)
	hw_check_eq "no IOMMU registered" "$iommus" ""
	hw_check_eq "no IOMMU groups" "$ngroups" 0
	hw_check_eq "e1000e has no group" "$(hw_group_of 0000:00:02.0)" "" ;;
bridges)
	hw_check_eq "Intel IOMMU registered" "$iommus" dmar0
	same_group "e1000e behind an ACS root port alone" 01:00.0
	same_group "NVMe behind an ACS root port alone" 02:00.0
	same_group "root ports in groups of their own" 00:04.0
	same_group "PCIe-to-PCI bridge and both devices behind it share one group" \
		00:06.0 03:01.0 03:02.0 ;;
host)
	[ "$ngroups" -gt 0 ] || hw_skip "this host has no IOMMU groups (no IOMMU, or it is off)"
	hw_check "an IOMMU is registered" test -n "$iommus"
	for d in /sys/bus/pci/devices/*; do
		bdf=$(basename "$d")
		g=$(hw_group_of "$bdf")
		[ -n "$g" ] || continue
		[ -e "/sys/kernel/iommu_groups/$g/devices/$bdf" ] ||
			hw_fail "$bdf links to group $g, which does not list it"
	done
	hw_ok "$ngroups groups, each device listed in its group" ;;
*)
	hw_die "no expectations for topology $topo: add them to $0" ;;
esac
hw_done
