// SPDX-License-Identifier: GPL-2.0
/*
 * The streaming ring: include/uapi/dmakit/ring.h over real DMA.
 *
 * Memory: the ctrl page, the descriptor pages and the data pages are
 * ordinary pages (data allocated in chunks of up to 2 MiB and split), so
 * user space maps them with vm_map_pages() and O_DIRECT, io_uring and
 * MSG_ZEROCOPY accept them.  The kernel sees ctrl + descriptors through a
 * vmap(); it never touches the data, the engine does, by bus address.
 *
 * DMA: each buffer is a streaming mapping (DMA_FROM_DEVICE; DMA_TO_DEVICE
 * in an H2C ring, ring_tx.c) for the life of the ring, described to the engine by its mapped sg_table and by a
 * scatter-gather list in dmakit's format in dma_pool memory; the engine
 * reports each filled buffer in a completion record in coherent memory,
 * written by the engine or by dmakit_stream_complete() for it.  Ownership
 * moves with the sync calls:
 *   post:     dma_sync_sgtable_for_device() then the doorbell
 *   complete: completion record DONE, dma_rmb(), dma_sync_sgtable_for_cpu(),
 *             then the descriptor and head are published to consumers.
 * With swiotlb the engine fills the bounce buffer and the sync for the CPU
 * copies it into the pages user space sees; with an IOMMU the engine's bus
 * addresses are IOVAs; without either the syncs cost nothing on x86.
 *
 * Producer protocol: the shared helpers of ring.h, with the kernel's own
 * copy of the geometry and counters, so nothing user space writes into the
 * ctrl page can make the kernel index out of bounds.
 */
#include <linux/dmapool.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "dmakit.h"
#include "dmakit_trace.h"
#include "fault.h"
#include "ring_priv.h"

/* Largest chunk of physically contiguous data pages tried first. */
#define RING_MAX_ORDER	9

static const char *const ring_state_names[] = {
	[DMAKIT_STATE_IDLE] = "idle",
	[DMAKIT_STATE_RUNNING] = "running",
	[DMAKIT_STATE_STOPPED] = "stopped",
	[DMAKIT_STATE_ERROR] = "error",
};

const char *dmakit_ring_state_name(struct dmakit_card *card)
{
	u32 state = card->ring ? READ_ONCE(card->ring->state) :
				 DMAKIT_STATE_IDLE;

	return state < ARRAY_SIZE(ring_state_names) ? ring_state_names[state] :
						      "?";
}

u64 dmakit_ring_mapped_bytes(struct dmakit_ring *ring)
{
	return ring ? ring->map_size : 0;
}

static struct page **ring_buf_pages(struct dmakit_ring *r, u32 slot)
{
	return r->pages + r->nmeta +
	       (unsigned long)slot * (r->bufsize >> PAGE_SHIFT);
}

/* Zeroed data pages, in the largest contiguous chunks the allocator has. */
static int ring_alloc_data(struct dmakit_ring *r)
{
	unsigned long i = r->nmeta;
	unsigned int max_order = RING_MAX_ORDER;

	while (i < r->npages) {
		unsigned long left = r->npages - i;
		unsigned int order = min_t(unsigned int, ilog2(left), max_order);
		gfp_t gfp = GFP_KERNEL | __GFP_ZERO;
		struct page *page;
		unsigned long k;

		if (order)
			gfp |= __GFP_NORETRY | __GFP_NOWARN;
		page = alloc_pages(gfp, order);
		if (!page) {
			if (!order)
				return -ENOMEM;
			max_order = order - 1;
			continue;
		}
		/* individual refcounted pages, as vm_insert_page() wants */
		if (order)
			split_page(page, order);
		for (k = 0; k < (1UL << order); k++)
			r->pages[i++] = page + k;
	}
	return 0;
}

static void ring_init_ctrl(struct dmakit_ring *r, u32 policy, u32 payload)
{
	struct dmakit_ring_ctrl *ctrl = r->ctrl;

	ctrl->magic = DMAKIT_RING_MAGIC;
	ctrl->version = DMAKIT_RING_VERSION;
	ctrl->ctrl_size = DMAKIT_RING_CTRL_SIZE;
	ctrl->nbufs = r->nbufs;
	ctrl->bufsize = r->bufsize;
	ctrl->desc_offset = DMAKIT_RING_CTRL_SIZE;
	ctrl->data_offset = DMAKIT_RING_CTRL_SIZE +
			    dmakit_ring_desc_bytes(r->nbufs);
	ctrl->map_size = r->map_size;
	ctrl->policy = policy;
	ctrl->payload = payload;
	ctrl->dev_clock_hz = NSEC_PER_SEC;
	ctrl->state = DMAKIT_STATE_IDLE;
	ctrl->stream_id = get_random_u64();
	ctrl->direction = r->dir;
}

/*
 * Map every buffer for the device and build its scatter-gather list.  The
 * segment limit honours both the device's and the DMA layer's (swiotlb
 * bounces at most 256 KiB at once).
 */
static int ring_map_dma(struct dmakit_ring *r)
{
	struct device *dev = r->card->dma_dev;
	unsigned int max_seg;
	u32 slot, max_nsg = 0;
	int ret;

	max_seg = min_t(size_t, dma_get_max_seg_size(dev),
			dma_max_mapping_size(dev));
	max_seg = max_t(unsigned int, rounddown(max_seg, PAGE_SIZE), PAGE_SIZE);
	/* the test build's ring_wrong_dir maps the buffers the other way */
	if (dmakit_fault(DMAKIT_FAULT_RING_WRONG_DIR))
		r->dma_dir = r->dir == DMAKIT_DIR_H2C ? DMA_FROM_DEVICE :
							DMA_TO_DEVICE;

	for (slot = 0; slot < r->nbufs; slot++) {
		struct dmakit_rbuf *rb = &r->bufs[slot];
		struct page **pages = ring_buf_pages(r, slot);

		ret = sg_alloc_table_from_pages_segment(&rb->sgt, pages,
							r->bufsize >> PAGE_SHIFT,
							0, r->bufsize, max_seg,
							GFP_KERNEL);
		if (ret)
			return ret;
		ret = dma_map_sgtable(dev, &rb->sgt, r->dma_dir, 0);
		if (ret) {
			dev_err(dev, "cannot map ring buffer %u (%u bytes): %d\n",
				slot, r->bufsize, ret);
			sg_free_table(&rb->sgt);
			return ret;
		}
		rb->mapped = true;
		rb->nsg = rb->sgt.nents;
		max_nsg = max(max_nsg, rb->nsg);
	}

	r->max_nsg = max_nsg;
	r->sg_pool = dma_pool_create("dmakit-sg", dev,
				     max_nsg * sizeof(struct dmakit_hw_sg),
				     sizeof(struct dmakit_hw_sg), 0);
	if (!r->sg_pool)
		return -ENOMEM;
	for (slot = 0; slot < r->nbufs; slot++) {
		struct dmakit_rbuf *rb = &r->bufs[slot];
		struct scatterlist *sg;
		int i;

		rb->hwsg = dma_pool_zalloc(r->sg_pool, GFP_KERNEL,
					   &rb->hwsg_bus);
		if (!rb->hwsg)
			return -ENOMEM;
		for_each_sgtable_dma_sg(&rb->sgt, sg, i) {
			rb->hwsg[i].addr = cpu_to_le64(sg_dma_address(sg));
			rb->hwsg[i].len = cpu_to_le32(sg_dma_len(sg));
		}
		rb->hwsg[rb->nsg - 1].flags = cpu_to_le32(DMAKIT_HW_SG_LAST);
	}

	r->cmpl_size = (size_t)r->nbufs * sizeof(struct dmakit_hw_cmpl);
	r->cmpl = dma_alloc_coherent(dev, r->cmpl_size, &r->cmpl_bus,
				     GFP_KERNEL);
	if (!r->cmpl)
		return -ENOMEM;
	r->dma_ready = true;
	return 0;
}

/* Undo ring_map_dma(), as far as it got.  The DMA device still exists. */
static void ring_unmap_dma(struct dmakit_ring *r)
{
	struct device *dev = r->card->dma_dev;
	u32 slot;

	r->dma_ready = false;
	if (r->cmpl)
		dma_free_coherent(dev, r->cmpl_size, r->cmpl, r->cmpl_bus);
	r->cmpl = NULL;
	for (slot = 0; slot < r->nbufs; slot++) {
		struct dmakit_rbuf *rb = &r->bufs[slot];

		if (rb->hwsg)
			dma_pool_free(r->sg_pool, rb->hwsg, rb->hwsg_bus);
		rb->hwsg = NULL;
		if (rb->mapped) {
			dma_unmap_sgtable(dev, &rb->sgt, r->dma_dir, 0);
			sg_free_table(&rb->sgt);
		}
		rb->mapped = false;
	}
	dma_pool_destroy(r->sg_pool);
	r->sg_pool = NULL;
}

/* Frees memory only: DMA was undone by dmakit_ring_teardown(). */
void dmakit_ring_free(struct dmakit_ring *r)
{
	unsigned long i;

	if (r->meta)
		vunmap(r->meta);
	/* user mappings hold their own page references */
	for (i = 0; i < r->npages && r->pages[i]; i++)
		put_page(r->pages[i]);
	kvfree(r->pages);
	kvfree(r->bufs);
	kfree(r);
}

/* Build the card's ring; called with no user of the card's old ring. */
int dmakit_ring_create(struct dmakit_card *card, u32 nbufs, u32 bufsize,
		       u32 policy, u32 dir)
{
	struct dmakit_ring *r;
	unsigned long i;
	int ret;

	/* the ABI lays the mapping out in 4 KiB units */
	BUILD_BUG_ON(PAGE_SIZE != DMAKIT_RING_CTRL_SIZE);
	BUILD_BUG_ON(sizeof(struct dmakit_ring_ctrl) > DMAKIT_RING_CTRL_SIZE);
	if (dmakit_ring_check_geometry(nbufs, bufsize) ||
	    (dir != DMAKIT_DIR_C2H && dir != DMAKIT_DIR_H2C))
		return -EINVAL;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->card = card;
	r->nbufs = nbufs;
	r->bufsize = bufsize;
	r->dir = dir;
	r->dma_dir = dir == DMAKIT_DIR_H2C ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	r->depth = clamp_t(u32, nbufs / 4, 1, 32);
	r->map_size = dmakit_ring_map_size(nbufs, bufsize);
	r->npages = r->map_size >> PAGE_SHIFT;
	r->nmeta = (DMAKIT_RING_CTRL_SIZE + dmakit_ring_desc_bytes(nbufs)) >>
		   PAGE_SHIFT;
	r->state = DMAKIT_STATE_IDLE;
	mutex_init(&r->lock);
	init_waitqueue_head(&r->wq);

	ret = -ENOMEM;
	r->pages = kvcalloc(r->npages, sizeof(*r->pages), GFP_KERNEL);
	r->bufs = kvcalloc(nbufs, sizeof(*r->bufs), GFP_KERNEL);
	if (!r->pages || !r->bufs)
		goto err_free;
	for (i = 0; i < r->nmeta; i++) {
		r->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!r->pages[i])
			goto err_free;
	}
	ret = ring_alloc_data(r);
	if (ret)
		goto err_free;
	ret = -ENOMEM;
	if (!dmakit_fault(DMAKIT_FAULT_RING_VMAP))
		r->meta = vmap(r->pages, r->nmeta, VM_MAP, PAGE_KERNEL);
	if (!r->meta)
		goto err_free;
	r->ctrl = r->meta;
	r->descs = r->meta + DMAKIT_RING_CTRL_SIZE;
	ring_init_ctrl(r, policy, card->payload);

	ret = ring_map_dma(r);
	if (ret)
		goto err_unmap;
	card->ring = r;
	return 0;

err_unmap:
	ring_unmap_dma(r);
err_free:
	dmakit_ring_free(r);
	return ret;
}

/*
 * New geometry (or policy) for a ring nobody has open or mapped.  Called
 * with card->lock held.  On failure the old geometry is rebuilt.
 */
int dmakit_ring_reconfigure(struct dmakit_card *card, u32 nbufs, u32 bufsize,
			    u32 policy, u32 dir)
{
	struct dmakit_ring *old = card->ring;
	int ret;

	if (dmakit_ring_check_geometry(nbufs, bufsize))
		return -EINVAL;
	/* free first: under swiotlb=force every buffer holds bounce space */
	mutex_lock(&old->lock);
	ring_unmap_dma(old);
	mutex_unlock(&old->lock);
	dmakit_ring_free(old);
	card->ring = NULL;
	ret = dmakit_ring_create(card, nbufs, bufsize, policy, dir);
	if (ret && dmakit_ring_create(card, card->ring_nbufs,
				      card->ring_bufsize, card->policy,
				      card->ring_dir))
		dev_err(&card->dev, "lost the ring while reconfiguring it\n");
	if (ret)
		return ret;
	card->ring_nbufs = nbufs;
	card->ring_bufsize = bufsize;
	card->policy = policy;
	WRITE_ONCE(card->ring_dir, dir);
	return 0;
}

/*
 * DMAKIT_IOC_RING_SETUP: a new, empty ring for direction @dir, for the
 * card's only open file with nothing mapped.  Called with card->lock held.
 */
int dmakit_ring_set_dir(struct dmakit_card *card, u32 dir)
{
	if (dir != DMAKIT_DIR_C2H && dir != DMAKIT_DIR_H2C)
		return -EINVAL;
	if (dir == DMAKIT_DIR_H2C && !card->ring_h2c)
		return -EOPNOTSUPP;
	if (dir == card->ring_dir && dir == DMAKIT_DIR_C2H)
		return 0;
	/* one H2C producer: the file that set it up while alone */
	if (card->nopen != 1)
		return -EBUSY;
	if (dir == card->ring_dir)
		return 0;
	if (atomic_read(&card->nmaps) || READ_ONCE(card->ring->running))
		return -EBUSY;
	return dmakit_ring_reconfigure(card, card->ring_nbufs,
				       card->ring_bufsize, card->policy, dir);
}

/*
 * The last file closed (@card->nopen is still 1): a ring an application
 * set up H2C returns to the default, C2H, unless something still maps it.
 * Called with card->lock held, the stream stopped.
 */
void dmakit_ring_default_dir(struct dmakit_card *card)
{
	if (card->ring_dir == DMAKIT_DIR_C2H || card->nopen != 1 ||
	    atomic_read(&card->nmaps))
		return;
	if (dmakit_ring_reconfigure(card, card->ring_nbufs, card->ring_bufsize,
				    card->policy, DMAKIT_DIR_C2H))
		dev_warn(&card->dev, "ring left H2C: no memory to rebuild it\n");
}

/* The DMA half of the ring goes with the device; the memory stays. */
void dmakit_ring_teardown(struct dmakit_card *card)
{
	struct dmakit_ring *r = card->ring;

	if (!r || !r->dma_ready)
		return;
	mutex_lock(&r->lock);
	WARN_ON(r->running);
	ring_unmap_dma(r);
	mutex_unlock(&r->lock);
}

#ifdef DMAKIT_FAULT_INJECT
/* fault=lock_order (fault.h): the reverse of card->lock -> ring->lock */
void dmakit_ring_fault_lock_order(struct dmakit_card *card)
{
	struct dmakit_ring *r = card->ring;

	if (!r)
		return;
	mutex_lock(&r->lock);
	mutex_lock(&card->lock);
	mutex_unlock(&card->lock);
	mutex_unlock(&r->lock);
}
#endif

/* Hand free slots to the engine, never more than @depth at once. */
static void ring_refill_locked(struct dmakit_ring *r)
{
	struct dmakit_card *card = r->card;
	struct dmakit_ring_ctrl *ctrl = r->ctrl;

	while (r->running && r->next_post - r->next_done < r->depth) {
		u64 pos = r->next_post;
		u32 slot = pos % r->nbufs;
		struct dmakit_rbuf *rb = &r->bufs[slot];
		struct dmakit_stream_buf buf = {
			.sgt = &rb->sgt,
			.hwsg_bus = rb->hwsg_bus,
			.nsg = rb->nsg,
		};

		if (!dmakit_ring_may_claim(ctrl, r->nbufs, pos)) {
			/* consumers release, see producer_waiting, kick us */
			WRITE_ONCE(ctrl->producer_waiting, 1);
			/* flag before the re-check; pairs with the consumer's
			 * barrier between its tail store and flag load
			 */
			smp_mb();
			if (!dmakit_ring_may_claim(ctrl, r->nbufs, pos))
				break;
		}
		WRITE_ONCE(ctrl->producer_waiting, 0);
		/* positions left posted by a stop are claimed already */
		if (pos >= r->claim) {
			dmakit_ring_claim(ctrl, pos);
			r->claim = pos + 1;
		}
		WRITE_ONCE(r->cmpl[slot].status, 0);
		dma_sync_sgtable_for_device(card->dma_dev, &rb->sgt, r->dma_dir);
		/* the reset record is visible before the engine owns the slot */
		dma_wmb();
		card->hw->stream_post(card, slot, &buf);
		trace_dma_submit(card, DMAKIT_CHAN_STREAM, pos,
				 DMAKIT_XFER_TO_HOST, r->bufsize,
				 sg_dma_address(rb->sgt.sgl), 0);
		atomic64_inc(&card->cnt.submitted);
		r->next_post++;
	}
}

/* Publish every buffer the engine reported, in order. */
static void ring_complete_locked(struct dmakit_ring *r)
{
	struct dmakit_card *card = r->card;

	while (r->next_done != r->next_post) {
		u64 pos = r->next_done;
		u32 slot = pos % r->nbufs;
		struct dmakit_hw_cmpl *c = &r->cmpl[slot];
		u32 status = le32_to_cpu(READ_ONCE(c->status));
		struct dmakit_desc d = {};

		if (!(status & DMAKIT_HW_CMPL_DONE))
			break;
		/* the rest of the record was written before status */
		dma_rmb();
		d.len = min_t(u32, le32_to_cpu(c->len), r->bufsize);
		if (!dmakit_fault(DMAKIT_FAULT_RING_NO_SYNC))
			dma_sync_sgtable_for_cpu(card->dma_dev,
						 &r->bufs[slot].sgt, r->dma_dir);
		d.lost = le64_to_cpu(c->lost);
		d.seq = status & DMAKIT_HW_CMPL_NOSEQ ? r->next_seq + d.lost :
							le64_to_cpu(c->seq);
		r->next_seq = d.seq + 1;
		d.host_ts = ktime_get_ns();
		d.dev_ts = status & DMAKIT_HW_CMPL_NOTS ? d.host_ts - r->start_ns :
							 le64_to_cpu(c->dev_ts);
		d.crc32c = le32_to_cpu(c->crc32c);
		if (status & DMAKIT_HW_CMPL_CRC)
			d.flags |= DMAKIT_DESC_F_CRC;
		if (status & DMAKIT_HW_CMPL_ERR)
			d.flags |= DMAKIT_DESC_F_DMA_ERR;
		if (d.len < r->bufsize || (status & DMAKIT_HW_CMPL_TRUNC))
			d.flags |= DMAKIT_DESC_F_TRUNC;
		dmakit_ring_publish(r->ctrl, r->descs, r->nbufs, pos, &d);
		trace_dma_complete(card, DMAKIT_CHAN_STREAM, pos,
				   DMAKIT_XFER_TO_HOST, d.len,
				   sg_dma_address(r->bufs[slot].sgt.sgl),
				   status & DMAKIT_HW_CMPL_ERR ? -EIO : 0);
		atomic64_inc(&card->cnt.completed);
		atomic64_add(d.len, &card->cnt.bytes);
		if (status & DMAKIT_HW_CMPL_ERR)
			atomic64_inc(&card->cnt.errors);
		r->next_done = pos + 1;
	}
	if (card->hw->stream_drops) {
		u64 drops = card->hw->stream_drops(card);

		if (drops > r->drops_seen) {
			dmakit_ring_count_drop(r->ctrl, drops - r->drops_seen);
			atomic64_add(drops - r->drops_seen, &card->cnt.drops);
			r->drops_seen = drops;
		}
	}
}

/*
 * Wake consumers that asked for it.  The barrier orders our head store
 * before the need_wakeup loads; a consumer orders its need_wakeup store
 * before its last look at head (ring.h, "sleep handshake").
 */
static void ring_wake(struct dmakit_ring *r)
{
	unsigned long slots = READ_ONCE(r->slots);
	unsigned int i;

	/* head (published) before need_wakeup: see the comment above */
	smp_mb();
	for_each_set_bit(i, &slots, DMAKIT_RING_MAX_CONSUMERS) {
		if (READ_ONCE(r->ctrl->consumers[i].need_wakeup)) {
			wake_up_interruptible_poll(&r->wq, EPOLLIN | EPOLLRDNORM);
			return;
		}
	}
}

/**
 * dmakit_stream_complete - an engine reports that it filled ring slot @slot
 * (any context: hard or threaded interrupt handler, a poll loop).
 * @card: the card
 * @slot: a slot posted with stream_post() and not yet reported
 * @res:  what the engine knows of the buffer
 *
 * Writes the slot's completion record as a card built to dmakit's format
 * would, status last; dmakit_ring_irq() publishes it.  For engines that
 * learn of completions from a register, a writeback count or their own
 * descriptor status instead of writing that record.
 */
void dmakit_stream_complete(struct dmakit_card *card, u32 slot,
			    const struct dmakit_stream_result *res)
{
	struct dmakit_ring *r = card->ring;
	struct dmakit_hw_cmpl *c;

	if (WARN_ON_ONCE(!r || slot >= r->nbufs || !r->cmpl))
		return;
	c = &r->cmpl[slot];
	c->seq = cpu_to_le64(res->seq);
	c->dev_ts = cpu_to_le64(res->dev_ts);
	c->lost = cpu_to_le64(res->lost);
	c->len = cpu_to_le32(res->len);
	c->crc32c = cpu_to_le32(res->crc32c);
	/* the record before its status, as ring_complete_locked() reads it */
	dma_wmb();
	WRITE_ONCE(c->status, cpu_to_le32((res->flags & ~DMAKIT_HW_CMPL_DONE) |
					  DMAKIT_HW_CMPL_DONE));
}

/*
 * The streaming engine's interrupt: buffers completed or dropped.  Process
 * context (the engine's bottom half: a threaded interrupt handler, a work
 * item, a poll loop).
 */
void dmakit_ring_irq(struct dmakit_card *card)
{
	struct dmakit_ring *r = card->ring;

	mutex_lock(&r->lock);
	if (r->dma_ready && r->dir == DMAKIT_DIR_H2C) {
		dmakit_ring_tx_complete_locked(r);
		dmakit_ring_tx_refill_locked(r);
	} else if (r->dma_ready) {
		ring_complete_locked(r);
		ring_refill_locked(r);
	}
	mutex_unlock(&r->lock);
	if (r->dir == DMAKIT_DIR_H2C)
		wake_up_interruptible_poll(&r->wq, EPOLLOUT | EPOLLWRNORM |
					   EPOLLIN | EPOLLRDNORM);
	else
		ring_wake(r);
}

/*
 * C2H: a consumer released buffers the producer was waiting for.
 * H2C: the application published buffers while the engine waited.
 */
void dmakit_ring_kick(struct dmakit_card *card)
{
	struct dmakit_ring *r = card->ring;

	mutex_lock(&r->lock);
	if (r->dma_ready && r->dir == DMAKIT_DIR_H2C)
		dmakit_ring_tx_refill_locked(r);
	else if (r->dma_ready)
		ring_refill_locked(r);
	mutex_unlock(&r->lock);
}

/* The stream runs; stable while card->lock is held (start and stop take it). */
bool dmakit_ring_running(struct dmakit_card *card)
{
	return card->ring && READ_ONCE(card->ring->running);
}

/* Called with card->lock held. */
int dmakit_ring_start(struct dmakit_card *card)
{
	struct dmakit_ring *r = card->ring;
	struct dmakit_stream_cfg cfg = {
		.nbufs = r->nbufs,
		.bufsize = r->bufsize,
		.rate = card->rate,
		.pausable = card->policy == DMAKIT_POLICY_BLOCK,
		.h2c = r->dir == DMAKIT_DIR_H2C,
	};
	int ret;

	mutex_lock(&r->lock);
	if (!r->dma_ready) {
		ret = -ENODEV;
		goto out;
	}
	if (r->running) {
		ret = -EALREADY;
		goto out;
	}
	/* one engine for both: it is busy with transactions */
	if (card->hw->shared_engine && dmakit_xfer_busy(card)) {
		ret = -EBUSY;
		goto out;
	}
	cfg.cmpl_bus = r->cmpl_bus;
	cfg.max_nsg = r->max_nsg;
	/* what a stop left posted is reposted; those positions stay claimed */
	r->next_post = r->next_done;
	r->drops_seen = 0;
	r->underruns_seen = 0;
	r->next_seq = 0;
	r->start_ns = ktime_get_ns();
	WRITE_ONCE(r->ctrl->stream_id, get_random_u64());
	ret = card->hw->stream_start(card, &cfg);
	if (ret)
		goto out;
	r->running = true;
	WRITE_ONCE(r->state, DMAKIT_STATE_RUNNING);
	/* stream_id before the state consumers acquire */
	smp_store_release(&r->ctrl->state, DMAKIT_STATE_RUNNING);
	if (r->dir == DMAKIT_DIR_H2C)
		dmakit_ring_tx_refill_locked(r);
	else
		ring_refill_locked(r);
out:
	mutex_unlock(&r->lock);
	return ret;
}

/*
 * Stop the engine and publish @state (STOPPED, or ERROR when the card is
 * going away: consumers drain what was published, then get -ENODEV).
 * Called with card->lock held.
 */
void dmakit_ring_stop(struct dmakit_card *card, u32 state)
{
	struct dmakit_ring *r = card->ring;
	bool was_running;

	mutex_lock(&r->lock);
	was_running = r->running;
	r->running = false;
	mutex_unlock(&r->lock);
	if (!was_running && state != DMAKIT_STATE_ERROR)
		return;

	if (was_running)
		card->hw->stream_stop(card);

	mutex_lock(&r->lock);
	if (r->dir == DMAKIT_DIR_H2C && r->dma_ready) {
		/* what the engine finished, then the rest returned, cut */
		if (was_running)
			dmakit_ring_tx_complete_locked(r);
		dmakit_ring_tx_cut_locked(r);
	} else if (was_running && r->dma_ready) {
		ring_complete_locked(r);
	}
	WRITE_ONCE(r->state, state);
	/* after the last head: consumers see every buffer before the state */
	smp_store_release(&r->ctrl->state, state);
	mutex_unlock(&r->lock);
	wake_up_interruptible_poll(&r->wq, EPOLLIN | EPOLLRDNORM | EPOLLOUT |
				   EPOLLWRNORM |
				   (state == DMAKIT_STATE_ERROR ? EPOLLERR : 0));
}

/*
 * Give a consumer slot to an open file.  The new consumer starts at head:
 * everything posted to the engine was claimed when no consumer of ours
 * could hold it, and later claims see this slot (same lock).
 * Called with card->lock held.
 */
int dmakit_ring_attach(struct dmakit_card *card, u32 mode, u32 *slot,
		       u64 *start_pos)
{
	struct dmakit_ring *r = card->ring;
	struct dmakit_ring_consumer *cs;
	unsigned int i;

	mutex_lock(&r->lock);
	i = find_first_zero_bit(&r->slots, DMAKIT_RING_MAX_CONSUMERS);
	if (i >= DMAKIT_RING_MAX_CONSUMERS) {
		mutex_unlock(&r->lock);
		return -EBUSY;
	}
	cs = &r->ctrl->consumers[i];
	WRITE_ONCE(cs->tail, r->next_done);
	WRITE_ONCE(cs->cursor, r->next_done);
	WRITE_ONCE(cs->need_wakeup, 0);
	WRITE_ONCE(cs->consumed, 0);
	WRITE_ONCE(cs->skipped, 0);
	WRITE_ONCE(cs->owner, task_tgid_nr(current));
	/* the slot's cursor fields before the state that activates it */
	smp_store_release(&cs->state, mode);
	set_bit(i, &r->slots);
	*slot = i;
	*start_pos = r->next_done;
	mutex_unlock(&r->lock);
	return 0;
}

/* The file owning @slot closed: it no longer holds the producer back. */
void dmakit_ring_detach(struct dmakit_card *card, u32 slot)
{
	struct dmakit_ring *r = card->ring;

	mutex_lock(&r->lock);
	/* ordered after this consumer's last use of the slot */
	smp_store_release(&r->ctrl->consumers[slot].state,
			  DMAKIT_CONSUMER_FREE);
	clear_bit(slot, &r->slots);
	if (r->dma_ready && r->dir == DMAKIT_DIR_C2H)
		ring_refill_locked(r);
	mutex_unlock(&r->lock);
}

__poll_t dmakit_ring_poll(struct dmakit_card *card, int slot,
			  struct file *file, poll_table *wait)
{
	struct dmakit_ring *r = card->ring;
	__poll_t mask = 0;
	u32 state;

	poll_wait(file, &r->wq, wait);
	if (r->dir == DMAKIT_DIR_H2C)
		return dmakit_ring_tx_poll(r);
	state = READ_ONCE(r->state);
	if (state == DMAKIT_STATE_ERROR)
		return EPOLLIN | EPOLLRDNORM | EPOLLERR;
	if (slot < 0)
		return 0;
	/* cursor is the consumer's (untrusted, only its own wakeups) */
	if (READ_ONCE(r->next_done) >
	    READ_ONCE(r->ctrl->consumers[slot].cursor))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (state == DMAKIT_STATE_STOPPED)
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/* Each user mapping holds the card (and so the ring's memory). */
static void dmakit_vm_open(struct vm_area_struct *vma)
{
	struct dmakit_card *card = vma->vm_private_data;

	get_device(&card->dev);
	atomic_inc(&card->nmaps);
}

static void dmakit_vm_close(struct vm_area_struct *vma)
{
	struct dmakit_card *card = vma->vm_private_data;

	atomic_dec(&card->nmaps);
	put_device(&card->dev);
}

static const struct vm_operations_struct dmakit_vm_ops = {
	.open = dmakit_vm_open,
	.close = dmakit_vm_close,
};

/* Called with card->lock held. */
int dmakit_ring_mmap(struct dmakit_card *card, struct vm_area_struct *vma)
{
	struct dmakit_ring *r = card->ring;
	int ret;

	/* a private mapping would copy pages on write: not the ring */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	/* data, never code: nor later through mprotect() */
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	dmakit_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);
	ret = vm_map_pages(vma, r->pages, r->npages);
	if (ret)
		return ret;
	vma->vm_private_data = card;
	vma->vm_ops = &dmakit_vm_ops;
	dmakit_vm_open(vma);
	return 0;
}
