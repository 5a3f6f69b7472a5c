# dmakit trace --pmu: perf counters beside the transactions, as columns of
# each interval, totals at the end, "pmu" in the summary and counter tracks
# in the timeline.  This machine has no PCIe PMU, so software events stand
# in: system-wide cpu-clock counts every CPU's time, so its rate must be
# the number of CPUs times 1e9 ns/s (within 10 %) -- a measure dmakit does
# not make itself; context switches must be counted while processes fork.
# timeout: 120
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
ncpu=$(grep -c '^processor' /proc/cpuinfo)

# forks and execs to pair (sched_process_fork -> sched_process_exec)
( end=$(($(date +%s) + 30)); while [ "$(date +%s)" -lt "$end" ]; do /bin/true; done ) &
load=$!
trap 'kill $load 2>/dev/null' EXIT

"$DMAKIT" trace --start tp:sched:sched_process_fork --end tp:sched:sched_process_exec \
	--pmu cpu-clock,context-switches --interval 200ms --duration 1.5s \
	--summary-json "$TMPDIR/sum.json" --timeline "$TMPDIR/tl.json" \
	>"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "trace --pmu exits 0" "$?" 0
cat "$TMPDIR/out" | head -n 4
t_grep "the interval header names the counters" "LOST +cpu-clock +context-switches" "$TMPDIR/out"
t_check "each interval line has both rates (>= 4 lines)" \
	test "$(grep -cE ' ns/s +[0-9.e+]+ /s$' "$TMPDIR/out")" -ge 4
t_grep "the totals at the end" "^pmu cpu-clock: .* ns in [0-9.]+ s, .* ns/s" "$TMPDIR/out"
t_grep "... for each counter" "^pmu context-switches: [0-9.e+]+ in " "$TMPDIR/out"

python3 - "$TMPDIR/sum.json" "$TMPDIR/tl.json" "$ncpu" <<'PY'
import json, sys
summ = json.load(open(sys.argv[1]))
ncpu = int(sys.argv[3])
ok = True
pmu = {e["name"]: e for e in summ["pmu"]}
cc, cs = pmu["cpu-clock"], pmu["context-switches"]
want = ncpu * 1e9
print("cpu-clock %.4g ns/s (expected %d CPUs x 1e9), context switches %d" %
      (cc["per_s"], ncpu, cs["total"]))
if not (0.9 * want <= cc["per_s"] <= 1.1 * want):
    print("cpu-clock rate off"); ok = False
if cc["unit"] != "ns" or cs["total"] <= 0:
    print("units or counts wrong"); ok = False
tl = json.load(open(sys.argv[2]))
ev = tl["traceEvents"] if isinstance(tl, dict) else tl
track = [e for e in ev if e.get("ph") == "C" and e.get("name") == "pmu cpu-clock"]
if len(track) < 4:
    print("timeline: %d cpu-clock samples" % len(track)); ok = False
for e in track:
    v = e["args"]["ns/s"]
    if not (0.8 * want <= v <= 1.2 * want):
        print("timeline sample off:", e); ok = False
ts = [e["ts"] for e in track]
if ts != sorted(ts):
    print("timeline samples out of order"); ok = False
sys.exit(0 if ok else 1)
PY
t_eq "summary and timeline: cpu-clock = CPUs x 1e9 ns/s, switches counted, samples on a track" "$?" 0

# totals also without interval lines
"$DMAKIT" trace --start tp:sched:sched_process_fork --end tp:sched:sched_process_exec \
	--pmu cpu-clock --interval 0 --duration 0.5s >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "--interval 0: exit 0" "$?" 0
t_grep "--interval 0: the total still printed" "^pmu cpu-clock: " "$TMPDIR/out"

# refusals: usage errors before any tracing is set up
"$DMAKIT" trace --start tp:sched:sched_process_fork --end tp:sched:sched_process_exec \
	--pmu nosuch_pmu/foo/ --duration 0.5s >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "a PMU this machine does not have: exit 1 (as dmakit pmu)" "$?" 1
t_grep "... saying which" "--pmu: no PMU 'nosuch_pmu' on this machine" "$TMPDIR/err"
t_check "... before tracing" sh -c "! grep -q 'tracing\\.\\.\\.' $TMPDIR/err"
"$DMAKIT" trace --start tp:sched:sched_process_fork --end tp:sched:sched_process_exec \
	--pmu 'not an event' --duration 0.5s >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "a malformed event: usage error (exit 2)" "$?" 2
"$DMAKIT" trace --start reg:0000:00:00.0:BAR0:0x0 --end reg:0000:00:00.0:BAR0:0x0 \
	--pmu cpu-clock --duration 0.5s >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "--pmu with reg: specs is refused (exit 2)" "$?" 2
t_done
