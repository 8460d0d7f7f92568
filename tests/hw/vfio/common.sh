# Sourced by the inner hw scripts (they run inside the lab's emulated host).
passvm=$1 hwtool=$2
fail() { echo "FAIL: $*"; exit 1; }
step() { echo; echo "## $*"; }
# run EXPECTED_RC CMD...: shows the command and its output, checks its exit
run() {
	local want=$1; shift
	echo "\$ ${*/#$passvm/passvm}"
	out=$("$@" 2>&1); rc=$?
	[ -n "$out" ] && echo "$out"
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want"
}
# The host state binding changes: every PCI function's driver and override.
snap() {
	local d
	for d in /sys/bus/pci/devices/*; do
		printf '%s driver=%s override=%s\n' "${d##*/}" \
			"$(basename "$(readlink "$d/driver" 2>/dev/null)")" "$(cat "$d/driver_override")"
	done
}
same_as() { # SNAPSHOT WHAT
	local now; now=$(snap)
	[ "$now" = "$1" ] || { diff <(echo "$1") <(echo "$now"); fail "sysfs differs: $2"; }
	echo "sysfs (drivers and overrides of all functions) is as before: $2"
}
