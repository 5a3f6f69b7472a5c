#!/usr/bin/env bash
# timeout: 120
# `dmakit xfer` on the userspace simulated card: round trips checked in
# both directions (aligned and unaligned host buffers, card offsets), JSON
# summary, clear errors and exit codes for bad input.  (The kernel driver
# path is tested in the VM suite, tests/vm.)
. "$TOP/tests/host/lib.bash"

$DMAKIT xfer -d sim --from-host --size 4000 --count 5 --offset 100 --check >"$TMPDIR/out" 2>&1
t_eq "from-host round trips, unaligned buffer" $? 0
t_grep "  checked" "5 transactions, .* data checked" "$TMPDIR/out"
$DMAKIT xfer -d sim --from-host --size 4000 --count 5 --offset 100 --check -q >"$TMPDIR/out" 2>&1
t_eq "-q: the same run succeeds" $? 0
t_check "  and prints nothing (only errors)" test ! -s "$TMPDIR/out"

$DMAKIT xfer -d sim:cardmem=1M --to-host --size 300K --card-addr 700K --count 4 --check -q >"$TMPDIR/out" 2>&1
t_eq "to-host round trips at a card offset" $? 0

$DMAKIT xfer -d sim --to-host --size 64K --count 3 --json >"$TMPDIR/out.json" 2>"$TMPDIR/err"
t_eq "--json" $? 0
t_eq "  transactions" "$(json_get "$TMPDIR/out.json" transactions)" 3
t_eq "  bytes" "$(json_get "$TMPDIR/out.json" bytes)" 196608
t_eq "  direction" "$(json_get "$TMPDIR/out.json" direction)" to_host
t_eq "  ok" "$(json_get "$TMPDIR/out.json" ok)" true

$DMAKIT xfer -d sim --from-host --size 65537 >/dev/null 2>"$TMPDIR/err"
t_eq "larger than card memory: failure" $? 1
t_grep "  says why" "65537 bytes at card address 0 do not fit the card's 65536-byte memory" "$TMPDIR/err"

$DMAKIT xfer -d sim --size 4K >/dev/null 2>"$TMPDIR/err"
t_eq "no direction: usage error" $? 2
t_grep "  says which" "give a direction: --to-host or --from-host" "$TMPDIR/err"
$DMAKIT xfer -d sim --to-host --from-host --size 4K >/dev/null 2>&1
t_eq "both directions: usage error" $? 2
$DMAKIT xfer -d sim --to-host --size 0 >/dev/null 2>&1
t_eq "zero size: usage error" $? 2
$DMAKIT xfer -d sim --to-host --size 4K --offset 4096 >/dev/null 2>&1
t_eq "offset beyond a page: usage error" $? 2
$DMAKIT xfer -d nosuchdevice --to-host --size 4K >/dev/null 2>"$TMPDIR/err"
t_eq "unknown device: usage error, as in record" $? 2
t_grep "  one line with context" "^dmakit xfer: unknown device 'nosuchdevice'" "$TMPDIR/err"
$DMAKIT xfer -d /dev/null --to-host --size 4K >/dev/null 2>"$TMPDIR/err"
t_eq "not a dmakit device: failure" $? 1
t_grep "  says so" "/dev/null: not a dmakit device" "$TMPDIR/err"

# wait until process $1 catches SIGINT (SigCgt bit 2), up to 120 s: a
# background job starts with SIGINT ignored, and a signal sent before the
# handler is installed is lost (the run then takes its full 200 s)
wait_sigint_caught() {
	local i mask
	for i in $(seq 1200); do
		mask=$(sed -n 's/^SigCgt:\t*//p' "/proc/$1/status" 2>/dev/null)
		[ -n "$mask" ] && (( 0x$mask & 2 )) && return 0
		sleep 0.1
	done
	return 1
}

# a signal ends the run with a message and status 1 (slow engine)
$DMAKIT xfer -d sim:xfer_lat=200000 --to-host --size 4K --count 1000 -q >/dev/null 2>"$TMPDIR/err" &
pid=$!
t_check "SIGINT: handler installed" wait_sigint_caught $pid
kill -INT $pid
wait $pid
t_eq "SIGINT: failure status" $? 1
t_grep "  reported" "interrupted" "$TMPDIR/err"
t_done
