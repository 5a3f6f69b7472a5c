# Helpers for the VM suite's cases (sourced; busybox sh).  Each result is
# one "ok - ..." or "not ok - ..." line; init prefixes the case name.
#
#   t_check "what" command...    passes if the command succeeds
#   t_eq "what" GOT EXPECTED
#   t_done                       exit 1 if anything failed
#   wait_for SECONDS command...  wait until the command succeeds
T_FAILED=0
MOD=/lib/modules/dmakit.ko

t_check() {
	local what=$1; shift
	if "$@"; then
		echo "ok - $what"
	else
		echo "not ok - $what"
		T_FAILED=$((T_FAILED + 1))
	fi
}

t_eq() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: got '$2', expected '$3'"
		T_FAILED=$((T_FAILED + 1))
	fi
}

t_done() {
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

# wait_for SECONDS command...: run the command every 0.2 s until it
# succeeds (0) or SECONDS have passed (1).  Bounds are sized for the debug
# kernel under TCG on a loaded 2-CPU host, 5-10x slower than a quiet run.
wait_for() {
	local secs=$1 end
	shift
	end=$(($(date +%s) + secs))
	while ! "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
	return 0
}

# The /dev node of the first card with backend $1 ("edu", "sim").
card_dev() {
	local d
	for d in /sys/class/dmakit/dmakit*; do
		[ -e "$d/backend" ] || continue
		if [ "$(cat "$d/backend")" = "$1" ]; then
			echo "/dev/${d##*/}"
			return 0
		fi
	done
	return 1
}

card_sys() {
	echo "/sys/class/dmakit/${1##*/}"
}

# set_ring NBUFS BUFSIZE POLICY RATE: the ring of the card whose sysfs
# directory is $s (the caller's card_sys)
set_ring() {
	echo "$1" >"$s/ring_nbufs" && echo "$2" >"$s/ring_bufsize" &&
		echo "$3" >"$s/policy" && echo "$4" >"$s/rate"
}

# dmakit.ko with the suite's standard parameters (plus "$@"); with
# DMAKIT_KO=$TEST_MOD, the test build (DMAKIT_FAULTS=1: the fault= hooks
# and the fake_vanished switch).  A module already loaded the same way is
# kept: loading is slow on the debug kernel (KASAN, lockdep), and a fresh
# card is not needed.
TEST_MOD=/lib/modules/dmakit-faults.ko
load_dmakit() {
	# a 32-buffer ring: 8 MiB of the 16 MiB bounce pool under swiotlb;
	# the sim's chain engine takes two 4 KiB descriptors per start, so a
	# transaction of several pages takes several starts (the core's split
	# of long lists; partial completion visible): 25-chain loads whole
	# chains
	local want="${DMAKIT_KO:-$MOD} sim=1 sim_xfer_seg=4096 sim_xfer_chain=2 ring_nbufs=32 $*"
	if [ -d /sys/module/dmakit ]; then
		[ "$(cat /tmp/dmakit.params 2>/dev/null)" = "$want" ] && return 0
		rmmod dmakit || return 1
	fi
	insmod $want || return 1
	echo "$want" >/tmp/dmakit.params
	# the module's text address, for the host's vm_watch_silence
	echo "@@KMOD $(basename "${want%% *}") $(cat /sys/module/dmakit/sections/.text 2>/dev/null)"
}

unload_dmakit() {
	rm -f /tmp/dmakit.params
	rmmod dmakit
}

# The PCI address of QEMU's edu device.
edu_bdf() {
	local d
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
			echo "${d##*/}"
			return 0
		fi
	done
	return 1
}

# Ask the host runner to run a QEMU monitor command (on the console at
# once: init prints a case's own output only when the case ends).
host_cmd() {
	echo "@@HOST $*" >/dev/console
}

# Interrupts of the IRQ named $1 in /proc/interrupts, summed over CPUs.
irq_count() {
	# the per-CPU columns only (the header names the CPUs): a domain's
	# hwirq column is a number too
	awk -v n="$1" 'NR == 1 { ncpu = NF } $NF == n { s = 0; for (i = 2; i <= ncpu + 1; i++) if ($i ~ /^[0-9]+$/) s += $i; print s; f = 1 } END { if (!f) print 0 }' /proc/interrupts
}
# irq_lines NAME: the lines of /proc/interrupts whose action is NAME
irq_lines() {
	awk -v n="$1" '$NF == n' /proc/interrupts | wc -l
}

# A top-level member of the one-line JSON object in file $1: json_get F KEY
json_get() {
	sed -n "s/.*\"$2\": *\"\{0,1\}\([^,\"}]*\)\"\{0,1\}[,}].*/\1/p" "$1" | head -n1 |
		sed 's/ *$//'
}

# The DMA-API debugging state (debug kernels; nothing elsewhere), for the
# runner: "@@DMA-API error_count=N disabled=D entries=N" and one
# "@@DMA-API-HELD <dump line>" per mapping still held for one of the
# driver's devices -- the edu PCI function ($EDU_BDF, named at boot: it
# may be gone by now), the simulated cards (dmakit-sim.N) and XDMA models
# (dmakit-xdma.N) -- whichever driver name the dump shows (dmakit /
# dmakit-sim / dmakit-xdma while bound, the bus's
# name once unbound).  dma_api_report base: only the counter, as
# "@@DMA-API-BASE error_count=N".
dma_api_report() {
	local d=/sys/kernel/debug/dma-api
	[ -r $d/error_count ] || return 0
	if [ "${1:-}" = base ]; then
		echo "@@DMA-API-BASE error_count=$(cat $d/error_count)"
		return 0
	fi
	echo "@@DMA-API error_count=$(cat $d/error_count) disabled=$(cat $d/disabled) entries=$(wc -l <$d/dump)"
	awk -v bdf="${EDU_BDF:-none}" '$1 == bdf || $1 ~ /^dmakit-(sim|xdma)\./ ||
		$2 == "dmakit" || $2 == "dmakit-sim" || $2 == "dmakit-xdma" { print "@@DMA-API-HELD " $0 }' $d/dump
}

# Whether lockdep is still on (debug kernels; it switches itself off after
# its first report): "@@LOCKDEP debug_locks=1|0".
lockdep_report() {
	[ -r /proc/lockdep_stats ] || return 0
	echo "@@LOCKDEP debug_locks=$(awk '$1 == "debug_locks:" { print $2 }' /proc/lockdep_stats)"
}

# Unload dmakit.ko if it is loaded: "@@RMMOD ok|failed|not-loaded".
final_rmmod() {
	if [ ! -d /sys/module/dmakit ]; then
		echo "@@RMMOD not-loaded"
	elif rmmod dmakit; then
		echo "@@RMMOD ok"
	else
		echo "@@RMMOD failed"
	fi
}
