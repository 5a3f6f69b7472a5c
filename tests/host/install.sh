#!/usr/bin/env bash
# `make install` into a non-default PREFIX (and LIBDIR, as Debian's
# multiarch layout has it): a program built with that tree's pkg-config
# file compiles, links against the installed shared library and reads a
# simulated card; the installed CLI runs; `make uninstall` removes every
# file install put there.
# timeout: 300
. "$TOP/tests/host/lib.bash"

prefix=$TMPDIR/opt/dmakit-test
libdir=$prefix/lib/x86_64-linux-gnu
# a copy of the tree, so this test never races the suite's own build dirs
mkdir -p "$TMPDIR/src"
cp -r "$TOP"/{Makefile,dmakit.pc.in,include,lib,tools,scripts,python} "$TMPDIR/src/"
make -s -C "$TMPDIR/src" -j2 all >"$TMPDIR/build.log" 2>&1
t_eq "the tree builds" "$?" 0
make -s -C "$TMPDIR/src" install PREFIX="$prefix" LIBDIR="$libdir" \
	PYTHON3="$PYTHON3" >"$TMPDIR/install.log" 2>&1
t_eq "make install exits 0" "$?" 0

export PKG_CONFIG_PATH=$libdir/pkgconfig
t_eq "pkg-config finds it in LIBDIR" "$(pkg-config --variable=libdir dmakit)" "$libdir"
t_eq "pkg-config's prefix is the install's" "$(pkg-config --variable=prefix dmakit)" "$prefix"

cat >"$TMPDIR/reader.c" <<'C'
#include <stdio.h>
#include <dmakit.h>

int main(void)
{
	char err[DMAKIT_ERRMSG_MAX];
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	int i, ret;

	ret = dmakit_open(&dev, "sim:bufsize=4K,nbufs=8,count=16,policy=block", err, sizeof(err));
	if (ret) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	if (dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c) || dmakit_start(dev))
		return 1;
	for (i = 0; i < 16; i++) {
		if (dmakit_consumer_next(c, &b, 10000) ||
		    dmakit_consumer_release(c, &b))
			return 1;
	}
	printf("%d buffers, last seq %llu\n", i, (unsigned long long)b.desc.seq);
	dmakit_close(dev);
	return 0;
}
C
# shellcheck disable=SC2046
cc -std=gnu11 -Wall -Werror -o "$TMPDIR/reader" "$TMPDIR/reader.c" \
	$(pkg-config --cflags --libs dmakit) 2>"$TMPDIR/cc.err"
t_eq "a program builds with pkg-config --cflags --libs dmakit" "$?" 0
[ -s "$TMPDIR/cc.err" ] && cat "$TMPDIR/cc.err"
t_grep "it links the installed shared library" "$libdir/libdmakit.so.0" \
	<(LD_LIBRARY_PATH=$libdir ldd "$TMPDIR/reader")
t_eq "it reads 16 buffers from the simulated card" \
	"$(LD_LIBRARY_PATH=$libdir "$TMPDIR/reader")" "16 buffers, last seq 15"
t_grep "the installed CLI runs" "^dmakit [0-9]" <("$prefix/bin/dmakit" --version)
for page in man1/dmakit.1 man1/dmakit-record.1 man1/dmakit-trace.1 man3/libdmakit.3; do
	t_check "$page is installed" test -s "$prefix/share/man/$page"
done
t_grep "man finds dmakit-record in the installed tree" "dmakit-record - " \
	<(MANPATH=$prefix/share/man man dmakit-record 2>/dev/null | col -bx)
t_grep "the bash completion is installed" "complete .*_dmakit dmakit" \
	"$prefix/share/bash-completion/completions/dmakit"

# the Python package where the interpreter looks for PREFIX's packages
pyver=$("$PYTHON3" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pydir=$prefix/lib/python$pyver/dist-packages
t_check "the Python package is installed in $pydir" test -s "$pydir/dmakit/recording.py"
"$prefix/bin/dmakit" record -q -d sim:bufsize=64K,nbufs=16,policy=block \
	-o "$TMPDIR/inst.dat" --size 2M
t_eq "the installed python3 -m dmakit verifies a recording" \
	"$(cd / && PYTHONPATH=$pydir "$PYTHON3" -m dmakit verify --json "$TMPDIR/inst.dat" |
	   "$PYTHON3" -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], d["crcs_checked"])')" "True 32"
t_eq "import dmakit is the installed one" \
	"$(cd / && PYTHONPATH=$pydir "$PYTHON3" -c 'import dmakit; print(dmakit.__file__)')" \
	"$pydir/dmakit/__init__.py"
# the default PYTHONDIR for PREFIX=/usr is Debian's dist-packages
t_eq "PREFIX=/usr installs into /usr/lib/python3/dist-packages" \
	"$(make -s -C "$TMPDIR/src" --eval 'print-pythondir: ; @echo $(PYTHONDIR)' print-pythondir PREFIX=/usr)" \
	"/usr/lib/python3/dist-packages"

make -s -C "$TMPDIR/src" uninstall PREFIX="$prefix" LIBDIR="$libdir" \
	PYTHON3="$PYTHON3" >"$TMPDIR/uninstall.log" 2>&1
t_eq "make uninstall exits 0" "$?" 0
left=$(find "$prefix" -type f -o -type l | wc -l)
t_eq "uninstall leaves no file behind" "$left" 0
t_done
