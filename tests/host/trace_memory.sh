# The tracefs backend's memory stays bounded however far it falls behind:
# a tracer stopped (SIGSTOP, as a busy machine deschedules it) while
# 100 000 calls pile up in the kernel's buffer then reads them all, yet
# never holds more than the library's per-CPU queue (8192 events) between
# reading and pairing; every call is still paired, none lost.  A structural
# bound, not a timing: the time it takes does not matter.
# timeout: 300
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
cc -O2 -pthread -o "$TMPDIR/evsrc" "$TOP/bench/progs/evsrc.c" ||
	{ t_check "evsrc builds" false; t_done; }
not_running() { ! kill -0 "$1" 2>/dev/null; }

# 16 MiB per CPU hold the backlog (~24 bytes an event): no loss expected
start_tracer --backend tracefs --start tp:syscalls:sys_enter_getppid \
	--end tp:syscalls:sys_exit_getppid --buffer-kb 16384 --interval 0 \
	--summary-json "$TMPDIR/sum.json" ||
	{ t_check "tracer starts" false; t_done; }
kill -STOP "$TRACER"
"$TMPDIR/evsrc" 100000 1 >"$TMPDIR/src.out"
t_eq "the source ran while the tracer was stopped" "$?" 0
calls=$(awk '{print $1}' "$TMPDIR/src.out")
kill -CONT "$TRACER"
stop_tracer
t_eq "tracer exit status" "$TRACER_RC" 0
json() { json_get "$TMPDIR/sum.json" "$1"; }
t_eq "no event lost" "$(json lost_events)" 0
# other processes' getppid() calls count too: at least ours
t_check "every call paired ($calls made, $(json transactions) transactions)" \
	test "$(json transactions)" -ge "$calls"
t_eq "no orphan end" "$(json orphans)" 0
t_check "at most 8192 events held at once (held $(json queued_events_max), backlog $((2 * calls)) events)" \
	test "$(json queued_events_max)" -le 8192
t_check "the backlog did pass through the queue (held more than one page's)" \
	test "$(json queued_events_max)" -gt 200
t_done
