# timeout: 240
# The simulated card's streaming ring through /dev/dmakitN: payload and
# CRC of every buffer, policies, rate, consumers, restart, wakeups, zero-
# copy I/O from the ring pages, the card unbound under a reader.
. /dmakit/lib.sh

load_dmakit
sim=$(card_dev sim)
vm_ring "$sim" /dev/vda
t_eq "vm_ring" $? 0
s=$(card_sys "$(card_dev sim)")
t_check "sim card back after rebind" test -e "$s"
t_eq "no DMA errors counted" "$(cat "$s/counters/errors" 2>/dev/null)" 0
t_done
