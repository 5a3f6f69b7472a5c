#!/usr/bin/env bash
# The receiver's disk fills up mid-stream: recv stops cleanly with
# "No space left on device", the recording so far verifies with result
# disk-full, and the sender is told why in the FINAL frame.
# timeout: 120
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/net_lib.bash"
need_root
mnt=$TMPDIR/mnt
mkdir -p "$mnt"
trap 'umount "$mnt" 2>/dev/null' EXIT
t_check "mount a 16 MiB tmpfs" mount -t tmpfs -o size=16M dmakit-net "$mnt"
rm -f "$TMPDIR/full.port"
$DMAKIT recv -l 127.0.0.1:0 -o "$mnt/full.dat" --port-file "$TMPDIR/full.port" \
	-q 2>"$TMPDIR/full.recv.err" &
RECV_PID=$!
wait_file "$TMPDIR/full.port"
$DMAKIT send -d "sim:bufsize=256K,nbufs=16,rate=100M" 127.0.0.1:$(cat "$TMPDIR/full.port") \
	--size 64M >/dev/null 2>"$TMPDIR/full.send.err"
rc=$?
wait_recv
t_eq "disk full: recv exits 1" "$RECV_RC" 1
t_grep "disk full: recv says so" "No space left on device" "$TMPDIR/full.recv.err"
t_eq "disk full: send exits 1" "$rc" 1
t_grep "disk full: the sender is told" "receiver failed: .*No space left on device" "$TMPDIR/full.send.err"
t_eq "disk full: result disk-full" "$(json_get "$mnt/full.dat.json" result)" disk-full
t_check "disk full: the partial recording verifies" $DMAKIT verify "$mnt/full.dat" --quiet
t_check "disk full: most of the space was used" \
	test "$(json_get "$mnt/full.dat.json" buffers)" -ge 40
umount "$mnt"
t_done
