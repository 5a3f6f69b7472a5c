# Lost events: a tiny trace buffer and bursts far faster than the reader.
# The tracer must count the loss and never pair across it: every
# transaction it reports must be a real one (checked against the traced
# program's own record of each call), for FIFO pairing (uprobes, no ids)
# and for pairing by id (libdmakit's USDT probes).  The tracefs backend's
# loss (events lost before pairing); the BPF backend's (transactions lost
# after pairing in the kernel) is trace_backends.sh's.
# timeout: 180
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
build_progs || { t_check "test programs build" false; t_done; }
P=$TMPDIR/progs
lib=$P/libseed.so

check_truth() {	# MODE GT EVENTS
	python3 - "$@" <<'PY'
import bisect, json, sys
mode, gtf, evf = sys.argv[1:4]
calls = []
for l in open(gtf):
    f = list(map(int, l.split()))
    calls.append((f[-2], f[-1], f[0] if len(f) == 3 else None))
calls.sort()
starts = [c[0] for c in calls]
bad = n = 0
for l in open(evf):
    e = json.loads(l)
    n += 1
    # the call the start event belongs to: the last one begun before it
    i = bisect.bisect_right(starts, e["start_ns"]) - 1
    ok = i >= 0 and calls[i][0] <= e["start_ns"] < e["end_ns"] <= calls[i][1]
    if ok and mode == "id":
        ok = calls[i][2] == e["id"]
    if not ok:
        bad += 1
        if bad < 5:
            print("wrong pair:", e)
print("%s: %d transactions reported, %d calls, %d wrong" % (mode, n, len(calls), bad))
sys.exit(1 if bad or n == 0 else 0)
PY
}

# FIFO: slow phases (no loss) around bursts that overflow 8 KiB per CPU;
# live lines every 0.2 s must show the loss while the run goes on
start_tracer --backend tracefs \
	--start "uprobe:$lib:dma_from_host" --end "uretprobe:$lib:dma_wait" \
	--buffer-kb 8 --timeout 100ms --interval 0.2 --events "$TMPDIR/ev.jsonl" \
	--summary-json "$TMPDIR/sum.json" --timeline "$TMPDIR/tl.json" \
	--plot "$TMPDIR/plot.svg" ||
	{ t_check "tracer starts" false; t_done; }
"$P/seedapp" "$TMPDIR/gt.txt" 200x2000 40000x0 pause:500 200x2000 40000x0 \
	pause:500 200x2000
t_eq "burst program ran" "$?" 0
# interval lines: TIME ... LOST (the last column).  The run ends with a
# 200x2000 phase of at least 0.4 s: wait (bounded) until a line showing
# the loss and a line after it are out, however late the tracer's lines
live_line() {
	awk '/^ *[0-9]+\.[0-9] / { n++; if ($NF > 0) { print n; exit } }' "$TMPDIR/tracer.out"
}
interval_lines() { grep -cE '^ *[0-9]+\.[0-9] ' "$TMPDIR/tracer.out"; }
live_before_end() {
	local l
	l=$(live_line)
	[ -n "$l" ] && [ "$l" -lt "$(interval_lines)" ]
}
wait_for 60 live_before_end
stop_tracer
t_eq "tracer exit status" "$TRACER_RC" 0
cat "$TMPDIR/tracer.out"
lost=$(json_get "$TMPDIR/sum.json" lost_events)
t_check "events were lost ($lost)" test "$lost" -gt 0
t_check "gaps were seen in the stream" \
	test "$(json_get "$TMPDIR/sum.json" loss_holes)" -gt 0
t_check "events around the gaps set aside" \
	test "$(json_get "$TMPDIR/sum.json" discarded_starts)" -gt 0
t_grep "the loss is reported" "^LOST [0-9]+ events" "$TMPDIR/tracer.out"
live=$(live_line)
nlines=$(interval_lines)
t_check "an interval line showed the loss before the end (line ${live:-none} of $nlines)" \
	test -n "$live" -a "${live:-0}" -lt "$nlines"
t_check "the last interval line's count is the kernel's total" \
	test "$(grep -E '^ *[0-9]+\.[0-9] ' "$TMPDIR/tracer.out" | tail -n1 | awk '{print $NF}')" \
	-le "$lost"
python3 - "$TMPDIR/tl.json" "$TMPDIR/sum.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["traceEvents"]
s = json.load(open(sys.argv[2]))
gaps = [e for e in t if e.get("name", "").startswith("lost events (cpu")]
print("%d loss slices; run %d..%d ns" % (len(gaps), s["start_ns"], s["stop_ns"]))
bad = [e for e in gaps
       if not (s["start_ns"] - 1e6 <= e["args"]["from_ns"] <= e["args"]["until_ns"] <= s["stop_ns"])
       or abs(e["ts"] * 1000 - e["args"]["from_ns"]) > 1
       or (e["args"]["count"] is not None and e["args"]["count"] <= 0)]
for e in bad[:5]:
    print("misplaced:", e)
sys.exit(1 if bad or len(gaps) != s["loss_holes"] else 0)
PY
t_eq "timeline: one loss slice per gap, inside the run, at the gap's time" "$?" 0
t_eq "plot: every gap shaded" "$(grep -o 'class="lost"' "$TMPDIR/plot.svg" | wc -l)" \
	"$(json_get "$TMPDIR/sum.json" loss_holes)"
check_truth fifo "$TMPDIR/gt.txt" "$TMPDIR/ev.jsonl"
t_eq "fifo: no wrong pairs, and pairing resumed" "$?" 0
t_check "fifo: the slow phases were paired" \
	test "$(json_get "$TMPDIR/sum.json" transactions)" -ge 300

# ID: libdmakit transactions with no engine latency, as fast as possible
so=$(readlink -f "$TOP/build/lib/libdmakit.so")
start_tracer --backend tracefs \
	--start "usdt:$so:dmakit:dma_start" --end "usdt:$so:dmakit:dma_done" \
	--buffer-kb 8 --interval 0 --events "$TMPDIR/ev2.jsonl" \
	--summary-json "$TMPDIR/sum2.json" || { t_check "tracer starts" false; t_done; }
"$P/usdt_xfer" sim:xfer_lat=0,xfer_rate=max 40000 "$TMPDIR/gt2.txt"
t_eq "transactions ran" "$?" 0
stop_tracer
t_eq "tracer exit status" "$TRACER_RC" 0
t_eq "pairing by id" "$(json_get "$TMPDIR/sum2.json" pairing)" id
t_check "events were lost" test "$(json_get "$TMPDIR/sum2.json" lost_events)" -gt 0
check_truth id "$TMPDIR/gt2.txt" "$TMPDIR/ev2.jsonl"
t_eq "id: no wrong pairs" "$?" 0
t_done
