# --backend auto says which backend it took and why, in the header and in
# the summary JSON (backend, backend_reason): BPF where it can, tracefs for
# a shape BPF cannot trace, and tracefs when loading the BPF program fails
# (made to fail honestly: root without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN,
# which tracefs does not need); every choice traces every transaction.
# timeout: 240
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
command -v setpriv >/dev/null || { t_check "setpriv (util-linux) is installed" false; t_done; }
build_progs || { t_check "test programs build" false; t_done; }
lib=$TMPDIR/progs/libseed.so
nocaps=(setpriv --bounding-set -bpf,-perfmon,-sys_admin)

# run_auto NAME [PREFIX...] -- TRACE-ARGS...: trace 30 calls of seedapp
run_auto() {
	local name=$1 pre=()
	shift
	while [ "$1" != -- ]; do pre+=("$1"); shift; done
	shift
	SEEDAPP_WAIT=1 "$TMPDIR/progs/seedapp" "$TMPDIR/gt.txt" 30x200:0:100 \
		>"$TMPDIR/app.out" &
	local app=$!
	wait_for 60 grep -qs ready "$TMPDIR/app.out"
	"${pre[@]}" "$DMAKIT" trace --backend auto --pid "$app" "$@" --interval 0 \
		--summary-json "$TMPDIR/$name.json" >/dev/null 2>"$TMPDIR/$name.err" &
	local tracer=$!
	wait_for 60 grep -qs 'tracing\.\.\.' "$TMPDIR/$name.err"
	kill -USR1 "$app"
	wait "$app"
	wait "$tracer"	# it ends when the process exits
	t_eq "$name: exit 0" "$?" 0
	t_eq "$name: all 30 transactions" "$(json_get "$TMPDIR/$name.json" transactions)" 30
}

# BPF can: it is taken, and the header and JSON say so
run_auto bpf -- --start "uprobe:$lib:dma_from_host" --end "uretprobe:$lib:dma_wait"
t_grep "bpf: the header names it and why" \
	"^dmakit trace: backend bpf \(auto: the kernel has BTF" "$TMPDIR/bpf.err"
t_eq "bpf: JSON backend" "$(json_get "$TMPDIR/bpf.json" backend)" bpf
t_check "bpf: JSON backend_reason" \
	grep -q '"backend_reason": "auto: the kernel has BTF' "$TMPDIR/bpf.json"

# a shape BPF does not trace (a filter on a variable-length field besides
# the uprobes)
run_auto shape -- --start "uprobe:$lib:dma_from_host" --end "uretprobe:$lib:dma_wait" \
	--end 'tp:sched:sched_process_exec:filename == "/nonexistent"'
t_eq "shape: JSON backend" "$(json_get "$TMPDIR/shape.json" backend)" tracefs
t_check "shape: JSON backend_reason says why" \
	grep -q '"backend_reason": "auto: not bpf, .*variable-length field' "$TMPDIR/shape.json"
t_grep "shape: the header says why" \
	"^dmakit trace: backend tracefs \(auto: not bpf, .*variable-length field" "$TMPDIR/shape.err"

# the BPF program cannot load: the kernel refuses it to a process without
# the capabilities; tracefs traces on and both outputs say why
run_auto noload "${nocaps[@]}" -- --start "uprobe:$lib:dma_from_host" \
	--end "uretprobe:$lib:dma_wait"
t_eq "noload: JSON backend" "$(json_get "$TMPDIR/noload.json" backend)" tracefs
t_check "noload: JSON backend_reason gives the load failure" \
	grep -q '"backend_reason": "auto: not bpf, loading BPF programs needs CAP_BPF and CAP_PERFMON.*Operation not permitted' \
	"$TMPDIR/noload.json"
t_grep "noload: the header gives the load failure" \
	"^dmakit trace: backend tracefs \(auto: not bpf, loading BPF programs needs CAP_BPF" \
	"$TMPDIR/noload.err"

# asked for by name, the same failure is an error
"${nocaps[@]}" "$DMAKIT" trace --backend bpf --start "uprobe:$lib:dma_from_host" \
	--end "uretprobe:$lib:dma_wait" --duration 0.2 >/dev/null 2>"$TMPDIR/forced.err"
t_eq "--backend bpf that cannot load: exit 1" "$?" 1
t_grep "--backend bpf that cannot load: says why" \
	"^dmakit trace: loading BPF programs needs CAP_BPF and CAP_PERFMON" "$TMPDIR/forced.err"
t_done
