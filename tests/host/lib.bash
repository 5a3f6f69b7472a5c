# Shared helpers for tests/host/*.sh integration scripts (sourced).
# Usage:
#   . "$TOP/tests/host/lib.bash"
#   t_check "record exits 0" test "$rc" -eq 0
#   t_done

T_PASSED=0
T_FAILED=0
: "${DMAKIT:=$TOP/build-san/bin/dmakit}"
: "${TMPDIR:=/tmp}"

# t_check DESCRIPTION COMMAND...: passes if COMMAND succeeds.
t_check() {
	local what=$1; shift
	if "$@"; then
		T_PASSED=$((T_PASSED + 1)); echo "ok - $what"
	else
		T_FAILED=$((T_FAILED + 1)); echo "not ok - $what"
	fi
}

# t_eq DESCRIPTION GOT EXPECTED
t_eq() {
	if [ "$2" = "$3" ]; then
		T_PASSED=$((T_PASSED + 1)); echo "ok - $1"
	else
		T_FAILED=$((T_FAILED + 1)); echo "not ok - $1: got '$2', expected '$3'"
	fi
}

# t_grep DESCRIPTION PATTERN FILE: passes if FILE contains PATTERN (ERE).
t_grep() {
	if grep -Eq -- "$2" "$3"; then
		T_PASSED=$((T_PASSED + 1)); echo "ok - $1"
	else
		T_FAILED=$((T_FAILED + 1)); echo "not ok - $1: /$2/ not in $3:"
		sed 's/^/    /' "$3" | tail -n 20
	fi
}

# json_get FILE KEY: a top-level scalar from a JSON object file.
json_get() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(str(v).lower() if isinstance(v,bool) else v)' "$1" "$2"
}

# wait_signal_delivered PID: wait (up to 60 s) until no SIGINT is pending
# for PID (a second one sent before that merges with the first).
wait_signal_delivered() {
	local i pend
	for ((i = 0; i < 600; i++)); do
		pend=$(awk '/^(ShdPnd|SigPnd):/ { print $2 }' "/proc/$1/status" 2>/dev/null | tr -d '\n')
		[ -z "$pend" ] && return 0		# gone: delivered
		# SIGINT is signal 2: bit 1 of the last hex digit of each mask
		[ $((0x${pend:15:1} & 2)) -eq 0 ] && [ $((0x${pend:31:1} & 2)) -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# stop_bpftrace PID: SIGINT (it prints its maps and exits), again every
# 0.5 s while it runs: bpftrace 0.17 can take the signal outside its
# epoll_wait() and then wait there for good (seen on a loaded machine);
# each signal interrupts that wait.  Up to 60 s, then SIGKILL (and its
# maps are missing from the output, which the caller's checks see).
stop_bpftrace() {
	local i
	for ((i = 0; i < 120; i++)); do
		kill -INT "$1" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
}

t_skip() { echo "SKIP: $*"; exit 77; }

need_root() { [ "$(id -u)" = 0 ] || t_skip "needs root"; }

t_done() {
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}
