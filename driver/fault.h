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
};

struct dmakit_card;

#ifdef DMAKIT_FAULT_INJECT
bool dmakit_fault(enum dmakit_fault which);
void dmakit_ring_fault_lock_order(struct dmakit_card *card);
void dmakit_fault_use_after_free(void);
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
#endif

#endif
