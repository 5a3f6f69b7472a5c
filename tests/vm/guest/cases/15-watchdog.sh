# timeout: 300
# The transaction watchdog and closing, on their rare paths, forced with
# the test build's hooks (driver/fault.h) on the simulated card:
# - a segment or chain that ends while the watchdog stops the hung engine
#   (abort_window): no new one may start, nothing freed may be read
#   (KASAN on the debug kernel), and a transaction whose data did not all
#   move must fail, never be "recovered" as a success;
# - a close that cannot wait for its running transaction (close_nowait,
#   as after the 30 s bound): the transaction is freed, its pages unpinned,
#   when it ends.
. /dmakit/lib.sh

# FOLL_PIN pages held now, machine-wide
pins_held() {
	awk '$1 == "nr_foll_pin_acquired" { a = $2 } $1 == "nr_foll_pin_released" { r = $2 }
		END { print a - r }' /proc/vmstat
}
pins_are() {
	[ "$(pins_held)" -eq "$1" ]
}
timeouts_counted() {	# SYSFS-DIR
	[ "$(cat "$1/counters/timeouts")" -ge 1 ]
}

# A 10 s unit of work: the watchdog (three silent 1 s polls) gives the
# engine up while it runs; the hook holds the abort until the unit has
# ended.  Once on the segment engine (two 4 KiB segments), once on the
# chain engine (a chain of two 4 KiB descriptors, then one more): the
# transfer must fail with what the first unit moved.
slow="sim_xfer_us=10000000 fault=abort_window"

given_up() {	# WHAT SIZE DONE MODULE-PARAMS...
	local what=$1 size=$2 done=$3
	shift 3
	unload_dmakit 2>/dev/null
	DMAKIT_KO=$TEST_MOD load_dmakit $slow "$@"
	sim=$(card_dev sim)
	s=$(card_sys "$sim")
	hung0=$(dmesg | grep -c "DMA engine hung, stopping it")
	dmakit xfer -d "$sim" --to-host --size "$size" --timeout 60s -q >/tmp/wd.out 2>&1
	rc=$?
	cat /tmp/wd.out
	t_eq "$what, the engine given up during the first: the transfer fails" $rc 1
	t_check "  with ETIMEDOUT, $done of $size bytes done" grep -qi "timed out ($done of $size bytes done)" /tmp/wd.out
	t_check "  the watchdog said so" \
		test "$(dmesg | grep -c "DMA engine hung, stopping it")" -gt "$hung0"
	t_check "  and counted it, once the engine is stopped" \
		wait_for 60 timeouts_counted "$s"
	dmakit xfer -d "$sim" --to-host --size 512 --timeout 60s -q 2>/dev/null
	t_eq "  the given-up engine takes no new work" $? 1
}

given_up "two segments" 8192 4096 sim_xfer_chain=0
given_up "two chains" 12288 8192

# one segment: it completes in the window and its waiter frees it while
# the watchdog still holds it (the debug kernel's KASAN checks the rest)
unload_dmakit
DMAKIT_KO=$TEST_MOD load_dmakit $slow
sim=$(card_dev sim)
dmakit xfer -d "$sim" --to-host --size 4096 --timeout 60s -q
t_eq "one segment that ended during the abort: done, with its data" $? 0

# a 2 s segment and a close that does not wait: the process waits 1 ms
# and exits while its transaction runs
unload_dmakit
DMAKIT_KO=$TEST_MOD load_dmakit sim_xfer_us=2000000 fault=close_nowait
sim=$(card_dev sim)
s=$(card_sys "$sim")
pins0=$(pins_held)
dmakit xfer -d "$sim" --to-host --size 4096 --timeout 1ms -q 2>/dev/null
t_eq "a transaction left running by a closed file" $? 1
t_check "  the close said it could not wait" \
	sh -c 'dmesg | grep -q "close: transaction still running, freed when it ends"'
t_check "  its page is unpinned when it ends ($pins0 pins before)" \
	wait_for 60 pins_are "$pins0"
t_check "  and the card works on" \
	dmakit xfer -d "$sim" --to-host --size 4096 --timeout 60s -q
t_check "rmmod" unload_dmakit
t_done
