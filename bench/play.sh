#!/usr/bin/env bash
# Playing a recording back (dmakit play) against dd reading the same file,
# interleaved in one invocation (results: docs/benchmarks.md).
#
#   bench/play.sh [--size 2G] [--dir DIR] [--runs 3]
#
# One sim recording of SIZE (512 KiB buffers) in DIR, read once so every
# run reads it from the page cache; then each run, in turn:
#   dd-null    dd if=REC of=/dev/null bs=512k
#   play-null  dmakit play -d chardev:/dev/null REC
#   dd-fifo    dd if=REC of=FIFO bs=512k, the FIFO read by cat >/dev/null
#   play-fifo  dmakit play -d FIFO REC, the same reader
# dd copies the bytes; play also checks the whole index first and every
# buffer's CRC32C before writing it.  Throughput is the recording's payload
# over each writer's wall time; CPU is the writer's user+sys seconds per GB
# (GNU time).  Reported: medians and play's ratio to dd on the same target.
# No target (the issue asks for none): exit 0 unless a command fails.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
TOP=$top
. "$top/bench/lib.sh"
dmakit=$top/build/bin/dmakit
size=2G
dir=/var/tmp/dmakit-bench
runs=3
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	-h|--help) bench_help; exit 0 ;;
	*) echo "bench/play.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
bench_tools bench/play.sh dd python3 /usr/bin/time
mkdir -p "$dir"
rec=$dir/play-bench.$$
fifo=$dir/play-fifo.$$
rows=$dir/play-rows.$$
: >"$rows"
trap 'rm -f "$rec" "$rec".idx "$rec".json "$rec".time "$fifo" "$rows"' EXIT
"$dmakit" record -q -d sim:bufsize=512K,policy=block -o "$rec" --size "$size"
bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$rec.json")
cat "$rec" >/dev/null
mkfifo "$fifo"

# timed NAME CMD...: one row "NAME wall user sys"
timed() {
	local name=$1 t; shift
	t=$(/usr/bin/time -f "%e %U %S" -o "$rec.time" "$@" >/dev/null 2>&1 &&
	    tail -n1 "$rec.time")
	[ -n "$t" ] || { echo "bench/play.sh: $name failed" >&2; exit 1; }
	echo "$name $t" >>"$rows"
}

# timed_fifo NAME CMD...: the same with cat reading the FIFO
timed_fifo() {
	cat "$fifo" >/dev/null &
	local reader=$!
	timed "$@"
	wait "$reader"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$runs"); do
	timed dd-null dd if="$rec" of=/dev/null bs=512k
	timed play-null "$dmakit" play -q -d chardev:/dev/null "$rec"
	timed_fifo dd-fifo dd if="$rec" of="$fifo" bs=512k
	timed_fifo play-fifo "$dmakit" play -q -d "$fifo" "$rec"
	echo "run $r/$runs done" >&2
done
python3 - "$rows" "$bytes" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys
rows, nbytes = sys.argv[1], int(sys.argv[2])
gb = nbytes / 1e9
res = {}
for line in open(rows):
    name, wall, u, s = line.split()
    res.setdefault(name, []).append((gb / max(float(wall), 0.01),
                                     (float(u) + float(s)) / gb))
med = {n: [statistics.median(v[k] for v in r) for k in range(2)]
       for n, r in res.items()}
print('%.2f GB per run, %d runs interleaved; load %s -> %s' %
      (gb, len(res['dd-null']), sys.argv[3], sys.argv[4]))
print('%-10s %8s %10s %7s' % ('writer', 'GB/s', 'CPU s/GB', 'ratio'))
for n in ('dd-null', 'play-null', 'dd-fifo', 'play-fifo'):
    ref = 'dd-' + n.split('-')[1]
    print('%-10s %8.3f %10.3f %6.2fx' % (n, med[n][0], med[n][1],
                                         med[n][0] / med[ref][0]))
PY
