# timeout: 900
# Several DMA channels per card: the XDMA model with four channels per
# direction (sim_xdma_channels=4), each found by the backend from its
# PG195 identifiers, each its own /dev/dmakitN (sysfs: channel, and the
# device link naming the one card) with its own ring, counters and
# vectors.  Four recordings at once each verify, and each came from its
# own channel (channel n's source numbers its packets from n << 40, so
# its payload is its own and a swapped channel is seen); each channel's
# interrupts rose with its own traffic only; the four recordings played
# back at once into the four H2C channels reach each channel's own sink;
# stopping one channel leaves the others streaming; the card unbound
# under four streams ends them (no oops; the runner checks DMA-API and
# lockdep on the debug kernel); with one vector for all channels
# (sim_xdma_vectors=1) the shared vector's handler serves every channel;
# built for AXI-MM, each channel's node runs its own transactions.
. /dmakit/lib.sh

# small rings: five of them must fit swiotlb's 16 MiB bounce pool
load_dmakit sim_xdma=1 sim_xdma_channels=4 ring_nbufs=8
t_eq "load with four XDMA channels" $? 0

# find_channels: c0..c3 = the /dev node of channel 0..3 of dmakit-xdma.0
find_channels() {
	local d k
	for k in 0 1 2 3; do
		eval "c$k="
	done
	for d in /sys/class/dmakit/dmakit*; do
		[ "$(cat "$d/backend")" = xdma ] || continue
		[ "$(basename "$(readlink -f "$d/device")")" = dmakit-xdma.0 ] || continue
		eval "c$(cat "$d/channel")=/dev/${d##*/}"
	done
	[ -n "$c0" ] && [ -n "$c1" ] && [ -n "$c2" ] && [ -n "$c3" ]
}
# chan K: the /dev node of channel K
chan() {
	eval "echo \$c$1"
}
# irqs K: "H2C C2H" interrupts counted on channel K
irqs() {
	cat "$(card_sys "$(chan "$1")")/counters/interrupts"
}

t_check "four nodes, channels 0..3 of dmakit-xdma.0" find_channels
t_eq "  and no other xdma node" \
	"$(grep -lx xdma /sys/class/dmakit/dmakit*/backend | wc -l)" 4
t_eq "  the sim card's channel is 0" \
	"$(cat "$(card_sys "$(card_dev sim)")/channel")" 0
for k in 0 1 2 3; do
	s=$(card_sys "$(chan $k)")
	t_check "ring of channel $k: 8 x 256 KiB, block, max rate" set_ring 8 262144 block 0
done
t_check "the kernel log names the channels" sh -c "dmesg | grep -q 'dmakit-xdma.0: 4 channels, 8 vectors'"

# its eight vectors, each an interrupt of its own in /proc/interrupts
for k in 0 1 2 3; do
	for d in h2c c2h; do
		t_eq "vector dmakit-xdma.0-$d$k in /proc/interrupts" \
			"$(irq_lines dmakit-xdma.0-$d$k)" 1
	done
done

# one channel alone: only its own C2H vector counts
for k in 0 1 2 3; do
	eval "i$k=\"\$(irqs $k)\""
	eval "q$k=\"\$(irq_count dmakit-xdma.0-c2h$k) \$(irq_count dmakit-xdma.0-h2c$k)\""
done
dmakit record -d "$(chan 2)" -o /mnt/alone.dat --size 4M --quiet
t_eq "record 4 MiB on channel 2 alone" $? 0
set -- $q2
t_check "  /proc/interrupts: dmakit-xdma.0-c2h2 rose with it ($(($(irq_count dmakit-xdma.0-c2h2) - $1)))" \
	test $(($(irq_count dmakit-xdma.0-c2h2) - $1)) -ge 16
t_eq "  /proc/interrupts: dmakit-xdma.0-h2c2 did not" "$(irq_count dmakit-xdma.0-h2c2)" "$2"
for k in 0 1 3; do
	t_eq "  /proc/interrupts: channel $k's vectors did not" \
		"$(irq_count dmakit-xdma.0-c2h$k) $(irq_count dmakit-xdma.0-h2c$k)" "$(eval "echo \$q$k")"
done
set -- $i2
a=$1 b=$2
set -- $(irqs 2)
t_eq "  channel 2's H2C vector: no interrupt" "$1" "$a"
# the handler counts its runs; an interrupt raised while its thread
# runs makes one more run, not one each (as on a card): per buffer is
# what /proc/interrupts counts below
t_check "  its C2H vector's handler ran ($(($2 - b)))" test $(($2 - b)) -ge 1
for k in 0 1 3; do
	t_eq "  channel $k's vectors: none (the work was channel 2's)" \
		"$(irqs $k)" "$(eval "echo \$i$k")"
done
t_eq "  its sequence numbers are channel 2's (2 << 40)" \
	"$(json_get /mnt/alone.dat.json first_seq)" $((2 << 40))
rm -f /mnt/alone.*

# four at once
for k in 0 1 2 3; do
	eval "i$k=\"\$(irqs $k)\""
	eval "q$k=\"\$(irq_count dmakit-xdma.0-c2h$k) \$(irq_count dmakit-xdma.0-h2c$k)\""
	dmakit record -d "$(chan $k)" -o /mnt/c$k.dat --size 8M --json --quiet >/tmp/c$k.json &
	eval "p$k=$!"
done
for k in 0 1 2 3; do
	wait "$(eval "echo \$p$k")"
	t_eq "channel $k: record 8 MiB while the others do" $? 0
done
for k in 0 1 2 3; do
	t_eq "  channel $k: complete, 32 buffers, none lost or flagged" \
		"$(json_get /tmp/c$k.json result) $(json_get /tmp/c$k.json buffers) $(json_get /tmp/c$k.json lost) $(json_get /tmp/c$k.json dma_errors)" \
		"complete 32 0 0"
	dmakit verify /mnt/c$k.dat --json >/tmp/cv$k.json
	t_eq "  channel $k: verify" $? 0
	t_eq "  channel $k: payload checked word by word, no gap" \
		"$(json_get /tmp/cv$k.json payload_checked) $(json_get /tmp/cv$k.json gaps)" "true 0"
	t_eq "  channel $k: its own stream (first sequence $k << 40)" \
		"$(json_get /mnt/c$k.dat.json first_seq)" $((k << 40))
	set -- $(eval "echo \$i$k")
	a=$1 b=$2
	set -- $(irqs $k)
	t_check "  channel $k: its C2H vector's handler ran ($(($2 - b)))" \
		test $(($2 - b)) -ge 1
	t_eq "  channel $k: its H2C vector nothing" "$1" "$a"
	set -- $(eval "echo \$q$k")
	t_check "  /proc/interrupts: dmakit-xdma.0-c2h$k one per buffer at least ($(($(irq_count dmakit-xdma.0-c2h$k) - $1)))" \
		test $(($(irq_count dmakit-xdma.0-c2h$k) - $1)) -ge 32
	t_eq "  /proc/interrupts: dmakit-xdma.0-h2c$k none" "$(irq_count dmakit-xdma.0-h2c$k)" "$2"
done
# a swap would show: no two recordings alike
t_check "the four recordings differ" sh -c \
	"! cmp -s /mnt/c0.dat /mnt/c1.dat && ! cmp -s /mnt/c1.dat /mnt/c2.dat && ! cmp -s /mnt/c2.dat /mnt/c3.dat && ! cmp -s /mnt/c0.dat /mnt/c3.dat"

# the four played back at once, each into its own channel's H2C sink
for k in 0 1 2 3; do
	vm_crc32c /mnt/c$k.dat /mnt/c$k.dat.idx | sed 's/[a-z0-9]*=//g' >/tmp/c$k.crc
	dmakit play -d "$(chan $k)" --json /mnt/c$k.dat >/tmp/cp$k.json &
	eval "p$k=$!"
done
for k in 0 1 2 3; do
	wait "$(eval "echo \$p$k")"
	t_eq "channel $k: play its recording while the others do" $? 0
done
for k in 0 1 2 3; do
	s=$(card_sys "$(chan $k)")
	read -r want_crc want_bytes want_bufs </tmp/c$k.crc
	t_eq "  channel $k's sink received exactly its recording" \
		"$(cat $s/h2c/bytes) $(cat $s/h2c/buffers) $(cat $s/h2c/crc32c)" \
		"$want_bytes $want_bufs $want_crc"
done
rm -f /mnt/c?.* /tmp/c?.crc

# stream K: a recorder on channel K (pid in $pK), to stdout, until stopped
stream() {
	dmakit record -d "$(chan $1)" -o - --duration 1h --quiet >/dev/null 2>/tmp/s$1.err &
	eval "p$1=$!"
}
# progressing K N: channel K completed N more buffers than at its mark
progressing() {
	test "$(cat "$(card_sys "$(chan $1)")/counters/completed")" -ge \
		$(($(eval "echo \$n$1") + $2))
}
mark() {
	eval "n$1=$(cat "$(card_sys "$(chan $1)")/counters/completed")"
}
for k in 0 1 2 3; do
	mark $k
	stream $k
done
for k in 0 1 2 3; do
	t_check "channel $k streams (120 s bound)" wait_for 120 progressing $k 16
done
kill -INT $p1
t_check "channel 1's recorder stops (60 s bound)" wait_for 60 sh -c "! kill -0 $p1 2>/dev/null"
wait $p1
t_eq "  it ended well" $? 0
t_check "  channel 1's ring stopped" wait_for 60 sh -c "test \"\$(cat $(card_sys "$(chan 1)")/state)\" = stopped"
for k in 0 2 3; do
	mark $k
done
for k in 0 2 3; do
	t_check "  channel $k goes on (120 s bound)" wait_for 120 progressing $k 16
	t_eq "  channel $k running" "$(cat "$(card_sys "$(chan $k)")/state")" running
done
mark 1
stream 1
t_check "channel 1 streams again (120 s bound)" wait_for 120 progressing 1 16

# the card unbound under four streams: every recorder ends
echo dmakit-xdma.0 >/sys/bus/platform/drivers/dmakit-xdma/unbind
t_check "card unbound under four streams" sh -c "! grep -qlx xdma /sys/class/dmakit/dmakit*/backend"
for k in 0 1 2 3; do
	t_check "  channel $k's recorder ends (60 s bound)" \
		wait_for 60 sh -c "! kill -0 $(eval "echo \$p$k") 2>/dev/null"
	wait "$(eval "echo \$p$k")"
	t_eq "  channel $k's recorder: exit 1 (device gone)" $? 1
done
t_check "  no 'still busy' engine" sh -c "! dmesg | grep -q 'still busy'"
echo dmakit-xdma.0 >/sys/bus/platform/drivers/dmakit-xdma/bind
t_check "the four channels back on bind" find_channels

# one vector for everything: the shared vector's handler serves each channel
t_check "reload with sim_xdma_vectors=1" \
	load_dmakit sim_xdma=1 sim_xdma_channels=4 sim_xdma_vectors=1 ring_nbufs=8
t_check "  four channels" find_channels
t_eq "  one vector in /proc/interrupts: dmakit-xdma.0-shared" \
	"$(irq_lines dmakit-xdma.0-shared) $(grep -Ec 'dmakit-xdma\.0-(h2c|c2h)' /proc/interrupts)" "1 0"
q=$(irq_count dmakit-xdma.0-shared)
for k in 0 1 2 3; do
	s=$(card_sys "$(chan $k)")
	t_check "ring of channel $k: block, max rate" set_ring 8 262144 block 0
	eval "i$k=\"\$(irqs $k)\""
	dmakit record -d "$(chan $k)" -o /mnt/v$k.dat --size 4M --quiet &
	eval "p$k=$!"
done
for k in 0 1 2 3; do
	wait "$(eval "echo \$p$k")"
	t_eq "channel $k on the shared vector: record 4 MiB" $? 0
	dmakit verify /mnt/v$k.dat >/dev/null
	t_eq "  verify" $? 0
	set -- $(eval "echo \$i$k")
	b=$2
	set -- $(irqs $k)
	t_check "  its own interrupts counted ($(($2 - b)))" test $(($2 - b)) -ge 1
done
t_check "  /proc/interrupts: the shared vector rose with the four ($(($(irq_count dmakit-xdma.0-shared) - q)))" \
	test $(($(irq_count dmakit-xdma.0-shared) - q)) -ge 64
rm -f /mnt/v?.*

# AXI-MM with two channels: each node runs its transactions on its own
# channel's engines (one card memory behind both)
t_check "reload with sim_xdma_mm=1 sim_xdma_channels=2" \
	load_dmakit sim_xdma=1 sim_xdma_mm=1 sim_xdma_channels=2
t_eq "  two xdma nodes" "$(grep -lx xdma /sys/class/dmakit/dmakit*/backend | wc -l)" 2
for d in /sys/class/dmakit/dmakit*; do
	[ "$(cat "$d/backend")" = xdma ] || continue
	k=$(cat "$d/channel")
	i0=$(cat "$d/counters/interrupts")
	dmakit xfer -d "/dev/${d##*/}" --to-host --size 256K --offset 3 --count 4 --check -q &&
		dmakit xfer -d "/dev/${d##*/}" --from-host --size 256K --count 4 --check -q
	t_eq "  channel $k: transactions both ways, data checked" $? 0
	t_check "  channel $k: its own vectors counted them ($i0 -> $(cat "$d/counters/interrupts"))" \
		test "$(cat "$d/counters/interrupts")" != "$i0"
done
t_check "rmmod" unload_dmakit
t_done
