#!/usr/bin/env bash
# The part of bench/passthrough that runs inside the lab's emulated host.
set -uo pipefail
passvm=$1 dir=$2 rounds=${3:-3}
nvme=0000:00:03.0
kernel=$PASSVM_LAB_KERNEL
cmdline="console=ttyS0 panic=-1 quiet"

# Seconds from $1 (date +%s.%N) until FILE has a line matching PATTERN.
# A guest that has not got there after BOOT_LIMIT seconds has hung (seen
# for both VMMs under the lab's emulation): "hung", and the caller kills it.
BOOT_LIMIT=180
wait_line() { # T0 FILE PATTERN
	local t0=$1 f=$2 p=$3 end=$((SECONDS + BOOT_LIMIT))
	while ! tr -d '\r' <"$f" 2>/dev/null | grep -q "$p"; do
		sleep 0.05
		[ $SECONDS -ge $end ] && { echo "hung"; return; }
	done
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
}
# Waits for a VMM; one whose guest hung is killed, its console's last
# lines shown, and the round counts it.
finish() { # NAME PID START CONSOLE
	if [ "$3" = hung ]; then
		# SIGTERM: passvm stops the guest and gives the device back.
		kill -TERM "$2" 2>/dev/null
		local i
		for i in $(seq 100); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$2" 2>/dev/null
		wait "$2" 2>/dev/null
		echo "$1: the guest did not reach user space in $BOOT_LIMIT s; its console ended with:"
		tr -d '\r' <"$4" | tail -5 | sed 's/^/  | /'
		echo "$1" >>/run/hung
		return
	fi
	wait "$2" || { echo "$1 failed:"; cat "/run/$1.out"; }
}
iops() { tr -d '\r' <"$1" | sed -n 's/.*: \([0-9]*\) IOPS$/\1/p' | tail -1; }

n=0; while [ ! -e /dev/nvme0n1 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done

# One round: native, then a passvm guest, then a QEMU guest. Rounds
# alternate with each other so that a burst of load on the machine running
# the lab hits all three alike; the medians are the figures.
round() { # N
	"$dir/randread" /dev/nvme0n1 10 32 >/run/native.out
	echo "$(iops /run/native.out)" >>/run/native.iops

	: >/run/passvm.console
	local t0 pid
	t0=$(date +%s.%N)
	"$passvm" run --kernel "$kernel" --initrd "$dir/l2.gz" --memory 192M --console /run/passvm.console \
		--cmdline "$cmdline" --device vfio=$nvme >/run/passvm.out 2>&1 &
	pid=$!
	local start
	start=$(wait_line "$t0" /run/passvm.console "BENCH userspace")
	finish passvm "$pid" "$start" /run/passvm.console
	if [ "$start" != hung ]; then
		echo "$start" >>/run/passvm.start
		echo "$(iops /run/passvm.console)" >>/run/passvm.iops
	fi
	"$passvm" vfio restore --all >/dev/null 2>&1

	"$passvm" vfio bind $nvme >/dev/null
	: >/run/qemu.console
	t0=$(date +%s.%N)
	qemu-system-x86_64 -accel kvm -M q35 -cpu host -smp 1 -m 192 -nodefaults -no-user-config \
		-display none -no-reboot -serial file:/run/qemu.console \
		-device vfio-pci,host=$nvme -kernel "$kernel" -initrd "$dir/l2.gz" \
		-append "$cmdline" >/run/qemu.out 2>&1 &
	pid=$!
	start=$(wait_line "$t0" /run/qemu.console "BENCH userspace")
	finish qemu "$pid" "$start" /run/qemu.console
	"$passvm" vfio restore --all >/dev/null
	if [ "$start" != hung ]; then
		echo "$start" >>/run/qemu.start
		echo "$(iops /run/qemu.console)" >>/run/qemu.iops
	fi
	echo "round $1: native $(tail -1 /run/native.iops), passvm $(tail -1 /run/passvm.iops)," \
		"QEMU $(tail -1 /run/qemu.iops) IOPS; start passvm $(tail -1 /run/passvm.start) s," \
		"QEMU $(tail -1 /run/qemu.start) s"
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }
rm -f /run/*.iops /run/*.start /run/hung
for r in $(seq "$rounds"); do round "$r"; done
native=$(median /run/native.iops)
passvm_iops=$(median /run/passvm.iops)
qemu_iops=$(median /run/qemu.iops)
passvm_start=$(median /run/passvm.start)
qemu_start=$(median /run/qemu.start)

echo
echo "NVMe 4 KiB random read, QD1, O_DIRECT, 10 s each, median of $rounds rounds (TCG host, nested KVM guests):"
printf '  %-34s %8s IOPS\n' "native on the emulated host" "$native" \
	"passvm guest, passed through" "$passvm_iops" "QEMU guest, -device vfio-pci" "$qemu_iops"
awk -v n="$native" -v p="$passvm_iops" -v q="$qemu_iops" 'BEGIN {
	if (n > 0 && p > 0 && q > 0)
		printf "  passvm/native %.2f (target >= 0.9), passvm/QEMU %.2f (target >= 1.0)\n", p / n, p / q }'
hung() { [ -f /run/hung ] && grep -c "^$1\$" /run/hung || echo 0; }
echo "guests that hung in boot (killed, left out of the medians): passvm $(hung passvm)," \
	"QEMU $(hung qemu)"
echo "VM start with the NVMe passed through, exec to the guest's first user-space line (median):"
printf '  %-34s %8s s\n' "passvm (microvm-like, no firmware)" "$passvm_start" "QEMU q35 (SeaBIOS)" "$qemu_start"
awk -v p="$passvm_start" -v q="$qemu_start" 'BEGIN { if (p > 0) printf "  QEMU/passvm %.2f\n", q / p }'
