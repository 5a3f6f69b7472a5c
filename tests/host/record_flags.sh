#!/usr/bin/env bash
# Every buffer the source published is accounted: empty (len 0), truncated
# and DMA-error buffers are recorded with their flags and counted in the
# metadata; verify reports them per kind and fails on a DMA error unless
# --allow-dma-errors.  (An empty descriptor used to lose its buffer:
# "1 buffers unaccounted".)
# timeout: 180
. "$TOP/tests/host/lib.bash"

for e in uring buffered; do
	# --size counts payload: 4 MiB takes 78 buffers (seq 0..77), empty
	# every 7th (11: 6..76), half-length every 11th (6 not empty: 76 is
	# both): 61 full + 6 halves = 64 x 64 KiB
	out=$TMPDIR/short-$e.dat
	t_check "$e: record empty and short buffers" "$DMAKIT" record -q \
		-d sim:bufsize=64K,nbufs=16,policy=block,empty_every=7,trunc_every=11 \
		-o "$out" --size 4M --engine "$e"
	t_eq "$e: all 78 recorded" "$(json_get "$out.json" buffers)" 78
	t_eq "$e: 4 MiB of payload" "$(json_get "$out.json" bytes)" 4194304
	t_eq "$e: empty counted" "$(json_get "$out.json" empty)" 11
	t_eq "$e: truncated counted" "$(json_get "$out.json" truncated)" 6
	"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json"
	t_eq "$e: verify passes" "$?" 0
	t_eq "$e: verify counts empty" "$(json_get "$TMPDIR/v.json" empty)" 11
	t_eq "$e: verify counts truncated" "$(json_get "$TMPDIR/v.json" truncated)" 6
	t_eq "$e: nothing unaccounted" "$(json_get "$TMPDIR/v.json" unaccounted)" 0
	t_check "$e: independent check" dmakit_py check "$out"
done

out=$TMPDIR/dmaerr.dat
t_check "record DMA-error buffers" "$DMAKIT" record -q \
	-d sim:bufsize=64K,nbufs=16,policy=block,dmaerr_every=13 -o "$out" --size 4M
t_eq "DMA errors counted" "$(json_get "$out.json" dma_errors)" 4
"$DMAKIT" verify "$out" >"$TMPDIR/v.out" 2>"$TMPDIR/v.err"
t_eq "verify fails on a DMA error" "$?" 1
t_grep "says which buffer" "seq 12 .*DMA error" "$TMPDIR/v.err"
t_grep "reports the kinds" "with a DMA error 4" "$TMPDIR/v.out"
t_check "--allow-dma-errors passes" "$DMAKIT" verify "$out" --allow-dma-errors --quiet
t_check "independent check" dmakit_py check "$out"
t_done
