# The statically linked CLI (what the VM tests put in the guest) traces:
# a tracepoint pair on this machine, outputs written, nothing left.
# timeout: 60
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
static=$TOP/build/bin/dmakit-static
t_check "dmakit-static was built (make static)" test -x "$static"
t_check "it needs no shared library" sh -c "! ldd '$static' >/dev/null 2>&1"
# getppid() calls made here (not every syscall on the machine: with cold
# caches those, the tracer's own reads included, outran the buffer and
# fifo pairing after a loss needs a quiet channel)
DMAKIT=$static start_tracer --start "tp:syscalls:sys_enter_getppid" \
	--end "tp:syscalls:sys_exit_getppid" --channel tid --interval 0 \
	--summary-json "$TMPDIR/sum.json" || { t_check "tracer starts" false; t_done; }
python3 -c 'import os
for _ in range(1000): os.getppid()'
stop_tracer
t_eq "exit 0" "$TRACER_RC" 0
t_check "1000 getppid() calls paired per thread" \
	test "$(json_get "$TMPDIR/sum.json" transactions)" -ge 1000
t_check "nothing left" no_leftovers "$TRACER"
t_done
