#!/usr/bin/env bash
# policy=drop with a source that outruns the writer (tiny ring, rate=max):
# the producer drops buffers, and every one of them is counted in the
# metadata and appears as a gap; verify accepts the accounted gaps.
# The expected numbers come from the index's sequence numbers, read by the
# independent reader (not from the metadata or verify), and from the
# number of buffers the source is told to produce.
# timeout: 300
. "$TOP/tests/host/lib.bash"
N=4096		# buffers the counted source produces (each drop takes one)

# record_case ENGINE NAME LIMIT-ARGS...: record, read the index; sets
# idx_* (independent reader) and dropped (metadata)
record_case() {
	local e=$1 name=$2
	shift 2
	out=$TMPDIR/drop-$e-$name.dat
	"$DMAKIT" record -o "$out" --engine "$e" --json "$@" >"$TMPDIR/r.json"
	t_eq "$e $name: record exits 0" "$?" 0
	dmakit_py check "$out" >"$TMPDIR/idx.json"
	t_eq "$e $name: the independent reader accepts the recording" "$?" 0
	idx_entries=$(json_get "$TMPDIR/idx.json" entries)
	idx_gaps=$(json_get "$TMPDIR/idx.json" gaps)
	idx_lost=$(json_get "$TMPDIR/idx.json" lost)
	idx_last=$(json_get "$TMPDIR/idx.json" last_seq)
	dropped=$(json_get "$out.json" dropped)
	echo "$e $name: index: $idx_entries buffers, $idx_gaps gaps, $idx_lost missing, last seq $idx_last; metadata: dropped $dropped"
	t_check "$e $name: sequence numbers are missing from the index ($idx_lost in $idx_gaps gaps)" \
		test "$idx_gaps" -gt 0 -a "$idx_lost" -gt 0
	t_eq "$e $name: the metadata's gaps are the index's" "$(json_get "$out.json" gaps)" "$idx_gaps"
	t_eq "$e $name: the metadata's lost is the index's" "$(json_get "$out.json" lost)" "$idx_lost"
	# buffers dropped after the last recorded one are counted but are no
	# gap: how many depends on how long the writer took to stop
	t_check "$e $name: the producer's drop count covers every missing number ($dropped >= $idx_lost)" \
		test "$dropped" -ge "$idx_lost"
	"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json"
	t_eq "$e $name: verify passes" "$?" 0
	t_eq "$e $name: verify reports the index's gaps" "$(json_get "$TMPDIR/v.json" gaps)" "$idx_gaps"
	t_eq "$e $name: no unaccounted loss" "$(json_get "$TMPDIR/v.json" unaccounted)" 0
}

# disk-bound engines: the page-cache ones can keep up with a small run
for e in uring pwrite; do
	# stopped by size while the source still runs and drops
	record_case "$e" size -d sim:bufsize=64K,nbufs=4,policy=drop,rate=max \
		--size 32M
	rm -f "$out"
	# a source of N buffers recorded until it ends: every number is
	# known, whatever the machine's speed.  Each buffer is either in the
	# index or dropped, and the drops after the last recorded buffer are
	# exactly the numbers after it.
	record_case "$e" counted \
		-d sim:bufsize=64K,nbufs=4,policy=drop,rate=max,count=$N \
		--duration 10m
	t_eq "$e counted: the recording ends with the source" \
		"$(json_get "$out.json" result)" source-ended
	t_eq "$e counted: recorded + dropped = the buffers the source made" \
		$((idx_entries + dropped)) $N
	t_eq "$e counted: drops after the last recorded buffer = the numbers after it" \
		$((dropped - idx_lost)) $((N - 1 - idx_last))
	t_eq "$e counted: record's JSON names those drops after the last recorded buffer" \
		"$(json_get "$TMPDIR/r.json" dropped_after_last)" $((N - 1 - idx_last))
	t_eq "$e counted: verify's JSON names them too" \
		"$(json_get "$TMPDIR/v.json" dropped_after_last)" $((N - 1 - idx_last))
	rm -f "$out"
done
t_done
