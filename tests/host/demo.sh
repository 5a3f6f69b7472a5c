#!/usr/bin/env bash
# `make demo` as the README gives it, into DMAKIT_DEMO_DIR: exits 0 with
# a 2 GiB recording that verify and the independent reader accept; a
# second `make demo` replaces the first demo's recording.
# timeout: 600
. "$TOP/tests/host/lib.bash"
out=$TMPDIR/dmakit-demo.dat

for run in first second; do
	DMAKIT_DEMO_DIR=$TMPDIR make -s -C "$TOP" demo >"$TMPDIR/demo.out" 2>&1
	t_eq "$run make demo exits 0" "$?" 0
	t_grep "  says where the recording is" "demo: recording in $out" "$TMPDIR/demo.out"
	t_eq "  the recording holds 2 GiB" "$(stat -c %s "$out")" $((2 << 30))
	t_eq "  result complete, 4096 buffers of 512 KiB" \
		"$(json_get "$out.json" result) $(json_get "$out.json" buffers) $(json_get "$out.json" bufsize)" \
		"complete 4096 524288"
	t_check "  the independent reader accepts it" dmakit_py check "$out"
	"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json"
	t_eq "  verify: ok, every buffer, payload checked" \
		"$(json_get "$TMPDIR/v.json" ok) $(json_get "$TMPDIR/v.json" buffers) $(json_get "$TMPDIR/v.json" payload_checked)" \
		"true 4096 true"
	[ $run = first ] && stream=$(json_get "$out.json" stream_id)
done
t_check "the second demo's recording replaced the first's (a new stream)" \
	test "$(json_get "$out.json" stream_id)" != "$stream"
rm -f "$out" "$out.idx" "$out.json"
t_done
