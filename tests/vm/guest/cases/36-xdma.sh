# timeout: 300
# The streaming ring on the register-level XDMA model (sim_xdma=1), driven
# by the xdma backend through its registers only: the backend builds
# PG195 descriptor chains in coherent memory, the model's engine fetches
# them by bus address, writes the stream, the C2H writebacks and the
# completed-descriptor count, and interrupts per channel.  The same ring
# suite as 30-ring and 32-ring-table (every byte and CRC, sequence and
# gaps under policy drop, the device clock at a paced rate, consumers,
# restart, zero-copy I/O, the card unbound under a reader), a recording
# that verifies, and the negative checks: a descriptor fetched with a bad
# magic is reported as a DMA error (no data, no gap), a stop of the busy
# engine is bounded and nothing completes after it.
. /dmakit/lib.sh

load_dmakit sim_xdma=1
xd=$(card_dev xdma)
t_check "an xdma card ($xd)" test -n "$xd"
s=$(card_sys "$xd")
t_eq "  on the model's platform device" \
	"$(basename "$(readlink -f "$s/device")")" dmakit-xdma.0
t_eq "  the sim card is still there, unchanged" "$(cat "$(card_sys "$(card_dev sim)")/backend")" sim

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
rm -f /mnt/x1.*
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

# stop the engine while it streams (4 MiB buffers at full speed: the
# recorder's stop lands mid-buffer): bounded, nothing completes after it
t_check "ring: 4 x 4 MiB, block, max rate" set_ring 4 4194304 block 0
dmakit record -d "$xd" -o /mnt/x3.dat --size 12M --quiet
t_eq "record 12 MiB in 4 MiB buffers" $? 0
c1=$(cat "$s/counters/completed")
t_eq "  state" "$(cat "$s/state")" stopped
# an observation window, not a wait: nothing may happen in it
sleep 1
t_eq "  no completion after the stop" "$(cat "$s/counters/completed")" "$c1"
dmakit verify /mnt/x3.dat --json >/tmp/xv3.json
t_eq "  verify" $? 0
rm -f /mnt/x3.*
t_check "ring back to 32 x 64 KiB" set_ring 32 65536 block 0

t_check "rmmod" unload_dmakit
t_done
