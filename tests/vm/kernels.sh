# Kernels the VM suite can boot (sourced by tests/vm/run.sh).
#
# kernel_setup NAME sets, for kernel NAME:
#   KERNEL_IMAGE  the bzImage QEMU boots
#   KDIR          the matching module build directory (headers + Kbuild)
#   MODDIR        its module tree (lib/modules/VERSION): virtio, crc32c
#   KVER          its release string
# and returns 1 with a reason in KERNEL_MISSING if the kernel is not there.
#
#   stock  Debian's kernel: /boot/vmlinuz-V, /usr/src/linux-headers-V,
#          /lib/modules/V (V: the newest version with all three, or $VM_KVER)
#   debug  a KASAN/lockdep/DMA_API_DEBUG build of linux-source, cached in
#          $DMAKIT_DEBUG_KERNEL (default ~/.cache/dmakit/kernel-debug) as
#          bzImage, build/ (KDIR) and modules/lib/modules/V/

kernel_setup() {
	KERNEL_MISSING=
	case $1 in
	stock)
		local v
		KVER=${VM_KVER:-}
		if [ -z "$KVER" ]; then
			for v in $(ls /boot | sed -n 's/^vmlinuz-//p' | sort -V); do
				[ -d "/usr/src/linux-headers-$v" ] && [ -d "/lib/modules/$v/kernel" ] && KVER=$v
			done
		fi
		KERNEL_IMAGE=/boot/vmlinuz-$KVER
		KDIR=/usr/src/linux-headers-$KVER
		MODDIR=/lib/modules/$KVER
		;;
	debug)
		local d=${DMAKIT_DEBUG_KERNEL:-${XDG_CACHE_HOME:-$HOME/.cache}/dmakit/kernel-debug}
		KERNEL_IMAGE=$d/bzImage
		KDIR=$d/build
		KVER=$(cat "$d/release" 2>/dev/null || true)
		MODDIR=$d/modules/lib/modules/$KVER
		;;
	*)
		KERNEL_MISSING="unknown kernel '$1' (stock, debug)"
		return 1
		;;
	esac
	if [ -z "$KVER" ] || [ ! -r "$KERNEL_IMAGE" ] || [ ! -d "$KDIR" ] ||
	   [ ! -d "$MODDIR" ]; then
		KERNEL_MISSING="kernel '$1' not available (image '$KERNEL_IMAGE', KDIR '$KDIR', modules '$MODDIR')"
		return 1
	fi
	return 0
}
