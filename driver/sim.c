// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated card: a platform device per "sim" module parameter, with
 * two engines that behave like a PCIe card's and reach host memory only
 * the way a card does, by bus address:
 *
 *  - a streaming engine: at the configured rate it takes the next posted
 *    ring buffer, reads that buffer's scatter-gather list (dma_pool
 *    memory), writes the verifiable payload of dmakit_payload_word() into
 *    each element, computes its CRC32C, writes a completion record
 *    (coherent memory) and raises its interrupt.  With nothing posted it
 *    drops the buffer (policy drop: counted, reported as "lost" with the
 *    next one) or waits (policy block).  With sim_stream_table=1 it is
 *    shaped like engines with their own descriptor format instead: the
 *    driver writes each posted buffer's mapped elements into a table on
 *    the card (as into MMIO), and the engine reports a filled buffer
 *    through dmakit_stream_complete() (as from a status register), with
 *    no sequence counter of its own (the core numbers the buffers).
 *    Set up host to card (an H2C ring) the same engine reads each posted
 *    buffer's bytes instead, at the configured rate, and keeps what a
 *    card would prove it received (sysfs h2c/: bytes, buffers, a running
 *    CRC32C over every byte in order, underruns).
 *  - a transaction engine over vmalloc'ed card memory, completing after a
 *    modelled latency: a chain engine (the default) that reads a
 *    descriptor table in host memory (struct dmakit_hw_sg entries, the
 *    last one flagged) by bus address and moves every element of it in
 *    one start, or with sim_xfer_chain=0 a segment engine, one segment
 *    per start.
 *
 * Writing by bus address is what makes the simulation honest: with
 * swiotlb the bus address is the bounce buffer and the data reaches the
 * pages user space sees only through the driver's dma_sync_*_for_cpu();
 * a driver that forgot a sync, or synced the wrong way, delivers zeroes.
 * The engines translate a bus address as dma-direct does (the platform
 * device has no IOMMU: probe refuses DMA ops it cannot model).
 *
 * Contexts: the engines run as work items on an unbound workqueue, paced
 * by hrtimers; their "interrupt" calls the driver's completion path from
 * that work (like a threaded interrupt handler).
 */
#include <linux/crc32c.h>
#include <linux/dma-map-ops.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#include "dmakit.h"

static unsigned int sim_count;
module_param_named(sim, sim_count, uint, 0444);
MODULE_PARM_DESC(sim, "simulated cards to create (default 0)");

static unsigned long sim_rate;
module_param(sim_rate, ulong, 0444);
MODULE_PARM_DESC(sim_rate,
		 "initial streaming rate of simulated cards, bytes/s (default 0: as fast as possible)");

static unsigned int sim_cardmem = SZ_1M;
module_param(sim_cardmem, uint, 0444);
MODULE_PARM_DESC(sim_cardmem, "card memory of a simulated card (default 1M)");

/* writable at run time: tests stretch it to catch transactions mid-way */
static unsigned int sim_xfer_us = 20;
module_param(sim_xfer_us, uint, 0644);
MODULE_PARM_DESC(sim_xfer_us,
		 "latency of one simulated transaction segment, us (default 20)");

static unsigned int sim_xfer_seg = SZ_1M;
module_param(sim_xfer_seg, uint, 0444);
MODULE_PARM_DESC(sim_xfer_seg,
		 "largest segment of the simulated transaction engine (default 1M)");

static bool sim_stream_table;
module_param(sim_stream_table, bool, 0444);
MODULE_PARM_DESC(sim_stream_table,
		 "streaming engine with its own descriptor table, reporting through dmakit_stream_complete() (default 0: reads dmakit's lists, writes completion records)");

static unsigned int sim_xfer_chain = 512;
module_param(sim_xfer_chain, uint, 0444);
MODULE_PARM_DESC(sim_xfer_chain,
		 "descriptors per chained transaction start (default 512; 0: one segment per start)");

static unsigned int sim_dma_bits = 64;
module_param(sim_dma_bits, uint, 0444);
MODULE_PARM_DESC(sim_dma_bits, "addressing limit of simulated cards (default 64)");

#define SIM_NAME		"dmakit-sim"
#define SIM_VEC_STREAM		0
#define SIM_VEC_XFER		1
/*
 * Buffers the streaming engine handles before it yields its worker; also
 * its interrupt moderation: one interrupt covers up to this many
 * completions (sooner when it runs out of posted buffers or goes idle).
 */
#define SIM_BUDGET		8

struct sim_post {
	u32 slot;
	u32 nsg;
	dma_addr_t sg_bus;
	u32 len;		/* H2C: bytes to read */
	u32 flags;		/* H2C: DMAKIT_STREAM_F_END */
};

/* A descriptor of the table mode, in the card's own memory. */
struct sim_table_desc {
	dma_addr_t addr;
	u32 len;
};

struct dmakit_sim {
	struct device *dev;
	struct dmakit_card *card;
	struct device_dma_parameters dma_parms;

	/* streaming engine */
	spinlock_t lock;
	bool enabled;
	bool starved;			/* pausable and nothing posted */
	struct dmakit_stream_cfg cfg;
	struct sim_post *fifo;
	struct sim_table_desc *table;	/* table mode: max_nsg per slot */
	size_t table_len;
	bool held_valid;		/* table mode: a report held back */
	u32 held_slot;
	struct dmakit_stream_result held_res;
	u32 fifo_cap;
	u32 fifo_head;
	u32 fifo_count;
	u64 seq;
	u64 t0_ns;
	u64 buf_ns;			/* ns per buffer at the rate, 0: max */
	u64 next_drop_ns;
	u64 drops;
	u64 lost;			/* drops not yet reported */
	u64 gen_ns;			/* measured cost of one buffer */
	/*
	 * H2C: what the card received since the stream started (read by
	 * sysfs under @lock); pacing by bytes from an anchor, moved to the
	 * first buffer after the engine ran dry
	 */
	u64 rx_bytes;
	u64 rx_buffers;
	u32 rx_crc;			/* running CRC32C register (~0 seeded) */
	u64 rx_underruns;
	u64 rx_pending_underruns;	/* for the next completion */
	u64 rx_anchor_bytes;
	bool rx_running;		/* took a buffer, not ended since */
	struct hrtimer timer;
	struct work_struct work;

	/*
	 * transaction engine: a segment (@x_bus, @x_len) or a chain of
	 * @x_nents descriptors at @x_bus (the table @xdesc) from card offset
	 * @x_off
	 */
	spinlock_t xlock;
	bool x_busy;
	bool x_to_host;
	dma_addr_t x_bus;
	u64 x_off;
	u32 x_len;
	u32 x_nents;
	struct dmakit_hw_sg *xdesc;
	dma_addr_t xdesc_bus;
	u32 xdesc_cap;
	struct hrtimer xtimer;
	struct work_struct xwork;
	u8 *mem;
	u64 mem_size;
};

static struct workqueue_struct *sim_wq;
static struct platform_device **sim_pdevs;

static void sim_report_held(struct dmakit_sim *s)
{
	if (s->held_valid)
		dmakit_stream_complete(s->card, s->held_slot, &s->held_res);
	s->held_valid = false;
}

/*
 * Table mode: fill the slot's elements from the card's table and report
 * it.  Like an engine with several buffers in flight, it finishes them in
 * pairs out of order (the second first) when another is posted behind
 * (@last: none is); the core publishes them in ring order.
 */
static void sim_produce_table(struct dmakit_sim *s,
			      const struct sim_post *post, u64 seq, u64 lost,
			      u64 dev_ts, bool last)
{
	const struct sim_table_desc *d = &s->table[(size_t)post->slot *
						   s->cfg.max_nsg];
	struct dmakit_sim_fill fill = {
		.base = seq * DMAKIT_PAYLOAD_K1,
		.k = DMAKIT_PAYLOAD_K2,
		.crc = ~0U,
	};
	struct dmakit_stream_result res = {
		.flags = DMAKIT_HW_CMPL_CRC | DMAKIT_HW_CMPL_NOSEQ,
		.dev_ts = dev_ts,
		.lost = lost,
	};
	u32 i;

	for (i = 0; i < post->nsg && res.len < s->cfg.bufsize; i++) {
		u32 n = min(d[i].len, s->cfg.bufsize - res.len);

		if (dmakit_sim_bus_access(s->dev, d[i].addr, n,
					  dmakit_sim_fill_chunk, &fill)) {
			res.flags |= DMAKIT_HW_CMPL_ERR;
			break;
		}
		res.len += n;
	}
	res.crc32c = ~fill.crc;
	if (!s->held_valid && !last) {
		s->held_valid = true;
		s->held_slot = post->slot;
		s->held_res = res;
		return;
	}
	dmakit_stream_complete(s->card, post->slot, &res);
	sim_report_held(s);
}

/* Write buffer @seq into a posted slot and report it. */
static void sim_produce(struct dmakit_sim *s, const struct sim_post *post,
			u64 seq, u64 lost, u64 dev_ts)
{
	struct dmakit_sim_fill fill = {
		.base = seq * DMAKIT_PAYLOAD_K1,
		.k = DMAKIT_PAYLOAD_K2,
		.crc = ~0U,
	};
	dma_addr_t rec = s->cfg.cmpl_bus +
			 (dma_addr_t)post->slot * sizeof(struct dmakit_hw_cmpl);
	struct dmakit_hw_cmpl c = {};
	u32 i, len = 0, status = DMAKIT_HW_CMPL_DONE | DMAKIT_HW_CMPL_CRC;
	__le32 st;

	for (i = 0; i < post->nsg && len < s->cfg.bufsize; i++) {
		struct dmakit_hw_sg sg;
		u32 n;

		if (dmakit_sim_bus_read(s->dev, post->sg_bus + i * sizeof(sg),
					&sg, sizeof(sg))) {
			status |= DMAKIT_HW_CMPL_ERR;
			break;
		}
		n = min(le32_to_cpu(sg.len), s->cfg.bufsize - len);
		if (dmakit_sim_bus_access(s->dev, le64_to_cpu(sg.addr), n,
					  dmakit_sim_fill_chunk, &fill)) {
			status |= DMAKIT_HW_CMPL_ERR;
			break;
		}
		len += n;
		if (le32_to_cpu(sg.flags) & DMAKIT_HW_SG_LAST)
			break;
	}
	c.seq = cpu_to_le64(seq);
	c.dev_ts = cpu_to_le64(dev_ts);
	c.lost = cpu_to_le64(lost);
	c.len = cpu_to_le32(len);
	c.crc32c = cpu_to_le32(~fill.crc);
	dmakit_sim_bus_write(s->dev, rec, &c, sizeof(c));
	/* like a card's write ordering: the record lands before its status */
	wmb();
	st = cpu_to_le32(status);
	dmakit_sim_bus_write(s->dev,
			     rec + offsetof(struct dmakit_hw_cmpl, status),
			     &st, sizeof(st));
}

struct sim_rx {
	u32 crc;			/* this buffer's */
	u32 run_crc;			/* the stream's */
};

static void sim_rx_chunk(void *va, size_t len, void *ctx)
{
	struct sim_rx *rx = ctx;

	rx->crc = crc32c(rx->crc, va, len);
	rx->run_crc = crc32c(rx->run_crc, va, len);
}

/*
 * H2C: read the posted buffer's bytes as the card would (elements from
 * the card's table or from dmakit's list by bus address), fold them into
 * the running CRC, report the buffer with the underruns just before it.
 */
static void sim_consume(struct dmakit_sim *s, const struct sim_post *post,
			u64 underruns)
{
	struct sim_rx rx = { .crc = ~0U };
	struct dmakit_stream_result res = {
		.flags = DMAKIT_HW_CMPL_CRC | DMAKIT_HW_CMPL_NOSEQ |
			 DMAKIT_HW_CMPL_NOTS,
		.lost = underruns,
	};
	struct dmakit_hw_cmpl c = {};
	dma_addr_t rec;
	__le32 st;
	u32 i;

	spin_lock(&s->lock);
	rx.run_crc = s->rx_crc;
	spin_unlock(&s->lock);
	if (underruns)
		res.flags |= DMAKIT_HW_CMPL_UNDERRUN;
	for (i = 0; i < post->nsg && res.len < post->len; i++) {
		dma_addr_t addr;
		u32 n, elen;

		if (s->table) {
			const struct sim_table_desc *d =
				&s->table[(size_t)post->slot * s->cfg.max_nsg + i];

			addr = d->addr;
			elen = d->len;
		} else {
			struct dmakit_hw_sg sg;

			if (dmakit_sim_bus_read(s->dev,
						post->sg_bus + i * sizeof(sg),
						&sg, sizeof(sg))) {
				res.flags |= DMAKIT_HW_CMPL_ERR;
				break;
			}
			addr = le64_to_cpu(sg.addr);
			elen = le32_to_cpu(sg.len);
		}
		n = min(elen, post->len - res.len);
		if (dmakit_sim_bus_access(s->dev, addr, n, sim_rx_chunk, &rx)) {
			res.flags |= DMAKIT_HW_CMPL_ERR;
			break;
		}
		res.len += n;
	}
	res.crc32c = ~rx.crc;
	spin_lock(&s->lock);
	s->rx_crc = rx.run_crc;
	s->rx_bytes += res.len;
	s->rx_buffers++;
	spin_unlock(&s->lock);
	if (s->table) {
		dmakit_stream_complete(s->card, post->slot, &res);
		return;
	}
	/* a card built to dmakit's format writes the record, status last */
	c.lost = cpu_to_le64(res.lost);
	c.len = cpu_to_le32(res.len);
	c.crc32c = cpu_to_le32(res.crc32c);
	rec = s->cfg.cmpl_bus +
	      (dma_addr_t)post->slot * sizeof(struct dmakit_hw_cmpl);
	dmakit_sim_bus_write(s->dev, rec, &c, sizeof(c));
	/* like a card's write ordering: the record lands before its status */
	wmb();
	st = cpu_to_le32(res.flags | DMAKIT_HW_CMPL_DONE);
	dmakit_sim_bus_write(s->dev,
			     rec + offsetof(struct dmakit_hw_cmpl, status),
			     &st, sizeof(st));
}

static void sim_arm(struct dmakit_sim *s, u64 when_ns)
{
	hrtimer_start(&s->timer, ns_to_ktime(when_ns), HRTIMER_MODE_ABS);
}

/* The engine's interrupt: the driver's completion path runs now. */
static void sim_stream_raise(struct dmakit_sim *s)
{
	sim_report_held(s);
	dmakit_card_irq(s->card, SIM_VEC_STREAM);
	dmakit_ring_irq(s->card);
}

/*
 * H2C, under @lock: the next posted buffer if the engine is due for data
 * (false: it waits, for its pace or for a post).  Due with nothing posted
 * after it started, and no END since, is an underrun: counted, reported
 * with the next buffer, and the pace starts again from that buffer.
 */
static bool sim_h2c_take(struct dmakit_sim *s, u64 now, struct sim_post *post,
			 u64 *underruns)
{
	u64 due = s->t0_ns;

	if (s->cfg.rate)
		due += mul_u64_u64_div_u64(s->rx_anchor_bytes, NSEC_PER_SEC,
					   s->cfg.rate);
	if (s->cfg.rate && s->rx_running && now < due) {
		sim_arm(s, due);
		return false;
	}
	if (!s->fifo_count) {
		if (s->cfg.rate && s->rx_running) {
			s->rx_underruns++;
			s->rx_pending_underruns++;
		}
		s->rx_running = false;
		s->starved = true;
		return false;
	}
	*post = s->fifo[s->fifo_head];
	s->fifo_head = (s->fifo_head + 1) % s->fifo_cap;
	s->fifo_count--;
	if (!s->rx_running) {
		/* the first buffer, or the first after running dry or END */
		s->t0_ns = now;
		s->rx_anchor_bytes = 0;
	}
	s->rx_anchor_bytes += post->len;
	s->rx_running = !(post->flags & DMAKIT_STREAM_F_END);
	*underruns = s->rx_pending_underruns;
	s->rx_pending_underruns = 0;
	return true;
}

static void sim_stream_work(struct work_struct *work)
{
	struct dmakit_sim *s = container_of(work, struct dmakit_sim, work);
	unsigned int budget = SIM_BUDGET, unreported = 0;
	bool empty;

	while (budget--) {
		struct sim_post post;
		u64 now, due, seq, lost, t;

		spin_lock(&s->lock);
		if (!s->enabled)
			goto out_unlock;
		now = ktime_get_ns();
		if (s->cfg.h2c) {
			if (!sim_h2c_take(s, now, &post, &lost))
				goto out_unlock;
			empty = s->fifo_count == 0;
			spin_unlock(&s->lock);
			sim_consume(s, &post, lost);
			unreported++;
			if (empty) {
				sim_stream_raise(s);
				unreported = 0;
			}
			cond_resched();
			continue;
		}
		due = s->t0_ns + s->seq * s->buf_ns;
		if (s->buf_ns && now < due) {
			sim_arm(s, due);
			goto out_unlock;
		}
		if (!s->fifo_count) {
			if (s->cfg.pausable) {
				s->starved = true;
				goto out_unlock;
			}
			/* as fast as possible: a drop takes a fill's time */
			if (!s->buf_ns) {
				if (!s->next_drop_ns)
					s->next_drop_ns = now + s->gen_ns;
				if (now < s->next_drop_ns) {
					sim_arm(s, s->next_drop_ns);
					goto out_unlock;
				}
				s->next_drop_ns = 0;
			}
			s->seq++;
			s->drops++;
			s->lost++;
			spin_unlock(&s->lock);
			continue;
		}
		post = s->fifo[s->fifo_head];
		s->fifo_head = (s->fifo_head + 1) % s->fifo_cap;
		empty = --s->fifo_count == 0;
		seq = s->seq++;
		lost = s->lost;
		s->lost = 0;
		s->next_drop_ns = 0;
		spin_unlock(&s->lock);

		t = ktime_get_ns();
		if (s->table)
			sim_produce_table(s, &post, seq, lost,
					  (s->buf_ns ? due : now) - s->t0_ns,
					  empty);
		else
			sim_produce(s, &post, seq, lost,
				    (s->buf_ns ? due : now) - s->t0_ns);
		s->gen_ns = (s->gen_ns * 7 + (ktime_get_ns() - t)) / 8;
		unreported++;
		/* out of buffers: interrupt now, the driver posts more */
		if (empty) {
			sim_stream_raise(s);
			unreported = 0;
		}
		cond_resched();
	}
	/* used up the budget: report, let other work run, then continue */
	if (unreported)
		sim_stream_raise(s);
	queue_work(sim_wq, &s->work);
	return;

out_unlock:
	spin_unlock(&s->lock);
	/* idle (paced, starved or stopped): report what was done */
	if (unreported)
		sim_stream_raise(s);
}

static enum hrtimer_restart sim_timer_fn(struct hrtimer *t)
{
	struct dmakit_sim *s = container_of(t, struct dmakit_sim, timer);

	queue_work(sim_wq, &s->work);
	return HRTIMER_NORESTART;
}

static int sim_stream_start(struct dmakit_card *card,
			    const struct dmakit_stream_cfg *cfg)
{
	struct dmakit_sim *s = card->hw_priv;
	struct sim_post *fifo = NULL;
	size_t table_len = (size_t)cfg->nbufs * cfg->max_nsg;

	if (s->fifo_cap != cfg->nbufs) {
		fifo = kcalloc(cfg->nbufs, sizeof(*fifo), GFP_KERNEL);
		if (!fifo)
			return -ENOMEM;
	}
	/* the engine is stopped: its table may be replaced */
	if (sim_stream_table && s->table_len != table_len) {
		kvfree(s->table);
		s->table_len = 0;
		s->table = kvcalloc(table_len, sizeof(*s->table), GFP_KERNEL);
		if (!s->table) {
			kfree(fifo);
			return -ENOMEM;
		}
		s->table_len = table_len;
	}
	spin_lock(&s->lock);
	if (fifo) {
		swap(s->fifo, fifo);
		s->fifo_cap = cfg->nbufs;
	}
	s->cfg = *cfg;
	s->fifo_head = 0;
	s->fifo_count = 0;
	s->seq = 0;
	s->drops = 0;
	s->lost = 0;
	s->next_drop_ns = 0;
	s->starved = false;
	s->held_valid = false;
	s->buf_ns = cfg->rate ? div64_u64((u64)cfg->bufsize * NSEC_PER_SEC,
					  cfg->rate) : 0;
	s->t0_ns = ktime_get_ns();
	s->rx_bytes = 0;
	s->rx_buffers = 0;
	s->rx_crc = ~0U;
	s->rx_underruns = 0;
	s->rx_pending_underruns = 0;
	s->rx_anchor_bytes = 0;
	s->rx_running = false;
	s->enabled = true;
	spin_unlock(&s->lock);
	kfree(fifo);
	return 0;
}

static void sim_stream_stop(struct dmakit_card *card)
{
	struct dmakit_sim *s = card->hw_priv;

	spin_lock(&s->lock);
	s->enabled = false;
	spin_unlock(&s->lock);
	/* the work may re-arm the timer once more before it sees !enabled */
	cancel_work_sync(&s->work);
	hrtimer_cancel(&s->timer);
	cancel_work_sync(&s->work);
}

/*
 * One more buffer the engine may fill: in table mode its elements go into
 * the card's table first; then the doorbell.
 */
static void sim_stream_post(struct dmakit_card *card, u32 slot,
			    const struct dmakit_stream_buf *buf)
{
	struct dmakit_sim *s = card->hw_priv;
	dma_addr_t sg_bus = buf->hwsg_bus;
	u32 nsg = buf->nsg;
	bool kick = false;

	if (s->table) {
		struct sim_table_desc *d = &s->table[(size_t)slot *
						     s->cfg.max_nsg];
		struct scatterlist *sg;
		int i;

		nsg = 0;
		for_each_sgtable_dma_sg(buf->sgt, sg, i) {
			if (nsg == s->cfg.max_nsg)
				break;
			d[nsg].addr = sg_dma_address(sg);
			d[nsg].len = sg_dma_len(sg);
			nsg++;
		}
		sg_bus = 0;
	}
	spin_lock(&s->lock);
	if (s->enabled && s->fifo_count < s->fifo_cap) {
		u32 tail = (s->fifo_head + s->fifo_count) % s->fifo_cap;

		s->fifo[tail] = (struct sim_post){ slot, nsg, sg_bus, buf->len,
						   buf->flags };
		kick = s->starved || s->fifo_count == 0;
		s->fifo_count++;
		s->starved = false;
	}
	spin_unlock(&s->lock);
	if (kick)
		queue_work(sim_wq, &s->work);
}

static u64 sim_stream_drops(struct dmakit_card *card)
{
	struct dmakit_sim *s = card->hw_priv;
	u64 drops;

	spin_lock(&s->lock);
	drops = s->drops;
	spin_unlock(&s->lock);
	return drops;
}

static u64 sim_stream_underruns(struct dmakit_card *card)
{
	struct dmakit_sim *s = card->hw_priv;
	u64 n;

	spin_lock(&s->lock);
	n = s->rx_underruns;
	spin_unlock(&s->lock);
	return n;
}

/*
 * h2c/: what the card received since the stream last started, as a card
 * would count it (bytes, buffers, CRC32C of every byte in order, times it
 * ran dry).  Kept after a stop until the next start.
 */
static struct dmakit_sim *sim_of(struct device *dev)
{
	return dmakit_card_of(dev)->hw_priv;
}

#define SIM_H2C_ATTR(name, field, fmt, xform)				\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct dmakit_sim *s = sim_of(dev);				\
	u64 v;								\
									\
	spin_lock(&s->lock);						\
	v = xform(s->field);						\
	spin_unlock(&s->lock);						\
	return sysfs_emit(buf, fmt "\n", v);				\
}									\
static DEVICE_ATTR_RO(name)

#define SIM_AS_IS(v)	(v)
#define SIM_CRC_OUT(v)	((u64)(u32)~(v))

SIM_H2C_ATTR(bytes, rx_bytes, "%llu", SIM_AS_IS);
SIM_H2C_ATTR(buffers, rx_buffers, "%llu", SIM_AS_IS);
SIM_H2C_ATTR(crc32c, rx_crc, "%08llx", SIM_CRC_OUT);
SIM_H2C_ATTR(underruns, rx_underruns, "%llu", SIM_AS_IS);

static struct attribute *sim_h2c_attrs[] = {
	&dev_attr_bytes.attr,
	&dev_attr_buffers.attr,
	&dev_attr_crc32c.attr,
	&dev_attr_underruns.attr,
	NULL,
};

static const struct attribute_group sim_h2c_group = {
	.name = "h2c",
	.attrs = sim_h2c_attrs,
};

static int sim_xfer_move(struct dmakit_sim *s, dma_addr_t bus, u64 off,
			 u32 len, bool to_host)
{
	if (!len || off >= s->mem_size || len > s->mem_size - off)
		return -EIO;
	if (to_host)
		return dmakit_sim_bus_write(s->dev, bus, s->mem + off, len);
	return dmakit_sim_bus_read(s->dev, bus, s->mem + off, len);
}

/*
 * Walk the chain as the card would: fetch each descriptor from host
 * memory, move its bytes, stop after the one flagged last.  Returns the
 * bytes moved; *err says whether a fetch or a move failed.
 */
static u64 sim_xfer_run_chain(struct dmakit_sim *s, dma_addr_t table,
			      u32 nents, u64 off, bool to_host, int *err)
{
	u64 moved = 0;
	u32 i;

	*err = -EIO;	/* a chain without its last descriptor is an error */
	for (i = 0; i < nents; i++) {
		struct dmakit_hw_sg d;
		u32 len;

		if (dmakit_sim_bus_read(s->dev, table + i * sizeof(d), &d,
					sizeof(d)))
			return moved;
		len = le32_to_cpu(d.len);
		if (sim_xfer_move(s, le64_to_cpu(d.addr), off + moved, len,
				  to_host))
			return moved;
		moved += len;
		if (le32_to_cpu(d.flags) & DMAKIT_HW_SG_LAST) {
			*err = 0;
			break;
		}
	}
	return moved;
}

static void sim_xfer_work(struct work_struct *work)
{
	struct dmakit_sim *s = container_of(work, struct dmakit_sim, xwork);
	unsigned long flags;
	dma_addr_t bus;
	bool to_host;
	u32 len, nents;
	u64 off, moved;
	int ret;

	spin_lock_irqsave(&s->xlock, flags);
	if (!s->x_busy) {
		spin_unlock_irqrestore(&s->xlock, flags);
		return;
	}
	bus = s->x_bus;
	len = s->x_len;
	nents = s->x_nents;
	off = s->x_off;
	to_host = s->x_to_host;
	spin_unlock_irqrestore(&s->xlock, flags);

	if (nents) {
		moved = sim_xfer_run_chain(s, bus, nents, off, to_host, &ret);
	} else {
		ret = sim_xfer_move(s, bus, off, len, to_host);
		moved = ret ? 0 : len;
	}

	spin_lock_irqsave(&s->xlock, flags);
	s->x_busy = false;
	spin_unlock_irqrestore(&s->xlock, flags);
	dmakit_card_irq(s->card, SIM_VEC_XFER);
	dmakit_xfer_complete(s->card, moved, ret ? -EIO : 0);
}

static enum hrtimer_restart sim_xtimer_fn(struct hrtimer *t)
{
	struct dmakit_sim *s = container_of(t, struct dmakit_sim, xtimer);

	queue_work(sim_wq, &s->xwork);
	return HRTIMER_NORESTART;
}

/* The doorbell: the engine runs what x_* describe after its latency. */
static void sim_xfer_go(struct dmakit_sim *s)
{
	unsigned int latency_us = READ_ONCE(sim_xfer_us);

	if (latency_us)
		hrtimer_start(&s->xtimer, ns_to_ktime((u64)latency_us * NSEC_PER_USEC),
			      HRTIMER_MODE_REL);
	else
		queue_work(sim_wq, &s->xwork);
}

/*
 * Claim the idle engine for a unit of @len bytes at card offset @off: a
 * segment at @bus, or a chain of @nents descriptors in the table at @bus.
 */
static int sim_xfer_claim(struct dmakit_sim *s, dma_addr_t bus, u64 off,
			  u64 len, u32 nents, bool to_host)
{
	unsigned long flags;

	if (!len || off >= s->mem_size || len > s->mem_size - off)
		return -EINVAL;
	spin_lock_irqsave(&s->xlock, flags);
	if (s->x_busy) {
		spin_unlock_irqrestore(&s->xlock, flags);
		return -EBUSY;
	}
	s->x_busy = true;
	s->x_bus = bus;
	s->x_off = off;
	s->x_len = len;
	s->x_nents = nents;
	s->x_to_host = to_host;
	spin_unlock_irqrestore(&s->xlock, flags);
	return 0;
}

static int sim_xfer_seg_start(struct dmakit_card *card, dma_addr_t bus,
			      u64 card_off, u32 len, bool to_host)
{
	struct dmakit_sim *s = card->hw_priv;
	int ret;

	ret = sim_xfer_claim(s, bus, card_off, len, 0, to_host);
	if (ret)
		return ret;
	sim_xfer_go(s);
	return 0;
}

/*
 * Write the chain into the engine's descriptor table, in its format, then
 * ring the doorbell with the table's bus address.
 */
static int sim_xfer_chain_start(struct dmakit_card *card,
				const struct dmakit_xfer_chain *chain)
{
	struct dmakit_sim *s = card->hw_priv;
	struct scatterlist *sg;
	u64 left = chain->len;
	unsigned int i;
	int ret;

	if (!chain->nents || chain->nents > s->xdesc_cap)
		return -EINVAL;
	ret = sim_xfer_claim(s, s->xdesc_bus, chain->card_off, chain->len,
			     chain->nents, chain->to_host);
	if (ret)
		return ret;
	/* the engine is ours: its table may be rewritten */
	for_each_sg(chain->sgl, sg, chain->nents, i) {
		u32 n = min_t(u64, sg_dma_len(sg), left);

		s->xdesc[i] = (struct dmakit_hw_sg){
			.addr = cpu_to_le64(sg_dma_address(sg)),
			.len = cpu_to_le32(n),
			.flags = cpu_to_le32(i == chain->nents - 1 ?
					     DMAKIT_HW_SG_LAST : 0),
		};
		left -= n;
	}
	/* the table is in memory before the engine may fetch it */
	dma_wmb();
	sim_xfer_go(s);
	return 0;
}

static int sim_xfer_poll(struct dmakit_card *card)
{
	struct dmakit_sim *s = card->hw_priv;
	unsigned long flags;
	int busy;

	spin_lock_irqsave(&s->xlock, flags);
	busy = s->x_busy;
	spin_unlock_irqrestore(&s->xlock, flags);
	return busy;
}

static void sim_xfer_abort(struct dmakit_card *card)
{
	struct dmakit_sim *s = card->hw_priv;

	hrtimer_cancel(&s->xtimer);
	cancel_work_sync(&s->xwork);
	spin_lock_irq(&s->xlock);
	s->x_busy = false;
	spin_unlock_irq(&s->xlock);
}

/* the chain engine, or (sim_xfer_chain=0) the segment engine */
static const struct dmakit_hw_ops sim_hw_ops_chain = {
	.stream_start = sim_stream_start,
	.stream_stop = sim_stream_stop,
	.stream_post = sim_stream_post,
	.stream_drops = sim_stream_drops,
	.stream_underruns = sim_stream_underruns,
	.xfer_chain_start = sim_xfer_chain_start,
	.xfer_poll = sim_xfer_poll,
	.xfer_abort = sim_xfer_abort,
	.xfer_timeout_ms = 1000,
};

static const struct dmakit_hw_ops sim_hw_ops_seg = {
	.stream_start = sim_stream_start,
	.stream_stop = sim_stream_stop,
	.stream_post = sim_stream_post,
	.stream_drops = sim_stream_drops,
	.stream_underruns = sim_stream_underruns,
	.xfer_seg_start = sim_xfer_seg_start,
	.xfer_poll = sim_xfer_poll,
	.xfer_abort = sim_xfer_abort,
	.xfer_timeout_ms = 1000,
};

static void sim_free_xdesc(struct dmakit_sim *s)
{
	if (s->xdesc)
		dma_free_coherent(s->dev, s->xdesc_cap * sizeof(*s->xdesc),
				  s->xdesc, s->xdesc_bus);
	s->xdesc = NULL;
}

static int sim_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct dmakit_card *card;
	struct dmakit_sim *s;
	int bits, ret;

	/* the engines translate bus addresses as dma-direct does */
	if (get_dma_ops(dev)) {
		dev_err(dev, "DMA ops in use: the simulation models dma-direct only\n");
		return -ENODEV;
	}
	if (!sim_cardmem || sim_dma_bits < 12 || !sim_xfer_seg ||
	    (sim_xfer_chain && sim_xfer_seg < PAGE_SIZE) ||
	    sim_xfer_chain > 65536) {
		dev_err(dev, "bad sim_cardmem, sim_dma_bits, sim_xfer_seg or sim_xfer_chain (a chain engine's segment is at least a page)\n");
		return -EINVAL;
	}
	s = devm_kzalloc(dev, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	dev->dma_parms = &s->dma_parms;
	dma_set_max_seg_size(dev, UINT_MAX);
	bits = dmakit_dma_set_mask(dev, sim_dma_bits);
	if (bits < 0) {
		dev->dma_parms = NULL;
		return bits;
	}
	spin_lock_init(&s->lock);
	spin_lock_init(&s->xlock);
	hrtimer_setup(&s->timer, sim_timer_fn, CLOCK_MONOTONIC,
		      HRTIMER_MODE_ABS);
	hrtimer_setup(&s->xtimer, sim_xtimer_fn, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL);
	INIT_WORK(&s->work, sim_stream_work);
	INIT_WORK(&s->xwork, sim_xfer_work);
	s->mem_size = sim_cardmem;
	s->mem = vzalloc(s->mem_size);
	if (!s->mem) {
		ret = -ENOMEM;
		goto err_mem;
	}
	if (sim_xfer_chain) {
		s->xdesc_cap = sim_xfer_chain;
		s->xdesc = dma_alloc_coherent(dev, s->xdesc_cap *
					      sizeof(*s->xdesc),
					      &s->xdesc_bus, GFP_KERNEL);
		if (!s->xdesc) {
			ret = -ENOMEM;
			goto err_mem;
		}
	}

	card = dmakit_card_alloc(dev, dev, sim_xfer_chain ? &sim_hw_ops_chain :
					   &sim_hw_ops_seg, s, "sim");
	if (IS_ERR(card)) {
		ret = PTR_ERR(card);
		goto err_mem;
	}
	card->dma_bits = bits;
	card->card_mem_size = s->mem_size;
	card->xfer_max_seg = sim_xfer_seg;
	card->xfer_max_chain = sim_xfer_chain;
	card->irq_type = DMAKIT_IRQ_NONE;
	card->nvec = 2;
	card->payload = DMAKIT_PAYLOAD_SIM;
	card->rate = sim_rate;
	card->ring_h2c = true;
	card->backend_group = &sim_h2c_group;
	s->card = card;
	ret = dmakit_card_add(card);
	if (ret)
		goto err_card;
	platform_set_drvdata(pdev, s);
	return 0;

err_card:
	dmakit_card_put(card);
err_mem:
	sim_free_xdesc(s);
	vfree(s->mem);
	dev->dma_parms = NULL;
	return ret;
}

static void sim_remove_card(struct platform_device *pdev)
{
	struct dmakit_sim *s = platform_get_drvdata(pdev);

	dmakit_card_remove(s->card);
	/* both engines are idle now; make sure no timer or work is left */
	sim_stream_stop(s->card);
	sim_xfer_abort(s->card);
	dmakit_card_put(s->card);
	sim_free_xdesc(s);
	vfree(s->mem);
	kfree(s->fifo);
	kvfree(s->table);
	pdev->dev.dma_parms = NULL;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static void sim_remove(struct platform_device *pdev)
{
	sim_remove_card(pdev);
}
#else
static int sim_remove(struct platform_device *pdev)
{
	sim_remove_card(pdev);
	return 0;
}
#endif

static struct platform_driver sim_driver = {
	.driver.name = SIM_NAME,
	.probe = sim_probe,
	.remove = sim_remove,
};

int dmakit_sim_init(void)
{
	unsigned int i;
	int ret;

	if (!sim_count)
		return 0;
	if (sim_count > DMAKIT_MAX_CARDS)
		return -EINVAL;
	sim_wq = alloc_workqueue("dmakit-sim", WQ_UNBOUND, 0);
	if (!sim_wq)
		return -ENOMEM;
	ret = platform_driver_register(&sim_driver);
	if (ret)
		goto err_wq;
	sim_pdevs = kcalloc(sim_count, sizeof(*sim_pdevs), GFP_KERNEL);
	if (!sim_pdevs) {
		ret = -ENOMEM;
		goto err_driver;
	}
	for (i = 0; i < sim_count; i++) {
		struct platform_device_info info = {
			.name = SIM_NAME,
			.id = i,
			.dma_mask = DMA_BIT_MASK(64),
		};

		sim_pdevs[i] = platform_device_register_full(&info);
		if (IS_ERR(sim_pdevs[i])) {
			ret = PTR_ERR(sim_pdevs[i]);
			sim_pdevs[i] = NULL;
			goto err_devices;
		}
	}
	return 0;

err_devices:
	while (i--)
		platform_device_unregister(sim_pdevs[i]);
	kfree(sim_pdevs);
	sim_pdevs = NULL;
err_driver:
	platform_driver_unregister(&sim_driver);
err_wq:
	destroy_workqueue(sim_wq);
	sim_wq = NULL;
	return ret;
}

void dmakit_sim_exit(void)
{
	unsigned int i;

	if (!sim_wq)
		return;
	for (i = 0; i < sim_count; i++)
		platform_device_unregister(sim_pdevs[i]);
	kfree(sim_pdevs);
	platform_driver_unregister(&sim_driver);
	destroy_workqueue(sim_wq);
}
