# timeout: 240
# The fault boot (debug kernel): the test build of dmakit.ko commits one
# deliberate bug per section, and the runner must report each one from
# the section's log alone.  Markers and reports go straight to the
# console so that they interleave with the kernel's own messages in time.
# "none" first (the same work without a bug: the runner must pass it),
# lock_order before use_after_free and atomic_sleep (lockdep switches
# itself off after its first report, and after a KASAN report; atomic_sleep
# makes one too: fs_reclaim under an irq-safe lock),
# leak_unmap last (its mappings stay in the DMA-API's table for good).
. /dmakit/lib.sh

for fault in none map_error lock_order use_after_free atomic_sleep leak_unmap; do
	{
		echo "@@FAULT-BEGIN $fault"
		dma_api_report base
		insmod /lib/modules/dmakit-faults.ko sim=1 ring_nbufs=8 fault=$fault
		echo "@@FAULT-INSMOD $fault rc=$?"
		# lock_order needs a card with a ring: the simulated one
		card=$(card_dev edu)
		[ $fault = lock_order ] && card=$(card_dev sim)
		dmakit xfer -d "$card" --from-host --size 2048 --count 2 --check -q
		echo "@@FAULT-XFER $fault rc=$?"
		final_rmmod
		dma_api_report
		echo "@@FAULT-END $fault"
	} >/dev/console 2>&1
done
