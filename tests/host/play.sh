#!/usr/bin/env bash
# dmakit play: recordings written back into a FIFO, a file, /dev/null and a
# failing FUSE file, each checked by an independent reader: sha256sum of
# what the FIFO's reader got against the recording's payload read by the
# Python package (python/dmakit, not libdmakit).  Odd buffer sizes (a
# short last buffer), --loop, --rate, a recording with gaps (sim
# policy=drop) and one with a DMA-error buffer (refused, or skipped and
# counted), a corrupt index (refused, nothing created) and a corrupt
# buffer (the ones before it written, it and the rest not), two plays at
# once from one recording (depth 1 and 16), a reader that
# closes early (EPIPE: exit 1, bytes written reported), a target whose
# writes fail with EIO or are all short (FUSE: the rest follows from where
# each stopped) or whose server is killed, a non-empty file refused
# without --force and unchanged, SIGINT mid-play, with every write blocked
# and while waiting for a reader (exit 1, the report equals what the
# reader received), usage errors; the throughput to /dev/null is printed.
# timeout: 600
. "$TOP/tests/host/lib.bash"
cd "$TMPDIR" || exit 1

# sha256 of REC's payload as the Python package reads it: every entry's
# valid bytes in order, LOOPS times; with "skip", not DMA-error buffers
rec_sha() {
	PYTHONPATH="$TOP/python" "$PYTHON3" - "$@" <<'PY'
import hashlib, sys
from dmakit import recording
path, loops = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
skip = len(sys.argv) > 3 and sys.argv[3] == 'skip'
rec = recording.open(path)
h = hashlib.sha256()
for _ in range(loops):
    for b in rec:
        if skip and b.flags & recording.F_DMA_ERR:
            continue
        h.update(b.data.tobytes())
print(h.hexdigest())
PY
}

# catches_sigint PID: PID has its SIGINT handler (SigCgt bit 1)
catches_sigint() {
	local cgt
	cgt=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$cgt" ] && [ $((0x${cgt:15:1} & 2)) -ne 0 ]
}

# play_fifo NAME ARGS...: dmakit play ARGS into a fresh FIFO read by
# sha256sum; NAME.sha is what the reader got, NAME.json the report
play_fifo() {
	local name=$1; shift
	rm -f "$name.fifo"; mkfifo "$name.fifo"
	sha256sum <"$name.fifo" | cut -d' ' -f1 >"$name.sha" &
	local reader=$!
	"$DMAKIT" play -d "$name.fifo" --json "$@" >"$name.json" 2>"$name.err"
	local rc=$?
	wait "$reader"
	return $rc
}

# --- sim recording, odd slot size, to a FIFO ------------------------------
"$DMAKIT" record -d sim:bufsize=20K,policy=block -o sim.dat --size 10M -q
t_eq "a sim recording to play" "$?" 0
play_fifo sim sim.dat
t_eq "sim -> FIFO: exit 0" "$?" 0
t_eq "sim -> FIFO: the reader got the recording's payload" \
	"$(cat sim.sha)" "$(rec_sha sim.dat)"
t_eq "sim -> FIFO: json ok, result complete" \
	"$(json_get sim.json ok)/$(json_get sim.json result)" true/complete
t_eq "sim -> FIFO: every buffer and byte reported" \
	"$(json_get sim.json buffers)/$(json_get sim.json bytes)" "512/10485760"
t_eq "sim -> FIFO: not a card, not paced by default" \
	"$(json_get sim.json card)/$(json_get sim.json rate_source)/$(json_get sim.json rate)" \
	"false/none/0"
# a character device that is no dmakit card (no INFO ioctl) stays a
# plain write target, never taken for a card's TX ring
"$DMAKIT" play -d /dev/null --rate 900M --json sim.dat >null.json
t_eq "sim -> /dev/null: exit 0, written, not a card" \
	"$?/$(json_get null.json bytes)/$(json_get null.json card)" "0/10485760/false"
t_eq "  --rate is the pace" \
	"$(json_get null.json rate_source)/$(json_get null.json rate)" "option/900000000"

# --- two channels at once from one recording --------------------------------
for ch in 0 1; do
	rm -f "ch$ch.fifo"; mkfifo "ch$ch.fifo"
	sha256sum <"ch$ch.fifo" | cut -d' ' -f1 >"ch$ch.sha" &
	readers[ch]=$!
	"$DMAKIT" play -d "chardev:$TMPDIR/ch$ch.fifo,depth=$((ch * 15 + 1))" \
		--loop 2 -q sim.dat &
	players[ch]=$!
done
for ch in 0 1; do
	wait "${players[ch]}"
	t_eq "two plays at once: channel $ch exit 0" "$?" 0
	wait "${readers[ch]}"
	t_eq "  channel $ch's reader got the payload twice" "$(cat "ch$ch.sha")" \
		"$(rec_sha sim.dat 2)"
done

# --- odd sizes: a file of 1000003 bytes read through chardev:, 12K slots ---
head -c 1000003 /dev/urandom >odd.src
"$DMAKIT" record -d "chardev:$TMPDIR/odd.src,bufsize=12K" -o odd.dat --size 1G -q
t_eq "chardev: recording of 1000003 bytes" "$(json_get odd.dat.json bytes)" 1000003
t_eq "  its last buffer is short" "$(json_get odd.dat.json truncated)" 1
play_fifo odd odd.dat
t_eq "odd sizes -> FIFO: exit 0" "$?" 0
t_eq "odd sizes -> FIFO: the reader got the source file, byte for byte" \
	"$(cat odd.sha)" "$(sha256sum <odd.src | cut -d' ' -f1)"
t_eq "odd sizes: the short buffer counted as truncated" \
	"$(json_get odd.json truncated)" 1
play_fifo odd3 --loop 3 odd.dat
t_eq "--loop 3: exit 0, 3 passes" "$?/$(json_get odd3.json passes)" 0/3
t_eq "--loop 3: the reader got the payload three times" \
	"$(cat odd3.sha)" "$(rec_sha odd.dat 3)"

# --- to a new file, depth 1 and 64 ----------------------------------------
for depth in 1 64; do
	"$DMAKIT" play -d "chardev:$TMPDIR/empty$depth,depth=$depth" odd.dat -q 2>err
	t_eq "chardev: target that does not exist: exit 1 (depth $depth)" "$?" 1
	t_check "  nothing created" test ! -e "empty$depth"
	"$DMAKIT" play -d "file$depth.bin" odd.dat -q
	t_eq "to a new file, depth $depth: exit 0" "$?" 0
	t_check "  the file is the source" cmp -s "file$depth.bin" odd.src
done

# --- a recording with gaps -------------------------------------------------
"$DMAKIT" record -d sim:bufsize=64K,nbufs=4,policy=drop,rate=max -o gaps.dat \
	--size 64M -q
gaps=$(json_get gaps.dat.json gaps)
t_check "a sim recording with gaps ($gaps)" test "$gaps" -gt 0
play_fifo gaps gaps.dat
t_eq "gaps -> FIFO: exit 0" "$?" 0
t_eq "gaps -> FIFO: the recorded buffers, back to back" \
	"$(cat gaps.sha)" "$(rec_sha gaps.dat)"
t_eq "gaps: counted in the report as in the recording" \
	"$(json_get gaps.json gaps)/$(json_get gaps.json lost)" \
	"$gaps/$(json_get gaps.dat.json lost)"

# --- a DMA-error buffer: refused, or skipped and counted -------------------
if /usr/bin/python3 -c 'import fuse' 2>/dev/null && [ -c /dev/fuse ]; then
	mkdir -p mnt
	/usr/bin/python3 "$TOP/tests/host/progs/fuse_errfile.py" "$TMPDIR/mnt" \
		$((20 * 65536)) $((5 * 65536)) once >fuse.log 2>&1 &
	fpid=$!
	wait_for 60 test -e mnt/stream
	"$DMAKIT" record -d "chardev:$TMPDIR/mnt/stream,bufsize=64K" -o dmaerr.dat \
		--size 1G -q
	umount mnt; wait "$fpid"
	t_eq "a recording with one DMA-error buffer" \
		"$(json_get dmaerr.dat.json dma_errors)" 1
	"$DMAKIT" play -d dmaerr.out --json dmaerr.dat >de.json 2>de.err
	t_eq "DMA error: refused, exit 1" "$?" 1
	t_eq "  result refused" "$(json_get de.json result)" refused
	t_grep "  the error names the flagged buffer" "DMA errors .*seq 6" de.err
	t_check "  nothing created" test ! -e dmaerr.out
	play_fifo de --skip-dma-errors dmaerr.dat
	t_eq "--skip-dma-errors: exit 0" "$?" 0
	t_eq "--skip-dma-errors: every other buffer written" \
		"$(cat de.sha)" "$(rec_sha dmaerr.dat 1 skip)"
	t_eq "--skip-dma-errors: 1 skipped, every other buffer written" \
		"$(json_get de.json dma_errors)/$(json_get de.json buffers)" \
		"1/$(( $(json_get dmaerr.dat.json buffers) - 1 ))"

	# --- a target whose writes fail with EIO (FUSE) ---
	/usr/bin/python3 "$TOP/tests/host/progs/fuse_errfile.py" "$TMPDIR/mnt" \
		0 $((3 * 20480 + 100)) write >fuse.log 2>&1 &
	fpid=$!
	wait_for 60 test -e mnt/stream
	"$DMAKIT" play -d mnt/stream --json sim.dat >eio.json 2>eio.err
	rc=$?
	umount mnt; wait "$fpid"
	t_eq "EIO target: exit 1" "$rc" 1
	t_eq "  result target-error" "$(json_get eio.json result)" target-error
	t_grep "  the error says what happened" "write .*mnt/stream: Input/output error" eio.err
	t_eq "  the buffers it took are reported, and the part of the next" \
		"$(json_get eio.json buffers)/$(json_get eio.json partial_bytes)" 3/100
	t_check "  json ok false with the error" \
		test "$(json_get eio.json ok)" = false -a -n "$(json_get eio.json error)"

	# --- short writes go on from where they stopped (FUSE) ---
	/usr/bin/python3 "$TOP/tests/host/progs/fuse_errfile.py" "$TMPDIR/mnt" \
		5000 0 short >fuse.log 2>&1 &
	fpid=$!
	wait_for 60 test -e mnt/stream
	"$DMAKIT" play -d mnt/stream --json odd.dat >short.json 2>short.err
	rc=$?
	cmp -s mnt/stream odd.src
	same=$?
	umount mnt; wait "$fpid"
	t_eq "short writes: exit 0" "$rc" 0
	t_check "  every write was short ($(json_get short.json short_writes))" \
		test "$(json_get short.json short_writes)" -ge 83
	t_eq "  the file holds the source, byte for byte" "$same" 0

	# --- the target vanishes mid-play: its server is killed ---
	/usr/bin/python3 "$TOP/tests/host/progs/fuse_errfile.py" "$TMPDIR/mnt" \
		$((1 << 20)) 0 short >fuse.log 2>&1 &
	fpid=$!
	wait_for 60 test -e mnt/stream
	"$DMAKIT" play -d mnt/stream --rate 1M --json sim.dat >gone.json 2>gone.err &
	player=$!
	wait_for 120 sh -c "[ \$(stat -c %s mnt/stream) -ge 100000 ]"
	kill -KILL "$fpid"; wait "$fpid" 2>/dev/null
	wait "$player"; rc=$?
	umount -l mnt 2>/dev/null
	t_eq "vanished target: exit 1" "$rc" 1
	t_eq "  result target-error" "$(json_get gone.json result)" target-error
	t_grep "  the error says what happened" "connection abort|not connected|No such device" gone.err
	t_check "  what it took is reported ($(json_get gone.json bytes) bytes)" \
		test "$(json_get gone.json bytes)" -ge 100000
else
	# scripts/setup.sh installs python3-fuse: missing is a failure, not a skip
	t_check "python3-fuse and /dev/fuse for the DMA-error and EIO cases" false
fi

# --- corrupt recordings ------------------------------------------------------
cp sim.dat bad.dat; cp sim.dat.idx bad.dat.idx; cp sim.dat.json bad.dat.json
# entry 7's length (index: 256-byte header, 64-byte entries, len at 40)
printf '\x01' | dd of=bad.dat.idx bs=1 seek=$((256 + 7 * 64 + 40)) conv=notrunc 2>/dev/null
"$DMAKIT" play -d bad.out --json bad.dat >bad.json 2>bad.err
t_eq "corrupt index entry: exit 1" "$?" 1
t_eq "  refused" "$(json_get bad.json result)/$(json_get bad.json bytes)" refused/0
t_grep "  the error names the entry" "index entry 7 is corrupt" bad.err
t_check "  nothing created" test ! -e bad.out
cp sim.dat.idx bad.dat.idx
# one byte of buffer 5's data
printf '\xff' | dd of=bad.dat bs=1 seek=$((5 * 20480 + 77)) conv=notrunc 2>/dev/null
"$DMAKIT" play -d bad.out --json bad.dat >bad.json 2>bad.err
t_eq "corrupt buffer: exit 1" "$?" 1
t_eq "  result corrupt, the 5 buffers before it written" \
	"$(json_get bad.json result)/$(json_get bad.json buffers)" corrupt/5
t_grep "  the error names the buffer" "seq 5 .*data CRC mismatch: not written" bad.err
t_check "  the target holds exactly the buffers before it" \
	cmp -s bad.out <(head -c $((5 * 20480)) sim.dat)
"$DMAKIT" verify sim.dat -q
t_eq "  (the original verifies)" "$?" 0

# --- a non-empty file target ----------------------------------------------
printf 'precious data\n' >keep.txt
sum_before=$(sha256sum <keep.txt)
"$DMAKIT" play -d keep.txt --json sim.dat >keep.json 2>keep.err
t_eq "non-empty file without --force: exit 1" "$?" 1
t_grep "  says why" "keep.txt is not empty .* without --force" keep.err
t_eq "  the file is unchanged" "$(sha256sum <keep.txt)" "$sum_before"
"$DMAKIT" play -d sim.dat --force sim.dat -q 2>self.err
t_eq "the recording as its own target, even with --force: exit 2" "$?" 2
for f in .idx .json; do
	"$DMAKIT" play -d "sim.dat$f" --force sim.dat -q 2>self.err
	t_eq "  its $f as the target, even with --force: exit 2" "$?" 2
done
"$DMAKIT" verify sim.dat -q
t_eq "  the recording is unchanged" "$?" 0
"$DMAKIT" play -d keep.txt --force sim.dat -q
t_eq "--force: exit 0" "$?" 0
t_check "  the file is the payload" cmp -s keep.txt sim.dat

# --- the reader goes away: EPIPE ---------------------------------------------
rm -f epipe.fifo; mkfifo epipe.fifo
head -c 100000 <epipe.fifo >/dev/null &
reader=$!
"$DMAKIT" play -d epipe.fifo --json sim.dat >epipe.json 2>epipe.err
rc=$?
wait "$reader"
t_eq "reader closes early: exit 1" "$rc" 1
t_eq "  result target-error" "$(json_get epipe.json result)" target-error
t_grep "  the error says Broken pipe" "Broken pipe" epipe.err
written=$(( $(json_get epipe.json bytes) + $(json_get epipe.json partial_bytes) ))
t_check "  bytes written reported: $written, at least what the reader took, not all" \
	test "$written" -ge 100000 -a "$written" -lt 10485760
t_grep "  the text reports them too" "written: [0-9]+ buffers" epipe.err

# --- SIGINT mid-play: an honest partial report ---------------------------------
rm -f int.fifo; mkfifo int.fifo
cat <int.fifo >int.out &
reader=$!
"$DMAKIT" play -d int.fifo --rate 2M --json sim.dat >int.json 2>int.err &
player=$!
wait_for 120 test -s int.out
kill -INT "$player"
wait "$player"
rc=$?
wait "$reader"
t_eq "SIGINT: exit 1" "$rc" 1
t_eq "  result interrupted" "$(json_get int.json result)" interrupted
got=$(stat -c %s int.out)
t_eq "  bytes reported = bytes the reader got" \
	"$(( $(json_get int.json bytes) + $(json_get int.json partial_bytes) ))" "$got"
t_check "  a part, not all ($got bytes)" test "$got" -gt 0 -a "$got" -lt 10485760
t_check "  what was written is the payload's beginning" \
	cmp -s int.out <(head -c "$got" sim.dat)

# --- SIGINT while the writes are blocked (a reader that stopped reading) ------
rm -f stall.fifo; mkfifo stall.fifo
# opens the FIFO, says when the pipe is full, reads only after "go"
"$PYTHON3" - stall.fifo stall.out <<'PY' &
import fcntl, os, struct, sys, termios, time
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(6000):
    n = struct.unpack('i', fcntl.ioctl(fd, termios.FIONREAD, b'\0' * 4))[0]
    if n >= 16384:
        break
    time.sleep(0.05)
open('stall.full', 'w').close()
while not os.path.exists('stall.go'):
    time.sleep(0.05)
with open(sys.argv[2], 'wb') as out:
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            break
        out.write(b)
PY
reader=$!
"$DMAKIT" play -d stall.fifo --json sim.dat >stall.json 2>stall.err &
player=$!
wait_for 120 test -e stall.full
kill -INT "$player"
wait_for 60 sh -c "! kill -0 $player 2>/dev/null"
t_check "SIGINT with every write blocked: play ends" sh -c "! kill -0 $player 2>/dev/null"
wait "$player"
rc=$?
touch stall.go
wait "$reader"
t_eq "  exit 1, result interrupted" "$rc/$(json_get stall.json result)" 1/interrupted
got=$(stat -c %s stall.out)
t_eq "  bytes reported = bytes the pipe held" \
	"$(( $(json_get stall.json bytes) + $(json_get stall.json partial_bytes) ))" "$got"
t_check "  they are the payload's beginning ($got bytes)" \
	cmp -s stall.out <(head -c "$got" sim.dat)

# --- SIGINT while opening a FIFO nobody reads ---------------------------------
rm -f lonely.fifo; mkfifo lonely.fifo
"$DMAKIT" play -d lonely.fifo --json sim.dat >lonely.json 2>lonely.err &
player=$!
wait_for 60 catches_sigint "$player"
kill -INT "$player"
wait "$player"
t_eq "SIGINT while waiting for a reader: exit 1" "$?" 1
t_eq "  result interrupted, nothing written" \
	"$(json_get lonely.json result)/$(json_get lonely.json bytes)" interrupted/0
t_grep "  says so" "stopped by request while opening .*lonely.fifo" lonely.err

# --- --rate paces (a bound in one direction only: never faster) ---------------
"$DMAKIT" play -d /dev/null --rate 4M --json sim.dat >rate.json
t_eq "--rate 4M: exit 0" "$?" 0
secs=$(json_get rate.json seconds)
t_check "--rate 4M: 10 MiB took at least 2.5 s (took $secs)" \
	python3 -c "import sys; sys.exit(not $secs >= 2.5)"

# --- usage -------------------------------------------------------------------
for args in "--loop 0" "--loop 1000001" "--rate 0" "--rate 2e" "--status-interval 0"; do
	# shellcheck disable=SC2086
	"$DMAKIT" play -d /dev/null $args sim.dat >out 2>err
	t_eq "play $args: exit 2" "$?" 2
	t_check "  nothing on stdout" test ! -s out
done
for target in "chardev:/dev/null,depth=0" "chardev:/dev/null,depth=65" \
	"chardev:/dev/null,nbufs=4" "chardev:" ""; do
	"$DMAKIT" play -d "$target" sim.dat >out 2>err
	t_eq "play -d '$target': exit 2" "$?" 2
done
"$DMAKIT" play -d /dev/null >/dev/null 2>&1
t_eq "play without a recording: exit 2" "$?" 2
"$DMAKIT" play -d /dev/null nosuch.dat --json >nosuch.json 2>/dev/null
t_eq "a recording that does not exist: exit 1" "$?" 1
t_eq "  json ok false" "$(json_get nosuch.json ok)" false
"$DMAKIT" play -d /dev/nosuch_h2c_0 sim.dat 2>err
t_eq "a missing name under /dev: exit 1" "$?" 1
t_check "  no file created under /dev" test ! -e /dev/nosuch_h2c_0

# --- throughput to /dev/null (reported, not asserted) --------------------------
"$DMAKIT_FAST" record -d sim:bufsize=512K,policy=block -o big.dat --size 1G -q
# recorded with O_DIRECT: read it once so both runs read the page cache
cat big.dat >/dev/null
"$DMAKIT_FAST" play -d chardev:/dev/null,depth=16 --json big.dat >big.json
t_eq "1 GiB to /dev/null: exit 0" "$?" 0
dd_rate=$(LC_ALL=C dd if=big.dat of=/dev/null bs=512K 2>&1 | sed -n 's/.*, \([0-9.]* [kMG]*B\/s\)$/\1/p')
echo "throughput: play 1 GiB (page cache) to /dev/null: $(python3 -c "print('%.0f MB/s' % ($(json_get big.json bytes_per_s) / 1e6))") (CRC-checked); dd bs=512K: $dd_rate"
rm -f big.dat*

t_done
