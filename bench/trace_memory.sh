#!/usr/bin/env bash
# Resident memory of `dmakit trace` over a long run, on each backend (run
# as root; writes its table into docs/trace.md between the bench:memory
# markers, and prints it).
#
# The source is bench/progs/evsrc (getppid() calls at RATE, default
# 100 000/s), traced as sys_enter_getppid -> sys_exit_getppid paired per
# thread, for SECS (default 600).  The tracer's RSS 10 s, 60 s and SECS
# after the source started, its peak (VmHWM), and what it counted.
#
#   bench/trace_memory.sh [--quick]      (--quick: 60 s)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
DMAKIT=${DMAKIT:-$TOP/build/bin/dmakit}
RATE=${RATE:-100000}
SECS=${SECS:-600}
[ "${1:-}" = --quick ] && SECS=60
. "$TOP/bench/lib.sh"
bench_need bench/trace_memory.sh python3 cc
W=$(mktemp -d /tmp/dmakit-bench-memory.XXXXXX)
trap 'rm -rf "$W"' EXIT
cc -O2 -pthread -o "$W/evsrc" "$TOP/bench/progs/evsrc.c"
load=$(uptime | sed 's/.*load average: //')
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

rows=""
for k in bpf tracefs; do
	rm -f "$W/sum.json"	# the previous backend's (trace keeps a file with data)
	"$DMAKIT" trace --backend "$k" --start tp:syscalls:sys_enter_getppid \
		--end tp:syscalls:sys_exit_getppid --interval 0 \
		--summary-json "$W/sum.json" >/dev/null 2>"$W/tr.err" &
	tracer=$!
	wait_line "$W/tr.err" 'tracing\.\.\.'
	"$W/evsrc" "$RATE" "$SECS" >"$W/src.out" &
	src=$!
	t0=$(date +%s)
	declare -A at=()
	for mark in 10 60 "$SECS"; do
		while [ $(( $(date +%s) - t0 )) -lt "$mark" ] && kill -0 "$src" 2>/dev/null; do
			sleep 0.5
		done
		at[$mark]=$(rss_kib "$tracer")
	done
	wait "$src"
	hwm=$(hwm_kib "$tracer")
	kill -INT "$tracer"
	wait "$tracer"
	read -r seen lost queued <<<"$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); q = s.get("queued_events_max"); print(s["transactions"], s["lost_events"], "-" if q is None else q)' "$W/sum.json")"
	rows+="| $k | $(mib "${at[10]}") | $(mib "${at[60]}") | $(mib "${at[$SECS]}") | $(mib "$hwm") | $seen | $lost | $queued |"$'\n'
	echo "$k: RSS ${at[10]} / ${at[60]} / ${at[$SECS]} KiB at 10 / 60 / $SECS s, peak $hwm KiB; $seen transactions, $lost lost, queued max $queued"
	unset at
done

block=$(cat <<EOB
Resident memory of \`dmakit trace\` (MiB) at $RATE getppid() calls/s, paired per thread, after the source started:

| backend | 10 s | 60 s | $SECS s | peak (VmHWM) | transactions | lost | queued_events_max |
|---|---:|---:|---:|---:|---:|---:|---:|
${rows}
Load average before: $load; after: $(uptime | sed 's/.*load average: //').
Run on $(date -u +%Y-%m-%d), kernel $(uname -r), $(nproc) CPUs.
EOB
)
echo "$block"
doc_block memory "$block"
