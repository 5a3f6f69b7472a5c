#!/usr/bin/env bash
# Every way a recording ends is honest: exit 0 only when it ended as asked
# (size or duration reached, the source ended, SIGINT/SIGTERM) AND data,
# index and metadata were made durable; 1 when the finish failed, whatever
# the result, saying what state the files are in.  Text, --json and the
# exit status agree.  The finish is made to fail by moving the sidecar
# directory away mid-run (the final metadata's rename then fails), the
# issue's "exits 0 while the JSON stays recording".
# timeout: 300
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/net_lib.bash"
slow=sim:bufsize=64K,nbufs=32,policy=block,rate=640K	# 10 buffers/s

# wait until FILE exists, up to 120 s
wait_exists() {
	local i
	for i in $(seq 1200); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# start_case NAME ARGS...: record in the background with the sidecars in
# $TMPDIR/NAME-side/; sets PID_NAME via the pids array
declare -A pids
start_case() {
	local name=$1; shift
	mkdir -p "$TMPDIR/$name-side"
	"$DMAKIT" record -o "$TMPDIR/$name.dat" --sidecar "$TMPDIR/$name-side/rec" \
		--json "$@" >"$TMPDIR/$name.json" 2>"$TMPDIR/$name.err" &
	pids[$name]=$!
}

# move_away DIR NEWDIR: once the recording is open, move its sidecar
# directory.  Open writes rec.json (a rename of rec.json.tmp) and then
# creates rec.json.tmp again, reserved for the final version: a move
# between the two fails the open itself (seen in a CI rehearsal), so the
# recording is open only when both exist.
move_away() {
	wait_exists "$1/rec.json" && wait_exists "$1/rec.json.tmp" && mv "$1" "$2"
}

# lose_sidecar_dir NAME: once the recording is open, move its directory
lose_sidecar_dir() {
	move_away "$TMPDIR/$1-side" "$TMPDIR/$1-moved"
}

check_unfinished() {	# NAME RESULT RC
	local name=$1 result=$2 rc=$3
	t_eq "$name: exits 1" "$rc" 1
	t_grep "$name: says the finish failed" \
		"ended \($result.*\) but could not write the final .*rec.json \(it still says \"recording\"\)" \
		"$TMPDIR/$name.err"
	t_grep "$name: says what the files hold" "the data and index hold [0-9]+ buffers" "$TMPDIR/$name.err"
	t_eq "$name: --json ok false" "$(json_get "$TMPDIR/$name.json" ok)" false
	t_eq "$name: --json finalized false" "$(json_get "$TMPDIR/$name.json" finalized)" false
	t_eq "$name: --json result" "$(json_get "$TMPDIR/$name.json" result)" "$result"
	t_eq "$name: the metadata on disk still says recording" \
		"$(json_get "$TMPDIR/$name-moved/rec.json" result)" recording
}

# the three clean endings, each with a failed finish (run side by side)
start_case interrupted -d "$slow" --duration 1h
start_case complete -d "$slow" --duration 15
start_case source-ended -d "$slow,count=150" --duration 1h
for name in interrupted complete source-ended; do
	t_check "$name: sidecar directory moved mid-run" lose_sidecar_dir "$name"
done
kill -INT "${pids[interrupted]}"
for name in interrupted complete source-ended; do
	wait "${pids[$name]}"
	check_unfinished "$name" "$name" "$?"
done

# the same endings with a good finish: exit 0, and the JSON says ok
"$DMAKIT" record -d sim:bufsize=64K,policy=block,rate=max,count=20 -o "$TMPDIR/ok.dat" \
	--duration 1h --json >"$TMPDIR/ok.json" 2>"$TMPDIR/ok.err"
t_eq "source ended, durable: exits 0" "$?" 0
t_eq "source ended, durable: result" "$(json_get "$TMPDIR/ok.json" result)" source-ended
t_eq "source ended, durable: --json ok" "$(json_get "$TMPDIR/ok.json" ok)" true
t_eq "source ended, durable: --json finalized" "$(json_get "$TMPDIR/ok.json" finalized)" true
t_eq "source ended, durable: metadata" "$(json_get "$TMPDIR/ok.dat.json" result)" source-ended
t_check "source ended, durable: verifies" "$DMAKIT" verify "$TMPDIR/ok.dat" --quiet

# recv: a stream that ends as asked but cannot be finalised is a failure
mkdir -p "$TMPDIR/rx-side"
start_recv rx --sidecar "$TMPDIR/rx-side/rec" || exit 1
"$DMAKIT" send -d "$slow" "127.0.0.1:$PORT" --duration 15 -q 2>"$TMPDIR/rx.send.err" &
send_pid=$!
t_check "recv: sidecar directory moved mid-stream" \
	move_away "$TMPDIR/rx-side" "$TMPDIR/rx-moved"
wait "$send_pid"
wait_recv
t_eq "recv: exits 1" "$RECV_RC" 1
t_grep "recv: says the finish failed" "could not write the final .*rec.json" "$TMPDIR/rx.recv.err"
t_eq "recv: --json ok false" "$(json_get "$TMPDIR/rx.recv.json" ok)" false
t_eq "recv: --json finalized false" "$(json_get "$TMPDIR/rx.recv.json" recorded.finalized)" false
t_done
