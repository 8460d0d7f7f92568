# SPDX-License-Identifier: GPL-2.0-or-later
# tests/hw/lib.sh: sourced by the hw test scripts (meson suite `hw`).
#
# A hw test script is written once and runs in two places:
#   - in the lab (default): hw_enter TOPOLOGY re-runs the script inside the
#     emulated host of tests/hw/lab, where the topology's devices exist;
#   - on a real host with the hardware (PASSVM_HW=host): hw_enter returns at
#     once and the script runs here; devices it may change are named by the
#     caller (PASSVM_HW_NIC=BDF, PASSVM_HW_NVME=BDF), never guessed, because
#     rebinding the wrong device of a real machine cuts it off.
# Skip rules are those of tests/testlib.h: a test that cannot find what it
# needs exits 77 with the reason; under CI=true that skip is a failure.

hw_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hw_lab=$hw_dir/lab
hw_failures=0

hw_skip() { # REASON
	if [ "${CI:-}" = true ]; then
		echo "FAIL: would skip ($1), and CI=true allows no skip" >&2
		exit 1
	fi
	echo "SKIP: $1" >&2
	exit 77
}

hw_fail() { # MESSAGE: a failed check; the test goes on, hw_done reports it
	echo "FAIL: $*" >&2
	hw_failures=$((hw_failures + 1))
}

hw_die() { # MESSAGE: a failure after which nothing else can be checked
	echo "FAIL: $*" >&2
	exit 1
}

hw_ok() { echo "ok: $*"; }

hw_check() { # DESCRIPTION COMMAND...: runs COMMAND, a check that must succeed
	local what=$1; shift
	if "$@"; then hw_ok "$what"; else hw_fail "$what (command: $*)"; fi
}

hw_check_eq() { # DESCRIPTION GOT EXPECTED
	if [ "$2" = "$3" ]; then hw_ok "$1"; else hw_fail "$1: got '$2', expected '$3'"; fi
}

hw_done() {
	if [ "$hw_failures" -gt 0 ]; then
		echo "$hw_failures check(s) failed" >&2
		exit 1
	fi
	exit 0
}

# True inside the lab's emulated host, false on this machine or a real host.
hw_in_lab() { [ "${PASSVM_LAB_INSIDE:-}" = 1 ]; }

# hw_enter TOPOLOGY [lab options...] -- [SCRIPT ARGS...]
# Re-runs the calling script in the lab with TOPOLOGY (its output and exit
# status are the test's), or returns when already inside it or when
# PASSVM_HW=host. Lab options: see `tests/hw/lab --help`.
hw_enter() {
	local topo=$1; shift
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	hw_topology=$topo
	if hw_in_lab; then
		hw_topology=$PASSVM_LAB_TOPOLOGY
		return 0
	fi
	case ${PASSVM_HW:-lab} in
	host)
		hw_topology=host
		[ "$(id -u)" -eq 0 ] || hw_skip "PASSVM_HW=host: hw tests need root"
		return 0 ;;
	lab) ;;
	*) hw_die "PASSVM_HW='${PASSVM_HW}': expected 'lab' (default) or 'host'" ;;
	esac
	[ "$(id -u)" -eq 0 ] || hw_skip "the lab needs root (9p export of /, the image cache)"
	command -v qemu-system-x86_64 >/dev/null ||
		hw_skip "qemu-system-x86_64 not installed (scripts/deps installs it)"
	# Generous: TCG on a loaded 2-core machine stretches boots several times.
	exec "$hw_lab" run "$topo" --timeout "${PASSVM_LAB_TIMEOUT:-400}" "${opts[@]}" -- \
		"$(readlink -f "$0")" "$@"
}

# hw_pick VAR VENDOR:DEVICE DESCRIPTION: prints the BDF of the device the test
# may change. In the lab: the first function with that ID. On a real host:
# $VAR, which the caller sets to a device they are willing to lose for the
# test's duration; without it the test skips.
hw_pick() {
	local var=$1 id=$2 what=$3 d
	if hw_in_lab; then
		for d in /sys/bus/pci/devices/*; do
			if [ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x${id%%:*}:0x${id#*:}" ]; then
				basename "$d"
				return 0
			fi
		done
		hw_die "no $what ($id) in topology $hw_topology"
	fi
	[ -n "${!var:-}" ] || hw_skip "PASSVM_HW=host: name the $what this test may take over: $var=BDF"
	case ${!var} in *:*:*.*) echo "${!var}" ;; *) echo "0000:${!var}" ;; esac
}

hw_wait_for() { # PATH [SECONDS]: devices appear asynchronously after modprobe
	local path=$1 n=$(( ${2:-20} * 10 ))
	while [ ! -e "$path" ] && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ -e "$path" ]
}

hw_driver_of() { # BDF: the bound driver's name, or empty
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || return 0
	basename "$l"
}

hw_group_of() { # BDF: its IOMMU group number, or empty
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/iommu_group" 2>/dev/null) || return 0
	basename "$l"
}

hw_group_members() { # BDF: the functions in its IOMMU group, space-separated
	local g
	g=$(hw_group_of "$1")
	[ -n "$g" ] || return 0
	ls "/sys/kernel/iommu_groups/$g/devices" | tr '\n' ' ' | sed 's/ $//'
}

# hw_nvme_vf_online PF VF: makes an NVMe VF usable. QEMU's NVMe VFs (and
# those of real SR-IOV drives) start Offline with no queue or interrupt
# resources; the PF's driver assigns them with the Virtualization
# Management admin command (NVMe Base Specification 2.0, "Virtualization
# Management command": action 8 assigns flexible resources, 9 sets the
# secondary controller online), here through nvme-cli's virt-mgmt.
# Per VF: 2 queue (VQ) and 1 interrupt (VI) resources (shared/LAB.md).
hw_nvme_vf_online() {
	local pf=$1 vf=$2 ctrl n vfn='' scid
	ctrl=/dev/$(ls "/sys/bus/pci/devices/$pf/nvme" | head -n1)
	for n in /sys/bus/pci/devices/"$pf"/virtfn*; do
		[ "$(basename "$(readlink "$n")")" = "$vf" ] && vfn=$(( ${n##*virtfn} + 1 ))
	done
	[ -n "$vfn" ] || { echo "$vf is not a VF of $pf" >&2; return 1; }
	# The secondary controller whose VFN is this VF's number.
	local key rest cur='' list
	list=$(nvme list-secondary "$ctrl" 2>/dev/null) || true
	scid=
	while read -r key rest; do
		case $key in
		SCID) cur=$(( ${rest##*: } )) ;;
		VFN) [ "$(( ${rest##*: } ))" = "$vfn" ] && { scid=$cur; break; } ;;
		esac
	done <<<"$list"
	[ -n "$scid" ] || { echo "$ctrl lists no secondary controller for VF $vfn" >&2; return 1; }
	nvme virt-mgmt "$ctrl" --cntlid="$scid" --rt=0 --nr=2 --act=8 >/dev/null &&
		nvme virt-mgmt "$ctrl" --cntlid="$scid" --rt=1 --nr=1 --act=8 >/dev/null &&
		nvme virt-mgmt "$ctrl" --cntlid="$scid" --act=9 >/dev/null
}
