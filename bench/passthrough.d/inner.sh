#!/usr/bin/env bash
# The part of bench/passthrough that runs inside the lab's emulated host.
set -uo pipefail
passvm=$1 dir=$2 rounds=${3:-3}
nvme=0000:00:03.0
kernel=$PASSVM_LAB_KERNEL
cmdline="console=ttyS0 panic=-1 quiet"

# Seconds from $1 (date +%s.%N) until FILE has a line matching PATTERN.
wait_line() { # T0 FILE PATTERN
	local t0=$1 f=$2 p=$3 n=0
	while ! tr -d '\r' <"$f" 2>/dev/null | grep -q "$p"; do
		sleep 0.05; n=$((n + 1)); [ $n -gt 12000 ] && { echo "timeout"; return; }
	done
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
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
	wait_line "$t0" /run/passvm.console "BENCH userspace" >>/run/passvm.start; echo >>/run/passvm.start
	wait $pid || { echo "passvm failed:"; cat /run/passvm.out; }
	echo "$(iops /run/passvm.console)" >>/run/passvm.iops

	"$passvm" vfio bind $nvme >/dev/null
	: >/run/qemu.console
	t0=$(date +%s.%N)
	qemu-system-x86_64 -accel kvm -M q35 -cpu host -smp 1 -m 192 -nodefaults -no-user-config \
		-display none -no-reboot -serial file:/run/qemu.console \
		-device vfio-pci,host=$nvme -kernel "$kernel" -initrd "$dir/l2.gz" \
		-append "$cmdline" >/run/qemu.out 2>&1 &
	pid=$!
	wait_line "$t0" /run/qemu.console "BENCH userspace" >>/run/qemu.start; echo >>/run/qemu.start
	wait $pid || { echo "qemu failed:"; cat /run/qemu.out; }
	"$passvm" vfio restore --all >/dev/null
	echo "$(iops /run/qemu.console)" >>/run/qemu.iops
	echo "round $1: native $(tail -1 /run/native.iops), passvm $(tail -1 /run/passvm.iops)," \
		"QEMU $(tail -1 /run/qemu.iops) IOPS; start passvm $(tail -1 /run/passvm.start) s," \
		"QEMU $(tail -1 /run/qemu.start) s"
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }
rm -f /run/*.iops /run/*.start
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
echo "VM start with the NVMe passed through, exec to the guest's first user-space line (median):"
printf '  %-34s %8s s\n' "passvm (microvm-like, no firmware)" "$passvm_start" "QEMU q35 (SeaBIOS)" "$qemu_start"
awk -v p="$passvm_start" -v q="$qemu_start" 'BEGIN { if (p > 0) printf "  QEMU/passvm %.2f\n", q / p }'
