#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The lab tool itself (tests/hw/lab): output, exit status, cwd and PASSVM_*
# variables pass through; bad use gives a one-line error and exit 2; a
# command that hangs is killed at the timeout (exit 124); a lab killed with
# SIGKILL takes its QEMU with it; an emulated host that stops responding is
# stopped (exit 125); never a QEMU left behind. Four emulated
# hosts boot at once here, which also shows concurrent runs do not collide.
set -uo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"
hw_in_lab && hw_die "run this on the machine that runs the lab, not inside it"
[ "$(id -u)" -eq 0 ] || hw_skip "the lab needs root"
command -v qemu-system-x86_64 >/dev/null || hw_skip "qemu-system-x86_64 not installed"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lab=$hw_lab
# Build the images first, so the runs below print nothing of their own.
"$lab" build >/dev/null 2>&1 || hw_die "tests/hw/lab build failed (run it by hand to see why)"

# Usage errors: exit 2, one line naming the problem, nothing booted.
usage_case() { # WHAT EXPECTED-TEXT ARGS...
	local what=$1 text=$2; shift 2
	local rc=0
	"$lab" "$@" >"$tmp/u.out" 2>"$tmp/u.err" || rc=$?
	hw_check_eq "$what: exit 2" "$rc" 2
	hw_check "$what: says '$text'" grep -q -- "$text" "$tmp/u.err"
	hw_check_eq "$what: error is one line (plus the usage hint)" "$(grep -vc '^usage:' "$tmp/u.err")" 1
}
usage_case "unknown topology" "unknown topology 'nosuch'" run nosuch -- true
usage_case "missing command" "missing COMMAND" run intel
usage_case "missing command after --" "missing COMMAND" run intel --
usage_case "unknown option" "unknown option '--bogus'" run intel --bogus -- true
usage_case "bad timeout" "--timeout wants" run intel --timeout soon -- true
usage_case "topology path" "unknown topology" run ../lab -- true
usage_case "unknown subcommand" "unknown subcommand" frobnicate

# Two first runs at once build the images once (flock), and both get them.
# A scratch cache shares the kernel by hard links, so nothing is fetched.
real_cache=${PASSVM_LAB_CACHE:-/var/cache/passvm-lab}
kver=$("$lab" paths | sed -n 's/^PASSVM_LAB_KVER=//p')
scratch=$(mktemp -d "$real_cache/.test-build.XXXXXX")
mkdir "$scratch/$kver"
cp -al "$real_cache/$kver/kernel" "$scratch/$kver/kernel"
cp "$real_cache/$kver/kernel.stamp" "$scratch/$kver/"
PASSVM_LAB_KVER=$kver PASSVM_LAB_CACHE=$scratch "$lab" build >"$tmp/b1" 2>&1 &
pb=$!
PASSVM_LAB_KVER=$kver PASSVM_LAB_CACHE=$scratch "$lab" build >"$tmp/b2" 2>&1
b2=$?
wait "$pb"; b1=$?
hw_check_eq "concurrent first builds both succeed" "$b1 $b2" "0 0"
hw_check_eq "the images were built once" "$(cat "$tmp/b1" "$tmp/b2" | grep -c 'building the lab')" 1
hw_check_eq "one pair of images" "$(ls "$scratch/$kver" | grep -c 'cpio.gz$')" 2
rm -rf "$scratch"

# No QEMU whose command line mentions DIR (each case gets its own TMPDIR,
# so the lab's private run directory, and thus its QEMU, is findable).
no_qemu_under() {
	local p c
	for p in /proc/[0-9]*; do
		c=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		[[ $c == *qemu-system*"$1"* ]] && return 1
	done
	return 0
}

# 1. pass-through (PASSVM_* variables, cwd, stdout/stderr apart, status).
mkdir -p "$tmp/t1" "$tmp/cwd dir"
( cd "$tmp/cwd dir" && TMPDIR=$tmp/t1 PASSVM_T_VALUE='a b $c "d"' \
	"$lab" run noiommu --timeout 300 -- sh -c \
	'echo out; pwd; echo "$PASSVM_T_VALUE"; echo "$PASSVM_LAB_TOPOLOGY"; echo err >&2; exit 7' \
	>"$tmp/1.out" 2>"$tmp/1.err"; echo $? >"$tmp/1.rc" ) &
p1=$!
# 2. a command that hangs: killed at the timeout.
mkdir -p "$tmp/t2"
( TMPDIR=$tmp/t2 "$lab" run noiommu --timeout 25 -- sleep 1000 >"$tmp/2.out" 2>"$tmp/2.err"
  echo $? >"$tmp/2.rc" ) &
p2=$!
# 4. an emulated host that stops responding (its heartbeat stopped, here by
# stopping the init's loop that writes it): stopped long before the
# timeout, in the line lab-retry recognises.
mkdir -p "$tmp/t4"
( TMPDIR=$tmp/t4 PASSVM_LAB_HEARTBEAT_LIMIT_S=10 "$lab" run noiommu --timeout 300 -- sh -c \
	'kill -STOP $(pgrep -P 1 -f /init); sleep 1000' >"$tmp/4.out" 2>"$tmp/4.err"
  echo $? >"$tmp/4.rc" ) &
p4=$!
# 3. the lab itself killed with SIGKILL: its QEMU must go too.
mkdir -p "$tmp/t3"
TMPDIR=$tmp/t3 "$lab" run noiommu -- sleep 1000 >/dev/null 2>&1 &
p3=$!
n=0
until ! no_qemu_under "$tmp/t3" || [ $n -ge 600 ]; do sleep 0.1; n=$((n + 1)); done
hw_check "SIGKILL case: QEMU started" eval '! no_qemu_under "$tmp/t3"'
kill -KILL "$p3"
wait "$p3" 2>/dev/null
n=0
until no_qemu_under "$tmp/t3" || [ $n -ge 50 ]; do sleep 0.1; n=$((n + 1)); done
hw_check "SIGKILL case: QEMU died with the lab" no_qemu_under "$tmp/t3"

wait "$p1" "$p2" "$p4"
hw_check_eq "exit status passes through" "$(cat "$tmp/1.rc")" 7
hw_check_eq "stdout passes through, with cwd and variables" "$(cat "$tmp/1.out")" \
	"$(printf 'out\n%s\na b $c "d"\nnoiommu' "$tmp/cwd dir")"
hw_check_eq "stderr passes through apart" "$(cat "$tmp/1.err")" err
hw_check_eq "hanging command: exit 124" "$(cat "$tmp/2.rc")" 124
hw_check "hanging command: one line naming topology and timeout" \
	grep -q "^lab: noiommu: timed out after 25 s" "$tmp/2.err"
hw_check_eq "hanging command: nothing else on stderr" "$(wc -l <"$tmp/2.err")" 1
hw_check_eq "silent emulated host: exit 125" "$(cat "$tmp/4.rc")" 125
hw_check "silent emulated host: said in the form lab-retry reruns on" \
	grep -q "^lab: the emulated host's kernel failed during the run: it stopped responding" "$tmp/4.err"
hw_check "silent emulated host: stopped, not timed out" \
	grep -q "^lab: noiommu: stopped the emulated host: it stopped responding" "$tmp/4.err"
hw_check "no QEMU left behind" no_qemu_under "$tmp"
hw_check "run directories removed" test -z "$(find "$tmp/t1" "$tmp/t2" "$tmp/t4" -mindepth 1)"
hw_done
