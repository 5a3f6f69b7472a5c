# timeout: 600
# The streaming ring on the register-level XDMA model (sim_xdma=1), driven
# by the xdma backend through its registers only: the backend builds
# PG195 descriptor chains in coherent memory, the model's engines fetch
# them by bus address, move the stream, write the C2H writebacks and the
# completed-descriptor count, and interrupt per channel.  The same ring
# suite as 30-ring and 32-ring-table (every byte and CRC, sequence and
# gaps under policy drop, the device clock at a paced rate, consumers,
# restart, zero-copy I/O, the card unbound under a reader), a recording
# that verifies, the dmakit tracepoints for every buffer, the recording
# played back into the H2C channel (the sink's bytes, buffers and CRC32C
# equal the recording's), and the negative checks: a descriptor fetched
# with a bad magic is reported as a DMA error (no data, no gap) in both
# directions, a stop of the busy engine is bounded and nothing completes
# after it.
. /dmakit/lib.sh

load_dmakit sim_xdma=1
xd=$(card_dev xdma)
t_check "an xdma card ($xd)" test -n "$xd"
s=$(card_sys "$xd")
t_eq "  on the model's platform device" \
	"$(basename "$(readlink -f "$s/device")")" dmakit-xdma.0
t_eq "  the sim card is still there, unchanged" "$(cat "$(card_sys "$(card_dev sim)")/backend")" sim
# its two vectors (H2C 0, C2H 0): interrupts of their own, requested
for v in h2c0 c2h0; do
	t_eq "  its vector dmakit-xdma.0-$v in /proc/interrupts" \
		"$(irq_lines dmakit-xdma.0-$v)" 1
done
t_eq "  no shared one" "$(irq_lines dmakit-xdma.0-shared)" 0

VM_RING_PLATFORM="dmakit-xdma dmakit-xdma.0" vm_ring "$xd" /dev/vda
t_eq "vm_ring on the XDMA engine" $? 0
xd=$(card_dev xdma)
s=$(card_sys "$xd")
t_check "xdma card back after rebind" test -e "$s"
t_eq "  no DMA errors counted" "$(cat "$s/counters/errors")" 0

# pausable (AXI-ST back-pressure): a gap would be the driver's fault
t_check "ring: 16 x 256 KiB, block, max rate" set_ring 16 262144 block 0
dmakit record -d "$xd" -o /mnt/x1.dat --size 16M --json --quiet >/tmp/x1.json
t_eq "record 16 MiB" $? 0
t_eq "  result" "$(json_get /tmp/x1.json result)" complete
t_eq "  buffers, none lost or flagged" \
	"$(json_get /tmp/x1.json buffers) $(json_get /tmp/x1.json lost) $(json_get /tmp/x1.json dma_errors)" "64 0 0"
dmakit verify /mnt/x1.dat --json >/tmp/xv1.json
t_eq "verify" $? 0
t_eq "  payload checked word by word" "$(json_get /tmp/xv1.json payload_checked)" true
t_eq "  no gaps" "$(json_get /tmp/xv1.json gaps)" 0

# tracing works unchanged: dmakit:dma_submit/dma_complete for every ring
# buffer of the XDMA card (a tracefs instance of this case's own)
I=/sys/kernel/tracing/instances/dmakit-xdma36
mkdir -p "$I"
t_check "tracefs instance for this case" test -d "$I/events/dmakit"
echo 1 >"$I/events/dmakit/enable"
vm_consume "$xd" 20 >/dev/null
t_eq "twenty ring buffers consumed while tracing" $? 0
echo 0 >"$I/events/dmakit/enable"
name=${xd##*/}
grep "dev=$name " "$I/trace" >/tmp/xt.txt
sub=$(grep -c " dma_submit: .*channel=0 " /tmp/xt.txt)
cmp=$(grep -c " dma_complete: .*channel=0 .*status=0" /tmp/xt.txt)
t_check "  dma_submit for each buffer ($sub)" test "$sub" -ge 20
t_check "  dma_complete with status 0 for each ($cmp)" test "$cmp" -ge 20
t_eq "  no completion with an error status" \
	"$(grep " dma_complete: " /tmp/xt.txt | grep -vc "status=0")" 0
rmdir "$I"

# host to card: the recording played into the H2C channel's sink, which
# must receive exactly its payload (vm_crc32c: its own reading and table)
vm_crc32c /mnt/x1.dat /mnt/x1.dat.idx >/tmp/x1.crc
t_eq "  its payload's CRC32C, computed independently" $? 0
read -r want_crc want_bytes want_bufs <<EOT
$(sed 's/[a-z0-9]*=//g' /tmp/x1.crc)
EOT
dmakit play -d "$xd" --json /mnt/x1.dat >/tmp/xp1.json
t_eq "play it into the card (H2C ring)" $? 0
t_eq "  result" "$(json_get /tmp/xp1.json result)" complete
t_eq "  the card took every buffer" \
	"$(json_get /tmp/xp1.json buffers) $(json_get /tmp/xp1.json bytes)" "64 16777216"
t_eq "  and checked each one's CRC against the recording's" \
	"$(json_get /tmp/xp1.json card_crc_checked) $(json_get /tmp/xp1.json card_crc_mismatches)" "64 0"
t_eq "the sink received exactly the recording (bytes, buffers, CRC32C)" \
	"$(cat $s/h2c/bytes) $(cat $s/h2c/buffers) $(cat $s/h2c/crc32c)" \
	"$want_bytes $want_bufs $want_crc"
t_eq "  the ring went back to C2H with the last close" "$(cat $s/direction)" c2h

rm -f /mnt/x1.* /tmp/x1.crc

# stop the engine while it streams (1 MiB buffers at full speed: the
# recorder's stop lands mid-buffer; 4 MiB in all fits swiotlb's pool):
# bounded, nothing completes after it
t_check "ring: 4 x 1 MiB, block, max rate" set_ring 4 1048576 block 0
dmakit record -d "$xd" -o /mnt/x3.dat --size 6M --quiet
t_eq "record 6 MiB in 1 MiB buffers" $? 0
c1=$(cat "$s/counters/completed")
t_eq "  state" "$(cat "$s/state")" stopped
# an observation window, not a wait: nothing may happen in it
sleep 1
t_eq "  no completion after the stop" "$(cat "$s/counters/completed")" "$c1"
dmakit verify /mnt/x3.dat --json >/tmp/xv3.json
t_eq "  verify" $? 0
rm -f /mnt/x3.*


# the same IP built for AXI-MM (sim_xdma_mm=1): card memory, transactions
# as chains of the same descriptors on the H2C and C2H channels
t_check "reload with sim_xdma_mm=1" load_dmakit sim_xdma=1 sim_xdma_mm=1
xd=$(card_dev xdma)
s=$(card_sys "$xd")
t_eq "an AXI-MM xdma card with 1 MiB of card memory" "$(cat "$s/card_mem_size")" 1048576
for dir in --to-host --from-host; do
	for off in 0 5; do
		dmakit xfer -d "$xd" $dir --size 512K --offset $off --card-addr 4096 \
			--count 4 --check -q
		t_eq "  xfer $dir, host offset $off: data checked" $? 0
	done
done
c0=$(cat "$s/counters/completed") x0=$(cat "$s/counters/xfer_starts")
dmakit xfer -d "$xd" --to-host --size 1M --check -q
t_eq "  1 MiB, all of card memory, in and back out, checked" $? 0
t_eq "    two transactions completed" $(($(cat "$s/counters/completed") - c0)) 2
t_check "    in chains of at most 64 descriptors ($(($(cat "$s/counters/xfer_starts") - x0)) starts)" \
	test $(($(cat "$s/counters/xfer_starts") - x0)) -ge 2
dmakit xfer -d "$xd" --to-host --size 8K --card-addr 1M -q 2>/dev/null
t_check "  past card memory: refused" test $? -ne 0

# The faults: the test build (DMAKIT_FAULTS=1) has the model's
# sim_xdma_bad_desc switch; the production module does not
# (host/driver_build checks).
DMAKIT_KO=$TEST_MOD load_dmakit sim_xdma=1
t_eq "reload the test build" $? 0
xd=$(card_dev xdma)
s=$(card_sys "$xd")
t_check "ring: 16 x 256 KiB, block, max rate" set_ring 16 262144 block 0
dmakit record -d "$xd" -o /mnt/x4.dat --size 4M --quiet
t_eq "record 4 MiB to play back (16 buffers)" $? 0

# a bad descriptor on the way out: that buffer is reported as not taken
e0=$(cat "$s/counters/errors") b0=$(cat "$s/h2c/buffers")
echo 1 >/sys/module/dmakit/parameters/sim_xdma_bad_desc
dmakit play -d "$xd" --json /mnt/x4.dat >/tmp/xp2.json
t_eq "play with one bad descriptor: exit status 1" $? 1
t_eq "  the fault was used" "$(cat /sys/module/dmakit/parameters/sim_xdma_bad_desc)" 0
t_eq "  the driver counted one error" "$(($(cat "$s/counters/errors") - e0))" 1
t_eq "  the player reports it" "$(json_get /tmp/xp2.json card_errors)" 1
t_check "  and the sink has one buffer less" \
	test "$(cat $s/h2c/buffers)" -eq $((b0 + 15))
rm -f /mnt/x4.*
t_check "  the busy engine stopped within its bound (no 'still busy')" \
	sh -c "! dmesg | grep -q 'still busy'"

# a descriptor fetched with a corrupted magic: the engine stops with
# magic-stopped; that buffer is a DMA error (no data), the stream goes on
e0=$(cat "$s/counters/errors")
echo 1 >/sys/module/dmakit/parameters/sim_xdma_bad_desc
dmakit record -d "$xd" -o /mnt/x2.dat --size 4M --json --quiet >/tmp/x2.json
t_eq "record with one bad descriptor" "$(json_get /tmp/x2.json result)" complete
t_eq "  the fault was used" "$(cat /sys/module/dmakit/parameters/sim_xdma_bad_desc)" 0
t_eq "  one buffer flagged as a DMA error" "$(json_get /tmp/x2.json dma_errors)" 1
t_eq "  the driver counted it" "$(($(cat "$s/counters/errors") - e0))" 1
t_check "  and said why" sh -c "dmesg | grep -q 'C2H engine stopped, status 0x10 '"
dmakit verify /mnt/x2.dat --json >/tmp/xv2.json
t_eq "  verify fails on it" $? 1
t_eq "  as a DMA error, no payload or CRC error, no gap" \
	"$(json_get /tmp/xv2.json dma_errors) $(json_get /tmp/xv2.json payload_errors) $(json_get /tmp/xv2.json crc_errors) $(json_get /tmp/xv2.json gaps)" \
	"1 0 0 0"
rm -f /mnt/x2.*

DMAKIT_KO=$TEST_MOD load_dmakit sim_xdma=1 sim_xdma_mm=1
t_eq "reload the test build, AXI-MM" $? 0
xd=$(card_dev xdma)
s=$(card_sys "$xd")
e0=$(cat "$s/counters/errors")
echo 1 >/sys/module/dmakit/parameters/sim_xdma_bad_desc
dmakit xfer -d "$xd" --from-host --size 64K -q 2>/tmp/xx.err
t_check "  a bad descriptor: the transaction fails" test $? -ne 0
t_eq "    the fault was used" "$(cat /sys/module/dmakit/parameters/sim_xdma_bad_desc)" 0
t_eq "    the driver counted one error" "$(($(cat "$s/counters/errors") - e0))" 1
dmakit xfer -d "$xd" --from-host --size 64K --check -q
t_eq "  and the card works on" $? 0
t_check "rmmod" unload_dmakit
t_eq "  its vectors are gone from /proc/interrupts" \
	"$(grep -c 'dmakit-xdma' /proc/interrupts)" 0

# reloads leave no interrupt behind: each vector is an IRQ descriptor
# (/sys/kernel/irq) only while its card is there
nirq() {
	ls /sys/kernel/irq | wc -l
}
n0=$(nirq)
# small rings: the debug VM's memory and swiotlb's bounce pool
t_check "load without XDMA cards" load_dmakit ring_nbufs=8
nb=$(nirq)
for r in 1 2 3; do
	t_check "reload $r: two XDMA cards of two channels" \
		load_dmakit sim_xdma=2 sim_xdma_channels=2 ring_nbufs=8
	t_eq "  8 interrupts more, each card's 4 in /proc/interrupts" \
		"$(($(nirq) - nb)) $(grep -Ec ' dmakit-xdma\.0-(h2c|c2h)[01]$' /proc/interrupts) $(grep -Ec ' dmakit-xdma\.1-(h2c|c2h)[01]$' /proc/interrupts)" \
		"8 4 4"
	t_check "  rmmod" unload_dmakit
	t_eq "  no interrupt left behind" "$(nirq) $(grep -c dmakit-xdma /proc/interrupts)" "$n0 0"
done
t_done
