# timeout: 180
# Probe and remove: dmakit.ko loads, creates one card per simulated card
# and per edu device, exposes them in sysfs, and unloads cleanly, again
# and again.
. /dmakit/lib.sh

for round in 1 2; do
	t_check "round $round: insmod" load_dmakit
	sim=$(card_dev sim)
	edu=$(card_dev edu)
	t_check "round $round: sim card ($sim)" test -c "$sim"
	t_check "round $round: edu card ($edu)" test -c "$edu"
	[ "$round" = 1 ] || { t_check "round $round: rmmod" unload_dmakit; continue; }

	s=$(card_sys "$edu")
	t_eq "edu dma_mask_bits" "$(cat "$s/dma_mask_bits")" 28
	t_eq "edu card_mem_size (4 KiB window, last byte unreachable in QEMU 7.2)" \
		"$(cat "$s/card_mem_size")" 4095
	t_eq "edu irq_type" "$(cat "$s/irq_type")" msi
	t_eq "edu ring idle" "$(cat "$s/state")" idle
	t_eq "edu's own small ring (8 x 16 KiB, not the module parameters')" \
		"$(cat "$s/ring_nbufs") $(cat "$s/ring_bufsize")" "8 16384"
	t_check "edu is a child of its PCI device" \
		test "$(readlink -f "$s/device")" = "$(readlink -f /sys/bus/pci/devices/$(edu_bdf))"
	t_check "edu self-test interrupt counted" test "$(cat "$s/counters/interrupts")" -ge 1
	s=$(card_sys "$sim")
	t_eq "sim dma_mask_bits" "$(cat "$s/dma_mask_bits")" 64
	t_eq "sim ring idle" "$(cat "$s/state")" idle
	t_eq "sim ring_nbufs from the module parameter" "$(cat "$s/ring_nbufs")" 32
	t_eq "sim ring_bufsize default" "$(cat "$s/ring_bufsize")" 262144
	t_eq "sim counters start at 0" "$(cat "$s/counters/submitted") $(cat "$s/counters/drops")" "0 0"
	t_eq "sim has two vectors" "$(cat "$s/counters/interrupts")" "0 0"
	# reconfigure while idle; refuse bad geometry
	t_check "ring_nbufs settable when idle" sh -c "echo 16 > $s/ring_nbufs"
	t_eq "ring_nbufs now" "$(cat "$s/ring_nbufs")" 16
	t_check "bad bufsize refused" sh -c "! echo 1000 > $s/ring_bufsize"
	t_check "bad policy refused" sh -c "! echo sometimes > $s/policy"
	t_check "rmmod" unload_dmakit
	t_check "devices gone after rmmod" test ! -e "$sim" -a ! -e "$edu" -a ! -e /sys/class/dmakit
done

# a device that addresses 48 bits gets a 48-bit mask (not 32)
t_check "insmod sim_dma_bits=48" load_dmakit sim_dma_bits=48
t_eq "sim dma_mask_bits with a 48-bit limit" "$(cat "$(card_sys "$(card_dev sim)")/dma_mask_bits")" 48
t_check "rmmod" unload_dmakit

# a ring whose control pages cannot be mapped: the card fails its probe
# (the test build's hook), it does not come up without a ring -- both
# cards have one
DMAKIT_KO=$TEST_MOD load_dmakit fault=ring_vmap
t_eq "insmod the test build, fault=ring_vmap" $? 0
t_check "  no sim card" test -z "$(card_dev sim)"
t_check "  its probe failed with ENOMEM" sh -c 'dmesg | grep -q "dmakit-sim.*failed with error -12"'
t_check "  no edu card either" test -z "$(card_dev edu)"
t_check "  its probe failed with ENOMEM" sh -c "dmesg | grep -q '$(edu_bdf).*failed with error -12'"
t_check "rmmod" unload_dmakit

# a bad module parameter fails the load cleanly
t_check "insmod with a bad ring size fails" sh -c "! insmod $MOD sim=1 ring_bufsize=1000 2>/dev/null"
t_check "and leaves nothing behind" test ! -e /sys/module/dmakit
t_done
