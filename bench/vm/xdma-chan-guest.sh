# timeout: 1500
# Guest half of bench/vm-xdma-chan.sh (runs as a VM case): the C2H ring of
# the XDMA model (sim_xdma=1 sim_xdma_channels=4), rate 0 (as fast as it
# goes), policy block (nothing lost), TOTAL bytes per channel, recorded to
# stdout into /dev/null: first channel 0 alone, then channels 0..3 at
# once.  One "@@BENCH key=value..." line per run: bytes and buffers from
# the channels' counters, drops, the wall time (/proc/uptime) and the whole
# guest's busy CPU time (/proc/stat), so the driver's and the model's work
# count wherever they run.
. /dmakit/lib.sh

total=${DMAKIT_BENCH_TOTAL:-256M}
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
now() { cut -d' ' -f1 /proc/uptime; }
# sum COUNTER NODE...: the counter summed over the nodes
sum() {
	local c=$1 n t=0
	shift
	for n in "$@"; do
		t=$((t + $(cat "$(card_sys "$n")/counters/$c")))
	done
	echo $t
}

load_dmakit sim_xdma=1 sim_xdma_channels=4 ring_nbufs=16 || exit 1
chans=
for d in /sys/class/dmakit/dmakit*; do
	[ "$(cat "$d/backend")" = xdma ] && chans="$chans /dev/${d##*/}"
done
set -- $chans
[ $# = 4 ] || { echo "@@BENCH channels=done error=only-$#-channels"; exit 1; }
for n in $chans; do
	s=$(card_sys "$n")
	set_ring 16 262144 block 0 || exit 1
done
for nch in 1 4; do
	set -- $chans
	use=
	while [ $nch -gt $(echo $use | wc -w) ]; do
		use="$use $1"
		shift
	done
	b0=$(sum bytes $use) k0=$(sum completed $use) d0=$(sum drops $use)
	c0=$(busy) t0=$(now)
	pids= rc=0
	for n in $use; do
		dmakit record -d "$n" -o - --size "$total" --quiet >/dev/null &
		pids="$pids $!"
	done
	for p in $pids; do
		wait $p || rc=$?
	done
	t1=$(now) c1=$(busy)
	b1=$(sum bytes $use) k1=$(sum completed $use) d1=$(sum drops $use)
	echo "@@BENCH channels=$nch rc=$rc bytes=$((b1 - b0)) buffers=$((k1 - k0)) drops=$((d1 - d0)) seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') cpu_s=$(awk -v t="$((c1 - c0))" 'BEGIN { printf "%.2f", t / 100 }')"
done
unload_dmakit
echo "@@BENCH channels=done"
