#!/usr/bin/env bash
# Install what dmakit needs to build, test and benchmark on Debian/Ubuntu.
# Idempotent: installs only missing packages.  Run as root (or with sudo).
#
#   scripts/setup.sh            everything (build, host tests, VM tests, bench)
#   scripts/setup.sh --build    only what `make` needs
set -euo pipefail

# python3: scripts/gen-cli-docs.py makes the man pages and completion;
# clang, llvm, bpftool, libbpf-dev: the trace BPF backend's program is
# compiled (clang -target bpf against bpftool's vmlinux.h), embedded as a
# bpftool skeleton and loaded by libbpf
build_pkgs=(gcc make pkg-config libc6-dev liburing-dev libtracefs-dev
	    libtraceevent-dev systemtap-sdt-dev python3 clang llvm bpftool
	    libbpf-dev)
# pciutils/pci.ids: lspci and the names info prints are checked against;
# bpftrace: the independent latency measure trace_block is checked against;
# strace: net_endings and the chardev tests watch system calls through it;
# python3-numpy: the Python package (python/dmakit) that reads recordings;
# python3-fuse: a file that fails reads (chardev EIO); the file-system
# tools make the signatures a raw target must not lose (record_blockdev.sh);
# man-db, bsdextrautils (col): the man pages rendered (cli_docs.sh);
# bsdutils (script): a terminal on stdout (cli_rules.sh);
# stress-ng: the CPU hogs beside the suite (tests/busy.sh);
# dpkg-dev, debhelper, dh-dkms, dkms, lintian: the packages built, checked
# and installed (deb.sh)
test_pkgs=(python3 python3-numpy bc fio trace-cmd iproute2 socat util-linux e2fsprogs
	   xfsprogs btrfs-progs dosfstools fdisk cryptsetup-bin python3-fuse
	   procps kmod time strace pciutils pci.ids bpftrace man-db bsdextrautils
	   bsdutils stress-ng
	   dpkg-dev debhelper dh-dkms dkms lintian)
# the driver's QEMU suite on Debian 12's two kernels (6.1: linux-image-amd64,
# 6.12: linux-image-6.12-amd64), xz-utils for 6.12's compressed modules;
# perl runs checkpatch.pl on the driver
vm_pkgs=(qemu-system-x86 linux-image-amd64 linux-headers-amd64
	 linux-image-6.12-amd64 linux-headers-6.12-amd64
	 busybox-static cpio gzip binutils xz-utils perl)
debug_kernel_pkgs=(linux-source-6.1 bc flex bison libelf-dev libssl-dev
		   xz-utils rsync)

pkgs=("${build_pkgs[@]}")
if [ "${1:-}" != "--build" ]; then
	pkgs+=("${test_pkgs[@]}" "${vm_pkgs[@]}" "${debug_kernel_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#pkgs[@]} packages present"
	exit 0
fi
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
