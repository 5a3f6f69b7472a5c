#!/usr/bin/env bash
# policy=drop with a source that outruns the writer (tiny ring, rate=max):
# the producer drops buffers, and every one of them is counted in the
# metadata and appears as a gap; verify accepts the accounted gaps.
# timeout: 300
. "$TOP/tests/host/lib.bash"

# disk-bound engines: the page-cache ones can keep up with a small run
for e in uring pwrite; do
	out=$TMPDIR/drop-$e.dat
	"$DMAKIT" record -d sim:bufsize=64K,nbufs=4,policy=drop,rate=max \
		-o "$out" --size 32M --engine "$e" --json >"$TMPDIR/r.json"
	t_eq "$e: record exits 0" "$?" 0
	# the expected numbers come from the index's sequence numbers, read
	# by the independent reader (not from the metadata or verify)
	dmakit_py check "$out" >"$TMPDIR/idx.json"
	t_eq "$e: the independent reader accepts the recording" "$?" 0
	idx_gaps=$(json_get "$TMPDIR/idx.json" gaps)
	idx_lost=$(json_get "$TMPDIR/idx.json" lost)
	dropped=$(json_get "$out.json" dropped)
	echo "$e: index: $(json_get "$TMPDIR/idx.json" entries) buffers, $idx_gaps gaps, $idx_lost missing; metadata: dropped $dropped"
	t_check "$e: sequence numbers are missing from the index ($idx_lost in $idx_gaps gaps)" \
		test "$idx_gaps" -gt 0 -a "$idx_lost" -gt 0
	t_eq "$e: the metadata's gaps are the index's" "$(json_get "$out.json" gaps)" "$idx_gaps"
	t_eq "$e: the metadata's lost is the index's" "$(json_get "$out.json" lost)" "$idx_lost"
	# at most the buffers dropped after the last recorded one are not gaps
	t_check "$e: the producer's drop count covers every missing number ($dropped >= $idx_lost)" \
		test "$dropped" -ge "$idx_lost"
	t_check "$e: buffers dropped after the last one are few" \
		test $((dropped - idx_lost)) -le 64
	"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json"
	t_eq "$e: verify passes" "$?" 0
	t_eq "$e: verify reports the index's gaps" "$(json_get "$TMPDIR/v.json" gaps)" "$idx_gaps"
	t_eq "$e: no unaccounted loss" "$(json_get "$TMPDIR/v.json" unaccounted)" 0
	rm -f "$out"
done
t_done
