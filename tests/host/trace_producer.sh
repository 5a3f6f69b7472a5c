#!/usr/bin/env bash
# USDT probes of the producer API: dmakit:producer_claim and
# dmakit:producer_publish in a producer program (examples/producer, which
# links libdmakit statically), traced with `dmakit trace` while a recorder
# consumes the ring: every published buffer is one transaction, paired by
# its sequence number, none left unpaired.
# timeout: 180
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
P=$TOP/build/examples/producer
NAME=t$$-usdt
cd "$TMPDIR" || exit 1

start_tracer --start "usdt:$P:dmakit:producer_claim" \
	--end "usdt:$P:dmakit:producer_publish" --interval 0 \
	--summary-json "$TMPDIR/sum.json" ||
	{ t_check "tracer starts" false; t_done; }
"$P" -c 1 "$NAME" 200 >prod.out 2>&1 &
PROD=$!
for _ in $(seq 300); do
	[ -e "/dev/shm/dmakit-app.$NAME" ] &&
		! flock -n -s "/dev/shm/dmakit-app.$NAME" true 2>/dev/null && break
	sleep 0.1
done
"$DMAKIT" record -q -d "app:$NAME" -o rec.dat --size 1G 2>/dev/null
t_eq "record exits 0" "$?" 0
wait "$PROD"; t_eq "producer exits 0" "$?" 0
stop_tracer
t_eq "tracer exit status" "$TRACER_RC" 0
cat "$TMPDIR/tracer.out" "$TMPDIR/tracer.err"
t_eq "pairing by id (the sequence number)" "$(json_get sum.json pairing)" id
t_eq "200 buffers filled and published" "$(json_get sum.json transactions)" 200
t_eq "no orphans" "$(json_get sum.json orphans)" 0
t_check "no instance or uprobe left behind" no_leftovers "$TRACER"
t_done
