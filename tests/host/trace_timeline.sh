# The timeline a user opens in Perfetto: with per-thread channels each
# track is named after its thread ("thread seedapp (TID)"), transactions
# sit on their own thread's track, and without sizes there is no
# throughput counter (a zero there would be made up), only the rate.
# timeout: 120
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
build_progs || { t_check "test programs build" false; t_done; }
P=$TMPDIR/progs
lib=$P/libseed.so

start_tracer --start "uprobe:$lib:dma_from_host" --end "uretprobe:$lib:dma_wait" \
	--channel tid --interval 0 --timeline "$TMPDIR/tl.json" \
	--events "$TMPDIR/ev.jsonl" --summary-json "$TMPDIR/sum.json" ||
	{ t_check "tracer starts" false; t_done; }
"$P/seedapp" "$TMPDIR/gt1.txt" 50x1000:200:300 & a=$!
"$P/seedapp" "$TMPDIR/gt2.txt" 50x1000:200:300 & b=$!
wait $a; t_eq "first program ran" "$?" 0
wait $b; t_eq "second program ran" "$?" 0
stop_tracer
t_eq "tracer exit status" "$TRACER_RC" 0
cat "$TMPDIR/tracer.out"

python3 - "$TMPDIR/tl.json" "$TMPDIR/ev.jsonl" "$a" "$b" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["traceEvents"]
ev = [json.loads(l) for l in open(sys.argv[2])]
pids = {int(sys.argv[3]), int(sys.argv[4])}
ok = True
def check(what, cond):
    global ok
    print(("ok - " if cond else "not ok - ") + what)
    ok &= bool(cond)
begins = [e for e in t if e["ph"] == "b"]
check("one slice per transaction (%d)" % len(ev), len(begins) == len(ev) >= 100)
names = {e["name"] for e in begins}
check("tracks named after the two threads: %s" % sorted(names),
      names == {"thread seedapp (%d)" % p for p in pids})
check("each slice on its own thread's track",
      all(e["name"] == "thread seedapp (%d)" % e["tid"] for e in begins))
counters = {e["name"] for e in t if e["ph"] == "C"}
check("a rate counter, no throughput counter without sizes: %s" % sorted(counters),
      counters == {"transactions/s"})
sys.exit(0 if ok else 1)
PY
t_eq "timeline tracks and counters" "$?" 0
t_done
