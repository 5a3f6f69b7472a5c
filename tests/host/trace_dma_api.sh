# The kernel's own DMA-API events as start and end: dma:dma_map_* (field
# dma_addr) paired with dma:dma_unmap_* (field addr) by address, sizes
# from "size", one device by filter and channel.  This machine's kernel
# has the events but its virtio devices bypass the DMA API, so none fire
# here: what is checked is that the session resolves the two field names
# and says how it pairs, and that a field missing on one side is refused.
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
expect_refusal "the same event twice" "is given twice" \
	--start "tp:dma:$map" --start "tp:dma:$map:size > 4096" --end "tp:dma:$unmap"
t_done
