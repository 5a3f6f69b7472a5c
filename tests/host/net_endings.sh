#!/usr/bin/env bash
# How a network stream ends, beyond the happy path: a source that ends
# (every buffer it made arrives, exit 0, JSON and text agree), a sender
# that goes silent (recv --idle-timeout), the smallest receive pool
# (recv --buffers 2), send --sndbuf reaching the socket (seen by strace,
# not by dmakit's own report), and a stop that still sends what the source
# delivered before it.
# timeout: 300
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/net_lib.bash"

# --- the source ends: a counted, pausable simulated card -----------------
for rate in max 20M; do
	n=end-$rate
	start_recv $n || { t_eq "$n: recv starts" 1 0; continue; }
	$DMAKIT send -d "sim:bufsize=64K,count=48,policy=block,rate=$rate" \
		127.0.0.1:$PORT --size 1G --json >"$TMPDIR/$n.send.json" 2>"$TMPDIR/$n.send.err"
	rc=$?
	wait_recv
	t_eq "$n: send exits 0 (the source ended cleanly)" "$rc" 0
	t_eq "$n: recv exits 0" "$RECV_RC" 0
	t_eq "$n: every buffer the source made was sent" "$(json_get "$TMPDIR/$n.send.json" buffers)" 48
	t_eq "$n: send's JSON says ok, as its exit status" "$(json_get "$TMPDIR/$n.send.json" ok)" true
	t_eq "$n: send's result" "$(json_get "$TMPDIR/$n.send.json" result)" source-ended
	t_eq "$n: recv's JSON says ok" "$(json_get "$TMPDIR/$n.recv.json" ok)" true
	t_eq "$n: 48 buffers recorded" "$(meta $n buffers)" 48
	t_eq "$n: recorded from the first buffer" "$(meta $n first_seq)" 0
	t_eq "$n: the recording says source-ended" "$(meta $n result)" source-ended
	t_check "$n: recording verifies" verify_ok $n
done

# --- a stop sends what the source delivered before it: send stops the
# source first (a chardev: short=fill reader publishes its partial last
# buffer) and then sends the backlog, by signal and by time, as record does
for how in TERM duration; do
	n=fill-$how
	start_recv $n || { t_eq "$n: recv starts" 1 0; continue; }
	fifo_writer "$TMPDIR"
	limit=--duration=1h
	[ "$how" = duration ] && limit=--duration=20
	$DMAKIT send -d "chardev:$TMPDIR/fifo,bufsize=64K,short=fill" \
		127.0.0.1:$PORT "$limit" --json >"$TMPDIR/$n.send.json" 2>"$TMPDIR/$n.send.err" &
	pid=$!
	t_check "$n: the writer's bytes were all read" wait_for 120 test -e "$TMPDIR/drained"
	[ "$how" = TERM ] && kill -TERM "$pid"
	wait "$pid"
	rc=$?
	kill "$wpid"; wait "$wpid" 2>/dev/null
	wait_recv
	t_eq "$n: send exits 0" "$rc" 0
	t_eq "$n: recv exits 0" "$RECV_RC" 0
	t_eq "$n: every byte read is recorded, the partial buffer too" \
		"$(meta $n bytes)/$(meta $n buffers)" 1000000/16
	t_eq "$n: send's own count agrees" \
		"$(json_get "$TMPDIR/$n.send.json" bytes)/$(json_get "$TMPDIR/$n.send.json" not_sent)" 1000000/0
	want=interrupted
	[ "$how" = duration ] && want=complete
	t_eq "$n: the recording says $want" "$(meta $n result)" $want
	t_check "$n: recording verifies" verify_ok $n
done

# --- a sender that goes silent --------------------------------------------
start_recv silent --idle-timeout 1s || exit 1
$DMKS send-garbage 127.0.0.1 $PORT silent >"$TMPDIR/silent.py" 2>&1 &
PY=$!
wait_recv
wait $PY
t_eq "silent sender: recv fails" "$RECV_RC" 1
t_grep "silent sender: says so" "the sender went silent for 1 s" "$TMPDIR/silent.recv.err"
t_eq "silent sender: the 3 buffers before are kept" "$(meta silent buffers)" 3
t_check "silent sender: recording verifies" verify_ok silent

# --- the smallest receive pool still carries a fast stream ---------------
start_recv pool2 --buffers 2 || exit 1
$DMAKIT send -d "sim:bufsize=64K,nbufs=16,policy=block" 127.0.0.1:$PORT --size 32M \
	>/dev/null 2>"$TMPDIR/pool2.send.err"
t_eq "--buffers 2: send exits 0" "$?" 0
wait_recv
t_eq "--buffers 2: recv exits 0" "$RECV_RC" 0
t_eq "--buffers 2: 512 buffers" "$(meta pool2 buffers)" 512
t_check "--buffers 2: recording verifies" verify_ok pool2
$DMAKIT recv -l 127.0.0.1:0 -o "$TMPDIR/x.dat" --buffers 1 2>/dev/null
t_eq "--buffers 1: usage error" "$?" 2

# --- send --sndbuf reaches the socket -------------------------------------
if command -v strace >/dev/null; then
	start_recv sndbuf || exit 1
	strace -f -e trace=setsockopt -o "$TMPDIR/sndbuf.strace" \
		$DMAKIT_FAST send -d "sim:bufsize=64K,nbufs=16" 127.0.0.1:$PORT --size 4M \
		--sndbuf 256K >/dev/null 2>&1
	t_eq "--sndbuf: send exits 0" "$?" 0
	wait_recv
	t_grep "--sndbuf: SO_SNDBUF set to 256 KiB" "SO_SNDBUF, \[262144\]" "$TMPDIR/sndbuf.strace"
else
	t_eq "strace is installed (scripts/setup.sh)" no yes
fi
t_done
