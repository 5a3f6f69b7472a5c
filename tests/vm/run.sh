#!/usr/bin/env bash
# The kernel driver's suite: build dmakit.ko against each kernel, pack an
# initramfs (busybox, the module and its dependencies, the static dmakit
# CLI and test programs, the cases of tests/vm/guest/cases), boot it in
# QEMU (TCG) once per configuration and collect the results from the
# serial console.
#
#   tests/vm/run.sh [stock|stock-6.1|stock-6.12|debug|all]
#                                            (make check-vm KERNEL=...)
#   stock: Debian 12's two kernels, 6.1 and 6.12 (tests/vm/kernels.sh);
#   all: both and the debug kernel
#
# Environment: VM_CONFIGS (default "plain iommu swiotlb"), VM_CASES
# (patterns, space-separated: run only the case files whose names
# contain one), VM_TIMEOUT (seconds per boot,
# default 900 on the stock kernels, 2700 on the debug kernel: a stock plain
# boot takes ~150 s on a quiet 2-CPU host and overran 300 s at load 11;
# 55-powerloss adds 2-4 minutes under load (at load 20 the stock-6.12
# plain boot with every case reached 600 s); the
# debug kernel's plain boot ran past 900 s in CI: there every probe of the
# edu card waits ~30 s for ACPI's _PRT, which its AML interpreter runs at
# ACPICA's 30 s loop limit under TCG (tests/vm/guest/cases/60-intx.sh),
# and with edu's ring (33-edu-ring, 80-hotplug's hot-added card) its plain
# boot reached ~1600 s of its 1800 on a quiet host;
# each case has its own timeout inside the guest), VM_TCG_THREAD (multi, the default: one host thread per
# vCPU; single: both vCPUs on one host thread), VM_JOBS (boots at a time,
# default 2 with 2 or more host CPUs), VM_OUT.
#
# Configurations:
#   plain    i440fx, edu on the root bus (ACPI hot-unplug), no IOMMU
#   iommu    q35 + intel-iommu (intremap=on, intel_iommu=on iommu.strict=1), edu behind
#            a PCIe root port (hot-unplug)
#   swiotlb  q35 with swiotlb=8192,force: every streaming mapping bounced
#            (q35: the debug kernel enables a device on i440fx slowly, ~10 s)
#
# The guest has three virtio disks: /dev/vda raw, 256 MiB (recordings onto
# a block device, O_DIRECT from ring pages; 55-powerloss slices it with
# dm-linear), /dev/vdb, 256 MiB, with an ext2 file system made at boot,
# mounted on /mnt (recordings into files), and /dev/vdc, a 64 MiB ext4
# file system made here (busybox makes only ext2; mkfs.ext4, e2fsprogs):
# 55-powerloss's pristine image, never written.
#
# A boot fails if it does not finish, if dmakit.ko is still loaded at its
# end and cannot be unloaded, or if its kernel log shows BUG:, WARNING:,
# an Oops, a call trace, the OOM killer, or a report of the debug kernel's
# checkers: DMA-API:, KASAN:, lockdep and sleeping-in-atomic, debug
# objects, list corruption.  On the debug kernel also when, after the
# final rmmod, /sys/kernel/debug/dma-api/error_count is not 0, the DMA-API
# debugging or lockdep switched itself off, or the DMA-API dump still
# lists a mapping of one of the driver's devices.  Each with its own
# message and the log lines (tests/vm/checks.sh).
#
# The debug kernel is built first if it is not cached (KERNEL=debug|all;
# scripts/debug-kernel/build.sh, once per machine).  On it, one more boot,
# "faults" (tests/vm/guest/faults.sh, q35 without an IOMMU), proves that
# these checks fail: a test build of the driver (DMAKIT_FAULTS=1) commits one
# bug per section of the log, and each section must be reported with the
# expected message (a "none" section must pass).  VM_CONFIGS=faults runs it
# alone; an explicit VM_CONFIGS without it leaves it out.
#
# Ends with "N passed, N failed".
# The user-space programs are built by tests/vm/Makefile first.
set -u
VM=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$VM/../.." && pwd)
OUT=${VM_OUT:-$VM/out}
STATIC=$OUT/static
. "$VM/kernels.sh"
. "$VM/checks.sh"

which=${1:-all}
configs=${VM_CONFIGS:-plain iommu swiotlb}
boot_timeout_for() {	# KERNEL
	if [ -n "${VM_TIMEOUT:-}" ]; then
		echo "$VM_TIMEOUT"
	elif [ "$1" = debug ]; then
		echo 2700
	else
		echo 900
	fi
}
passed=0
failed=0
skipped=0

say() { echo "vm: $*"; }
# every failed check is also kept in $FAILED_LOG, so the run's last lines
# (all that a CI log may keep) name them again
FAILED_LOG=$OUT/failed.txt
mkdir -p "$OUT"
: >"$FAILED_LOG"
fail() { echo "not ok - $*"; echo "not ok - $*" >>"$FAILED_LOG"; failed=$((failed + 1)); }
pass() { echo "ok - $*"; passed=$((passed + 1)); }

case $which in
all)
	kernels="$STOCK_KERNELS debug"
	;;
stock)
	kernels=$STOCK_KERNELS
	;;
stock-* | debug)
	kernels=$which
	;;
*)
	echo "usage: $0 [stock|stock-6.1|stock-6.12|debug|all]" >&2
	exit 2
	;;
esac

for tool in qemu-system-x86_64 cpio gzip socat strip mkfs.ext4; do
	command -v $tool >/dev/null || { echo "vm: $tool missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
# busybox-static: ldd fails on a static binary
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	{ echo "vm: a static /bin/busybox is needed (busybox-static)" >&2; exit 1; }
. "$VM/vmlib.sh"

qemu_args() {
	local config=$1
	# no_timer_check: the kernel's test of the IO-APIC timer at 0.05 s
	# panicked q35 + interrupt remapping boots under TCG on a loaded host
	# ("timer doesn't work through Interrupt-remapped IO-APIC"; 2 of 2
	# iommu boots beside stress-ng), before anything of dmakit ran
	VM_APPEND="console=ttyS0 panic=-1 loglevel=5 clocksource=tsc tsc=reliable no_timer_check DMAKIT_VM_CONFIG=$config"
	# la57=off: 4-level paging, as on the machines the driver runs on (the
	# KASAN kernel once reported a wild access in its earliest boot with
	# QEMU's 5-level paging)
	QEMU_ARGS=(-m 256M -smp 2 -cpu max,la57=off -accel "tcg,thread=${VM_TCG_THREAD:-multi}")
	case $config in
	plain)
		QEMU_ARGS+=(-M pc -device edu,id=edu1)
		;;
	iommu)
		QEMU_ARGS+=(-M q35 -device intel-iommu,intremap=on
			    -device pcie-root-port,id=rp1,slot=1,chassis=1
			    -device edu,id=edu1,bus=rp1)
		# strict: every unmap invalidates the IOTLB at once, so a
		# device that used a buffer after its unmap faults
		VM_APPEND+=" intel_iommu=on iommu.strict=1"
		;;
	faults)
		# q35: the fault boot loads the module four times (see swiotlb)
		QEMU_ARGS+=(-M q35 -device pcie-root-port,id=rp1,slot=1,chassis=1
			    -device edu,id=edu1,bus=rp1)
		;;
	swiotlb)
		QEMU_ARGS+=(-M q35 -device pcie-root-port,id=rp1,slot=1,chassis=1
			    -device edu,id=edu1,bus=rp1)
		# a 16 MiB bounce pool: the default 64 MiB crowds 256 MiB of RAM
		# (the debug kernel has ~100 MiB left); the suite's ring takes 8
		VM_APPEND+=" swiotlb=8192,force"
		;;
	*)
		return 1
		;;
	esac
}

# add_results TEXT: print a scorer's lines and count them
add_results() {
	[ -n "$1" ] || return 0
	echo "$1"
	echo "$1" | grep '^not ok - ' >>"$FAILED_LOG"
	passed=$((passed + $(echo "$1" | grep -c '^ok - ')))
	failed=$((failed + $(echo "$1" | grep -c '^not ok - ')))
	skipped=$((skipped + $(echo "$1" | grep -c '^skip - ')))
}

# boot KERNEL CONFIG DIR: one boot, scored; when the emulator stalled
# (emulator_stalled), one more boot, also scored: the first boot's
# failures stay counted, the second shows whether they recur.  A boot
# stopped before the guest's init ran (vm_watch_init: nothing of dmakit
# had run) is counted as a named skip, not as its missing results, and is
# booted once more; a second such stall is scored as a failure.
boot() {
	local kernel=$1 config=$2 dir=$3
	boot_once "$kernel" "$config" "$dir" "$config" unscored-if-stalled
	if [ $? = 2 ]; then
		# counted and named, never dropped: the boot ran none of dmakit
		add_results "skip - $kernel/$config: the emulator stalled before the guest's init ($(cat "$dir/$config/console.log.stalled")): no dmakit code had run; booted once more ($dir/$config.second)"
		boot_once "$kernel" "$config" "$dir" "$config.second"
		return 0
	fi
	emulator_stalled "$dir/$config/console.log" || return 0
	say "$kernel/$config: the emulator stalled or the kernel failed in its own boot: that boot is scored as it ran; booting once more ($dir/$config.second)"
	boot_once "$kernel" "$config" "$dir" "$config.second"
}

# boot_once KERNEL CONFIG DIR RUN [unscored-if-stalled]: one boot in
# DIR/RUN, every result scored; 2 (nothing scored) if asked and the boot
# was stopped before the guest's init
boot_once() {
	local kernel=$1 config=$2 dir=$3 name=$4 may_skip=${5:-}
	local run=$dir/$4 log=$dir/$4/console.log t0 t1 rc label=$kernel/$4
	rm -rf "$run"
	mkdir -p "$run"
	truncate -s 256M "$run/disk.img" "$run/fs.img"
	truncate -s 64M "$run/ext4.img"
	mkfs.ext4 -q -F -L dmakit-pl "$run/ext4.img" ||
		{ fail "$kernel/$config: mkfs.ext4 of the guest's third disk"; return 0; }
	qemu_args "$config" || { fail "$kernel/$config: unknown configuration"; return 0; }
	t0=$(date +%s)
	VM_APPEND+=" DMAKIT_VM_KERNEL=$kernel"
	# The debug kernel's ACPI interpreter runs i440fx's _PRT into its 30 s
	# loop limit under TCG on every probe of the edu card, and then routes
	# no INTx at all; acpi=noirq takes PCI interrupt routing from the MP
	# table instead (ACPI hotplug still works): the plain boot went from
	# 1793 s to 390 s, and 60-intx checks INTx there too
	[ "$kernel" = debug ] && [ "$config" = plain ] && VM_APPEND+=" acpi=noirq"
	vm_boot "$dir/initramfs.gz" "$log" "$(boot_timeout_for "$kernel")" \
		"$run/disk.img" "$run/fs.img" "$run/ext4.img" -- "${QEMU_ARGS[@]}"
	rc=$?
	t1=$(date +%s)
	rm -f "$run/disk.img" "$run/fs.img" "$run/ext4.img"
	[ -n "$may_skip" ] && [ -e "$log.stalled" ] && return 2
	[ "$config" = faults ] && label=$kernel/faults
	add_results "$(score_boot "$label" "$log" "qemu exit $rc after $((t1 - t0))s")"
	[ -e "$log.stalled" ] && say "$label: stopped before the guest's init: $(cat "$log.stalled")"
	[ -s "$log.qemu" ] && ! grep -q '^@@DONE' "$log" && sed 's/^/    qemu: /' "$log.qemu" | tail -n 5
	[ -s "$log.frozen" ] && say "$label: the console fell silent for ${VM_SILENCE:-240} s: what the vCPUs did is in $log.frozen" &&
		sed -n '/^--- instruction pointers/,$p' "$log.frozen" | tail -n 4 | sed 's/^/    /'
	grep -qs '^Error' "$log.monitor" &&
		say "$label: the QEMU monitor refused: $(grep '^Error' "$log.monitor" | head -n 3 | tr -d '\r' | tr '\n' ' ')($log.monitor)"
	grep -q '^@@HOST-FAILED' "$log.host" 2>/dev/null &&
		fail "$kernel/$config: monitor commands failed: $(cat "$log.host")"
	say "$kernel/$name: $(grep -c '^ok - ' "$log") passed, $(grep -c '^not ok - ' "$log") failed, $(grep -c '^skip - ' "$log") skipped in the guest, $((t1 - t0))s ($log)"
	return 0
}

# fault_boot KERNEL DIR: the fault boot in DIR/faults, with DIR's test build
fault_boot() {
	local kernel=$1 fdir=$2/faults
	mkdir -p "$fdir"
	cp "$2/dmakit.ko" "$2/dmakit-faults.ko" "$fdir/"
	pack_initramfs "$fdir" "$VM/guest/faults.sh" || { fail "$kernel/faults: initramfs"; return; }
	boot "$kernel" faults "$fdir"
}

# one_boot KERNEL DIR CONFIG: the configuration's boot, or the fault boot
one_boot() {
	if [ "$3" != faults ]; then
		boot "$1" "$3" "$2"
	elif [ "$1" = debug ]; then
		fault_boot "$1" "$2"
	else
		say "$1: no fault boot (it needs the debug kernel's checkers)"
	fi
}

# run_boots KERNEL DIR CONFIG...: the boots one after another, or VM_JOBS
# at a time (each one's output shown when it ends, in order; the longest,
# plain, comes first).  Two at a time on 2 host CPUs: a guest is mostly
# one busy vCPU (the debug kernel's plain boot: 210 s alone, 240 s beside
# the others, which run meanwhile)
VM_JOBS=${VM_JOBS:-$(( $(nproc) >= 2 ? 2 : 1 ))}
run_boots() {
	local kernel=$1 dir=$2 jobs=$VM_JOBS c p f s
	shift 2
	if [ "$jobs" -le 1 ]; then
		for c; do
			one_boot "$kernel" "$dir" "$c"
		done
		return
	fi
	say "$kernel: $# boots, $jobs at a time"
	for c; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
			wait -n
		done
		(
			passed=0 failed=0 skipped=0
			one_boot "$kernel" "$dir" "$c"
			echo "$passed $failed $skipped" >"$dir/$c.counts"
		) >"$dir/$c.out" 2>&1 &
	done
	wait
	for c; do
		cat "$dir/$c.out"
		read -r p f s <"$dir/$c.counts" ||
			{ p=0 f=1 s=0; echo "not ok - $kernel/$c: no result" | tee -a "$FAILED_LOG"; }
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + s))
	done
}

# case_wanted FILE: whether FILE is selected by VM_CASES (patterns,
# space-separated; a case runs if its file name contains any)
case_wanted() {
	local p
	[ -z "${VM_CASES:-}" ] && return 0
	for p in $VM_CASES; do
		[[ $1 == *$p* ]] && return 0
	done
	return 1
}

t_start=$(date +%s)
for kernel in $kernels; do
	if ! kernel_build "$kernel" || ! kernel_setup "$kernel"; then
		fail "$kernel: $KERNEL_MISSING"
		continue
	fi
	KERNEL_DEBUG=0
	[ "$kernel" = debug ] && KERNEL_DEBUG=1
	dir=$OUT/$kernel
	mkdir -p "$dir"
	# for vm_watch_silence: the guest's symbols and modules
	export VM_SYSTEM_MAP=$SYSTEM_MAP VM_MODULE_DIR=$dir
	say "$kernel: $KVER ($KERNEL_IMAGE)"
	if ! build_module "$dir"; then
		fail "$kernel: dmakit.ko builds against $KDIR with W=1 and no warnings"
		continue
	fi
	pass "$kernel: dmakit.ko builds against $KDIR with W=1 and no warnings"
	if modinfo -F parm "$dir/dmakit.ko" | grep -q '^fault:'; then
		fail "$kernel: the production dmakit.ko has no fault parameter"
	else
		pass "$kernel: the production dmakit.ko has no fault parameter"
	fi
	# the test build: the fault boot's, and the cases' hooks (fault.h)
	if ! build_module "$dir/test-build" DMAKIT_FAULTS=1; then
		fail "$kernel: the test build (DMAKIT_FAULTS=1) of dmakit.ko builds"
		continue
	fi
	mv "$dir/test-build/dmakit.ko" "$dir/dmakit-faults.ko"
	if modinfo -F parm "$dir/dmakit-faults.ko" | grep -q '^fault:'; then
		pass "$kernel: the test build has the fault parameter"
	else
		fail "$kernel: the test build has the fault parameter"
	fi
	cases=()
	for f in "$VM"/guest/cases/*.sh; do
		case_wanted "$(basename "$f")" && cases+=("$f")
	done
	pack_initramfs "$dir" "${cases[@]}" || { fail "$kernel: initramfs"; continue; }
	k_start=$(date +%s)
	if [ -z "${VM_CONFIGS:-}" ] && [ "$kernel" = debug ]; then
		run_boots "$kernel" "$dir" $configs faults
	else
		run_boots "$kernel" "$dir" $configs
	fi
	say "$kernel: all boots $(( $(date +%s) - k_start ))s"
done
say "total $(( $(date +%s) - t_start ))s; $skipped checks skipped (each named above with its reason)"
if [ -s "$FAILED_LOG" ]; then
	say "the failed checks again ($FAILED_LOG):"
	cut -c 1-300 "$FAILED_LOG" | head -n 20
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
