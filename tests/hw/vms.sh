#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hw suite: managed VMs (issue 10) on the lab's nested KVM. Inside the
# emulated host: create two VMs (layer-2 Linux guests, quiet, 192 MiB),
# start both; list shows them running with PIDs; `passvm terminal` (driven
# through a pty) replays the boot output and runs a typed command; Ctrl+O
# detaches; `shutdown` presses the ACPI power button (GED + PNP0C0C), the
# guest's init powers off on KEY_POWER, list shows stopped; `reboot`
# restarts the other guest in the same process (it boots a second time,
# reboots: 1) and sees its disk0 (a sparse image passvm created) as
# virtio-blk, `stop` ends it and destroy --purge removes the image; a VM
# with the e1000e as hostpci0 runs with
# it on vfio-pci, a second VM with the same hostpci0 is refused naming the
# first, and killed with SIGKILL the first reads stopped, its run files are
# cleaned and its NIC is back on e1000e; malformed options and config lines
# give one line and change nothing. Topology: intel (VT-d, e1000e).
# Usage: vms.sh PASSVM
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
passvm=$(readlink -f "${1:?usage: vms.sh PASSVM}")
lab=$here/lab
skip() {
	if [ "${CI:-}" = true ]; then echo "FAIL: would skip ($1), and CI=true allows no skip"; exit 1; fi
	echo "SKIP: $1"; exit 77
}
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/deps)"
command -v python3 >/dev/null || skip "python3 is not installed (drives the terminal through a pty)"

tmp=$(mktemp -d /tmp/passvm-vms.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# The layer-2 guest: load the ACPI button driver and evdev, power off on
# the first event of the "Power Button" input device (what acpid does on a
# distribution), then read commands from the console.
cat >"$tmp/guest.sh" <<'GUEST'
insmod /button.ko
insmod /evdev.ko
ev=
for e in /sys/class/input/event*; do
	grep -q "Power Button" "$e/device/name" 2>/dev/null && ev=/dev/input/${e##*/}
done
echo "VMS-POWER-BUTTON=${ev:-none}"
# passvm's DSDT (with GED0 and PWRB) must load without complaints.
dmesg | grep -iE 'ACPI (Error|Exception|Warning|BIOS Error)|\[Firmware Bug\]' | sed 's/^/VMS-ACPI-BAD /'
dmesg | grep -iE 'ACPI0013|ged|Power Button' | sed 's/^/VMS-ACPI-INFO /'
if [ -n "$ev" ]; then
	# One struct input_event is 24 bytes on x86-64; evdev refuses shorter reads.
	(dd if="$ev" of=/dev/null bs=24 count=1 2>/dev/null; echo "VMS-POWER-PRESSED"; sync; poweroff -f) &
fi
# A VM given a disk (diskN -> passvm run --disk) sees a virtio-blk device.
# (The init's coldplug is one modprobe pass: virtio devices appear on their
# bus only after virtio_pci is in, so load the block driver by name.)
modprobe -q virtio_blk
if grep -q '^virtio:d00000002' /sys/bus/virtio/devices/*/modalias 2>/dev/null; then
	for i in $(seq 50); do [ -e /sys/block/vda ] && break; sleep 0.1; done
fi
echo "VMS-DISKS=$(ls /sys/block | grep '^vd' | tr '\n' ' ')"
echo "VMS-READY"
exec sh
GUEST
kdir=$("$lab" paths | sed -n 's/^PASSVM_LAB_KERNEL=//p')
kver=$("$lab" paths | sed -n 's/^PASSVM_LAB_KVER=//p')
mods=$(dirname "$kdir")/lib/modules/$kver/kernel
for m in drivers/acpi/button.ko drivers/input/evdev.ko; do
	[ -f "$mods/$m" ] || skip "no $m in the lab's kernel cache ($mods)"
done
"$lab" l2-initrd --run-file "$tmp/guest.sh" -o "$tmp/l2-base.gz" || skip "cannot build the layer-2 initramfs"
# Concatenated cpio archives make one initramfs.
(cd "$mods/drivers/acpi" && echo button.ko | cpio -o -H newc 2>/dev/null | gzip) >"$tmp/button.gz"
(cd "$mods/drivers/input" && echo evdev.ko | cpio -o -H newc 2>/dev/null | gzip) >"$tmp/evdev.gz"
cat "$tmp/l2-base.gz" "$tmp/button.gz" "$tmp/evdev.gz" >"$tmp/l2.gz"

# The terminal, driven through a pty: wait for the replayed VMS-READY, type
# a command, see its output, detach with Ctrl+O.
cat >"$tmp/term.py" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "terminal", sys.argv[2]])
seen = b""
def wait_for(token, timeout):
    global seen
    end = time.time() + timeout
    while token not in seen and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return token in seen
ready = wait_for(b"VMS-READY", 60)
print("TERM ready=%d" % ready)
os.write(fd, b"echo TYPED-$((6*7))\r")
typed = wait_for(b"TYPED-42", 60)
print("TERM typed=%d" % typed)
os.write(fd, b"\x0f")
detached = wait_for(b"detached from", 10)
_, status = os.waitpid(pid, 0)
print("TERM detached=%d rc=%d" % (detached, os.waitstatus_to_exitcode(status)))
# The session as the user saw it, for the log (and docs/cli.md).
for line in seen.decode(errors="replace").replace("\r", "").split("\n"):
    print("TERMLOG " + line)
PY

cat >"$tmp/host.sh" <<HOST
set -u
P="$passvm"
export PASSVM_CONFIG_DIR=/run/vms-conf PASSVM_RUN_DIR=/run/vms-run
k=\$PASSVM_LAB_KERNEL
# The lab's chroot has devtmpfs but no devpts: the terminal test needs ptys.
if [ ! -e /dev/pts/ptmx ]; then
	mkdir -p /dev/pts && mount -t devpts -o ptmxmode=0666 devpts /dev/pts || echo "NO-DEVPTS"
fi
waitfor() { # ID TOKEN SECONDS [COUNT]: TOKEN COUNT times in the console log
	local end=\$((SECONDS + \$3))
	while [ \$SECONDS -lt \$end ]; do
		[ "\$(grep -c "\$2" \$PASSVM_RUN_DIR/\$1/console.log 2>/dev/null)" -ge "\${4:-1}" ] && return 0
		sleep 0.2
	done
	# What the VM was doing: its logs and where each VMM thread waits.
	tail -5 \$PASSVM_RUN_DIR/\$1/passvm.log | sed "s/^/WAIT\$1 log /"
	tail -8 \$PASSVM_RUN_DIR/\$1/console.log | sed "s/^/WAIT\$1 console /"
	local pid=\$(cat \$PASSVM_RUN_DIR/\$1/pid 2>/dev/null)
	for t in /proc/\$pid/task/*; do
		echo "WAIT\$1 thread \$(cat \$t/comm) \$(cut -d' ' -f3 \$t/stat) \$(cat \$t/wchan 2>/dev/null)"
	done
	return 1
}
for id in 101 102; do
	\$P create \$id --name l2-\$id --memory 192 --cores 1 --kernel "\$k" --initrd "$tmp/l2.gz" \
		--cmdline "console=ttyS0 panic=-1 quiet" || echo "CREATE-FAILED \$id"
done
# 102 gets a disk: a sparse 1 GiB image that passvm creates
\$P set 102 --disk0 /run/102-disk0.raw,size=1 || echo "SET-FAILED 102"
stat -c 'IMAGE %s bytes %b blocks' /run/102-disk0.raw
t0=\$(date +%s)
\$P start 101; echo "START 101 rc=\$?"
\$P start 102; echo "START 102 rc=\$?"
\$P list | sed 's/^/LIST1 /'
# (360 s: a guest that triple-faults in boot is booted again, as a PC resets)
waitfor 101 VMS-READY 360; echo "READY 101 rc=\$? after \$((\$(date +%s) - t0)) s"
waitfor 102 VMS-READY 360; echo "READY 102 rc=\$? after \$((\$(date +%s) - t0)) s"
for id in 101 102; do
	grep 'triple fault' \$PASSVM_RUN_DIR/\$id/passvm.log | sed "s/^/TRIPLE \$id /"
done
grep -h -E 'VMS-POWER-BUTTON|VMS-ACPI' \$PASSVM_RUN_DIR/10[12]/console.log | sed 's/^/GUEST /'
head -3 \$PASSVM_RUN_DIR/102/passvm.log | sed 's/^/LOG102 /'
for id in 101 102; do grep -h VMS-DISKS \$PASSVM_RUN_DIR/\$id/console.log | head -1 | tr -d '\r' | sed "s/^/GUEST \$id /"; done
python3 "$tmp/term.py" "\$P" 101
# malformed options and config lines: one line each, nothing changed
before=\$(cat \$PASSVM_CONFIG_DIR/*.conf | md5sum)
\$P start 101 --bogus 2>&1 | sed 's/^/BAD /'
\$P shutdown 101 --timeout x 2>&1 | sed 's/^/BAD /'
\$P set 102 --memory lots 2>&1 | sed 's/^/BAD /'
\$P start 102 2>&1 | sed 's/^/BAD /'
cp \$PASSVM_CONFIG_DIR/101.conf /run/101.conf.orig
echo "colour: blue" >>\$PASSVM_CONFIG_DIR/101.conf
\$P status 101 2>&1 | sed 's/^/BAD /'
cp /run/101.conf.orig \$PASSVM_CONFIG_DIR/101.conf
[ "\$before" = "\$(cat \$PASSVM_CONFIG_DIR/*.conf | md5sum)" ] && echo "CONF unchanged"
\$P list | sed 's/^/LIST2 /'
# shutdown: the power button; the guest's init powers off
s0=\$(date +%s)
\$P shutdown 101 --timeout 120; echo "SHUTDOWN 101 rc=\$? after \$((\$(date +%s) - s0)) s"
grep -c VMS-POWER-PRESSED \$PASSVM_RUN_DIR/101/console.log | sed 's/^/PRESSED /'
tail -2 \$PASSVM_RUN_DIR/101/passvm.log | sed 's/^/LOG101 /'
# reboot: the same process boots the guest again
pid102=\$(\$P list | awk '\$1 == 102 { print \$6 }')
\$P reboot 102; echo "REBOOT 102 rc=\$?"
waitfor 102 VMS-READY 240 2; echo "READY2 102 rc=\$?"
\$P status 102 | sed 's/^/STATUS /'
echo "PID102 before=\$pid102 after=\$(\$P list | awk '\$1 == 102 { print \$6 }')"
\$P pause 102; echo "PAUSE rc=\$?"
\$P list | sed 's/^/LIST3 /'
\$P resume 102; echo "RESUME rc=\$?"
\$P stop 102; echo "STOP 102 rc=\$?"
\$P list | sed 's/^/LIST4 /'
tail -8 \$PASSVM_RUN_DIR/102/passvm.log 2>/dev/null | sed 's/^/LOG102 /'
tail -5 \$PASSVM_RUN_DIR/102/console.log 2>/dev/null | sed 's/^/CONS102 /'; echo
\$P destroy 102 --purge 2>&1 | sed 's/^/PURGE /'
ls /run/102-disk0.raw 2>&1 | sed 's/^/PURGE /'
# hostpci0: the e1000e (00:02.0) passed through to VM 103; VM 104 with the
# same device is refused while 103 runs. Then SIGKILL: a dead VMM reads
# stopped, its pid file and socket are cleaned, and list gives the device
# back to e1000e through the VFIO journal.
nic=0000:00:02.0
drv() { basename "\$(readlink /sys/bus/pci/devices/\$nic/driver 2>/dev/null)" 2>/dev/null || echo none; }
echo "NIC before=\$(drv)"
for id in 103 104; do
	\$P create \$id --name pt-\$id --memory 192 --cores 1 --kernel "\$k" --initrd "$tmp/l2.gz" \
		--cmdline "console=ttyS0 panic=-1 quiet" --hostpci0 \$nic || echo "CREATE-FAILED \$id"
done
\$P start 103; echo "START 103 rc=\$?"
echo "NIC running=\$(drv)"
\$P start 104 2>&1 | sed 's/^/PT104 /'
kpid=\$(\$P list | awk '\$1 == 103 { print \$6 }')
[ "\${kpid:-0}" -gt 0 ] && kill -9 "\$kpid" # (kill -9 0 would end this script)
# The first list that finds 103 dead cleans up and gives the NIC back.
for i in \$(seq 50); do
	l5=\$(\$P list 2>&1)
	grep -qE '^ +103 .*stopped' <<<"\$l5" && break
	sleep 0.2
done
echo "\$l5" | sed 's/^/LIST5 /'
echo "NIC after=\$(drv)"
ls \$PASSVM_RUN_DIR/103 | tr '\n' ' ' | sed 's/^/RUNFILES /'; echo
tail -3 \$PASSVM_RUN_DIR/103/passvm.log | sed 's/^/LOG103 /'
HOST
out=$("$lab" run intel --mem 3072 --modules "kvm_amd vfio-pci" --timeout 1500 -- bash "$tmp/host.sh" 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || { echo "FAIL: the lab run failed (status $rc)"; exit 1; }

fail=0
expect() { # PATTERN WHAT
	grep -qE "$1" <<<"$out" || { echo "FAIL: $2 (no line matching: $1)"; fail=1; }
}
expect '^START 101 rc=0$' "start 101"
expect '^START 102 rc=0$' "start 102"
expect '^LIST1 +101 l2-101 +running +192 .* [1-9][0-9]*$' "list shows 101 running with a pid"
expect '^LIST1 +102 l2-102 +running +192 .* [1-9][0-9]*$' "list shows 102 running with a pid"
expect '^READY 101 rc=0' "101 booted to its init"
expect '^READY 102 rc=0' "102 booted to its init"
expect '^GUEST VMS-POWER-BUTTON=/dev/input/event' "the guest has an ACPI power button input device"
grep -q 'VMS-ACPI-BAD' <<<"$out" && { echo "FAIL: ACPI errors in the guest's dmesg"; fail=1; }
expect '^TERM ready=1$' "terminal replays the boot output"
expect '^TERM typed=1$' "a command typed through the terminal runs"
expect '^TERM detached=1 rc=0$' "Ctrl+O detaches, exit 0"
for pat in "BAD passvm: error: start: unknown option '--bogus'" \
	   "BAD passvm: error: shutdown: --timeout 'x' must be seconds" \
	   "BAD passvm: error: set 102: --memory: " \
	   "BAD passvm: error: start 102: VM 102 is running already" \
	   "BAD passvm: error: .*101.conf:[0-9]+: "; do
	expect "$pat" "one error line: $pat"
done
[ "$(grep -c '^BAD ' <<<"$out")" = 5 ] || { echo "FAIL: each malformed input must give exactly one line"; fail=1; }
expect '^CONF unchanged$' "malformed input changed a config"
expect '^SHUTDOWN 101 rc=0' "shutdown ends 101 within the timeout"
expect '^PRESSED 1$' "the guest saw the power button"
expect '^LOG101 passvm: guest stopped \(powered off\)' "101 powered off (not stopped by the fallback)"
expect '^LIST2 +101 .*running' "101 ran before the shutdown"
expect '^REBOOT 102 rc=0$' "reboot 102"
expect '^READY2 102 rc=0$' "102 booted a second time after reboot"
# A triple fault in 102's first boot (one was seen in CI, cause unknown; see
# docs/testing.md) restarts it too, and counts as a reboot.
restarts102=$(grep -c '^TRIPLE 102 .*booting it again' <<<"$out")
expect "^STATUS reboots: $((1 + restarts102))\$" "status counts the reboot"
grep -qE '^PID102 before=([0-9]+) after=\1$' <<<"$out" || { echo "FAIL: reboot must keep the VMM process"; fail=1; }
expect '^LIST3 +102 .*paused' "list shows 102 paused"
expect '^RESUME rc=0$' "resume"
expect '^STOP 102 rc=0$' "stop 102"
expect '^LIST4 +101 .*stopped +192 .* 0$' "list shows 101 stopped after shutdown"
expect '^LIST4 +102 .*stopped +192 +1.00 0$' "list shows 102 stopped after stop, with its 1 GiB boot disk"
expect '^IMAGE 1073741824 bytes 0 blocks$' "set --disk0 ...,size=1 created a sparse 1 GiB image"
expect '^GUEST 102 VMS-DISKS=vda $' "VM 102 sees its disk0 as virtio-blk vda"
expect '^GUEST 101 VMS-DISKS=$' "VM 101 has no disk"
expect '^PURGE removed /run/102-disk0.raw$' "destroy --purge removes the image passvm created"
expect "^PURGE ls: cannot access '/run/102-disk0.raw'" "the image is gone"
expect '^NIC before=e1000e$' "the NIC starts on e1000e"
expect '^START 103 rc=0$' "103 starts with the NIC passed through"
expect '^NIC running=vfio-pci$' "the NIC is on vfio-pci while 103 runs"
expect "^PT104 passvm: error: start 104: device 0000:00:02.0 is in use by VM 103 " "a second VM with the same hostpci0 is refused, naming the first"
[ "$(grep -c '^PT104 ' <<<"$out")" = 1 ] || { echo "FAIL: the refusal must be one line"; fail=1; }
expect '^LIST5 +103 .*stopped +192 .* 0$' "a VM killed with SIGKILL reads stopped"
expect '^LIST5 passvm: VM 103 had died: 0000:00:02.0 is back on e1000e' "list gives the dead VM's device back"
expect '^NIC after=e1000e$' "the NIC is back on e1000e"
grep -E '^RUNFILES ' <<<"$out" | grep -qE ' (pid|control) ' && { echo "FAIL: the killed VM's pid file or socket was not cleaned"; fail=1; }
exit $fail
