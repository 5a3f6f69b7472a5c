# timeout: 900
# The faults the XDMA model injects (test build, DMAKIT_FAULTS=1; the
# descriptor fetch error is in 36-xdma), each with its outcome:
# - a write error (sim_xdma_bad_data=1): the engine stops with PG195's
#   write-error (C2H: writing the host) or read-error (H2C: reading it)
#   status; a stream buffer is a DMA error that verify accounts for, a
#   transaction fails with EIO, the driver counts one error, the card
#   works on;
# - a stalled engine (sim_xdma_stall=1: busy, no completion, no
#   interrupt): a transaction is given up by the watchdog (ETIMEDOUT, the
#   timeouts counter, the engine stopped within its bound); a recording
#   with --duration ends on time; one with --size waits for the card (no
#   watchdog on the stream: it goes on when the stall ends);
# - a vanished device (sim_xdma_vanished=1: registers read all-ones):
#   a waiting transaction fails with ENODEV and the driver says so; a
#   stream's buffer in flight is a DMA error, the recording ends on time;
#   the stops do not wait for a busy bit that cannot drop, rmmod is clean;
#   and the same when the card goes between an interrupt and its handler
#   (sim_xdma_vanish_at_irq=1) or as the handler reads a completed
#   buffer's metadata (sim_xdma_vanish_at_meta=1).
# Every wait is bounded generously (the debug kernel under TCG).
. /dmakit/lib.sh

P=/sys/module/dmakit/parameters
not_running() {	# PID
	! kill -0 "$1" 2>/dev/null
}
timeouts_counted() {	# SYSFS-DIR
	[ "$(cat "$1/counters/timeouts")" -ge 1 ]
}
submitted_over() {	# SYSFS-DIR N
	[ "$(cat "$1/counters/submitted")" -gt "$2" ]
}
dmesg_count() {	# PATTERN
	dmesg | grep -c "$1"
}
# rmmod while the card reads all-ones: the stops see it gone at once
# xfer_given_up FAULT WHAT ERR ERR_TEXT BY LOG_LINE: sim_xdma_FAULT set, a
# 64 KiB transaction with a 120 s wait fails with ERR (ERR_TEXT in its
# message), ended by the driver (BY) well before that wait, which logs
# LOG_LINE
xfer_given_up() {
	local n0 t0 rc
	n0=$(dmesg_count "$6")
	echo 1 >"$P/sim_xdma_$1"
	t0=$(date +%s)
	dmakit xfer -d "$xd" --to-host --size 64K --timeout 120s -q >/tmp/xg.err 2>&1
	rc=$?
	cat /tmp/xg.err
	t_eq "xfer on $2: fails" $rc 1
	t_check "  with $3" grep -qi "$4" /tmp/xg.err
	t_check "  $5, not the 120 s wait ($(($(date +%s) - t0)) s)" \
		test $(($(date +%s) - t0)) -lt 100
	t_check "  which said so" test "$(dmesg_count "$6")" -gt "$n0"
}
rmmod_gone() {
	local t0 rc dt
	t0=$(date +%s)
	unload_dmakit
	rc=$?
	dt=$(($(date +%s) - t0))
	t_eq "rmmod with the card gone" $rc 0
	t_check "  bounded ($dt s), no 'still busy'" \
		sh -c "test $dt -lt 60 && ! dmesg | grep -q 'still busy'"
}

# vanish_under_recording OUT SWITCH WHAT: record $xd into /mnt/OUT.dat
# (its JSON in /tmp/OUT.json) at 16 buffers/s for 15 s and set the
# model's SWITCH once it is under way: the driver says the card does not
# respond, the buffer in flight ends as a DMA error, the recording ends on
# time; the checks that differ follow the call
vanish_under_recording() {
	local nr0 e0 sub0 rec
	nr0=$(dmesg_count "stream: device not responding (reads all-ones)")
	e0=$(cat "$s/counters/errors")
	sub0=$(cat "$s/counters/submitted")
	echo 4194304 >"$s/rate"	# 16 buffers/s
	dmakit record -d "$xd" -o "/mnt/$1.dat" --duration 15s --json --quiet >"/tmp/$1.json" &
	rec=$!
	t_check "recording under way" wait_for 60 submitted_over "$s" $((sub0 + 4))
	echo 1 >"$P/$2"
	t_check "$3: the driver says so" wait_for 60 \
		sh -c "test \$(dmesg | grep -c 'stream: device not responding (reads all-ones)') -gt $nr0"
	t_eq "  one buffer ended as a DMA error" "$(($(cat "$s/counters/errors") - e0))" 1
	t_check "  record --duration 15s ends (60 s bound)" wait_for 60 not_running $rec
	wait $rec
	echo "  record exit $?: $(cat "/tmp/$1.json")"
}

# --- write error, AXI-ST ---------------------------------------------
DMAKIT_KO=$TEST_MOD load_dmakit sim_xdma=1
t_eq "load the test build" $? 0
xd=$(card_dev xdma)
s=$(card_sys "$xd")
for p in sim_xdma_bad_data sim_xdma_stall sim_xdma_vanished; do
	t_check "  it has $p" test -e "$P/$p"
done
t_check "ring: 16 x 256 KiB, block, max rate" set_ring 16 262144 block 0

# C2H: the write of a buffer's data to the host fails
e0=$(cat "$s/counters/errors")
echo 1 >$P/sim_xdma_bad_data
dmakit record -d "$xd" -o /mnt/w1.dat --size 4M --json --quiet >/tmp/w1.json
t_eq "record with one failed data write" "$(json_get /tmp/w1.json result)" complete
t_eq "  the fault was used" "$(cat $P/sim_xdma_bad_data)" 0
t_eq "  one buffer flagged as a DMA error" "$(json_get /tmp/w1.json dma_errors)" 1
t_eq "  the driver counted it" "$(($(cat "$s/counters/errors") - e0))" 1
t_check "  and said why (write-error status)" \
	sh -c "dmesg | grep -q 'C2H engine stopped, status 0x4000 '"
dmakit verify /mnt/w1.dat --json >/tmp/wv1.json
t_eq "  verify fails on it" $? 1
t_eq "  as a DMA error, no payload or CRC error, no gap" \
	"$(json_get /tmp/wv1.json dma_errors) $(json_get /tmp/wv1.json payload_errors) $(json_get /tmp/wv1.json crc_errors) $(json_get /tmp/wv1.json gaps)" \
	"1 0 0 0"
dmakit record -d "$xd" -o /mnt/w2.dat --size 4M --json --quiet >/tmp/w2.json
t_eq "  the card works on: the next recording is clean" \
	"$(json_get /tmp/w2.json result) $(json_get /tmp/w2.json buffers) $(json_get /tmp/w2.json dma_errors)" \
	"complete 16 0"
rm -f /mnt/w1.*

# H2C: the read of a buffer's data from the host fails
e0=$(cat "$s/counters/errors")
echo 1 >$P/sim_xdma_bad_data
dmakit play -d "$xd" --json /mnt/w2.dat >/tmp/wp1.json
t_eq "play with one failed data read: exit status 1" $? 1
t_eq "  the fault was used" "$(cat $P/sim_xdma_bad_data)" 0
t_eq "  the driver counted one error" "$(($(cat "$s/counters/errors") - e0))" 1
t_eq "  the player reports it" "$(json_get /tmp/wp1.json card_errors)" 1
t_eq "  the sink took the other 15" "$(cat "$s/h2c/buffers")" 15
t_check "  and the driver said why (read-error status)" \
	sh -c "dmesg | grep -q 'H2C engine stopped, status 0x200 '"
dmakit play -d "$xd" --json /mnt/w2.dat >/tmp/wp2.json
t_eq "  the card works on: all 16 played" \
	"$(json_get /tmp/wp2.json result) $(cat "$s/h2c/buffers")" "complete 16"
rm -f /mnt/w2.*

# --- stalled engine, AXI-ST ------------------------------------------
# --duration ends on time however little the card produced
echo 1 >$P/sim_xdma_stall
dmakit record -d "$xd" -o /mnt/s1.dat --duration 3s --json --quiet >/tmp/s1.json &
rec=$!
t_check "a stalled card: record --duration 3s ends (60 s bound)" wait_for 60 not_running $rec
wait $rec
t_eq "  exit 0" $? 0
t_eq "  result complete, nothing recorded" \
	"$(json_get /tmp/s1.json result) $(json_get /tmp/s1.json buffers)" "complete 0"
t_check "  the stalled engine stopped within its bound (no 'still busy')" \
	sh -c "! dmesg | grep -q 'still busy'"
rm -f /mnt/s1.*
# --size waits for the card: the stream has no watchdog (docs/driver.md)
dmakit record -d "$xd" -o /mnt/s2.dat --size 4M --json --quiet >/tmp/s2.json &
rec=$!
# an observation window, not a wait: nothing may arrive in it
sleep 3
t_check "record --size on a stalled card is still waiting after 3 s" kill -0 $rec
t_eq "  nothing completed" "$(json_get /tmp/s2.json buffers)" ""
echo 0 >$P/sim_xdma_stall
t_check "the stall ends: the recording ends (120 s bound)" wait_for 120 not_running $rec
wait $rec
t_eq "  exit 0" $? 0
t_eq "  complete, 16 buffers, no DMA error" \
	"$(json_get /tmp/s2.json result) $(json_get /tmp/s2.json buffers) $(json_get /tmp/s2.json dma_errors)" \
	"complete 16 0"
dmakit verify /mnt/s2.dat >/dev/null
t_eq "  verify" $? 0
rm -f /mnt/s2.*

# --- vanished device, AXI-ST -----------------------------------------
# under a recording: the chain's watch finds the card reading all-ones
# (as edu's stream watchdog does), the buffer the engine was on is a DMA
# error, the recording ends on time, its stop does not wait for busy
vanish_under_recording v1 sim_xdma_vanished "the card vanishes"
t_check "  with what came before (result $(json_get /tmp/v1.json result), $(json_get /tmp/v1.json buffers) buffers)" \
	test "$(json_get /tmp/v1.json buffers)" -gt 1
t_eq "  and the DMA error" "$(json_get /tmp/v1.json dma_errors)" 1
t_eq "  no drops made up from all-ones reads" "$(json_get /tmp/v1.json dropped)" 0
dmakit verify /mnt/v1.dat --allow-dma-errors >/dev/null
t_eq "  verify --allow-dma-errors" $? 0
t_check "  its stop saw the device gone" \
	sh -c "dmesg | grep -q 'C2H engine: device not responding (reads all-ones) at stop'"
t_check "  and did not wait for busy (no 'still busy')" \
	sh -c "! dmesg | grep -q 'still busy'"
rm -f /mnt/v1.*
rmmod_gone

# --- the card goes while an interrupt is handled, AXI-ST -------------
# sim_xdma_vanish_at_irq=1: before the handler reads the status (CI hit
# it once by chance); sim_xdma_vanish_at_meta=1: after a good status, as
# it reads a completed buffer's metadata (CI hit that too: a second DMA
# error with sequence 0, and verify failed).  Either way that is the card
# gone, as above: one DMA error, nothing made up from all-ones reads (not
# every error bit set, no packet of all-ones metadata: 2^32 - 1 lost, gaps,
# sequence 0), and no chain started on the gone card
for at in irq meta; do
	case $at in
	irq) what="the card goes at an interrupt" ;;
	meta) what="the card goes as the handler reads metadata" ;;
	esac
	DMAKIT_KO=$TEST_MOD load_dmakit sim_xdma=1
	t_eq "load the test build again" $? 0
	xd=$(card_dev xdma)
	s=$(card_sys "$xd")
	t_check "  it has sim_xdma_vanish_at_$at" test -e "$P/sim_xdma_vanish_at_$at"
	t_check "ring: 16 x 256 KiB, block, max rate" set_ring 16 262144 block 0
	vanish_under_recording "v$at" "sim_xdma_vanish_at_$at" "$what"
	t_eq "  the fault was used" "$(cat "$P/sim_xdma_vanish_at_$at")" 0
	t_eq "  one DMA error in the recording" "$(json_get "/tmp/v$at.json" dma_errors)" 1
	t_eq "  no loss or gap made up from all-ones metadata (lost gaps dropped)" \
		"$(json_get "/tmp/v$at.json" lost) $(json_get "/tmp/v$at.json" gaps) $(json_get "/tmp/v$at.json" dropped)" \
		"0 0 0"
	dmakit verify "/mnt/v$at.dat" --allow-dma-errors >/dev/null
	t_eq "  verify --allow-dma-errors" $? 0
	rm -f "/mnt/v$at".*
	rmmod_gone
done

# --- AXI-MM: write error, stall, vanished ------------------------------
DMAKIT_KO=$TEST_MOD load_dmakit sim_xdma=1 sim_xdma_mm=1
t_eq "load the test build, AXI-MM" $? 0
xd=$(card_dev xdma)
s=$(card_sys "$xd")
for dir in --to-host --from-host; do
	e0=$(cat "$s/counters/errors")
	echo 1 >$P/sim_xdma_bad_data
	dmakit xfer -d "$xd" $dir --size 64K --timeout 60s -q 2>/tmp/mw.err
	t_eq "xfer $dir with a failed data move: fails" $? 1
	t_check "  with EIO" grep -qi "input/output error" /tmp/mw.err
	t_eq "  the fault was used" "$(cat $P/sim_xdma_bad_data)" 0
	t_eq "  the driver counted one error" "$(($(cat "$s/counters/errors") - e0))" 1
	dmakit xfer -d "$xd" $dir --size 64K --check -q
	t_eq "  and the card works on" $? 0
done

# stalled: the watchdog gives the engine up, the waiter gets ETIMEDOUT
xfer_given_up stall "a stalled engine" "ETIMEDOUT, nothing done" \
	"timed out (0 of 65536 bytes done)" "by the watchdog" "DMA engine hung, stopping it"
t_check "  and counted it" wait_for 60 timeouts_counted "$s"
t_check "  the engine stopped within its bound (no 'still busy')" \
	sh -c "! dmesg | grep -q 'still busy'"
echo 0 >$P/sim_xdma_stall
dmakit xfer -d "$xd" --to-host --size 4K --timeout 60s -q 2>/dev/null
t_eq "  the given-up engine takes no new work (until reloaded)" $? 1
t_check "reload" unload_dmakit
DMAKIT_KO=$TEST_MOD load_dmakit sim_xdma=1 sim_xdma_mm=1
xd=$(card_dev xdma)
s=$(card_sys "$xd")
dmakit xfer -d "$xd" --to-host --size 64K --check --timeout 60s -q
t_eq "  the reloaded card works" $? 0

# vanished under a waiting transaction: ENODEV, said, nothing hangs
xfer_given_up vanished "a vanished card" ENODEV "no such device" \
	"found by the watchdog" "device not responding (reads all-ones)"
dmakit xfer -d "$xd" --to-host --size 4K --timeout 60s -q 2>/tmp/mv2.err
t_eq "  the next transaction fails at once" $? 1
t_check "    with ENODEV" grep -qi "no such device" /tmp/mv2.err
rmmod_gone
DMAKIT_KO=$TEST_MOD load_dmakit sim_xdma=1 sim_xdma_mm=1
xd=$(card_dev xdma)
dmakit xfer -d "$xd" --to-host --size 64K --check --timeout 60s -q
t_eq "reloaded, the card works" $? 0
t_check "rmmod" unload_dmakit
t_done
