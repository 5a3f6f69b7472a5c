#!/usr/bin/env bash
# A raw block device as the target (a loop device over a file): the index
# and metadata need --sidecar; the device's end is a clean disk-full; a
# mounted device is refused; one holding a file system, a partition table,
# an encrypted volume or an earlier recording needs --force, and without it
# not a byte of it changes.
# timeout: 600
. "$TOP/tests/host/lib.bash"
need_root
img=$TMPDIR/disk.img
truncate -s 32M "$img"
loopdev=$(losetup -f --show "$img") || t_skip "no loop device available"
cleanup() { umount "$TMPDIR/mnt" 2>/dev/null; losetup -d "$loopdev"; }
trap cleanup EXIT
side=$TMPDIR/side

"$DMAKIT" record -d sim -o "$loopdev" --size 4M 2>"$TMPDIR/err"
t_eq "no --sidecar: usage error" "$?" 2
t_grep "no --sidecar: explained" "block device: give a sidecar prefix" "$TMPDIR/err"

force=	# the blank device needs none; once recorded on, it does
for e in uring pwrite buffered mmap; do
	"$DMAKIT" record -d sim:bufsize=256K,nbufs=16,policy=block,rate=max \
		-o "$loopdev" --sidecar "$side-$e" --size 16M --engine "$e" --quiet $force
	t_eq "$e: record to $loopdev" "$?" 0
	if [ -z "$force" ]; then
		"$DMAKIT" record -d sim -o "$loopdev" --sidecar "$side-again" \
			--size 4M 2>"$TMPDIR/err"
		t_eq "recorded device: refused without --force" "$?" 1
		t_grep "recorded device: says what it holds" \
			"holds a dmakit recording: not overwriting it without --force" "$TMPDIR/err"
		t_check "recorded device: the refusal left no sidecars" \
			test ! -e "$side-again.idx" -a ! -e "$side-again.json"
		t_check "recorded device: still verifies" \
			"$DMAKIT" verify "$loopdev" --sidecar "$side-$e" --quiet
		force=--force
	fi
	t_eq "$e: metadata says block device" "$(json_get "$side-$e.json" target)" block-device
	t_eq "$e: 64 buffers" "$(json_get "$side-$e.json" buffers)" 64
	t_check "$e: verify with --sidecar" "$DMAKIT" verify "$loopdev" --sidecar "$side-$e" --quiet
	t_check "$e: index and metadata agree" dmakit_py check "$loopdev" "$side-$e"
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
	-o "$loopdev" --sidecar "$side-end" --size 64M --force 2>"$TMPDIR/err" >/dev/null
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
"$DMAKIT" record -d sim -o "$loopdev" --sidecar "$side-m" --size 4M --force 2>"$TMPDIR/err"
t_eq "mounted device: exits 1 even with --force" "$?" 1
t_grep "mounted device: explained" "busy \(mounted or in use\?\)" "$TMPDIR/err"
umount "$TMPDIR/mnt"

# signatures: each made by its own tool on a wiped device (xfs and btrfs
# need bigger devices: a sparse 400 MiB image)
truncate -s 400M "$TMPDIR/big.img"
bigdev=$(losetup -f --show "$TMPDIR/big.img") || t_skip "no second loop device"
cleanup() { umount "$TMPDIR/mnt" 2>/dev/null; losetup -d "$loopdev"; losetup -d "$bigdev"; }
printf 'a1-test-key' >"$TMPDIR/key"
make_sig() {	# KIND DEVICE: write that signature
	case $1 in
	ext4) mkfs.ext4 -q -F "$2" ;;
	xfs) mkfs.xfs -q -f "$2" ;;
	btrfs) mkfs.btrfs -q -f "$2" ;;
	vfat) mkfs.vfat "$2" >/dev/null ;;
	swap) mkswap "$2" >/dev/null ;;
	mbr) echo 'label: dos' | sfdisk -q "$2" >/dev/null ;;
	gpt) echo 'label: gpt' | sfdisk -q "$2" >/dev/null ;;
	luks) cryptsetup luksFormat -q --batch-mode --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --key-file "$TMPDIR/key" "$2" ;;
	esac
}
for sig in "ext4:ext4 file system" "xfs:XFS file system" \
	   "btrfs:btrfs file system" "vfat:FAT file system" "swap:swap area" \
	   "mbr:MBR partition table" "gpt:GPT partition table" \
	   "luks:LUKS encrypted volume"; do
	kind=${sig%%:*} what=${sig#*:}
	wipefs -q -a "$bigdev"
	dd if=/dev/zero of="$bigdev" bs=1M count=1 conv=fsync status=none
	t_check "$kind: made" make_sig "$kind" "$bigdev"
	before=$(head -c 1M "$bigdev" | md5sum)
	"$DMAKIT" record -d sim:policy=block,rate=max -o "$bigdev" \
		--sidecar "$side-$kind" --size 4M 2>"$TMPDIR/err"
	t_eq "$kind: refused without --force" "$?" 1
	t_grep "$kind: names it" "holds an? $what: not overwriting it without --force" "$TMPDIR/err"
	t_eq "$kind: not a byte changed" "$(head -c 1M "$bigdev" | md5sum)" "$before"
	t_check "$kind: no sidecars left" test ! -e "$side-$kind.idx" -a ! -e "$side-$kind.json"
done
"$DMAKIT" record -d sim:policy=block,rate=max -o "$bigdev" \
	--sidecar "$side-forced" --size 4M --force --quiet
t_eq "luks: --force records over it" "$?" 0
t_check "luks: --force recording verifies" \
	"$DMAKIT" verify "$bigdev" --sidecar "$side-forced" --quiet
t_done
