# Building blocks of the VM suite and the VM benchmark (sourced after
# kernels.sh and kernel_setup; needs TOP, VM and STATIC set).
#
#   build_module DIR [ARG...]    dmakit.ko for $KDIR into DIR/dmakit.ko (W=1,
#                                no warning allowed; log in DIR/build.log);
#                                ARGs go to make (DMAKIT_FAULTS=1: test build)
#   pack_initramfs DIR CASE...   DIR/initramfs.gz: busybox, modules, the
#                                static programs, guest/init, the cases
#                                (and DIR/dmakit-faults.ko if there)
#   vm_boot LOG DISK... -- QEMU-ARGS...
#                                boot DIR's initramfs with $KERNEL_IMAGE and
#                                $VM_APPEND, serial console to LOG, a monitor
#                                on LOG.mon, one virtio disk per DISK; the
#                                guest's "@@HOST cmd" lines go to the monitor

# dmakit.ko for one kernel, built out of tree in its own directory.
build_module() {
	local dir=$1 log=$1/build.log
	shift
	rm -rf "$dir/src"
	mkdir -p "$dir/src/driver" "$dir/src/include/uapi/dmakit"
	cp "$TOP"/driver/Kbuild "$TOP"/driver/*.[ch] "$dir/src/driver/"
	cp "$TOP"/include/uapi/dmakit/*.h "$dir/src/include/uapi/dmakit/"
	# the module's version is the top Makefile's (driver/Makefile does the same)
	if ! make -C "$KDIR" M="$dir/src/driver" W=1 \
		DMAKIT_VERSION="$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")" \
		"$@" modules >"$log" 2>&1; then
		tail -n 30 "$log"
		return 1
	fi
	if grep -E 'warning:' "$log"; then
		echo "(warnings in $log)"
		return 1
	fi
	strip --strip-debug -o "$dir/dmakit.ko" "$dir/src/driver/dmakit.ko"
}

# The initramfs: busybox, modules in load order, programs, the given cases.
pack_initramfs() {
	local dir=$1 root=$1/root m f
	shift
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,mnt,lib/modules,dmakit/bin,dmakit/cases}
	cp /bin/busybox "$root/bin/busybox"
	cp "$VM/guest/init" "$root/init"
	chmod 755 "$root/init"
	cp "$VM/guest/lib.sh" "$root/dmakit/lib.sh"
	for f in "$@"; do
		cp "$f" "$root/dmakit/cases/"
	done
	for f in "$STATIC"/bin/*; do
		strip --strip-debug -o "$root/dmakit/bin/${f##*/}" "$f"
	done
	cp "$dir/dmakit.ko" "$root/lib/modules/dmakit.ko"
	[ -f "$dir/dmakit-faults.ko" ] && cp "$dir/dmakit-faults.ko" "$root/lib/modules/"
	# virtio for the disks, crc32c for dmakit.ko, ext4 for the file
	# systems, device-mapper's log-writes and snapshot for 55-powerloss
	# (a kernel without modules for them, the debug kernel, has what it
	# has built in)
	: >"$root/modules.list"
	local modroot=${MODDIR%/lib/modules/*}
	[ -n "$MODDIR" ] && for m in virtio_pci virtio_blk libcrc32c ext4 dm-log-writes dm-snapshot; do
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

# Forward the guest's "@@HOST <monitor command>" lines to the monitor.
vm_serve_host_requests() {
	local log=$1 mon=$2 pid=$3 done_n=0 n line
	while kill -0 "$pid" 2>/dev/null; do
		n=$(grep -c '^@@HOST ' "$log" 2>/dev/null)
		while [ "${n:-0}" -gt "$done_n" ]; do
			done_n=$((done_n + 1))
			line=$(grep '^@@HOST ' "$log" | sed -n "${done_n}p" | tr -d '\r')
			# the monitor's answer, kept (an "Error: ..." of a refused
			# device_add is seen nowhere else); a failed socat is scored
			echo "--- $(date +%T) ${line#@@HOST }" >>"$log.monitor"
			echo "${line#@@HOST }" | socat -t 2 - "UNIX-CONNECT:$mon" 2>&1 |
				sed 's/\x1b\[[0-9;]*[A-Za-z]//g' |
				grep -v '^QEMU .* monitor\|^(qemu)' >>"$log.monitor"
			[ "${PIPESTATUS[1]}" = 0 ] ||
				echo "@@HOST-FAILED $line" >>"$log.host"
		done
		sleep 0.3
	done
}

# vm_watch_init LOG PID: stop a boot whose guest has not reached its init
# (the "@@BOOT" line) VM_INIT_TIMEOUT seconds (default 900) after it
# started, and say so in LOG.stalled.  Under TCG on a loaded host the
# kernel has hung bringing up its second CPU (debug kernel, q35 + intel
# IOMMU, load 22: no output for 20 minutes after "APIC calibration"); no
# dmakit code runs before init, so such a boot has nothing of ours to score.
vm_watch_init() {
	local log=$1 pid=$2 end
	end=$(($(date +%s) + ${VM_INIT_TIMEOUT:-900}))
	while kill -0 "$pid" 2>/dev/null; do
		grep -q '^@@BOOT' "$log" 2>/dev/null && return 0
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "no @@BOOT after ${VM_INIT_TIMEOUT:-900} s; last kernel line: $(tail -n 1 "$log" | tr -d '\r')" >"$log.stalled"
			kill "$pid" 2>/dev/null
			return 0
		fi
		sleep 1
	done
}

# vm_watch_silence LOG MON PID: when the guest's console has printed
# nothing for VM_SILENCE seconds (default 240), ask QEMU's monitor what each vCPU is doing -- status,
# registers, interrupt counts -- into LOG.frozen, and name the instruction
# pointers (symbolize.py; VM_SYSTEM_MAP, VM_MODULE_DIR), up to three times
# a boot.  A guest that froze whole (no hung-task or lockup report can
# reach the console then) leaves where its CPUs were stuck; the dumps are
# a diagnosis only, the boot is scored as it ends.
vm_watch_silence() {
	local log=$1 mon=$2 pid=$3 size last=-1 since n=0 cmd
	since=$(date +%s)
	while kill -0 "$pid" 2>/dev/null; do
		size=$(stat -c %s "$log" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			last=$size since=$(date +%s)
		fi
		if [ $(($(date +%s) - since)) -ge "${VM_SILENCE:-240}" ] && [ "$n" -lt 3 ]; then
			n=$((n + 1)) since=$(date +%s)
			{
				echo "=== the console silent for ${VM_SILENCE:-240} s at $(date +%T): dump $n"
				for cmd in "info status" "info cpus" "info registers -a" "info pic" "info irq"; do
					echo "--- $cmd"
					echo "$cmd" | socat -t 5 - "UNIX-CONNECT:$mon" 2>&1 | tr -d '\r'
				done
			} >>"$log.frozen"
			if [ -n "${VM_SYSTEM_MAP:-}" ]; then
				echo "--- instruction pointers (dump $n)"
				python3 "$(dirname "${BASH_SOURCE[0]}")/symbolize.py" \
					"$log.frozen" "$log" "$VM_SYSTEM_MAP" "${VM_MODULE_DIR:-}"
			fi >>"$log.frozen" 2>&1
		fi
		sleep 5
	done
}

# vm_boot INITRAMFS LOG TIMEOUT DISK... -- QEMU-ARGS...: returns QEMU's status.
vm_boot() {
	local initrd=$1 log=$2 tmo=$3 drives=() qpid spid wpid fpid rc d
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		drives+=(-drive "file=$1,if=virtio,format=raw,cache=unsafe")
		shift
	done
	[ "${1:-}" = -- ] && shift
	rm -f "$log" "$log.mon" "$log.host" "$log.stalled" "$log.frozen"
	timeout -k 10 "$tmo" qemu-system-x86_64 \
		-display none -no-reboot -serial "file:$log" \
		-monitor "unix:$log.mon,server=on,wait=off" \
		-kernel "$KERNEL_IMAGE" -initrd "$initrd" \
		-append "$VM_APPEND" "${drives[@]}" "$@" >"$log.qemu" 2>&1 &
	qpid=$!
	sleep 1
	vm_serve_host_requests "$log" "$log.mon" "$qpid" &
	spid=$!
	vm_watch_init "$log" "$qpid" &
	wpid=$!
	vm_watch_silence "$log" "$log.mon" "$qpid" &
	fpid=$!
	wait "$qpid"
	rc=$?
	kill "$spid" "$wpid" "$fpid" 2>/dev/null
	wait "$spid" "$wpid" "$fpid" 2>/dev/null
	tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
	return $rc
}
