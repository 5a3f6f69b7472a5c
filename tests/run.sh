#!/usr/bin/env bash
# Host test suite: every unit test program (tests/unit/*.c, built with
# ASan+UBSan into build-san/tests/) and every integration script
# (tests/host/*.sh).  Exit status per test: 0 pass, 77 skip, other fail.
# A skip is reported with its reason and is never counted as a pass; with
# DMAKIT_STRICT=1 (CI) a skip fails the run.
#
#   tests/run.sh [NAME-PATTERN]
#
# Integration scripts get DMAKIT (the sanitizer-built CLI), DMAKIT_FAST
# (the optimised CLI), TOP (the source tree) and a private TMPDIR.  The
# tracing scripts (trace_*.sh) run twice: with dmakit trace's default
# backend, and as NAME@tracefs with DMAKIT_TRACE_BACKEND=tracefs.
# A script may set its timeout in a "# timeout: SECONDS" line (default 300).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
pattern=${1:-}
export TOP
export DMAKIT="$TOP/build-san/bin/dmakit"
export DMAKIT_FAST="$TOP/build/bin/dmakit"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
# The in-tree Python package (python/dmakit, numpy) reads recordings in the
# tests: the one reader besides libdmakit.  PYTHON3 is an interpreter that
# has numpy (scripts/setup.sh installs python3-numpy for /usr/bin/python3).
export PYTHONPATH="$TOP/python${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${PYTHON3:-}" ]; then
	PYTHON3=python3
	python3 -c 'import numpy' 2>/dev/null || ! [ -x /usr/bin/python3 ] ||
		PYTHON3=/usr/bin/python3
fi
export PYTHON3
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
logdir="$TOP/build-san/test-logs"
mkdir -p "$logdir"

passed=0 failed=0 skipped=0
failed_names=()

run_one() {
	local name=$1; shift
	local tmo=$1; shift
	local log="$logdir/$name.log"
	local t0 t1 rc tmp
	[ -n "$pattern" ] && [[ "$name" != *$pattern* ]] && return
	mkdir -p "$(dirname "$log")"
	tmp=$(mktemp -d /tmp/dmakit-test.XXXXXX)
	t0=$(date +%s.%N)
	TMPDIR="$tmp" timeout --kill-after=10 "$tmo" "$@" >"$log" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
	local secs
	secs=$(printf '%.1f' "$(echo "$t1 - $t0" | bc)")
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-40s %6ss\n' "$name" "$secs"
	elif [ $rc -eq 77 ]; then
		local why
		why=$(grep -m1 '^SKIP' "$log" || tail -n1 "$log")
		if [ "${DMAKIT_STRICT:-0}" = 1 ]; then
			failed=$((failed + 1)); failed_names+=("$name")
			printf 'FAIL  %-40s (skipped in strict mode: %s)\n' "$name" "$why"
		else
			skipped=$((skipped + 1))
			printf 'SKIP  %-40s %s\n' "$name" "$why"
		fi
	else
		failed=$((failed + 1)); failed_names+=("$name")
		[ $rc -eq 124 ] && echo "(timed out after ${tmo}s)" >>"$log"
		printf 'FAIL  %-40s %6ss (exit %d)\n' "$name" "$secs" "$rc"
		tail -n 40 "$log" | sed 's/^/    | /'
	fi
}

for bin in "$TOP"/build-san/tests/*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	run_one "unit/$(basename "$bin")" 300 "$bin"
done
for script in "$TOP"/tests/host/*.sh; do
	[ -f "$script" ] || continue
	tmo=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$script" | head -n1)
	run_one "host/$(basename "$script" .sh)" "${tmo:-300}" bash "$script"
done
# The tracing scripts again on the tracefs backend: the first pass used
# each tracer's default (auto: BPF where it can trace the SPECs), so both
# backends run the same cases (trace_backends.sh compares them directly).
for script in "$TOP"/tests/host/trace_*.sh; do
	case $script in */trace_backends.sh) continue ;; esac
	tmo=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$script" | head -n1)
	run_one "host/$(basename "$script" .sh)@tracefs" "${tmo:-300}" \
		env DMAKIT_TRACE_BACKEND=tracefs bash "$script"
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
	echo "logs: $logdir"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
