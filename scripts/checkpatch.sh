#!/usr/bin/env bash
# Kernel coding style check of the driver: scripts/checkpatch.pl from the
# installed kernel tree, or extracted once from Debian's linux-source
# tarball into a cache outside the tree (kernel sources are never committed).
#
#   scripts/checkpatch.sh [FILE...]     (default: driver/*.[ch] + uapi headers)
#
# Exit 0 when checkpatch reports no error and no warning.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cache=${DMAKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dmakit}/checkpatch

find_checkpatch() {
	local d
	for d in /usr/src/linux-headers-*-common/scripts /usr/lib/linux-kbuild-*/scripts \
		 "$cache/scripts"; do
		[ -x "$d/checkpatch.pl" ] && { echo "$d/checkpatch.pl"; return; }
	done
	local tarball
	tarball=$(ls /usr/src/linux-source-*.tar.* 2>/dev/null | sort -V | tail -n1 || true)
	[ -n "$tarball" ] || { echo "checkpatch: no checkpatch.pl and no /usr/src/linux-source-*.tar.* (apt-get install linux-source)" >&2; return 1; }
	local top
	top=$(basename "$tarball"); top=${top%.tar.*}
	mkdir -p "$cache"
	tar -xf "$tarball" -C "$cache" --strip-components=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch" >&2
	echo "$cache/scripts/checkpatch.pl"
}

cp=$(find_checkpatch)
cd "$TOP"
if [ $# -eq 0 ]; then
	# tracked sources only (Kbuild leaves generated *.mod.c next to them)
	mapfile -t files < <(git ls-files 'driver/*.c' 'driver/*.h' \
			     'include/uapi/dmakit/*.h')
	set -- "${files[@]}"
fi
# --no-tree: we live outside the kernel tree.  LINUX_VERSION_CODE and its
# comparisons are how an out-of-tree (DKMS) driver follows API changes.
exec perl "$cp" --no-tree --quiet --show-types \
	--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
	-f "$@"
