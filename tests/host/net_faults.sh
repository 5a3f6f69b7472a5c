#!/usr/bin/env bash
# Faults on a network stream: a receiver that stalls (the device drops and
# counts, the producer never waits), peers that vanish mid-buffer, garbage
# and truncated frames from a raw socket, a port in use, an unreachable
# host, SIGINT on either side, bad usage.  After every failure the
# recording made so far verifies.
# timeout: 900
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/net_lib.bash"
need_root	# a network namespace for the unreachable address

# --- a stalled receiver: the reliable sender holds buffers, the device
# drops (policy drop, counted), the stream carries the gaps. ------------
# Every step waits for what it needs (flowing, stopped, dropping, flowing
# again), whatever the machine's speed; the sender runs until SIGINT (its
# duration is out of reach).
start_recv slow || exit 1
$DMAKIT send -d "sim:bufsize=64K,nbufs=32,rate=50M" 127.0.0.1:$PORT \
	--duration 10m --status-interval 0.1 --json >"$TMPDIR/slow.send.json" \
	2>"$TMPDIR/slow.send.err" &
SEND_PID=$!
t_check "slow receiver: the stream flows" wait_buffers slow 16
kill -STOP $RECV_PID
t_check "slow receiver: the receiver is stopped" wait_for 60 is_stopped $RECV_PID
# the sender's status line ends with "drops N"
sender_drops_over() {
	local n
	n=$(sed -n 's/.*  drops \([0-9]*\)$/\1/p' "$TMPDIR/slow.send.err" | tail -n1)
	[ "${n:-0}" -gt "$1" ]
}
t_check "slow receiver: the device drops while nobody reads" \
	wait_for 120 sender_drops_over 100
stalled_at=$((($(stat -c %s "$TMPDIR/slow.dat.idx") - 256) / 64))
kill -CONT $RECV_PID
t_check "slow receiver: the stream flows again" \
	wait_buffers slow $((stalled_at + 64))
kill -INT $SEND_PID
wait $SEND_PID; rc=$?
wait_recv
t_eq "slow receiver: send ends cleanly (SIGINT)" "$rc" 0
t_eq "slow receiver: recv completes" "$RECV_RC" 0
dropped=$(json_get "$TMPDIR/slow.send.json" dropped)
t_check "slow receiver: the device dropped ($dropped)" test "$dropped" -gt 100
t_check "slow receiver: recording verifies" verify_ok slow
t_check "slow receiver: gaps recorded" test "$(meta slow gaps)" -ge 1
t_eq "slow receiver: drops reach the metadata" "$(meta slow dropped)" "$dropped"
# every dropped buffer inside the recording is a lost count on an entry
lost=$(meta slow lost)
t_check "slow receiver: lost ($lost) <= dropped ($dropped)" test "$lost" -le "$dropped"

# --- garbage and truncation from a raw socket --------------------------
# Each case sends 3 good buffers first (except the first two), then
# misbehaves: recv must fail with a clear message, write nothing bad, and
# leave a recording of the 3 good buffers that verifies.
check_bad() {	# CASE PATTERN GOOD-BUFFERS
	local c=$1 pat=$2 good=$3
	if ! start_recv g-$c --idle-timeout 5s; then
		t_eq "$c: recv starts" 1 0
		return
	fi
	$DMKS send-garbage 127.0.0.1 $PORT $c >"$TMPDIR/g-$c.py" 2>&1
	wait_recv
	t_eq "$c: recv fails" "$RECV_RC" 1
	t_grep "$c: says why" "$pat" "$TMPDIR/g-$c.recv.err"
	if [ "$good" = none ]; then
		t_check "$c: no recording created" test ! -e "$TMPDIR/g-$c.dat.idx"
	else
		t_check "$c: the recording so far verifies" verify_ok g-$c
		t_eq "$c: $good good buffers kept" "$(meta g-$c buffers)" "$good"
		t_eq "$c: marked as a failed source" "$(meta g-$c result)" device-error
	fi
}
check_bad not-dmakit "not a dmakit stream" none
check_bad bad-version "stream version 9" none
t_grep "bad-version: the sender is told why" "ACCEPT status -71: stream version 9, this dmakit speaks 1" "$TMPDIR/g-bad-version.py"
check_bad garbage-after-3 "not a dmakit stream" 3
check_bad truncated-header "truncated BUF frame" 3
check_bad truncated-data "truncated BUF seq 3: connection closed after 1000 of 4096" 3
check_bad bad-header-crc "header CRC" 3
check_bad bad-data-crc "data CRC mismatch" 3
check_bad seq-jump "seq 7 after 2 with lost=0" 3
check_bad seq-backwards "seq 1 after 2" 3
check_bad lost-wraps "seq 0 after 2 with lost=18446744073709551613" 3
check_bad oversized "carries 8192 bytes" 3
check_bad second-hello "unexpected HELLO" 3

# the independent Python sender ends cleanly: cross-implementation check
start_recv py-clean || exit 1
$DMKS send-garbage 127.0.0.1 $PORT clean-end >/dev/null 2>&1
wait_recv
t_eq "python sender: recv exits 0" "$RECV_RC" 0
t_check "python sender: recording verifies" verify_ok py-clean
t_eq "python sender: 3 buffers" "$(meta py-clean buffers)" 3

# the independent Python receiver checks every frame dmakit send writes
# (CRC32C, sequence continuity, the sim payload): cross-implementation check
rm -f "$TMPDIR/mock.port" "$TMPDIR/mock.json"
$DMKS mock-recv "$TMPDIR/mock.port" "$TMPDIR/mock.json" &
MOCK=$!
wait_file "$TMPDIR/mock.port"
$DMAKIT send -d "sim:bufsize=64K,nbufs=16,rate=20M" 127.0.0.1:$(cat "$TMPDIR/mock.port") \
	--size 2M >/dev/null 2>"$TMPDIR/mock-clean.err"
rc=$?
wait $MOCK
t_eq "python receiver: its own exit status" "$?" 0
t_eq "python receiver: send exits 0" "$rc" 0
t_eq "python receiver: HELLO bufsize" "$(mock_get hello.bufsize)" 65536
t_eq "python receiver: 32 buffers of 64 KiB" "$(mock_get buffers)" 32
t_eq "python receiver: 2 MiB of data" "$(mock_get bytes)" 2097152
t_eq "python receiver: no CRC error" "$(mock_get crc_errors)" 0
t_eq "python receiver: no sequence error" "$(mock_get seq_errors)" 0
t_eq "python receiver: every payload as the sim makes it" "$(mock_get payload_errors)" 0
t_eq "python receiver: one END frame" "$(mock_get frames.END)" 1
t_eq "python receiver: END counts what it received" "$(mock_get end.buffers)" 32

# --- peers that vanish --------------------------------------------------
# the receiver disappears after 5 buffers (mid-stream, not at a frame edge)
rm -f "$TMPDIR/mock.port" "$TMPDIR/mock.json"
$DMKS mock-recv "$TMPDIR/mock.port" "$TMPDIR/mock.json" 5 &
MOCK=$!
wait_file "$TMPDIR/mock.port"
$DMAKIT send -d "sim:bufsize=64K,nbufs=16,rate=20M" 127.0.0.1:$(cat "$TMPDIR/mock.port") \
	--size 64M >/dev/null 2>"$TMPDIR/vanish.err"
rc=$?
wait $MOCK
t_eq "receiver vanished: the python receiver's exit status" "$?" 0
t_eq "receiver vanished: send fails" "$rc" 1
t_grep "receiver vanished: says so" "receiver closed the connection|Connection reset" "$TMPDIR/vanish.err"
t_eq "receiver vanished: 5 buffers reached it" "$(mock_get buffers)" 5
t_eq "receiver vanished: none of them corrupt" \
	"$(mock_get crc_errors)/$(mock_get seq_errors)/$(mock_get payload_errors)" 0/0/0

# the sender is killed mid-stream
start_recv killed || exit 1
$DMAKIT send -d "sim:bufsize=64K,nbufs=16,rate=20M" 127.0.0.1:$PORT \
	--duration 30s >/dev/null 2>&1 &
SEND_PID=$!
t_check "sender killed: 16 buffers arrive first" wait_buffers killed 16
kill -KILL $SEND_PID; wait $SEND_PID 2>/dev/null
wait_recv
t_eq "sender killed: recv fails" "$RECV_RC" 1
t_grep "sender killed: says so" "closed the connection without ending the stream|truncated" "$TMPDIR/killed.recv.err"
t_check "sender killed: recording so far verifies" verify_ok killed
t_check "sender killed: something was recorded" test "$(meta killed buffers)" -gt 10

# --- SIGINT on either side ----------------------------------------------
start_recv int-send || exit 1
$DMAKIT send -d "sim:bufsize=64K,nbufs=16,rate=20M" 127.0.0.1:$PORT \
	--duration 30s >/dev/null 2>"$TMPDIR/int-send.err" &
SEND_PID=$!
t_check "int-send: 16 buffers arrive first" wait_buffers int-send 16
kill -INT $SEND_PID; wait $SEND_PID; rc=$?
wait_recv
# a signal is a clean end, as for 'dmakit record'
t_eq "SIGINT sender: send exits 0" "$rc" 0
t_eq "SIGINT sender: recv exits 0" "$RECV_RC" 0
t_grep "SIGINT sender: says interrupted" "interrupted" "$TMPDIR/int-send.err"
t_check "SIGINT sender: recording verifies" verify_ok int-send
t_eq "SIGINT sender: result interrupted" "$(meta int-send result)" interrupted

start_recv int-recv || exit 1
$DMAKIT send -d "sim:bufsize=64K,nbufs=16,rate=20M" 127.0.0.1:$PORT \
	--duration 30s >/dev/null 2>"$TMPDIR/int-recv.send.err" &
SEND_PID=$!
t_check "int-recv: 16 buffers arrive first" wait_buffers int-recv 16
kill -INT $RECV_PID
wait_recv
wait $SEND_PID; rc=$?
t_eq "SIGINT receiver: recv exits 0" "$RECV_RC" 0
t_check "SIGINT receiver: recording verifies" verify_ok int-recv
t_eq "SIGINT receiver: result interrupted" "$(meta int-recv result)" interrupted
t_eq "SIGINT receiver: send exits 1" "$rc" 1
t_grep "SIGINT receiver: sender told why" "receiver failed: .*interrupted" "$TMPDIR/int-recv.send.err"

# a stalled receiver blocks the END frame: a second SIGINT cuts the stream
start_recv int2 || exit 1
$DMAKIT send -d "sim:bufsize=64K,nbufs=16,rate=50M" 127.0.0.1:$PORT \
	--duration 30s >/dev/null 2>"$TMPDIR/int2.send.err" &
SEND_PID=$!
t_check "int2: 4 buffers arrive first" wait_buffers int2 4
kill -STOP $RECV_PID
# the receiver's window is full once the sender's socket holds unsent data
t_check "int2: the socket buffers fill up" wait_send_queue $PORT $((64 * 1024))
kill -INT $SEND_PID
# a second SIGINT sent while the first is pending would merge with it
t_check "int2: the first SIGINT was delivered" wait_signal_delivered $SEND_PID
kill -INT $SEND_PID
t0=$SECONDS
wait $SEND_PID; rc=$?
t_eq "SIGINT twice: send exits 1" "$rc" 1
# without the second signal send waits for the stalled receiver forever
t_check "SIGINT twice: at once (15 s bound)" test $((SECONDS - t0)) -le 15
t_grep "SIGINT twice: says so" "interrupted twice" "$TMPDIR/int2.send.err"
kill -CONT $RECV_PID
wait_recv
# the sender and the receiver tell the same story: whether END got into
# the socket before the cut depends on the room left in its buffer
if grep -q "stream cut without END" "$TMPDIR/int2.send.err"; then
	t_eq "SIGINT twice: no END sent, recv fails" "$RECV_RC" 1
else
	t_grep "SIGINT twice: END sent, the receiver's answer not awaited" \
		"the receiver did not confirm the end" "$TMPDIR/int2.send.err"
	t_eq "SIGINT twice: END sent, recv ends cleanly" "$RECV_RC" 0
	t_eq "SIGINT twice: END sent, the recording says interrupted" "$(meta int2 result)" interrupted
fi
t_check "SIGINT twice: recording so far verifies" verify_ok int2

# --- addresses ------------------------------------------------------------
start_recv inuse || exit 1
$DMAKIT recv -l 127.0.0.1:$PORT -o "$TMPDIR/inuse2.dat" 2>"$TMPDIR/inuse.err"
t_eq "port in use: exit 1" "$?" 1
t_grep "port in use: says so" "address already in use" "$TMPDIR/inuse.err"
kill -INT $RECV_PID; wait_recv

# a port nobody listens on (the one just freed)
$DMAKIT send -d sim 127.0.0.1:$PORT --size 1M 2>"$TMPDIR/refused.err"
t_eq "refused: exit 1" "$?" 1
t_grep "refused: says so once" "^dmakit send: 127.0.0.1:$PORT: connect: Connection refused$" "$TMPDIR/refused.err"
# an address with no route: inside a network namespace of its own with
# only loopback, so no packet leaves this machine
ns=dmakit-unreach-$$
ip netns add $ns
ip -n $ns link set lo up
ip netns exec $ns $DMAKIT send -d sim 192.0.2.1:9 --size 1M --timeout 1s 2>"$TMPDIR/unreach.err"
t_eq "unreachable: exit 1" "$?" 1
ip netns del $ns
t_grep "unreachable: says so" "192.0.2.1:9: connect: Network is unreachable" "$TMPDIR/unreach.err"
$DMAKIT send -d sim no.such.host.invalid:9 --size 1M 2>"$TMPDIR/resolve.err"
t_eq "unknown host: exit 1" "$?" 1
t_grep "unknown host: says so" "cannot resolve 'no.such.host.invalid'" "$TMPDIR/resolve.err"

# --- usage -----------------------------------------------------------------
$DMAKIT send -d sim 127.0.0.1:9 2>/dev/null;		t_eq "send without size: 2" "$?" 2
$DMAKIT send 127.0.0.1:9 --size 1M 2>/dev/null;	t_eq "send without device: 2" "$?" 2
$DMAKIT send -d sim --size 1M 2>/dev/null;		t_eq "send without address: 2" "$?" 2
$DMAKIT send -d sim h:9 --size 1M -z maybe 2>/dev/null; t_eq "bad zerocopy mode: 2" "$?" 2
$DMAKIT send -d sim:bufsz=4K h:9 --size 1M 2>"$TMPDIR/dev.err"
t_eq "bad device string: usage error (2), as in record" "$?" 2
t_grep "bad device string: says which option" "sim: unknown option 'bufsz'" "$TMPDIR/dev.err"
$DMAKIT recv -l 0 2>/dev/null;				t_eq "recv without output: 2" "$?" 2
$DMAKIT recv -l 99999 -o x 2>"$TMPDIR/port.err";	t_eq "recv bad port: usage error (2)" "$?" 2
t_grep "recv bad port: says so" "bad port '99999'" "$TMPDIR/port.err"
t_done
