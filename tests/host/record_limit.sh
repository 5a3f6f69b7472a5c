#!/usr/bin/env bash
# A file size limit (RLIMIT_FSIZE, "ulimit -f") ends a recording like a full
# disk: exit 1, a clear message, result disk-full, and everything written
# before the limit verifies.
# timeout: 120
. "$TOP/tests/host/lib.bash"

for e in uring pwrite buffered mmap; do
	out=$TMPDIR/limit-$e.dat
	( ulimit -f 16384	# 16 MiB
	  exec "$DMAKIT" record -d sim:nbufs=16,policy=block,rate=max \
		-o "$out" --size 64M --engine "$e" ) >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$e: exits 1" "$?" 1
	t_grep "$e: says why" "File too large" "$TMPDIR/err"
	t_grep "$e: says the rest is consistent" "consistent" "$TMPDIR/err"
	t_eq "$e: result disk-full" "$(json_get "$out.json" result)" disk-full
	t_eq "$e: everything up to the limit recorded" \
		"$(json_get "$out.json" buffers)" 32
	t_check "$e: buffers not written are counted" \
		test "$(json_get "$out.json" not_recorded)" -ge 1
	t_check "$e: verify passes" "$DMAKIT" verify "$out" --quiet
	t_check "$e: index and metadata agree" dmakit_py check "$out"
	rm -f "$out"
done

# the simulated ring itself is a memfd: the limit is reported, not a crash
( ulimit -f 16384; exec "$DMAKIT" record -d sim -o "$TMPDIR/x.dat" --size 1M ) \
	2>"$TMPDIR/err"
t_eq "ring larger than the limit: exit 1" "$?" 1
t_grep "ring larger than the limit: explained" "File too large" "$TMPDIR/err"
t_done
