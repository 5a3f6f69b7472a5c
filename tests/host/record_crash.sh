#!/usr/bin/env bash
# Crash matrix: for each engine, SIGKILL the recorder early (before the
# first checkpoint), mid-run (after checkpoints) and during close (just
# before the final metadata is renamed into place: an LD_PRELOAD shim
# kills it there) -> 'dmakit recover' -> 'dmakit verify' passes, with at
# least the buffers of the last checkpoint the metadata named; recovering
# again changes nothing (same files, "already finished").  Then what power
# loss adds to a SIGKILL, simulated on the files: index entries whose data
# never reached the disk, a torn last entry.
# timeout: 600
. "$TOP/tests/host/lib.bash"
shim=$TMPDIR/killat.so
cc -O2 -shared -fPIC -o "$shim" "$TOP/tests/host/progs/killat.c" -ldl ||
	{ echo "not ok - build the kill shim"; exit 1; }

# the index holds at least one entry
has_entries() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge 320 ]; }
# recover_to FILE DATA: recover, JSON report in FILE
recover_to() { "$DMAKIT" recover --json "$2" >"$1"; }
checkpoints_at_least() {
	[ -s "$1" ] && [ "$(json_get "$1" checkpoints 2>/dev/null || echo 0)" -ge "$2" ]
}

sums() { md5sum "$1" "$1.idx" "$1.json" | cut -d' ' -f1 | tr '\n' ' '; }

# after_crash NAME DATA: recover, verify, compare with the checkpoint
after_crash() {
	local name=$1 out=$2 ckpt before after
	ckpt=$(json_get "$out.json" checkpoint_buffers)
	t_eq "$name: the recorder never finished" \
		"$(json_get "$out.json" result)" recording
	t_check "$name: recover" recover_to "$TMPDIR/rec.json" "$out"
	t_eq "$name: it was not finished" \
		"$(json_get "$TMPDIR/rec.json" was_finished)" false
	t_check "$name: verify passes" "$DMAKIT" verify "$out" --quiet
	t_check "$name: independent check" dmakit_py check "$out"
	t_eq "$name: result" "$(json_get "$out.json" result)" recovered
	t_eq "$name: nothing damaged before the checkpoint" \
		"$(json_get "$TMPDIR/rec.json" damaged_kept)" 0
	t_check "$name: its run time is at least the checkpoint's" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(not m["seconds"] >= m["checkpoint_seconds"])' "$out.json"
	t_check "$name: at least the checkpoint's $ckpt buffers" \
		test "$(json_get "$out.json" buffers)" -ge "$ckpt"
	before=$(sums "$out")
	t_check "$name: recover again" recover_to "$TMPDIR/rec2.json" "$out"
	t_eq "$name: says it was finished" \
		"$(json_get "$TMPDIR/rec2.json" was_finished)" true
	after=$(sums "$out")
	t_eq "$name: second recover changed nothing" "$after" "$before"
}

# usage: --checkpoint out of range, recover without a recording
for bad in -1 1e9 0.0001 soon; do
	"$DMAKIT" record -d sim -o "$TMPDIR/u.dat" --size 1M --checkpoint "$bad" \
		2>"$TMPDIR/err" >/dev/null
	t_eq "--checkpoint $bad: exit 2" "$?" 2
	t_grep "--checkpoint $bad: says why" "bad --checkpoint" "$TMPDIR/err"
done
t_check "bad --checkpoint: nothing written" test ! -e "$TMPDIR/u.dat"
"$DMAKIT" recover 2>"$TMPDIR/err"
t_eq "recover without a path: exit 2" "$?" 2
"$DMAKIT" recover "$TMPDIR/none.dat" 2>"$TMPDIR/err"
t_eq "recover of nothing: exit 1" "$?" 1
t_grep "recover of nothing: names the index" "none.dat.idx" "$TMPDIR/err"

dev=sim:bufsize=256K,nbufs=64,rate=150M,policy=block
for e in uring pwrite buffered mmap; do
	out=$TMPDIR/crash-$e.dat

	# early: as soon as the first entry is in the index
	rm -f "$out" "$out".*
	"$DMAKIT" record -d "$dev" -o "$out" --duration 600 --engine "$e" -q &
	pid=$!
	t_check "early/$e: recording started" wait_for 60 has_entries "$out.idx"
	kill -KILL "$pid"; wait "$pid" 2>/dev/null
	after_crash "early/$e" "$out"

	# mid-run: after at least two checkpoints (every 0.2 s here)
	rm -f "$out" "$out".*
	"$DMAKIT" record -d "$dev" -o "$out" --duration 600 --engine "$e" \
		--checkpoint 0.2 -q &
	pid=$!
	t_check "mid/$e: checkpoints made" wait_for 120 checkpoints_at_least "$out.json" 2
	kill -KILL "$pid"; wait "$pid" 2>/dev/null
	t_check "mid/$e: a checkpoint holds buffers" \
		test "$(json_get "$out.json" checkpoint_buffers)" -gt 0
	after_crash "mid/$e" "$out"

	# during close: killed just before the final metadata rename (the
	# first rename of .json.tmp is the initial metadata at open)
	rm -f "$out" "$out".*
	KILLAT_RENAME=.json.tmp KILLAT_NTH=2 LD_PRELOAD=$shim "$DMAKIT_FAST" record \
		-d "$dev" -o "$out" --size 64M --engine "$e" -q
	t_eq "close/$e: killed by the shim" "$?" 137
	after_crash "close/$e" "$out"
	t_eq "close/$e: every buffer kept" "$(json_get "$out.json" buffers)" 256
	rm -f "$out" "$out".*
done

# power loss can persist index entries whose data never reached the disk:
# entries after the checkpoint whose slots hold zeros are dropped, every
# buffer up to the checkpoint is kept.  (The checkpoint is set to half the
# index, as if the kill had come just before the next one: an earlier
# checkpoint is always a state the recorder went through.)
out=$TMPDIR/lost-data.dat
"$DMAKIT" record -d "$dev" -o "$out" --duration 600 -q --checkpoint 0.2 &
pid=$!
t_check "lost data: checkpoints made" wait_for 120 checkpoints_at_least "$out.json" 2
kill -KILL "$pid"; wait "$pid" 2>/dev/null
n=$(( ($(stat -c %s "$out.idx") - 256) / 64 ))
ckpt=$((n / 2))
t_check "lost data: entries to lose ($((n - ckpt)) of $n)" test "$ckpt" -ge 1
python3 - "$out.json" "$ckpt" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["checkpoint_buffers"] = int(sys.argv[2])
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
dd if=/dev/zero of="$out" bs=256K seek="$ckpt" count=$((n - ckpt)) \
	conv=notrunc 2>/dev/null
t_check "lost data: recover" recover_to "$TMPDIR/lost.json" "$out"
t_eq "lost data: kept exactly the checkpoint" \
	"$(json_get "$TMPDIR/lost.json" buffers)" "$ckpt"
t_eq "lost data: the rest dropped" \
	"$(json_get "$TMPDIR/lost.json" dropped_entries)" $((n - ckpt))
t_check "lost data: verify passes" "$DMAKIT" verify "$out" --quiet
rm -f "$out" "$out".*

# a torn last entry (as after power loss) is trimmed, not trusted
out=$TMPDIR/torn.dat
"$DMAKIT" record -d "$dev" -o "$out" --duration 600 -q --checkpoint 0.2 &
pid=$!
t_check "torn: checkpoints made" wait_for 120 checkpoints_at_least "$out.json" 1
kill -KILL "$pid"; wait "$pid" 2>/dev/null
n=$(( ($(stat -c %s "$out.idx") - 256) / 64 ))
head -c 40 /dev/urandom >>"$out.idx"
printf 'garbage-garbage-garbage-garbage-garbage-garbage-garbage-garbage!' |
	dd of="$out.idx" bs=64 seek=$((4 + n)) conv=notrunc 2>/dev/null
t_check "torn: recover" recover_to "$TMPDIR/torn.json" "$out"
t_eq "torn: the torn entry dropped" "$(json_get "$TMPDIR/torn.json" dropped_entries)" 1
t_eq "torn: every whole entry kept" "$(json_get "$TMPDIR/torn.json" buffers)" "$n"
t_check "torn: verify passes" "$DMAKIT" verify "$out" --quiet
rm -f "$out" "$out".*

# recover on a recording whose recorder is still running is refused,
# naming it, and changes nothing: it used to trim the data file and write
# "recovered" under the recorder, which went on writing (exit 1, and the
# recording failed verify)
out=$TMPDIR/live.dat
"$DMAKIT" record -d "$dev" -o "$out" --duration 600 -q --checkpoint 0.2 &
pid=$!
t_check "live: checkpoints made" wait_for 120 checkpoints_at_least "$out.json" 1
size_before=$(stat -c %s "$out")
"$DMAKIT" recover --json "$out" >"$TMPDIR/live-rec.json" 2>"$TMPDIR/live-rec.err"
t_eq "live: recover refused (exit 1)" "$?" 1
t_grep "live: the recorder named" "being written by another process \\(pid $pid" \
	"$TMPDIR/live-rec.err"
t_eq "live: --json says so" "$(json_get "$TMPDIR/live-rec.json" ok)" false
t_check "live: the data file was not trimmed" \
	test "$(stat -c %s "$out")" -ge "$size_before"
t_grep "live: the metadata still says recording" '"result": "recording"' "$out.json"
# verify meanwhile: not "the recorder stopped without closing it"
"$DMAKIT" verify "$out" 2>"$TMPDIR/live-ver.err" >/dev/null
t_eq "live: verify fails (not finished yet)" "$?" 1
t_grep "live: verify says it is still being made, by whom" \
	"still being made: .*being written by another process \\(pid $pid" \
	"$TMPDIR/live-ver.err"
kill -TERM "$pid"; wait "$pid"
t_eq "live: the recorder then ends as asked (exit 0)" "$?" 0
t_check "live: and its recording verifies" "$DMAKIT" verify "$out" --quiet
rm -f "$out" "$out".*
t_done
