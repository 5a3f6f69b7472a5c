#!/usr/bin/env bash
# The Debian packages: dpkg-buildpackage -us -uc -b builds libdmakit0,
# libdmakit-dev, dmakit and dmakit-dkms from a copy of the tree (the source
# tree is never written), lintian finds no error, dpkg -i installs them
# into this root, a program builds against them with pkg-config and runs,
# the installed dmakit records from the simulated card and verifies, man
# and the completion find the installed pages, the udev rule and the group
# dmakit exist, DKMS builds the packaged driver for the 6.1 headers with
# the package's version; then everything is purged again.
# timeout: 3000
. "$TOP/tests/host/lib.bash"
need_root
export LC_ALL=C.UTF-8

hold_system_install_lock ||
	{ t_check "another suite's install test ended within 25 min" false; t_done; }
pkgs=(python3-dmakit dmakit-dkms dmakit libdmakit-dev libdmakit0)
for p in "${pkgs[@]}"; do
	# never remove a dmakit someone installed on purpose
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed' &&
		t_skip "package $p is already installed here; the test would purge it"
done
version=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
kver61=$(cd /lib/modules && ls -d 6.1.*-amd64 2>/dev/null | sort -V | tail -n 1)

# dpkg's lock may be held by apt (and its DKMS builds) for a while: wait
# for it, bounded (10 min: a loaded machine)
dpkg_retry() {
	local i
	for ((i = 0; i < 600; i++)); do
		"$@" >"$TMPDIR/dpkg.log" 2>&1 && return 0
		grep -q 'lock' "$TMPDIR/dpkg.log" || { cat "$TMPDIR/dpkg.log"; return 1; }
		sleep 1
	done
	cat "$TMPDIR/dpkg.log"
	return 1
}
purge_all() {
	dpkg_retry dpkg --purge "${pkgs[@]}"
}
trap 'purge_all >/dev/null 2>&1' EXIT

mkdir -p "$TMPDIR/build/src"
tar -C "$TOP" --exclude=./build --exclude=./build-san --exclude=./.git \
	--exclude=./tests/vm/out -cf - . | tar -C "$TMPDIR/build/src" -xf -
(cd "$TMPDIR/build/src" && dpkg-buildpackage -us -uc -b -j2) >"$TMPDIR/build.log" 2>&1
rc=$?
t_eq "dpkg-buildpackage -us -uc -b exits 0" "$rc" 0
[ "$rc" = 0 ] || tail -n 30 "$TMPDIR/build.log"
for p in libdmakit0_${version}_amd64 libdmakit-dev_${version}_amd64 \
	 dmakit_${version}_amd64 dmakit-dkms_${version}_all \
	 python3-dmakit_${version}_all; do
	t_check "$p.deb was built" test -s "$TMPDIR/build/$p.deb"
done
# what a build in the source tree would leave: debhelper's state and
# staging directories, the generated dkms.conf, packages beside the tree
written=$(cd "$TOP" && ls -d debian/tmp debian/.debhelper debian/files \
	debian/dkms.conf.generated debian/dmakit debian/libdmakit0 ../dmakit_*.deb 2>/dev/null)
t_eq "the source tree holds nothing of the build" "$written" ""

lintian "$TMPDIR"/build/*.changes >"$TMPDIR/lintian.log" 2>&1
grep '^E: ' "$TMPDIR/lintian.log" >"$TMPDIR/lintian.errors"
t_check "lintian reports no error" test ! -s "$TMPDIR/lintian.errors"
cat "$TMPDIR/lintian.errors"

debs=()
for p in libdmakit0_${version}_amd64 libdmakit-dev_${version}_amd64 \
	 dmakit_${version}_amd64 dmakit-dkms_${version}_all \
	 python3-dmakit_${version}_all; do
	debs+=("$TMPDIR/build/$p.deb")
done
dpkg_retry dpkg -i "${debs[@]}"
t_eq "dpkg -i installs the five packages" "$?" 0

t_eq "dmakit --version is the Makefile's VERSION" "$(/usr/bin/dmakit --version)" "dmakit $version"
t_check "pkg-config knows dmakit $version" pkg-config --exact-version="$version" dmakit

cat >"$TMPDIR/consumer.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <dmakit.h>

int main(void)
{
	char err[DMAKIT_ERRMSG_MAX];
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	int i;

	if (strcmp(dmakit_version(), DMAKIT_VERSION))
		return 2;
	if (dmakit_open(&dev, "sim:bufsize=4K,nbufs=8,count=32,policy=block", err, sizeof(err))) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	if (dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c) || dmakit_start(dev))
		return 1;
	for (i = 0; i < 32; i++)
		if (dmakit_consumer_next(c, &b, 10000) || dmakit_consumer_release(c, &b))
			return 1;
	printf("%s %d.%d.%d: %d buffers, last seq %llu\n", DMAKIT_VERSION,
	       DMAKIT_VERSION_MAJOR, DMAKIT_VERSION_MINOR, DMAKIT_VERSION_PATCH,
	       i, (unsigned long long)b.desc.seq);
	dmakit_close(dev);
	return 0;
}
C
# shellcheck disable=SC2046
cc -std=gnu11 -Wall -Werror -o "$TMPDIR/consumer" "$TMPDIR/consumer.c" \
	$(pkg-config --cflags --libs dmakit)
t_eq "a program builds with the installed pkg-config file" "$?" 0
t_grep "it links the packaged shared library" "libdmakit.so.0 => /(usr/)?lib/" <(ldd "$TMPDIR/consumer")
t_eq "it reads the simulated card" "$("$TMPDIR/consumer")" \
	"$version $version: 32 buffers, last seq 31"

/usr/bin/dmakit record -d sim:bufsize=64K,nbufs=32,rate=max -o "$TMPDIR/rec.dat" \
	--size 16M -q
t_eq "the installed dmakit records 16 MiB from the simulated card" "$?" 0
/usr/bin/dmakit verify "$TMPDIR/rec.dat" --json >"$TMPDIR/verify.json"
t_eq "the installed dmakit verifies it" "$?" 0
t_eq "... all 256 buffers" "$(json_get "$TMPDIR/verify.json" buffers)" 256
t_eq "the packaged Python package verifies it too" \
	"$(cd / && env -u PYTHONPATH /usr/bin/python3 -m dmakit verify --json "$TMPDIR/rec.dat" |
	   /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], d["buffers"])')" "True 256"
t_eq "from /usr/lib/python3/dist-packages" \
	"$(cd / && env -u PYTHONPATH /usr/bin/python3 -c 'import dmakit; print(dmakit.__file__)')" \
	/usr/lib/python3/dist-packages/dmakit/__init__.py

t_grep "man finds dmakit-record(1)" "dmakit-record - " <(man dmakit-record 2>/dev/null | col -bx)
t_grep "man finds libdmakit(3)" "dmakit_open" <(man 3 libdmakit 2>/dev/null | col -bx)
# what it offers for "rec" are the installed dmakit's commands beginning so
rec_cmds=$(/usr/bin/dmakit help 2>&1 | sed -n '/^commands:/,/^$/s/^  \(rec[a-z]*\) .*/\1/p' | sort | tr '\n' ' ')
t_check "the installed dmakit lists commands beginning with 'rec'" test -n "$rec_cmds"
t_eq "the completion is where bash-completion looks" \
	"$(bash -c '. /usr/share/bash-completion/completions/dmakit; COMP_WORDS=(dmakit rec); COMP_CWORD=1; _dmakit; printf "%s\n" "${COMPREPLY[@]}"' | sort | tr '\n' ' ')" \
	"$rec_cmds"
rules=$(ls /lib/udev/rules.d/60-dmakit.rules /usr/lib/udev/rules.d/60-dmakit.rules 2>/dev/null | head -n 1)
t_check "the udev rule is installed" test -n "$rules"
t_grep "it gives /dev/dmakitN to the group dmakit, mode 0660" \
	'KERNEL=="dmakit\[0-9\]\*", GROUP="dmakit", MODE="0660"' "${rules:-/dev/null}"
t_check "the group dmakit exists" test -n "$(getent group dmakit)"

if [ -n "$kver61" ] && [ -d "/lib/modules/$kver61/build" ]; then
	dkms status -m dmakit -v "$version" -k "$kver61" | grep -q installed ||
		dkms install -m dmakit -v "$version" -k "$kver61" >"$TMPDIR/dkms.log" 2>&1
	t_grep "DKMS built and installed the packaged driver for $kver61" "installed" \
		<(dkms status -m dmakit -v "$version" -k "$kver61")
	ko=$(find "/lib/modules/$kver61/updates/dkms" -name 'dmakit.ko*' | head -n 1)
	t_eq "its module version is $version" \
		"$(modinfo -F version "${ko:-/nonexistent}" 2>/dev/null)" "$version"
else
	t_check "the 6.1 kernel headers are installed (scripts/setup.sh)" false
fi

purge_all
t_eq "dpkg --purge removes them" "$?" 0
t_check "no dmakit binary is left" test ! -e /usr/bin/dmakit
t_check "no packaged driver source is left" test ! -e "/usr/src/dmakit-$version"
t_check "no dmakit.ko is left for $kver61" \
	test -z "$(find "/lib/modules/$kver61" -name 'dmakit.ko*' 2>/dev/null)"
trap - EXIT
t_done
