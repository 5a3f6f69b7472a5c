#!/usr/bin/env bash
# Bad device strings, sizes, durations, paths and engines give one clear
# error each: exit 2 for bad usage, 1 for a problem with the system.
# timeout: 120
. "$TOP/tests/host/lib.bash"
out=$TMPDIR/u.dat

usage_case() {	# DESCRIPTION EXPECTED-MESSAGE-REGEX ARGS...
	local what=$1 msg=$2; shift 2
	"$DMAKIT" "$@" >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$what: exit 2" "$?" 2
	t_grep "$what: message" "$msg" "$TMPDIR/err"
}
fail_case() {	# DESCRIPTION EXPECTED-MESSAGE-REGEX ARGS...
	local what=$1 msg=$2; shift 2
	"$DMAKIT" "$@" >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$what: exit 1" "$?" 1
	t_grep "$what: message" "$msg" "$TMPDIR/err"
}

usage_case "no arguments" "no device" record
usage_case "no output" "no output" record -d sim --size 1M
usage_case "no size or duration" "--size BYTES or --duration" record -d sim -o "$out"
usage_case "unknown device kind" "unknown device 'nosuch'" record -d nosuch -o "$out" --size 1M
usage_case "empty device" "empty device string" record -d "" -o "$out" --size 1M
usage_case "misspelt sim option" "unknown option 'bufsz'" record -d sim:bufsz=4K -o "$out" --size 1M
usage_case "bad sim buffer size" "multiple of 4K" record -d sim:bufsize=1000 -o "$out" --size 1M
usage_case "bad sim rate" "bad value 'fast' for rate" record -d sim:rate=fast -o "$out" --size 1M
usage_case "bad size" "bad --size '12X'" record -d sim -o "$out" --size 12X
usage_case "zero size" "bad --size '0'" record -d sim -o "$out" --size 0
usage_case "negative size" "bad --size '-5'" record -d sim -o "$out" --size -5
usage_case "bad duration" "bad --duration 'soon'" record -d sim -o "$out" --duration soon
usage_case "unknown engine" "unknown engine 'io_uring'" record -d sim -o "$out" --size 1M --engine io_uring
usage_case "bad queue depth" "bad --queue-depth '0'" record -d sim -o "$out" --size 1M --queue-depth 0
usage_case "unknown option" "unknown option '--bogus'" record -d sim -o "$out" --size 1M --bogus
usage_case "missing option value" "needs a value" record -d sim -o "$out" --size
usage_case "stray argument" "unexpected argument 'extra'" record -d sim -o "$out" --size 1M extra
usage_case "verify without path" "no recording given" verify
usage_case "verify unknown option" "unknown option" verify "$out" --fast

fail_case "missing directory" "open $TMPDIR/no/such/u.dat: No such file or directory" \
	record -d sim -o "$TMPDIR/no/such/u.dat" --size 1M
usage_case "output is a directory" "$TMPDIR is a directory" \
	record -d sim -o "$TMPDIR" --size 1M
usage_case "output is a character device" "/dev/null is not a regular file or a block device" \
	record -d sim -o /dev/null --size 1M
fail_case "no such card" "/dev/dmakit-none" \
	record -d /dev/dmakit-none -o "$out" --size 1M
fail_case "verify a missing recording" "open $TMPDIR/none.dat.idx: No such file" \
	verify "$TMPDIR/none.dat"
t_check "nothing was created by the failed runs" test ! -e "$out"

"$DMAKIT" record --help >"$TMPDIR/out"
t_eq "record --help exits 0" "$?" 0
t_grep "record --help shows usage" "usage: dmakit record" "$TMPDIR/out"
"$DMAKIT" verify --help >"$TMPDIR/out"
t_eq "verify --help exits 0" "$?" 0
"$DMAKIT" bench --size 64M --json >"$TMPDIR/b.json"
t_eq "bench runs" "$?" 0
t_check "bench measures memcpy" test "$(json_get "$TMPDIR/b.json" memcpy_bytes_per_s | cut -d. -f1)" -gt 0
t_check "bench drains the ring" test "$(json_get "$TMPDIR/b.json" drain_bytes)" -ge $((64 << 20))
t_done
