#!/usr/bin/env bash
# Benchmark of `dmakit trace` (run as root; writes its table into
# docs/trace.md between the bench:trace markers, and prints it).
#
#  1. An O_DIRECT 4 KiB write load (fio, psync) on the root disk: untraced,
#     traced by `dmakit trace` (block_rq_issue -> the disk's MSI-X
#     vectors), and by `trace-cmd record` of the same events with the same
#     filters; each run REPS times, interleaved; medians.  Reports the
#     throughput cost of each tracer and its cost per traced event.
#  2. A controllable source (bench/progs/evsrc: getppid() at a set rate,
#     traced as sys_enter_getppid -> sys_exit_getppid): the highest event
#     rate `dmakit trace` keeps with zero lost events (default buffer), and
#     the cost per event of each tracer with the source unpaced.
#
#   bench/trace.sh [--quick]
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
DMAKIT=${DMAKIT:-$TOP/build/bin/dmakit}
REPS=${REPS:-3}
SECS=${SECS:-4}
[ "${1:-}" = --quick ] && { REPS=1; SECS=2; }
TRACEFS=/sys/kernel/tracing
. "$TOP/bench/lib.sh"
bench_need bench/trace.sh fio trace-cmd python3 cc
W=$(mktemp -d /tmp/dmakit-bench-trace.XXXXXX)
trap 'rm -rf "$W"; rmdir $TRACEFS/instances/tcbench 2>/dev/null || true' EXIT
cc -O2 -pthread -o "$W/evsrc" "$TOP/bench/progs/evsrc.c"

. "$TOP/tests/host/trace_lib.bash"	# root_disk_bdf, block_devt
bdf=$(root_disk_bdf)
disk=$(basename "$(findmnt -n -o SOURCE /)"); disk=${disk%%[0-9]*}
devt=$(block_devt "$disk")
vectors=$(ls /sys/bus/pci/devices/$bdf/msi_irqs | sort -n | tr '\n' ' ')
irqfilter=$(for v in $vectors; do printf 'irq == %s || ' "$v"; done)
irqfilter=${irqfilter% || }
load=$(uptime | sed 's/.*load average: //')
echo "disk $disk ($bdf) vectors $vectors; load average before: $load"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

FIOFILE=$TOP/build/bench-trace.fio
# overwrite an allocated file: no block allocation, no journal in the way
dd if=/dev/zero of="$FIOFILE" bs=1M count=256 oflag=direct status=none
fio_run() {	# -> IOPS
	fio --name=b --filename="$FIOFILE" --rw=write --bs=4k \
		--size=256M --direct=1 --ioengine=psync --time_based \
		--runtime="$SECS" --output-format=json --output="$W/fio.json" >/dev/null
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobs"][0]["write"]["iops"])' "$W/fio.json"
}

dmakit_start() {	# START END [ARGS] -> $TRACER
	rm -f "$W/sum.json"	# the previous run's (trace keeps a file with data)
	"$DMAKIT" trace --start "$1" --end "$2" "${@:3}" --interval 0 \
		--summary-json "$W/sum.json" >/dev/null 2>"$W/tr.err" &
	TRACER=$!
	wait_line "$W/tr.err" 'tracing\.\.\.'
}
dmakit_stop() { kill -INT "$TRACER"; wait "$TRACER"; }

tc_start() {	# EVENT FILTER EVENT FILTER -> $TC
	trace-cmd record -d -k -B tcbench -C mono -b 4096 -e "$1" -f "$2" \
		-e "$3" -f "$4" -o "$W/tc.dat" >"$W/tc.out" 2>&1 &
	TC=$!
	# recording has started when the instance has its events on
	for _ in $(seq 1 200); do
		[ "$(cat $TRACEFS/instances/tcbench/tracing_on 2>/dev/null)" = 1 ] &&
			[ "$(cat $TRACEFS/instances/tcbench/events/${1/://}/enable 2>/dev/null)" = 1 ] && break
		sleep 0.05
	done
	sleep 0.2
}
tc_stop() {
	kill -INT "$TC"; wait "$TC" || true
	rmdir $TRACEFS/instances/tcbench 2>/dev/null || true
}
tc_events() {	# events in the last trace-cmd recording
	trace-cmd report -i "$W/tc.dat" 2>/dev/null | grep -c -E "$1" || true
}

global_before=$(global_state)

# --- 1. block I/O load ---
declare -a base dmk tcm dmk_ev
run_base() { base+=("$(fio_run)"); }
run_dmk() {
	dmakit_start "tp:block:block_rq_issue:dev == $devt" irq --pci "$bdf"
	dmk+=("$(fio_run)")
	dmakit_stop
	dmk_ev+=("$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["start_events"]+s["end_events"], s["duration_s"], s["lost_events"])' "$W/sum.json")")
}
run_tc() {
	tc_start block:block_rq_issue "dev == $devt" irq:irq_handler_entry "$irqfilter"
	tcm+=("$(fio_run)")
	tc_stop
}
fio_run >/dev/null		# warm-up
# rotate the order so drifts in the machine's load do not favour one
for r in $(seq 1 "$REPS"); do
	case $((r % 3)) in
	1) run_base; run_dmk; run_tc ;;
	2) run_dmk; run_tc; run_base ;;
	0) run_tc; run_base; run_dmk ;;
	esac
done
rm -f "$FIOFILE"

b=$(printf '%s\n' "${base[@]}" | median)
d=$(printf '%s\n' "${dmk[@]}" | median)
t=$(printf '%s\n' "${tcm[@]}" | median)
span() { printf '%s\n' "$@" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.0f-%.0f", lo, hi}'; }
bspan=$(span "${base[@]}"); dspan=$(span "${dmk[@]}"); tspan=$(span "${tcm[@]}")
# events per second while traced (dmakit counts them itself)
dev_rate=$(printf '%s\n' "${dmk_ev[@]}" | awk '{print $1/$2}' | median)
dlost=$(printf '%s\n' "${dmk_ev[@]}" | awk '{s+=$3} END {print s}')

# --- 2. controllable source ---
rates=(50000 100000 200000 400000 800000 1600000)
best=0
rate_rows=""
for rate in "${rates[@]}"; do
	dmakit_start tp:syscalls:sys_enter_getppid tp:syscalls:sys_exit_getppid --channel tid
	out=$("$W/evsrc" "$rate" 2)
	sleep 0.2
	dmakit_stop
	calls=${out%% *}
	got=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["lost_events"], s["start_events"], s["transactions"])' "$W/sum.json")
	lost=${got%% *}
	achieved=$(echo "$out" | awk '{print $2 * 2}')
	rate_rows+="| $((rate * 2)) | $(printf '%.0f' "$achieved") | $lost | $(echo "$got" | awk '{print $3}') of $calls |"$'\n'
	if [ "$lost" = 0 ]; then best=$achieved; else break; fi
done

# tracer CPU per event at a fixed 400k events/s (200k calls/s), 3 s
dmakit_start tp:syscalls:sys_enter_getppid tp:syscalls:sys_exit_getppid --channel tid
c0=$(cpu_secs "$TRACER")
"$W/evsrc" 200000 3 >/dev/null
sleep 0.2
dcpu=$(echo "$(cpu_secs "$TRACER") $c0" | awk '{print $1 - $2}')
dmakit_stop
dcpu_ev=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["start_events"]+s["end_events"])' "$W/sum.json")
tc_start syscalls:sys_enter_getppid "common_pid > 0" syscalls:sys_exit_getppid "common_pid > 0"
c0=$(cpu_secs "$TC")
"$W/evsrc" 200000 3 >/dev/null
sleep 0.2
tcpu=$(echo "$(cpu_secs "$TC") $c0" | awk '{print $1 - $2}')
tc_stop
# trace-cmd defers the work: decoding the file is part of getting answers
r0=$(date +%s.%N)
tcpu_ev=$(tc_events getppid)
trep=$(echo "$(date +%s.%N) $r0" | awk '{print $1 - $2}')

declare -a ub ud ut
for r in $(seq 1 "$REPS"); do
	ub+=("$("$W/evsrc" 0 2 | awk '{print $2}')")
	dmakit_start tp:syscalls:sys_enter_getppid tp:syscalls:sys_exit_getppid --channel tid
	ud+=("$("$W/evsrc" 0 2 | awk '{print $2}')")
	dmakit_stop
	tc_start syscalls:sys_enter_getppid "common_pid > 0" syscalls:sys_exit_getppid "common_pid > 0"
	ut+=("$("$W/evsrc" 0 2 | awk '{print $2}')")
	tc_stop
done
sb=$(printf '%s\n' "${ub[@]}" | median)
sbspan=$(span "${ub[@]}"); sdspan=$(span "${ud[@]}"); stspan=$(span "${ut[@]}")
sd=$(printf '%s\n' "${ud[@]}" | median)
st=$(printf '%s\n' "${ut[@]}" | median)

global_after=$(global_state)
load_after=$(uptime | sed 's/.*load average: //')

table=$(python3 - "$b" "$d" "$t" "$dev_rate" "$dlost" "$sb" "$sd" "$st" "$best" \
	"$dcpu" "$dcpu_ev" "$tcpu" "$tcpu_ev" "$trep" "$load" "$load_after" "$REPS" "$SECS" \
	"$bspan" "$dspan" "$tspan" "$sbspan" "$sdspan" "$stspan" <<'PY'
import sys
b, d, t, evr, dlost, sb, sd, st, best, dcpu, dcev, tcpu, tcev, trep = map(float, sys.argv[1:15])
load0, load1, reps, secs = sys.argv[15:19]
bs, ds, ts, sbs, sds, sts = sys.argv[19:25]
evio = evr / d if d else 0            # traced events per I/O
def cost(base, traced, ev_per_op):
    # extra time per operation, spread over the events it produced
    return (1 / traced - 1 / base) * 1e9 / ev_per_op if traced and ev_per_op else 0
print("| block I/O load (fio 4 KiB O_DIRECT writes) | IOPS (median) | range | vs untraced | cost per event |")
print("|---|---:|---:|---:|---:|")
print("| untraced | %.0f | %s | 1.000 | |" % (b, bs))
print("| `dmakit trace` block_rq_issue -> irq | %.0f | %s | %.3f | %.0f ns |" % (d, ds, d / b, cost(b, d, evio)))
print("| `trace-cmd record` same events | %.0f | %s | %.3f | %.0f ns |" % (t, ts, t / b, cost(b, t, evio)))
print()
print("%.2f traced events per I/O (%.0f events/s); events lost by dmakit trace: %d" % (evio, evr, dlost))
print()
print("| getppid() source, unpaced | calls/s (median) | range | vs untraced | cost per event |")
print("|---|---:|---:|---:|---:|")
print("| untraced | %.0f | %s | 1.000 | |" % (sb, sbs))
print("| `dmakit trace` enter -> exit, per thread | %.0f | %s | %.3f | %.0f ns |" % (sd, sds, sd / sb, cost(sb, sd, 2)))
print("| `trace-cmd record` same events | %.0f | %s | %.3f | %.0f ns |" % (st, sts, st / sb, cost(sb, st, 2)))
print()
print("| tracer CPU time at 400k events/s (getppid paced) | events | CPU s | per event |")
print("|---|---:|---:|---:|")
print("| `dmakit trace` (reads, merges, pairs live) | %.0f | %.2f | %.0f ns |" % (dcev, dcpu, dcpu / dcev * 1e9 if dcev else 0))
print("| `trace-cmd record` (copies pages to a file) | %.0f | %.2f | %.0f ns |" % (tcev, tcpu, tcpu / tcev * 1e9 if tcev else 0))
print("| ... then `trace-cmd report` to read them (wall time) | %.0f | %.2f | %.0f ns |" % (tcev, trep, trep / tcev * 1e9 if tcev else 0))
print()
print("Highest paced event rate with zero lost events (4 MiB buffer per CPU): **%.0f events/s**" % best)
print()
print("Medians of %s runs of %s s; load average %s before, %s after." % (reps, secs, load0, load1))
PY
)
rate_table=$'| target events/s | achieved | lost | transactions |\n|---:|---:|---:|---|\n'"$rate_rows"

block=$(printf '%s\n\n%s\n\nRun on %s, kernel %s, %s CPUs.\n' "$table" "$rate_table" \
	"$(date -u +%Y-%m-%d)" "$(uname -r)" "$(nproc)")
echo "$block"
if [ "$global_before" != "$global_after" ]; then
	echo "bench/trace.sh: WARNING: the global trace buffer's settings changed:" >&2
	diff <(echo "$global_before") <(echo "$global_after") >&2 || true
fi
doc_block trace "$block"
