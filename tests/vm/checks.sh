# The checks of a boot's console log (sourced by tests/vm/run.sh; tested
# on canned logs by tests/host/vm_log_checks.sh).
#
#   check_log LABEL LOG   "ok - LABEL: ..." / "not ok - LABEL: ..." lines,
#                         each failure followed by the offending log lines;
#                         KERNEL_DEBUG=1 adds the DMA-API and lockdep
#                         state checks (CHECK_SECTION=1: not lockdep's)
#   KERNEL_ERRORS         the kernel reports every kernel's boot must not
#                         have (also used to spot a boot to run again)
#   score_boot LABEL LOG HOW   every result of a boot: the guest's own
#                         lines, whether it finished, check_log (the fault
#                         boot: score_faults)
#   emulator_stalled LOG  whether a boot is worth running once more

KERNEL_ERRORS='BUG:|WARNING:|Oops|Call Trace|general protection fault|Kernel panic|UBSAN:|KASAN:|invoked oom-killer|blocked for more than [0-9]+ seconds'
# the debug kernel's checkers (their reports also carry BUG:/WARNING:, but
# each class gets its own message): DMA-API reports name the driver and
# the device ("DMA-API: pci 0000:00:04.0: device driver ..."), unlike its
# boot messages ("DMA-API: preallocated 65536 debug entries")
DMA_API_ERRORS='DMA-API: [^ ]+ [^ ]+: |DMA-API: debugging out of memory|cacheline tracking ENOMEM'
KASAN_ERRORS='KASAN:'
LOCKDEP_ERRORS='possible circular locking|possible recursive locking|inconsistent lock state|possible irq lock inversion|suspicious RCU usage|sleeping function called from invalid context|scheduling while atomic|lock held when returning|held lock freed|bad unlock balance|workqueue leaked lock|Invalid wait context|WARNING: .*lock'
OBJECT_ERRORS='ODEBUG:|list_add corruption|list_del corruption'

# log_class LABEL LOG WHAT REGEX: "not ok" with the matching lines if found
log_class() {
	grep -qE "$4" "$2" || return 0
	echo "not ok - $1: kernel log: $3"
	grep -nE -m 8 -A 6 "$4" "$2" | sed 's/^/    | /' | head -n 50
	return 1
}

# check_log LABEL LOG: the kernel-side checks of a boot (or of one section
# of the fault boot), as "ok - " / "not ok - " lines followed by the
# offending log lines.  Needs KERNEL_DEBUG (1 on the debug kernel).
check_log() {
	local label=$1 log=$2 bad=0 line n
	log_class "$label" "$log" "DMA-API debugging reports" "$DMA_API_ERRORS" || bad=1
	log_class "$label" "$log" "KASAN reports" "$KASAN_ERRORS" || bad=1
	log_class "$label" "$log" "lockdep or sleeping-in-atomic reports" "$LOCKDEP_ERRORS" || bad=1
	log_class "$label" "$log" "debug-objects or list-corruption reports" "$OBJECT_ERRORS" || bad=1
	if [ $bad = 0 ]; then
		log_class "$label" "$log" "BUG/WARNING/Oops/call trace/OOM" "$KERNEL_ERRORS" || bad=1
	fi
	[ $bad = 0 ] && echo "ok - $label: kernel log clean (no BUG/WARNING/Oops/call trace/OOM, DMA-API, KASAN, lockdep reports)"

	line=$(grep '^@@RMMOD ' "$log" | tail -n 1)
	case $line in
	"@@RMMOD ok" | "@@RMMOD not-loaded") echo "ok - $label: dmakit.ko unloaded at the end" ;;
	"@@RMMOD failed") echo "not ok - $label: dmakit.ko could not be unloaded at the end (rmmod failed)" ;;
	*) echo "not ok - $label: the guest did not unload dmakit.ko at the end (no @@RMMOD line)" ;;
	esac
	[ "$KERNEL_DEBUG" = 1 ] || return 0

	# lockdep must still be on at the end of a boot (not checked in the
	# fault boot's sections: its faults switch it off on purpose)
	if [ -z "${CHECK_SECTION:-}" ]; then
		line=$(grep '^@@LOCKDEP ' "$log" | tail -n 1)
		case $line in
		"@@LOCKDEP debug_locks=1") echo "ok - $label: lockdep still on at the end" ;;
		"") echo "not ok - $label: the guest reported no lockdep state (no @@LOCKDEP line, no /proc/lockdep_stats)" ;;
		*) echo "not ok - $label: lockdep switched itself off during the boot, its checks are void from then on ($line)" ;;
		esac
	fi

	line=$(grep '^@@DMA-API error_count=' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "not ok - $label: the guest reported no DMA-API state (no @@DMA-API line: debugfs not mounted, or no /sys/kernel/debug/dma-api)"
		return 0
	fi
	local base count
	base=$(sed -n 's/^@@DMA-API-BASE error_count=\([0-9]*\)$/\1/p' "$log" | head -n 1)
	count=$(echo "$line" | sed -n 's/.*error_count=\([0-9]*\).*/\1/p')
	n=$((count - ${base:-0}))
	if [ "$n" -ne 0 ]; then
		echo "not ok - $label: DMA-API error_count is $n after rmmod, expected 0 ($line)"
		grep -nE -m 8 "$DMA_API_ERRORS" "$log" | sed 's/^/    | /'
	else
		echo "ok - $label: DMA-API error_count 0 after rmmod"
	fi
	case $line in
	*disabled=N*) ;;
	*) echo "not ok - $label: DMA-API debugging switched itself off, its checks are void ($line)" ;;
	esac
	n=$(grep -c '^@@DMA-API-HELD ' "$log")
	if [ "$n" -ne 0 ]; then
		echo "not ok - $label: the driver still holds $n DMA mappings after rmmod (dma-api/dump):"
		grep '^@@DMA-API-HELD ' "$log" | head -n 10 | sed 's/^@@DMA-API-HELD /    | /'
	else
		echo "ok - $label: no DMA mapping of the driver's devices left after rmmod"
	fi
}

# Whether the emulator, not dmakit, may have gone wrong (worth one more
# boot; this one is scored all the same): a vCPU starved by a loaded host
# (the guest's RCU reports a timer that did not fire for seconds; seen
# with MTTCG when other work competes for the host's cores), or a kernel
# report before the guest's init ran anything (dmakit is not loaded yet).
emulator_stalled() {
	grep -q "kthread timer wakeup didn't happen" "$1" ||
		sed -n '1,/^@@BOOT/p' "$1" | grep -qE "$KERNEL_ERRORS"
}

# score_boot LABEL LOG HOW: the guest's result lines named after LABEL
# ("skip - " lines too, the runner counts them), "not ok" if the boot did
# not finish (HOW: how qemu ended), then the kernel-side checks.  A log
# with "@@FAULT-BEGIN" lines is the fault boot's.
score_boot() {
	local label=$1 log=$2 how=$3
	grep -E '^((not )?ok|skip) - ' "$log" | sed -E "s|^((not )?ok - \|skip - )|\1$label: |"
	if ! grep -q '^@@DONE' "$log"; then
		echo "not ok - $label: the boot did not finish ($how; last case: $(grep '^@@CASE ' "$log" | tail -n1))"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
	if grep -q '^@@FAULT-BEGIN ' "$log"; then
		score_faults "$label" "$log"
	else
		check_log "$label" "$log"
	fi
}

# The fault boot's sections: FAULT EXPECTED-MESSAGE EXPECTED-LOG-LINE
# (EREs; "none" must pass every check).
FAULT_EXPECT=(
	"none|-|-"
	"map_error|DMA-API error_count is [1-9]|failed to check map error"
	"lock_order|lockdep or sleeping-in-atomic reports|possible circular locking dependency detected"
	"use_after_free|KASAN reports|BUG: KASAN: use-after-free in dmakit_fault_use_after_free"
	"atomic_sleep|lockdep or sleeping-in-atomic reports|sleeping function called from invalid context"
	"leak_unmap|the driver still holds [0-9]+ DMA mappings after rmmod|pending DMA allocations while released"
)

# score_faults LABEL LOG: in each section of the fault boot the test build
# must have loaded (else its fault never ran and its checks pass on
# nothing) and its transfer must have run (without a fault: succeeded);
# check_log must report the section's bug (a "not ok" with the expected
# message, and the kernel's own words among its lines) -- or, for "none",
# nothing.  Each section and its report are kept beside LOG.
score_faults() {
	local label=$1 log=$2 e fault msg words sec report rc
	for e in "${FAULT_EXPECT[@]}"; do
		IFS='|' read -r fault msg words <<<"$e"
		sec=${log%/*}/fault-$fault.log
		report=${log%/*}/fault-$fault.report
		awk -v f="$fault" '$0 == "@@FAULT-BEGIN " f { p = 1 } p { print } $0 == "@@FAULT-END " f { p = 0 }' \
			"$log" >"$sec"
		if ! grep -qx "@@FAULT-END $fault" "$sec"; then
			echo "not ok - $label: section fault=$fault ran to its end (see $log)"
			continue
		fi
		rc=$(sed -n "s/^@@FAULT-INSMOD $fault rc=\([0-9]*\)$/\1/p" "$sec")
		if [ "$rc" = 0 ]; then
			echo "ok - $label: fault=$fault: the test build loaded"
		else
			echo "not ok - $label: fault=$fault: the test build did not load (insmod rc='$rc'): the section checks nothing"
		fi
		rc=$(sed -n "s/^@@FAULT-XFER $fault rc=\([0-9]*\)$/\1/p" "$sec")
		if [ -z "$rc" ]; then
			echo "not ok - $label: fault=$fault: no transfer result (no @@FAULT-XFER line)"
		elif [ "$fault" = none ] && [ "$rc" != 0 ]; then
			echo "not ok - $label: the test build without a fault transfers and checks the data (dmakit xfer rc=$rc)"
		elif [ "$fault" = none ]; then
			echo "ok - $label: the test build without a fault transfers and checks the data"
		fi
		CHECK_SECTION=1 check_log "$label/$fault" "$sec" >"$report"
		if [ "$fault" = none ]; then
			if grep -q '^not ok - ' "$report"; then
				echo "not ok - $label: the test build without a fault passes every check"
				sed 's/^/    /' "$report"
			else
				echo "ok - $label: the test build without a fault passes every check ($(grep -c '^ok - ' "$report") checks)"
			fi
		elif grep -Eq "^not ok - .*$msg" "$report" && grep -Eq "$words" "$report"; then
			echo "ok - $label: fault=$fault reported: $(grep -E -m 1 "^not ok - .*$msg" "$report" | sed 's/^not ok - //')"
			grep -E -m 1 "$words" "$report" | sed 's/^ */    /'
		else
			echo "not ok - $label: fault=$fault reported as /$msg/ with /$words/ (the runner said:)"
			sed 's/^/    /' "$report" | head -n 30
		fi
	done
}
