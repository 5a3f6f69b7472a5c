# USDT: libdmakit's own probes dmakit:dma_start / dmakit:dma_done in the
# shared library, around transactions on the simulated card (engine
# latency 2 ms), paired by the transaction id the probes carry; and
# probes guarded by semaphores, which the kernel raises for the tracer.
# timeout: 120
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
build_progs || { t_check "test programs build" false; t_done; }
P=$TMPDIR/progs
so=$(readlink -f "$TOP/build/lib/libdmakit.so")

start_tracer --start "usdt:$so:dmakit:dma_start" --end "usdt:$so:dmakit:dma_done" \
	--interval 0 --events "$TMPDIR/ev.jsonl" --summary-json "$TMPDIR/sum.json" ||
	{ t_check "tracer starts" false; t_done; }
"$P/usdt_xfer" sim:xfer_lat=2000 50 "$TMPDIR/gt.txt"
t_eq "transactions ran" "$?" 0
stop_tracer
t_eq "tracer exit status" "$TRACER_RC" 0
cat "$TMPDIR/tracer.out" "$TMPDIR/tracer.err"
t_eq "pairing by id" "$(json_get "$TMPDIR/sum.json" pairing)" id
t_eq "50 transactions" "$(json_get "$TMPDIR/sum.json" transactions)" 50
t_eq "no orphans" "$(json_get "$TMPDIR/sum.json" orphans)" 0
python3 - "$TMPDIR/gt.txt" "$TMPDIR/ev.jsonl" <<'PY'
import json, sys
gt = {}
for l in open(sys.argv[1]):
    i, b, a = map(int, l.split())
    gt[i] = (b, a)
bad = 0
ev = [json.loads(l) for l in open(sys.argv[2])]
for e in ev:
    b, a = gt.get(e.get("id"), (None, None))
    if b is None:
        print("unknown id", e); bad += 1; continue
    if not (b <= e["start_ns"] < e["end_ns"] <= a):
        print("id %d outside its call" % e["id"]); bad += 1
    if not (1900000 <= e["latency_ns"] <= a - b):
        print("id %d latency %d" % (e["id"], e["latency_ns"])); bad += 1
    if e["bytes"] != 4096 or e.get("status") != 0:
        print("id %d bytes/status %r %r" % (e["id"], e["bytes"], e.get("status"))); bad += 1
print("%d transactions, %d problems" % (len(ev), bad))
sys.exit(1 if bad or len(ev) != len(gt) else 0)
PY
t_eq "ids, times, bytes and status match the program's" "$?" 0
t_check "probes and instance removed" no_leftovers "$TRACER"

# semaphores: without a tracer the guarded probes never fire
cc -O2 -o "$P/usdt_sem" "$TOP/tests/host/progs/usdt_sem.c" ||
	{ t_check "usdt_sem builds" false; t_done; }
t_eq "untraced: semaphore stays 0" "$("$P/usdt_sem" 20)" "fired 0"
if ! grep -q ref_ctr_offset "$TRACEFS/README"; then
	echo "kernel without uprobe ref_ctr_offset (Linux < 4.20): expecting a clear refusal"
	"$DMAKIT" trace --start "usdt:$P/usdt_sem:semtest:begin" \
		--end "usdt:$P/usdt_sem:semtest:finish" --duration 1 2>"$TMPDIR/err"
	t_eq "refused" "$?" 1
	t_grep "explains the semaphore" "semaphore" "$TMPDIR/err"
	t_done
fi
SEM_WAIT=1 "$P/usdt_sem" 20 >"$TMPDIR/sem.out" &
app=$!
# running before the tracer registers its probes (when the tracer's
# setup raced the program's exec on a loaded machine, the semaphore
# stayed 0: "fired 0" in 3 of ~10 runs here; not seen since this wait)
wait_for 60 grep -qs ready "$TMPDIR/sem.out"
t_grep "usdt_sem is ready" "^ready" "$TMPDIR/sem.out"
start_tracer --start "usdt:$P/usdt_sem:semtest:begin" \
	--end "usdt:$P/usdt_sem:semtest:finish" --interval 0 \
	--summary-json "$TMPDIR/sem.json" || { kill "$app"; t_check "tracer starts" false; t_done; }
kill -USR1 "$app"
wait "$app"
stop_tracer
t_eq "traced: every round saw the semaphore" "$(tail -1 "$TMPDIR/sem.out")" "fired 20"
t_eq "and was traced" "$(json_get "$TMPDIR/sem.json" transactions)" 20
t_check "probes and instance removed" no_leftovers "$TRACER"
t_done
