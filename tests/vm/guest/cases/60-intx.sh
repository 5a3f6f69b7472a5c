# timeout: 90
# INTx: with MSI refused (no_msi=1) the edu card uses its legacy
# interrupt line; transactions complete and every interrupt is counted.
. /dmakit/lib.sh

load_dmakit no_msi=1
edu=$(card_dev edu)
s=$(card_sys "$edu")
t_eq "irq_type" "$(cat "$s/irq_type")" intx
t_check "an IO-APIC line named ${edu##*/}" sh -c "grep -E 'IO-APIC.*${edu##*/}' /proc/interrupts"
n0=$(irq_count "${edu##*/}")
dmakit xfer -d "$edu" --from-host --size 3000 --count 3 --check -q
t_eq "round trips over INTx" $? 0
n1=$(irq_count "${edu##*/}")
t_check "6 DMA interrupts seen ($((n1 - n0)))" test $((n1 - n0)) -ge 6
t_check "rmmod" unload_dmakit
t_done
