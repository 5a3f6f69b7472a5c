# The kernel's own DMA-API events as start and end: dma:dma_map_* (field
# dma_addr) paired with dma:dma_unmap_* (field addr) by address, sizes
# from "size", one device by filter and channel.  This machine's kernel
# has the events but its virtio devices bypass the DMA API, so none fire
# here: what is checked is that the session resolves the two field names
# and says how it pairs, and that a field missing on one side is refused.
# The scatterlist events (dma_map_sg / dma_unmap_sg) record arrays: the
# first entry's physical address pairs them (phys_addrs[0] = addrs[0]),
# the sum of lengths[] is the size; a whole array as a key is refused with
# the hint to name an element (reading is tested on records built byte by
# byte in tests/unit/test_trace_field.c, and on a real device in VM case
# 48-trace-dma-api).
# timeout: 60
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
if [ -d "$TRACEFS/events/dma/dma_map_phys" ]; then	# 6.18+
	map=dma_map_phys unmap=dma_unmap_phys
elif [ -d "$TRACEFS/events/dma/dma_map_page" ]; then	# 6.12
	map=dma_map_page unmap=dma_unmap_page
else
	t_skip "kernel without dma:* tracepoints (Linux 6.12+)"
fi
dev=0000:00:04.0
"$DMAKIT" trace --start "tp:dma:$map:device == \"$dev\"" \
	--end "tp:dma:$unmap:device == \"$dev\"" --pair-by dma_addr,addr \
	--bytes size --channel device --duration 0.3 \
	--summary-json "$TMPDIR/sum.json" >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "map/unmap by address: exit 0" "$?" 0
cat "$TMPDIR/err"
t_grep "the header says: id, dma_addr = addr, per device" \
	"^dmakit trace: pairing id \(dma_addr = addr\), channel device: as --pair-by and --channel ask" \
	"$TMPDIR/err"
t_grep "the filter is on the start" "start: +dma:$map if \(device == \"$dev\"\)" "$TMPDIR/err"
t_eq "summary: pairing id" "$(json_get "$TMPDIR/sum.json" pairing)" id

if [ -d "$TRACEFS/events/dma/dma_map_sg" ]; then
	"$DMAKIT" trace --start "tp:dma:dma_map_sg:device == \"$dev\"" \
		--end "tp:dma:dma_unmap_sg:device == \"$dev\"" \
		--pair-by 'phys_addrs[0],addrs[0]' --bytes lengths --channel device \
		--duration 0.3 --interval 0 --summary-json "$TMPDIR/sg.json" >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "map_sg/unmap_sg by an array element: exit 0" "$?" 0
	cat "$TMPDIR/err"
	t_grep "the header names the elements" \
		"^dmakit trace: pairing id \(phys_addrs\[0\] = addrs\[0\]\), channel device" \
		"$TMPDIR/err"
	t_eq "summary: pairing id" "$(json_get "$TMPDIR/sg.json" pairing)" id
fi

expect_refusal() {	# WHAT PATTERN ARGS...
	local what=$1 pat=$2
	shift 2
	"$DMAKIT" trace "$@" --duration 0.2 -q >/dev/null 2>"$TMPDIR/err"
	t_eq "$what: exit 1" "$?" 1
	t_grep "$what: message" "$pat" "$TMPDIR/err"
}
expect_refusal "one field for both sides" "tp:dma:$unmap has no numeric field 'dma_addr'" \
	--start "tp:dma:$map" --end "tp:dma:$unmap" --pair-by dma_addr
expect_refusal "--bytes of no event" "--bytes nosuch: no traced event has such a numeric field" \
	--start "tp:dma:$map" --end "tp:dma:$unmap" --pair-by dma_addr,addr --bytes nosuch
expect_refusal "an empty END_FIELD" "expected FIELD or START_FIELD,END_FIELD" \
	--start "tp:dma:$map" --end "tp:dma:$unmap" --pair-by dma_addr,
if [ -d "$TRACEFS/events/dma/dma_map_sg" ]; then
	expect_refusal "a whole array as the key" \
		"tp:dma:dma_map_sg has no numeric field 'dma_addrs' \(it is an array: name an element" \
		--start tp:dma:dma_map_sg --end tp:dma:dma_unmap_sg --pair-by dma_addrs,addrs
	expect_refusal "an element of a number" "has no numeric field 'full_nents\[0\]'" \
		--start tp:dma:dma_map_sg --end tp:dma:dma_unmap_sg --pair-by 'full_nents[0],addrs[0]'
	expect_refusal "a malformed index" "has no numeric field 'phys_addrs\[x\]'" \
		--start tp:dma:dma_map_sg --end tp:dma:dma_unmap_sg --pair-by 'phys_addrs[x],addrs[0]'
fi
expect_refusal "the same event twice" "is given twice" \
	--start "tp:dma:$map" --start "tp:dma:$map:size > 4096" --end "tp:dma:$unmap"
t_done
