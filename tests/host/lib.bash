# Shared helpers for tests/host/*.sh integration scripts (sourced).
# Usage:
#   . "$TOP/tests/host/lib.bash"
#   t_check "record exits 0" test "$rc" -eq 0
#   t_done

T_PASSED=0
T_FAILED=0
: "${DMAKIT:=$TOP/build-san/bin/dmakit}"
: "${TMPDIR:=/tmp}"
: "${PYTHON3:=python3}"

# dmakit_py ARGS...: the in-tree Python package (python3 -m dmakit), e.g.
# "dmakit_py check DATA [SIDECAR]": index and metadata strictly consistent.
dmakit_py() {
	PYTHONPATH="$TOP/python${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON3" -m dmakit "$@"
}

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

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds, at most SECONDS
# (a bound for a condition, sized for a busy machine: never a stopwatch).
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

# is_stopped PID: every thread of PID is stopped (SIGSTOP took effect).
is_stopped() {
	local st t
	for t in /proc/"$1"/task/*/stat; do
		st=$(sed 's/.*) //' "$t" 2>/dev/null | cut -d' ' -f1)
		[ "$st" = T ] || return 1
	done
	[ -n "${st:-}" ]
}

# hold_system_install_lock: the tests that install dmakit into this root
# (deb.sh: the packages, driver_dkms.sh: the DKMS tree) take turns when
# several suites share a machine, instead of finding the other's install
# and skipping, or colliding in dpkg/dkms.  Held until the test exits; the
# bound covers another suite's package build on a loaded machine.
hold_system_install_lock() {
	exec {T_SYSTEM_LOCK_FD}>/run/lock/dmakit-test-system-install.lock &&
		flock -w 1500 "$T_SYSTEM_LOCK_FD"
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

# fifo_writer DIR: a new FIFO DIR/fifo given 1000000 bytes (15 x 64 KiB +
# 16960) by a writer that creates DIR/drained once the reader has taken them
# all and then stays open (so the reader sees no end of stream); its pid in
# wpid.
fifo_writer() {
	rm -f "$1/fifo" "$1/drained"; mkfifo "$1/fifo"
	/usr/bin/python3 -c 'import fcntl, os, struct, sys, termios, time
f = open(sys.argv[1], "wb", buffering=0); f.write(b"y" * 1000000)
while struct.unpack("i", fcntl.ioctl(f, termios.FIONREAD, b"\0" * 4))[0]:
    time.sleep(0.05)
open(sys.argv[2], "w").close(); time.sleep(300)' "$1/fifo" "$1/drained" &
	wpid=$!
}

t_done() {
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}
