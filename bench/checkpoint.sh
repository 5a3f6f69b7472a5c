#!/usr/bin/env bash
# What checkpoints cost: `dmakit record` with --checkpoint 1 (the default)
# and --checkpoint 0 (durable only at the end) against the fastest plain
# writers of 512 KiB O_DIRECT blocks on the same file system, in one
# invocation (results: docs/benchmarks.md, docs/record.md).
#
#   bench/checkpoint.sh [--size 2G] [--dir DIR] [--rounds 3]
#                       [--depths "1 8 32"] [--record-depths 32] [--json FILE]
#
# Each round runs every configuration once, in turn (interleaved, so a
# change in the shared disk's speed hits all of them alike):
#   dd       dd if=/dev/zero of=F bs=512k count=N oflag=direct conv=fsync
#   fio-qdD  fio ioengine=io_uring direct=1 bs=512k iodepth=D end_fsync=1
#   fio-qdD-sync1s  the deepest fio again with an fdatasync after every
#            second's worth of its writes (N = its plain rate in this
#            round x 1 s / 512 KiB): the plain writer with the promise
#            checkpoints keep, so what the disk charges for a flush a
#            second shows apart from what dmakit adds
#   ckpt-1   dmakit record -d sim:policy=block,rate=max --checkpoint 1
#            (the recorder's default queue depth, 8)
#   ckpt-0   the same with --checkpoint 0
#   ckpt-1-qdD, ckpt-0-qdD  the same at --queue-depth D, for each D of
#            --record-depths (default 32: the depth fio is usually best at
#            on a shared virtual disk)
# Every figure is SIZE / wall-clock seconds of the whole command (start to
# exit, the final flush included), so writers that report their rate
# differently are compared alike.  Reported: the median per configuration,
# the fastest plain writer ("reference": dd or fio at its best depth), and
# each recording's ratio to it.  Target (issue 11): the best ckpt-1
# configuration >= 0.98x the reference.  Exit 1 if it is missed (the
# numbers are printed either way).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
TOP=$top
. "$top/bench/lib.sh"
dmakit=$top/build/bin/dmakit
size=2G
dir=/var/tmp/dmakit-bench
rounds=3
depths="1 8 32"
record_depths=32
json_out=

while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--depths) depths=$2; shift 2 ;;
	--record-depths) record_depths=$2; shift 2 ;;
	--json) json_out=$2; shift 2 ;;
	-h|--help) bench_help; exit 0 ;;
	*) echo "bench/checkpoint.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
bench_tools bench/checkpoint.sh fio dd python3
bytes=$(bench_bytes "$size")
[ $((bytes % 524288)) = 0 ] ||
	{ echo "bench/checkpoint.sh: --size must be a multiple of 512K" >&2; exit 2; }

mkdir -p "$dir"
json_out=${json_out:-$dir/checkpoint-bench.json}
free=$(df --output=avail -B1 "$dir" | tail -n1)
if [ "$free" -lt $((bytes * 2)) ]; then
	echo "bench/checkpoint.sh: $dir has $free bytes free, need twice --size" >&2
	exit 1
fi
rows=$dir/checkpoint-rows.jsonl
: >"$rows"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
f=$dir/ckpt-bench.dat

# remove the target and let a discarding file system settle first
clean() {
	rm -f "$f" "$f".*
	sync -f "$dir"
}

# row CONFIG ROUND CMD...: run CMD, record SIZE / wall seconds
row() {
	local config=$1 round=$2 t0 t1
	shift 2
	clean
	t0=$(date +%s.%N)
	"$@" >"$dir/ckpt-cmd.out" 2>&1 ||
		{ echo "bench/checkpoint.sh: $config failed:" >&2; cat "$dir/ckpt-cmd.out" >&2; exit 1; }
	t1=$(date +%s.%N)
	python3 -c 'import json,sys
b=int(sys.argv[3]); s=float(sys.argv[5])-float(sys.argv[4])
print(json.dumps({"config":sys.argv[1],"round":int(sys.argv[2]),
 "bytes":b,"wall_s":s,"bytes_per_s":b/s}))' \
		"$config" "$round" "$bytes" "$t0" "$t1" >>"$rows"
}

record_checked() {	# CHECKPOINT_SECONDS QUEUE_DEPTH
	"$dmakit" record -d sim:policy=block,rate=max -o "$f" --size "$bytes" \
		--checkpoint "$1" --queue-depth "$2" --json --quiet \
		>"$dir/ckpt-rec.json"
	python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
assert j["result"]=="complete" and j["dropped"]==0, j
print("checkpoints", j["checkpoints"])' "$dir/ckpt-rec.json"
}

for r in $(seq "$rounds"); do
	echo "round $r/$rounds ($size each)" >&2
	row dd "$r" dd if=/dev/zero of="$f" bs=512k count=$((bytes / 524288)) \
		oflag=direct conv=fsync
	for d in $depths; do
		row "fio-qd$d" "$r" fio --name=w --filename="$f" --rw=write \
			--bs=512k --iodepth="$d" --ioengine=io_uring --direct=1 \
			--size="$bytes" --end_fsync=1
	done
	# the same fio flushing once a second: writes per second from its row
	per_s=$(tail -n1 "$rows" | python3 -c 'import json,sys
print(max(1, round(json.load(sys.stdin)["bytes_per_s"] / 524288)))')
	row "fio-qd$d-sync1s" "$r" fio --name=w --filename="$f" --rw=write \
		--bs=512k --iodepth="$d" --ioengine=io_uring --direct=1 \
		--size="$bytes" --end_fsync=1 --fdatasync="$per_s"
	row ckpt-1 "$r" record_checked 1 8
	cp "$dir/ckpt-rec.json" "$dir/ckpt-rec-1.json"
	row ckpt-0 "$r" record_checked 0 8
	for d in $record_depths; do
		row "ckpt-1-qd$d" "$r" record_checked 1 "$d"
		row "ckpt-0-qd$d" "$r" record_checked 0 "$d"
	done
done
clean

python3 - "$rows" "$json_out" "$size" "$rounds" "$load_before" \
	"$(cut -d' ' -f1-3 /proc/loadavg)" "$dir/ckpt-rec-1.json" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
configs = []
for r in rows:
    if r["config"] not in configs:
        configs.append(r["config"])
med = {c: statistics.median(r["bytes_per_s"] for r in rows
                            if r["config"] == c) for c in configs}
plain = [c for c in configs if not c.startswith("ckpt-") and
         not c.endswith("-sync1s")]
ref = max(plain, key=lambda c: med[c])
synced = [c for c in configs if c.endswith("-sync1s")]
ck = json.load(open(sys.argv[7]))
out = {"size": sys.argv[3], "rounds": int(sys.argv[4]),
       "load_before": sys.argv[5], "load_after": sys.argv[6],
       "median_bytes_per_s": med, "reference": ref,
       "ratio": {c: med[c] / med[ref] for c in configs},
       "checkpoints_in_last_ckpt1_run": ck["checkpoints"],
       "rows": rows}
json.dump(out, open(sys.argv[2], "w"), indent=1)
print("%-10s %12s %8s" % ("config", "median MB/s", "ratio"))
for c in configs:
    print("%-10s %12.1f %8.3f%s" % (c, med[c] / 1e6, med[c] / med[ref],
                                    "  (reference)" if c == ref else ""))
print("size %s x %d rounds, load %s -> %s; json %s" %
      (sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[2]))
best = max((c for c in configs if c.startswith("ckpt-1")),
           key=lambda c: med[c])
ok = med[best] / med[ref] >= 0.98
print("target %s >= 0.98x %s: %s (%.3f)" %
      (best, ref, "met" if ok else "MISSED", med[best] / med[ref]))
for c in configs:
    if c.startswith("ckpt-1"):
        off = c.replace("ckpt-1", "ckpt-0")
        print("checkpoints every 1 s vs only at the end (%s/%s): %.3f" %
              (c, off, med[c] / med[off]))
for c in synced:
    plain_c = c[:-len("-sync1s")]
    print("the disk's price of a flush a second (%s/%s): %.3f" %
          (c, plain_c, med[c] / med[plain_c]))
    print("%s against the same promise from fio (%s/%s): %.3f" %
          (best, best, c, med[best] / med[c]))
sys.exit(0 if ok else 1)
PY
