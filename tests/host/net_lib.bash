# Helpers for the network stream tests (sourced after lib.bash).

DMKS="python3 $TOP/tests/host/dmks.py"

# start_recv NAME ARGS...: `dmakit recv -l 127.0.0.1:0` in the background,
# output in $TMPDIR/NAME.*; waits until it listens.  Sets RECV_PID, PORT.
start_recv() {
	local name=$1; shift
	rm -f "$TMPDIR/$name.port"
	$DMAKIT recv -l "${RECV_ADDR:-127.0.0.1}:0" -o "$TMPDIR/$name.dat" \
		--port-file "$TMPDIR/$name.port" --json -q "$@" \
		>"$TMPDIR/$name.recv.json" 2>"$TMPDIR/$name.recv.err" &
	RECV_PID=$!
	wait_file "$TMPDIR/$name.port" || { echo "recv did not start:"; cat "$TMPDIR/$name.recv.err"; return 1; }
	PORT=$(cat "$TMPDIR/$name.port")
}

# wait_file FILE [TENTHS]: wait until FILE exists (default 10 s).
wait_file() {
	local i
	for ((i = 0; i < ${2:-100}; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_size FILE BYTES [TENTHS]: wait until FILE holds at least BYTES
# (default bound 60 s: a busy machine is many times slower than a quiet one).
wait_size() {
	local i
	for ((i = 0; i < ${3:-600}; i++)); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_buffers NAME N: wait until the recording $TMPDIR/NAME.dat indexes at
# least N buffers (its data file is preallocated; the index grows by a
# 64-byte entry per buffer after a 256-byte header: docs/record.md).
wait_buffers() { wait_size "$TMPDIR/$1.dat.idx" $((256 + $2 * 64)); }

# wait_send_queue PORT BYTES: wait (up to 60 s) until the TCP connection to
# 127.0.0.1:PORT holds at least BYTES of unsent data on the sender's side.
wait_send_queue() {
	local i q
	for ((i = 0; i < 600; i++)); do
		q=$(ss -tnH state established "( dport = :$1 )" | awk '{ print $2; exit }')
		[ "${q:-0}" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# mock_get KEY: a value from the independent receiver's report (dotted keys).
mock_get() { json_get "$TMPDIR/mock.json" "$1"; }

# wait_recv: wait for the background receiver; sets RECV_RC.
wait_recv() {
	wait "$RECV_PID"
	RECV_RC=$?
}

# verify_ok NAME: `dmakit verify` of $TMPDIR/NAME.dat passes.
verify_ok() {
	$DMAKIT verify "$TMPDIR/$1.dat" >"$TMPDIR/$1.verify" 2>&1
}

# meta NAME KEY: a value from the recording's metadata.
meta() { json_get "$TMPDIR/$1.dat.json" "$2"; }
