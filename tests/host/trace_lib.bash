# Helpers for the tracing tests (sourced after lib.bash).

TRACEFS=/sys/kernel/tracing

# Root, tracefs and the kernel features these tests use, or skip.
need_tracing() {
	need_root
	if [ ! -e "$TRACEFS/trace" ]; then
		mount -t tracefs nodev "$TRACEFS" 2>/dev/null ||
			t_skip "no tracefs on this kernel"
	fi
	[ -e "$TRACEFS/uprobe_events" ] || t_skip "kernel without uprobes"
	[ -d "$TRACEFS/events/irq/irq_handler_entry" ] ||
		t_skip "kernel without irq tracepoints"
}

# The global buffer's settings: must be the same before and after.
global_state() {
	local f
	for f in tracing_on current_tracer trace_clock buffer_size_kb set_event \
		 options/overwrite; do
		printf '%s=%s\n' "$f" "$(tr '\n' ' ' < "$TRACEFS/$f")"
	done
}

# The whole disk under the root filesystem, from sysfs: a partition's
# parent (vda1 -> vda, nvme0n1p1 -> nvme0n1), a disk itself.
root_disk() {
	local dev
	dev=$(basename "$(findmnt -n -o SOURCE /)")
	[ -e "/sys/class/block/$dev" ] || return 1
	[ -e "/sys/class/block/$dev/partition" ] &&
		dev=$(basename "$(dirname "$(readlink -f "/sys/class/block/$dev")")")
	echo "$dev"
}

# PCI address of the block device behind the root filesystem (virtio-blk).
root_disk_bdf() {
	local dev dir
	dev=$(root_disk) || return 1
	[ -e "/sys/block/$dev/device" ] || return 1
	dir=$(readlink -f "/sys/block/$dev/device")
	while [ "$dir" != / ]; do
		case $(basename "$dir") in
		[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:*:*.*) basename "$dir"; return 0 ;;
		esac
		dir=$(dirname "$dir")
	done
	return 1
}

# dev_t of a block device as the block tracepoints report it (MKDEV).
block_devt() {
	local majmin
	majmin=$(cat "/sys/block/$1/dev")
	echo $(( (${majmin%%:*} << 20) | ${majmin##*:} ))
}

# Start "dmakit trace ARGS..." in the background; wait until tracing is on.
# Sets TRACER (its pid); its stderr goes to $TMPDIR/tracer.err.
start_tracer() {
	# not an earlier tracer's line: the redirection below truncates in the
	# background child, maybe after the loop has read the previous
	# tracer's "tracing..." (seen: trace_cleanup checked a tracer that had
	# set nothing up yet, 1 run in 8)
	rm -f "$TMPDIR/tracer.out" "$TMPDIR/tracer.err"
	"$DMAKIT" trace "$@" >"$TMPDIR/tracer.out" 2>"$TMPDIR/tracer.err" &
	TRACER=$!
	local i
	# up to 60 s: setting a session up takes seconds on a loaded machine
	for i in $(seq 1 1200); do
		grep -q 'tracing\.\.\.' "$TMPDIR/tracer.err" 2>/dev/null && return 0
		kill -0 "$TRACER" 2>/dev/null || break
		sleep 0.05
	done
	echo "tracer did not start:"; cat "$TMPDIR/tracer.err"
	return 1
}

# Stop the tracer with SIGINT and wait; sets TRACER_RC.
# wait_grep PATTERN FILE SECONDS: wait until FILE holds a line matching PATTERN.
wait_grep() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

stop_tracer() {
	kill -INT "$TRACER"
	wait "$TRACER"
	TRACER_RC=$?
}

# Wait up to $2 seconds until no_leftovers $1 holds.
wait_no_leftovers() {
	local i
	for i in $(seq 1 $(($2 * 20))); do
		no_leftovers "$1" && return 0
		sleep 0.05
	done
	return 1
}

# No dmakit instance or uprobe of this test's tracers is left behind.
no_leftovers() {
	! ls "$TRACEFS/instances" | grep -q "^dmakit_$1_" &&
		! grep -q ":dmakit_$1_" "$TRACEFS/uprobe_events"
}

# Build the test programs (tests/host/progs) into $TMPDIR/progs.
build_progs() {
	local p=$TMPDIR/progs src=$TOP/tests/host/progs
	mkdir -p "$p"
	cc -O2 -g -shared -fPIC -o "$p/libseed.so" "$src/seedlib.c" &&
	cc -O2 -g -o "$p/seedapp" "$src/seedapp.c" -L"$p" -lseed \
		-Wl,-rpath,"$p" &&
	cc -O2 -g -shared -fPIC -o "$p/libvendor.so" "$src/vendorlib.c" &&
	cc -O2 -g -pthread -o "$p/vendorapp" "$src/vendorapp.c" -L"$p" \
		-lvendor -Wl,-rpath,"$p" &&
	cc -O2 -g -pthread -o "$p/threadchurn" "$src/threadchurn.c" &&
	cc -O2 -g -I"$TOP/include" -I"$TOP/include/uapi" -o "$p/usdt_xfer" \
		"$src/usdt_xfer.c" -L"$TOP/build/lib" -ldmakit \
		-Wl,-rpath,"$TOP/build/lib"
}

# vendor_bursts TAG TRACER_PID GT: vendorapp's 4 threads (ground truth GT)
# in four phases, burst, slow, burst, slow, with the tracer stopped around
# each burst (loss at any machine speed: a starved reader, made certain);
# vendorapp stops itself after each phase (":stop"), so the stops fall
# exactly around the bursts.  The program's exit status in APP_RC.
vendor_bursts() {
	local tag=$1 tracer=$2 gt=$3
	BURSTS_OUT=$TMPDIR/app_$1.out
	kill -STOP "$tracer"
	t_check "$tag: tracer stopped for burst 1" wait_for 60 is_stopped "$tracer"
	"$P/vendorapp" "$gt" 4 3000x0:stop 150x20000:stop 3000x0:stop 150x20000 \
		>"$BURSTS_OUT" &
	APP=$!
	t_check "$tag: burst 1 done" wait_for 120 burst_stop_point 1
	kill -CONT "$tracer"
	kill -CONT "$APP"		# slow phase 1, read as it happens
	t_check "$tag: slow phase 1 done" wait_for 120 burst_stop_point 2
	kill -STOP "$tracer"
	t_check "$tag: tracer stopped for burst 2" wait_for 60 is_stopped "$tracer"
	kill -CONT "$APP"
	t_check "$tag: burst 2 done" wait_for 120 burst_stop_point 3
	kill -CONT "$tracer"
	kill -CONT "$APP"		# slow phase 2
	wait "$APP"
	APP_RC=$?
}
# burst_stop_point N: vendorapp printed "stop N" and is stopped
burst_stop_point() {
	grep -q "^stop $1 " "$BURSTS_OUT" 2>/dev/null && is_stopped "$APP"
}
