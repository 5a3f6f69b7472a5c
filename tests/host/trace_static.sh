# The statically linked CLI (what the VM tests put in the guest) traces:
# a tracepoint pair on this machine, outputs written, nothing left.
# timeout: 60
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
static=$TOP/build/bin/dmakit-static
t_check "dmakit-static was built (make static)" test -x "$static"
t_check "it needs no shared library" sh -c "! ldd '$static' >/dev/null 2>&1"
# raw_syscalls fire constantly: enough events in a short run
DMAKIT=$static start_tracer --start "tp:raw_syscalls:sys_enter" \
	--end "tp:raw_syscalls:sys_exit" --channel tid --interval 0 \
	--summary-json "$TMPDIR/sum.json" || { t_check "tracer starts" false; t_done; }
sleep 0.5
stop_tracer
t_eq "exit 0" "$TRACER_RC" 0
t_check "syscalls paired per thread" \
	test "$(json_get "$TMPDIR/sum.json" transactions)" -gt 0
t_check "nothing left" no_leftovers "$TRACER"
t_done
