// SPDX-License-Identifier: GPL-2.0
/*
 * The ring's host-to-card direction (ctrl->direction == DMAKIT_DIR_H2C):
 * the application fills and publishes buffers (include/uapi/dmakit/ring.h,
 * "Host to card"), the engine drains them, the core returns them free.
 *
 * Posting: the published positions, in order, at most ring->depth at the
 * engine at once; each buffer is synced for the device (DMA_TO_DEVICE:
 * with swiotlb this copies the application's bytes into the bounce
 * buffer the engine reads), then handed over with stream_post() and its
 * length.  The application's descriptor is read once, into the kernel's
 * own copy; a length of 0 or more than bufsize is never sent: the buffer
 * comes back at once flagged DMAKIT_DESC_F_DMA_ERR, len 0.
 *
 * Completion: what the engine reports (completion record or
 * dmakit_stream_complete(), in or out of order) is returned in ring order:
 * sync for the CPU, descriptor written back, tx_done advanced.  Nothing is
 * ever dropped: a full ring makes the application wait.  Underruns come
 * from the engine (flag and count with the next buffer; the running total
 * from stream_underruns() where it has one).
 *
 * Stop cuts: the engine is stopped (stream_stop() returns once it no
 * longer reads memory, so a stop takes what that takes), what it finished
 * is returned as usual and every other published buffer comes back
 * flagged DMAKIT_DESC_F_CUT with len 0.  Draining before the stop is the
 * application's choice: it waits (poll, EPOLLIN) until tx_done == head.
 */
#include "ring_priv.h"
#include "dmakit_trace.h"

/* The application's head, or "nothing new" when it is impossible. */
static u64 tx_published(struct dmakit_ring *r)
{
	/* pairs with the application's store-release: its descriptor first */
	u64 head = smp_load_acquire(&r->ctrl->head);

	if (head < r->next_post || head - r->next_done > r->nbufs)
		return r->next_post;
	return head;
}

static void tx_count_underruns(struct dmakit_ring *r, u64 n)
{
	struct dmakit_ring_ctrl *ctrl = r->ctrl;

	WRITE_ONCE(ctrl->underruns, READ_ONCE(ctrl->underruns) + n);
	atomic64_add(n, &r->card->cnt.underruns);
}

/* Post published buffers, up to the depth; ask for a kick when idle. */
void dmakit_ring_tx_refill_locked(struct dmakit_ring *r)
{
	struct dmakit_card *card = r->card;
	struct dmakit_ring_ctrl *ctrl = r->ctrl;
	u64 head;

	if (!r->running)
		return;
	for (;;) {
		head = tx_published(r);
		while (r->next_post < head &&
		       r->next_post - r->next_done < r->depth) {
			u64 pos = r->next_post;
			u32 slot = pos % r->nbufs;
			struct dmakit_rbuf *rb = &r->bufs[slot];
			struct dmakit_desc *d = &r->descs[slot];
			struct dmakit_stream_buf buf = {
				.sgt = &rb->sgt,
				.hwsg_bus = rb->hwsg_bus,
				.nsg = rb->nsg,
			};

			WRITE_ONCE(ctrl->engine_waiting, 0);
			rb->tx_len = READ_ONCE(d->len);
			rb->tx_flags = READ_ONCE(d->flags) & DMAKIT_DESC_F_END;
			r->next_post++;
			atomic64_inc(&card->cnt.submitted);
			if (!rb->tx_len || rb->tx_len > r->bufsize) {
				struct dmakit_stream_result res = {
					.flags = DMAKIT_HW_CMPL_ERR,
				};

				dmakit_stream_complete(card, slot, &res);
				continue;
			}
			buf.len = rb->tx_len;
			if (rb->tx_flags & DMAKIT_DESC_F_END)
				buf.flags = DMAKIT_STREAM_F_END;
			WRITE_ONCE(r->cmpl[slot].status, 0);
			dma_sync_sgtable_for_device(card->dma_dev, &rb->sgt,
						    DMA_TO_DEVICE);
			/* the reset record is visible before the engine owns it */
			dma_wmb();
			card->hw->stream_post(card, slot, &buf);
			trace_dma_submit(card, DMAKIT_CHAN_STREAM, pos,
					 DMAKIT_XFER_FROM_HOST, buf.len,
					 sg_dma_address(rb->sgt.sgl), 0);
		}
		/* more published than the depth: completions post the rest */
		if (r->next_post < head)
			return;
		WRITE_ONCE(ctrl->engine_waiting, 1);
		/* flag before the re-check; pairs with the application's
		 * barrier between its head store and its flag load
		 */
		smp_mb();
		if (tx_published(r) == r->next_post)
			return;
	}
}

/* Return every buffer the engine finished, in ring order. */
void dmakit_ring_tx_complete_locked(struct dmakit_ring *r)
{
	struct dmakit_card *card = r->card;
	struct dmakit_ring_ctrl *ctrl = r->ctrl;
	const struct dmakit_hw_ops *hw = card->hw;

	while (r->next_done != r->next_post) {
		u64 pos = r->next_done;
		u32 slot = pos % r->nbufs;
		struct dmakit_hw_cmpl *c = &r->cmpl[slot];
		struct dmakit_rbuf *rb = &r->bufs[slot];
		struct dmakit_desc *d = &r->descs[slot];
		u32 status = le32_to_cpu(READ_ONCE(c->status));
		u32 len, flags = rb->tx_flags;
		u64 lost = 0;

		if (!(status & DMAKIT_HW_CMPL_DONE))
			break;
		/* the rest of the record was written before status */
		dma_rmb();
		len = min_t(u32, le32_to_cpu(c->len), rb->tx_len);
		dma_sync_sgtable_for_cpu(card->dma_dev, &rb->sgt,
					 DMA_TO_DEVICE);
		if (status & DMAKIT_HW_CMPL_ERR)
			flags |= DMAKIT_DESC_F_DMA_ERR;
		if (len < rb->tx_len || (status & DMAKIT_HW_CMPL_TRUNC))
			flags |= DMAKIT_DESC_F_TRUNC;
		if (status & DMAKIT_HW_CMPL_UNDERRUN) {
			flags |= DMAKIT_DESC_F_UNDERRUN;
			lost = le64_to_cpu(c->lost);
			if (!hw->stream_underruns)
				tx_count_underruns(r, lost);
		}
		if (status & DMAKIT_HW_CMPL_CRC) {
			flags |= DMAKIT_DESC_F_CRC;
			WRITE_ONCE(d->crc32c, le32_to_cpu(c->crc32c));
		}
		WRITE_ONCE(d->len, len);
		WRITE_ONCE(d->lost, lost);
		WRITE_ONCE(d->host_ts, ktime_get_ns());
		WRITE_ONCE(d->flags, flags);
		trace_dma_complete(card, DMAKIT_CHAN_STREAM, pos,
				   DMAKIT_XFER_FROM_HOST, len,
				   sg_dma_address(rb->sgt.sgl),
				   status & DMAKIT_HW_CMPL_ERR ? -EIO : 0);
		atomic64_inc(&card->cnt.completed);
		atomic64_add(len, &card->cnt.bytes);
		if (status & DMAKIT_HW_CMPL_ERR)
			atomic64_inc(&card->cnt.errors);
		WRITE_ONCE(ctrl->produced_bytes,
			   READ_ONCE(ctrl->produced_bytes) + len);
		r->next_done = pos + 1;
		/* the descriptor before the position that frees it */
		smp_store_release(&ctrl->tx_done, r->next_done);
	}
	if (hw->stream_underruns) {
		u64 n = hw->stream_underruns(card);

		if (n > r->underruns_seen) {
			tx_count_underruns(r, n - r->underruns_seen);
			r->underruns_seen = n;
		}
	}
}

/*
 * The engine is stopped: every published buffer it did not finish comes
 * back cut (len 0), posted or not.
 */
void dmakit_ring_tx_cut_locked(struct dmakit_ring *r)
{
	u64 posted = r->next_post;
	u64 pos;

	r->next_post = tx_published(r);
	for (pos = r->next_done; pos < r->next_post; pos++) {
		u32 slot = pos % r->nbufs;
		struct dmakit_rbuf *rb = &r->bufs[slot];
		struct dmakit_desc *d = &r->descs[slot];

		if (pos >= posted)	/* never posted: its flags are unread */
			rb->tx_flags = READ_ONCE(d->flags) & DMAKIT_DESC_F_END;
		WRITE_ONCE(d->len, 0);
		WRITE_ONCE(d->lost, 0);
		WRITE_ONCE(d->host_ts, ktime_get_ns());
		WRITE_ONCE(d->flags, rb->tx_flags | DMAKIT_DESC_F_CUT);
	}
	r->next_done = r->next_post;
	/* the cut descriptors before the position that frees them */
	smp_store_release(&r->ctrl->tx_done, r->next_done);
}

/* EPOLLOUT: a buffer is free; EPOLLIN: everything published is drained. */
__poll_t dmakit_ring_tx_poll(struct dmakit_ring *r)
{
	u64 done = READ_ONCE(r->next_done);
	/* the application's own value: it can only spoil its own wakeups */
	u64 head = READ_ONCE(r->ctrl->head);
	__poll_t mask = 0;

	if (READ_ONCE(r->state) == DMAKIT_STATE_ERROR)
		return EPOLLERR | EPOLLIN | EPOLLRDNORM | EPOLLOUT;
	if (head < done + r->nbufs)
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (head <= done)
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}
