#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hw suite: I/O faults under a running VM (issue 11, docs/security.md). In
# the lab's noiommu host, passvm boots the layer-2 guest twice:
#   kill  the guest writes a pattern, flushes it (dd conv=fsync: a
#         VIRTIO_BLK_T_FLUSH) and syncs, says so, and goes on writing;
#         passvm is killed with SIGKILL in the middle of that: the flushed
#         pattern is all in the image;
#   full  then, in the second boot: the image of a --disk lives on an 8 MiB
#         tmpfs that fills while the guest writes (dd oflag=direct): the
#         guest's write fails with EIO, passvm lives on and logs one line
#         however many requests failed, the guest still reads its data, and
#         after the host frees space the same write succeeds;
#   net   and the tap of its --net virtio,bridge=br0 is deleted (ip link
#         del) while the guest keeps pinging: passvm lives on, logs one
#         line, uses no more CPU than before, and exits 0 when the guest
#         powers off, leaving no tap.
# The host talks to the guest through a read-only control disk: the host
# writes a word in its first sector, the guest polls it with O_DIRECT reads.
# Its second MiB carries the data pattern, so the guest need not build it.
# Usage: faults-io.sh PASSVM
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
passvm=$(readlink -f "${1:?usage: faults-io.sh PASSVM}")
lab=$here/lab
skip() {
	if [ "${CI:-}" = true ]; then echo "FAIL: would skip ($1), and CI=true allows no skip"; exit 1; fi
	echo "SKIP: $1"; exit 77
}
[ "$(id -u)" = 0 ] || skip "the lab needs root"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/deps)"

tmp=$(mktemp -d /tmp/passvm-faults-io.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# The pattern: 16384 numbered lines of 64 bytes, 1 MiB, so a misplaced or
# missing block shows.
awk 'BEGIN { for (i = 0; i < 16384; i++) printf "pv-faults-io %06d abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n", i }' \
	>"$tmp/pat"
[ "$(wc -c <"$tmp/pat")" = 1048576 ] || { echo "FAIL: the pattern is not 1 MiB"; exit 1; }

# The guest: which part it plays comes from pvfault= on its command line
# (unknown parameters reach init's environment).
cat >"$tmp/guest.sh" <<'GUEST'
modprobe -qa $(cat /sys/bus/virtio/devices/*/modalias 2>/dev/null)
dev_of() { for b in /sys/block/vd*; do [ "$(cat $b/serial 2>/dev/null)" = "$1" ] && basename $b; done; }
wait_dev() { n=0; while [ -z "$(dev_of $1)" ] && [ $n -lt 100 ]; do n=$((n + 1)); sleep 0.1; done; dev_of $1; }
ctl=$(wait_dev pv-ctl)
# Until the host writes WORD at the start of the control disk (600 s).
wait_host() {
	n=0
	while [ $n -lt 600 ]; do
		[ "$(dd if=/dev/$ctl bs=512 count=1 iflag=direct 2>/dev/null | head -c ${#1})" = "$1" ] && return 0
		n=$((n + 1)); sleep 1
	done
	return 1
}
dd if=/dev/$ctl of=/tmp/pat bs=64k skip=16 count=16 iflag=direct 2>/dev/null
echo "FAULTIO pattern_bytes=$(wc -c </tmp/pat)"
case "$pvfault" in
fullnet)
	d=$(wait_dev pv-full)
	k=0 err=
	while [ $k -lt 16 ]; do
		dd if=/tmp/pat of=/dev/$d bs=64k seek=$((k * 16)) oflag=direct 2>/tmp/err ||
			{ err=$(grep -v records /tmp/err | tr '\n' ' '); break; }
		k=$((k + 1))
	done
	echo "FAULTIO full_at_mib=$k dd_err=$err"
	echo "FAULTIO read_while_full=$(dd if=/dev/$d bs=64k count=16 iflag=direct 2>/dev/null | cmp -s - /tmp/pat && echo same || echo differs)"
	# More writes against the full disk: more failed requests, and
	# still one line from passvm.
	dd if=/tmp/pat of=/dev/$d bs=64k seek=$((k * 16)) oflag=direct 2>/dev/null; echo "FAULTIO retry1_rc=$?"
	dd if=/tmp/pat of=/dev/$d bs=64k seek=$((k * 16)) oflag=direct 2>/dev/null; echo "FAULTIO retry2_rc=$?"
	echo "FAULTIO waiting_for_room"
	wait_host ROOM && echo "FAULTIO room=yes" || echo "FAULTIO room=timeout"
	dd if=/tmp/pat of=/dev/$d bs=64k seek=$((k * 16)) oflag=direct 2>/dev/null; echo "FAULTIO rewrite_rc=$?"
	echo "FAULTIO reread=$(dd if=/dev/$d bs=64k skip=$((k * 16)) count=16 iflag=direct 2>/dev/null | cmp -s - /tmp/pat && echo same || echo differs)"
	for i in $(seq 100); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
	ip addr add 10.0.2.2/24 dev eth0
	ip link set eth0 up
	ping -c 3 -W 5 10.0.2.1 >/dev/null 2>&1 && echo "FAULTNET ping_before=ok" || echo "FAULTNET ping_before=fail"
	echo "FAULTNET up"
	# Frames into the dead tap while the host watches passvm.
	ping -i 0.5 -w 300 10.0.2.1 >/tmp/ping 2>&1 &
	wait_host STOP && echo "FAULTNET stop=yes" || echo "FAULTNET stop=timeout"
	kill $!
	sed -n 's/^\([0-9]* packets transmitted.*\)/FAULTNET ping_after=\1/p' /tmp/ping
	;;
kill)
	d=$(wait_dev pv-data)
	head -c 262144 /tmp/pat >/tmp/flushed
	dd if=/tmp/flushed of=/dev/$d bs=64k conv=fsync 2>/dev/null; echo "FAULTKILL write_rc=$?"
	sync
	echo "FAULTKILL flushed"
	n=0
	while :; do
		dd if=/tmp/pat of=/dev/$d bs=64k seek=$((64 + n % 4 * 16)) conv=fsync 2>/dev/null
		n=$((n + 1)); echo "FAULTKILL more=$n"
	done
	;;
esac
GUEST
"$lab" l2-initrd --run-file "$tmp/guest.sh" -o "$tmp/l2.gz" || skip "cannot build the layer-2 initramfs"

cat >"$tmp/host.sh" <<HOST
pv="$passvm"
cmdline="console=ttyS0 panic=-1 quiet loglevel=1"
cd /run
# A control disk per run: word in sector 0, the pattern in the second MiB.
for r in fullnet kill; do
	truncate -s 2M ctl-\$r.img
	dd if=$tmp/pat of=ctl-\$r.img bs=1M seek=1 conv=notrunc 2>/dev/null
done
say() { printf '%s' "\$1" | dd of="ctl-\$2.img" conv=notrunc 2>/dev/null; }
# Until FILE has a line matching RE, while passvm (\$pid) lives (300 s).
wait_console() {
	local end=\$((SECONDS + 300))
	while [ \$SECONDS -lt \$end ]; do
		tr -d '\r' <"\$1" 2>/dev/null | grep -qE "\$2" && return 0
		kill -0 \$pid 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}
# Until passvm exits (300 s; then SIGKILL); its status in \$rc.
wait_exit() {
	local i
	for i in \$(seq 300); do kill -0 \$pid 2>/dev/null || break; sleep 1; done
	kill -0 \$pid 2>/dev/null && { echo "HUNG passvm \$pid"; kill -9 \$pid; }
	wait \$pid; rc=\$?
}
alive() { kill -0 \$pid 2>/dev/null && [ "\$(awk '{ print \$3 }' /proc/\$pid/stat)" != Z ] && echo yes || echo no; }
cpu_ticks() { awk '{ print \$14 + \$15 }' /proc/\$pid/stat; }   # all threads (proc(5))

echo "== kill"
truncate -s 8M data.img
"\$pv" run --kernel "\$PASSVM_LAB_KERNEL" --initrd "$tmp/l2.gz" --memory 192M \
	--console /run/kill.console --cmdline "\$cmdline pvfault=kill" \
	--disk data.img,serial=pv-data --disk ctl-kill.img,readonly,serial=pv-ctl 2>/run/kill.err &
pid=\$!
wait_console /run/kill.console 'FAULTKILL flushed' && wait_console /run/kill.console 'FAULTKILL more=1' ||
	echo "HOST kill: the guest never flushed"
kill -9 \$pid
wait \$pid; echo "HOST rc=\$?"
echo "HOST writes_after_flush=\$(tr -d '\r' </run/kill.console | grep -c 'FAULTKILL more=')"
dd if=data.img bs=64k count=4 2>/dev/null | cmp - <(head -c 262144 $tmp/pat) && echo "HOST flushed_in_image=all" ||
	echo "HOST flushed_in_image=not all"
sed 's/^/HOST stderr=/' /run/kill.err
tr -d '\r' </run/kill.console | grep -E 'FAULTIO|FAULTKILL (write|flushed)|Kernel panic'
tr -d '\r' </run/kill.console | grep -v 'FAULTKILL more=' | tail -n 8 | sed 's/^/CONSOLE| /'

echo "== full"
mkdir -p small && mount -t tmpfs -o size=8m passvm-small small
truncate -s 16M small/full.img
head -c 2M /dev/urandom >small/filler
ip link add br0 type bridge && ip addr add 10.0.2.1/24 dev br0 && ip link set br0 up
"\$pv" run --kernel "\$PASSVM_LAB_KERNEL" --initrd "$tmp/l2.gz" --memory 192M \
	--console /run/fullnet.console --cmdline "\$cmdline pvfault=fullnet" \
	--disk small/full.img,serial=pv-full --disk ctl-fullnet.img,readonly,serial=pv-ctl \
	--net virtio,bridge=br0 2>/run/fullnet.err &
pid=\$!
wait_console /run/fullnet.console 'FAULTIO waiting_for_room' || echo "HOST full: the guest never filled the disk"
echo "HOST alive_while_full=\$(alive)"
echo "HOST df_full=\$(df -k small | awk 'NR == 2 { print \$4 }')"
echo "HOST full_lines=\$(grep -c 'virtio-blk' /run/fullnet.err)"
rm small/filler
say ROOM fullnet

echo "== net"
wait_console /run/fullnet.console 'FAULTNET up' || echo "HOST net: the guest's network never came up"
tap=\$(ip -o link show master br0 | awk -F': ' '{ print \$2 }' | grep -m1 '^passvm')
echo "HOST tap=\$tap"
c0=\$(cpu_ticks); sleep 5; c1=\$(cpu_ticks)
ip link del "\$tap"; echo "HOST del_rc=\$?"
sleep 1
c2=\$(cpu_ticks); sleep 5; c3=\$(cpu_ticks)
echo "HOST cpu_before=\$((c1 - c0)) cpu_after=\$((c3 - c2)) ticks_per_s=\$(getconf CLK_TCK) over=5s"
echo "HOST alive_after_del=\$(alive)"
say STOP fullnet
wait_exit
echo "HOST rc=\$rc"
echo "HOST full_lines_at_exit=\$(grep -c 'virtio-blk' /run/fullnet.err)"
echo "HOST net_lines=\$(grep -c 'virtio-net' /run/fullnet.err)"
echo "HOST taps_left=\$(ip -o link show | grep -c passvm)"
sed 's/^/HOST stderr=/' /run/fullnet.err
tr -d '\r' </run/fullnet.console | grep -E 'FAULTIO|FAULTNET|PASSVM-L2-DONE|Kernel panic'
tr -d '\r' </run/fullnet.console | tail -n 8 | sed 's/^/CONSOLE| /'
umount small
HOST
out=$("$lab" run noiommu --mem 2048 --modules 'kvm_amd tun bridge' --timeout 900 -- bash "$tmp/host.sh" 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || { echo "FAIL: the lab run failed (status $rc)"; exit 1; }

fail=0
section() { echo "$out" | awk -v h="== $1" '$0 == h { p = 1; next } /^== / { p = 0 } p'; }
# full and net are one boot: what passvm and the guest said at its end is
# printed under net, and counts for both.
text() { if [ "$1" = kill ]; then section kill; else section full; section net; fi; }
want() { # SECTION PATTERN WHAT
	if grep -qE -- "$2" <<<"$(text "$1")"; then echo "ok: $1: $3"; else echo "FAIL: $1: $3 (no line matching '$2')"; fail=1; fi
}
want full 'FAULTIO pattern_bytes=1048576$' "the guest read the pattern from the control disk"
want full 'FAULTIO full_at_mib=[1-9][0-9]* dd_err=.*(Input/output error|No space left on device)' \
	"the guest's write failed with EIO/ENOSPC once the filesystem was full"
want full 'FAULTIO read_while_full=same$' "the guest read its data back while the disk was full"
want full 'FAULTIO retry1_rc=[1-9]' "a write retried against the full disk failed again"
want full '^HOST alive_while_full=yes$' "passvm was alive with the disk full"
want full '^HOST full_lines=1$' "passvm logged one line for all the failed writes"
want full '^HOST full_lines_at_exit=1$' "and no more up to its exit"
want full '^HOST stderr=.*blk0 \(virtio-blk .*No space left on device' "the line names the disk and ENOSPC"
want full 'FAULTIO room=yes' "the guest heard that the host freed space"
want full 'FAULTIO rewrite_rc=0$' "with space again the same write succeeded"
want full 'FAULTIO reread=same$' "and reads back"
want net 'FAULTNET ping_before=ok' "the guest pinged the host before the tap went"
want net '^HOST tap=passvm' "passvm's tap found on br0"
want net '^HOST del_rc=0$' "ip link del of the tap"
want net '^HOST alive_after_del=yes$' "passvm was alive after its tap was deleted"
want net '^HOST net_lines=1$' "passvm logged one line about the tap"
want net '^HOST stderr=.*tap passvm[0-9]+: .*the guest.s network is down' "the line names the tap"
want net 'FAULTNET stop=yes' "the guest ran on to the end"
want net 'PASSVM-L2-DONE rc=0' "the guest powered off"
want net '^HOST rc=0$' "passvm exited 0 when the guest powered off"
want net '^HOST taps_left=0$' "no tap left"
# No busy loop: passvm's CPU time over 5 s after the deletion stays under
# half a CPU and under 2x what it used over 5 s before it (+20 ticks for
# noise). A thread spinning on the dead tap's EPOLLERR takes a whole CPU.
cpu=$(section net | sed -n 's/^HOST cpu_before=\([0-9]*\) cpu_after=\([0-9]*\) ticks_per_s=\([0-9]*\) .*/\1 \2 \3/p')
if [ -n "$cpu" ] && read -r before after hz <<<"$cpu" &&
	[ "$after" -lt $((hz * 5 / 2)) ] && [ "$after" -le $((2 * before + 20)) ]; then
	echo "ok: net: passvm's CPU time after the deletion: $after ticks in 5 s (before: $before, $hz/s)"
else
	echo "FAIL: net: passvm's CPU time after the tap's deletion (before after hz: ${cpu:-none})"; fail=1
fi
want kill 'FAULTKILL write_rc=0$' "the guest wrote and flushed the pattern"
want kill '^HOST rc=137$' "passvm died of SIGKILL"
want kill '^HOST writes_after_flush=[1-9]' "the guest was writing when passvm was killed"
want kill '^HOST flushed_in_image=all$' "every flushed byte is in the image"
exit $fail
