// SPDX-License-Identifier: GPL-2.0
/*
 * edu as a (slow) streaming engine: each posted ring buffer is filled by
 * edu's one DMA engine, DMA by DMA, through the buffer's mapped sg_table --
 * the bus addresses the DMA layer gave (IOVAs behind an IOMMU, bounce
 * buffers with swiotlb), exactly as a real card's descriptors would carry.
 *
 * Per buffer: one RAM->device DMA of the pattern block (edu.h: the
 * buffer's sequence number in every word), then one device->RAM DMA per
 * EDU_CHUNK bytes of the buffer, each from its own offset in the pattern.
 * Each DMA's completion interrupt starts the next one from the threaded
 * handler; a full buffer is reported with dmakit_stream_complete() (the
 * engine's own sequence number, no clock: host time) and published with
 * dmakit_ring_irq().  The engine never drops: with no buffer posted it
 * waits (the rate setting does not apply: edu runs at ~20 KiB/s).
 *
 * A watchdog per DMA recovers a lost interrupt, notices a vanished device
 * and gives a hung engine up (bus mastering off); the buffer being filled
 * is then reported with a DMA error.  Stop waits, bounded, for the DMA in
 * flight to end before the ring may unmap its buffers.
 */
#include <linux/delay.h>
#include <linux/slab.h>

#include "dmakit.h"
#include "edu.h"

/* Silent timeouts of a busy engine before it counts as hung (as xfer.c). */
#define EDU_STREAM_HUNG_POLLS	3

static struct edu_stream *edu_stream_of(struct dmakit_pci *p)
{
	return &((struct edu *)p->priv)->stream;
}

static struct dmakit_pci *edu_pci_of(struct dmakit_card *card)
{
	return card->hw_priv;
}

/* Report the buffer at the head of the queue and drop it from there. */
static void edu_stream_report_locked(struct dmakit_pci *p, u32 flags)
{
	struct edu_stream *s = edu_stream_of(p);
	struct dmakit_stream_result res = {
		.len = s->filled,
		.flags = DMAKIT_HW_CMPL_NOTS | flags,
		.seq = s->seq,
	};

	dmakit_stream_complete(p->card, s->queue[s->qhead].slot, &res);
	s->seq++;
	s->qhead = (s->qhead + 1) % s->qcap;
	s->qlen--;
	s->in_buf = false;
}

/* The engine is given up: the buffer being filled ends with an error. */
static void edu_stream_fail_locked(struct dmakit_pci *p)
{
	struct edu_stream *s = edu_stream_of(p);

	s->failed = true;
	s->dma_busy = false;
	if (s->in_buf)
		edu_stream_report_locked(p, DMAKIT_HW_CMPL_ERR);
}

/* Start the next DMA of the buffer at the head of the queue, if any. */
static void edu_stream_issue_locked(struct dmakit_pci *p)
{
	struct edu_stream *s = edu_stream_of(p);
	struct edu_posted *b;
	int ret;

	if (!s->enabled || s->failed || s->dma_busy || !s->qlen)
		return;
	b = &s->queue[s->qhead];
	if (!s->in_buf) {
		u32 j;

		s->in_buf = true;
		s->pattern_done = false;
		s->sg = b->sgt->sgl;
		s->sg_off = 0;
		s->filled = 0;
		for (j = 0; j < EDU_PATTERN_WORDS; j++)
			s->pattern[j] = cpu_to_le64(EDU_PATTERN_WORD(s->seq, j));
	}
	if (!s->pattern_done) {
		/* writeq() orders the pattern stores before the doorbell */
		s->unit_len = EDU_PATTERN_BYTES;
		ret = edu_dma_start(p, s->pattern_bus, 0, EDU_PATTERN_BYTES,
				    false);
	} else {
		u32 chunk = s->filled / EDU_CHUNK;
		u32 card_off = (chunk % EDU_CHUNK_OFFSETS) * 8;

		s->unit_len = min_t(u32, EDU_CHUNK,
				    sg_dma_len(s->sg) - s->sg_off);
		ret = edu_dma_start(p, sg_dma_address(s->sg) + s->sg_off,
				    card_off, s->unit_len, true);
	}
	if (ret) {
		dev_err_ratelimited(&p->card->dev,
				    "stream: edu DMA not started: %d\n", ret);
		edu_stream_fail_locked(p);
		return;
	}
	s->dma_busy = true;
	s->watchdog_polls = 0;
	mod_delayed_work(system_wq, &s->watchdog,
			 msecs_to_jiffies(EDU_SEG_TIMEOUT_MS));
}

/*
 * The DMA in flight ended: account it, report a full buffer, start the
 * next DMA.  Returns true when a buffer was reported.
 */
static bool edu_stream_dma_done_locked(struct dmakit_pci *p)
{
	struct edu_stream *s = edu_stream_of(p);
	bool reported = false;

	s->dma_busy = false;
	if (!s->enabled)
		return false;
	if (!s->pattern_done) {
		s->pattern_done = true;
	} else {
		s->filled += s->unit_len;
		s->sg_off += s->unit_len;
		if (s->sg_off == sg_dma_len(s->sg)) {
			s->sg = sg_next(s->sg);
			s->sg_off = 0;
		}
		if (s->filled >= s->bufsize || !s->sg) {
			edu_stream_report_locked(p, 0);
			reported = true;
		}
	}
	edu_stream_issue_locked(p);
	return reported;
}

/*
 * From the threaded interrupt handler: false if the DMA that ended was
 * not the stream's (a transaction's).
 */
bool edu_stream_irq(struct dmakit_pci *p)
{
	struct edu_stream *s = edu_stream_of(p);
	bool reported = false;
	int busy;

	spin_lock(&s->lock);
	if (!s->dma_busy) {
		spin_unlock(&s->lock);
		return false;
	}
	busy = edu_dma_poll(p);
	if (busy < 0) {
		edu_stream_fail_locked(p);
		reported = true;
	} else if (!busy) {
		reported = edu_stream_dma_done_locked(p);
	}
	spin_unlock(&s->lock);
	if (reported)
		dmakit_ring_irq(p->card);
	return true;
}

static void edu_stream_watchdog(struct work_struct *work)
{
	struct edu_stream *s = container_of(to_delayed_work(work),
					    struct edu_stream, watchdog);
	struct edu *e = container_of(s, struct edu, stream);
	struct dmakit_pci *p = e->pci;
	struct dmakit_card *card = p->card;
	bool reported = false, hung = false;
	int busy;

	spin_lock(&s->lock);
	if (!s->dma_busy || !s->enabled)
		goto out;
	busy = edu_dma_poll(p);
	if (!busy) {
		dev_warn_ratelimited(&card->dev,
				     "stream: completion interrupt lost, recovered\n");
		reported = edu_stream_dma_done_locked(p);
	} else if (busy < 0) {
		dev_err(&card->dev, "stream: device not responding (reads all-ones)\n");
		edu_stream_fail_locked(p);
		reported = true;
	} else if (++s->watchdog_polls < EDU_STREAM_HUNG_POLLS) {
		mod_delayed_work(system_wq, &s->watchdog,
				 msecs_to_jiffies(EDU_SEG_TIMEOUT_MS));
	} else {
		dev_err(&card->dev, "stream: DMA engine hung, stopping it\n");
		atomic64_inc(&card->cnt.timeouts);
		edu_stream_fail_locked(p);
		reported = hung = true;
	}
out:
	spin_unlock(&s->lock);
	/* no more bus mastering: the hung DMA cannot reach the buffer */
	if (hung)
		card->hw->xfer_abort(card);
	if (reported)
		dmakit_ring_irq(card);
}

void edu_stream_init(struct dmakit_pci *p)
{
	struct edu *e = p->priv;

	e->pci = p;
	spin_lock_init(&e->stream.lock);
	INIT_DELAYED_WORK(&e->stream.watchdog, edu_stream_watchdog);
}

int edu_stream_start(struct dmakit_card *card,
		     const struct dmakit_stream_cfg *cfg)
{
	struct dmakit_pci *p = edu_pci_of(card);
	struct edu_stream *s = edu_stream_of(p);
	struct edu_posted *queue;
	dma_addr_t pattern_bus;
	u64 *pattern;

	/* whole chunks: the data format numbers them by buffer offset */
	if (cfg->bufsize % EDU_CHUNK)
		return -EINVAL;
	/* a hung engine was stopped by taking bus mastering away */
	if (!p->pdev->is_busmaster)
		return -EIO;
	queue = kcalloc(cfg->nbufs, sizeof(*queue), GFP_KERNEL);
	if (!queue)
		return -ENOMEM;
	pattern = dma_alloc_coherent(&p->pdev->dev, EDU_PATTERN_BYTES,
				     &pattern_bus, GFP_KERNEL);
	if (!pattern) {
		kfree(queue);
		return -ENOMEM;
	}

	spin_lock(&s->lock);
	s->queue = queue;
	s->qcap = cfg->nbufs;
	s->qhead = 0;
	s->qlen = 0;
	s->in_buf = false;
	s->dma_busy = false;
	s->failed = false;
	s->bufsize = cfg->bufsize;
	s->seq = 0;
	s->pattern = pattern;
	s->pattern_bus = pattern_bus;
	s->enabled = true;
	spin_unlock(&s->lock);
	return 0;
}

void edu_stream_post(struct dmakit_card *card, u32 slot,
		     const struct dmakit_stream_buf *buf)
{
	struct dmakit_pci *p = edu_pci_of(card);
	struct edu_stream *s = edu_stream_of(p);

	spin_lock(&s->lock);
	if (!WARN_ON_ONCE(s->qlen >= s->qcap)) {
		s->queue[(s->qhead + s->qlen) % s->qcap] = (struct edu_posted){
			.slot = slot,
			.sgt = buf->sgt,
		};
		s->qlen++;
		edu_stream_issue_locked(p);
	}
	spin_unlock(&s->lock);
}

/*
 * No DMA starts once @enabled is clear (under the lock), so waiting for the
 * one in flight to end leaves the engine idle for good; a DMA that does
 * not end in three timeouts is stopped by taking bus mastering away.
 */
void edu_stream_stop(struct dmakit_card *card)
{
	struct dmakit_pci *p = edu_pci_of(card);
	struct edu_stream *s = edu_stream_of(p);
	unsigned long deadline;
	bool was_busy;
	int busy;

	spin_lock(&s->lock);
	s->enabled = false;
	was_busy = s->dma_busy;
	spin_unlock(&s->lock);

	if (was_busy) {
		deadline = jiffies + msecs_to_jiffies(EDU_STREAM_HUNG_POLLS *
						      EDU_SEG_TIMEOUT_MS);
		while ((busy = edu_dma_poll(p)) > 0 &&
		       time_before(jiffies, deadline))
			usleep_range(2000, 5000);
		if (busy > 0) {
			dev_err(&card->dev, "stream: DMA engine hung at stop, stopping it\n");
			atomic64_inc(&card->cnt.timeouts);
			card->hw->xfer_abort(card);
		}
	}
	/* the handler and the watchdog are done with the stream's state */
	synchronize_irq(pci_irq_vector(p->pdev, 0));
	cancel_delayed_work_sync(&s->watchdog);

	spin_lock(&s->lock);
	s->dma_busy = false;
	s->in_buf = false;
	s->qlen = 0;
	spin_unlock(&s->lock);
	if (s->pattern)
		dma_free_coherent(&p->pdev->dev, EDU_PATTERN_BYTES, s->pattern,
				  s->pattern_bus);
	s->pattern = NULL;
	kfree(s->queue);
	s->queue = NULL;
}
