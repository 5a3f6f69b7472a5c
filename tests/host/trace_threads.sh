# The user's case (seeds/000): a vendor library whose dma_to_host() and
# dma_from_host() start a transfer and whose dma_wait() polls until the
# card is done, called by several threads on several channels.  Both
# start functions and dma_wait, with DEFAULT pairing: every transaction
# must lie inside one call the program measured itself (CLOCK_MONOTONIC
# before the start call, after dma_wait returned), in one thread, from the
# right start function, with the call's bytes (a uprobe argument); the
# counts must equal the calls.  Then a tiny trace buffer and a tracer
# stopped during each burst force loss:
# still no wrong transaction, and the slow phases after each burst pair
# again (each thread is back in step at its next start).
# timeout: 240
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
build_progs || { t_check "test programs build" false; t_done; }
P=$TMPDIR/progs
lib=$P/libvendor.so
check=$TOP/tests/host/trace_threads_check.py
specs=(--start "uprobe:$lib:dma_to_host(chan=arg1:s32,bytes=arg4)"
       --start "uprobe:$lib:dma_from_host(chan=arg1:s32,bytes=arg4)"
       --end "uretprobe:$lib:dma_wait(ret=retval:s32)")

start_tracer "${specs[@]}" --interval 0 --events "$TMPDIR/ev.jsonl" \
	--summary-json "$TMPDIR/sum.json" --per-site ||
	{ t_check "tracer starts" false; t_done; }
t_grep "the header says the pairing and why" \
	"^dmakit trace: pairing fifo per thread \(channel tid\): every event is thread-synchronous" \
	"$TMPDIR/tracer.err"
t_grep "the header says a named argument is used for nothing" \
	"^dmakit trace: note: fetched but used for nothing: start 0: chan, start 1: chan \(" \
	"$TMPDIR/tracer.err"
t_grep "the header names both start sites" "^dmakit trace: start 1: +entry of .*dma_from_host \(chan=arg1, bytes=arg4\)" \
	"$TMPDIR/tracer.err"
"$P/vendorapp" "$TMPDIR/gt.txt" 4 250x0
t_eq "program ran" "$?" 0
stop_tracer
t_eq "tracer exit status" "$TRACER_RC" 0
cat "$TMPDIR/tracer.out"
python3 "$check" "$TMPDIR/gt.txt" "$TMPDIR/ev.jsonl" all
t_eq "every transaction is one call of its thread, every call one transaction" "$?" 0
t_eq "transactions" "$(json_get "$TMPDIR/sum.json" transactions)" 1000
t_eq "no orphans" "$(json_get "$TMPDIR/sum.json" orphans)" 0
t_eq "summary: the unused named arguments" "$(json_get "$TMPDIR/sum.json" unused_fields)" \
	"start 0: chan, start 1: chan"
t_eq "one call open per thread: no nested starts" \
	"$(json_get "$TMPDIR/sum.json" nested_starts)" 0
python3 - "$TMPDIR/sum.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
st, en = s["start_sites"], s["end_sites"]
ok = (len(st) == 2 and len(en) == 1 and
      [x["events"] for x in st] == [500, 500] and
      [x["transactions"] for x in st] == [500, 500] and
      en[0]["transactions"] == 1000 and "dma_to_host" in st[0]["spec"] and
      s["pairing"] == "fifo" and "per thread" in s["pairing_reason"] and
      s["bytes"] > 0)
print(json.dumps({k: s[k] for k in ("start_sites", "end_sites", "pairing_reason")}, indent=1))
sys.exit(0 if ok else 1)
PY
t_eq "summary: per-site counts, pairing reason" "$?" 0
t_grep "per-site lines" "^start 1 uprobe:.*dma_from_host.*: 500 events, 500 transactions" \
	"$TMPDIR/tracer.out"
t_check "per-site histograms (--per-site)" \
	test "$(grep -c '^  latency p50' "$TMPDIR/tracer.out")" -eq 2

# loss: bursts of ~24000 events into 8 KiB per CPU (~150 events) while the
# reader cannot run (the tracer is stopped, as a starved reader is on a
# busy machine: loss on any machine speed), then slow phases after each
# that it reads while running.  vendorapp stops itself after each phase
# (":stop") so the tracer is stopped exactly around the bursts.
start_tracer "${specs[@]}" --interval 0 --buffer-kb 8 \
	--events "$TMPDIR/ev2.jsonl" --summary-json "$TMPDIR/sum2.json" ||
	{ t_check "tracer starts" false; t_done; }
vendor_bursts loss "$TRACER" "$TMPDIR/gt2.txt"
t_eq "burst program ran" "$APP_RC" 0
stop_tracer
t_eq "tracer exit status" "$TRACER_RC" 0
tail -n 4 "$TMPDIR/tracer.out"
t_check "events were lost" test "$(json_get "$TMPDIR/sum2.json" lost_events)" -gt 0
python3 "$check" "$TMPDIR/gt2.txt" "$TMPDIR/ev2.jsonl" loss
t_eq "under loss: no wrong transaction, pairing resumes after each burst" "$?" 0
t_check "nothing left behind" no_leftovers "$TRACER"

# Two calls open on one thread, waited for in reverse order: per-thread
# FIFO pairing cannot know which wait is whose, so it must say so (every
# second start of 2 threads x 50 pairs came with a call open), not pass
# the pairs off as right.
start_tracer "${specs[@]}" --interval 0 --summary-json "$TMPDIR/sum3.json" ||
	{ t_check "tracer starts" false; t_done; }
VENDORAPP_OVERLAP=1 "$P/vendorapp" "$TMPDIR/gt3.txt" 2 100x0
t_eq "overlapping program ran" "$?" 0
stop_tracer
t_eq "tracer exit status" "$TRACER_RC" 0
t_eq "overlapping calls: nested starts counted" \
	"$(json_get "$TMPDIR/sum3.json" nested_starts)" 100
t_grep "overlapping calls: the report says so" \
	"^NESTED: 100 starts came while their thread already had a call open" "$TMPDIR/tracer.out"
t_done
