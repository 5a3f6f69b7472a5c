#!/usr/bin/env bash
# The chardev: source against real kernel read() paths: /dev/zero and
# /dev/urandom (record -> verify; the data reaches the disk without passing
# through a read()/write() system call: strace counts the bytes those
# moved), a FIFO fed by a writer of odd sizes with pauses that then closes
# (EOF ends the stream, exit 0, every byte recorded in order: sha256 of
# the recorded payloads against the writer's), a stop while a read waits
# for data that never comes, a FUSE stream whose reads
# fail with EIO once (a counted gap flagged DMA_ERR, the stream goes on)
# or for good (the stream fails with a clear message, exit 1, what came
# before intact) or whose server is killed (a vanished device), absurd
# options, and policy=drop with a writer slower than the source
# (every loss counted and marked).
# timeout: 600
. "$TOP/tests/host/lib.bash"
cd "$TMPDIR" || exit 1

# sha256 of the valid bytes of every recorded buffer, in index order
# (docs/record.md: a 256-byte header, 64-byte entries, then the trailer)
payload_sha() {
	python3 - "$1" <<'PY'
import hashlib, json, struct, sys
p = sys.argv[1]
# the entries only: the index of a finished recording ends in a trailer
n = json.load(open(p + '.json'))['buffers']
idx = open(p + '.idx', 'rb').read()[256:256 + 64 * n]
h = hashlib.sha256()
with open(p, 'rb') as f:
    for i in range(0, len(idx), 64):
        off, ln = struct.unpack_from('<QI', idx, i + 32)
        f.seek(off)
        h.update(f.read(ln))
print(h.hexdigest())
PY
}

# flags and lost of the entry with sequence number $2
entry_of() {
	python3 - "$1" "$2" <<'PY'
import json, struct, sys
n = json.load(open(sys.argv[1] + '.json'))['buffers']
idx = open(sys.argv[1] + '.idx', 'rb').read()[256:256 + 64 * n]
for i in range(0, len(idx), 64):
    seq, _, _, lost, _, ln, fl = struct.unpack_from('<QQQQQII', idx, i)
    if seq == int(sys.argv[2]):
        print('lost=%d gap=%d dma_err=%d' % (lost, fl & 1, (fl >> 1) & 1))
PY
}

# --- /dev/zero: full speed, verified, no copy through read()/write() ---
out=zero.dat
if command -v strace >/dev/null; then
	strace -f -qq -o strace.txt -e trace=read,write,pread64,pwrite64,readv,writev,preadv,pwritev,splice,copy_file_range \
		"$DMAKIT_FAST" record -q -d chardev:/dev/zero,policy=block,short=fill \
		-o "$out" --size 256M
	t_eq "zero: record exits 0 (under strace)" "$?" 0
	moved=$(awk '{ if (match($0, /= [0-9]+$/)) s += substr($0, RSTART + 2) } END { print s + 0 }' strace.txt)
	t_check "zero: read()/write() syscalls moved $moved bytes of 256 MiB (< 1 MiB: the data went by io_uring into ring pages and from them to disk)" \
		test "$moved" -lt 1048576
else
	t_check "strace is installed (scripts/setup.sh)" false
fi
"$DMAKIT" verify "$out" --json >v.json
t_eq "zero: verify passes" "$?" 0
t_eq "zero: 512 buffers" "$(json_get v.json buffers)" 512
t_eq "zero: policy=block lost nothing" "$(json_get "$out.json" dropped)" 0
t_eq "zero: the recorded bytes are zeros" \
	"$(cmp -n 268435456 "$out" /dev/zero >/dev/null && echo same)" same
rm -f "$out"*

# --- /dev/urandom through the sanitizer build ---
out=urandom.dat
"$DMAKIT" record -q -d chardev:/dev/urandom,bufsize=128K,policy=block,short=fill -o "$out" --size 32M
t_eq "urandom: record exits 0" "$?" 0
"$DMAKIT" verify "$out" --json >v.json
t_eq "urandom: verify passes (host CRC of every buffer)" "$?" 0
t_eq "urandom: 256 full buffers" "$(json_get v.json bytes)" 33554432
t_check "urandom: the data is not zeros" \
	sh -c "! cmp -s -n 1048576 $out /dev/zero"
rm -f "$out"*

# --- the defaults (short=flag): a device that never cuts a transfer short
# gives whole buffers.  Issued inline, io_uring's reads of /dev/zero and
# /dev/urandom stopped at a page whenever completion work was pending, and
# each cut was recorded as a truncated buffer: --size 16M gave ~11 MiB. ---
for dev in zero urandom; do
	out=default-$dev.dat
	"$DMAKIT" record -d chardev:/dev/$dev,policy=block -o "$out" --size 16M \
		--json >r.json 2>r.err
	t_eq "$dev, default options: record exits 0" "$?" 0
	t_eq "$dev, default options: 16 MiB recorded" "$(json_get r.json bytes)" 16777216
	t_eq "$dev, default options: no buffer truncated" "$(json_get r.json truncated)" 0
	"$DMAKIT" verify "$out" -q
	t_eq "$dev, default options: verify passes" "$?" 0
	rm -f "$out"*
done

# --- a FIFO: odd sizes, pauses, then EOF ---
for mode in flag fill; do
	rm -f fifo; mkfifo fifo
	python3 - fifo writer.sha <<'PY' &
import hashlib, os, random, sys, time
rnd = random.Random(7)
h = hashlib.sha256()
with open(sys.argv[1], 'wb', buffering=0) as f:
    total = 0
    while total < 24 << 20:
        n = rnd.choice([1, 7, 4095, 4097, 65535, 65537, 100003, 300001])
        b = rnd.randbytes(n)
        f.write(b)
        h.update(b)
        total += n
        if rnd.random() < 0.02:
            time.sleep(0.05)
open(sys.argv[2], 'w').write(h.hexdigest())
PY
	wpid=$!
	out=fifo-$mode.dat
	"$DMAKIT" record -d "chardev:$TMPDIR/fifo,bufsize=64K,short=$mode" -o "$out" \
		--size 1G --json >r.json 2>r.err
	rc=$?
	wait "$wpid"
	t_eq "fifo/$mode: EOF ends the recording with exit 0" "$rc" 0
	t_eq "fifo/$mode: result source-ended" "$(json_get "$out.json" result)" source-ended
	t_eq "fifo/$mode: every byte recorded in order" "$(payload_sha "$out")" "$(cat writer.sha)"
	"$DMAKIT" verify "$out" >/dev/null
	t_eq "fifo/$mode: verify passes" "$?" 0
	t_check "fifo/$mode: sequence continuity" dmakit_py check "$out"
	rm -f "$out"*
done

# --- the recording stops while a read waits for data that never comes ---
rm -f fifo; mkfifo fifo
python3 -c 'import sys, time
f = open(sys.argv[1], "wb", buffering=0); f.write(b"x" * 1000000); time.sleep(300)' fifo &
wpid=$!
"$DMAKIT" record -d "chardev:$TMPDIR/fifo,bufsize=64K" -o stop.dat --duration 2 \
	>r.out 2>r.err
rc=$?
kill "$wpid"; wait "$wpid" 2>/dev/null
t_eq "stop during a blocked read: exit 0" "$rc" 0
t_eq "stop during a blocked read: result complete" "$(json_get stop.dat.json result)" complete
t_eq "stop during a blocked read: every byte written is recorded" \
	"$(json_get stop.dat.json bytes)" 1000000
rm -f stop.dat*

# --- short=fill: the stop comes while a buffer is partly filled (1000000
# bytes = 15 x 64K + 16960): the source publishes the partial buffer when
# it stops and the recorder takes it before finishing, by time or signal.
# fifo_writer (lib.bash): 1000000 bytes, "drained" once all are read.
for how in TERM duration; do
	fifo_writer .
	limit=--duration=1h
	[ "$how" = duration ] && limit=--duration=20
	"$DMAKIT" record -d "chardev:$TMPDIR/fifo,bufsize=64K,short=fill" \
		-o fill.dat "$limit" --json >r.json 2>r.err &
	pid=$!
	t_check "fill/$how: the writer's bytes were all read" wait_for 120 test -e drained
	[ "$how" = TERM ] && kill -TERM "$pid"
	wait "$pid"
	rc=$?
	kill "$wpid"; wait "$wpid" 2>/dev/null
	t_eq "fill/$how: exit 0" "$rc" 0
	t_eq "fill/$how: every byte read is recorded, the partial buffer too" \
		"$(json_get fill.dat.json bytes)/$(json_get fill.dat.json buffers)" 1000000/16
	t_eq "fill/$how: the last one flagged truncated" "$(json_get r.json truncated)" 1
	t_check "fill/$how: verifies" "$DMAKIT" verify fill.dat --quiet
	rm -f fill.dat*
done
# the same with -o -: every byte the writer wrote reaches stdout
fifo_writer .
"$DMAKIT" record -d "chardev:$TMPDIR/fifo,bufsize=64K,short=fill" -o - \
	--duration 1h >fill.out 2>r.err &
pid=$!
t_check "fill/stdout: the writer's bytes were all read" wait_for 120 test -e drained
kill -INT "$pid"
wait "$pid"
rc=$?
kill "$wpid"; wait "$wpid" 2>/dev/null
t_eq "fill/stdout: exit 0" "$rc" 0
t_eq "fill/stdout: every byte read reaches stdout" "$(wc -c <fill.out)" 1000000
rm -f fill.out

# --- stopped while waiting for a FIFO's writer: a clear message, not
# "Interrupted system call", and no recording files ---
rm -f fifo; mkfifo fifo
"$DMAKIT" record -d "chardev:$TMPDIR/fifo" -o nowriter.dat --duration 60 \
	--json >r.json 2>r.err &
pid=$!
waits_for_writer() { grep -q wait_for_partner "/proc/$pid/wchan" 2>/dev/null; }
t_check "no writer: record waits in the FIFO's open" wait_for 60 waits_for_writer
kill -TERM "$pid"; wait "$pid"
t_eq "no writer: SIGTERM ends it, exit 1 (nothing recorded)" "$?" 1
t_grep "no writer: says it was stopped waiting for a writer" \
	"stopped while waiting for .*fifo to open \\(a FIFO opens once it has a writer\\): nothing was read" r.err
t_eq "no writer: --json agrees" "$(json_get r.json ok)" false
t_check "no writer: no recording files" test ! -e nowriter.dat -a ! -e nowriter.dat.idx

# --- EIO from a stream (FUSE), once and for good ---
if /usr/bin/python3 -c 'import fuse' 2>/dev/null && [ -c /dev/fuse ]; then
	size=$((40 * 65536)) err_at=$((10 * 65536))
	for mode in once always; do
		mkdir -p mnt
		/usr/bin/python3 "$TOP/tests/host/progs/fuse_errfile.py" "$TMPDIR/mnt" \
			"$size" "$err_at" "$mode" >fuse.log 2>&1 &
		fpid=$!
		for _ in $(seq 200); do [ -e mnt/stream ] && break; sleep 0.1; done
		t_check "eio/$mode: the FUSE stream is mounted" test -e mnt/stream
		out=eio-$mode.dat
		"$DMAKIT" record -d "chardev:$TMPDIR/mnt/stream,bufsize=64K,maxerr=3" \
			-o "$out" --size 1G >r.out 2>r.err
		rc=$?
		umount mnt; wait "$fpid"
		if [ "$mode" = once ]; then
			t_eq "eio/once: the stream goes on to EOF, exit 0" "$rc" 0
			t_eq "eio/once: the failed read is one counted loss" \
				"$(json_get "$out.json" lost)/$(json_get "$out.json" dropped)" 1/1
			t_eq "eio/once: the next buffer is marked gap + DMA error" \
				"$(entry_of "$out" 11)" "lost=1 gap=1 dma_err=1"
			t_eq "eio/once: every byte of the stream recorded" \
				"$(json_get "$out.json" bytes)" "$size"
		else
			t_eq "eio/always: the recording fails with exit 1" "$rc" 1
			t_grep "eio/always: the error says what happened" \
				"Input/output error" r.err
			t_eq "eio/always: result device-error" \
				"$(json_get "$out.json" result)" device-error
			t_eq "eio/always: the 3 failed reads are counted" \
				"$(json_get "$out.json" dropped)" 3
			t_eq "eio/always: what came before is all there" \
				"$(json_get "$out.json" bytes)" "$err_at"
		fi
		# a read the driver failed is a DMA error of the acquisition:
		# verify says so, and accepts it only when told to
		"$DMAKIT" verify "$out" >verify.out 2>&1
		vrc=$?
		if [ "$mode" = once ]; then
			t_eq "eio/once: verify fails on the DMA error" "$vrc" 1
			t_grep "eio/once: verify names the flagged buffer" \
				"seq 11 .* flagged as a DMA error" verify.out
			"$DMAKIT" verify --allow-dma-errors "$out" >/dev/null
			vrc=$?
		fi
		t_eq "eio/$mode: verify passes (--allow-dma-errors where flagged)" "$vrc" 0
		rm -f "$out"*
	done
	# the device vanishes mid-stream: its server is killed
	mkdir -p mnt
	/usr/bin/python3 "$TOP/tests/host/progs/fuse_errfile.py" "$TMPDIR/mnt" \
		$((1 << 40)) $((1 << 41)) once >fuse.log 2>&1 &
	fpid=$!
	for _ in $(seq 200); do [ -e mnt/stream ] && break; sleep 0.1; done
	"$DMAKIT" record -d "chardev:$TMPDIR/mnt/stream,bufsize=64K" -o gone.dat \
		--duration 10m >r.out 2>r.err &
	rpid=$!
	for _ in $(seq 600); do
		[ -f gone.dat.idx ] && [ "$(stat -c %s gone.dat.idx)" -ge $((256 + 64 * 10)) ] && break
		sleep 0.1
	done
	kill -KILL "$fpid"; wait "$fpid" 2>/dev/null
	wait "$rpid"; rc=$?
	umount -l mnt 2>/dev/null
	t_eq "vanished: the recording fails with exit 1" "$rc" 1
	t_eq "vanished: result device-error" "$(json_get gone.dat.json result)" device-error
	t_grep "vanished: the error says what happened (FUSE: ECONNABORTED)" "connection abort|not connected|No such device" r.err
	"$DMAKIT" verify gone.dat >/dev/null
	t_eq "vanished: what was recorded verifies" "$?" 0
	t_check "vanished: something was recorded" test "$(json_get gone.dat.json buffers)" -ge 10
	rm -f gone.dat*
else
	t_check "python3-fuse and /dev/fuse are available (scripts/setup.sh)" false
fi

# --- policy=drop: the source outruns the writer; every loss accounted ---
out=drop.dat
"$DMAKIT" record -q -d chardev:/dev/zero,bufsize=64K,nbufs=4,depth=2,policy=drop,short=fill \
	-o "$out" --size 32M --engine pwrite --queue-depth 1
t_eq "drop: record exits 0" "$?" 0
dropped=$(json_get "$out.json" dropped)
lost=$(json_get "$out.json" lost)
t_check "drop: buffers were dropped ($dropped) and appear as gaps ($lost lost)" \
	test "$dropped" -gt 0 -a "$lost" -gt 0 -a "$lost" -le "$dropped"
"$DMAKIT" verify "$out" --json >v.json
t_eq "drop: verify passes" "$?" 0
t_eq "drop: no unaccounted loss" "$(json_get v.json unaccounted)" 0
t_check "drop: seq continuity with lost counts (independent check)" \
	dmakit_py check "$out"
rm -f "$out"*

# --- absurd numbers are usage errors with a reason ---
for opt in depth=0 depth=65 bufsize=5 bufsize=0 nbufs=1 nbufs=100000 maxerr=0 \
	   policy=maybe short=never color=blue; do
	"$DMAKIT" record -d "chardev:/dev/zero,$opt" -o x.dat --size 1M 2>r.err
	t_eq "$opt: usage error (exit 2)" "$?" 2
	t_check "$opt: explained" grep -q "chardev" r.err
done
t_check "no output left by refused options" test ! -e x.dat

# --- bad device strings are usage errors with a reason ---
"$DMAKIT" record -d chardev:/nonexistent -o x.dat --size 1M 2>r.err
t_eq "missing path: exit 1" "$?" 1
t_grep "missing path: says so" "open /nonexistent: No such file" r.err
t_done
