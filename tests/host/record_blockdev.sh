#!/usr/bin/env bash
# A raw block device as the target (a loop device over a file): the index
# and metadata need --sidecar; the device's end is a clean disk-full; a
# mounted device is refused.
# timeout: 300
. "$TOP/tests/host/lib.bash"
need_root
check="$TOP/tests/host/recording_check.py"
img=$TMPDIR/disk.img
truncate -s 32M "$img"
loopdev=$(losetup -f --show "$img") || t_skip "no loop device available"
cleanup() { umount "$TMPDIR/mnt" 2>/dev/null; losetup -d "$loopdev"; }
trap cleanup EXIT
side=$TMPDIR/side

"$DMAKIT" record -d sim -o "$loopdev" --size 4M 2>"$TMPDIR/err"
t_eq "no --sidecar: usage error" "$?" 2
t_grep "no --sidecar: explained" "block device: give a sidecar prefix" "$TMPDIR/err"

for e in uring pwrite buffered mmap; do
	"$DMAKIT" record -d sim:bufsize=256K,nbufs=16,policy=block,rate=max \
		-o "$loopdev" --sidecar "$side-$e" --size 16M --engine "$e" --quiet
	t_eq "$e: record to $loopdev" "$?" 0
	t_eq "$e: metadata says block device" "$(json_get "$side-$e.json" target)" block-device
	t_eq "$e: 64 buffers" "$(json_get "$side-$e.json" buffers)" 64
	t_check "$e: verify with --sidecar" "$DMAKIT" verify "$loopdev" --sidecar "$side-$e" --quiet
	t_check "$e: index and metadata agree" python3 "$check" "$loopdev" "$side-$e"
done

# the device's own bytes are what verify reads: damage one
printf '\xff' | dd of="$loopdev" bs=1 seek=$((3 * 262144 + 100)) conv=notrunc status=none
"$DMAKIT" verify "$loopdev" --sidecar "$side-mmap" 2>"$TMPDIR/err" >/dev/null
t_eq "damaged device data: verify fails" "$?" 1
t_grep "damaged device data: names the buffer" "seq 3 " "$TMPDIR/err"

"$DMAKIT" verify "$loopdev" 2>"$TMPDIR/err"
t_eq "verify without --sidecar: fails" "$?" 1
t_grep "verify without --sidecar: says what is missing" "$loopdev.idx" "$TMPDIR/err"

# past the end of the device
"$DMAKIT" record -d sim:bufsize=256K,nbufs=16,policy=block,rate=max \
	-o "$loopdev" --sidecar "$side-end" --size 64M 2>"$TMPDIR/err" >/dev/null
t_eq "past the end: exits 1" "$?" 1
t_grep "past the end: notice up front" "holds 33554432 bytes" "$TMPDIR/err"
t_grep "past the end: device full" "is full" "$TMPDIR/err"
t_eq "past the end: disk-full" "$(json_get "$side-end.json" result)" disk-full
t_eq "past the end: the whole device recorded" "$(json_get "$side-end.json" buffers)" 128
t_check "past the end: verify" "$DMAKIT" verify "$loopdev" --sidecar "$side-end" --quiet

# a mounted device is never overwritten
mkfs.ext4 -q -F "$loopdev"
mkdir -p "$TMPDIR/mnt"
mount "$loopdev" "$TMPDIR/mnt"
"$DMAKIT" record -d sim -o "$loopdev" --sidecar "$side-m" --size 4M 2>"$TMPDIR/err"
t_eq "mounted device: exits 1" "$?" 1
t_grep "mounted device: explained" "busy \(mounted or in use\?\)" "$TMPDIR/err"
t_done
