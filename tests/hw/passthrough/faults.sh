#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inside the lab's `intel` host: passvm dies at each start-up phase
# (PASSVM_TEST_FAULT_AT, a SIGKILL of itself), the VMM or its root parent is
# killed with SIGKILL while the guest runs, the VMM runs as --user nobody,
# and the journal directory is read-only. After each, `passvm vfio restore
# --all` and the host's drivers (lspci -k) must be as before, and the next
# run must work. Usage: faults.sh PASSVM DIR (tests/hw/passthrough/run.sh).
set -u
passvm=$1 dir=$2
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
snap() { lspci -k 2>/dev/null || for d in /sys/bus/pci/devices/*; do echo "${d##*/} $(basename "$(readlink "$d/driver" 2>/dev/null)")"; done; }
same_as() { # SNAPSHOT WHAT
	local now; now=$(snap)
	if [ "$now" = "$1" ]; then ok "lspci -k as before: $2"; else diff <(echo "$1") <(echo "$now"); fail "lspci -k differs: $2"; fi
}
nic=0000:00:02.0
driver() { basename "$(readlink "/sys/bus/pci/devices/$nic/driver" 2>/dev/null)"; }
run_bg() { # NAME ARGS...: passvm run in the background with the waiting guest; pid in $pid
	local name=$1; shift
	"$passvm" run --kernel "$PASSVM_LAB_KERNEL" --initrd "$dir/wait.gz" --memory 192M \
		--console "/run/$name.console" --cmdline "console=ttyS0 panic=-1 quiet" \
		--device vfio=$nic "$@" >"/run/$name.out" 2>&1 &
	pid=$!
}
wait_guest() { # NAME: until the guest prints "L2 waiting" (up to 300 s), while passvm ($pid) lives
	local deadline=$((SECONDS + 300))
	while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
		[ -e "/run/$1.console" ] && tr -d '\r' <"/run/$1.console" | grep -q '^L2 waiting' && return 0
		sleep 1
	done
	echo "  guest $1 not up; passvm said:"; sed 's/^/  passvm| /' "/run/$1.out"
	return 1
}
vmm_of() { tr -d ' ' <"/proc/$1/task/$1/children" 2>/dev/null; }

before=$(snap)

echo "## kill -9 at each start-up phase"
for point in bound created confined; do
	PASSVM_TEST_FAULT_AT=$point "$passvm" run --kernel "$PASSVM_LAB_KERNEL" \
		--initrd "$dir/wait.gz" --memory 192M --console /run/fault.console \
		--cmdline "console=ttyS0 quiet" --device vfio=$nic --user nobody >/run/fault.out 2>&1
	rc=$?
	sed 's/^/  passvm| /' /run/fault.out
	if [ $point = bound ]; then
		# passvm itself died with the devices bound: only the journal knows.
		[ $rc = 137 ] && [ "$(driver)" = vfio-pci ] && ok "$point: passvm killed, NIC left on vfio-pci" ||
			fail "$point: rc=$rc, driver $(driver)"
	else
		# The VMM died; its root parent gave the NIC back.
		[ $rc = 1 ] && grep -q "killed by signal 9" /run/fault.out && ok "$point: VMM killed, parent reported it" ||
			fail "$point: rc=$rc"
		[ "$(driver)" = e1000e ] && ok "$point: parent gave the NIC back" || fail "$point: NIC on $(driver)"
	fi
	"$passvm" vfio restore --all >/dev/null 2>&1
	same_as "$before" "after a SIGKILL at '$point' and passvm vfio restore"
done

echo "## --user nobody: the guest runs, the VMM is confined"
run_bg user --user nobody
if wait_guest user; then
	vmm=$(vmm_of $pid)
	grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' "/proc/$vmm/status" | tr '\n\t' '  '; echo
	grep -q '^Uid:	65534' "/proc/$vmm/status" && grep -q '^CapEff:	0000000000000000' "/proc/$vmm/status" &&
		grep -q '^Seccomp:	2' "/proc/$vmm/status" && ok "VMM $vmm runs as nobody, no capabilities, seccomp" ||
		fail "VMM $vmm is not confined"
	echo "## kill -9 of the VMM while the guest runs"
	kill -9 "$vmm"
	wait $pid; rc=$?
	sed 's/^/  passvm| /' /run/user.out
	[ $rc = 1 ] && [ "$(driver)" = e1000e ] && ok "parent gave the NIC back (rc=1)" || fail "rc=$rc, NIC on $(driver)"
else
	fail "guest did not come up with --user nobody"; kill -9 $pid; wait $pid
	sed 's/^/  passvm| /' /run/user.out
fi
same_as "$before" "after kill -9 of the VMM"

echo "## kill -9 of the root parent while the guest runs: the VMM follows it"
run_bg parent
if wait_guest parent; then
	vmm=$(vmm_of $pid)
	kill -9 $pid; wait $pid 2>/dev/null
	n=0; while [ -e "/proc/$vmm" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	[ ! -e "/proc/$vmm" ] && ok "VMM $vmm died with its parent" || fail "VMM $vmm outlived its parent"
	[ "$(driver)" = vfio-pci ] && ok "NIC left on vfio-pci for the journal" || fail "NIC on $(driver)"
else
	fail "guest did not come up"; kill -9 $pid; wait $pid
fi
"$passvm" vfio restore --all
same_as "$before" "after kill -9 of the parent and passvm vfio restore"

echo "## the journal directory read-only: bind refused, nothing changed"
mkdir -p /run/passvm/vfio
mount -t tmpfs -o ro,size=64k tmpfs /run/passvm/vfio
"$passvm" run --kernel "$PASSVM_LAB_KERNEL" --initrd "$dir/wait.gz" --memory 192M \
	--console /run/ro.console --device vfio=$nic >/run/ro.out 2>&1
rc=$?
umount /run/passvm/vfio
sed 's/^/  passvm| /' /run/ro.out
[ $rc = 1 ] && [ "$(wc -l </run/ro.out)" = 1 ] && ok "refused in one line (rc=1)" || fail "rc=$rc"
same_as "$before" "after the read-only journal"

echo "## the guest attacks its devices (attack.c): passvm keeps running, logs with a rate limit"
"$passvm" run --kernel "$PASSVM_LAB_KERNEL" --initrd "$dir/attack.gz" --memory 192M \
	--console /run/attack.console --cmdline "console=ttyS0 panic=-1 quiet" --device vfio=$nic \
	--rng --user nobody >/run/attack.out 2>&1
rc=$?
sed 's/^/  passvm| /' /run/attack.out | head -40
tr -d '\r' </run/attack.console | grep -E '^ATTACK|^L2 ' | sed 's/^/  guest| /'
[ $rc = 0 ] && ok "passvm ran the attacking guest to its poweroff (rc=0)" || fail "passvm exited $rc"
tr -d '\r' </run/attack.console | grep -q '^ATTACK-DONE' && ok "every attempt made" || fail "the attack did not finish"
tr -d '\r' </run/attack.console | grep -q 'ATTACK .*id-kept=0' && fail "a read-only ID changed" || ok "IDs read-only"
# A BAR over guest RAM or over another BAR (the MSI-X table's) is left
# unmapped and named in one line, at most one per attempt and rate-limited
# per kind (vmm/vfio_pci.c). The e1000e's BAR0 is a memory BAR, its MSI-X
# table in another BAR: attack.c tries both with BAR0.
grep -q "passed-through $nic (guest 00:[0-9a-f]*\.[0-7]): the guest placed BAR 0 (.*) at 0x100000, over guest RAM: left unmapped" /run/attack.out &&
	ok "BAR 0 over guest RAM refused and logged" || fail "no log line for BAR 0 over guest RAM"
n=$(grep -c 'over guest RAM: left unmapped' /run/attack.out)
[ "$n" -le "$(tr -d '\r' </run/attack.console | grep -c 'ATTACK .*-over-ram')" ] &&
	ok "BARs over RAM: $n line(s) logged" || fail "$n lines for BARs over RAM: more than one per attempt"
grep -q "passed-through $nic .*: the guest placed BAR 0 .* over another BAR or device's registers" /run/attack.out &&
	ok "BAR 0 over the MSI-X table's BAR refused and logged" || fail "no log line for BAR 0 over the MSI-X table"
lines=$(grep -c unclaimed /run/attack.out)
[ "$lines" -le 10 ] && ok "unclaimed guest accesses: $lines line(s) logged" || fail "$lines lines of unclaimed accesses: no rate limit"
# The virtio attacks (attack.c's attack_virtio, on --rng): each is one
# driver error, logged once per device every 5 s (virtio_pci.c,
# virtio_device_broken); attack.c waits 6 s between attempts, so each is
# named in its own line, and no attempt gets more than one.
vtries=$(tr -d '\r' </run/attack.console | grep -c '^ATTACK .* virtio-[a-z0-9-]* status=.* needs-reset=')
[ "$vtries" = 5 ] && ok "5 virtio attempts made" || fail "$vtries virtio attempts made, not 5"
tr -d '\r' </run/attack.console | grep -q '^ATTACK .* virtio-descriptor-loop status=.. needs-reset=1' &&
	ok "the descriptor loop left the device in NEEDS_RESET" || fail "no NEEDS_RESET after the descriptor loop"
vlines=$(grep -c ' (virtio-rng): guest driver error: ' /run/attack.out)
[ "$vlines" -ge 1 ] && [ "$vlines" -le "$vtries" ] &&
	ok "virtio driver errors: $vlines line(s) for $vtries attempts" ||
	fail "$vlines virtio driver error lines for $vtries attempts"
grep -q 'guest driver error: queue 0: descriptor chain loops; device needs a reset' /run/attack.out &&
	ok "the descriptor loop logged" || fail "no log line for the descriptor loop"
for why in 'queue size is not a power of two' 'descriptor index out of range' 'buffer outside guest RAM'; do
	grep -q "guest driver error: queue 0: $why" /run/attack.out && ok "logged: $why" || fail "not logged: $why"
done
same_as "$before" "after the attacking guest"

echo "## the next run works"
"$passvm" run --kernel "$PASSVM_LAB_KERNEL" --initrd "$dir/nic.gz" --memory 192M \
	--console /run/next.console --cmdline "console=ttyS0 panic=-1 quiet" --device vfio=$nic \
	--user nobody >/run/next.out 2>&1
rc=$?
sed 's/^/  passvm| /' /run/next.out
tr -d '\r' </run/next.console | grep -E '^L2 ' | sed 's/^/  guest| /'
[ $rc = 0 ] && ok "passvm exited 0" || fail "passvm exited $rc"
tr -d '\r' </run/next.console | grep -q '^L2 ping=ok' && ok "ping answered as nobody" || fail "no ping"
same_as "$before" "after the next run"

[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all fault checks passed"
