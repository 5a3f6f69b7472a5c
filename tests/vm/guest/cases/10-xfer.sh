# timeout: 240
# Transactions on QEMU's edu device and on the simulated card: round trips
# with data checked (sizes, card offsets, unaligned buffers), timeout,
# partial completion, many outstanding; dmakit xfer; MSI counted.
. /dmakit/lib.sh

load_dmakit
edu=$(card_dev edu)
sim=$(card_dev sim)
s=$(card_sys "$edu")
irq_name=${edu##*/}

msi0=$(irq_count "$irq_name")
cnt0=$(cat "$s/counters/interrupts")
done0=$(cat "$s/counters/completed")
vm_xfer "$edu" edu
t_eq "vm_xfer on edu" $? 0
vm_xfer "$sim" sim
t_eq "vm_xfer on sim" $? 0

dmakit xfer -d "$edu" --from-host --size 2048 --count 3 --check -q
t_eq "dmakit xfer --from-host --check on edu" $? 0
dmakit xfer -d "$edu" --to-host --size 4095 --offset 5 --count 2 --check -q
t_eq "dmakit xfer --to-host --check on edu (unaligned)" $? 0
dmakit xfer -d "$sim" --to-host --size 256K --count 20 --check -q
t_eq "dmakit xfer on sim" $? 0
dmakit xfer -d "$edu" --from-host --size 4096 2>/tmp/err
t_eq "dmakit xfer: too big for card memory is a usage failure" $? 1
t_check "  with a clear message" grep -q "do not fit the card's 4095-byte memory" /tmp/err

msi1=$(irq_count "$irq_name")
cnt1=$(cat "$s/counters/interrupts")
done1=$(cat "$s/counters/completed")
ndone=$((done1 - done0))
t_check "edu transactions counted ($ndone)" test "$ndone" -ge 20
t_check "edu MSI interrupts in /proc/interrupts ($((msi1 - msi0)) for $ndone transactions)" \
	test $((msi1 - msi0)) -ge "$ndone"
t_eq "sysfs interrupt count matches /proc/interrupts" $((cnt1 - cnt0)) $((msi1 - msi0))
t_eq "edu errors" "$(cat "$s/counters/errors")" 0
t_check "edu bytes counted" test "$(cat "$s/counters/bytes")" -gt 0
t_check "timeouts counted" test "$(cat "$s/counters/timeouts")" -ge 1
t_done
