#!/usr/bin/env bash
# Full file systems end a recording cleanly: a small tmpfs (O_DIRECT on
# shmem) and a loop-mounted ext4 (real block allocation, growing file).
# Exit 1, "No space left on device", result disk-full, and the partial
# recording verifies.  A target without O_DIRECT (ramfs) falls back to the
# buffered engine with a notice.
# timeout: 300
. "$TOP/tests/host/lib.bash"
need_root
mnt=$TMPDIR/mnt
mkdir -p "$mnt"
cleanup() { umount "$mnt" 2>/dev/null; }
trap cleanup EXIT

full_case() {	# NAME ENGINE RECORD-ARGS...
	local name=$1 e=$2; shift 2
	local out=$mnt/full.dat
	"$DMAKIT" record -d sim:bufsize=256K,nbufs=16,policy=block,rate=max \
		-o "$out" --engine "$e" "$@" >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$name/$e: exits 1" "$?" 1
	t_grep "$name/$e: says the disk is full" "No space left on device" "$TMPDIR/err"
	t_eq "$name/$e: result disk-full" "$(json_get "$out.json" result)" disk-full
	local n
	n=$(json_get "$out.json" buffers)
	t_check "$name/$e: most of the space was used ($n buffers)" test "$n" -ge 40
	t_check "$name/$e: verify passes" "$DMAKIT" verify "$out" --quiet
	t_check "$name/$e: index and metadata agree" dmakit_py check "$out"
	rm -f "$mnt"/full.dat*
}

t_check "mount a 16 MiB tmpfs" mount -t tmpfs -o size=16M dmakit-test "$mnt"
for e in uring pwrite buffered mmap; do
	full_case tmpfs "$e" --size 64M
done
umount "$mnt"

img=$TMPDIR/ext4.img
truncate -s 32M "$img"
mkfs.ext4 -q -F "$img"
t_check "mount a 32 MiB ext4 image" mount -o loop "$img" "$mnt"
for e in uring mmap; do
	full_case ext4 "$e" --duration 60	# growing: fallocate ahead
	full_case ext4 "$e" --size 1G		# preallocation refused
done
t_grep "more than is free: a notice, nothing allocated up front" "1073741824 bytes requested, [0-9]+ free on the file system" "$TMPDIR/err"
umount "$mnt"

# ramfs refuses O_DIRECT
t_check "mount a ramfs" mount -t ramfs dmakit-test "$mnt"
out=$mnt/r.dat
"$DMAKIT" record -d sim:bufsize=64K,nbufs=16,policy=block -o "$out" --size 8M \
	--json >"$TMPDIR/j" 2>"$TMPDIR/err"
t_eq "ramfs: exits 0" "$?" 0
t_grep "ramfs: notice of the fallback" "notice: .*does not support O_DIRECT: using the buffered engine" "$TMPDIR/err"
t_eq "ramfs: buffered engine used" "$(json_get "$out.json" engine)" buffered
t_eq "ramfs: uring was asked for" "$(json_get "$out.json" engine_requested)" uring
t_eq "ramfs: not O_DIRECT" "$(json_get "$TMPDIR/j" direct)" false
t_check "ramfs: verify passes" "$DMAKIT" verify "$out" --quiet
t_done
