#!/usr/bin/env bash
# The cost of pairing transactions in the kernel (dmakit trace's BPF
# backend) against reading every event out (its tracefs backend), bpftrace
# doing the same pairing, and trace-cmd recording the same events (run as
# root; writes its table into docs/trace.md between the bench:backends
# markers, and prints it).
#
# The source is bench/progs/evsrc (getppid() calls), traced as
# sys_enter_getppid -> sys_exit_getppid paired per thread: one call, one
# transaction.  For each tracer, in one invocation with the untraced
# reference:
#   - paced at RATE (default 100 000 calls/s) for SECS: the CPU time of
#     the traced program beyond its untraced CPU time (what the kernel's
#     probes cost it) plus the tracer's own, per transaction; lost ones;
#   - unpaced (the maximum) for SECS: calls/s, the slowdown per call plus
#     the tracer's CPU per call; lost ones;
#   - paced at HIGH (default 1 000 000 calls/s, the issue's loss target)
#     shared by THREADS threads (default: one per CPU; one thread cannot
#     make 1 M traced calls/s here): the rate reached, lost ones;
#   Lost: dmakit's own exact count; for bpftrace and trace-cmd "~N", the
#   calls they did not report (they also see other processes' getppid()
#   calls, so it is a lower bound);
#   (dmakit's memory over a long run: bench/trace_memory.sh)
#
#   bench/trace_backends.sh [--quick]
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
DMAKIT=${DMAKIT:-$TOP/build/bin/dmakit}
SECS=${SECS:-4}
RATE=${RATE:-100000}
HIGH=${HIGH:-1000000}
THREADS=${THREADS:-$(nproc)}
[ "${1:-}" = --quick ] && SECS=2
TRACEFS=/sys/kernel/tracing
. "$TOP/bench/lib.sh"
bench_need bench/trace_backends.sh bpftrace trace-cmd python3 cc
W=$(mktemp -d /tmp/dmakit-bench-backends.XXXXXX)
TCI=tcbackends$$
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"; rmdir $TRACEFS/instances/$TCI 2>/dev/null || true' EXIT
cc -O2 -pthread -o "$W/evsrc" "$TOP/bench/progs/evsrc.c"
load=$(uptime | sed 's/.*load average: //')

# start_tracer KIND: TRACER (its pid) tracing; stop_tracer: its result
start_tracer() {
	case $1 in
	bpf|tracefs)
		"$DMAKIT" trace --backend "$1" --start tp:syscalls:sys_enter_getppid \
			--end tp:syscalls:sys_exit_getppid --interval 0 \
			--summary-json "$W/sum.json" >/dev/null 2>"$W/tr.err" &
		TRACER=$!
		wait_line "$W/tr.err" 'tracing\.\.\.' ;;
	bpftrace)
		bpftrace -e 'tracepoint:syscalls:sys_enter_getppid { @s[tid] = nsecs; }
			tracepoint:syscalls:sys_exit_getppid /@s[tid]/ {
				@lat = hist(nsecs - @s[tid]); @n = count(); delete(@s[tid]); }' \
			>"$W/bt.out" 2>&1 &
		TRACER=$!
		wait_line "$W/bt.out" '^Attaching'
		sleep 1 ;;	# "Attaching" comes before the probes are live
	trace-cmd)
		trace-cmd record -d -k -B $TCI -C mono -b 4096 \
			-e syscalls:sys_enter_getppid -e syscalls:sys_exit_getppid \
			-o "$W/tc.dat" >"$W/tc.out" 2>&1 &
		TRACER=$!
		for _ in $(seq 1 200); do
			[ "$(cat $TRACEFS/instances/$TCI/tracing_on 2>/dev/null)" = 1 ] && break
			sleep 0.05
		done
		sleep 0.2 ;;
	esac
	CPU0=$(cpu_secs "$TRACER")
}
# sets TCPU (CPU seconds), SEEN (transactions it reports), LOST ("-":
# it does not say); not in a subshell: it waits for the tracer's output
stop_tracer() {
	local kind=$1 cpu
	cpu=$(cpu_secs "$TRACER")
	kill -INT "$TRACER"; wait "$TRACER" || true
	TCPU=$(echo "$cpu $CPU0" | awk '{print $1 - $2}')
	LOST=-
	case $kind in
	bpf|tracefs)
		read -r SEEN LOST <<<"$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["transactions"], s["lost_events"])' "$W/sum.json")"
		rm -f "$W/sum.json" ;;
	bpftrace)
		SEEN=$(sed -n 's/^@n: //p' "$W/bt.out") ;;
	trace-cmd)
		rmdir $TRACEFS/instances/$TCI 2>/dev/null || true
		SEEN=$(trace-cmd report -i "$W/tc.dat" 2>/dev/null | grep -c sys_exit_getppid || true)
		rm -f "$W/tc.dat" ;;
	esac
	SEEN=${SEEN:-0}
}
# run_src RATE [THREADS] -> "CALLS CALLS_PER_S CPU_SECONDS" of evsrc
run_src() {
	local out
	out=$( { /usr/bin/time -f '%U %S' "$W/evsrc" "$1" "$SECS" "${2:-1}" 2>"$W/time"; } )
	echo "$out $(awk '{print $1 + $2}' "$W/time")"
}

echo "load average before: $load"
read -r -a kinds <<<"${KINDS:-bpf tracefs bpftrace trace-cmd}"
read -r pcalls _ pcpu <<<"$(run_src "$RATE")"
read -r mcalls mrate _ <<<"$(run_src 0)"
echo "untraced: paced $pcalls calls, $pcpu s CPU; unpaced $mrate calls/s"
paced_rows="" max_rows="" high_rows=""
for k in "${kinds[@]}"; do
	start_tracer "$k"
	read -r calls _ scpu <<<"$(run_src "$RATE")"
	stop_tracer "$k"; tcpu=$TCPU seen=$SEEN lost=$LOST
	row=$(echo "$calls $scpu $pcpu $pcalls $tcpu" | awk '{
		probe = ($2 / $1 - $3 / $4) * 1e9; own = $5 / $1 * 1e9
		printf "%.0f | %.0f | %.0f", probe, own, probe + own }')
	[ "$lost" = - ] && lost="~$(( calls > seen ? calls - seen : 0 ))"
	paced_rows+="| $k | $calls | $row | $lost |"$'\n'
	echo "paced $k: $calls calls, seen $seen, lost $lost, tracer CPU $tcpu s, source CPU $scpu s"

	start_tracer "$k"
	read -r calls rate _ <<<"$(run_src 0)"
	stop_tracer "$k"; tcpu=$TCPU seen=$SEEN lost=$LOST
	[ "$lost" = - ] && lost="~$(( calls > seen ? calls - seen : 0 ))"
	row=$(echo "$rate $mrate $tcpu $calls" | awk '{
		slow = (1e9 / $1 - 1e9 / $2); own = $3 / $4 * 1e9
		printf "%.0f | %.0f | %.0f | %.0f", $1, slow, own, slow + own }')
	max_rows+="| $k | $row | $lost of $calls |"$'\n'
	echo "unpaced $k: $rate calls/s, seen $seen, lost $lost, tracer CPU $tcpu s"

	start_tracer "$k"
	read -r calls rate _ <<<"$(run_src "$HIGH" "$THREADS")"
	stop_tracer "$k"; tcpu=$TCPU seen=$SEEN lost=$LOST
	[ "$lost" = - ] && lost="~$(( calls > seen ? calls - seen : 0 ))"
	own=$(echo "$tcpu $calls" | awk '{printf "%.0f", $1 / $2 * 1e9}')
	high_rows+="| $k | $rate | $own | $lost of $calls |"$'\n'
	echo "high $k: $rate calls/s ($THREADS threads), seen $seen, lost $lost, tracer CPU $tcpu s"
done

block=$(cat <<EOF
Paced at $RATE calls/s for $SECS s (untraced: $pcalls calls, $pcpu s of the source's CPU):

| tracer | transactions | probe cost in the traced program per transaction (ns) | tracer's own CPU per transaction (ns) | total (ns) | lost |
|---|---:|---:|---:|---:|---:|
${paced_rows}
Unpaced (untraced: $mrate calls/s):

| tracer | calls/s | slowdown per call (ns) | tracer's own CPU per call (ns) | total (ns) | lost |
|---|---:|---:|---:|---:|---|
${max_rows}
Paced at $HIGH calls/s shared by $THREADS threads for $SECS s:

| tracer | calls/s reached | tracer's own CPU per call (ns) | lost |
|---|---:|---:|---|
${high_rows}
Load average before: $load; after: $(uptime | sed 's/.*load average: //').
Run on $(date -u +%Y-%m-%d), kernel $(uname -r), $(nproc) CPUs, bpftrace $(bpftrace --version | awk '{print $2}'), trace-cmd $(trace-cmd -h 2>&1 | awk '/version/ {print $3; exit}').
EOF
)
echo "$block"
doc_block backends "$block"
