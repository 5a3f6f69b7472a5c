# The checks of a boot's console log (sourced by tests/vm/run.sh; tested
# on canned logs by tests/host/vm_log_checks.sh).
#
#   check_log LABEL LOG   "ok - LABEL: ..." / "not ok - LABEL: ..." lines,
#                         each failure followed by the offending log lines;
#                         KERNEL_DEBUG=1 adds the DMA-API and lockdep
#                         state checks (CHECK_SECTION=1: not lockdep's)
#   KERNEL_ERRORS         the kernel reports every kernel's boot must not
#                         have (also used to spot a boot to run again)

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
