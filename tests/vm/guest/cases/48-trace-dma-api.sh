# timeout: 200
# The kernel's own DMA-API tracepoints as start and end (issue 12): where
# the kernel has dma:* (6.12+), dmakit.ko's transactions on edu map and
# unmap their host buffer once each; the map -> unmap pairs of the edu
# device, traced by `dmakit trace`, must be one per transaction, each
# inside the window the program measured for its call.  Before 6.12 the
# events do not exist: `dmakit trace` must say so and fail.
#
# The driver maps with dma_map_sgtable(), so the events that fire are
# dma_map_sg / dma_unmap_sg, whose addresses and lengths are arrays
# (phys_addrs[], dma_addrs[], lengths[]; the unmap records physical
# addresses, addrs[]): a mapping is paired with its unmapping by the first
# entry's physical address, phys_addrs[0] = addrs[0], and its size is the
# sum of lengths[] -- each pair must carry exactly the bytes of its call.
# A whole array as the key is refused with the hint to name an element.
. /dmakit/lib.sh
E=/sys/kernel/tracing/events/dma
P=/dmakit/bin/vm_xfer_threads
N=20

load_dmakit
edu=$(card_dev edu)
bdf=$(edu_bdf)
t_check "edu card ($edu at $bdf)" test -n "$edu" -a -n "$bdf"
filter="device == \"$bdf\""
ver=$(uname -r)
major=${ver%%.*}
minor=${ver#*.}
minor=${minor%%[!0-9]*}
echo "kernel $ver"

if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -lt 12 ]; }; then
	t_check "no dma:* tracepoints before 6.12 ($ver)" test ! -e "$E/dma_map_sg"
	dmakit trace --start "tp:dma:dma_map_sg:$filter" --end "tp:dma:dma_unmap_sg:$filter" \
		--duration 1 -q >/tmp/td.out 2>/tmp/td.err
	t_eq "dmakit trace fails on a missing event" $? 1
	cat /tmp/td.err
	t_check "and says the kernel has no such tracepoint" \
		grep -q '^dmakit trace: no tracepoint dma:dma_map_sg on this kernel' /tmp/td.err
	t_done
fi

for ev in dma_map_sg dma_unmap_sg; do
	t_check "$ev exists on $ver" test -r "$E/$ev/format"
	echo "$ev:"
	grep 'field:' "$E/$ev/format" | grep -v common_
done
t_check "dma_map_sg's addresses are an array" grep -q '__data_loc u64\[\] dma_addrs;' "$E/dma_map_sg/format"

dmakit trace --start "tp:dma:dma_map_sg:$filter" --end "tp:dma:dma_unmap_sg:$filter" \
	--pair-by dma_addrs,addrs --duration 1 -q >/tmp/td.out 2>/tmp/td.err
t_eq "--pair-by a whole array is refused" $? 1
t_check "with a message naming the field and how to name an element" \
	grep -q "has no numeric field 'dma_addrs' (it is an array: name an element" /tmp/td.err

tracer_up() {
	grep -q 'tracing\.\.\.' /tmp/td.err 2>/dev/null || ! kill -0 "$TRACER" 2>/dev/null
}
dmakit trace --start "tp:dma:dma_map_sg:$filter" --end "tp:dma:dma_unmap_sg:$filter" \
	--pair-by 'phys_addrs[0],addrs[0]' --bytes lengths --timeout 60s \
	--channel device --interval 0 --events /tmp/td.jsonl \
	--summary-json /tmp/td.json >/tmp/td.out 2>/tmp/td.err &
TRACER=$!
wait_for 120 tracer_up
t_check "tracer is tracing" grep -q 'tracing\.\.\.' /tmp/td.err
cat /tmp/td.err
t_check "the header says: by the first entry's address, per device" \
	grep -q '^dmakit trace: pairing id (phys_addrs\[0\] = addrs\[0\]), channel device: as --pair-by and --channel ask' /tmp/td.err

$P /tmp/td.calls "$N" 2048 "$edu"
t_eq "$N transactions on edu" $? 0
kill -INT "$TRACER"
wait "$TRACER"
t_eq "tracer exits 0 on SIGINT" $? 0
tail -n 3 /tmp/td.out

t_eq "the program logged every call" "$(wc -l </tmp/td.calls)" "$N"
t_eq "summary: one map per transaction" "$(json_get /tmp/td.json start_events)" "$N"
t_eq "summary: one unmap per transaction" "$(json_get /tmp/td.json end_events)" "$N"
t_eq "summary: transactions = calls" "$(json_get /tmp/td.json transactions)" "$N"
t_eq "summary: no orphans" "$(json_get /tmp/td.json orphans)" 0
t_eq "summary: no lost events" "$(json_get /tmp/td.json lost_events)" 0
t_check "every pair carries its call's 2048 bytes (the sum of lengths[])" awk '
	{ if (!match($0, /"bytes":[0-9]+/) || substr($0, RSTART + 8, RLENGTH - 8) != 2048) bad++; n++ }
	END { print n " pairs, " bad + 0 " without 2048 bytes"; exit bad || !n }' /tmp/td.jsonl
t_check "every map -> unmap positive and inside its call, one per call" awk '
	FNR == NR { n++; b[n] = $3; a[n] = $4; next }
	{ s = e = -1
	  if (match($0, /"start_ns":[0-9]+/)) s = substr($0, RSTART + 11, RLENGTH - 11) + 0
	  if (match($0, /"end_ns":[0-9]+/)) e = substr($0, RSTART + 9, RLENGTH - 9) + 0
	  hit = 0
	  for (i = 1; i <= n; i++)
		if (b[i] <= s && s < e && e <= a[i]) { hit = i; break }
	  if (!hit) { print "not positive or outside every call: " $0; bad++; next }
	  if (used[hit]++) { print "a second pair in one call: " $0; bad++ }
	  seen++ }
	END { print seen " pairs checked, " bad + 0 " problems"; exit bad || seen != n }
	' /tmp/td.calls /tmp/td.jsonl
t_done
