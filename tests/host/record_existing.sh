#!/usr/bin/env bash
# Nothing already on disk is lost by a new command: record and recv refuse
# an earlier recording (any of data, index, metadata) or a non-empty file
# unless --force; a start that fails (a bad --sidecar directory) leaves the
# earlier recording byte-identical and verifying, with --force too; a
# second recorder on the same path fails at once naming the first; what a
# SIGKILLed recorder left is kept; a name under /dev that does not exist is
# not created.
# timeout: 300
. "$TOP/tests/host/lib.bash"
sim=sim:bufsize=64K,nbufs=32,policy=block,rate=max

sums() { md5sum "$@" 2>&1; }

# wait until $1 (an index) has at least $2 entries, up to 120 s
wait_entries() {
	local i size
	for i in $(seq 1200); do
		size=$(stat -c %s "$1" 2>/dev/null || echo 0)
		[ "$size" -ge $((256 + 64 * $2)) ] && return 0
		sleep 0.1
	done
	return 1
}

run=$TMPDIR/run1.dat
"$DMAKIT" record -d "$sim" -o "$run" --size 4M --quiet
t_eq "earlier recording made" "$?" 0
before=$(sums "$run" "$run.idx" "$run.json")

# the issue's case: a new start whose sidecar directory does not exist
for force in "" --force; do
	"$DMAKIT" record -d "$sim" -o "$run" --size 1M \
		--sidecar "$TMPDIR/no/such/dir/side" $force 2>"$TMPDIR/err"
	t_eq "bad --sidecar ${force:-without --force}: exits 1" "$?" 1
	t_grep "bad --sidecar ${force:-without --force}: says why" \
		"no/such/dir/side.idx: No such file or directory|already holds a recording" "$TMPDIR/err"
	t_eq "bad --sidecar ${force:-without --force}: earlier recording byte-identical" \
		"$(sums "$run" "$run.idx" "$run.json")" "$before"
	t_check "bad --sidecar ${force:-without --force}: earlier recording verifies" \
		"$DMAKIT" verify "$run" --quiet
done

# the same path again: refused, untouched; each engine's open path
for e in uring pwrite buffered mmap; do
	"$DMAKIT" record -d "$sim" -o "$run" --size 1M --engine "$e" 2>"$TMPDIR/err" >"$TMPDIR/out"
	t_eq "$e: same path again: exits 1" "$?" 1
	t_grep "$e: same path again: says so" \
		"run1.dat already holds a recording \(.*run1.dat.idx, .*run1.dat.json\): not overwriting it without --force" "$TMPDIR/err"
	t_eq "$e: same path again: nothing changed" "$(sums "$run" "$run.idx" "$run.json")" "$before"
done
"$DMAKIT" record -d "$sim" -o "$run" --size 1M --json 2>"$TMPDIR/err" >"$TMPDIR/out"
t_eq "refused with --json: exits 1" "$?" 1
t_eq "refused with --json: no success on stdout, the failure's object" \
	"$(json_get "$TMPDIR/out" ok)" false
t_grep "  saying why" '"error":.*already holds a recording' "$TMPDIR/out"

# any one piece is a recording worth keeping; an unrelated file's bytes too
for piece in idx json; do
	p=$TMPDIR/piece-$piece.dat
	echo '{}' >"$p.$piece"
	"$DMAKIT" record -d "$sim" -o "$p" --size 1M 2>"$TMPDIR/err"
	t_eq "only .$piece present: refused" "$?" 1
	t_check "only .$piece present: no data file created" test ! -e "$p"
done
echo "my notes" >"$TMPDIR/notes.txt"
"$DMAKIT" record -d "$sim" -o "$TMPDIR/notes.txt" --size 1M 2>"$TMPDIR/err"
t_eq "non-empty file: refused" "$?" 1
t_grep "non-empty file: says so" "notes.txt is not empty \(9 bytes\)" "$TMPDIR/err"
t_eq "non-empty file: kept" "$(cat "$TMPDIR/notes.txt")" "my notes"
: >"$TMPDIR/empty.dat"
"$DMAKIT" record -d "$sim" -o "$TMPDIR/empty.dat" --size 1M --quiet
t_eq "an empty file may be used" "$?" 0

# --force overwrites, and the result is a whole new recording
"$DMAKIT" record -d "$sim" -o "$run" --size 2M --force --quiet
t_eq "--force: exits 0" "$?" 0
t_eq "--force: the new recording" "$(json_get "$run.json" buffers)" 32
t_check "--force: verifies" "$DMAKIT" verify "$run" --quiet
t_check "--force: index and metadata agree" dmakit_py check "$run"

# two recorders on one path: the second fails at once, the first goes on
two=$TMPDIR/two.dat
"$DMAKIT" record -d sim:bufsize=64K,nbufs=32,policy=block,rate=20M -o "$two" \
	--duration 120 --quiet 2>"$TMPDIR/first.err" &
first=$!
t_check "first recorder under way" wait_entries "$two.idx" 8
for force in "" --force; do
	t0=$(date +%s)
	"$DMAKIT" record -d "$sim" -o "$two" --size 1M $force 2>"$TMPDIR/err"
	rc=$?
	t_eq "second recorder ${force:-without --force}: exits 1" "$rc" 1
	t_check "second recorder ${force:-without --force}: at once" test $(($(date +%s) - t0)) -le 30
	t_grep "second recorder ${force:-without --force}: names the holder" \
		"two.dat is being written by another process \(pid $first, dmakit\)" "$TMPDIR/err"
done
# the index alone (another data file, the same sidecar prefix) is guarded too
"$DMAKIT" record -d "$sim" -o "$TMPDIR/other.dat" --sidecar "$two" --size 1M --force 2>"$TMPDIR/err"
t_eq "second recorder on the index: exits 1" "$?" 1
t_grep "second recorder on the index: names the holder" "two.dat.idx is being written by another process \(pid $first" "$TMPDIR/err"
# its metadata holds no lock (it is replaced at each checkpoint) but is
# guarded by the index beside it: not taken as another recorder's data
"$DMAKIT" record -d "$sim" -o "$two.json" --size 1M --force 2>"$TMPDIR/err"
t_eq "second recorder on the metadata: exits 1" "$?" 1
t_grep "second recorder on the metadata: says whose it is" \
	"two.dat.json is a live recording's metadata: .*two.dat.idx is being written by another process \(pid $first" "$TMPDIR/err"
t_check "second recorder on the metadata: wrote no recording of its own" \
	test ! -e "$two.json.idx" -a ! -e "$two.json.json"
t_eq "second recorder on the metadata: left it the first one's" \
	"$(json_get "$two.json" result)" recording
kill -INT "$first"
wait "$first"
t_eq "first recorder: exits 0 after SIGINT" "$?" 0
t_eq "first recorder: interrupted" "$(json_get "$two.json" result)" interrupted
t_check "first recorder: its recording verifies" "$DMAKIT" verify "$two" --quiet
t_check "first recorder: index and metadata agree" dmakit_py check "$two"

# the other way round: a recorder whose metadata would be a live
# recording's data (PREFIX.json) fails, with --force too
live=$TMPDIR/live.json
"$DMAKIT" record -d sim:bufsize=64K,nbufs=32,policy=block,rate=20M -o "$live" \
	--duration 120 --quiet 2>/dev/null &
third=$!
t_check "recorder into live.json under way" wait_entries "$live.idx" 8
"$DMAKIT" record -d "$sim" -o "$TMPDIR/live" --size 1M --force 2>"$TMPDIR/err"
t_eq "metadata onto a live recording's data: exits 1" "$?" 1
t_grep "metadata onto a live recording's data: names the holder" \
	"live.json is being written by another process \(pid $third" "$TMPDIR/err"
t_check "metadata onto a live recording's data: nothing of its own left" \
	test ! -e "$TMPDIR/live" -a ! -e "$TMPDIR/live.idx"
kill -INT "$third"
wait "$third"
t_eq "recorder into live.json: exits 0 after SIGINT" "$?" 0
t_check "recorder into live.json: its recording verifies" "$DMAKIT" verify "$live" --quiet

# a recorder killed mid-run leaves its files (for recovery): its lock died
# with it, and a new recorder still refuses to overwrite them
killed=$TMPDIR/killed.dat
"$DMAKIT" record -d sim:bufsize=64K,nbufs=32,policy=block,rate=20M -o "$killed" \
	--duration 120 --quiet 2>/dev/null &
victim=$!
t_check "recorder to be killed under way" wait_entries "$killed.idx" 8
kill -KILL "$victim"
wait "$victim"
left=$(sums "$killed" "$killed.idx" "$killed.json")
"$DMAKIT" record -d "$sim" -o "$killed" --size 1M 2>"$TMPDIR/err"
t_eq "after SIGKILL: refused" "$?" 1
t_grep "after SIGKILL: says it holds a recording" "killed.dat already holds a recording" "$TMPDIR/err"
t_eq "after SIGKILL: what it left is untouched" "$(sums "$killed" "$killed.idx" "$killed.json")" "$left"

# a mistyped device name is not created as a file under /dev
name=/dev/dmakit-test-nodisk-$$
"$DMAKIT" record -d "$sim" -o "$name" --sidecar "$TMPDIR/nd" --size 1M 2>"$TMPDIR/err"
t_eq "missing /dev name: exits 1" "$?" 1
t_grep "missing /dev name: says so" "$name does not exist \(no such device" "$TMPDIR/err"
t_check "missing /dev name: nothing created" test ! -e "$name"

# recv refuses before anyone connects
"$DMAKIT" recv -l 127.0.0.1:0 -o "$run" --timeout 60 2>"$TMPDIR/err"
t_eq "recv onto a recording: exits 1" "$?" 1
t_grep "recv onto a recording: says so" "already holds a recording" "$TMPDIR/err"
t_check "recv onto a recording: it still verifies" "$DMAKIT" verify "$run" --quiet
# --json: the failure object, no "recorded" counters claiming a complete,
# finalized recording (they used to: nothing had been recorded)
"$DMAKIT" recv -l 127.0.0.1:0 -o "$run" --timeout 60 --json >"$TMPDIR/recv.json" 2>/dev/null
t_eq "recv --json onto a recording: exits 1" "$?" 1
t_eq "recv --json onto a recording: ok false" "$(json_get "$TMPDIR/recv.json" ok)" false
t_grep "recv --json onto a recording: the error says why" '"error": ?"[^"]*already holds a recording' \
	"$TMPDIR/recv.json"
t_check "recv --json onto a recording: no \"recorded\" claiming a recording" \
	sh -c "! grep -q '\"recorded\"' '$TMPDIR/recv.json'"
# ... also when the recording's data was moved away (its index and
# metadata are left), the directory does not exist, or the output is a
# directory (--force or not): at once, well before the 60 s wait
mkdir -p "$TMPDIR/moved" "$TMPDIR/adir"
cp "$run.idx" "$run.json" "$TMPDIR/moved/"
for case in "moved/$(basename "$run")|already holds a recording" \
	    "no/such/dir/r.dat|open .*no/such/dir/r.dat: No such file or directory" \
	    "adir|adir is a directory" "adir --force|adir is a directory"; do
	out=${case%%|*} msg=${case#*|}
	t0=$(date +%s)
	# shellcheck disable=SC2086 # the path and --force
	"$DMAKIT" recv -l 127.0.0.1:0 -o "$TMPDIR"/$out --timeout 60 2>"$TMPDIR/err"
	t_eq "recv -o $out, no sender: exits 1" "$?" 1
	t_grep "recv -o $out: refused before listening" "$msg" "$TMPDIR/err"
	t_check "recv -o $out: at once" test $(($(date +%s) - t0)) -lt 30
done
t_check "recv onto moved index and metadata: they are as they were" \
	cmp -s "$run.json" "$TMPDIR/moved/$(basename "$run").json"
before=$(sums "$run" "$run.idx" "$run.json")
"$DMAKIT" recv -l 127.0.0.1:0 -o "$run" --force --timeout 1s 2>"$TMPDIR/err"
t_eq "recv --force, no sender: exits 1" "$?" 1
t_check "recv --force, no sender: it listened (not refused)" \
	sh -c "! grep -q 'already holds' '$TMPDIR/err'"
t_eq "recv --force, no sender: nothing touched before a stream came" \
	"$(sums "$run" "$run.idx" "$run.json")" "$before"
t_done
