# timeout: 900
# The power-loss matrix (issue 11; the way xfstests tests crash
# consistency with dm-log-writes): `dmakit record` into a file on ext4
# whose device is a device-mapper log-writes target, so every write,
# flush and FUA that reached the "disk" is logged in the order it became
# durable; then the log is replayed, point after point in log order, onto
# a copy of the pristine file system -- at each point the disk's state had
# power been lost right there -- and a throw-away snapshot (dm-snapshot)
# of it is mounted (ext4 replays its journal): `dmakit recover` + `dmakit
# verify` must succeed and the recording must hold at least every buffer
# up to the last checkpoint made durable in that prefix.  That checkpoint
# is taken from the log itself: the checkpoint thread writes metadata
# saying "checkpoint_buffers": K only after fdatasync of data and index
# returned, so a prefix holding that text holds K durable buffers,
# whatever the replayed metadata says.  Before the first checkpoint
# nothing is promised, and recover must say what it kept (or that there
# is nothing) and never claim more than verify proves.
#
# Disks: /dev/vdc, 64 MiB ext4 made on the host (busybox makes only
# ext2), is the pristine image, never written; /dev/vda is sliced with
# dm-linear into the origin (64 MiB, a copy of vdc, under log-writes),
# the base the log is replayed onto (64 MiB, also a copy of vdc), the
# snapshots' copy-on-write store (32 MiB) and the log (96 MiB; a run
# uses ~20).  vm_dm (device-mapper ioctls) and vm_logwrites (the log's
# reader and replayer) are in tests/vm/prog.
. /dmakit/lib.sh

PRISTINE=/dev/vdc
MB64=131072		# 64 MiB in 512-byte sectors
RECORD_SIZE=16M		# 64 buffers of 256 KiB
RATE=4194304		# 4 MiB/s: ~4 s of recording, ~8 checkpoints
CHECKPOINT=0.5
RANDOM_ENTRIES=4	# any entry: a prefix of the writes after a flush
FIND='"checkpoint_buffers": '

# Debian's stock kernels have dm-log-writes and dm-snapshot as modules
# (packed and loaded at boot); the debug kernel (x86_64_defconfig based)
# lacks both
vm_dm targets >/tmp/pl-targets 2>&1
if ! grep -qx log-writes /tmp/pl-targets || ! grep -qx snapshot /tmp/pl-targets; then
	if [ "${DMAKIT_VM_KERNEL:-}" = debug ]; then
		echo "skip - power-loss matrix: the debug kernel has no dm-log-writes or dm-snapshot target (CONFIG_DM_LOG_WRITES and CONFIG_DM_SNAPSHOT are off in x86_64_defconfig + scripts/debug-kernel/dmakit-debug.config); Debian's stock kernels run it"
		exit 0
	fi
	sed 's/^/  /' /tmp/pl-targets
	t_check "device-mapper has the log-writes and snapshot targets (dm-log-writes.ko, dm-snapshot.ko)" false
	t_done
fi
t_check "the pristine ext4 image is there ($PRISTINE)" test -b "$PRISTINE"
[ "$T_FAILED" -eq 0 ] || t_done

cleanup() {
	umount /pl 2>/dev/null
	for n in pl-snap pl-w pl-o pl-b pl-c pl-l; do
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
BASE=$(dm_new pl-b linear $MB64 "/dev/vda $MB64")
t_check "dm-linear replay base on /dev/vda ($BASE)" test -n "$BASE"
COW=$(dm_new pl-c linear $((MB64 / 2)) "/dev/vda $((2 * MB64))")
t_check "dm-linear copy-on-write store on /dev/vda ($COW)" test -n "$COW"
LOG=$(dm_new pl-l linear $((3 * MB64 / 2)) "/dev/vda $((5 * MB64 / 2))")
t_check "dm-linear log on /dev/vda ($LOG)" test -n "$LOG"
[ "$T_FAILED" -eq 0 ] || t_done
dd if=$PRISTINE of="$ORIGIN" bs=1M conv=fsync 2>/dev/null
dd if=$PRISTINE of="$BASE" bs=1M conv=fsync 2>/dev/null
t_eq "the origin holds the pristine file system" \
	"$(md5sum <"$ORIGIN")" "$(md5sum <$PRISTINE)"
t_eq "so does the replay base" "$(md5sum <"$BASE")" "$(md5sum <$PRISTINE)"
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
[ "$T_FAILED" -eq 0 ] || t_done

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
echo "  log: $NENTRIES entries, $(awk '$2 ~ /[FU]/' /tmp/pl-log.txt | wc -l) flush/FUA, $(awk '$2 == "-" || $2 == "m"' /tmp/pl-log.txt | wc -l) plain writes, $(sed -n 's/^# end at byte //p' /tmp/pl-log.txt) bytes of log"
# each checkpoint's metadata text, where it first appears: "ENTRY K"
awk '{ for (i = 5; i <= NF; i++) if ($i ~ /^find=[0-9]+$/) {
	k = substr($i, 6) + 0; if (!(k in seen)) { seen[k] = 1; print $1, k } } }' \
	/tmp/pl-log.txt >/tmp/pl-ckpt.txt
NCKPT=$(wc -l </tmp/pl-ckpt.txt)
echo "  checkpoint metadata in the log (entry buffers): $(tr '\n' ' ' </tmp/pl-ckpt.txt)"
# besides the metadata written at open (0) and the final one
t_check "the log shows at least 2 checkpoints during the recording ($((NCKPT - 2)))" \
	test "$NCKPT" -ge 4
[ "$T_FAILED" -eq 0 ] || t_done

# The replay points, "ENTRY WHY": the last flush before the recording;
# the first flushes of the recording (before its first checkpoint); per
# checkpoint the last flush/FUA before its metadata text and the first two
# after it; the record-end mark and the end of the log; then every third
# flush/FUA entry, from the first on the plain boot, the second on iommu,
# the third on swiotlb (each boot has its own log: every flush/FUA of one
# log, ~90 points, took 230 s at load 20 and pushed the plain boot past
# its 600 s); and $RANDOM_ENTRIES entries anywhere (writes that reached the
# disk after a flush, in the order they completed, the rest lost).
case ${DMAKIT_VM_CONFIG:-} in
iommu) THIRD=1 ;;
swiotlb) THIRD=2 ;;
*) THIRD=0 ;;
esac
SEED=$(( $(date +%s) % 100000 ))
awk -v seed=$SEED -v nany=$RANDOM_ENTRIES -v third=$THIRD \
    -v mstart="$M_START" -v mend="$M_END" -v last=$LAST '
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
		add(mend, "record-end-mark")
		add(last, "end-of-log")
		srand(seed)
		for (j = third; j < nf; j += 3) add(fl[j], "flush")
		for (j = 0; j < nany; j++) add(mstart + int(rand() * (mend - mstart)), "random-entry")
		for (e in pt) print e, pt[e]
	}' /tmp/pl-log.txt /tmp/pl-ckpt.txt | sort -n >/tmp/pl-points.txt
echo "  $(wc -l </tmp/pl-points.txt) replay points: the checkpoints' flushes, the marks, the end, every third flush/FUA from flush $((THIRD + 1)) on, $RANDOM_ENTRIES random entries (seed $SEED)"

# floor ENTRY: the buffers promised by a prefix ending at ENTRY (the last
# checkpoint text in it; all of them once the recorder had exited)
floor_at() {
	if [ "$1" -ge "$M_END" ]; then
		echo "$TOTAL"
	else
		awk -v e="$1" '$1 <= e { k = $2 } END { print k + 0 }' /tmp/pl-ckpt.txt
	fi
}

# jvals FILE KEY...: the values of top-level members of a JSON object,
# one word each ("-" when missing): one process, not one per member (each
# costs ~0.1 s under TCG on a loaded host)
jvals() {
	local f=$1
	shift
	awk -v keys="$*" '{ t = t $0 } END {
		n = split(keys, k, " ")
		for (i = 1; i <= n; i++) {
			v = "-"
			if (match(t, "\"" k[i] "\": *[^,}]*")) {
				v = substr(t, RSTART, RLENGTH)
				sub(/^"[^"]*": */, "", v); gsub(/[" ]/, "", v)
			}
			printf "%s%s", v, i < n ? " " : "\n"
		}
	}' "$f" 2>/dev/null
}

# check_point ENTRY WHY: replay the base up to ENTRY (from the entry
# after the previous point: the points come in log order), mount a
# snapshot of it, recover, verify, drop the snapshot; one result line
REPLAYED=-1
check_point() {
	local n=$1 why=$2 floor rrc vrc bufs vbufs vpay mck fin fin2 bad= msg snap
	floor=$(floor_at "$n")
	if ! vm_logwrites replay "$LOG" "$BASE" $((REPLAYED + 1)) "$n" >/tmp/pl-replay.txt 2>&1; then
		t_check "entry $n ($why): replay" false
		sed 's/^/    /' /tmp/pl-replay.txt
		return
	fi
	REPLAYED=$n
	snap=$(dm_new pl-snap snapshot $MB64 "$BASE $COW N 8")
	if [ -z "$snap" ]; then
		t_check "entry $n ($why): a snapshot of the replayed base" false
		return
	fi
	if ! mount -t ext4 "$snap" /pl 2>/tmp/pl-mount.err; then
		t_check "entry $n ($why): the replayed ext4 mounts" false
		sed 's/^/    /' /tmp/pl-mount.err
		vm_dm remove pl-snap
		return
	fi
	dmakit recover /pl/run.dat --json >/tmp/pl-rcv.json 2>/tmp/pl-rcv.err
	rrc=$?
	dmakit verify /pl/run.dat --json >/tmp/pl-ver.json 2>/tmp/pl-ver.err
	vrc=$?
	set -- $(jvals /tmp/pl-rcv.json buffers checkpoint_buffers was_finished)
	bufs=$1 mck=$2 fin=$3
	set -- $(jvals /tmp/pl-ver.json buffers payload_checked)
	vbufs=$1 vpay=$2
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
		[ "$vpay" = true ] || bad="$bad; verify did not check the payload"
		[ "${vbufs:-x}" = "${bufs:-y}" ] || bad="$bad; verify counts ${vbufs:-?}"
		[ "${bufs:-0}" -ge "$floor" ] || bad="$bad; fewer than the $floor promised"
		[ "${bufs:-0}" -ge "${mck:-0}" ] || bad="$bad; fewer than its metadata's checkpoint"
		[ "${bufs:-0}" -le "$TOTAL" ] || bad="$bad; more than the $TOTAL recorded"
		if [ "$n" -ge "$M_END" ]; then
			[ "$fin" = true ] ||
				bad="$bad; the finished recording was not found finished"
		fi
		dmakit recover /pl/run.dat --json >/tmp/pl-rcv2.json 2>&1
		fin2="$? $(jvals /tmp/pl-rcv2.json was_finished buffers)"
		[ "$fin2" = "0 true $bufs" ] || bad="$bad; a second recover: $fin2"
	fi
	umount /pl || bad="$bad; umount failed"
	vm_dm remove pl-snap || bad="$bad; the snapshot could not be removed"
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
