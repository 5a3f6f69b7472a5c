/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deliberate DMA-API, memory and locking bugs, to prove that the VM suite
 * on the debug kernel reports them.  Compiled only into test builds
 * (make -C driver DMAKIT_FAULTS=1, or the VM suite's fault boot): the
 * production module has neither the code nor the "fault" parameter.
 *
 *   fault=leak_unmap    a transaction's buffer is never unmapped: the
 *                       mapping outlives the driver
 *   fault=map_error     a mapping is used without dma_mapping_error()
 *   fault=atomic_sleep  a GFP_KERNEL allocation under a spinlock with
 *                       interrupts off (sleeping in atomic context)
 *   fault=use_after_free  a transaction reads a freed allocation (KASAN)
 *   fault=lock_order    a transaction on a card with a ring takes
 *                       ring->lock, then card->lock: the reverse of the
 *                       driver's order (lockdep: circular dependency)
 *   fault=ring_vmap     the ring's control pages cannot be vmap()ed
 *   fault=ring_wrong_dir  ring buffers mapped, synced and unmapped
 *                       DMA_TO_DEVICE (consistently: DMA-API debugging
 *                       cannot tell; an IOMMU's read-only mapping and
 *                       swiotlb's one-way bounce can)
 *   fault=ring_no_sync  a filled ring buffer is published without
 *                       dma_sync_sgtable_for_cpu() (swiotlb: the data
 *                       stays in the bounce buffer)
 *
 * Not bugs but hooks that make a rare path happen, to test it:
 *
 *   fault=abort_window  the watchdog, having given a hung engine up,
 *                       waits before it stops it until the hung segment
 *                       has ended (the race of a late completion)
 *   fault=close_nowait  closing a file does not wait for its running
 *                       transaction (as after the 30 s bound)
 *
 * And a switch per PCI card, debugfs dmakit/<pci address>/fake_vanished:
 * its registers read all-ones, as after a surprise removal.
 *
 * Several faults: fault=leak_unmap,map_error.
 */
#ifndef DMAKIT_FAULT_H
#define DMAKIT_FAULT_H

#include <linux/types.h>

enum dmakit_fault {
	DMAKIT_FAULT_LEAK_UNMAP,
	DMAKIT_FAULT_MAP_ERROR,
	DMAKIT_FAULT_ATOMIC_SLEEP,
	DMAKIT_FAULT_LOCK_ORDER,
	DMAKIT_FAULT_USE_AFTER_FREE,
	DMAKIT_FAULT_RING_VMAP,
	DMAKIT_FAULT_RING_WRONG_DIR,
	DMAKIT_FAULT_RING_NO_SYNC,
	DMAKIT_FAULT_ABORT_WINDOW,
	DMAKIT_FAULT_CLOSE_NOWAIT,
};

struct dmakit_card;
struct dmakit_pci;
struct dmakit_txn;

#ifdef DMAKIT_FAULT_INJECT
bool dmakit_fault(enum dmakit_fault which);
void dmakit_ring_fault_lock_order(struct dmakit_card *card);
void dmakit_fault_use_after_free(void);
void dmakit_fault_abort_window(struct dmakit_card *card,
			       const struct dmakit_txn *x, u64 gen);
void dmakit_fault_init(void);
void dmakit_fault_exit(void);
void dmakit_fault_pci_add(struct dmakit_pci *p);
void dmakit_fault_pci_remove(struct dmakit_pci *p);
bool dmakit_fault_vanished(struct dmakit_pci *p);
#else
static inline bool dmakit_fault(enum dmakit_fault which)
{
	return false;
}

static inline void dmakit_ring_fault_lock_order(struct dmakit_card *card)
{
}

static inline void dmakit_fault_use_after_free(void)
{
}

static inline void dmakit_fault_abort_window(struct dmakit_card *card,
					     const struct dmakit_txn *x,
					     u64 gen)
{
}

static inline void dmakit_fault_init(void)
{
}

static inline void dmakit_fault_exit(void)
{
}

static inline void dmakit_fault_pci_add(struct dmakit_pci *p)
{
}

static inline void dmakit_fault_pci_remove(struct dmakit_pci *p)
{
}

static inline bool dmakit_fault_vanished(struct dmakit_pci *p)
{
	return false;
}
#endif

#endif
