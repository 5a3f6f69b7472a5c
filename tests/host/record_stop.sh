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

t_done
