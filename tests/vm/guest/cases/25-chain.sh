# timeout: 240
# Chained transactions: the simulated card's chain engine takes a whole
# mapped scatter-gather list per start and reports one completion for it,
# so a 1 MiB transaction (256 pages of 4 KiB, no IOMMU in front of the
# sim card) is one start and one interrupt; with a descriptor table of 16
# the core splits it into 16 starts; edu, a segment engine, takes one
# start and one interrupt per segment.  Data checked both ways, the host
# buffer aligned and not.
. /dmakit/lib.sh

counter() {	# SYSFS-DIR NAME
	cat "$1/counters/$2"
}
# interrupts on vector $2 of the card at $1
vec_irqs() {
	awk -v v="$2" '{ print $(v + 1) }' "$1/counters/interrupts"
}

# run "dmakit xfer ARGS..." on $dev; sets n_done, n_starts, n_irqs (vector
# $vec) to what it added to the card's counters
measure() {
	local d0 s0 i0
	d0=$(counter "$s" completed)
	s0=$(counter "$s" xfer_starts)
	i0=$(vec_irqs "$s" "$vec")
	dmakit xfer -d "$dev" -q "$@"
	rc=$?
	n_done=$(($(counter "$s" completed) - d0))
	n_starts=$(($(counter "$s" xfer_starts) - s0))
	n_irqs=$(($(vec_irqs "$s" "$vec") - i0))
}

# whole chains: the default descriptor table (512) holds a 1 MiB list
load_dmakit sim_xfer_chain=512
dev=$(card_dev sim)
s=$(card_sys "$dev")
vec=1
for dir in --to-host --from-host; do
	for off in 0 5; do
		measure $dir --size 1M --offset $off --count 4 --check
		t_eq "sim $dir 1 MiB (host offset $off): 4 transfers checked" $rc 0
		t_check "  transactions counted ($n_done)" test "$n_done" -ge 4
		t_eq "  one start per transaction" "$n_starts" "$n_done"
		t_eq "  one interrupt per transaction" "$n_irqs" "$n_done"
	done
done
measure --to-host --size 5000 --card-addr 1000 --offset 4000 --count 3 --check
t_eq "sim: 5000 bytes across three pages, odd card address" $rc 0
t_eq "  one start per transaction" "$n_starts" "$n_done"
t_eq "sim errors" "$(counter "$s" errors)" 0

# a table of 16 descriptors: the core splits the list, 16 starts per MiB
load_dmakit sim_xfer_chain=16
dev=$(card_dev sim)
s=$(card_sys "$dev")
measure --from-host --size 1M --count 2
t_eq "sim, 16 descriptors per start: 1 MiB from the host" $rc 0
t_eq "  16 starts per transaction" "$n_starts" $((16 * n_done))
t_eq "  16 interrupts per transaction" "$n_irqs" $((16 * n_done))
measure --to-host --size 1M --offset 5 --count 2 --check
t_eq "  1 MiB to the host, unaligned (257 pages), checked" $rc 0
t_eq "  17 starts per transaction" "$n_starts" $((17 * n_done))

# edu moves one segment per start: a buffer across two pages is one or two
# DMA segments -- one where the two pages are next to each other in
# physical memory (the scatterlist joins them; stock-6.12 plain: 4 starts
# for 3 transactions) or the IOMMU maps them contiguously
dev=$(card_dev edu)
s=$(card_sys "$dev")
vec=0
measure --to-host --size 4095 --offset 2048 --count 3 --check
t_eq "edu: 4095 bytes across two pages, checked" $rc 0
t_check "  a start per DMA segment ($n_starts for $n_done)" \
	test "$n_starts" -ge "$n_done" -a "$n_starts" -le $((2 * n_done))
t_eq "  one interrupt per start" "$n_irqs" "$n_starts"
t_done
