#!/usr/bin/env bash
# --size counts payload, the buffers' valid bytes, not their slots: a
# chardev: source of small packets (short=flag, the default for character
# devices) used to stop after SIZE / bufsize packets ("--size 640K" with
# 10-byte writes: 100 B recorded, "complete").  Buffers stay whole: the
# recording holds at least SIZE bytes and less than a buffer more, and
# --size 1 is one buffer.  The same for -o - (dmakit_record_fd) and for
# dmakit send (which counted bytes already).
# timeout: 300
. "$TOP/tests/host/lib.bash"
cd "$TMPDIR" || exit 1

# small_writer FIFO N: N writes of 1000 bytes into FIFO, each once the
# reader took the one before (one read, so one buffer, per write); its
# pid in wpid.  Ends when the reader goes (EPIPE) or after N writes.
small_writer() {
	rm -f "$1"; mkfifo "$1"
	/usr/bin/python3 -c 'import fcntl, struct, sys, termios, time
f = open(sys.argv[1], "wb", buffering=0)
for i in range(int(sys.argv[2])):
    try:
        f.write(bytes([i % 256]) * 1000)
    except BrokenPipeError:
        break
    end = time.monotonic() + 60
    while struct.unpack("i", fcntl.ioctl(f, termios.FIONREAD, b"\0" * 4))[0]:
        if time.monotonic() > end:
            sys.exit(1)
        time.sleep(0.002)' "$1" "$2" 2>/dev/null &
	wpid=$!
}

# between NAME GOT LOW HIGH: LOW <= GOT < HIGH
between() {
	t_check "$1 ($2 in [$3, $4))" test "$2" -ge "$3" -a "$2" -lt "$4"
}

dev="chardev:$TMPDIR/fifo,bufsize=64K,short=flag,policy=block"

# a file: 50000 bytes in 1000-byte buffers is 50 of them, not 1
small_writer fifo 200
"$DMAKIT" record -d "$dev" -o small.dat --size 50000 >small.out 2>small.err
t_eq "small packets: exit 0" "$?" 0
t_grep "small packets: the summary says what the slots cost" \
	"buffers held 1000 B on average: each takes a whole 64.00 KiB slot, so the data file is 66x its payload" small.out
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
t_eq "small packets: result complete" "$(json_get small.dat.json result)" complete
between "small packets: at least the size, less than a buffer more" \
	"$(json_get small.dat.json bytes)" 50000 $((50000 + 65536))
t_eq "small packets: 50 buffers of 1000 bytes" "$(json_get small.dat.json buffers)" 50
# one slot was preallocated; the rest grew (allocated ahead), then trimmed
t_eq "small packets: the data file is their 50 slots" "$(stat -c %s small.dat)" $((50 * 65536))
t_check "small packets: verify passes" "$DMAKIT" verify small.dat --quiet

# -o -: the same count
small_writer fifo 200
"$DMAKIT" record -d "$dev" -o - --size 50000 >small.raw 2>small-raw.err
t_eq "small packets to stdout: exit 0" "$?" 0
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
between "small packets to stdout: at least the size, less than a buffer more" \
	"$(stat -c %s small.raw)" 50000 $((50000 + 65536))

# dmakit send counts the same way (it always did: a guard)
. "$TOP/tests/host/net_lib.bash"
small_writer fifo 200
start_recv sent || exit 1
"$DMAKIT" send -q -d "$dev" "127.0.0.1:$PORT" --size 50000 2>send.err
t_eq "small packets sent: exit 0" "$?" 0
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
wait "$RECV_PID"
t_eq "small packets sent: recv exit 0" "$?" 0
between "small packets sent: at least the size, less than a buffer more" \
	"$(json_get sent.dat.json bytes)" 50000 $((50000 + 65536))

# full buffers: --size 1 is one buffer, one byte more than a buffer is two
for case in "1 1" "65536 1" "65537 2"; do
	set -- $case
	rm -f full.dat full.dat.*
	"$DMAKIT" record -d sim:bufsize=64K -o full.dat --size "$1" >full.out
	t_eq "--size $1: exit 0" "$?" 0
	t_check "--size $1: full buffers: no word on slots" \
		test "$(grep -c slot full.out)" = 0
	t_eq "--size $1: $2 whole buffer(s)" "$(json_get full.dat.json buffers)" "$2"
	t_eq "--size $1: their bytes" "$(json_get full.dat.json bytes)" $(($2 * 65536))
done

# the help says how --size counts
"$DMAKIT" record --help >help.txt
t_grep "help: payload, whole buffers" "stop once BYTES of payload" help.txt
t_grep "help: --size 1 is one buffer" "\\(--size 1: one buffer\\)" help.txt
t_done
