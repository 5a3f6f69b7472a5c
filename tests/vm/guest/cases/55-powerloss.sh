# timeout: 900
# The power-loss matrix (issue 11; the way xfstests tests crash
# consistency with dm-log-writes): `dmakit record` into a file on ext4
# whose device is a device-mapper log-writes target, so every write,
# flush and FUA that reached the "disk" is logged in order; then the log
# is replayed onto a copy of the pristine file system up to a sample of
# flush/FUA entries -- the disk's state had power been lost right there
# -- and at each one the file system is mounted (its journal replayed),
# `dmakit recover` + `dmakit verify` must succeed and the recording must
# hold at least every buffer up to the last checkpoint made durable in
# that prefix.  That checkpoint is taken from the log itself: the
# checkpoint thread writes metadata saying "checkpoint_buffers": K only
# after fdatasync of data and index returned, so a prefix holding that
# text holds K durable buffers, whatever the replayed metadata says.
# Before the first checkpoint nothing is promised, and recover must say
# what it kept (or that there is nothing) and never claim more than
# verify proves.
#
# Disks: /dev/vdc, 64 MiB ext4 made on the host (busybox makes only
# ext2), is the pristine image, never written; /dev/vda is sliced with
# dm-linear into the origin (64 MiB, a copy of vdc, under log-writes),
# the scratch device each point is replayed onto (64 MiB) and the log
# (128 MiB).  vm_dm (device-mapper ioctls) and vm_logwrites (the log's
# reader and replayer) are in tests/vm/prog.
. /dmakit/lib.sh

PRISTINE=/dev/vdc
MB64=131072		# 64 MiB in 512-byte sectors
RECORD_SIZE=16M		# 64 buffers of 256 KiB
RATE=4194304		# 4 MiB/s: ~4 s of recording, ~8 checkpoints
CHECKPOINT=0.5
RANDOM_POINTS=6
FIND='"checkpoint_buffers": '

# Debian's stock kernels have dm-log-writes as a module (packed and
# loaded at boot); the debug kernel (x86_64_defconfig based) lacks it
if ! vm_dm targets >/tmp/pl-targets 2>&1 || ! grep -qx log-writes /tmp/pl-targets; then
	if [ "${DMAKIT_VM_KERNEL:-}" = debug ]; then
		echo "skip - power-loss matrix: the debug kernel has no dm-log-writes target (CONFIG_DM_LOG_WRITES is not set in scripts/debug-kernel/dmakit-debug.config); Debian's stock kernels run it"
		exit 0
	fi
	sed 's/^/  /' /tmp/pl-targets
	t_check "device-mapper has the log-writes target (dm-log-writes.ko)" false
	t_done
fi
t_check "the pristine ext4 image is there ($PRISTINE)" test -b "$PRISTINE"
[ "$T_FAILED" -eq 0 ] || t_done

cleanup() {
	umount /pl 2>/dev/null
	for n in pl-w pl-o pl-s pl-l; do
		vm_dm remove $n 2>/dev/null
	done
}
trap cleanup EXIT

# dm_new NAME TARGET SECTORS ARGS: create a device, wait for its node
dm_new() {
	local dev
	dev=$(vm_dm create "$@") || return 1
	wait_for 30 test -b "$dev" || return 1
	echo "$dev"
}

ORIGIN=$(dm_new pl-o linear $MB64 "/dev/vda 0")
t_check "dm-linear origin on /dev/vda ($ORIGIN)" test -n "$ORIGIN"
SCRATCH=$(dm_new pl-s linear $MB64 "/dev/vda $MB64")
t_check "dm-linear scratch on /dev/vda ($SCRATCH)" test -n "$SCRATCH"
LOG=$(dm_new pl-l linear $((2 * MB64)) "/dev/vda $((2 * MB64))")
t_check "dm-linear log on /dev/vda ($LOG)" test -n "$LOG"
[ "$T_FAILED" -eq 0 ] || t_done
dd if=$PRISTINE of="$ORIGIN" bs=1M conv=fsync 2>/dev/null
t_eq "the origin holds the pristine file system" \
	"$(md5sum <"$ORIGIN")" "$(md5sum <$PRISTINE)"
# no super of an earlier log may survive
dd if=/dev/zero of="$LOG" bs=1M count=1 conv=fsync 2>/dev/null

LW=$(dm_new pl-w log-writes $MB64 "$ORIGIN $LOG")
t_check "log-writes over the origin ($LW)" test -n "$LW"
[ "$T_FAILED" -eq 0 ] || t_done
mkdir -p /pl
t_check "mount ext4 on the log-writes device" mount -t ext4 "$LW" /pl
[ "$T_FAILED" -eq 0 ] || t_done

load_dmakit
sim=$(card_dev sim)
s=$(card_sys "$sim")
set_ring() {
	echo "$1" >"$s/ring_nbufs" && echo "$2" >"$s/ring_bufsize" &&
		echo "$3" >"$s/policy" && echo "$4" >"$s/rate"
}
t_check "ring: 32 x 256 KiB, block, 4 MiB/s" set_ring 32 262144 block $RATE
vm_dm message pl-w "mark record-start"
dmakit record -d "$sim" -o /pl/run.dat --size $RECORD_SIZE --checkpoint $CHECKPOINT \
	--json --quiet >/tmp/pl-rec.json 2>/tmp/pl-rec.err
t_eq "record $RECORD_SIZE into a file on ext4 over log-writes, --checkpoint $CHECKPOINT" $? 0
vm_dm message pl-w "mark record-end"
TOTAL=$(json_get /tmp/pl-rec.json buffers)
echo "  recorded $TOTAL buffers, $(json_get /tmp/pl-rec.json checkpoints) checkpoints ($(json_get /tmp/pl-rec.json engine))"
t_check "umount" umount /pl
vm_dm message pl-w "mark unmounted"
t_check "remove the log-writes device (its super names every entry)" vm_dm remove pl-w
set_ring 32 262144 drop 0

vm_logwrites list "$LOG" "$FIND" >/tmp/pl-log.txt
t_eq "read the log" $? 0
# entries: "INDEX FLAGS SECTOR NR [mark=NAME] [find=K...]"
NENTRIES=$(grep -vc '^#' /tmp/pl-log.txt)
LAST=$((NENTRIES - 1))
mark_at() { awk -v m="mark=$1" '$5 == m { print $1; exit }' /tmp/pl-log.txt; }
M_START=$(mark_at record-start)
M_END=$(mark_at record-end)
t_check "the log holds the marks (record-start ${M_START:-?}, record-end ${M_END:-?})" \
	test -n "$M_START" -a -n "$M_END"
echo "  log: $NENTRIES entries, $(awk '$2 ~ /[FU]/' /tmp/pl-log.txt | wc -l) flush/FUA, $(awk '$2 == "-" || $2 == "m"' /tmp/pl-log.txt | wc -l) plain writes"
# each checkpoint's metadata text, where it first appears: "ENTRY K"
awk '{ for (i = 5; i <= NF; i++) if ($i ~ /^find=[0-9]+$/) {
	k = substr($i, 6) + 0; if (!(k in seen)) { seen[k] = 1; print $1, k } } }' \
	/tmp/pl-log.txt >/tmp/pl-ckpt.txt
NCKPT=$(wc -l </tmp/pl-ckpt.txt)
echo "  checkpoint metadata in the log (entry buffers): $(tr '\n' ' ' </tmp/pl-ckpt.txt)"
t_check "the log shows at least 3 checkpoints during the recording ($NCKPT)" test "$NCKPT" -ge 3
[ "$T_FAILED" -eq 0 ] || t_done

# The replay points, "ENTRY WHY": the last flush before the recording;
# the first flushes of the recording (before its first checkpoint); per
# checkpoint the last flush/FUA before its metadata text and the first two
# after it; random flushes; the record-end mark and the end of the log.
SEED=$(( $(date +%s) % 100000 ))
awk -v seed=$SEED -v nrand=$RANDOM_POINTS -v mstart="$M_START" -v mend="$M_END" -v last=$LAST '
	FILENAME == ARGV[1] { if ($1 !~ /^#/ && $2 ~ /[FU]/) fl[nf++] = $1 + 0; next }
	{ ck[nc] = $1 + 0; ckk[nc++] = $2 }
	function add(e, why) { if (e >= 0 && !(e in pt)) pt[e] = why }
	function before(e,  i, r) { r = -1; for (i = 0; i < nf; i++) if (fl[i] < e) r = fl[i]; return r }
	function after(e, n,  i) { for (i = 0; i < nf; i++) if (fl[i] > e && --n == 0) return fl[i]; return -1 }
	END {
		add(before(mstart), "before-the-recording")
		add(after(mstart, 1), "recording-first-flush")
		add(after(mstart, 2), "recording-second-flush")
		for (j = 0; j < nc; j++) {
			add(before(ck[j]), "before-checkpoint-" ckk[j])
			add(after(ck[j], 1), "after-checkpoint-" ckk[j])
			add(after(ck[j], 2), "after-checkpoint-" ckk[j] "-second-flush")
		}
		srand(seed)
		for (j = 0; j < nrand && nf; j++) add(fl[int(rand() * nf)], "random-flush")
		add(mend, "record-end-mark")
		add(last, "end-of-log")
		for (e in pt) print e, pt[e]
	}' /tmp/pl-log.txt /tmp/pl-ckpt.txt | sort -n >/tmp/pl-points.txt
echo "  $(wc -l </tmp/pl-points.txt) replay points (random seed $SEED)"

# floor ENTRY: the buffers promised by a prefix ending at ENTRY (the last
# checkpoint text in it; all of them once the recorder had exited)
floor_at() {
	if [ "$1" -ge "$M_END" ]; then
		echo "$TOTAL"
	else
		awk -v e="$1" '$1 <= e { k = $2 } END { print k + 0 }' /tmp/pl-ckpt.txt
	fi
}

# check_point ENTRY WHY: replay, mount, recover, verify; one result line
check_point() {
	local n=$1 why=$2 floor rrc vrc bufs vbufs mck fin2 bad= msg
	floor=$(floor_at "$n")
	dd if=$PRISTINE of="$SCRATCH" bs=1M conv=fsync 2>/dev/null
	if ! vm_logwrites replay "$LOG" "$SCRATCH" "$n" >/tmp/pl-replay.txt 2>&1; then
		t_check "entry $n ($why): replay" false
		sed 's/^/    /' /tmp/pl-replay.txt
		return
	fi
	if ! mount -t ext4 "$SCRATCH" /pl 2>/tmp/pl-mount.err; then
		t_check "entry $n ($why): the replayed ext4 mounts" false
		sed 's/^/    /' /tmp/pl-mount.err
		return
	fi
	dmakit recover /pl/run.dat --json >/tmp/pl-rcv.json 2>/tmp/pl-rcv.err
	rrc=$?
	dmakit verify /pl/run.dat --json >/tmp/pl-ver.json 2>/tmp/pl-ver.err
	vrc=$?
	bufs=$(json_get /tmp/pl-rcv.json buffers)
	mck=$(json_get /tmp/pl-rcv.json checkpoint_buffers)
	vbufs=$(json_get /tmp/pl-ver.json buffers)
	if [ $rrc -ne 0 ]; then
		# nothing was promised yet: recover may find nothing to keep,
		# but must say so, and verify must not pass either
		msg="recover exit $rrc: $(head -c 200 /tmp/pl-rcv.err | tr '\n' ' ')"
		[ "$floor" -eq 0 ] || bad="$bad; $floor buffers were promised"
		[ -s /tmp/pl-rcv.err ] || bad="$bad; no message"
		[ $vrc -ne 0 ] || bad="$bad; verify passed what recover refused"
	else
		msg="recovered ${bufs:-?} buffers (metadata's checkpoint ${mck:-?}), verify exit $vrc"
		[ $vrc -eq 0 ] || bad="$bad; verify failed: $(head -c 200 /tmp/pl-ver.err | tr '\n' ' ')"
		[ "$(json_get /tmp/pl-ver.json payload_checked)" = true ] ||
			bad="$bad; verify did not check the payload"
		[ "${vbufs:-x}" = "${bufs:-y}" ] || bad="$bad; verify counts ${vbufs:-?}"
		[ "${bufs:-0}" -ge "$floor" ] || bad="$bad; fewer than the $floor promised"
		[ "${bufs:-0}" -ge "${mck:-0}" ] || bad="$bad; fewer than its metadata's checkpoint"
		[ "${bufs:-0}" -le "$TOTAL" ] || bad="$bad; more than the $TOTAL recorded"
		if [ "$n" -ge "$M_END" ]; then
			[ "$(json_get /tmp/pl-rcv.json was_finished)" = true ] ||
				bad="$bad; the finished recording was not found finished"
		fi
		dmakit recover /pl/run.dat --json >/tmp/pl-rcv2.json 2>&1
		fin2="$? $(json_get /tmp/pl-rcv2.json was_finished) $(json_get /tmp/pl-rcv2.json buffers)"
		[ "$fin2" = "0 true $bufs" ] || bad="$bad; a second recover: $fin2"
	fi
	umount /pl || bad="$bad; umount failed"
	if [ -z "$bad" ]; then
		echo "ok - entry $n/$LAST ($why): $floor promised by the log, $msg"
	else
		echo "not ok - entry $n/$LAST ($why): $floor promised by the log, $msg$bad"
		T_FAILED=$((T_FAILED + 1))
	fi
}

t0=$(date +%s)
while read -r n why <&3; do
	check_point "$n" "$why" </dev/null
done 3</tmp/pl-points.txt
echo "  $(wc -l </tmp/pl-points.txt) points checked in $(( $(date +%s) - t0 )) s"
t_done
