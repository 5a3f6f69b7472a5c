# The user's question, reproduced: a library whose dma_from_host starts a
# transfer (1 ms) and dma_wait polls until it is done (2 ms).  The entry
# of dma_from_host as start and the return of dma_wait as end (uprobe +
# uretprobe), only for one process (--pid) while another uses the same
# library: every transaction must lie inside one call of the traced
# program (ground truth written by the program), the count must match its
# calls, and the tracer ends by itself when the process exits.
# timeout: 120
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
build_progs || { t_check "test programs build" false; t_done; }
P=$TMPDIR/progs
lib=$P/libseed.so

wait_ready() { wait_for 60 grep -qs ready "$1"; }

SEEDAPP_WAIT=1 "$P/seedapp" "$TMPDIR/gt.txt" 100x0:1000:2000 >"$TMPDIR/app.out" &
app=$!
SEEDAPP_WAIT=1 "$P/seedapp" "$TMPDIR/noise.txt" 60x500:0:0 >"$TMPDIR/noise.out" &
noise=$!
wait_ready "$TMPDIR/app.out" && wait_ready "$TMPDIR/noise.out"
t_eq "programs ready" "$?" 0

start_tracer --start "uprobe:$lib:dma_from_host" --end "uretprobe:$lib:dma_wait" \
	--pid "$app" --interval 0 --events "$TMPDIR/ev.jsonl" \
	--summary-json "$TMPDIR/sum.json" ||
	{ kill "$app" "$noise"; t_check "tracer starts" false; t_done; }
t_grep "probes are in the session's group" "^p:dmakit_${TRACER}_[0-9a-f_]*/start $lib:0x" \
	"$TRACEFS/uprobe_events"
kill -USR1 "$app" "$noise"
wait "$app"
t_eq "traced program ran" "$?" 0
wait "$noise"
# the tracer notices the process is gone and ends on its own
tracer_gone() { ! kill -0 "$TRACER" 2>/dev/null; }
t_check "tracer ended when the process exited" wait_for 60 tracer_gone
kill -INT "$TRACER" 2>/dev/null
wait "$TRACER"
t_eq "tracer exit status" "$?" 0
cat "$TMPDIR/tracer.out" "$TMPDIR/tracer.err"

t_eq "transactions == calls" "$(json_get "$TMPDIR/sum.json" transactions)" 100
t_eq "only the traced process's starts" "$(json_get "$TMPDIR/sum.json" start_events)" 100
t_check "the other process's events were filtered" \
	test "$(json_get "$TMPDIR/sum.json" pid_filtered)" -ge 120
t_eq "no orphans" "$(json_get "$TMPDIR/sum.json" orphans)" 0
t_eq "no unmatched starts" "$(json_get "$TMPDIR/sum.json" unmatched_starts)" 0
t_eq "pairing is fifo" "$(json_get "$TMPDIR/sum.json" pairing)" fifo

python3 - "$TMPDIR/gt.txt" "$TMPDIR/ev.jsonl" <<'PY'
import json, sys
gt = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
ev = [json.loads(l) for l in open(sys.argv[2])]
bad = 0
for i, e in enumerate(ev):
    b, a = gt[i]
    # entry of dma_from_host after "before", return of dma_wait before "after"
    if not (b <= e["start_ns"] < e["end_ns"] <= a):
        print("transaction %d (%d..%d) outside call %d (%d..%d)" %
              (i, e["start_ns"], e["end_ns"], i, b, a)); bad += 1
    # 1 ms in dma_from_host + 2 ms in dma_wait, at least
    if not (3000000 <= e["latency_ns"] <= a - b):
        print("transaction %d latency %d not in [3 ms, %d]" % (i, e["latency_ns"], a - b)); bad += 1
print("%d transactions, %d calls, %d problems" % (len(ev), len(gt), bad))
sys.exit(1 if bad or len(ev) != len(gt) else 0)
PY
t_eq "every transaction is one call, latency >= 3 ms" "$?" 0
# this test's probes (on its own library; other sessions may run beside it)
t_eq "uprobes removed" "$(grep -c "$TMPDIR/progs/" "$TRACEFS/uprobe_events")" 0
t_check "instance removed" no_leftovers "$TRACER"
# A process that creates and ends threads one after another (a thread per
# transfer), beside another doing the same: every thread of the traced one
# counts, even one gone before the tracer read its events (thousands of
# them, each new), and none of the other's; then new long-lived threads
# are still traced.  The tracer keeps up (its thread cache stays bounded:
# tests/unit/test_trace_tids.c).
churn=$P/threadchurn
THREADCHURN_WAIT=1 "$churn" 2000 3 200 >"$TMPDIR/churn.out" &
app=$!
THREADCHURN_WAIT=1 "$churn" 1000 0 0 >"$TMPDIR/churn_noise.out" &
noise=$!
wait_ready "$TMPDIR/churn.out" && wait_ready "$TMPDIR/churn_noise.out"
t_eq "thread-churning programs ready" "$?" 0
start_tracer --start "uprobe:$churn:churn_begin" --end "uprobe:$churn:churn_end" \
	--pid "$app" --interval 0 --summary-json "$TMPDIR/churn.json" ||
	{ kill "$app" "$noise"; t_check "tracer starts" false; t_done; }
kill -USR1 "$app" "$noise"
wait "$app"
t_eq "thread-churning program ran" "$?" 0
wait "$noise"
t_check "tracer ended when the process exited" wait_for 60 tracer_gone
kill -INT "$TRACER" 2>/dev/null
wait "$TRACER"
t_eq "tracer exit status" "$?" 0
t_eq "every thread's transaction, short-lived or not" \
	"$(json_get "$TMPDIR/churn.json" transactions)" 2003
t_eq "... no orphans" "$(json_get "$TMPDIR/churn.json" orphans)" 0
t_eq "the other process's 2000 events filtered" \
	"$(json_get "$TMPDIR/churn.json" pid_filtered)" 2000

# An output file that already holds data (a user's earlier results) is
# never truncated: the run fails before tracing, --force replaces it.
ends=(--start "uprobe:$lib:dma_from_host" --end "uretprobe:$lib:dma_wait")
for opt in --events --summary-json --timeline --plot; do
	f=$TMPDIR/kept${opt#--}.svg
	echo "earlier results" >"$f"
	"$DMAKIT" trace "${ends[@]}" --duration 0.2 --interval 0 "$opt" "$f" \
		--json >"$TMPDIR/kept.json" 2>"$TMPDIR/kept.err"
	t_eq "$opt with data in the file: exit 1" "$?" 1
	t_eq "$opt with data in the file: kept" "$(cat "$f")" "earlier results"
	t_grep "$opt with data in the file: says so" "already holds data \(--force replaces it\)" \
		"$TMPDIR/kept.err"
	t_eq "$opt with data in the file: JSON says not ok" "$(json_get "$TMPDIR/kept.json" ok)" false
done
: >"$TMPDIR/empty.jsonl"
"$DMAKIT" trace "${ends[@]}" --duration 0.2 --interval 0 -q --events "$TMPDIR/empty.jsonl" \
	--summary-json /dev/null
t_eq "an empty --events file and /dev/null are written" "$?" 0
"$DMAKIT" trace "${ends[@]}" --duration 0.2 --interval 0 -q --force --events "$f"
t_eq "--force replaces a file with data" "$?:$(wc -c <"$f")" "0:0"
t_done
