#!/usr/bin/env bash
# passvm run --net: bad input is one line on stderr and a non-zero exit (2
# for usage, 1 for a host that cannot do it), and no tap is left behind,
# including when a later --net fails after an earlier one made its tap; a
# VM that starts has its tap on the bridge, and the tap is gone after
# passvm exits, even after SIGKILL. Runs in a network namespace of its own.
# Usage: test_run_net.sh PASSVM MKBZIMAGE
set -u
passvm=$1 mkbzimage=$2
skip() {
	if [ "${CI:-}" = true ]; then echo "FAIL: would skip ($1), and CI=true allows no skip"; exit 1; fi
	echo "SKIP: $1"; exit 77
}
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "no usable /dev/kvm"
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, taps)"
if [ "${PASSVM_NETNS:-}" != 1 ]; then
	unshare -n true 2>/dev/null || skip "cannot make a network namespace"
	PASSVM_NETNS=1 exec unshare -n "$0" "$@"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$mkbzimage" "$tmp/kernel" || exit 1
ip link add br0 type bridge && ip link set br0 up || skip "cannot make a bridge"
ip tuntap add keep0 mode tap
fail=0

taps() { ip -o link show | grep -c ': passvm[0-9]*[:@]'; }

expect() { # STATUS PATTERN --net ARGS...
	local want=$1 pattern=$2; shift 2
	timeout 20 "$passvm" run --kernel "$tmp/kernel" --memory 64M --console "$tmp/console" \
		"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local got=$? lines
	lines=$(wc -l <"$tmp/err")
	if [ "$got" != "$want" ] || [ "$lines" != 1 ] || ! grep -q -- "$pattern" "$tmp/err"; then
		echo "FAIL: passvm run $*: status $got (want $want), $lines line(s):"
		cat "$tmp/err"
		fail=1
	fi
	if [ "$(taps)" != 0 ]; then
		echo "FAIL: passvm run $*: left a tap behind:"; ip -o link show | grep passvm
		fail=1
	fi
}

expect 2 "unknown key 'colour'" --net virtio,bridge=br0,colour=blue
expect 2 "mac '01:00:5e:00:00:01'" --net virtio,bridge=br0,mac=01:00:5e:00:00:01
expect 2 "give one of bridge=BR" --net virtio
expect 2 "at most 8 interfaces" $(for i in $(seq 9); do echo --net virtio,bridge=br0; done)
expect 1 "there is no bridge nosuch on this host" --net virtio,bridge=nosuch
expect 1 "lo is not a bridge" --net virtio,bridge=lo
expect 1 "bridge br0 does not filter VLANs" --net virtio,bridge=br0,tag=5
expect 1 "there is no persistent tap nosuch" --net tap=nosuch
expect 1 "made without multi_queue" --net tap=keep0,queues=2
# The second interface fails after the first made its tap: both go.
expect 1 "there is no bridge nosuch" --net virtio,bridge=br0 --net virtio,bridge=nosuch
ip link show nosuch >/dev/null 2>&1 && { echo "FAIL: tap=nosuch created a link"; fail=1; }
ip link show keep0 >/dev/null 2>&1 || { echo "FAIL: an existing tap went away"; fail=1; }

# A VM that runs: its taps are ports of br0 while it lives (two interfaces,
# one with two queue pairs), and go with passvm, on SIGTERM and on SIGKILL.
# Under ASan, LeakSanitizer's exit-time check makes calls (gettid, clone)
# that the main thread's seccomp list rightly refuses: no leak check here
# (unit/test_vmm_virtio_net checks the device's teardown for leaks).
for sig in TERM KILL; do
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$passvm" run --kernel "$tmp/kernel" --memory 64M --console "$tmp/console" \
		--net virtio,bridge=br0 --net virtio,bridge=br0,queues=2 2>"$tmp/err" </dev/null &
	pid=$!
	for _ in $(seq 100); do [ "$(ip -o link show master br0 | grep -c passvm)" = 2 ] && break; sleep 0.1; done
	ports=$(ip -o link show master br0 | grep -c 'passvm.*state UP\|passvm.*,UP')
	[ "$ports" = 2 ] || { echo "FAIL: SIG$sig run: $ports passvm tap(s) up on br0, want 2"; ip -o link; cat "$tmp/err"; fail=1; }
	kill -"$sig" "$pid"
	wait "$pid" 2>/dev/null
	st=$?
	# SIGTERM: an orderly stop, teardown included (under the seccomp
	# filters: the main thread resets the devices and their taps).
	if [ "$sig" = TERM ] && { [ "$st" != 1 ] || [ "$(wc -l <"$tmp/err")" != 1 ] ||
		! grep -q 'guest stopped (interrupted)' "$tmp/err"; }; then
		echo "FAIL: SIGTERM: passvm exited $st (want 1 and one line):"; cat "$tmp/err"; fail=1
	fi
	for _ in $(seq 50); do [ "$(taps)" = 0 ] && break; sleep 0.1; done
	[ "$(taps)" = 0 ] || { echo "FAIL: a tap outlived passvm (SIG$sig)"; ip -o link; fail=1; }
done
[ $fail = 0 ] && echo "ok: --net errors are one line, no tap outlives passvm"
exit $fail
