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
#   swiotlb  i440fx with swiotlb=force: every streaming mapping bounced
#
# A boot fails if it does not finish, or if its kernel log shows BUG:,
# WARNING:, an Oops or a call trace.  Ends with "N passed, N failed".
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

for tool in qemu-system-x86_64 cpio gzip socat; do
	command -v $tool >/dev/null || { echo "vm: $tool missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q static ||
	{ echo "vm: a static /bin/busybox is needed (busybox-static)" >&2; exit 1; }

# dmakit.ko for one kernel, built out of tree in its own directory; the
# build must be free of warnings (W=1).
build_module() {
	local dir=$1 log=$1/build.log
	rm -rf "$dir/src"
	mkdir -p "$dir/src/driver" "$dir/src/include/uapi/dmakit"
	cp "$TOP"/driver/Kbuild "$TOP"/driver/*.[ch] "$dir/src/driver/"
	cp "$TOP"/include/uapi/dmakit/*.h "$dir/src/include/uapi/dmakit/"
	if ! make -C "$KDIR" M="$dir/src/driver" W=1 modules >"$log" 2>&1; then
		tail -n 30 "$log"
		return 1
	fi
	if grep -E 'warning:' "$log"; then
		echo "(warnings in $log)"
		return 1
	fi
	strip --strip-debug -o "$dir/dmakit.ko" "$dir/src/driver/dmakit.ko"
}

# The initramfs: busybox, modules in load order, programs, cases.
pack_initramfs() {
	local dir=$1 root=$1/root m f
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,mnt,lib/modules,dmakit/bin,dmakit/cases}
	cp /bin/busybox "$root/bin/busybox"
	cp "$VM/guest/init" "$root/init"
	chmod 755 "$root/init"
	cp "$VM/guest/lib.sh" "$root/dmakit/lib.sh"
	for f in "$VM"/guest/cases/*.sh; do
		[ -n "${VM_CASES:-}" ] && [[ $(basename "$f") != *${VM_CASES}* ]] && continue
		cp "$f" "$root/dmakit/cases/"
	done
	cp "$STATIC"/bin/* "$root/dmakit/bin/"
	cp "$dir/dmakit.ko" "$root/lib/modules/dmakit.ko"
	# virtio for the raw disk, crc32c for dmakit.ko (first the fast one)
	: >"$root/modules.list"
	local modroot=${MODDIR%/lib/modules/*}
	for m in virtio_pci virtio_blk libcrc32c; do
		modprobe -S "$KVER" -d "${modroot:-/}" --show-depends "$m" 2>/dev/null |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r f; do
		m=$(basename "$f")
		case $m in
		*.ko.xz) xz -dc "$f" >"$root/lib/modules/${m%.xz}"; m=${m%.xz} ;;
		*.ko.zst) zstd -qdc "$f" >"$root/lib/modules/${m%.zst}"; m=${m%.zst} ;;
		*) cp "$f" "$root/lib/modules/$m" ;;
		esac
		echo "$m" >>"$root/modules.list"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initramfs.gz"
}

qemu_args() {
	local config=$1
	QEMU_APPEND="console=ttyS0 panic=-1 loglevel=5 DMAKIT_VM_CONFIG=$config"
	QEMU_ARGS=(-m 256M -smp 2 -cpu max -accel "tcg,thread=${VM_TCG_THREAD:-multi}")
	case $config in
	plain)
		QEMU_ARGS+=(-M pc -device edu,id=edu1)
		;;
	iommu)
		QEMU_ARGS+=(-M q35 -device intel-iommu,intremap=on
			    -device pcie-root-port,id=rp1,slot=1,chassis=1
			    -device edu,id=edu1,bus=rp1)
		QEMU_APPEND+=" intel_iommu=on"
		;;
	swiotlb)
		QEMU_ARGS+=(-M pc -device edu,id=edu1)
		QEMU_APPEND+=" swiotlb=force"
		;;
	*)
		return 1
		;;
	esac
}

# Forward the guest's "@@HOST <monitor command>" lines to the monitor.
serve_host_requests() {
	local log=$1 mon=$2 pid=$3 done_n=0 n line
	while kill -0 "$pid" 2>/dev/null; do
		n=$(grep -c '^@@HOST ' "$log" 2>/dev/null)
		while [ "${n:-0}" -gt "$done_n" ]; do
			done_n=$((done_n + 1))
			line=$(grep '^@@HOST ' "$log" | sed -n "${done_n}p" | tr -d '\r')
			echo "${line#@@HOST }" | socat - "UNIX-CONNECT:$mon" >/dev/null 2>&1 ||
				echo "@@HOST-FAILED $line" >>"$log.host"
		done
		sleep 0.3
	done
}

# A vCPU starved by a loaded host: the guest's RCU reports a timer that
# did not fire for seconds (seen with MTTCG when other work competes for
# the host's cores).  Such a boot is run again once, and says so.
emulator_stalled() {
	grep -q "kthread timer wakeup didn't happen" "$1"
}

# One boot: run, then score every result line and the kernel log.
boot() {
	local kernel=$1 config=$2 dir=$3
	rm -rf "$dir/$config.stalled"
	boot_once "$kernel" "$config" "$dir" && return 0
	say "$kernel/$config: the emulator stalled (host overloaded?): booting again, first log in $dir/$config.stalled"
	mv "$dir/$config" "$dir/$config.stalled"
	boot_once "$kernel" "$config" "$dir" score
}

# boot_once KERNEL CONFIG DIR [score]: returns 1 (without scoring) if the
# emulator stalled and this is not the last attempt.
boot_once() {
	local kernel=$1 config=$2 dir=$3 must_score=${4:-}
	local run=$dir/$config log=$dir/$config/console.log
	local disk=$dir/$config/disk.img t0 t1 rc qpid spid
	rm -rf "$run"
	mkdir -p "$run"
	truncate -s 256M "$disk"
	qemu_args "$config" || { fail "$kernel/$config: unknown configuration"; return; }
	t0=$(date +%s)
	timeout -k 10 "$boot_timeout" qemu-system-x86_64 \
		-display none -no-reboot -serial "file:$log" \
		-monitor "unix:$run/mon.sock,server=on,wait=off" \
		-kernel "$KERNEL_IMAGE" -initrd "$dir/initramfs.gz" \
		-append "$QEMU_APPEND" \
		-drive "file=$disk,if=virtio,format=raw,cache=unsafe" \
		"${QEMU_ARGS[@]}" >"$run/qemu.out" 2>&1 &
	qpid=$!
	sleep 1
	serve_host_requests "$log" "$run/mon.sock" "$qpid" &
	spid=$!
	wait "$qpid"
	rc=$?
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	t1=$(date +%s)
	rm -f "$disk"
	tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
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
		[ -s "$run/qemu.out" ] && sed 's/^/    qemu: /' "$run/qemu.out" | tail -n 5
	fi
	if grep -qE 'BUG:|WARNING:|Oops|Call Trace|general protection fault|Kernel panic|UBSAN:|KASAN:' "$log"; then
		fail "$kernel/$config: kernel log clean (BUG/WARNING/Oops/call trace found)"
		grep -nE -m 12 -A 6 'BUG:|WARNING:|Oops|general protection fault|Kernel panic|UBSAN:|KASAN:' "$log" |
			sed 's/^/    | /' | head -n 60
	else
		pass "$kernel/$config: kernel log clean"
	fi
	grep -q '^@@HOST-FAILED' "$log.host" 2>/dev/null &&
		fail "$kernel/$config: monitor commands failed: $(cat "$log.host")"
	say "$kernel/$config: $ok passed, $bad failed in the guest, $((t1 - t0))s ($log)"
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
	pack_initramfs "$dir" || { fail "$kernel: initramfs"; continue; }
	for config in $configs; do
		boot "$kernel" "$config" "$dir"
	done
done
say "total $(( $(date +%s) - t_start ))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
