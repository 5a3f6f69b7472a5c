/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The streaming ring's kernel side, shared by ring.c (memory, mappings,
 * the card-to-host direction, consumers) and ring_tx.c (host to card).
 */
#ifndef DMAKIT_RING_PRIV_H
#define DMAKIT_RING_PRIV_H

#include "dmakit.h"

struct dmakit_rbuf {
	struct sg_table sgt;
	bool mapped;
	struct dmakit_hw_sg *hwsg;	/* dma_pool block */
	dma_addr_t hwsg_bus;
	u32 nsg;
	u32 tx_len;			/* H2C: bytes posted */
	u32 tx_flags;			/* H2C: the application's flags, as posted */
};

/*
 * The kernel side of one streaming ring.
 * @pages:     every page of the user mapping, in mapping order
 * @nmeta:     ctrl + descriptor pages at the start of @pages
 * @depth:     most buffers posted to the engine at once
 * @lock:      the producer state below, posting and completing
 * @next_post: next position to post; [next_done, next_post) are posted
 * @next_done: next position to complete (== ctrl->head)
 * @claim:     the kernel's copy of ctrl->claim
 * @slots:     consumer slots owned by open files
 * @wq:        consumers sleeping in poll() (H2C: the application)
 * @dir:       DMAKIT_DIR_*; @dma_dir the buffers' mapping direction
 * @underruns_seen: H2C: the engine's underrun count already accounted
 */
struct dmakit_ring {
	struct dmakit_card *card;
	u32 nbufs;
	u32 bufsize;
	u32 depth;
	u32 dir;
	enum dma_data_direction dma_dir;
	u64 map_size;
	struct page **pages;
	unsigned long npages;
	unsigned long nmeta;
	void *meta;
	struct dmakit_ring_ctrl *ctrl;
	struct dmakit_desc *descs;
	struct dmakit_rbuf *bufs;
	struct dma_pool *sg_pool;
	struct dmakit_hw_cmpl *cmpl;
	dma_addr_t cmpl_bus;
	size_t cmpl_size;
	u32 max_nsg;
	bool dma_ready;

	struct mutex lock;	/* producer state below */
	bool running;
	u32 state;
	u64 next_post;
	u64 next_done;
	u64 claim;
	u64 drops_seen;
	u64 underruns_seen;
	u64 next_seq;		/* for engines without a sequence counter */
	u64 start_ns;		/* for engines without a clock */
	unsigned long slots;
	wait_queue_head_t wq;
};

/* ring_tx.c: the H2C direction, called with ring->lock held */
void dmakit_ring_tx_refill_locked(struct dmakit_ring *r);
void dmakit_ring_tx_complete_locked(struct dmakit_ring *r);
void dmakit_ring_tx_cut_locked(struct dmakit_ring *r);
__poll_t dmakit_ring_tx_poll(struct dmakit_ring *r);

#endif /* DMAKIT_RING_PRIV_H */
