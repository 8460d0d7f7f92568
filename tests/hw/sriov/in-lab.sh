#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs inside the emulated host (tests/hw/sriov/run): the SR-IOV NVMe PF
# with sriov_totalvfs = 2, a real intel-iommu, vfio-pci and pci-pf-stub.
# Each check prints "ok - ..." or "FAIL - ..."; exit 1 if any failed.
set -uo pipefail
passvm=$1 probe=$2
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

pf=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/sriov_totalvfs" ] && { pf=$(basename "$d"); break; }
done
[ -n "$pf" ] || { echo "FAIL - no SR-IOV PF in this lab"; exit 1; }
sys=/sys/bus/pci/devices/$pf
echo "# PF $pf, totalvfs $(cat $sys/sriov_totalvfs), driver $(basename "$(readlink $sys/driver)")"
nic=$(for d in /sys/bus/pci/devices/*; do [ "$(cat $d/class)" = 0x020000 ] && basename $d && break; done)

# Every attribute passvm could change, and every driver link.
snap() {
	# a few processes, not a few per device: TCG makes each fork costly
	grep -H . /sys/bus/pci/devices/*/driver_override /sys/bus/pci/devices/*/sriov_numvfs \
		/sys/bus/pci/devices/*/sriov_drivers_autoprobe 2>/dev/null
	ls -l /sys/bus/pci/devices/*/driver 2>/dev/null | sed 's/.* \/sys/\/sys/'
	ls /run/passvm/vfio 2>/dev/null | grep journal
}
# unchanged EXPECTED-EXIT ARGS...: runs passvm sriov ARGS, wants that exit
# status, one line on stderr, and sysfs exactly as before.
unchanged() {
	local want=$1; shift
	local before after rc err
	before=$(snap)
	err=$("$passvm" sriov "$@" 2>&1 >/dev/null); rc=$?
	after=$(snap)
	echo "  \$ passvm sriov $* -> exit $rc: $err"
	[ "$rc" = "$want" ] && [ "$before" = "$after" ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]
}
contains() { [[ $1 == *"$2"* ]]; }
vf() { basename "$(readlink $sys/virtfn$1)"; }
group_of() { basename "$(readlink /sys/bus/pci/devices/$1/iommu_group)"; }
drv() { basename "$(readlink /sys/bus/pci/devices/$1/driver 2>/dev/null)" 2>/dev/null; }

echo "# bad input leaves sysfs as it was"
check "malformed BDF"        unchanged 2 create 00:03 2 --bind vfio
check "no such BDF"          unchanged 1 create 0000:00:1e.7 2 --bind vfio
check "no SR-IOV"            unchanged 1 create "${nic:-0000:00:00.0}" 1
check "COUNT above total"    unchanged 1 create "$pf" 3 --bind vfio
check "COUNT not a number"   unchanged 2 create "$pf" two
check "remove: no SR-IOV"    unchanged 1 remove "${nic:-0000:00:00.0}"
check "unknown set key"      unchanged 2 set "$pf" colour=blue
mkdir -p /etc/passvm
printf 'pf serial=lab0\n\tvfs 2\n\tbind vfoi\n' > /etc/passvm/sriov.conf
check "bad config value"     unchanged 1 apply

echo "# create 2 VFs for vfio-pci"
dmesg -c >/dev/null
"$passvm" sriov create "$pf" 2 --bind vfio; rc=$?
check "create exits 0" test "$rc" = 0
vf0=$(vf 0) vf1=$(vf 1)
check "2 VFs exist" test "$(cat $sys/sriov_numvfs)" = 2 -a -n "$vf0" -a -n "$vf1"
check "VFs on vfio-pci" test "$(drv $vf0)" = vfio-pci -a "$(drv $vf1)" = vfio-pci
g0=$(group_of $vf0) g1=$(group_of $vf1) gp=$(group_of $pf)
check "VFs have their own groups ($g0, $g1; PF $gp)" test "$g0" != "$g1" -a "$g0" != "$gp" -a "$g1" != "$gp"
check "/dev/vfio nodes" test -c /dev/vfio/$g0 -a -c /dev/vfio/$g1
check "no host driver touched the VFs" test -z "$(dmesg | grep -E "nvme $vf0|nvme $vf1|Device not ready")"
check "autoprobe back on" test "$(cat $sys/sriov_drivers_autoprobe)" = 1
check "PF journal dropped, VF journals kept" test ! -e /run/passvm/vfio/$pf.journal -a -e /run/passvm/vfio/$vf0.journal
"$passvm" sriov list
out=$("$passvm" sriov list)
check "list shows the VFs provisioned" test "$(grep -c 'secondary .* queues 2 interrupts 1 online' <<<"$out")" = 2
"$passvm" sriov list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("# json:", d[0]["vfs"][1])' || bad "list --json is not JSON"
out=$("$probe" probe "$vf0"); echo "  $out"
check "VF 0 answers through VFIO, controller ready (CSTS 0)" grep -q 'config 1b36:0010 bar0 VS 000[0-9a-f]* CSTS 00000000' <<<"$out"

echo "# remove refused while a VF group is held open"
"$probe" hold "$g1" & holder=$!
sleep 1
err=$("$passvm" sriov remove "$pf" 2>&1); rc=$?
echo "  $err"
check "remove refused, names VF and process" test "$rc" = 1 -a -n "$(contains "$err" "$vf1" && contains "$err" "pid $holder (vf-probe)" && echo y)"
check "VFs still there" test "$(cat $sys/sriov_numvfs)" = 2
check "a VF where a PF is needed" unchanged 1 create "$vf0" 1
check "set on a VF of a PF without netdev" unchanged 1 set "$vf0" trust=on
kill $holder; wait $holder 2>/dev/null

echo "# vfio restore gives the bindings back and keeps the VFs"
"$passvm" vfio restore --all
check "VF count kept" test "$(cat $sys/sriov_numvfs)" = 2
check "VFs off vfio-pci" test "$(drv $vf0)" != vfio-pci -a "$(drv $vf1)" != vfio-pci

echo "# remove"
"$passvm" sriov remove "$pf"; rc=$?
check "remove exits 0, count 0" test "$rc" = 0 -a "$(cat $sys/sriov_numvfs)" = 0
check "no journals left" test -z "$(ls /run/passvm/vfio/ 2>/dev/null | grep journal)"

echo "# create again with another count, then change it (through 0)"
"$passvm" sriov create "$pf" 1 --bind vfio
check "1 VF on vfio-pci" test "$(cat $sys/sriov_numvfs)" = 1 -a "$(drv $(vf 0))" = vfio-pci
"$passvm" sriov create "$pf" 2 --bind none; rc=$?
check "1 -> 2 VFs, unbound" test "$rc" = 0 -a "$(cat $sys/sriov_numvfs)" = 2 -a -z "$(drv $(vf 0))" -a -z "$(drv $(vf 1))"
"$passvm" sriov remove "$pf"

echo "# --bind host: provisioned before the host driver probes them"
dmesg -c >/dev/null
"$passvm" sriov create "$pf" 2 --bind host; rc=$?
check "VFs on the host's nvme driver" test "$rc" = 0 -a "$(drv $(vf 0))" = nvme -a "$(drv $(vf 1))" = nvme
check "no 'Device not ready' from the host driver" test -z "$(dmesg | grep 'Device not ready')"
check "host-bound VFs leave no journal" test -z "$(ls /run/passvm/vfio/ 2>/dev/null | grep journal)"
"$passvm" sriov remove "$pf"; rc=$?
check "remove of host-bound VFs" test "$rc" = 0 -a "$(cat $sys/sriov_numvfs)" = 0

echo "# a PF without a driver gets its own"
echo "$pf" > /sys/bus/pci/drivers/nvme/unbind
"$passvm" sriov create "$pf" 1 --bind none; rc=$?
check "PF rebound to nvme, 1 VF" test "$rc" = 0 -a "$(drv $pf)" = nvme -a "$(cat $sys/sriov_numvfs)" = 1
"$passvm" sriov remove "$pf"

echo "# a crash in the middle of create is undone by vfio restore"
PASSVM_FAULT=after-sriov_numvfs:1 "$passvm" sriov create "$pf" 2 --bind vfio >/dev/null; rc=$?
check "killed after sriov_numvfs (exit $rc): VFs made, autoprobe off, PF journaled" \
	test "$rc" = 137 -a "$(cat $sys/sriov_numvfs)" = 2 -a "$(cat $sys/sriov_drivers_autoprobe)" = 0 \
	-a -e /run/passvm/vfio/$pf.journal
err=$("$passvm" sriov create "$pf" 1 2>&1); rc=$?
check "create refuses a PF with a crashed operation's journal" test "$rc" = 1 -a -n "$(contains "$err" "vfio restore" && echo y)"
"$passvm" vfio restore --all
check "restore: count and autoprobe as before the crash, no journal" \
	test "$(cat $sys/sriov_numvfs)" = 0 -a "$(cat $sys/sriov_drivers_autoprobe)" = 1 \
	-a ! -e /run/passvm/vfio/$pf.journal

echo "# apply twice: the second changes nothing"
path=$("$passvm" sriov list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["path"])')
printf '# lab\npf path=%s\n\tvfs 2\n\tbind vfio\n\tnvme-queues 2\n\tnvme-interrupts 1\n' "$path" > /etc/passvm/sriov.conf
cat /etc/passvm/sriov.conf
"$passvm" sriov apply --dry-run; rc=$?
check "dry run changes nothing" test "$rc" = 0 -a "$(cat $sys/sriov_numvfs)" = 0
"$passvm" sriov apply; rc=$?
check "apply: 2 VFs on vfio-pci" test "$rc" = 0 -a "$(cat $sys/sriov_numvfs)" = 2 -a "$(drv $(vf 1))" = vfio-pci
out=$("$passvm" sriov apply); rc=$?
echo "$out"
check "second apply is a no-op" test "$rc" = 0 -a -n "$(contains "$out" '0 change(s)' && echo y)"
"$passvm" vfio restore --all >/dev/null
"$passvm" sriov remove "$pf" >/dev/null

echo "# $fails failure(s)"
[ "$fails" = 0 ]
