# Kernels the VM suite can boot (sourced by tests/vm/run.sh).
#
# kernel_setup NAME sets, for kernel NAME:
#   KERNEL_IMAGE  the bzImage QEMU boots
#   SYSTEM_MAP    its System.map (vm_watch_silence names stuck vCPUs)
#   KDIR          the matching module build directory (headers + Kbuild)
#   MODDIR        its module tree (lib/modules/VERSION) for virtio and
#                 crc32c, or empty when the kernel has them built in
#   KVER          its release string
# and returns 1 with a reason in KERNEL_MISSING if the kernel is not there.
#
#   stock-6.1, stock-6.12
#          Debian 12's two kernels (linux-image-amd64 and
#          linux-image-6.12-amd64): /boot/vmlinuz-V,
#          /usr/src/linux-headers-V, /lib/modules/V (V: the newest version
#          of that series with all three)
#   debug  Debian's linux-source-6.1 with KASAN, lockdep, DMA_API_DEBUG...
#          as built by scripts/debug-kernel/build.sh (its directory holds
#          bzImage and the built tree, the KDIR; what the suite needs is
#          built in, so MODDIR is empty).
#
# STOCK_KERNELS: the stock kernels "stock" and "all" stand for.
#
# kernel_build NAME builds kernel NAME when it can be built here and is
# not yet (the debug kernel: once per machine, ~10-25 minutes on 2 cores),
# saying so and how long it took.  VM_DEBUG_KERNEL_BUILD replaces
# scripts/debug-kernel/build.sh (tests of this logic).

kernel_build() {
	local build=${VM_DEBUG_KERNEL_BUILD:-$TOP/scripts/debug-kernel/build.sh} d t0 secs
	[ "$1" = debug ] || return 0
	d=$("$build" --dir) || return 1
	[ -f "$d/ready" ] && return 0
	echo "vm: the debug kernel is not built yet: building it now, once for this machine (~10-25 minutes on 2 cores), into $d"
	t0=$(date +%s)
	if ! nice "$build" >/dev/null; then
		KERNEL_MISSING="the debug kernel build failed ($build)"
		return 1
	fi
	secs=$(cat "$d/build-seconds" 2>/dev/null || echo $(( $(date +%s) - t0 )))
	echo "vm: the debug kernel was built in ${secs} s ($((secs / 60)) min); cached in $d for the next runs"
}

STOCK_KERNELS="stock-6.1 stock-6.12"

kernel_setup() {
	KERNEL_MISSING=
	case $1 in
	stock-6.1 | stock-6.12)
		local v series=${1#stock-}
		KVER=
		for v in $(ls /boot | sed -n 's/^vmlinuz-//p' | sort -V); do
			case $v in "$series".*) ;; *) continue ;; esac
			[ -d "/usr/src/linux-headers-$v" ] && [ -d "/lib/modules/$v/kernel" ] && KVER=$v
		done
		KERNEL_IMAGE=/boot/vmlinuz-$KVER
		SYSTEM_MAP=/boot/System.map-$KVER
		KDIR=/usr/src/linux-headers-$KVER
		MODDIR=/lib/modules/$KVER
		;;
	debug)
		local d
		d=$("$TOP/scripts/debug-kernel/build.sh" --dir)
		KERNEL_IMAGE=$d/bzImage
		KDIR=$d/src
		SYSTEM_MAP=$KDIR/System.map
		KVER=$(cat "$KDIR/include/config/kernel.release" 2>/dev/null || true)
		MODDIR=
		if [ ! -f "$d/ready" ]; then
			KERNEL_MISSING="debug kernel not built (scripts/debug-kernel/build.sh builds it into $d, ~10-25 min)"
			return 1
		fi
		# modules must be built by the kernel's compiler (it is in the
		# cache key; this catches a tree copied in by hand)
		local cc
		cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$KDIR/.config")
		if [ "$cc" != "$(gcc --version | head -n 1)" ]; then
			KERNEL_MISSING="the debug kernel in $d was built with '$cc', the compiler now is '$(gcc --version | head -n 1)': remove $d to rebuild it"
			return 1
		fi
		;;
	*)
		KERNEL_MISSING="unknown kernel '$1' ($STOCK_KERNELS, debug)"
		return 1
		;;
	esac
	if [ -z "$KVER" ] || [ ! -r "$KERNEL_IMAGE" ] || [ ! -d "$KDIR" ] ||
	   { [ -n "$MODDIR" ] && [ ! -d "$MODDIR" ]; }; then
		KERNEL_MISSING="kernel '$1' not available (image '$KERNEL_IMAGE', KDIR '$KDIR', modules '$MODDIR')"
		return 1
	fi
	return 0
}
