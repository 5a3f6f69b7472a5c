# timeout: 1500
# Guest half of bench/vm-xfer.sh (runs as a VM case): transactions on the
# driver's sim card, card -> host, for each size, first on the segment
# engine (sim_xfer_chain=0: one start and one interrupt per DMA segment,
# what an engine without descriptor chains does with a user buffer that
# has no IOMMU to make it contiguous: a page each), then on the chained
# engine (a whole scatter-gather list per start).  Segments are a page
# (sim_xfer_seg=4096) on both; the chained engine's table holds 512
# descriptors (sim_xfer_chain=512: a 4 MiB list is two starts).  One "@@BENCH key=value..." line per
# measurement: starts and interrupts from the card's counters, CPU as the
# whole guest's busy time (/proc/stat), so the driver's work counts
# wherever it runs.
. /dmakit/lib.sh

total=${DMAKIT_BENCH_TOTAL:-128M}
sizes=$(echo "${DMAKIT_BENCH_SIZES:-4K,64K,1M,4M}" | tr , ' ')
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
secs() { awk -v t="$(($2 - $1))" 'BEGIN { printf "%.2f", t / 100 }'; }	# USER_HZ
bytes() { awk -v s="$1" 'BEGIN { n = s + 0; u = substr(s, length(s))
	m = (u == "K") ? 1024 : (u == "M") ? 1048576 : (u == "G") ? 1073741824 : 1; printf "%d", n * m }'; }
irqs() { awk '{ for (i = 1; i <= NF; i++) n += $i } END { print n + 0 }' "$1/interrupts"; }

for engine in segment chain; do
	case $engine in
	segment) load_dmakit sim_cardmem=4194304 sim_xfer_chain=0 || exit 1 ;;
	chain) load_dmakit sim_cardmem=4194304 sim_xfer_chain=512 || exit 1 ;;
	esac
	sim=$(card_dev sim)
	echo "@@INFO engine=$engine sim_xfer_chain=$(cat /sys/module/dmakit/parameters/sim_xfer_chain)"
	c=$(card_sys "$sim")/counters
	for size in $sizes; do
		count=$(($(bytes "$total") / $(bytes "$size")))
		[ "$count" -ge 1 ] || count=1
		i0=$(irqs "$c")
		s0=$(cat "$c/xfer_starts")
		c0=$(busy)
		dmakit xfer -d "$sim" --to-host --size "$size" --count "$count" --json -q >/tmp/x.json
		rc=$?
		c1=$(busy)
		s1=$(cat "$c/xfer_starts")
		i1=$(irqs "$c")
		echo "@@BENCH engine=$engine size=$(bytes "$size") rc=$rc transactions=$(json_get /tmp/x.json transactions) bytes=$(json_get /tmp/x.json bytes) seconds=$(json_get /tmp/x.json seconds) starts=$((s1 - s0)) irqs=$((i1 - i0)) cpu_s=$(secs "$c0" "$c1") lat_avg_us=$(json_get /tmp/x.json lat_avg_us)"
	done
done
unload_dmakit
echo "@@BENCH engine=done"
