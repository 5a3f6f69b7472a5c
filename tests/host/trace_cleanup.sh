# What a session leaves behind: nothing, also after kill -9 (the next
# session removes the crashed one's instance and uprobes), never the
# global buffer's settings; and clear errors for bad input and for a user
# without the privilege.
# timeout: 120
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
build_progs || { t_check "test programs build" false; t_done; }
lib=$TMPDIR/progs/libseed.so
before=$(global_state)

# A tracer killed by a signal it cannot catch: its reaper removes the
# instance and the uprobes (uprobes left armed slow every call of the
# traced function down); a bound of 60 s for a loaded machine
for sig in KILL SEGV; do
	start_tracer --start "uprobe:$lib:dma_from_host" --end "uretprobe:$lib:dma_wait" \
		--interval 0 || { t_check "tracer starts" false; t_done; }
	crashed=$TRACER
	grep -q ":dmakit_${crashed}_" "$TRACEFS/uprobe_events"
	has=$?
	t_eq "SIG$sig: the tracer has its uprobes" "$has" 0
	if [ "$has" != 0 ]; then
		# seen once in a loaded run, not reproduced: say what there was
		echo "# tracer $crashed alive: $(kill -0 "$crashed" 2>/dev/null && echo yes || echo no)"
		echo "# its stderr:"; sed 's/^/#   /' "$TMPDIR/tracer.err"
		echo "# dmakit uprobes:"; grep dmakit_ "$TRACEFS/uprobe_events" | sed 's/^/#   /'
		echo "# dmakit instances:"; ls "$TRACEFS/instances" | grep dmakit_ | sed 's/^/#   /'
	fi
	kill -"$sig" "$crashed"
	wait "$crashed" 2>/dev/null
	t_check "SIG$sig: nothing left" wait_no_leftovers "$crashed" 60
done

# Leftovers whose reaper was killed too, named for a process that no
# longer runs: --cleanup removes them, the next session too; those of a
# process that runs are kept.  Any dmakit session on the machine (another
# test suite, a user's tracer) removes a dead owner's leftovers as it
# starts: the owner here runs until just before each cleanup, and a try
# whose leftovers another session took first is made again (each says so).
sleep 100000 &
owner=$!
owner_start=$(sed 's/.*) //' "/proc/$owner/stat" | cut -d' ' -f20)
fake=dmakit_${owner}_$(printf '%x' "$owner_start")_beef
off=$(nm -D "$lib" | awk '/ T dma_from_host$/ { print $1 }')
mkdir "$TRACEFS/instances/$fake"
echo "p:$fake/start $lib:0x$off" >>"$TRACEFS/uprobe_events"
t_check "a leftover instance" test -d "$TRACEFS/instances/$fake"
t_check "a leftover uprobe" grep -q ":$fake/" "$TRACEFS/uprobe_events"
"$DMAKIT" trace --cleanup >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "--cleanup: exit 0" "$?" 0
t_check "--cleanup: the owner runs, its instance is kept" \
	test -d "$TRACEFS/instances/$fake"
t_check "--cleanup: the owner runs, its uprobe is kept" \
	grep -q ":$fake/" "$TRACEFS/uprobe_events"
kill "$owner"
wait "$owner" 2>/dev/null
for try in 1 2 3; do
	"$DMAKIT" trace --cleanup >"$TMPDIR/out" 2>"$TMPDIR/err"
	rc=$?
	grep -q "^removed 2 leftover" "$TMPDIR/out" && break
	[ "$try" = 3 ] && break
	echo "note: try $try: $(cat "$TMPDIR/out") (another session's cleanup ran too)"
	no_leftovers "$owner" || break	# ours still there: not interference
	mkdir "$TRACEFS/instances/$fake"
	echo "p:$fake/start $lib:0x$off" >>"$TRACEFS/uprobe_events"
done
t_eq "--cleanup (owner gone): exit 0" "$rc" 0
t_grep "--cleanup: says what it removed" "^removed 2 leftover" "$TMPDIR/out"
t_check "--cleanup: instance and uprobe gone" no_leftovers "$owner"
"$DMAKIT" trace --cleanup --start irq >/dev/null 2>"$TMPDIR/err"
t_eq "--cleanup with a SPEC: usage error" "$?" 2
# the next session, on an instance left by the same exited owner
mkdir "$TRACEFS/instances/$fake"
for try in 1 2 3; do
	"$DMAKIT" trace --start "uprobe:$lib:dma_from_host" \
		--end "uretprobe:$lib:dma_wait" --duration 0.3 >/dev/null 2>"$TMPDIR/err"
	rc=$?
	grep -q "removed 1 leftover" "$TMPDIR/err" && break
	# not ours to retry: the leftover is still there, or tries are over
	[ -d "$TRACEFS/instances/$fake" ] || [ "$try" = 3 ] && break
	echo "note: try $try: another session removed the leftover first"
	mkdir "$TRACEFS/instances/$fake"
done
t_eq "next session runs" "$rc" 0
t_grep "it reports the cleanup" "removed 1 leftover" "$TMPDIR/err"
t_check "the next session removed the leftover" no_leftovers "$owner"

# SIGTERM ends cleanly too
start_tracer --start "uprobe:$lib:dma_from_host" --end "uretprobe:$lib:dma_wait" \
	--interval 0 || { t_check "tracer starts" false; t_done; }
kill -TERM "$TRACER"
wait "$TRACER"
t_eq "SIGTERM: exit 0" "$?" 0
t_check "SIGTERM: nothing left" no_leftovers "$TRACER"

# bad input: a clear message, exit 1 (2 for malformed usage), nothing left
failed_pids=()
expect_error() {	# WHAT RC PATTERN ARGS...
	local what=$1 rc=$2 pat=$3
	shift 3
	"$DMAKIT" trace "$@" --duration 0.2 >/dev/null 2>"$TMPDIR/err" &
	failed_pids+=($!)
	wait $!
	t_eq "$what: exit $rc" "$?" "$rc"
	t_grep "$what: message" "^dmakit trace: .*$pat" "$TMPDIR/err"
}
expect_error "unknown tracepoint" 1 "no tracepoint block:nosuch" \
	--start tp:block:nosuch --end tp:block:block_rq_complete
expect_error "bad filter" 1 "rejected the filter" \
	--start "tp:block:block_rq_issue:nosuchfield == 1" --end tp:block:block_rq_complete
expect_error "missing library" 1 "No such file" \
	--start uprobe:/nonexistent/lib.so:f --end tp:block:block_rq_complete
expect_error "missing function" 1 "no function 'nosuch'" \
	--start "uprobe:$lib:nosuch" --end tp:block:block_rq_complete
expect_error "irq without a device" 1 "needs --pci" \
	--start tp:block:block_rq_issue --end irq
expect_error "unknown device" 1 "no PCI device" \
	--pci 0000:ff:1f.7 --start tp:block:block_rq_issue --end irq
expect_error "unknown device, no irq SPEC" 1 "--pci: no PCI device" \
	--pci 0000:ff:1f.7 --start tp:block:block_rq_issue --end tp:block:block_rq_complete
expect_error "an IRQ number no interrupt has" 1 "no IRQ 4000000 on this machine" \
	--start tp:block:block_rq_issue --end irq:4000000
expect_error "missing USDT probe" 1 "no USDT probe dmakit:nosuch" \
	--start "usdt:$(readlink -f "$TOP/build/lib/libdmakit.so"):dmakit:nosuch" \
	--end tp:block:block_rq_complete
expect_error "malformed SPEC" 2 "bad SPEC" --start kprobe:x --end irq
expect_error "malformed PCI address" 2 "--pci: bad PCI address" \
	--pci 0000:00:04.8 --start tp:block:block_rq_issue --end irq
expect_error "a plot named neither .svg nor .html" 2 "--plot '.*x.png': name it FILE.svg" \
	--plot "$TMPDIR/x.png" --start tp:block:block_rq_issue --end tp:block:block_rq_complete
expect_error "no end" 2 "both --start SPEC and --end SPEC" --start irq
# a run in which nothing happened: no latency, not a latency of 0
"$DMAKIT" trace --start "uprobe:$lib:dma_from_host" --end "uretprobe:$lib:dma_wait" \
	--duration 0.3 --summary-json "$TMPDIR/none.json" >"$TMPDIR/none.out" 2>&1
t_eq "no transactions: exit 0" "$?" 0
t_grep "no transactions: the text says '-'" \
	"^0 transactions in .* latency p50 -, p99 -, max -" "$TMPDIR/none.out"
python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["latency_ns"]; sys.exit(0 if l["count"] == 0 and all(l[k] is None for k in ("min","mean","p50","p90","p99","max")) else 1)' \
	"$TMPDIR/none.json"
t_eq "no transactions: JSON latencies are null" "$?" 0

left=0
for pid in "${failed_pids[@]}"; do
	no_leftovers "$pid" || left=$((left + 1))
done
t_eq "failed sessions left nothing" "$left" 0

# SIGINT while the session is still being set up (a script that does not
# wait for "tracing..."; its background job inherits SIGINT ignored): the
# tracer ends cleanly after setup instead of running on
"$DMAKIT" trace --start tp:raw_syscalls:sys_enter --end tp:raw_syscalls:sys_exit \
	--summary-json "$TMPDIR/early.json" >/dev/null 2>"$TMPDIR/early.err" &
early=$!
# once its SIGINT handler is installed (the first thing before setup; a
# signal during exec and ASan's start-up is ignored like for any program
# started with SIGINT ignored: sent after a fixed 50 ms it was lost in 2 of
# 5 runs on a loaded machine)
not_running() { ! kill -0 "$1" 2>/dev/null; }
sigint_caught() {
	local caught
	caught=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$caught" ] && (( 0x$caught & 2 ))
}
t_check "the tracer catches SIGINT" wait_for 60 sigint_caught $early
grep -q 'tracing\.\.\.' "$TMPDIR/early.err" &&
	echo "note: setup was already over when SIGINT was sent"
kill -INT $early
t_check "SIGINT during setup: the tracer ends" wait_for 120 not_running $early
wait $early
t_eq "SIGINT during setup: exit 0" "$?" 0
t_check "SIGINT during setup: summary written" test -s "$TMPDIR/early.json"
t_check "SIGINT during setup: nothing left" no_leftovers "$early"

# without root
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$DMAKIT" trace \
		--start tp:block:block_rq_issue --end tp:block:block_rq_complete \
		--duration 0.2 >/dev/null 2>"$TMPDIR/err"
	t_eq "unprivileged: exit 1" "$?" 1
	t_grep "unprivileged: says root is needed" "needs root" "$TMPDIR/err"
else
	t_check "setpriv (util-linux) is installed" false
fi
t_eq "global buffer settings untouched" "$(global_state)" "$before"
t_done
