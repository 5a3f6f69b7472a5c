#!/usr/bin/env bash
# Checkpoints with a slow source, for every engine: a recorder killed by
# SIGKILL after two checkpoints recovers at least the buffers the last
# checkpoint named, and that is more than nothing.  The copying engines
# (buffered, mmap) used to index a buffer only once its 32/64 MiB window
# was written back, so at 512 KiB/s no checkpoint came for a minute: the
# status said "0 B", the metadata "buffers": 0, and recover kept nothing.
# Also the fallback a user recording to tmpfs gets (no O_DIRECT: the
# buffered engine), on a tmpfs mounted here if we may, else forced.
# timeout: 600
. "$TOP/tests/host/lib.bash"

dev=sim:nbufs=16,bufsize=64K,rate=512K,policy=block

# meta_num FILE KEY: a number in the metadata, 0 if absent (cheap: polled)
meta_num() {
	local v
	v=$(sed -n "s/^ *\"$2\": \([0-9]*\),*$/\1/p" "$1" 2>/dev/null)
	echo "${v:-0}"
}
# the metadata names at least N checkpoints holding buffers
checkpointed() {
	[ "$(meta_num "$1" checkpoints)" -ge "$2" ] &&
		[ "$(meta_num "$1" checkpoint_buffers)" -gt 0 ]
}
recover_to() { "$DMAKIT" recover --json "$2" >"$1"; }
# the status line (stderr, not a terminal) reports recorded bytes
status_counts() { grep -Eq '^[0-9.]+ s +[1-9][0-9.]* (B|KiB|MiB)' "$1"; }

# crash NAME DIR ENGINE RECORD-ARGS...: record slowly, SIGKILL after two
# checkpoints, recover, verify; ENGINE is the one the metadata must name
# (any: not checked)
crash() {
	local name=$1 dir=$2 engine=$3 out ckpt_before ckpt st_buffers; shift 3
	out=$dir/$name.dat
	rm -f "$out" "$out".*
	"$DMAKIT" record -d "$dev" -o "$out" --duration 600 --checkpoint 0.2 \
		--status-interval 0.2s "$@" 2>"$TMPDIR/$name.err" >/dev/null &
	pid=$!
	# bound for a busy machine (the unfixed copying engines took a
	# minute: their first window filled); without them, kill at once
	if wait_for 30 checkpointed "$out.json" 2; then
		t_check "$name: two checkpoints holding buffers" true
		t_check "$name: the status counts what is recorded" \
			wait_for 10 status_counts "$TMPDIR/$name.err"
	else
		t_check "$name: two checkpoints holding buffers" false
	fi
	[ "$engine" = any ] ||
		t_eq "$name: engine" "$(json_get "$out.json" engine)" "$engine"
	ckpt_before=$(json_get "$out.json" checkpoint_buffers)
	kill -KILL "$pid"; wait "$pid" 2>/dev/null
	# a checkpoint may have landed between the read and the kill
	ckpt=$(json_get "$out.json" checkpoint_buffers)
	st_buffers=$(json_get "$out.json" buffers)
	t_check "$name: the checkpoint names buffers ($ckpt)" test "$ckpt" -gt 0
	t_check "$name: the metadata counts them ($st_buffers >= $ckpt)" \
		test "$st_buffers" -ge "$ckpt"
	t_check "$name: no checkpoint went back ($ckpt >= $ckpt_before)" \
		test "$ckpt" -ge "$ckpt_before"
	t_check "$name: recover" recover_to "$TMPDIR/$name-rec.json" "$out"
	t_check "$name: kept at least the checkpoint's $ckpt buffers" \
		test "$(json_get "$TMPDIR/$name-rec.json" buffers)" -ge "$ckpt"
	t_check "$name: verify passes" "$DMAKIT" verify "$out" --quiet
	t_check "$name: independent check" dmakit_py check "$out"
	rm -f "$out" "$out".*
}

for e in uring pwrite buffered mmap; do
	crash "$e" "$TMPDIR" "$e" --engine "$e"
done

# a user recording to /tmp or /dev/shm: tmpfs (O_DIRECT since Linux 6.6,
# before that the buffered engine), and ramfs, which has no O_DIRECT: the
# default engine falls back to buffered, with a notice.  Mounted here if
# we may, else the buffered engine forced.
mounted=()
trap 'for m in "${mounted[@]}"; do umount "$m"; done' EXIT
for fstype in tmpfs ramfs; do
	fs=$TMPDIR/$fstype
	mkdir -p "$fs"
	if [ "$(id -u)" != 0 ] || ! mount -t "$fstype" dmakit-test "$fs"; then
		echo "# cannot mount a $fstype: the buffered engine forced instead"
		crash "$fstype" "$fs" buffered --engine buffered
		continue
	fi
	mounted+=("$fs")
	if [ "$fstype" = ramfs ]; then
		crash "$fstype" "$fs" buffered
		t_grep "$fstype: says it falls back to the buffered engine" \
			"does not support O_DIRECT: using the buffered engine" \
			"$TMPDIR/$fstype.err"
	else
		crash "$fstype" "$fs" any
	fi
done
t_done
