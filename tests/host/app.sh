#!/usr/bin/env bash
# app:NAME — a program as the producer (examples/producer.c on
# include/dmakit/producer.h), consumers in other processes: record and send
# on the same ring, both verified byte for byte (sim payload); the producer
# killed mid-run (the recorder says so, exit 1, what it has verifies) and
# the name reused at once; a consumer killed mid-run (the producer is not
# held back, the other consumer gets everything); policy drop accounts
# every loss the producer counted.
# timeout: 600
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/net_lib.bash"
PRODUCER=$TOP/build-san/examples/producer
[ -x "$PRODUCER" ] || PRODUCER=$TOP/build/examples/producer
NAME=t$$-app
cd "$TMPDIR" || exit 1

# wait_entries PREFIX N: until the recording's index holds N entries (60 s)
wait_entries() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ -f "$1.idx" ] && [ "$(stat -c %s "$1.idx")" -ge $((256 + 64 * $2)) ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_ring: until a live producer has published $NAME (30 s): the ring
# exists and its owner holds the lock (a killed producer's ring lingers
# until the next opener replaces it)
wait_ring() {
	local i ring=/dev/shm/dmakit-app.$NAME
	for ((i = 0; i < 300; i++)); do
		[ -e "$ring" ] && ! flock -n -s "$ring" true 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- record and send on the same ring ---
start_recv net || exit 1
"$PRODUCER" -c 2 "$NAME" 1000 >prod.out 2>prod.err &
PPID_=$!
t_check "the producer publishes its ring" wait_ring
"$DMAKIT" record -q -d "app:$NAME" -o rec.dat --duration 10m 2>rec.err &
REC=$!
"$DMAKIT" send -q -d "app:$NAME" "127.0.0.1:$PORT" --duration 10m 2>send.err
rc=$?
t_eq "send ends with the stream, exit 0" "$rc" 0
[ "$rc" = 0 ] || { cat send.err; kill "$RECV_PID"; }
wait "$REC"; t_eq "record ends with the stream, exit 0" "$?" 0
wait "$PPID_"; t_eq "producer exits 0" "$?" 0
wait_recv; t_eq "recv exits 0" "$RECV_RC" 0
t_eq "record: result source-ended" "$(json_get rec.dat.json result)" source-ended
for f in rec.dat net.dat; do
	"$DMAKIT" verify "$f" >v.out 2>&1
	t_eq "$f: verify passes" "$?" 0
	t_grep "$f: every byte checked against the producer's payload" "sim payload checked" v.out
	t_eq "$f: 1000 buffers" "$(json_get "$f.json" buffers)" 1000
done
t_check "the name is gone after the producer closed" test ! -e "/dev/shm/dmakit-app.$NAME"

# --- the producer killed mid-run, then the name reused ---
"$PRODUCER" -c 1 -r 200 "$NAME" 0 >/dev/null 2>&1 &
PPID_=$!
wait_ring || echo "the producer did not publish its ring"
"$DMAKIT" record -d "app:$NAME" -o killed.dat --duration 10m >killed.out 2>killed.err &
REC=$!
t_check "producer killed: the recording is under way" wait_entries killed.dat 10
kill -KILL "$PPID_"; wait "$PPID_" 2>/dev/null
wait "$REC"; rc=$?
t_eq "producer killed: record exits 1" "$rc" 1
t_eq "producer killed: result device-error" "$(json_get killed.dat.json result)" device-error
t_grep "producer killed: says the producer died" "No such device .the producer.s process ended without closing its stream" killed.err
"$DMAKIT" verify killed.dat >v.out 2>&1
t_eq "producer killed: what was recorded verifies" "$?" 0
t_check "producer killed: its ring is left behind" test -e "/dev/shm/dmakit-app.$NAME"
# a consumer started after the kill is told the producer died, not only
# that none runs; the ring left behind is removed
"$DMAKIT" record -d "app:$NAME" -o stale.dat --size 1M 2>stale.err
t_eq "after the kill: a new consumer exits 1" "$?" 1
t_grep "after the kill: says the last producer ended without closing" \
	"no producer of that name is running: the last one ended without closing its ring" stale.err
t_check "after the kill: the ring left behind is gone" test ! -e "/dev/shm/dmakit-app.$NAME"

"$PRODUCER" -c 1 "$NAME" 300 >reuse.out 2>reuse.err &
PPID_=$!
wait_ring || echo "the producer did not publish its ring"
"$DMAKIT" record -q -d "app:$NAME" -o reuse.dat --duration 10m 2>/dev/null
t_eq "name reused after a kill: record exits 0" "$?" 0
wait "$PPID_"; t_eq "name reused: the new producer exits 0" "$?" 0
"$DMAKIT" verify reuse.dat >v.out 2>&1
t_eq "name reused: verify passes" "$?" 0
t_eq "name reused: 300 buffers" "$(json_get reuse.dat.json buffers)" 300

# --- a consumer killed mid-run does not hold the producer back ---
"$PRODUCER" -c 2 -n 16 "$NAME" 3000 >cons.out 2>cons.err &
PPID_=$!
wait_ring || echo "the producer did not publish its ring"
"$DMAKIT" record -q -d "app:$NAME" -o victim.dat --duration 10m 2>/dev/null &
VICTIM=$!
"$DMAKIT" record -q -d "app:$NAME" -o survivor.dat --duration 10m 2>/dev/null &
SURV=$!
t_check "consumer killed: the victim is recording" wait_entries victim.dat 10
kill -KILL "$VICTIM"; wait "$VICTIM" 2>/dev/null
wait "$PPID_"; t_eq "consumer killed: the producer finishes, exit 0" "$?" 0
wait "$SURV"; t_eq "consumer killed: the other consumer ends, exit 0" "$?" 0
t_eq "consumer killed: the other one got all 3000 buffers" \
	"$(json_get survivor.dat.json buffers)" 3000
t_eq "consumer killed: with no loss (policy block)" "$(json_get survivor.dat.json lost)" 0
"$DMAKIT" verify survivor.dat >v.out 2>&1
t_eq "consumer killed: the survivor verifies" "$?" 0

# --- policy drop: the producer's losses are the recording's gaps ---
"$PRODUCER" -c 1 -p drop -n 4 "$NAME" 20000 >drop.out 2>drop.err &
PPID_=$!
wait_ring || echo "the producer did not publish its ring"
"$DMAKIT" record -q -d "app:$NAME" -o drop.dat --duration 10m --engine pwrite --queue-depth 1 2>/dev/null
t_eq "drop: record exits 0" "$?" 0
wait "$PPID_"; t_eq "drop: producer exits 0" "$?" 0
plost=$(sed -n 's/.* published, \([0-9]*\) lost$/\1/p' drop.out)
t_check "drop: the producer lost buffers ($plost)" test "${plost:-0}" -gt 0
t_eq "drop: the recording counts exactly the producer's losses" \
	"$(json_get drop.dat.json dropped)" "$plost"
"$DMAKIT" verify drop.dat --json >v.json
t_eq "drop: verify passes" "$?" 0
t_eq "drop: no unaccounted loss" "$(json_get v.json unaccounted)" 0

# --- no producer: a clear error ---
"$DMAKIT" record -d "app:$NAME-none" -o none.dat --size 1M 2>none.err
t_eq "no producer: exit 1" "$?" 1
t_grep "no producer: says so" "no producer of that name is running .waited 10 s for one to appear" none.err

# --- the recorder started first, as in docs/porting.md's 'producer &'
# then 'dmakit record': it waits for the name to appear ---
"$DMAKIT" record -d "app:$NAME-late" -o late.dat --size 1G --json >late.json 2>late.err &
rpid=$!
waiting_for_name() { grep -q nanosleep "/proc/$rpid/wchan" 2>/dev/null; }
t_check "late producer: the recorder waits for the name" wait_for 30 waiting_for_name
"$PRODUCER" -c 1 "$NAME-late" 50 >late.out 2>&1
t_eq "late producer: the producer's run succeeds" "$?" 0
wait "$rpid"
t_eq "late producer: record exits 0" "$?" 0
t_eq "late producer: every buffer recorded" "$(json_get late.dat.json buffers)" 50
t_check "late producer: verifies" "$DMAKIT" verify late.dat --quiet
# a stop request ends the wait for a name that never appears
"$DMAKIT" record -d "app:$NAME-never" -o never.dat --size 1M 2>never.err &
rpid=$!
t_check "never: the recorder waits for the name" wait_for 30 waiting_for_name
kill -INT "$rpid"; wait "$rpid"
t_eq "never: SIGINT ends the wait, exit 1" "$?" 1
t_grep "never: says so" "stopped while waiting for the producer to appear: nothing was read" never.err
t_check "never: no recording files" test ! -e never.dat -a ! -e never.dat.json

# --- absurd names and geometry are refused with a reason ---
"$DMAKIT" record -d "app:../etc" -o none.dat --size 1M 2>none.err
t_eq "bad name: usage error" "$?" 2
t_grep "bad name: says so" "bad name" none.err
"$PRODUCER" -b 3 "$NAME" 1 2>prod.err
t_eq "bufsize 3: the producer cannot create its ring" "$?" 1
t_grep "bufsize 3: says why" "bufsize must be a multiple of 4K" prod.err
"$PRODUCER" -n 1 "$NAME" 1 2>prod.err
t_eq "nbufs 1: refused" "$?" 1
t_check "refused producers leave no ring behind" test ! -e "/dev/shm/dmakit-app.$NAME"
# the example's own command line: help on stdout, every bad value a usage error
"$PRODUCER" --help >help.out 2>&1
t_eq "example --help: exit 0" "$?" 0
t_grep "example --help: the usage" "^usage: producer" help.out
for bad in "-p fast" "-c 1x" "-c 65" "-n -1" "-r 0" "-b 0"; do
	# shellcheck disable=SC2086 # the option and its value
	"$PRODUCER" $bad "$NAME" 1 2>bad.err
	t_eq "example $bad: usage error (exit 2)" "$?" 2
done
"$PRODUCER" "$NAME" 12x 2>bad.err
t_eq "example COUNT 12x: usage error" "$?" 2
t_check "usage errors leave no ring behind" test ! -e "/dev/shm/dmakit-app.$NAME"

# --- root records a user's ring: the wake FIFO it made is the owner's ---
# (/dev/shm is sticky: a root-owned FIFO could be neither opened by the
# producer to wake the recorder nor unlinked when it closes its ring)
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	chmod 755 "$TMPDIR"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$PRODUCER" -c 1 "$NAME" 2000 >user.out 2>user.err &
	upid=$!
	t_check "a user's producer publishes its ring" wait_ring
	"$DMAKIT" record -q -d "app:$NAME" -o user.dat --duration 10m 2>urec.err
	t_eq "root records it to its end, exit 0" "$?" 0
	wait "$upid"
	t_eq "the user's producer ends, exit 0" "$?" 0
	t_eq "all 2000 buffers" "$(json_get user.dat.json buffers)" 2000
	t_check "the user's producer removed its ring and the FIFO root made" \
		test -z "$(ls /dev/shm | grep -F "dmakit-app.$NAME")"
else
	t_check "root and setpriv, to record a user's ring" false
fi
t_done
