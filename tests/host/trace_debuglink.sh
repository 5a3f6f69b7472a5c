#!/usr/bin/env bash
# Stripped libraries with separate debug files: 'dmakit trace' finds a
# function that only the debug file names (a static function, gone from
# the stripped library's tables) by .gnu_debuglink (beside the library, in
# .debug/) and by build id (/usr/lib/debug/.build-id/), and the uprobe
# placed from it fires once per call; without a debug file, or with one of
# another build (CRC mismatch), it says so and traces nothing.
# timeout: 300
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing

W=$TMPDIR/dbg
mkdir -p "$W"
# a unique build (its build id is never one another run installed)
tag="$$-$(date +%s%N)"
cat >"$W/lib.c" <<C
#include <time.h>
const char *dbg_tag = "$tag";
__attribute__((noinline, noclone)) static int hidden_step(int x)
{
	struct timespec ts = { 0, 200000 };

	nanosleep(&ts, 0);
	return x + 1;
}
int dbg_run(int x) { return hidden_step(x) * 2; }
C
cat >"$W/prog.c" <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int dbg_run(int x);
static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }
int main(int argc, char **argv)
{
	int n = atoi(argv[1]), i, acc = 0;

	signal(SIGUSR1, on_usr1);
	printf("ready\n");
	fflush(stdout);
	while (!go)
		usleep(1000);
	for (i = 0; i < n; i++)
		acc += dbg_run(i);
	printf("%d\n", acc);
	return 0;
}
C
cc -shared -fPIC -g -O2 -Wl,--build-id=sha1 -o "$W/libdbg.so" "$W/lib.c" &&
	cc -O2 -o "$W/prog" "$W/prog.c" -L"$W" -ldbg -Wl,-rpath,'$ORIGIN'
t_eq "library and program build" "$?" 0
t_check "the unstripped library names hidden_step" \
	sh -c "nm '$W/libdbg.so' | grep -q ' t hidden_step'"
objcopy --only-keep-debug "$W/libdbg.so" "$W/libdbg.so.debug"
t_eq "objcopy --only-keep-debug" "$?" 0

# variant DIR [DEBUGLINK]: DIR holds the program and the stripped library
# (with a .gnu_debuglink to libdbg.so.debug if DEBUGLINK)
variant() {
	mkdir -p "$1"
	cp "$W/prog" "$1/"
	objcopy --strip-all "$W/libdbg.so" "$1/libdbg.so" || return 1
	if [ -n "${2:-}" ]; then
		(cd "$W" && objcopy --add-gnu-debuglink=libdbg.so.debug "$1/libdbg.so") || return 1
	fi
}

# trace_calls DIR N: run DIR/prog N calls under 'dmakit trace' with
# hidden_step's entry and return as start and end; 0 if N transactions
trace_calls() {
	local dir=$1 n=$2 app i
	SEEDAPP_WAIT=1 "$dir/prog" "$n" >"$TMPDIR/app.out" &
	app=$!
	for ((i = 0; i < 600; i++)); do
		grep -q ready "$TMPDIR/app.out" 2>/dev/null && break
		sleep 0.1
	done
	rm -f "$TMPDIR/sum.json"
	if ! start_tracer --start "uprobe:$dir/libdbg.so:hidden_step" \
		--end "uretprobe:$dir/libdbg.so:hidden_step" --pid "$app" \
		--interval 0 --summary-json "$TMPDIR/sum.json"; then
		kill "$app"; wait "$app" 2>/dev/null
		return 1
	fi
	kill -USR1 "$app"
	wait "$app"
	for ((i = 0; i < 600; i++)); do		# it ends when the process exits
		kill -0 "$TRACER" 2>/dev/null || break
		sleep 0.1
	done
	kill -INT "$TRACER" 2>/dev/null
	wait "$TRACER"
	[ "$(json_get "$TMPDIR/sum.json" transactions)" = "$n" ]
}

# stripped, no debug file anywhere: a clear failure
variant "$W/none"
t_check "the stripped library no longer names hidden_step" \
	sh -c "! nm '$W/none/libdbg.so' 2>&1 | grep -q hidden_step"
"$DMAKIT" trace --start "uprobe:$W/none/libdbg.so:hidden_step" \
	--end "uretprobe:$W/none/libdbg.so:hidden_step" --duration 1 \
	>/dev/null 2>"$TMPDIR/err"
t_check "no debug file: trace fails" test "$?" -ne 0
t_grep "and says no debug file was found" "no function 'hidden_step'.*debug file" "$TMPDIR/err"

# .gnu_debuglink, the debug file beside the library
variant "$W/beside" link
cp "$W/libdbg.so.debug" "$W/beside/"
t_check "debuglink beside: 40 calls traced through the debug file's address" \
	trace_calls "$W/beside" 40
cat "$TMPDIR/tracer.err"
# the library's text is mapped at its file offset (vaddr == offset here)
want=$(nm "$W/libdbg.so" | sed -n 's/^0*\([0-9a-f]*\) t hidden_step$/\1/p')
t_grep "the probe is at hidden_step's address from the debug file (0x$want)" \
	"hidden_step \(file offset 0x$want\)" "$TMPDIR/tracer.err"

# .gnu_debuglink, the debug file in .debug/
variant "$W/dotdebug" link
mkdir -p "$W/dotdebug/.debug"
cp "$W/libdbg.so.debug" "$W/dotdebug/.debug/"
t_check "debuglink in .debug/: 30 calls traced" trace_calls "$W/dotdebug" 30

# a debug file of another build under the linked name: not used
variant "$W/wrong" link
sed "s/$tag/other-build-$tag/" "$W/lib.c" >"$W/lib2.c"
cc -shared -fPIC -g -O2 -o "$W/lib2.so" "$W/lib2.c" &&
	objcopy --only-keep-debug "$W/lib2.so" "$W/wrong/libdbg.so.debug"
"$DMAKIT" trace --start "uprobe:$W/wrong/libdbg.so:hidden_step" \
	--end "uretprobe:$W/wrong/libdbg.so:hidden_step" --duration 1 \
	>/dev/null 2>"$TMPDIR/err"
t_check "a debug file whose CRC does not match is not used" test "$?" -ne 0
t_grep "says so" "no function 'hidden_step'" "$TMPDIR/err"

# build id: no debuglink, the debug file under /usr/lib/debug/.build-id/
id=$(readelf -n "$W/libdbg.so" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
t_check "the library has a build id" test -n "$id"
bdir=/usr/lib/debug/.build-id/${id:0:2}
bfile=$bdir/${id:2}.debug
made_dir=
[ -d "$bdir" ] || made_dir=1
cleanup() { rm -f "$bfile"; [ -n "$made_dir" ] && rmdir "$bdir" 2>/dev/null; true; }
trap cleanup EXIT
variant "$W/buildid"
mkdir -p "$bdir" && cp "$W/libdbg.so.debug" "$bfile"
t_check "build id: 25 calls traced" trace_calls "$W/buildid" 25
cleanup
t_check "the build-id debug file is removed again" test ! -e "$bfile"
t_done
