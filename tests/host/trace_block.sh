# The virtio disk's requests, three ways at once under one O_DIRECT load:
#  A  dmakit trace --pci BDF --start block_rq_issue --end irq: batch
#     pairing; it must point to the block completion tracepoint, and flag
#     every transaction whose interrupt also ended other requests (events
#     JSON, summary, text, timeline);
#  B  the command A points to (block_rq_issue -> block_rq_complete paired
#     by sector within the disk);
#  C  bpftrace doing the same pairing independently.
# B's minimum and median latency must be within 10 % of C's.
# timeout: 300
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
command -v fio >/dev/null || t_skip "fio is not installed (scripts/setup.sh)"
command -v bpftrace >/dev/null || t_skip "bpftrace is not installed (scripts/setup.sh)"
bdf=$(root_disk_bdf) || t_skip "root filesystem is not on a PCI block device"
disk=$(root_disk)
devt=$(block_devt "$disk")
dir=$TMPDIR
[ "$(findmnt -n -o SOURCE --target "$dir")" = "$(findmnt -n -o SOURCE /)" ] ||
	dir=/var/tmp
echo "disk $disk ($bdf), dev_t $devt, load in $dir"

# wait_line FILE PATTERN PID: up to 60 s for a line, while PID lives
wait_line() {
	local i
	for i in $(seq 1 1200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.05
	done
	echo "no '$2' in $1:"; cat "$1"
	return 1
}

"$DMAKIT" trace --pci "$bdf" --start "tp:block:block_rq_issue:dev == $devt" \
	--end irq --interval 0 --events "$TMPDIR/a.jsonl" \
	--summary-json "$TMPDIR/a.json" --timeline "$TMPDIR/a.tl.json" \
	>"$TMPDIR/a.out" 2>"$TMPDIR/a.err" &
A=$!
wait_line "$TMPDIR/a.err" 'tracing\.\.\.' $A || { t_check "tracer A starts" false; t_done; }
hint=$(grep -A1 "is the disk $disk" "$TMPDIR/a.err" | tail -n1 | sed 's/^ *dmakit trace //')
t_check "A points to the block completion tracepoint ($hint)" \
	grep -q "tp:block:block_rq_complete:dev == $devt.*--pair-by sector --channel dev" <<<"$hint"
# B: exactly the command the hint gives
eval "set -- $hint"
"$DMAKIT" trace "$@" --interval 0 --events "$TMPDIR/b.jsonl" \
	--summary-json "$TMPDIR/b.json" >"$TMPDIR/b.out" 2>"$TMPDIR/b.err" &
B=$!
wait_line "$TMPDIR/b.err" 'tracing\.\.\.' $B || { t_check "tracer B starts" false; t_done; }
# latencies kept in a map keyed by issue time, printed at exit: a
# per-event printf could lose events to a full perf buffer
BPFTRACE_MAP_KEYS_MAX=262144 bpftrace -e "
BEGIN { printf(\"probes attached\\n\"); }
tracepoint:block:block_rq_issue /args->dev == $devt/ { @s[args->sector] = nsecs; }
tracepoint:block:block_rq_complete /args->dev == $devt && @s[args->sector]/ {
	@lat[@s[args->sector]] = nsecs - @s[args->sector]; delete(@s[args->sector]); }
END { clear(@s); }" >"$TMPDIR/c.out" 2>"$TMPDIR/c.err" &
C=$!
wait_line "$TMPDIR/c.out" 'probes attached' $C || { t_check "bpftrace starts" false; t_done; }

fio --name=w --filename="$dir/dmakit-trace-block.$$" --rw=write --bs=128k \
	--size=48M --loops=2 --direct=1 --ioengine=psync --end_fsync=1 \
	--output="$TMPDIR/fio.out"
t_eq "fio load ran" "$?" 0
rm -f "$dir/dmakit-trace-block.$$"
kill -INT $A $B
wait $A; t_eq "A exits 0" "$?" 0
wait $B; t_eq "B exits 0" "$?" 0
stop_bpftrace $C; t_eq "bpftrace exits 0" "$?" 0
sed "s/^/bpftrace: /" "$TMPDIR/c.err"	# e.g. events it lost
cat "$TMPDIR/a.out" "$TMPDIR/b.out"
t_grep "A's summary says how many were batched" "^BATCHED: [0-9]+ of [0-9]+ transactions" "$TMPDIR/a.out"

python3 - "$TMPDIR" <<'PY'
import json, sys
d = sys.argv[1]
ok = True
def check(what, cond):
    global ok
    print(("ok - " if cond else "not ok - ") + what)
    ok &= bool(cond)

# A: every transaction flagged where its end closed others too
a = json.load(open(d + "/a.json"))
ev = [json.loads(l) for l in open(d + "/a.jsonl")]
flagged = [e for e in ev if e["batched"]]
check("A: batched flag == (batch > 1) on every line",
      all(e["batched"] == (e["batch"] > 1) for e in ev))
check("A: summary counts the flagged ones (%d)" % len(flagged),
      a["coalesced"]["transactions"] == len(flagged))
tl = json.load(open(d + "/a.tl.json"))["traceEvents"]
named = [e for e in tl if e["ph"] == "b" and ", batch of " in e["name"]]
check("A: timeline names the batched slices (%d)" % len(named), len(named) == len(flagged))
irqs = [e for e in tl if e["ph"] == "i" and e["name"].startswith("irq ")]
traced = sum(v["interrupts"] + v["ambiguous"] for v in a["vectors"])
check("A: timeline draws the interrupts (%d; %d traced in the window)" % (len(irqs), traced),
      len(irqs) >= traced > 0)
check("A: interrupt tracks are named",
      any(e["ph"] == "M" and e["args"]["name"].startswith("irq ") for e in tl))

# B against C: the same pairing, measured independently, over the
# requests both could see (C attached after B, both stopped together)
import re
bev = [json.loads(l) for l in open(d + "/b.jsonl")]
cev = [(int(m.group(1)), int(m.group(2)))
       for m in re.finditer(r"^@lat\[(\d+)\]: (\d+)$", open(d + "/c.out").read(), re.M)]
lo = min(t for t, _ in cev) if cev else 0
hi = min(max(e["end_ns"] for e in bev), max(t + l for t, l in cev)) if bev and cev else 0
b = sorted(e["latency_ns"] for e in bev if lo <= e["start_ns"] and e["end_ns"] <= hi)
c = sorted(l for t, l in cev if lo <= t and t + l <= hi)
print("B: %d requests, min %d ns, p50 %d ns" % (len(b), b[0] if b else -1, b[len(b) // 2] if b else -1))
print("C: %d requests, min %d ns, p50 %d ns" % (len(c), c[0] if c else -1, c[len(c) // 2] if c else -1))
check("B paired the load's requests (>= 768)", len(b) >= 768)
check("C saw the load's requests (>= 768)", len(c) >= 768)
if b and c:
    check("min within 10 %", abs(b[0] - c[0]) <= 0.1 * c[0])
    check("p50 within 10 %", abs(b[len(b) // 2] - c[len(c) // 2]) <= 0.1 * c[len(c) // 2])
sys.exit(0 if ok else 1)
PY
t_eq "batched ends flagged everywhere; block pairing agrees with bpftrace" "$?" 0
t_done
