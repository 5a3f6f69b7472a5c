#!/usr/bin/env bash
# The host suite on a busy machine: `make check` RUNS times in a row while
# stress-ng keeps HOGS CPU workers spinning beside it.  Proves that the
# suite's waits are conditions, not stopwatches (issue 18): a bound sized
# for a quiet machine fails here first.
#
#   tests/busy.sh [RUNS [HOGS]]        (defaults: 5 runs, one hog per CPU)
#
# Every run is scored; the closing line counts runs, and each run's own
# "N passed, N failed" line and wall time are printed.  Logs of a failed
# run are kept in build-san/busy-logs/RUN/.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
hogs=${2:-$(nproc)}
case $runs$hogs in *[!0-9]*|'') echo "usage: tests/busy.sh [RUNS [HOGS]]" >&2; exit 2 ;; esac
command -v stress-ng >/dev/null || {
	echo "busy.sh: stress-ng is missing (scripts/setup.sh installs it)" >&2
	exit 1
}
cd "$TOP" || exit 1
make -s all san static >/dev/null || { echo "busy.sh: build failed" >&2; exit 1; }

stress-ng --cpu "$hogs" --timeout 0 --quiet &
hog=$!
trap 'kill $hog 2>/dev/null; wait $hog 2>/dev/null' EXIT
# The hogs must really run before the first test starts.
for _ in $(seq 100); do
	[ "$(pgrep -c -P $hog)" -ge "$hogs" ] && break
	sleep 0.1
done
echo "busy.sh: $runs x make check beside stress-ng --cpu $hogs ($(nproc) CPUs)"

ok=0 bad=0
for i in $(seq "$runs"); do
	t0=$(date +%s)
	out=$(tests/run.sh 2>&1)
	rc=$?
	t1=$(date +%s)
	line=$(printf '%s\n' "$out" | tail -n1)
	if [ $rc -eq 0 ]; then
		ok=$((ok + 1)); verdict=PASS
	else
		bad=$((bad + 1)); verdict=FAIL
		mkdir -p "build-san/busy-logs/$i"
		cp -r build-san/test-logs/. "build-san/busy-logs/$i/"
		printf '%s\n' "$out" | grep -E '^(FAIL|    \|)' | head -n 60
	fi
	printf '%s run %d: %s (%d s)\n' "$verdict" "$i" "$line" $((t1 - t0))
done
echo "$ok passed, $bad failed"
[ $bad -eq 0 ]
