#!/usr/bin/env bash
# policy=drop with a source that outruns the writer (tiny ring, rate=max):
# the producer drops buffers, and every one of them is counted in the
# metadata and appears as a gap; verify accepts the accounted gaps.
# timeout: 300
. "$TOP/tests/host/lib.bash"
check="$TOP/tests/host/recording_check.py"

# disk-bound engines: the page-cache ones can keep up with a small run
for e in uring pwrite; do
	out=$TMPDIR/drop-$e.dat
	"$DMAKIT" record -d sim:bufsize=64K,nbufs=4,policy=drop,rate=max \
		-o "$out" --size 32M --engine "$e" --json >"$TMPDIR/r.json"
	t_eq "$e: record exits 0" "$?" 0
	dropped=$(json_get "$out.json" dropped)
	gaps=$(json_get "$out.json" gaps)
	lost=$(json_get "$out.json" lost)
	t_check "$e: the producer dropped buffers ($dropped)" test "$dropped" -gt 0
	t_check "$e: drops appear as gaps ($gaps gaps, $lost lost)" \
		test "$gaps" -gt 0 -a "$lost" -gt 0
	# at most the buffers dropped after the last recorded one are not gaps
	t_check "$e: lost <= dropped" test "$lost" -le "$dropped"
	t_check "$e: buffers dropped after the last one are few" \
		test $((dropped - lost)) -le 64
	"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json"
	t_eq "$e: verify passes" "$?" 0
	t_eq "$e: verify reports the gaps" "$(json_get "$TMPDIR/v.json" gaps)" "$gaps"
	t_eq "$e: verify reports the drops" "$(json_get "$TMPDIR/v.json" dropped)" "$dropped"
	t_eq "$e: no unaccounted loss" "$(json_get "$TMPDIR/v.json" unaccounted)" 0
	# sequence numbers span exactly the recorded + lost buffers
	t_check "$e: seq continuity with lost counts (independent check)" \
		python3 "$check" "$out"
	rm -f "$out"
done
t_done
