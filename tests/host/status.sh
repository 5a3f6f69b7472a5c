#!/usr/bin/env bash
# The status line of record, send, recv and play: when stderr is not a terminal,
# --status-interval prints one every interval (elapsed, amount, rate, % and
# ETA when a size or duration bounds the run, ring fill, drops) and nothing
# without it; SIGUSR1 prints one at any time, even with --quiet, and
# neither stops nor disturbs the run (the recording verifies).
# timeout: 300
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/net_lib.bash"

# elapsed, amount, rate[, % of TOTAL, ETA][, ring F/N], drops
LINE='^[0-9]+\.[0-9] s  [0-9.]+ (B|KiB|MiB|GiB)  [0-9.]+ (B|kB|MB|GB)/s'
DEV=sim:bufsize=64K,nbufs=64,rate=20M

# --- record, bounded by a duration, stderr a file
$DMAKIT record -d $DEV -o "$TMPDIR/a.dat" --duration 3 --status-interval 300ms \
	>/dev/null 2>"$TMPDIR/a.err"
t_eq "record --status-interval exits 0" "$?" 0
n=$(grep -cE "$LINE  [0-9]+% of 3 s  ETA [0-9]+ s  ring [0-9]+/64  drops [0-9]+\$" "$TMPDIR/a.err")
# 3 s at 300 ms: about 9 lines; a loaded machine delays some, never all
t_check "record prints status lines with %, ETA, ring and drops ($n)" test "$n" -ge 3
t_eq "every stderr line is a status line" "$(grep -cvE "$LINE" "$TMPDIR/a.err")" 0
t_check "the % never goes down" awk '{ for (i = 1; i <= NF; i++) if ($i ~ /%$/) { v = $i + 0; if (v < last) exit 1; last = v } }' "$TMPDIR/a.err"
t_check "the recording verifies" "$DMAKIT" verify -q "$TMPDIR/a.dat"

$DMAKIT record -d $DEV -o "$TMPDIR/b.dat" --duration 1 >/dev/null 2>"$TMPDIR/b.err"
t_eq "record without --status-interval exits 0" "$?" 0
t_eq "... and prints no status line into a file" "$(grep -cE "$LINE" "$TMPDIR/b.err")" 0

$DMAKIT record -d $DEV -o "$TMPDIR/c.dat" --size 1M --status-interval 0 >/dev/null 2>&1
t_eq "--status-interval 0 is a usage error" "$?" 2
$DMAKIT record -d $DEV -o "$TMPDIR/c.dat" --size 1M --status-interval 1x >/dev/null 2>&1
t_eq "--status-interval 1x is a usage error" "$?" 2

# --- SIGUSR1 on a quiet recording bounded by a size
$DMAKIT record -d $DEV -o "$TMPDIR/u.dat" --size 4G -q >/dev/null 2>"$TMPDIR/u.err" &
pid=$!
wait_size "$TMPDIR/u.dat.idx" $((256 + 16 * 64))
t_check "the recording runs" kill -0 $pid
# wait_lines N: until N status lines are in u.err (60 s bound)
wait_lines() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(grep -cE "$LINE" "$TMPDIR/u.err")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
kill -USR1 $pid
t_check "SIGUSR1 prints a status line" wait_lines 1
kill -USR1 $pid
t_check "a second SIGUSR1 prints another" wait_lines 2
t_check "the recording goes on after SIGUSR1" kill -0 $pid
t_grep "the line has % and ETA of the size" "$LINE  [0-9]+% of 4.00 GiB  ETA [0-9]+ s  ring [0-9]+/64  drops [0-9]+\$" "$TMPDIR/u.err"
kill -INT $pid
wait $pid
t_eq "SIGINT still ends it cleanly (exit 0)" "$?" 0
t_check "the recording verifies" "$DMAKIT" verify -q "$TMPDIR/u.dat"

# --- send and recv, both with status lines
rm -f "$TMPDIR/n.port"
$DMAKIT recv -l 127.0.0.1:0 -o "$TMPDIR/n.dat" --port-file "$TMPDIR/n.port" \
	--status-interval 300ms >/dev/null 2>"$TMPDIR/n.recv.err" &
rpid=$!
wait_file "$TMPDIR/n.port" || cat "$TMPDIR/n.recv.err"
$DMAKIT send -d $DEV "127.0.0.1:$(cat "$TMPDIR/n.port")" --duration 3 \
	--status-interval 300ms >/dev/null 2>"$TMPDIR/n.send.err"
t_eq "send --status-interval exits 0" "$?" 0
wait $rpid
t_eq "recv --status-interval exits 0" "$?" 0
n=$(grep -cE "$LINE  [0-9]+% of 3 s  ETA [0-9]+ s  ring [0-9]+/64  drops [0-9]+\$" "$TMPDIR/n.send.err")
t_check "send prints status lines with %, ETA, ring and drops ($n)" test "$n" -ge 3
# the receiver cannot know the total: no % or ETA
n=$(grep -cE "$LINE(  ring [0-9]+/[0-9]+)?  drops [0-9]+\$" "$TMPDIR/n.recv.err")
t_check "recv prints status lines ($n)" test "$n" -ge 3
t_check "the received recording verifies" "$DMAKIT" verify -q "$TMPDIR/n.dat"

# --- play: % and ETA of what a complete play writes
$DMAKIT record -d sim:bufsize=64K,policy=block -o "$TMPDIR/p.dat" --size 8M -q
$DMAKIT play -d /dev/null --rate 4M --status-interval 300ms "$TMPDIR/p.dat" \
	>/dev/null 2>"$TMPDIR/p.err"
t_eq "play --status-interval exits 0" "$?" 0
n=$(grep -cE "$LINE  [0-9]+% of 8.00 MiB  ETA [0-9]+ s  drops 0\$" "$TMPDIR/p.err")
t_check "play prints status lines with % and ETA ($n)" test "$n" -ge 3
t_eq "every stderr line is a status line" "$(grep -cvE "$LINE" "$TMPDIR/p.err")" 0
$DMAKIT play -d /dev/null --rate 1M -q "$TMPDIR/p.dat" >/dev/null 2>"$TMPDIR/u.err" &
pid=$!
# SIGUSR1 (10) blocked: the status machinery is set up
usr1_blocked() {
	local b
	b=$(awk '/^SigBlk:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$b" ] && (( (0x$b >> 9) & 1 ))
}
wait_for 60 usr1_blocked $pid
kill -USR1 $pid
t_check "play -q: SIGUSR1 prints a status line" wait_lines 1
kill -INT $pid
wait $pid
t_eq "play: SIGINT ends it (exit 1: not played entirely)" "$?" 1
t_done
