#!/usr/bin/env bash
# Every number on the command line is range-checked, for every command
# that takes one: out of range is a usage error (exit 2) with a message,
# never a silent 0, a wrap-around or an overflowed deadline.  The issue's
# cases first: --duration 1e11 recorded nothing and said "complete" (exit
# 0); --size near 2^64 wrapped to "no limit".
# timeout: 300
. "$TOP/tests/host/lib.bash"
out=$TMPDIR/n.dat

usage_case() {	# DESCRIPTION MESSAGE-REGEX ARGS...
	local what=$1 msg=$2; shift 2
	"$DMAKIT" "$@" >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$what: exit 2" "$?" 2
	t_grep "$what: message" "$msg" "$TMPDIR/err"
	t_check "$what: no success on stdout" test ! -s "$TMPDIR/out"
}

rec=(record -d sim:policy=block,rate=max -o "$out")
usage_case "record --duration 1e11" "bad --duration '1e11' \(expected 1ms..1e9s" "${rec[@]}" --duration 1e11
usage_case "record --duration 1e9s+1" "bad --duration" "${rec[@]}" --duration 1000000001
usage_case "record --duration 20000000m" "bad --duration" "${rec[@]}" --duration 20000000m
usage_case "record --duration 0" "bad --duration" "${rec[@]}" --duration 0
usage_case "record --duration 1e-300" "bad --duration" "${rec[@]}" --duration 1e-300
usage_case "record --duration 0.5ms" "bad --duration" "${rec[@]}" --duration 0.5ms
usage_case "record --duration inf" "bad --duration" "${rec[@]}" --duration inf
usage_case "record --duration nan" "bad --duration" "${rec[@]}" --duration nan
usage_case "record --size 2^64-1" "bad --size '18446744073709551615' \(expected 1 byte..2\^60" \
	"${rec[@]}" --size 18446744073709551615
usage_case "record --size 2^64" "bad --size" "${rec[@]}" --size 18446744073709551616
usage_case "record --size 16777216T (2^64)" "bad --size" "${rec[@]}" --size 16777216T
usage_case "record --size 1048577T (over 2^60)" "bad --size" "${rec[@]}" --size 1048577T
usage_case "record --queue-depth 257" "bad --queue-depth '257' \(1..256\)" "${rec[@]}" --size 1M --queue-depth 257
usage_case "record --queue-depth 2^64+1" "bad --queue-depth" "${rec[@]}" --size 1M --queue-depth 18446744073709551617
t_check "no file was created by the refused runs" test ! -e "$out"

# the largest accepted values run and end as asked (no wrap to 0)
"$DMAKIT" record -d sim:bufsize=64K,nbufs=32,policy=block,rate=max,count=40 -o "$out" \
	--size 1048576T --duration 1e9 --quiet
t_eq "record --size 1048576T (2^60) --duration 1e9: runs until the source ends" "$?" 0
t_eq "... every buffer of the source recorded" "$(json_get "$out.json" buffers)" 40
t_eq "... source-ended" "$(json_get "$out.json" result)" source-ended
"$DMAKIT" record -d sim:bufsize=64K,policy=block,rate=max -o "$out" --size 1 --force --quiet
t_eq "record --size 1: one whole buffer" "$(json_get "$out.json" buffers)" 1

# device strings
usage_case "sim nbufs=2^32" "bad value '4294967296' for nbufs" \
	record -d sim:nbufs=4294967296 -o "$out" --size 1M --force
usage_case "sim bufsize=2^64" "bad value" \
	record -d sim:bufsize=18446744073709551616 -o "$out" --size 1M --force
usage_case "sim option given twice" "option 'nbufs' given twice" \
	record -d sim:nbufs=16,nbufs=32 -o "$out" --size 1M --force
usage_case "chardev option given twice" "option 'depth' given twice" \
	record -d chardev:/dev/zero,depth=2,depth=4 -o "$out" --size 1M --force
usage_case "sim stray comma" "an empty option in 'nbufs=16,,rate=1M'" \
	record -d sim:nbufs=16,,rate=1M -o "$out" --size 1M --force
usage_case "chardev trailing comma" "an empty option" \
	record -d chardev:/dev/zero,depth=2, -o "$out" --size 1M --force
# the same rule in every command that opens a device (--json: no object)
usage_case "send: sim option given twice" "option 'seed' given twice" \
	send -d sim:seed=1,seed=2 127.0.0.1:45999 --size 1M --json
usage_case "xfer: sim stray comma" "an empty option in 'seed=1,,rate=1M'" \
	xfer -d sim:seed=1,,rate=1M --to-host -s 4K --json
usage_case "xfer: sim bufsize=3" "bufsize must be a multiple of 4K" \
	xfer -d sim:bufsize=3 --to-host -s 4K --json
usage_case "chardev bufsize=1T: the range" "bad value '1T' for bufsize \(a multiple of 4K in 4K..64M\)" \
	record -d chardev:/dev/zero,bufsize=1T -o "$out" --size 1M --force
usage_case "chardev maxerr=0: the range" "bad value '0' for maxerr \(1..1000000\)" \
	record -d chardev:/dev/zero,maxerr=0 -o "$out" --size 1M --force
usage_case "sim rate=0" "rate must be > 0" record -d sim:rate=0 -o "$out" --size 1M --force
usage_case "sim rate=2^64" "bad value" record -d sim:rate=18446744073709551616 -o "$out" --size 1M --force
usage_case "sim xfer_lat over a minute" "bad value" record -d sim:xfer_lat=60000001 -o "$out" --size 1M --force

# the other commands
usage_case "send --duration 1e11" "bad duration '1e11' \(1ms..1e9s\)" send -d sim 127.0.0.1:9 --duration 1e11
usage_case "send --size 2^64-1" "bad size" send -d sim 127.0.0.1:9 --size 18446744073709551615
usage_case "send --timeout 2h" "bad timeout" send -d sim 127.0.0.1:9 --size 1M --timeout 2h
usage_case "send --sndbuf 2G" "bad sndbuf" send -d sim 127.0.0.1:9 --size 1M --sndbuf 2G
usage_case "recv --timeout 1e11" "bad --timeout '1e11' \(1ms..1d\)" recv -l 127.0.0.1:0 -o "$out" --timeout 1e11
usage_case "recv --idle-timeout 0" "bad --idle-timeout '0'" recv -l 127.0.0.1:0 -o "$out" --idle-timeout 0
usage_case "recv --queue-depth 0" "bad queue depth" recv -l 127.0.0.1:0 -o "$out" --queue-depth 0
usage_case "recv --buffers 4097" "bad buffer count" recv -l 127.0.0.1:0 -o "$out" --buffers 4097
usage_case "trace --duration 1e11" "bad --duration '1e11' \(1ms..1e9s\)" trace --start irq --end irq --duration 1e11
usage_case "trace --interval 1e11" "bad --interval" trace --start irq --end irq --interval 1e11
usage_case "trace --timeout 2^64 ms" "bad --timeout" trace --start irq --end irq --timeout 18446744073709551616ms
usage_case "trace --timeout 0" "bad --timeout '0' \(1ms..1h" trace --start irq --end irq --timeout 0
usage_case "trace --buffer-kb 2^64+1" "bad --buffer-kb" trace --start irq --end irq --buffer-kb 18446744073709551617
usage_case "xfer --size 2^64-1" "bad --size" xfer -d sim --to-host --size 18446744073709551615
usage_case "xfer --count 2^40" "bad --count" xfer -d sim --to-host --size 4K --count 1T
usage_case "xfer --card-addr 2^64-1" "bad --card-addr" xfer -d sim --to-host --size 4K --card-addr 18446744073709551615
usage_case "xfer --timeout 2^64 ms" "bad --timeout" xfer -d sim --to-host --size 4K --timeout 18446744073709551616ms
usage_case "bench --size 2^64-1" "bad --size" bench --size 18446744073709551615
usage_case "bench --bufsize 2^64" "bad --bufsize" bench --bufsize 18446744073709551616
t_done
