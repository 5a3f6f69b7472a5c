#!/usr/bin/env bash
# The kernel driver's suite: build dmakit.ko against each kernel, pack an
# initramfs (busybox, the module and its dependencies, the static dmakit
# CLI and test programs, the cases of tests/vm/guest/cases), boot it in
# QEMU (TCG) once per configuration and collect the results from the
# serial console.
#
#   tests/vm/run.sh [stock|debug|all]        (make check-vm KERNEL=...)
#
# Environment: VM_CONFIGS (default "plain iommu swiotlb"), VM_CASES (a
# pattern: run only matching case files), VM_TIMEOUT (seconds per boot,
# default 300), VM_TCG_THREAD (multi, the default: one host thread per
# vCPU; single: both vCPUs on one host thread), VM_OUT.
#
# Configurations:
#   plain    i440fx, edu on the root bus (ACPI hot-unplug), no IOMMU
#   iommu    q35 + intel-iommu (intremap=on, intel_iommu=on), edu behind
#            a PCIe root port (hot-unplug)
#   swiotlb  q35 with swiotlb=8192,force: every streaming mapping bounced
#            (q35: the debug kernel enables a device on i440fx slowly, ~10 s)
#
# The guest has two 256 MiB virtio disks: /dev/vda raw (recordings onto a
# block device, O_DIRECT from ring pages), /dev/vdb with an ext2 file
# system made at boot, mounted on /mnt (recordings into files).
#
# A boot fails if it does not finish, or if its kernel log shows BUG:,
# WARNING:, an Oops, a call trace or the OOM killer.  Ends with "N passed, N failed".
# The user-space programs are built by tests/vm/Makefile first.
set -u
VM=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$VM/../.." && pwd)
OUT=${VM_OUT:-$VM/out}
STATIC=$OUT/static
. "$VM/kernels.sh"

which=${1:-all}
configs=${VM_CONFIGS:-plain iommu swiotlb}
boot_timeout=${VM_TIMEOUT:-300}
passed=0
failed=0

say() { echo "vm: $*"; }
fail() { echo "not ok - $*"; failed=$((failed + 1)); }
pass() { echo "ok - $*"; passed=$((passed + 1)); }

case $which in
all)
	kernels=stock
	if kernel_setup debug; then
		kernels="stock debug"
	else
		say "KERNEL=all runs the stock kernel only: the debug kernel is not built ($KERNEL_MISSING)"
	fi
	;;
stock | debug)
	kernels=$which
	;;
*)
	echo "usage: $0 [stock|debug|all]" >&2
	exit 2
	;;
esac

for tool in qemu-system-x86_64 cpio gzip socat strip; do
	command -v $tool >/dev/null || { echo "vm: $tool missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
# busybox-static: ldd fails on a static binary
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	{ echo "vm: a static /bin/busybox is needed (busybox-static)" >&2; exit 1; }
. "$VM/vmlib.sh"

qemu_args() {
	local config=$1
	VM_APPEND="console=ttyS0 panic=-1 loglevel=5 clocksource=tsc tsc=reliable DMAKIT_VM_CONFIG=$config"
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
		VM_APPEND+=" intel_iommu=on"
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

KERNEL_ERRORS='BUG:|WARNING:|Oops|Call Trace|general protection fault|Kernel panic|UBSAN:|KASAN:|invoked oom-killer'

# Run a boot again once (and say so) when the emulator, not dmakit, went
# wrong: a vCPU starved by a loaded host (the guest's RCU reports a timer
# that did not fire for seconds; seen with MTTCG when other work competes
# for the host's cores), or a kernel report before the guest's init ran
# anything (dmakit is not loaded yet).
emulator_stalled() {
	grep -q "kthread timer wakeup didn't happen" "$1" ||
		sed -n '1,/^@@BOOT/p' "$1" | grep -qE "$KERNEL_ERRORS"
}

# One boot: run, then score every result line and the kernel log.
boot() {
	local kernel=$1 config=$2 dir=$3
	rm -rf "$dir/$config.stalled"
	boot_once "$kernel" "$config" "$dir" && return 0
	say "$kernel/$config: the emulator stalled or the kernel failed in its own boot: booting again, first log in $dir/$config.stalled"
	mv "$dir/$config" "$dir/$config.stalled"
	boot_once "$kernel" "$config" "$dir" score
}

# boot_once KERNEL CONFIG DIR [score]: returns 1 (without scoring) if the
# emulator stalled and this is not the last attempt.
boot_once() {
	local kernel=$1 config=$2 dir=$3 must_score=${4:-}
	local run=$dir/$config log=$dir/$config/console.log t0 t1 rc
	rm -rf "$run"
	mkdir -p "$run"
	truncate -s 256M "$run/disk.img" "$run/fs.img"
	qemu_args "$config" || { fail "$kernel/$config: unknown configuration"; return 0; }
	t0=$(date +%s)
	vm_boot "$dir/initramfs.gz" "$log" "$boot_timeout" "$run/disk.img" "$run/fs.img" -- \
		"${QEMU_ARGS[@]}"
	rc=$?
	t1=$(date +%s)
	rm -f "$run/disk.img" "$run/fs.img"
	if [ -z "$must_score" ] && emulator_stalled "$log"; then
		return 1
	fi

	local results ok bad
	results=$(grep -E '^(not )?ok - ' "$log" | sed "s|^\(not \)\{0,1\}ok - |&$kernel/$config: |")
	[ -n "$results" ] && echo "$results"
	ok=$(grep -c '^ok - ' "$log")
	bad=$(grep -c '^not ok - ' "$log")
	passed=$((passed + ok))
	failed=$((failed + bad))
	if ! grep -q '^@@DONE' "$log"; then
		fail "$kernel/$config: the boot did not finish (qemu exit $rc after $((t1 - t0))s; last case: $(grep '^@@CASE ' "$log" | tail -n1))"
		tail -n 25 "$log" | sed 's/^/    | /'
		[ -s "$log.qemu" ] && sed 's/^/    qemu: /' "$log.qemu" | tail -n 5
	fi
	if grep -qE "$KERNEL_ERRORS" "$log"; then
		fail "$kernel/$config: kernel log clean (BUG/WARNING/Oops/call trace/OOM found)"
		grep -nE -m 12 -A 6 "$KERNEL_ERRORS" "$log" |
			sed 's/^/    | /' | head -n 60
	else
		pass "$kernel/$config: kernel log clean"
	fi
	grep -q '^@@HOST-FAILED' "$log.host" 2>/dev/null &&
		fail "$kernel/$config: monitor commands failed: $(cat "$log.host")"
	say "$kernel/$config: $ok passed, $bad failed in the guest, $((t1 - t0))s ($log)"
	return 0
}

t_start=$(date +%s)
for kernel in $kernels; do
	if ! kernel_setup "$kernel"; then
		fail "$kernel: $KERNEL_MISSING"
		continue
	fi
	dir=$OUT/$kernel
	mkdir -p "$dir"
	say "$kernel: $KVER ($KERNEL_IMAGE)"
	if ! build_module "$dir"; then
		fail "$kernel: dmakit.ko builds against $KDIR with W=1 and no warnings"
		continue
	fi
	pass "$kernel: dmakit.ko builds against $KDIR with W=1 and no warnings"
	cases=()
	for f in "$VM"/guest/cases/*.sh; do
		[ -n "${VM_CASES:-}" ] && [[ $(basename "$f") != *${VM_CASES}* ]] && continue
		cases+=("$f")
	done
	pack_initramfs "$dir" "${cases[@]}" || { fail "$kernel: initramfs"; continue; }
	for config in $configs; do
		boot "$kernel" "$config" "$dir"
	done
done
say "total $(( $(date +%s) - t_start ))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
