# The BPF backend against the tracefs backend and bpftrace, on the same
# calls: the two backends trace one run of the seed's program together
# (two starts, dma_wait's return, 4 threads, default pairing per thread)
# and must report the same transactions (same thread, site, bytes;
# latencies within microseconds: both timestamp the same probe hit),
# and bpftrace pairing by thread in the same run must count as many with
# the same total latency.  Then pairing by id, USDT (libdmakit's probes),
# tracepoints, loss in the
# BPF ring buffer (counted, no wrong pair), what BPF refuses (exit 2;
# auto falls back to tracefs and says why), and SIGKILL (nothing stays).
# timeout: 600
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
[ -r /sys/kernel/btf/vmlinux ] || t_skip "kernel without BTF (CONFIG_DEBUG_INFO_BTF)"
command -v bpftrace >/dev/null || t_skip "bpftrace not installed (scripts/setup.sh)"
build_progs || { t_check "test programs build" false; t_done; }
P=$TMPDIR/progs
lib=$P/libvendor.so
specs=(--start "uprobe:$lib:dma_to_host(chan=arg1:s32,bytes=arg4)"
       --start "uprobe:$lib:dma_from_host(chan=arg1:s32,bytes=arg4)"
       --end "uretprobe:$lib:dma_wait(ret=retval:s32)")

# tracer TAG ARGS...: "dmakit trace ARGS" in the background, output in
# $TMPDIR/TAG.{out,err}, its pid in PIDS[TAG]; waits until it traces
declare -A PIDS
tracer() {
	local tag=$1 i; shift
	rm -f "$TMPDIR/$tag.out" "$TMPDIR/$tag.err"	# not an earlier run's line
	"$DMAKIT" trace "$@" >"$TMPDIR/$tag.out" 2>"$TMPDIR/$tag.err" &
	PIDS[$tag]=$!
	for i in $(seq 1 1200); do
		grep -q 'tracing\.\.\.' "$TMPDIR/$tag.err" 2>/dev/null && return 0
		kill -0 "${PIDS[$tag]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "tracer $tag did not start:"; cat "$TMPDIR/$tag.err"
	return 1
}
# stop TAG: SIGINT, wait; its exit status in RC
stop() {
	kill -INT "${PIDS[$1]}"
	wait "${PIDS[$1]}"
	RC=$?
}

# --- one run, both backends and bpftrace ---
cat >"$TMPDIR/pair.bt" <<EOF
uprobe:$lib:dma_to_host, uprobe:$lib:dma_from_host { @s[tid] = nsecs; }
uretprobe:$lib:dma_wait /@s[tid]/ {
	@n = count(); @ns = sum(nsecs - @s[tid]); delete(@s[tid]);
}
EOF
bpftrace "$TMPDIR/pair.bt" >"$TMPDIR/bt.out" 2>&1 &
BT=$!
t_check "bpftrace attached" wait_grep '^Attaching' "$TMPDIR/bt.out" 60
tracer bpf --backend bpf "${specs[@]}" --interval 0 --events "$TMPDIR/bpf.jsonl" \
	--summary-json "$TMPDIR/bpf.json" || { t_check "bpf tracer starts" false; t_done; }
tracer tfs --backend tracefs "${specs[@]}" --interval 0 --events "$TMPDIR/tfs.jsonl" \
	--summary-json "$TMPDIR/tfs.json" || { t_check "tracefs tracer starts" false; t_done; }
# (bpftrace's probes are live by now: the tracers took longer to start)
"$P/vendorapp" "$TMPDIR/gt.txt" 4 250x0
t_eq "program ran" "$?" 0
stop bpf; t_eq "bpf tracer exit status" "$RC" 0
stop tfs; t_eq "tracefs tracer exit status" "$RC" 0
stop_bpftrace $BT
t_grep "the bpf tracer says its backend" "^dmakit trace: backend bpf \(as --backend asks\)" "$TMPDIR/bpf.err"
t_grep "the tracefs tracer says its backend" "^dmakit trace: backend tracefs" "$TMPDIR/tfs.err"
t_eq "summary names the backend" "$(json_get "$TMPDIR/bpf.json" backend)" bpf
python3 "$TOP/tests/host/trace_threads_check.py" "$TMPDIR/gt.txt" "$TMPDIR/bpf.jsonl" all
t_eq "bpf: every transaction is one call of its thread, every call one transaction" "$?" 0
python3 "$TOP/tests/host/trace_threads_check.py" "$TMPDIR/gt.txt" "$TMPDIR/tfs.jsonl" all
t_eq "tracefs: the same" "$?" 0
python3 - "$TMPDIR/bpf.jsonl" "$TMPDIR/tfs.jsonl" "$TMPDIR/bpf.json" "$TMPDIR/tfs.json" \
	"$TMPDIR/bt.out" <<'PY'
import collections, json, re, sys
def load(p):
    per = collections.defaultdict(list)
    for line in open(p):
        e = json.loads(line)
        per[e["tid"]].append(e)
    for v in per.values():
        v.sort(key=lambda e: e["start_ns"])
    return per
b, t = load(sys.argv[1]), load(sys.argv[2])
ok = sorted(b) == sorted(t) and all(len(b[k]) == len(t[k]) for k in b)
worst = 0
for tid in b:
    for x, y in zip(b[tid], t[tid]):
        for k in ("end_tid", "start_site", "end_site", "bytes", "status", "batch"):
            if x.get(k) != y.get(k):
                print("differs:", k, x, y); ok = False
        worst = max(worst, abs(x["latency_ns"] - y["latency_ns"]),
                    abs(x["start_ns"] - y["start_ns"]))
# the same probe hit timestamped by both: microseconds apart typically,
# up to a scheduling delay where the handlers were preempted in between
# on a loaded machine
diffs = sorted(abs(x["start_ns"] - y["start_ns"]) for tid in b for x, y in zip(b[tid], t[tid]))
med = diffs[len(diffs) // 2] if diffs else 0
print("pairs:", sum(map(len, b.values())), "difference: median", med, "largest", worst, "ns")
ok = ok and med < 20000 and worst < 5000000
sb, st = json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
for k in ("transactions", "orphans", "unmatched_starts", "start_events", "end_events",
          "pairing", "pairing_reason", "bytes"):
    if sb[k] != st[k]:
        print("summary differs:", k, sb[k], st[k]); ok = False
if [x["events"] for x in sb["start_sites"]] != [x["events"] for x in st["start_sites"]]:
    print("site counts differ"); ok = False
# kernel histogram: every transaction
if sum(sb["kernel_hist_log2_ns"]) != sb["transactions"] or st["kernel_hist_log2_ns"] is not None:
    print("kernel histogram", sb["kernel_hist_log2_ns"]); ok = False
bt = open(sys.argv[5]).read()
n = int(re.search(r"@n: (\d+)", bt).group(1))
ns = int(re.search(r"@ns: (\d+)", bt).group(1))
mine = sum(e["latency_ns"] for v in b.values() for e in v)
print("bpftrace:", n, "pairs,", ns, "ns; bpf backend:", sb["transactions"], "pairs,", mine, "ns")
ok = ok and n == sb["transactions"] and abs(ns - mine) <= 0.02 * mine
sys.exit(0 if ok else 1)
PY
t_eq "bpf and tracefs: the same transactions; bpftrace: as many, the same total latency" "$?" 0

# --- pairing by id: dma_to_host's channel closed by dma_wait's ---
idspecs=(--start "uprobe:$lib:dma_to_host(chan=arg1:s32,bytes=arg4)"
	 --end "uprobe:$lib:dma_wait(chan=arg1:s32)" --pair-by chan)
tracer bpf --backend bpf "${idspecs[@]}" --interval 0 --events "$TMPDIR/bpf_id.jsonl" \
	--summary-json "$TMPDIR/bpf_id.json" || { t_check "bpf tracer starts" false; t_done; }
tracer tfs --backend tracefs "${idspecs[@]}" --interval 0 --events "$TMPDIR/tfs_id.jsonl" \
	--summary-json "$TMPDIR/tfs_id.json" || { t_check "tracefs tracer starts" false; t_done; }
"$P/vendorapp" "$TMPDIR/gt_id.txt" 4 100x0
stop bpf; stop tfs
t_eq "pairing by id on bpf" "$(json_get "$TMPDIR/bpf_id.json" pairing)" id
python3 - "$TMPDIR/bpf_id.jsonl" "$TMPDIR/tfs_id.jsonl" "$TMPDIR/bpf_id.json" "$TMPDIR/tfs_id.json" <<'PY'
import json, sys
def load(p):
    # an id (the channel) is used again and again: its transactions in order
    return sorted((e["id"], e["start_ns"], e["latency_ns"], e["bytes"], e["tid"], e["end_tid"])
                  for e in map(json.loads, open(p)))
b, t = load(sys.argv[1]), load(sys.argv[2])
sb, st = json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
ok = len(b) == len(t) == 200 and sb["orphans"] == st["orphans"]
for x, y in zip(b, t):
    if x[0] != y[0] or x[3:] != y[3:] or abs(x[2] - y[2]) > 5000000:
        print("differs:", x, y); ok = False; break
print(len(b), len(t), "transactions; orphans", sb["orphans"], st["orphans"])
sys.exit(0 if ok else 1)
PY
t_eq "by id: the same 200 transactions on both backends (100 dma_to_host calls x 2 of 4 threads)" "$?" 0

# --- USDT: libdmakit's own probes, paired by id (device, transaction) ---
so=$(readlink -f "$TOP/build/lib/libdmakit.so")
usdtspecs=(--start "usdt:$so:dmakit:dma_start" --end "usdt:$so:dmakit:dma_done")
tracer bpf --backend bpf "${usdtspecs[@]}" --interval 0 --events "$TMPDIR/bpf_usdt.jsonl" ||
	{ t_check "bpf tracer starts" false; t_done; }
tracer tfs --backend tracefs "${usdtspecs[@]}" --interval 0 --events "$TMPDIR/tfs_usdt.jsonl" ||
	{ t_check "tracefs tracer starts" false; t_done; }
"$P/usdt_xfer" sim:xfer_lat=2000 50 "$TMPDIR/gt_usdt.txt"
t_eq "usdt program ran" "$?" 0
stop bpf; stop tfs
python3 - "$TMPDIR/bpf_usdt.jsonl" "$TMPDIR/tfs_usdt.jsonl" <<'PY'
import json, sys
def load(p):
    return {e["id"]: e for e in map(json.loads, open(p))}
b, t = load(sys.argv[1]), load(sys.argv[2])
ok = len(b) == len(t) == 50 and sorted(b) == sorted(t)
for i in b:
    x, y = b[i], t.get(i, {})
    if any(x.get(k) != y.get(k) for k in ("bytes", "status", "chan", "tid")) or \
       abs(x["latency_ns"] - y.get("latency_ns", 0)) > 5000000:
        print("differs:", x, y); ok = False; break
print(len(b), len(t), "transactions")
sys.exit(0 if ok else 1)
PY
t_eq "USDT by id: the same 50 transactions (id, bytes, status, device) on both backends" "$?" 0

# --- all six register arguments of a call, signed and unsigned ---
cc -O2 -o "$P/args6" "$TOP/tests/host/progs/args6.c" || t_check "args6 builds" false
a6=(--start "uprobe:$P/args6:args6(chan=arg4:s32,bytes=arg5,id=arg6)"
    --end "uretprobe:$P/args6:args6(status=retval:s32)" --channel tid --close fifo)
tracer bpf --backend bpf "${a6[@]}" --interval 0 --events "$TMPDIR/bpf_a6.jsonl" ||
	{ t_check "bpf tracer starts" false; t_done; }
tracer tfs --backend tracefs "${a6[@]}" --interval 0 --events "$TMPDIR/tfs_a6.jsonl" ||
	{ t_check "tracefs tracer starts" false; t_done; }
"$P/args6"
stop bpf; stop tfs
python3 - "$TMPDIR/bpf_a6.jsonl" "$TMPDIR/tfs_a6.jsonl" <<'PY'
import json, sys
def load(p):
    return [(e["bytes"], e["id"], e["status"]) for e in map(json.loads, open(p))]
b, t = load(sys.argv[1]), load(sys.argv[2])
want = [(5000 + i, 600 + i, 1 + 2 + 3 - 4 + 5000 + i + 600 + i) for i in range(100)]
print(b[:2], t[:2])
sys.exit(0 if sorted(b) == sorted(t) == want else 1)
PY
t_eq "arg4..arg6 and the return value: the call's values on both backends" "$?" 0

# --- tracepoints: clock_nanosleep entry to exit, per thread ---
tpspecs=(--start tp:syscalls:sys_enter_clock_nanosleep --end tp:syscalls:sys_exit_clock_nanosleep)
tracer bpf --backend bpf "${tpspecs[@]}" --interval 0 --events "$TMPDIR/bpf_tp.jsonl" ||
	{ t_check "bpf tracer starts" false; t_done; }
tracer tfs --backend tracefs "${tpspecs[@]}" --interval 0 --events "$TMPDIR/tfs_tp.jsonl" ||
	{ t_check "tracefs tracer starts" false; t_done; }
: >"$TMPDIR/sleepers"
for i in $(seq 1 20); do
	sh -c 'echo $$ >>"$1"; exec sleep 0.005' sh "$TMPDIR/sleepers"
done
stop bpf; stop tfs
python3 - "$TMPDIR/bpf_tp.jsonl" "$TMPDIR/tfs_tp.jsonl" "$TMPDIR/sleepers" <<'PY'
import json, sys
mine = {int(l) for l in open(sys.argv[3])}
def load(p):
    return sorted((e["tid"], e["latency_ns"]) for e in map(json.loads, open(p))
                  if e["tid"] in mine)
b, t = load(sys.argv[1]), load(sys.argv[2])
ok = len(b) == len(t) == 20 and all(x[0] == y[0] and abs(x[1] - y[1]) < 5000000 and
                                    x[1] >= 5000000 for x, y in zip(b, t))
print("our sleeps:", len(b), len(t), b[:3], t[:3])
sys.exit(0 if ok else 1)
PY
t_eq "tracepoints: each of our 20 sleeps once on both backends, >= 5 ms, same latency" "$?" 0

# --- loss: a 4 KiB ring buffer against bursts while the reader cannot run
# (the tracer is stopped, as a starved reader is on a busy machine), then
# slow phases it reads while running.  Stopping it makes the loss certain
# at any machine speed: beside stress-ng the bursts ran slowly enough to be
# read whole, and "lost > 0" failed.  vendorapp stops itself after each
# phase (":stop") so the tracer is stopped exactly around the bursts.
tracer bpf --backend bpf "${specs[@]}" --interval 0 --buffer-kb 4 \
	--events "$TMPDIR/bpf_loss.jsonl" --summary-json "$TMPDIR/bpf_loss.json" ||
	{ t_check "bpf tracer starts" false; t_done; }
vendor_bursts bpf "${PIDS[bpf]}" "$TMPDIR/gt_loss.txt"
t_eq "loss: burst program ran" "$APP_RC" 0
stop bpf
t_eq "tracer exit status" "$RC" 0
tail -n 4 "$TMPDIR/bpf.out"
python3 "$TOP/tests/host/trace_threads_check.py" "$TMPDIR/gt_loss.txt" "$TMPDIR/bpf_loss.jsonl" loss
t_eq "under loss: no wrong transaction" "$?" 0
python3 - "$TMPDIR/bpf_loss.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
calls = 4 * (3000 + 150 + 3000 + 150)
keys = ("transactions", "lost_transactions", "lost_events", "orphans", "start_events",
        "unmatched_starts", "discarded_starts", "discarded_ends")
print({k: s[k] for k in keys})
# a call whose thread a loaded machine stalled beyond the timeout (1 s)
# between its start and its end is unmatched (its end set aside): rare,
# counted, never a wrong pair
stalled = s["unmatched_starts"] + s["discarded_starts"]
ok = (s["lost_transactions"] > 0 and s["lost_events"] == s["lost_transactions"] and
      s["transactions"] + s["lost_transactions"] + stalled == calls == s["start_events"] and
      sum(s["kernel_hist_log2_ns"]) == calls - stalled and s["orphans"] == 0 and
      stalled < 10)
sys.exit(0 if ok else 1)
PY
t_eq "loss: counted exactly (delivered + lost = calls), pairing unaffected" "$?" 0
t_grep "loss: the summary says what was lost" "^LOST [0-9]+ transactions \(paired in the kernel" \
	"$TMPDIR/bpf.out"

# --- loss while streaming (--close batch: paired by pair.c) ---
# every event is ours: those read plus those counted lost are all of them;
# pairs across a gap are set aside, never wrong.  The same stopped bursts
# (run unstopped, beside stress-ng the bursts were read whole: no loss)
tracer bpfs --backend bpf "${specs[@]}" --close batch --interval 0 --buffer-kb 4 \
	--events "$TMPDIR/bpfs_loss.jsonl" --summary-json "$TMPDIR/bpfs_loss.json" ||
	{ t_check "streaming bpf tracer starts" false; t_done; }
vendor_bursts bpfs "${PIDS[bpfs]}" "$TMPDIR/gts_loss.txt"
t_eq "streaming loss: burst program ran" "$APP_RC" 0
stop bpfs
t_eq "streaming: tracer exit status" "$RC" 0
t_grep "streaming: says it streams" "^dmakit trace: backend bpf" "$TMPDIR/bpfs.err"
python3 "$TOP/tests/host/trace_threads_check.py" "$TMPDIR/gts_loss.txt" "$TMPDIR/bpfs_loss.jsonl" loss
t_eq "streaming under loss: no wrong transaction" "$?" 0
python3 - "$TMPDIR/bpfs_loss.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
calls = 4 * (3000 + 150 + 3000 + 150)
keys = ("transactions", "lost_events", "start_events", "end_events", "discarded_starts",
        "discarded_ends", "unmatched_starts", "orphans")
print({k: s[k] for k in keys})
ok = (s["lost_events"] > 0 and
      s["start_events"] + s["end_events"] + s["lost_events"] == 2 * calls and
      0 < s["transactions"] < calls and s["kernel_hist_log2_ns"] is None)
sys.exit(0 if ok else 1)
PY
t_eq "streaming loss: read + lost = every event, fewer transactions than calls" "$?" 0
t_grep "streaming loss: said like tracefs' loss" "^LOST [0-9]+ events in [0-9]+ gaps" \
	"$TMPDIR/bpfs.out"

# --- a tracepoint filter: streamed, filtered in user space, paired by pair.c ---
# Both backends in one run; the filter keeps one process's getppid calls
# (a known number) and drops another's made at the same time.
mkfifo "$TMPDIR/go"
python3 -c 'import os, sys; open(sys.argv[1]).read(); [os.getppid() for _ in range(5000)]' \
	"$TMPDIR/go" &
KEEP=$!
filt=(--start "tp:syscalls:sys_enter_getppid:common_pid == $KEEP"
      --end tp:syscalls:sys_exit_getppid --interval 0)
tracer fb --backend bpf "${filt[@]}" --summary-json "$TMPDIR/fb.json" ||
	{ t_check "filter: bpf tracer starts" false; t_done; }
tracer ft --backend tracefs "${filt[@]}" --summary-json "$TMPDIR/ft.json" ||
	{ t_check "filter: tracefs tracer starts" false; t_done; }
python3 -c 'import os; [os.getppid() for _ in range(3000)]' &
NOISE=$!
echo go >"$TMPDIR/go"
wait "$KEEP"; t_eq "filter: the kept process ran" "$?" 0
wait "$NOISE"
stop fb; t_eq "filter: bpf tracer exit status" "$RC" 0
stop ft; t_eq "filter: tracefs tracer exit status" "$RC" 0
t_grep "filter: bpf says it streams" "^dmakit trace: backend bpf \(as --backend asks\)" "$TMPDIR/fb.err"
for tag in fb ft; do
	t_eq "filter $tag: transactions = the kept process's calls" \
		"$(json_get "$TMPDIR/$tag.json" transactions)" 5000
	t_eq "filter $tag: start events = those calls" \
		"$(json_get "$TMPDIR/$tag.json" start_events)" 5000
done
t_eq "filter: bpf and tracefs the same unmatched starts" \
	"$(json_get "$TMPDIR/fb.json" unmatched_starts)" "$(json_get "$TMPDIR/ft.json" unmatched_starts)"

# --- an interrupt end: batches, paired by pair.c from the streamed events ---
# any interrupt this machine has (an IRQ number that does not exist is refused)
irqn=$(ls /proc/irq | grep -E '^[0-9]+$' | sort -n | head -n1)
"$DMAKIT" trace --backend bpf --start tp:syscalls:sys_enter_getppid --end "irq:$irqn" \
	--duration 0.2 >/dev/null 2>"$TMPDIR/irq.err"
t_eq "irq on --backend bpf: runs" "$?" 0
t_grep "irq: pairs in batches" "^dmakit trace: pairing batch" "$TMPDIR/irq.err"

# --- what BPF does not trace: refused (exit 2), auto takes tracefs ---
dyn=(--start 'tp:sched:sched_process_exec:filename == "/nonexistent"'
     --end tp:sched:sched_process_exit --duration 0.2)
"$DMAKIT" trace --backend bpf "${dyn[@]}" >/dev/null 2>"$TMPDIR/refuse.err"
t_eq "a filter on a variable-length field on --backend bpf: exit 2" "$?" 2
t_grep "it says why" "BPF backend cannot trace this: .*variable-length field 'filename'" \
	"$TMPDIR/refuse.err"
"$DMAKIT" trace "${dyn[@]}" >/dev/null 2>"$TMPDIR/auto.err"
t_eq "that filter on auto: runs" "$?" 0
t_grep "auto: picks tracefs and says why" \
	"^dmakit trace: backend tracefs \(auto: not bpf, .*variable-length field" "$TMPDIR/auto.err"
"$DMAKIT" trace "${specs[@]}" --duration 0.2 >/dev/null 2>"$TMPDIR/auto2.err"
t_grep "auto: picks bpf for uprobes and says why" "^dmakit trace: backend bpf \(auto: " \
	"$TMPDIR/auto2.err"
DMAKIT_TRACE_BACKEND=tracefs "$DMAKIT" trace "${specs[@]}" --duration 0.2 >/dev/null \
	2>"$TMPDIR/env.err"
t_grep "DMAKIT_TRACE_BACKEND sets the default" "^dmakit trace: backend tracefs \(as --backend asks\)" \
	"$TMPDIR/env.err"

# --- SIGKILL: the programs go with the process, the uprobes with the reaper ---
tracer bpf --backend bpf "${specs[@]}" --interval 0 || { t_check "bpf tracer starts" false; t_done; }
pid=${PIDS[bpf]}
progs=$(grep -h '^prog_id:' /proc/$pid/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
echo "tracer $pid, its BPF programs:" $progs
t_check "the tracer holds its BPF programs" test -n "$progs"
kill -KILL "$pid"; wait "$pid" 2>/dev/null
gone() {
	local id
	for id in $progs; do bpftool prog show id "$id" >/dev/null 2>&1 && return 1; done
	return 0
}
for i in $(seq 1 100); do gone && break; sleep 0.05; done
t_check "after SIGKILL no BPF program of it is loaded within 5 s" gone
t_check "after SIGKILL its uprobes are removed within 5 s" wait_no_leftovers "$pid" 5
t_done
