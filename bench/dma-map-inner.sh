#!/usr/bin/env bash
# The part of bench/dma-map that runs inside the lab's emulated host.
set -euo pipefail
passvm=$1 hwtool=$2
bdf=0000:00:02.0
echo 600 > /proc/sys/vm/nr_hugepages
echo "huge pages: $(cat /proc/sys/vm/nr_hugepages) x 2 MiB; $(nproc) vCPUs (TCG)"
"$passvm" vfio bind "$bdf" >/dev/null
trap '"$passvm" vfio restore --all >/dev/null' EXIT

qemu_start() { # MIB HUGE DEVICE: seconds from exec to exit of a QEMU that only starts
	local mem=(-m "$1")
	[ "$2" = huge ] && mem=(-m "$1" -object "memory-backend-memfd,id=ram,size=$1M,hugetlb=on,hugetlbsize=2M"
			      -machine memory-backend=ram)
	local dev=()
	[ "$3" = vfio ] && dev=(-device "vfio-pci,host=$bdf")
	local t0 t1
	t0=$(date +%s.%N)
	echo quit | qemu-system-x86_64 -accel tcg -M q35 "${mem[@]}" -nodefaults -display none \
		-S -monitor stdio "${dev[@]}" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

echo "passvm: vfio_dma_map of one region (cold: memory untouched, so pinning faults it in;"
echo "warm: already faulted in). QEMU: wall time of a QEMU that starts (-S) and quits, with"
echo "and without -device vfio-pci (it maps all guest RAM when the device is realized)."
printf '%-7s %-5s %12s %12s %12s %16s %16s\n' memory pages "map (cold)" "map (warm)" \
	"unmap" "qemu+vfio-pci" "qemu, no device"
for mib in 256 1024; do
	for pages in 4k huge; do
		line=$("$hwtool" dma-bench "$bdf" "$mib" $([ $pages = huge ] && echo huge) | grep '^dma-map')
		cold=$(sed -n 's/.*: map \([0-9.]*\) s (untouched.*/\1/p' <<<"$line")
		warm=$(sed -n 's/.*, map \([0-9.]*\) s (faulted.*/\1/p' <<<"$line")
		unmap=$(sed -n 's/.*unmap \([0-9.]*\) s.*/\1/p' <<<"$line")
		q_dev=$(qemu_start "$mib" "$pages" vfio)
		q_none=$(qemu_start "$mib" "$pages" none)
		printf '%-7s %-5s %10s s %10s s %10s s %14s s %14s s\n' "${mib}M" \
			"$([ $pages = huge ] && echo 2M || echo 4K)" "$cold" "$warm" "$unmap" "$q_dev" "$q_none"
	done
done
