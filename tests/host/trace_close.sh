#!/usr/bin/env bash
# --close and --channel chosen by hand, on system calls this script makes
# with a marker argument (getpgid/getsid of a pid that does not exist,
# filtered on it: no other process's calls count), so the right numbers
# follow from the calls made:
#   100 rounds of 3 starts then 1 end, one thread:
#     --close batch --channel none: every end closes its 3 starts: 300
#       transactions, 100 ends coalesced;
#     --close fifo --channel none: an end closes the oldest start: 100;
#   100 starts in one thread, then 100 ends in another:
#     --close fifo --channel tid: no end is in a start's thread: 0;
#     --close fifo --channel none: 100.
# timeout: 300
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
marker=$((4000000 + $$ % 100000))	# above pid_max's default: never a process
start="tp:syscalls:sys_enter_getpgid:pid == $marker"
end="tp:syscalls:sys_enter_getsid:pid == $marker"

calls() {	# MODE: "rounds" or "threads"
	python3 - "$1" "$marker" <<'PY'
import os, sys, threading
mode, marker = sys.argv[1], int(sys.argv[2])
def call(f):
    try:
        f(marker)
    except ProcessLookupError:
        pass
    else:
        sys.exit("pid %d exists" % marker)
if mode == "rounds":
    for _ in range(100):
        for _ in range(3):
            call(os.getpgid)
        call(os.getsid)
else:
    for f in (os.getpgid, os.getsid):
        t = threading.Thread(target=lambda: [call(f) for _ in range(100)])
        t.start()
        t.join()
PY
}

summary() { python3 -c "import json; s=json.load(open('$TMPDIR/$1.json')); print(*[$2])"; }

# trace NAME CALLS STARTS TRACE-OPTIONS...: the calls traced with those
# options; every call seen (STARTS starts, 100 ends), none lost
trace() {
	local name=$1 mode=$2 starts=$3
	shift 3
	start_tracer --start "$start" --end "$end" "$@" --interval 0 \
		--summary-json "$TMPDIR/$name.json" || { t_check "$name: tracer starts" false; return 1; }
	calls "$mode"
	t_eq "$name: the calls ran" "$?" 0
	stop_tracer
	t_eq "$name: tracer exit 0" "$TRACER_RC" 0
	local seen
	seen=$(summary "$name" 's["start_events"], s["end_events"], s["lost_events"]')
	t_eq "$name: every call seen ($starts starts, 100 ends), none lost" "$seen" "$starts 100 0"
	[ "$seen" = "$starts 100 0" ] ||
		{ echo "the tracer's output:"; cat "$TMPDIR/tracer.err" "$TMPDIR/$name.json"; }
}

trace batch rounds 300 --close batch --channel none
t_eq "batch: 300 transactions (each end closes its round's 3 starts)" \
	"$(json_get "$TMPDIR/batch.json" transactions)" 300
t_eq "batch: the mode is as asked" "$(json_get "$TMPDIR/batch.json" pairing)" batch
t_eq "batch: 100 ends coalesced" "$(summary batch 's["coalesced"]["ends"]')" 100

trace fifo rounds 300 --close fifo --channel none
t_eq "fifo: 100 transactions (each end closes the oldest start)" \
	"$(json_get "$TMPDIR/fifo.json" transactions)" 100
t_eq "fifo: the mode is as asked" "$(json_get "$TMPDIR/fifo.json" pairing)" fifo

trace tid threads 100 --close fifo --channel tid
t_eq "--channel tid: no end in a start's thread, no transaction" \
	"$(json_get "$TMPDIR/tid.json" transactions)" 0
trace none threads 100 --close fifo --channel none
t_eq "--channel none: 100 transactions across the threads" \
	"$(json_get "$TMPDIR/none.json" transactions)" 100
t_check "nothing left" wait_no_leftovers "$TRACER" 30
t_done
