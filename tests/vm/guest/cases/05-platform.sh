# timeout: 60
# Each configuration is what it claims to be: no translation on plain;
# DMA remapping and interrupt remapping on q35 + intel-iommu (the edu
# device in an IOMMU group); every streaming mapping bounced with
# swiotlb=force (the ring's buffers occupy the bounce pool).
. /dmakit/lib.sh

bdf=$(edu_bdf)
t_check "edu device present ($bdf)" test -n "$bdf"
case $DMAKIT_VM_CONFIG in
plain)
	t_check "no IOMMU groups" test -z "$(ls /sys/kernel/iommu_groups 2>/dev/null)"
	t_check "swiotlb not forced" sh -c '! grep -q swiotlb=force /proc/cmdline'
	;;
iommu)
	t_check "edu in an IOMMU group" test -e "/sys/bus/pci/devices/$bdf/iommu_group"
	t_check "DMA remapping on" sh -c 'dmesg | grep -q "DMAR: Intel(R) Virtualization Technology for Directed I/O"'
	t_check "interrupt remapping on" sh -c 'dmesg | grep -q "Enabled IRQ remapping"'
	;;
swiotlb)
	used0=$(cat /sys/kernel/debug/swiotlb/io_tlb_used)
	# an unreadable debugfs would compare "" with "" below
	t_check "swiotlb use readable ('$used0')" sh -c "[ -n '$used0' ] && [ '$used0' -ge 0 ]"
	load_dmakit
	used1=$(cat /sys/kernel/debug/swiotlb/io_tlb_used)
	s=$(card_sys "$(card_dev sim)")
	# the whole ring held mapped, in 2 KiB slots
	want=$(( $(cat "$s/ring_nbufs") * $(cat "$s/ring_bufsize") / 2048 ))
	t_check "the ring is bounced: swiotlb slots in use $used0 -> $used1 (ring: $want)" \
		test $((used1 - used0)) -ge "$want"
	unload_dmakit
	t_eq "and returned when the module goes" "$(cat /sys/kernel/debug/swiotlb/io_tlb_used)" "$used0"
	;;
*)
	t_check "known configuration '$DMAKIT_VM_CONFIG'" false
	;;
esac
t_done
