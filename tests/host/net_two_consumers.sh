#!/usr/bin/env bash
# Two consumers of one device in two processes at once: `dmakit record`
# and `dmakit send` on the same shared simulated card (sim:name=NAME), each
# way round (either may own the producer).  Both recordings verify, come
# from the same stream, and the shared ring disappears with its owner.
# policy=block: the card waits for the slower consumer, so neither loses
# a buffer however loaded the machine is.  The owner runs until the other
# has its 32 MiB (then SIGINT, a clean end): no duration for the other's
# start-up to fit in.
# timeout: 180
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/net_lib.bash"

NAME=t$$-two
SHM=/dev/shm/dmakit-sim.$NAME
rm -f "$SHM"*

# 1. record owns the card; send attaches while it runs
start_recv net1 || exit 1
$DMAKIT record -d "sim:name=$NAME,bufsize=128K,nbufs=64,rate=50M,policy=block" \
	-o "$TMPDIR/rec1.dat" --duration 10m --json >"$TMPDIR/rec1.json" 2>"$TMPDIR/rec1.err" &
REC=$!
wait_file "$SHM" || { echo "record did not create $SHM"; cat "$TMPDIR/rec1.err"; exit 1; }
$DMAKIT send -d "sim:name=$NAME" 127.0.0.1:$PORT --size 32M --json \
	>"$TMPDIR/net1.send.json" 2>"$TMPDIR/net1.send.err"
rc=$?
wait_recv
kill -INT $REC
wait $REC; rrc=$?
t_eq "record+send: send exits 0" "$rc" 0
t_eq "record+send: recv exits 0" "$RECV_RC" 0
t_eq "record+send: record exits 0" "$rrc" 0
t_check "record+send: the recording verifies" verify_ok rec1
t_check "record+send: the received recording verifies" verify_ok net1
t_eq "record+send: 256 buffers sent and received" "$(meta net1 buffers)" 256
t_eq "record+send: one stream" "$(meta net1 stream_id)" "$(meta rec1 stream_id)"
# the sender's buffers lie inside what the recorder saw
t_check "record+send: same buffers seen by both" \
	test "$(meta net1 first_seq)" -ge "$(meta rec1 first_seq)" -a \
	     "$(meta net1 last_seq)" -le "$(meta rec1 last_seq)"
t_check "record+send: neither lost a buffer" \
	test "$(meta rec1 gaps)" = 0 -a "$(meta net1 gaps)" = 0
t_check "record+send: the owner removed the shared ring" test ! -e "$SHM"

# 2. send owns the card; record attaches while it streams
start_recv net2 || exit 1
$DMAKIT send -d "sim:name=$NAME,bufsize=128K,nbufs=64,rate=50M,policy=block" 127.0.0.1:$PORT \
	--duration 10m --json >"$TMPDIR/net2.send.json" 2>"$TMPDIR/net2.send.err" &
SND=$!
wait_file "$SHM" || { echo "send did not create $SHM"; cat "$TMPDIR/net2.send.err"; exit 1; }
t_check "send+record: the stream flows before record attaches" wait_buffers net2 4
$DMAKIT record -d "sim:name=$NAME" -o "$TMPDIR/rec2.dat" --size 32M --json \
	>"$TMPDIR/rec2.json" 2>"$TMPDIR/rec2.err"
rrc=$?
kill -INT $SND
wait $SND; rc=$?
wait_recv
t_eq "send+record: record exits 0" "$rrc" 0
t_eq "send+record: send exits 0" "$rc" 0
t_eq "send+record: recv exits 0" "$RECV_RC" 0
t_check "send+record: the recording verifies" verify_ok rec2
t_check "send+record: the received recording verifies" verify_ok net2
t_eq "send+record: 256 buffers recorded" "$(meta rec2 buffers)" 256
t_eq "send+record: one stream" "$(meta net2 stream_id)" "$(meta rec2 stream_id)"
t_check "send+record: same buffers seen by both" \
	test "$(meta rec2 first_seq)" -ge "$(meta net2 first_seq)" -a \
	     "$(meta rec2 last_seq)" -le "$(meta net2 last_seq)"
t_check "send+record: the owner removed the shared ring" test ! -e "$SHM"
t_done
