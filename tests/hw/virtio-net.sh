#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hw suite: passvm's virtio-net in the lab. Inside the emulated host, passvm
# boots the layer-2 guest on nested KVM with --net virtio,bridge=br0 (two
# queue pairs, two vCPUs): the guest's virtio_net driver binds, has the MAC
# given on the command line, configures an address, pings the host on the
# bridge, and moves 2 MiB each way over TCP with the same md5 on both ends.
# Then with tag=7 on a VLAN-filtering bridge: the guest pings the host's
# address on VLAN 7 (br1.7), and an AF_PACKET capture on the bridge sees the
# guest's frames tagged 7 and none untagged. No tap is left after either
# run, and --net with a bridge that does not exist is one line, exit 1.
# Usage: virtio-net.sh PASSVM
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
passvm=$(readlink -f "${1:?usage: virtio-net.sh PASSVM}")
lab=$here/lab
skip() {
	if [ "${CI:-}" = true ]; then echo "FAIL: would skip ($1), and CI=true allows no skip"; exit 1; fi
	echo "SKIP: $1"; exit 77
}
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/deps)"
tmp=$(mktemp -d /tmp/passvm-virtio-net.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# The guest: unknown name=value kernel parameters reach init's environment
# (Documentation/admin-guide/kernel-parameters.rst), so one initramfs
# serves both runs.
cat >"$tmp/guest.sh" <<'GUEST'
modprobe virtio_net 2>/dev/null
for i in $(seq 100); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
echo "NETTEST mac=$(cat /sys/class/net/eth0/address 2>/dev/null)"
echo "NETTEST driver=$(basename "$(readlink /sys/class/net/eth0/device/driver 2>/dev/null)")"
echo "NETTEST rx_queues=$(ls -d /sys/class/net/eth0/queues/rx-* 2>/dev/null | wc -l)"
ip addr add "$pvnet_ip" dev eth0
ip link set eth0 up
ping -c 3 -W 5 "$pvnet_peer" >/tmp/ping 2>&1 && echo "NETTEST ping=ok" || echo "NETTEST ping=fail"
sed -n 's/^\([0-9]* packets transmitted.*\)/NETTEST ping_stats=\1/p' /tmp/ping
if [ -n "${pvnet_blob:-}" ]; then
	dd if=/dev/urandom of=/tmp/out bs=64k count=32 2>/dev/null
	echo "NETTEST sent_md5=$(md5sum </tmp/out | cut -d' ' -f1)"
	timeout 150 nc "$pvnet_peer" 5001 </tmp/out >/dev/null
	timeout 150 nc -l -p 5002 >/tmp/in
	echo "NETTEST got_md5=$(md5sum </tmp/in | cut -d' ' -f1) got_bytes=$(wc -c </tmp/in)"
fi
dmesg | grep -iE 'virtio_net|virtio-pci|eth0' | grep -iE 'fail|error|bad|unexpected' | sed 's/^/NETTEST dmesg_bad=/'
GUEST
"$lab" l2-initrd --run-file "$tmp/guest.sh" -o "$tmp/l2.gz" || skip "cannot build the layer-2 initramfs"

cat >"$tmp/host.sh" <<HOST
pv="$passvm"
cmdline="console=ttyS0 panic=-1 quiet"
echo "== untagged"
ip link add br0 type bridge && ip addr add 10.0.2.1/24 dev br0 && ip link set br0 up
python3 "$here/net/tcp_blob.py" recv 10.0.2.1 5001 2097152 480 >/run/recv.txt 2>&1 &
python3 "$here/net/tcp_blob.py" send 10.0.2.2 5002 2097152 480 >/run/send.txt 2>&1 &
# A guest that hangs is interrupted (passvm then names vCPU 0's rip) rather
# than left to the lab's timeout: a tagged run was seen never to end.
timeout -s INT 480 "\$pv" run --kernel "\$PASSVM_LAB_KERNEL" --initrd "$tmp/l2.gz" --cpus 2 --memory 256M \
	--console /run/console-br0 --net virtio,bridge=br0,mac=02:00:00:00:00:02,queues=2 \
	--cmdline "\$cmdline pvnet_ip=10.0.2.2/24 pvnet_peer=10.0.2.1 pvnet_blob=1"
echo "RUN untagged rc=\$?"
# The host's ends finish before the guest powers off; a guest that died
# leaves them waiting: 10 s, then they go.
for i in \$(seq 100); do [ -z "\$(jobs -rp)" ] && break; sleep 0.1; done
kill \$(jobs -rp) 2>/dev/null
wait
tr -d '\r' </run/console-br0 | grep -E 'NETTEST|PASSVM-L2-DONE|Kernel panic|passvm'
echo "HOST recv \$(cat /run/recv.txt)"
echo "HOST send \$(cat /run/send.txt)"
echo "TAPS_LEFT untagged \$(ip -o link show | grep -c passvm)"

echo "== tag=7"
ip link add br1 type bridge vlan_filtering 1 && ip link set br1 up
bridge vlan add dev br1 vid 7 self
ip link add link br1 name br1.7 type vlan id 7 && ip addr add 10.0.7.1/24 dev br1.7 && ip link set br1.7 up
python3 "$here/net/vlan_capture.py" br1 600 >/run/capture.txt 2>&1 &
cap=\$!
for i in \$(seq 50); do grep -q ready /run/capture.txt && break; sleep 0.1; done
# The port's VLANs while the guest runs (bridge(8) of this machine's iproute2).
( for i in \$(seq 600); do ip -o link show master br1 | grep -q passvm && break; sleep 0.1; done
  sleep 1; bridge vlan show | sed 's/^/VLANS /' ) &
timeout -s INT 300 "\$pv" run --kernel "\$PASSVM_LAB_KERNEL" --initrd "$tmp/l2.gz" --memory 192M \
	--console /run/console-br1 --net virtio,bridge=br1,tag=7,mac=02:00:00:00:00:07 \
	--cmdline "\$cmdline pvnet_ip=10.0.7.2/24 pvnet_peer=10.0.7.1"
echo "RUN tagged rc=\$?"
sleep 1
kill \$cap
tr -d '\r' </run/console-br1 | grep -E 'NETTEST|PASSVM-L2-DONE|Kernel panic|passvm'
grep 'src=02:00:00:00:00:07' /run/capture.txt | sort | uniq -c | sed 's/^ */CAPTURE /'
grep -v 'src=02:00:00:00:00:07' /run/capture.txt | sort | uniq -c | sed 's/^ */OTHER /'
echo "TAPS_LEFT tagged \$(ip -o link show | grep -c passvm)"

echo "== errors"
"\$pv" run --kernel "\$PASSVM_LAB_KERNEL" --memory 192M --net virtio,bridge=nosuch 2>/run/err.txt
echo "ERR rc=\$? lines=\$(wc -l </run/err.txt) \$(cat /run/err.txt)"
echo "TAPS_LEFT errors \$(ip -o link show | grep -c passvm)"
HOST
out=$("$lab" run noiommu --mem 2048 --modules "kvm_amd tun bridge 8021q" --timeout 1500 -- bash "$tmp/host.sh" 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || { echo "FAIL: the lab run failed (status $rc)"; exit 1; }

fail=0
section() { echo "$out" | awk -v h="== $1" '$0 == h { p = 1; next } /^== / { p = 0 } p'; }
want() { # SECTION PATTERN WHAT [EVIDENCE]: on failure, the lines of the run matching EVIDENCE follow
	grep -qE "$2" <<<"$(section "$1")" && return 0
	echo "FAIL: $1: $3"
	[ -n "${4:-}" ] && grep -E "$4" <<<"$out" | sed 's/^/  seen: /'
	fail=1
}
want untagged '^RUN untagged rc=0$' "passvm did not exit 0" 'passvm: |^RUN ' 
want untagged 'PASSVM-L2-DONE rc=0' "the guest's init did not finish"
want untagged 'NETTEST driver=virtio_net$' "virtio_net did not bind"
want untagged 'NETTEST mac=02:00:00:00:00:02$' "the guest has another MAC"
want untagged 'NETTEST rx_queues=2$' "the guest did not see two queue pairs"
want untagged 'NETTEST ping=ok' "the guest could not ping the host on br0"
want untagged 'TAPS_LEFT untagged 0$' "a tap outlived passvm"
sent=$(section untagged | sed -n 's/.*NETTEST sent_md5=\([0-9a-f]*\).*/\1/p')
got=$(section untagged | sed -n 's/.*NETTEST got_md5=\([0-9a-f]*\).*/\1/p')
blob='NETTEST (sent|got)_md5|^HOST |^RUN |PASSVM-L2-DONE|passvm: '
want untagged "HOST recv md5=${sent:-none} bytes=2097152" "guest->host: the host did not get the 2 MiB the guest sent" "$blob"
want untagged "HOST send md5=${got:-none} bytes=2097152" "host->guest: the guest did not get the 2 MiB the host sent" "$blob"
want tag=7 '^RUN tagged rc=0$' "passvm did not exit 0" 'passvm: |^RUN ' 
want tag=7 'NETTEST ping=ok' "the guest could not ping the host on VLAN 7"
want tag=7 'CAPTURE +[0-9]+ src=02:00:00:00:00:07 vlan=7 ' "the bridge saw no frame of the guest on VLAN 7"
if grep -qE 'CAPTURE .*src=02:00:00:00:00:07 vlan=(none|[0-689]|[0-9][0-9])' <<<"$(section tag=7)"; then
	echo "FAIL: tag=7: the bridge saw the guest's frames outside VLAN 7"; fail=1
fi
want tag=7 'TAPS_LEFT tagged 0$' "a tap outlived passvm"
want errors '^ERR rc=1 lines=1 .*there is no bridge nosuch' "a missing bridge: want exit 1 and one line"
want errors 'TAPS_LEFT errors 0$' "a tap outlived a failed start"
if grep -q 'NETTEST dmesg_bad=' <<<"$out"; then echo "FAIL: driver errors in the guest's dmesg"; fail=1; fi
[ $fail = 0 ] && echo "ok: virtio-net on a bridge, on a VLAN, and refusals"
exit $fail
