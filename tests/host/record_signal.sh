#!/usr/bin/env bash
# SIGINT / SIGTERM in the middle of a recording stop it cleanly: exit 0,
# result "interrupted", and a recording that verifies.
# timeout: 120
. "$TOP/tests/host/lib.bash"

# wait until the index has at least $2 entries (up to 20 s)
wait_entries() {
	local i size
	for i in $(seq 200); do
		size=$(stat -c %s "$1" 2>/dev/null || echo 0)
		[ "$size" -ge $((256 + 64 * $2)) ] && return 0
		sleep 0.1
	done
	return 1
}

for case in INT:uring TERM:mmap INT:pwrite; do
	sig=${case%%:*} e=${case##*:}
	out=$TMPDIR/sig-$e.dat
	"$DMAKIT" record -d sim:policy=block,rate=100M -o "$out" --duration 60 \
		--engine "$e" 2>"$TMPDIR/err" >"$TMPDIR/out" &
	pid=$!
	t_check "$sig/$e: recording under way" wait_entries "$out.idx" 20
	t0=$(date +%s)
	kill -"$sig" "$pid"
	wait "$pid"
	rc=$?
	t1=$(date +%s)
	t_eq "$sig/$e: exits 0" "$rc" 0
	t_check "$sig/$e: stops promptly" test $((t1 - t0)) -le 10
	t_eq "$sig/$e: result interrupted" "$(json_get "$out.json" result)" interrupted
	t_grep "$sig/$e: says it was stopped" "interrupted" "$TMPDIR/err"
	t_check "$sig/$e: verify passes" "$DMAKIT" verify "$out" --quiet
	t_check "$sig/$e: index and metadata agree" dmakit_py check "$out"
	rm -f "$out"
done
t_done
