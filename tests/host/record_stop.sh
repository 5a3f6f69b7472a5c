#!/usr/bin/env bash
# The simulated card cannot hurt the host: SIGINT/SIGTERM end a recording
# whatever the source's rate (at rate=1 the next 512 KiB buffer is six days
# away: the producer used to sleep through the stop and pthread_join with
# it); a ring larger than the hard cap or than the memory this process may
# use is refused with a clear error before anything is allocated or created
# (the memory this process may use: record_stop_memory.sh).
# timeout: 300
. "$TOP/tests/host/lib.bash"

# wait until buffer 0 (seq 0) is in data file $1, up to 120 s: its first
# payload word is dmakit_payload_word(0, 0) = K2
wait_first_buffer() {
	local i
	for i in $(seq 1200); do
		[ "$(od -An -tx8 -N8 "$1" 2>/dev/null | tr -d ' ')" = c2b2ae3d27d4eb4f ] &&
			return 0
		sleep 0.1
	done
	return 1
}

# The bound is generous (a loaded machine): the point is "not days".
for case in TERM:drop INT:block TERM:block; do
	sig=${case%%:*} policy=${case##*:}
	out=$TMPDIR/slow-$sig-$policy.dat
	"$DMAKIT" record -d "sim:rate=1,policy=$policy" -o "$out" --duration 1h \
		2>"$TMPDIR/err" >/dev/null &
	pid=$!
	# the first buffer is due at once, the second in six days: once the
	# first is written, the producer sleeps
	t_check "$sig/$policy: first buffer written" wait_first_buffer "$out"
	t0=$(date +%s)
	kill -"$sig" "$pid"
	wait "$pid"
	rc=$?
	t_eq "$sig/$policy rate=1: exits 0" "$rc" 0
	t_check "$sig/$policy rate=1: stops promptly ($(($(date +%s) - t0)) s)" \
		test $(($(date +%s) - t0)) -le 30
	t_eq "$sig/$policy rate=1: interrupted" "$(json_get "$out.json" result)" interrupted
	t_eq "$sig/$policy rate=1: the one buffer" "$(json_get "$out.json" buffers)" 1
	t_check "$sig/$policy rate=1: verifies" "$DMAKIT" verify "$out" --quiet
done

# the issue's 4 TiB ring, and one just over the 16 GiB cap
for geo in nbufs=65536,bufsize=64M nbufs=4096,bufsize=4M; do
	out=$TMPDIR/huge.dat
	"$DMAKIT" record -d "sim:$geo" -o "$out" --size 1M 2>"$TMPDIR/err"
	t_eq "$geo: usage error" "$?" 2
	t_grep "$geo: says why" "over the simulated card's limit of 16384 MiB" "$TMPDIR/err"
	t_check "$geo: nothing created" test ! -e "$out"
done
"$DMAKIT" bench --size 64M --device sim:nbufs=65536,bufsize=64M 2>"$TMPDIR/err" >/dev/null
t_eq "bench with a 4 TiB ring: usage error" "$?" 2

# A stop while a large ring is being populated (8 GiB took 13.7 s on a busy
# machine) ends the open: a clear message, exit 1 as for any stop before
# the recording began, and no recording files; without the check the
# recorder finished populating, then recorded and claimed a recording.
avail_mib=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
nbufs=$((avail_mib / 2 / 4))
[ "$nbufs" -gt 2048 ] && nbufs=2048
out=$TMPDIR/populating.dat
"$DMAKIT" record -d "sim:nbufs=$nbufs,bufsize=4M" -o "$out" --duration 1h --json \
	>"$TMPDIR/pop.json" 2>"$TMPDIR/err" &
pid=$!
populating() {
	awk '/^RssShmem:/ { exit !($2 > 65536) }' "/proc/$pid/status" 2>/dev/null
}
t_check "populating a $((nbufs * 4)) MiB ring" wait_for 120 populating
kill -TERM "$pid"
wait "$pid"
t_eq "stopped while populating: exit 1" "$?" 1
t_grep "stopped while populating: says so" \
	"stopped while preparing the $((nbufs * 4 + 0)) MiB ring: the stream never started" "$TMPDIR/err"
t_eq "stopped while populating: --json agrees" "$(json_get "$TMPDIR/pop.json" ok)" false
t_check "stopped while populating: no recording files" \
	test ! -e "$out" -a ! -e "$out.idx" -a ! -e "$out.json"

# A stop request with a backlog the target cannot take quickly (a reader
# of `-o -` at 512 KiB/s behind a 64 MiB policy=block ring: two minutes of
# writing) ends within about a second of draining (REC_DRAIN_REQUEST_MS):
# what was written is said, and what was left in the ring is counted as
# not written, never a complete stream.
slow_reader() {	# read stdin at ~512 KiB/s, keep the byte count in $1
	/usr/bin/python3 -c '
import sys, time
n = 0
while True:
    b = sys.stdin.buffer.read(65536)
    if not b:
        break
    n += len(b)
    open(sys.argv[1], "w").write(str(n))
    time.sleep(0.125)
' "$1"
}
rm -f "$TMPDIR/got" "$TMPDIR/backlog.pid"
("$DMAKIT" record -d sim:nbufs=64,bufsize=1M,policy=block -o - --duration 1h \
	2>"$TMPDIR/backlog.err" &
 echo $! >"$TMPDIR/backlog.pid"; wait $!; echo $? >"$TMPDIR/backlog.rc") |
	slow_reader "$TMPDIR/got" &
reader=$!
got_at_least() {	# the file may be caught empty while it is rewritten
	local n
	n=$(cat "$TMPDIR/got" 2>/dev/null)
	[ "${n:-0}" -ge "$1" ]
}
t_check "backlog: the reader has 2 MiB" wait_for 120 got_at_least 2097152
t0=$(date +%s)
kill -INT "$(cat "$TMPDIR/backlog.pid")"
wait "$reader"
took=$(($(date +%s) - t0))
t_eq "backlog: a stop request: exit 0" "$(cat "$TMPDIR/backlog.rc")" 0
t_check "backlog: ends long before the backlog is written (${took} s, the backlog needs ~120 s)" \
	test "$took" -le 40
t_grep "backlog: says what was left" \
	"a stop request waits at most 1000 ms for the backlog: [0-9]+ buffers the source delivered before its stop were not written" \
	"$TMPDIR/backlog.err"
left=$(sed -n 's/.*backlog: \([0-9]*\) buffers the source.*/\1/p' "$TMPDIR/backlog.err")
streamed=$(sed -n 's/.*to stdout in .*(\([0-9]*\) buffers).*/\1/p; s/.* (\([0-9]*\) buffers) to stdout.*/\1/p' "$TMPDIR/backlog.err" | head -1)
t_grep "backlog: the summary counts them as not written" "result interrupted; .* not written $left\$" "$TMPDIR/backlog.err"
t_eq "backlog: the reader got exactly the buffers said streamed" \
	"$(cat "$TMPDIR/got")" "$((streamed * 1048576))"
t_check "backlog: most of the ring was left ($left of 64)" test "${left:-0}" -ge 16

t_done
