#!/usr/bin/env bash
# Build (once per machine) the debug kernel the VM suite runs dmakit.ko on:
# Debian's linux-source-6.1 + x86_64_defconfig + kvm_guest.config +
# dmakit-debug.config (DMA-API debugging, KASAN, lockdep, ...).
#
# The result is cached outside the work tree, keyed by the source package
# version, the config fragment, this script and the toolchain (modules must
# be built by the kernel's own compiler), so a second run is instant:
#
#   scripts/debug-kernel/build.sh          build if needed, print the directory
#   scripts/debug-kernel/build.sh --dir    print the directory, build nothing
#
# The directory holds bzImage, the configured and built source tree (the KDIR
# to build modules against: it has Module.symvers) and a "ready" marker.
# DMAKIT_CACHE (default /var/cache/dmakit) sets where caches live.
# The first build takes about 25 minutes on 2 cores and ~3 GB of disk.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tarball=/usr/src/linux-source-6.1.tar.xz
cache=${DMAKIT_CACHE:-/var/cache/dmakit}

[ -f "$tarball" ] || { echo "build.sh: $tarball missing (scripts/setup.sh installs linux-source-6.1)" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( { echo "$srcver"; gcc --version | head -n 1; ld --version | head -n 1
	cat "$here/dmakit-debug.config" "$here/build.sh"; } |
	sha256sum | cut -c1-16)
dir="$cache/debug-kernel-$key"

if [ "${1:-}" = "--dir" ]; then
	echo "$dir"
	exit 0
fi
if [ -f "$dir/ready" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/debug-kernel.lock"
flock 9		# one build at a time; a waiting caller then finds it ready
if [ -f "$dir/ready" ]; then
	echo "$dir"
	exit 0
fi

log="$cache/debug-kernel-$key.log"
echo "build.sh: building the debug kernel into $dir (log: $log)" >&2
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
t0=$(date +%s)
{
	tar -xJf "$tarball" -C "$dir.tmp"
	src="$dir.tmp/linux-source-6.1"
	cd "$src"
	make -s x86_64_defconfig
	scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config \
		"$here/dmakit-debug.config"
	make -s olddefconfig
	# every requested option must have survived olddefconfig
	missing=0
	while IFS= read -r line; do
		case "$line" in CONFIG_*=y)
			grep -qx "$line" .config || { echo "config: $line did not stick"; missing=1; } ;;
		esac
	done < "$here/dmakit-debug.config"
	[ $missing -eq 0 ]
	make -j"$(nproc)" bzImage modules
} >"$log" 2>&1 || {
	echo "build.sh: debug kernel build failed; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	exit 1
}
mv "$dir.tmp/linux-source-6.1" "$dir.tmp/src"
cp "$dir.tmp/src/arch/x86/boot/bzImage" "$dir.tmp/bzImage"
echo "$(( $(date +%s) - t0 ))" > "$dir.tmp/build-seconds"
touch "$dir.tmp/ready"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "build.sh: built in $(cat "$dir/build-seconds") s" >&2
echo "$dir"
