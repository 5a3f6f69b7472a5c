# What the benchmarks that run in a QEMU guest share (sourced after
# bench/lib.sh; they set TOP, VM=$TOP/tests/vm and OUT first).

STATIC=$VM/out/static
# the guest's command line before a benchmark's own DMAKIT_BENCH_* words
BENCH_VM_APPEND="console=ttyS0 panic=-1 loglevel=5 clocksource=tsc tsc=reliable no_timer_check DMAKIT_VM_CONFIG=bench"

# bench_vm_setup NAME KERNEL GUEST_SCRIPT [TOOL...]: the host tools, the
# guest kernel (tests/vm/kernels.sh), the guest's static programs,
# dmakit.ko built against KERNEL into OUT and OUT/initramfs.gz running
# GUEST_SCRIPT; exits with a message naming what is missing or failed
bench_vm_setup() {
	local name=$1 kernel=$2 guest=$3 t
	shift 3
	for t in qemu-system-x86_64 cpio socat "$@"; do
		command -v "$t" >/dev/null ||
			{ echo "$name: $t is missing (scripts/setup.sh)" >&2; exit 1; }
	done
	. "$VM/kernels.sh"
	. "$VM/vmlib.sh"
	kernel_setup "$kernel" || { echo "$name: $KERNEL_MISSING" >&2; exit 1; }
	echo "host: $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg); guest kernel $KVER"
	make -s -C "$VM" userspace >/dev/null
	mkdir -p "$OUT"
	build_module "$OUT" || { echo "$name: module build failed" >&2; exit 1; }
	pack_initramfs "$OUT" "$guest"
}

# bench_vm_finished NAME LOG PATTERN [WHICH]: whether the guest printed a
# line matching PATTERN (its last result); if not, says so with the
# guest's last results
bench_vm_finished() {
	grep -q "$3" "$2" && return 0
	echo "$1: the ${4:+$4 }guest did not finish; see $2" >&2
	grep -E '^@@|not ok' "$2" | tail -n 20 >&2
	return 1
}

# bench_vm_boot LOG TIMEOUT QEMU_ARG...: one guest booted with
# $VM_APPEND and three empty 16 MiB disks (the guest's init mounts its
# scratch disks), until it powers off or TIMEOUT seconds pass
bench_vm_boot() {
	local log=$1 timeout=$2 t0
	shift 2
	truncate -s 16M "$OUT/d1.img" "$OUT/d2.img" "$OUT/d3.img"
	t0=$(date +%s)
	vm_boot "$OUT/initramfs.gz" "$log" "$timeout" \
		"$OUT/d1.img" "$OUT/d2.img" "$OUT/d3.img" -- "$@" || true
	rm -f "$OUT/d1.img" "$OUT/d2.img" "$OUT/d3.img"
	echo "host: load after: $(cut -d' ' -f1-3 /proc/loadavg); the guest ran $(($(date +%s) - t0)) s"
}
