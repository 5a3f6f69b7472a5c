#!/usr/bin/env bash
# One CLI (docs/cli.md): every command's options table (its --help, the one
# source of the man pages and completion) follows the shared rules, and
# runs prove them: time values take units, -q prints only errors, --json is
# one object whose "ok" agrees with the exit status also on failure,
# "-o -" streams to stdout where documented and is refused elsewhere, a
# bad HOST:PORT is a usage error.
# timeout: 600
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
cd "$TMPDIR" || exit 1

# --- the options tables -------------------------------------------------
python3 "$TOP/tests/host/cli_rules.py" "$DMAKIT" "$TOP/docs/cli.md" \
	"$TMPDIR/time_options" >"$TMPDIR/rules.out" 2>&1
rc=$?
grep -v '^ok - ' "$TMPDIR/rules.out"
t_eq "every --help follows the rules of docs/cli.md" "$rc" 0

# --- time values: one parser, units everywhere ---------------------------
# "--opt VALUE --zzz": getopt reaches --zzz only if VALUE was accepted
while read -r cmd opt; do
	for v in 250ms 2s 1m; do
		"$DMAKIT" "$cmd" "$opt" "$v" --zzz >/dev/null 2>"$TMPDIR/err"
		t_check "$cmd $opt $v is accepted" \
			grep -qxF "dmakit $cmd: unknown option '--zzz'" "$TMPDIR/err"
	done
	"$DMAKIT" "$cmd" "$opt" 3fortnights >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$cmd $opt 3fortnights: usage error" "$?" 2
	t_check "  naming the value" grep -q "'3fortnights'" "$TMPDIR/err"
	t_check "  nothing on stdout" test ! -s "$TMPDIR/out"
done <"$TMPDIR/time_options"
# a bare number was milliseconds in these: refused, naming the new form
for cmd in xfer trace; do
	"$DMAKIT" $cmd --timeout 500 >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$cmd --timeout 500 (was ms): usage error" "$?" 2
	t_check "  names 500ms" grep -q "500ms" "$TMPDIR/err"
done
"$DMAKIT" xfer -d sim --to-host --size 4K --timeout 0 -q
t_eq "xfer --timeout 0 means what it meant (do not wait)" "$?" 0
"$DMAKIT" xfer -d sim --to-host --size 4K -o 100 >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "xfer -o (was the offset): usage error" "$?" 2
t_check "  names --offset" grep -q -- "--offset" "$TMPDIR/err"
"$DMAKIT" xfer -d sim --to-host --size 4K -t 5000 >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "xfer -t (was the timeout in ms): usage error" "$?" 2
t_check "  names --timeout with a unit" grep -q -- "--timeout TIME, with a unit" "$TMPDIR/err"
"$DMAKIT" xfer -d sim --to-host --size 4K --offset 100 --timeout 2s -q
t_eq "xfer --offset and --timeout 2s work" "$?" 0

# --- -q: only errors --------------------------------------------------------
quiet_ok() {	# WHAT ARGS...: exit 0, nothing on stdout or stderr
	local what=$1; shift
	"$DMAKIT" "$@" >"$TMPDIR/q.out" 2>"$TMPDIR/q.err"
	t_eq "$what -q: exit 0" "$?" 0
	t_check "$what -q: nothing on stdout" test ! -s "$TMPDIR/q.out"
	t_check "$what -q: nothing on stderr" test ! -s "$TMPDIR/q.err"
	cat "$TMPDIR/q.err"
}
# sim drops nothing with policy=block; a recording with drops gives notices
quiet_ok record record -d sim:policy=drop,rate=2G -o q.dat --size 8M -q
quiet_ok verify verify q.dat -q
quiet_ok play play -d /dev/null q.dat -q
quiet_ok recover recover q.dat -q
quiet_ok xfer xfer -d sim --to-host --size 4K --count 3 -q
quiet_ok info info -q
quiet_ok pmu pmu -q
quiet_ok "pmu counting" pmu task-clock --interval 100ms -t 250ms -q
quiet_ok bench bench --size 1M -q
"$DMAKIT" info 0000:99:1f.7 -q >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "info -q of no device: exit 1" "$?" 1
t_check "  the error on stderr" grep -q "^dmakit info: " "$TMPDIR/err"
t_check "  nothing on stdout" test ! -s "$TMPDIR/out"
quiet_ok trace trace --start tp:syscalls:sys_enter_getppid \
	--end tp:syscalls:sys_exit_getppid --channel tid -t 300ms -q
"$DMAKIT" recv -l 127.0.0.1:0 --port-file "$TMPDIR/port" -o rx.dat -q \
	>"$TMPDIR/recv.out" 2>"$TMPDIR/recv.err" &
recv=$!
for _ in $(seq 600); do [ -s "$TMPDIR/port" ] && break; sleep 0.1; done
quiet_ok send send -d sim:policy=block "127.0.0.1:$(cat "$TMPDIR/port")" --size 4M -q
wait $recv
t_eq "recv -q: exit 0" "$?" 0
t_check "recv -q: nothing on stdout or stderr" \
	test ! -s "$TMPDIR/recv.out" -a ! -s "$TMPDIR/recv.err"
# and an error is still said
"$DMAKIT" verify nosuch.dat -q >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "verify -q of nothing: exit 1" "$?" 1
t_check "  the error on stderr" grep -q "^dmakit verify: " "$TMPDIR/err"
t_check "  nothing on stdout" test ! -s "$TMPDIR/out"

# --- --json: one object, "ok" agrees with the exit status -----------------
json_case() {	# WHAT EXPECTED-RC ARGS...
	local what=$1 want=$2 rc; shift 2
	"$DMAKIT" "$@" --json >"$TMPDIR/j.out" 2>"$TMPDIR/j.err"
	rc=$?
	t_eq "$what --json: exit $want" "$rc" "$want"
	python3 - "$TMPDIR/j.out" "$rc" "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
obj, end = json.JSONDecoder().raw_decode(text)   # one value, then nothing
assert not text[end:].strip(), "more than one value on stdout"
assert isinstance(obj, dict), "not an object"
assert obj["ok"] is (sys.argv[2] == "0"), "ok %r, exit %s" % (obj["ok"], sys.argv[2])
if not obj["ok"]:
    assert obj["error"], "a failure without an error"
    # send's result is how the stream ended: never "complete" on failure
    # (verify's is the recording's own, record's says finalized apart)
    if sys.argv[3] == "send":
        assert obj["result"] != "complete", "failed but complete"
PY
	t_eq "$what --json: one object, \"ok\" agrees" "$?" 0
}
json_case "record" 0 record -d sim:policy=block -o j.dat --size 1M
json_case "record of a missing directory" 1 record -d sim -o nodir/x.dat --size 1M
json_case "verify" 0 verify j.dat
json_case "verify of nothing" 1 verify nosuch.dat
for f in "" .idx .json; do cp "j.dat$f" "c.dat$f"; done
printf '\377' | dd of=c.dat bs=1 seek=1000 conv=notrunc status=none
json_case "verify of a corrupt recording" 1 verify c.dat
json_case "recover" 0 recover j.dat
json_case "play" 0 play -d /dev/null j.dat
json_case "play of a corrupt recording" 1 play -d /dev/null c.dat
json_case "play of nothing" 1 play -d /dev/null nosuch.dat
json_case "recover of nothing" 1 recover nosuch.dat
json_case "send to a closed port" 1 send -d sim 127.0.0.1:1 --size 1M
rm -f "$TMPDIR/port"
"$DMAKIT" recv -l 127.0.0.1:0 --port-file "$TMPDIR/port" -o rxj.dat --json \
	>"$TMPDIR/recv.json" 2>/dev/null &
recv=$!
for _ in $(seq 600); do [ -s "$TMPDIR/port" ] && break; sleep 0.1; done
json_case "send" 0 send -d sim:policy=block "127.0.0.1:$(cat "$TMPDIR/port")" --size 2M
wait $recv
t_eq "recv --json: exit 0" "$?" 0
t_eq "recv --json: one object, \"ok\" true" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ok"])' "$TMPDIR/recv.json")" True
json_case "recv nobody sends to" 1 recv -l 127.0.0.1:0 -o r.dat --timeout 200ms
json_case "xfer" 0 xfer -d sim --to-host --size 4K
json_case "xfer past card memory" 1 xfer -d sim --to-host --size 4K --card-addr 1G
json_case "trace" 0 trace --start tp:syscalls:sys_enter_getppid \
	--end tp:syscalls:sys_exit_getppid --channel tid -t 300ms
json_case "trace of no such event" 1 trace --start tp:nosuch:nosuch \
	--end tp:nosuch:nosuch -t 300ms
json_case "trace --cleanup" 0 trace --cleanup
json_case "info" 0 info
json_case "info of no device" 1 info 0000:99:1f.7
json_case "reg of no device" 1 reg 0000:99:1f.7 BAR0 0x0
json_case "pmu" 0 pmu
json_case "pmu counting" 0 pmu task-clock --interval 100ms -t 350ms
json_case "pmu of no PMU" 1 pmu nosuch_pmu/x/
json_case "bench" 0 bench --size 1M
json_case "bench of a missing source" 1 bench --size 1M -d chardev:/nonexistent
# usage errors print no JSON (documented): the line was not understood
"$DMAKIT" verify --json --bogus >"$TMPDIR/out" 2>/dev/null
t_eq "usage error with --json: exit 2" "$?" 2
t_check "  nothing on stdout" test ! -s "$TMPDIR/out"

# --- "-" is stdout where documented, refused elsewhere ----------------------
"$DMAKIT" record -d sim:policy=block -o - --size 4M >stream.bin 2>"$TMPDIR/err"
t_eq "record -o -: exit 0" "$?" 0
"$DMAKIT" record -d sim:policy=block -o file.dat --size 4M -q
t_check "record -o - gives the recording's bytes on stdout" cmp stream.bin file.dat
t_grep "  its summary on stderr" "streamed 4.00 MiB \(8 buffers\) to stdout" "$TMPDIR/err"
"$DMAKIT" record -d sim:policy=block -o - --size 1G 2>"$TMPDIR/err" | head -c 1000 >/dev/null
t_eq "record -o - into a reader that goes away: exit 1" "${PIPESTATUS[0]}" 1
t_grep "  saying so" "write: Broken pipe; [0-9]+ buffers streamed to stdout before" "$TMPDIR/err"
# SIGINT mid-stream: a clean end, whole buffers, the same bytes as a file
"$DMAKIT" record -d sim:policy=block,rate=20M -o - --duration 10m >sig.bin 2>"$TMPDIR/err" &
rec=$!
for _ in $(seq 600); do [ "$(stat -c %s sig.bin)" -ge 2097152 ] && break; sleep 0.1; done
kill -INT $rec
wait $rec
t_eq "record -o - stopped by SIGINT: exit 0" "$?" 0
size=$(stat -c %s sig.bin)
t_check "  whole 512 KiB buffers ($size bytes)" test "$size" -gt 0 -a $((size % 524288)) -eq 0
"$DMAKIT" record -d sim:policy=block -o sigref.dat --size "$size" -q
t_check "  the bytes a recording of that size holds" cmp sig.bin sigref.dat
# a reader slower than the card: the stream has gaps it cannot show, so says so
"$DMAKIT" record -d sim:policy=drop,rate=1G,nbufs=4,bufsize=64K -o - --size 32M \
	2>"$TMPDIR/drop.err" | { sleep 1; cat >/dev/null; }
t_eq "record -o - with drops: exit 0 (ended as asked)" "${PIPESTATUS[0]}" 0
t_grep "  a notice counts the gaps the bytes cannot show" \
	"notice: the stream on stdout has [1-9][0-9]* gaps" "$TMPDIR/drop.err"
refused() {	# WHAT ARGS...
	local what=$1; shift
	"$DMAKIT" "$@" >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$what: usage error" "$?" 2
}
refused "record -o - --json (stdout holds the data)" record -d sim -o - --size 1M --json
refused "record -o - --sidecar (no index in a stream)" record -d sim -o - --sidecar s --size 1M
refused "record --sidecar -" record -d sim -o x.dat --sidecar - --size 1M
refused "recv -o -" recv -l 127.0.0.1:0 -o -
refused "trace --summary-json -" trace --start tp:a:b --end tp:a:b --summary-json -
refused "trace --events - --json" trace --start tp:a:b --end tp:a:b --events - --json
# binary data is not written to a terminal (script(1) gives stdout a pty)
script -qec "'$DMAKIT' record -d sim -o - --size 1M" /dev/null >"$TMPDIR/out" 2>&1
t_eq "record -o - on a terminal: usage error" "$?" 2
t_grep "  saying why" "would write binary data to a terminal" "$TMPDIR/out"
t_check "no file named '-' anywhere" test -z "$(find "$TMPDIR" -name '-*')"
# trace --events -: one JSON line per transaction on stdout, report on stderr
"$DMAKIT" trace --start tp:syscalls:sys_enter_getppid \
	--end tp:syscalls:sys_exit_getppid --channel tid --interval 0 \
	--events - >"$TMPDIR/ev.out" 2>"$TMPDIR/ev.err" &
tracer=$!
wait_grep 'tracing\.\.\.' "$TMPDIR/ev.err" 60
python3 -c 'import os
for _ in range(200): os.getppid()'
wait_grep . "$TMPDIR/ev.out" 60
kill -INT $tracer
wait $tracer
t_eq "trace --events -: exit 0" "$?" 0
python3 - "$TMPDIR/ev.out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) >= 200 and all("latency_ns" in r for r in rows), len(rows)
PY
t_eq "  stdout holds only transactions, one JSON line each" "$?" 0
t_grep "  the report went to stderr" "transactions in" "$TMPDIR/ev.err"

# --- addresses --------------------------------------------------------------
for a in host:99999 :9000 127.0.0.1:x 9000 127.0.0.1:0 ::1:9000; do
	"$DMAKIT" send -d sim "$a" --size 1M >/dev/null 2>"$TMPDIR/err"
	t_eq "send to '$a': usage error" "$?" 2
done
for a in abc 1.2.3.4:99999 :9000 127.0.0.1:-1; do
	"$DMAKIT" recv -l "$a" -o r2.dat >/dev/null 2>"$TMPDIR/err"
	t_eq "recv -l '$a': usage error" "$?" 2
done
t_done
