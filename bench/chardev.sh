#!/usr/bin/env bash
# Recording from a character device, and from a producer program, against
# plain writers, on one file system, interleaved in one invocation
# (results: docs/benchmarks.md).
#
#   bench/chardev.sh [--size 8G] [--dir DIR] [--runs 5]
#
# (8 GiB, 5 runs: on a disk doing 2 GB/s a 2 GiB run lasts a second and
# its start and final flush decide the ratio)
#
# Each run, in turn, writes SIZE bytes to DIR with
#   dd      dd if=/dev/zero of=F bs=512k oflag=direct conv=fsync
#   fio     ioengine=io_uring direct=1 bs=512k iodepth=8 end_fsync=1
#   fio-sync1s  the same fio with an fdatasync after every second's worth
#           of its writes (its rate in this run): the plain writer that
#           keeps the promise the recorder's default checkpoints keep
#   chardev dmakit record -d chardev:/dev/zero,policy=block,short=fill
#           (reads into ring pages by io_uring, O_DIRECT writes from them)
#   app     dmakit record -d app:NAME, fed by build/examples/producer at
#           its full rate (policy block, 512 KiB buffers)
#   chardev-ckpt0, app-ckpt0  the same with --checkpoint 0: durable only at
#           the end, the promise dd and fio make
# Throughput is SIZE over each command's wall time (all end durable);
# CPU is user+sys seconds per GB of the writing process (GNU time); for
# chardev also without its reader thread (the "card": /dev/zero's memset),
# for app the producer is another process and not counted.  Reported: the
# medians and the ratio to the fastest plain writer (dd or fio; target
# >= 0.95x), and the like-for-like ratios: the recorders with checkpoints
# off against that writer, with their default checkpoint every second
# against fio-sync1s.  Exit 1 if a like-for-like ratio misses 0.95x.  (With
# a flush every second and dd flushing once, the plain ratio measures what
# the disk charges for a flush, not the recorder: see docs/record.md.)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
TOP=$top
. "$top/bench/lib.sh"
dmakit=$top/build/bin/dmakit
size=8G
dir=/var/tmp/dmakit-bench
runs=5
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	-h|--help) bench_help; exit 0 ;;
	*) echo "bench/chardev.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
producer=$top/build/examples/producer
bench_tools bench/chardev.sh fio dd python3 /usr/bin/time
[ -x "$producer" ] || { echo "bench/chardev.sh: build first (make)" >&2; exit 1; }
mib=$(($(bench_bytes "$size") / 1048576))
mkdir -p "$dir"
f=$dir/chardev-bench.$$
rows=$dir/chardev-rows.$$
: >"$rows"
trap 'rm -f "$f" "$f".idx "$f".json "$f".time "$f".out "$rows"' EXIT

# timed NAME CMD...: one row "NAME wall user sys producer_cpu"
timed() {
	local name=$1 t pcpu=0; shift
	rm -f "$f" "$f".idx "$f".json; sync -f "$dir"
	t=$(/usr/bin/time -f "%e %U %S" -o "$f.time" "$@" >"$f.out" 2>/dev/null &&
	    tail -n1 "$f.time")
	[ -n "$t" ] || { echo "bench/chardev.sh: $name failed" >&2; exit 1; }
	if [ "${name%-ckpt0}" = chardev ]; then
		pcpu=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["producer_cpu_s"])' "$f.out")
	fi
	echo "$name $t $pcpu" >>"$rows"
}

# record_app NAME ARGS...: the example producer feeding app:NAME, timed
record_app() {
	local name=$1; shift
	"$producer" -c 1 -b 512K -n 256 "bench$$" $((mib * 2)) >/dev/null &
	# until the producer owns its ring (its lock shows it is alive)
	for _ in $(seq 300); do
		[ -e /dev/shm/dmakit-app.bench$$ ] &&
			! flock -n -s /dev/shm/dmakit-app.bench$$ true 2>/dev/null && break
		sleep 0.1
	done
	timed "$name" "$dmakit" record -q -d "app:bench$$" -o "$f" --size "${mib}M" "$@"
	wait
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$runs"); do
	timed dd dd if=/dev/zero of="$f" bs=512k count=$((mib * 2)) oflag=direct conv=fsync
	timed fio fio --name=w --filename="$f" --rw=write --bs=512k --size="${mib}M" \
		--ioengine=io_uring --direct=1 --iodepth=8 --end_fsync=1
	# fio's writes per second in the run just made: flush after as many
	per_s=$(tail -n1 "$rows" | awk -v mib="$mib" '{ n = mib * 2 / $2; print n < 1 ? 1 : int(n + 0.5) }')
	timed fio-sync1s fio --name=w --filename="$f" --rw=write --bs=512k --size="${mib}M" \
		--ioengine=io_uring --direct=1 --iodepth=8 --end_fsync=1 --fdatasync="$per_s"
	timed chardev "$dmakit" record -q --json -d chardev:/dev/zero,policy=block,short=fill \
		-o "$f" --size "${mib}M"
	timed chardev-ckpt0 "$dmakit" record -q --json -d chardev:/dev/zero,policy=block,short=fill \
		-o "$f" --size "${mib}M" --checkpoint 0
	record_app app
	record_app app-ckpt0 --checkpoint 0
	echo "run $r/$runs done" >&2
done
python3 - "$rows" "$mib" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys
rows, mib = sys.argv[1], int(sys.argv[2])
gb = mib * 1048576 / 1e9
res = {}
for line in open(rows):
    name, wall, u, s, p = line.split()
    cpu = float(u) + float(s)
    res.setdefault(name, []).append((gb / float(wall), cpu / gb, (cpu - float(p)) / gb))
med = {n: [statistics.median(v[k] for v in r) for k in range(3)] for n, r in res.items()}
best = max(('dd', 'fio'), key=lambda n: med[n][0])
print('%d MiB per run, %d runs interleaved; load %s -> %s' %
      (mib, len(res['dd']), sys.argv[3], sys.argv[4]))
print('%-14s %8s %10s %22s %7s' % ('writer', 'GB/s', 'CPU s/GB', 'without the reads s/GB', 'ratio'))
for n in ('dd', 'fio', 'fio-sync1s', 'chardev', 'app', 'chardev-ckpt0', 'app-ckpt0'):
    print('%-14s %8.3f %10.3f %22s %6.2fx' % (n, med[n][0], med[n][1],
          '%.3f' % med[n][2] if n.startswith('chardev') else '', med[n][0] / med[best][0]))
missed = 0
def judge(n, ref, counts):
    global missed
    r = med[n][0] / med[ref][0]
    print('%s/%s = %.2fx (target >= 0.95x): %s%s' % (n, ref, r, 'met' if r >= 0.95 else 'MISSED',
          '' if counts else ' (it flushes every second, dd and fio once: see the like-for-like lines)'))
    missed += counts and r < 0.95
for n in ('chardev', 'app'):
    judge(n, best, False)
print('like for like (the same durability promise):')
for n in ('chardev-ckpt0', 'app-ckpt0'):
    judge(n, best, True)
for n in ('chardev', 'app'):
    judge(n, 'fio-sync1s', True)
sys.exit(1 if missed else 0)
PY
