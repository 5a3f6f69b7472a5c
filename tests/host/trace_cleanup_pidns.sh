# Cleanup of leftovers across PID namespaces: a tracer in a container
# shares tracefs with the host, where the pids in session names mean other
# processes or none.  A live session is never removed from any namespace
# (its instance's lock says it lives); a dead one (tracer and reaper
# SIGKILLed) is removed from the host and from a new namespace alike.
# timeout: 240
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
build_progs || { t_check "test programs build" false; t_done; }
lib=$TMPDIR/progs/libseed.so
specs=(--start "uprobe:$lib:dma_from_host" --end "uretprobe:$lib:dma_wait")
in_pidns() { unshare --pid --fork --mount-proc "$@"; }

has_instance() { ls "$TRACEFS/instances" | grep -q "^dmakit_$1_"; }
has_uprobes() { grep -q ":dmakit_$1_" "$TRACEFS/uprobe_events"; }

# A live session, then a cleanup and a whole session in a new namespace
start_tracer "${specs[@]}" --interval 0 --summary-json "$TMPDIR/live.json" ||
	{ t_check "tracer starts" false; t_done; }
live=$TRACER
t_check "the live session has its instance" has_instance "$live"
t_check "the live session has its uprobes" has_uprobes "$live"
in_pidns "$DMAKIT" trace --cleanup >"$TMPDIR/ns.out" 2>"$TMPDIR/ns.err"
t_eq "--cleanup in a new PID namespace: exit 0" "$?" 0
t_check "  the live session's instance survives" has_instance "$live"
t_check "  the live session's uprobes survive" has_uprobes "$live"
in_pidns "$DMAKIT" trace "${specs[@]}" --duration 0.3 >/dev/null 2>"$TMPDIR/ns2.err"
t_eq "a session in a new PID namespace: exit 0" "$?" 0
t_check "  the live session's instance survives it" has_instance "$live"
t_check "  the live session's uprobes survive it" has_uprobes "$live"
"$TMPDIR/progs/seedapp" "$TMPDIR/gt.txt" 40x200:0:100 >/dev/null
t_eq "the traced program ran" "$?" 0
stop_tracer
t_eq "the live session ends: exit 0" "$TRACER_RC" 0
t_eq "the live session kept tracing: 40 transactions" \
	"$(json_get "$TMPDIR/live.json" transactions)" 40
t_check "the live session left nothing" wait_no_leftovers "$live" 60

# The reaper of tracer $1: the process that runs its command line in a
# session of its own (see lib/trace/probe.c)
reaper_of() {
	local want p
	want=$(tr '\0' ' ' <"/proc/$1/cmdline")
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" != "$1" ] || continue
		[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "$want" ] || continue
		[ "$(sed 's/.*) //' "/proc/$p/stat" | cut -d' ' -f4)" = "$p" ] &&
			{ echo "$p"; return 0; }
	done
	return 1
}

# A dead session (its reaper killed first, so nothing removes its
# objects), cleaned up from a new namespace, then one from the host's
for where in pidns host; do
	start_tracer "${specs[@]}" --interval 0 ||
		{ t_check "tracer starts" false; t_done; }
	dead=$TRACER
	reaper=$(reaper_of "$dead")
	t_check "$where: the tracer's reaper is found" test -n "$reaper"
	[ -n "$reaper" ] && kill -KILL "$reaper"
	kill -KILL "$dead"
	wait "$dead" 2>/dev/null
	t_check "$where: the dead session's instance is left" has_instance "$dead"
	t_check "$where: the dead session's uprobes are left" has_uprobes "$dead"
	if [ "$where" = pidns ]; then
		in_pidns "$DMAKIT" trace --cleanup >"$TMPDIR/out" 2>"$TMPDIR/err"
	else
		"$DMAKIT" trace --cleanup >"$TMPDIR/out" 2>"$TMPDIR/err"
	fi
	t_eq "$where: --cleanup exit 0" "$?" 0
	# (another session on the machine may have removed them first)
	t_check "$where: the dead session's objects are removed" no_leftovers "$dead"
done

# Made-up leftovers named for a running process: in another namespace
# (inode 1 is none) and unlocked, dead; in ours, alive (it may be between
# creating its instance and locking it)
sleep 100000 &
owner=$!
owner_start=$(printf '%x' "$(sed 's/.*) //' "/proc/$owner/stat" | cut -d' ' -f20)")
ourns=$(printf '%x' "$(stat -L -c %i /proc/self/ns/pid)")
other=dmakit_${owner}_${owner_start}_beef_1
ours=dmakit_${owner}_${owner_start}_cafe_$ourns
mkdir "$TRACEFS/instances/$other" "$TRACEFS/instances/$ours"
"$DMAKIT" trace --cleanup >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "made-up leftovers: --cleanup exit 0" "$?" 0
t_check "an unlocked instance of another namespace is removed" \
	test ! -d "$TRACEFS/instances/$other"
t_check "an instance of a running process of ours is kept" \
	test -d "$TRACEFS/instances/$ours"
kill "$owner"
wait "$owner" 2>/dev/null
"$DMAKIT" trace --cleanup >"$TMPDIR/out" 2>"$TMPDIR/err"
t_check "once its process is gone, it is removed" \
	test ! -d "$TRACEFS/instances/$ours"
rmdir "$TRACEFS/instances/$other" "$TRACEFS/instances/$ours" 2>/dev/null
t_done
