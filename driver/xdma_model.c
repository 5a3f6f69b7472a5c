// SPDX-License-Identifier: GPL-2.0
/*
 * A model of a card built on Xilinx's XDMA (PG195), as hardware: a
 * platform device per "sim_xdma" module parameter whose registers are
 * reached only through struct xdma_io, driven by the xdma backend (xdma.c)
 * exactly as that backend would drive a PCI card's BARs.
 *
 * DMA BAR (xdma_regs.h): every block's identifier; C2H channel 0 in AXI-ST
 * mode with its control (run, interrupt enables, poll-mode writeback),
 * status (write-1-to-clear and read-to-clear), completed-descriptor count,
 * writeback address and interrupt enable mask; its SGDMA block (first
 * descriptor address, adjacent count); the IRQ block's channel interrupt
 * enable/request/pending and vector numbers.  Run 0 -> 1 starts the
 * engine at the SGDMA descriptor address: it fetches each 32-byte
 * descriptor from host memory by bus address, stops on a bad magic
 * (magic-stopped, interrupt), writes the stream's bytes to the
 * descriptor's destination, the C2H writeback (magic, length, end of
 * packet) to its source address, the completed count to the writeback
 * address, and follows the next pointer until a descriptor with STOP
 * (descriptor-stopped, interrupt).  A descriptor with COMPLETED raises
 * descriptor-completed.  Clearing run stops the engine after the
 * descriptor it is moving; busy drops then, and it writes nothing more.
 *
 * User BAR (xdma.h): the acquisition logic feeding the stream, a packet
 * per ring buffer at a rate, with its metadata FIFO.
 *
 * Not modelled: the H2C channels and the AXI-MM (card memory) mode, more
 * than one channel, descriptor prefetch (adjacent counts are accepted,
 * not used), descriptor credits, the user interrupts, the config BAR, the
 * performance counters; a bus error reports descriptor-error (fetch) or
 * read-error (data) without PG195's finer split.
 *
 * Each channel's interrupt is its own vector: the model calls the
 * backend's handler for the vector number in the IRQ block's register,
 * from the engine's work item (as a threaded handler runs).  With
 * sim_xdma_bad_desc=N the next N descriptor fetches read a corrupted magic
 * (a test's fault on the bus).
 */
#include <linux/crc32c.h>
#include <linux/dma-map-ops.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/version.h>

#include "dmakit.h"
#include "xdma.h"
#include "xdma_regs.h"

static unsigned int sim_xdma_count;
module_param_named(sim_xdma, sim_xdma_count, uint, 0444);
MODULE_PARM_DESC(sim_xdma, "modelled XDMA cards to create (default 0)");

static atomic_t sim_xdma_bad_desc = ATOMIC_INIT(0);
module_param_named(sim_xdma_bad_desc, sim_xdma_bad_desc.counter, int, 0644);
MODULE_PARM_DESC(sim_xdma_bad_desc,
		 "descriptor fetches of the modelled XDMA cards that read a bad magic from now (tests; default 0)");

#define XM_NAME		"dmakit-xdma"
#define XM_VERSION	0x06	/* identifier [7:0] */
/* descriptors moved before the engine's work yields */
#define XM_BUDGET	16
#define XM_C2H_IRQ_BIT	BIT(XDMA_MAX_CHANNELS + 0)	/* after the H2C bits */

struct xm_meta {
	u64 seq;
	u64 ts;
	u32 lost;
	u32 crc;
	u32 flags;
};

struct xdma_model {
	struct device *dev;
	struct device_dma_parameters dma_parms;
	struct dmakit_xdma *xd;
	spinlock_t lock;		/* everything below */

	/* C2H channel 0 and its SGDMA block */
	u32 ctrl;
	u32 status;
	u32 completed;
	u32 int_en;
	u32 wb_lo, wb_hi;
	u32 desc_lo, desc_hi, desc_adj;
	bool busy;
	bool moving;			/* a descriptor's data is on the bus */
	dma_addr_t next_desc;

	/* IRQ block */
	u32 chan_int_en;
	u32 chan_int_req;
	u32 h2c_vec, c2h_vec;

	/* user logic: the packet source and its metadata FIFO */
	u32 src_ctrl;
	u32 pkt_len;
	u64 rate;
	u64 t0_ns;
	u64 buf_ns;			/* ns per packet at the rate, 0: max */
	u64 gen_ns;			/* measured cost of one packet */
	u64 next_drop_ns;
	u64 seq;
	u64 lost;			/* drops before the next packet */
	u64 drops;
	bool in_pkt;
	u32 pkt_off;
	u32 pkt_crc;
	u64 pkt_ts;
	u64 pkt_t;			/* when it started (gen_ns) */
	struct xm_meta *meta;
	u32 meta_head, meta_count;

	struct hrtimer timer;
	struct work_struct work;
};

static struct workqueue_struct *xm_wq;
static struct platform_device **xm_pdevs;

static u32 xm_identifier(u32 target, bool stream, u32 chan)
{
	return XDMA_SUBSYSTEM_ID << 20 | target << 16 |
	       (stream ? XDMA_ID_STREAM : 0) | chan << 8 | XM_VERSION;
}

/* Under @lock: the oldest unfinished packet ends in the FIFO, flagged. */
static void xm_meta_push(struct xdma_model *m, u32 flags)
{
	struct xm_meta *e;

	if (m->meta_count == XDMA_SRC_META_DEPTH)
		return;		/* never: the source waits for room */
	e = &m->meta[(m->meta_head + m->meta_count) % XDMA_SRC_META_DEPTH];
	*e = (struct xm_meta){
		.seq = m->seq,
		.ts = m->pkt_ts,
		.lost = min_t(u64, m->lost, U32_MAX),
		.crc = ~m->pkt_crc,
		.flags = flags,
	};
	m->meta_count++;
	m->seq++;
	m->lost = 0;
	m->in_pkt = false;
}

/* Under @lock: the engine stops; a packet it was writing is cut off. */
static void xm_engine_halt(struct xdma_model *m)
{
	m->busy = false;
	if (m->in_pkt)
		xm_meta_push(m, XDMA_SRC_META_ABORTED);
}

/* Under @lock: an event the channel may interrupt for.  True: raise it. */
static bool xm_event(struct xdma_model *m, u32 stat, u32 ie)
{
	m->status |= stat;
	if (!(m->int_en & ie))
		return false;
	m->chan_int_req |= XM_C2H_IRQ_BIT;
	return m->chan_int_en & XM_C2H_IRQ_BIT;
}

static void xm_raise(struct xdma_model *m)
{
	u32 vec;

	spin_lock(&m->lock);
	vec = (m->c2h_vec >> XDMA_IRQ_VECTOR_SHIFT(0)) & XDMA_IRQ_VECTOR_MASK;
	spin_unlock(&m->lock);
	dmakit_xdma_irq(READ_ONCE(m->xd), vec);
}

static void xm_arm(struct xdma_model *m, u64 when_ns)
{
	hrtimer_start(&m->timer, ns_to_ktime(when_ns), HRTIMER_MODE_ABS);
}

/*
 * Under @lock: is a packet ready to go into the engine?  Starts it (true),
 * or drops or holds it back, arming the timer for its pace (false).
 */
static bool xm_source_ready(struct xdma_model *m)
{
	u64 now, due;

	if (m->in_pkt)
		return true;
	if (!(m->src_ctrl & XDMA_SRC_CTRL_RUN) || !m->pkt_len)
		return false;
	now = ktime_get_ns();
	for (;;) {
		due = m->t0_ns + m->seq * m->buf_ns;
		if (m->buf_ns && now < due) {
			xm_arm(m, due);
			return false;
		}
		if (m->busy && m->meta_count < XDMA_SRC_META_DEPTH)
			break;
		/* no free descriptor: back-pressure, or the packet is lost */
		if (!(m->src_ctrl & XDMA_SRC_CTRL_DROP))
			return false;
		if (!m->buf_ns) {
			/* as fast as it can: a drop takes a packet's time */
			if (!m->next_drop_ns)
				m->next_drop_ns = now + max_t(u64, m->gen_ns,
							      NSEC_PER_USEC);
			if (now < m->next_drop_ns) {
				xm_arm(m, m->next_drop_ns);
				return false;
			}
			m->next_drop_ns = 0;
		}
		m->seq++;
		m->lost++;
		m->drops++;
	}
	m->next_drop_ns = 0;
	m->in_pkt = true;
	m->pkt_off = 0;
	m->pkt_crc = ~0U;
	m->pkt_ts = (m->buf_ns ? due : now) - m->t0_ns;
	m->pkt_t = now;
	return true;
}

static void xm_write_count(struct xdma_model *m, dma_addr_t wb, u32 count)
{
	__le32 v = cpu_to_le32(count);

	dmakit_sim_bus_write(m->dev, wb, &v, sizeof(v));
}

/*
 * One descriptor, as the engine runs it: fetch, check, move the stream's
 * bytes, write back.  Called with @lock held and a packet ready; returns
 * with it held.  True: go on with the next descriptor.
 */
static bool xm_run_desc(struct xdma_model *m, bool *irq)
{
	dma_addr_t at = m->next_desc, dst, wb_addr;
	dma_addr_t pollwb = (u64)m->wb_hi << 32 | m->wb_lo;
	bool poll = m->ctrl & XDMA_CTRL_POLL_WB_ENABLE, eop;
	struct dmakit_sim_fill fill;
	struct xdma_c2h_wb wb;
	struct xdma_desc d;
	u32 ctl, len, n, count;
	int err;

	m->moving = true;
	spin_unlock(&m->lock);
	err = dmakit_sim_bus_read(m->dev, at, &d, sizeof(d));
	if (!err && atomic_add_unless(&sim_xdma_bad_desc, -1, 0))
		d.control ^= cpu_to_le32(0x0100 << XDMA_DESC_MAGIC_SHIFT);
	ctl = le32_to_cpu(d.control);
	spin_lock(&m->lock);
	if (err || ctl >> XDMA_DESC_MAGIC_SHIFT != XDMA_DESC_MAGIC ||
	    !(le32_to_cpu(d.len) & XDMA_DESC_LEN_MAX)) {
		m->moving = false;
		xm_engine_halt(m);
		if (err)
			*irq |= xm_event(m, XDMA_STAT_DESC_ERROR_FIRST, XDMA_CTRL_IE_DESC_ERROR);
		else
			*irq |= xm_event(m, XDMA_STAT_MAGIC_STOPPED,
					 XDMA_CTRL_IE_MAGIC_STOPPED);
		return false;
	}
	len = le32_to_cpu(d.len) & XDMA_DESC_LEN_MAX;
	n = min(len, m->pkt_len - m->pkt_off);
	fill = (struct dmakit_sim_fill){
		.base = m->seq * DMAKIT_PAYLOAD_K1,
		.k = (u64)(m->pkt_off / 8 + 1) * DMAKIT_PAYLOAD_K2,
		.crc = m->pkt_crc,
	};
	spin_unlock(&m->lock);

	dst = (u64)le32_to_cpu(d.dst_hi) << 32 | le32_to_cpu(d.dst_lo);
	wb_addr = (u64)le32_to_cpu(d.src_hi) << 32 | le32_to_cpu(d.src_lo);
	err = dmakit_sim_bus_access(m->dev, dst, n, dmakit_sim_fill_chunk,
				    &fill);
	eop = !err && m->pkt_off + n == m->pkt_len;
	if (!err) {
		wb.status = cpu_to_le32(XDMA_WB_MAGIC << XDMA_WB_MAGIC_SHIFT |
					(eop ? XDMA_WB_EOP : 0));
		wb.len = cpu_to_le32(n);
		err = dmakit_sim_bus_write(m->dev, wb_addr, &wb, sizeof(wb));
	}

	spin_lock(&m->lock);
	m->moving = false;
	if (err) {
		xm_engine_halt(m);
		*irq |= xm_event(m, XDMA_STAT_READ_ERROR_FIRST, XDMA_CTRL_IE_READ_ERROR);
		return false;
	}
	m->pkt_off += n;
	m->pkt_crc = fill.crc;
	if (eop) {
		u64 t = ktime_get_ns() - m->pkt_t;

		m->gen_ns = (m->gen_ns * 7 + t) / 8;
		xm_meta_push(m, 0);
	}
	count = ++m->completed;
	m->next_desc = (u64)le32_to_cpu(d.next_hi) << 32 |
		       le32_to_cpu(d.next_lo);
	if (!(m->ctrl & XDMA_CTRL_RUN) || (ctl & XDMA_DESC_STOP))
		xm_engine_halt(m);
	/* data and writeback land before the count that announces them */
	wmb();
	if (poll)
		xm_write_count(m, pollwb, count |
			       (m->busy ? 0 : XDMA_WB_STOPPED));
	if (!(m->ctrl & XDMA_CTRL_RUN))
		return false;
	if (ctl & XDMA_DESC_STOP) {
		*irq |= xm_event(m, XDMA_STAT_DESC_STOPPED |
				 (ctl & XDMA_DESC_COMPLETED ?
				  XDMA_STAT_DESC_COMPLETED : 0),
				 XDMA_CTRL_IE_DESC_STOPPED);
		return false;
	}
	if (ctl & XDMA_DESC_COMPLETED)
		*irq |= xm_event(m, XDMA_STAT_DESC_COMPLETED,
				 XDMA_CTRL_IE_DESC_COMPLETED);
	return true;
}

static void xm_work(struct work_struct *work)
{
	struct xdma_model *m = container_of(work, struct xdma_model, work);
	unsigned int budget = XM_BUDGET;
	bool irq = false, more = true;

	while (more && budget--) {
		spin_lock(&m->lock);
		more = xm_source_ready(m) && m->busy &&
		       xm_run_desc(m, &irq);
		spin_unlock(&m->lock);
		/* the interrupt of each event, before the engine goes on */
		if (irq)
			xm_raise(m);
		irq = false;
		cond_resched();
	}
	if (more)
		queue_work(xm_wq, &m->work);
}

static enum hrtimer_restart xm_timer_fn(struct hrtimer *t)
{
	struct xdma_model *m = container_of(t, struct xdma_model, timer);

	queue_work(xm_wq, &m->work);
	return HRTIMER_NORESTART;
}

/* Under @lock: control written; run 0 -> 1 starts the engine. */
static bool xm_set_ctrl(struct xdma_model *m, u32 v)
{
	bool start = !(m->ctrl & XDMA_CTRL_RUN) && (v & XDMA_CTRL_RUN);

	m->ctrl = v;
	if (start) {
		m->busy = true;
		m->completed = 0;
		m->status &= ~(XDMA_STAT_DESC_STOPPED |
			       XDMA_STAT_DESC_COMPLETED | XDMA_STAT_ERRORS);
		m->next_desc = (u64)m->desc_hi << 32 | m->desc_lo;
		return true;
	}
	if (!(v & XDMA_CTRL_RUN) && m->busy && !m->moving)
		xm_engine_halt(m);	/* between descriptors: at once */
	return false;
}

static void xm_set_src_ctrl(struct xdma_model *m, u32 v)
{
	if (!(m->src_ctrl & XDMA_SRC_CTRL_RUN) && (v & XDMA_SRC_CTRL_RUN)) {
		m->seq = 0;
		m->lost = 0;
		m->drops = 0;
		m->in_pkt = false;
		m->meta_head = 0;
		m->meta_count = 0;
		m->next_drop_ns = 0;
		m->t0_ns = ktime_get_ns();
		m->buf_ns = m->rate ? div64_u64((u64)m->pkt_len * NSEC_PER_SEC,
						m->rate) : 0;
	}
	m->src_ctrl = v;
}

static u32 xm_rd_user(struct xdma_model *m, u32 off)
{
	const struct xm_meta *e = m->meta_count ? &m->meta[m->meta_head] :
				  NULL;

	switch (off) {
	case XDMA_SRC_ID:
		return XDMA_SRC_ID_VALUE;
	case XDMA_SRC_CTRL:
		return m->src_ctrl;
	case XDMA_SRC_PKT_LEN:
		return m->pkt_len;
	case XDMA_SRC_RATE_LO:
		return lower_32_bits(m->rate);
	case XDMA_SRC_RATE_HI:
		return upper_32_bits(m->rate);
	case XDMA_SRC_DROPS_LO:
		return lower_32_bits(m->drops);
	case XDMA_SRC_DROPS_HI:
		return upper_32_bits(m->drops);
	case XDMA_SRC_META_COUNT:
		return m->meta_count;
	}
	if (!e)
		return 0;
	switch (off) {
	case XDMA_SRC_META_SEQ_LO:
		return lower_32_bits(e->seq);
	case XDMA_SRC_META_SEQ_HI:
		return upper_32_bits(e->seq);
	case XDMA_SRC_META_TS_LO:
		return lower_32_bits(e->ts);
	case XDMA_SRC_META_TS_HI:
		return upper_32_bits(e->ts);
	case XDMA_SRC_META_LOST:
		return e->lost;
	case XDMA_SRC_META_CRC:
		return e->crc;
	case XDMA_SRC_META_FLAGS:
		return e->flags;
	}
	return 0;
}

/* Returns whether the engine's work should run. */
static bool xm_wr_user(struct xdma_model *m, u32 off, u32 v)
{
	switch (off) {
	case XDMA_SRC_CTRL:
		/* it starts timing; the engine's start kicks the work */
		xm_set_src_ctrl(m, v);
		break;
	case XDMA_SRC_PKT_LEN:
		m->pkt_len = v & ~7U;
		break;
	case XDMA_SRC_RATE_LO:
		m->rate = (m->rate & ~0xffffffffULL) | v;
		break;
	case XDMA_SRC_RATE_HI:
		m->rate = (m->rate & 0xffffffffULL) | (u64)v << 32;
		break;
	case XDMA_SRC_META_POP:
		if (m->meta_count) {
			m->meta_head = (m->meta_head + 1) % XDMA_SRC_META_DEPTH;
			m->meta_count--;
			return true;	/* room again for a waiting source */
		}
		break;
	}
	return false;
}

static u32 xm_rd_dma(struct xdma_model *m, u32 off)
{
	u32 block = off & ~(XDMA_CHAN_STRIDE - 1), reg = off & 0xff, v;

	if (reg == XDMA_REG_IDENTIFIER) {
		switch (block) {
		case XDMA_H2C_CHAN(0):
			return xm_identifier(XDMA_TARGET_H2C, true, 0);
		case XDMA_C2H_CHAN(0):
			return xm_identifier(XDMA_TARGET_C2H, true, 0);
		case XDMA_IRQ_BLOCK:
			return xm_identifier(XDMA_TARGET_IRQ, false, 0);
		case XDMA_H2C_SGDMA(0):
			return xm_identifier(XDMA_TARGET_H2C_SGDMA, false, 0);
		case XDMA_C2H_SGDMA(0):
			return xm_identifier(XDMA_TARGET_C2H_SGDMA, false, 0);
		case XDMA_SGDMA_COMMON:
			return xm_identifier(XDMA_TARGET_SGDMA_COMMON, false,
					     0);
		}
		return 0;
	}
	switch (off) {
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_CONTROL:
		return m->ctrl;
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_STATUS:
		return m->status | (m->busy ? XDMA_STAT_BUSY : 0);
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_STATUS_RC:
		v = m->status | (m->busy ? XDMA_STAT_BUSY : 0);
		m->status = 0;
		m->chan_int_req &= ~XM_C2H_IRQ_BIT;
		return v;
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_COMPLETED_DESC:
		return m->completed;
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_POLL_WB_LO:
		return m->wb_lo;
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_POLL_WB_HI:
		return m->wb_hi;
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_INT_ENABLE:
		return m->int_en;
	case XDMA_C2H_SGDMA(0) + XDMA_SGDMA_DESC_LO:
		return m->desc_lo;
	case XDMA_C2H_SGDMA(0) + XDMA_SGDMA_DESC_HI:
		return m->desc_hi;
	case XDMA_C2H_SGDMA(0) + XDMA_SGDMA_DESC_ADJACENT:
		return m->desc_adj;
	case XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_EN:
		return m->chan_int_en;
	case XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_REQUEST:
		return m->chan_int_req;
	case XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_PENDING:
		return m->chan_int_req & m->chan_int_en;
	case XDMA_IRQ_BLOCK + XDMA_IRQ_H2C_VECTOR:
		return m->h2c_vec;
	case XDMA_IRQ_BLOCK + XDMA_IRQ_C2H_VECTOR:
		return m->c2h_vec;
	}
	return 0;
}

/* Returns whether the engine's work should run. */
static bool xm_wr_dma(struct xdma_model *m, u32 off, u32 v)
{
	switch (off) {
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_CONTROL:
		return xm_set_ctrl(m, v);
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_CONTROL_W1S:
		return xm_set_ctrl(m, m->ctrl | v);
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_CONTROL_W1C:
		return xm_set_ctrl(m, m->ctrl & ~v);
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_STATUS:
		m->status &= ~v;
		break;
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_POLL_WB_LO:
		m->wb_lo = v;
		break;
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_POLL_WB_HI:
		m->wb_hi = v;
		break;
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_INT_ENABLE:
		m->int_en = v;
		break;
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_INT_ENABLE_W1S:
		m->int_en |= v;
		break;
	case XDMA_C2H_CHAN(0) + XDMA_CHAN_INT_ENABLE_W1C:
		m->int_en &= ~v;
		break;
	case XDMA_C2H_SGDMA(0) + XDMA_SGDMA_DESC_LO:
		m->desc_lo = v;
		break;
	case XDMA_C2H_SGDMA(0) + XDMA_SGDMA_DESC_HI:
		m->desc_hi = v;
		break;
	case XDMA_C2H_SGDMA(0) + XDMA_SGDMA_DESC_ADJACENT:
		m->desc_adj = v & XDMA_DESC_NEXT_ADJ_MASK;
		break;
	case XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_EN:
		m->chan_int_en = v;
		break;
	case XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_EN_W1S:
		m->chan_int_en |= v;
		break;
	case XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_EN_W1C:
		m->chan_int_en &= ~v;
		break;
	case XDMA_IRQ_BLOCK + XDMA_IRQ_H2C_VECTOR:
		m->h2c_vec = v;
		break;
	case XDMA_IRQ_BLOCK + XDMA_IRQ_C2H_VECTOR:
		m->c2h_vec = v;
		break;
	}
	return false;
}

static u32 xm_rd(void *ctx, unsigned int bar, u32 off)
{
	struct xdma_model *m = ctx;
	u32 v = ~0U;	/* no such BAR: a master abort reads all-ones */

	spin_lock(&m->lock);
	if (bar == XDMA_BAR_USER)
		v = xm_rd_user(m, off);
	else if (bar == XDMA_BAR_DMA && off < XDMA_BAR_SIZE)
		v = xm_rd_dma(m, off);
	spin_unlock(&m->lock);
	return v;
}

static void xm_wr(void *ctx, unsigned int bar, u32 off, u32 v)
{
	struct xdma_model *m = ctx;
	bool kick = false;

	/* as iowrite32: the CPU's memory writes before the register's */
	wmb();
	spin_lock(&m->lock);
	if (bar == XDMA_BAR_USER)
		kick = xm_wr_user(m, off, v);
	else if (bar == XDMA_BAR_DMA)
		kick = xm_wr_dma(m, off, v);
	spin_unlock(&m->lock);
	if (kick)
		queue_work(xm_wq, &m->work);
}

/* The handlers run from the engine's work: synchronize_irq() is a flush. */
static void xm_sync_irq(void *ctx, unsigned int vec)
{
	struct xdma_model *m = ctx;

	flush_work(&m->work);
}

static const struct xdma_io xm_io = {
	.rd = xm_rd,
	.wr = xm_wr,
	.sync_irq = xm_sync_irq,
};

static int xm_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct xdma_model *m;
	int ret;

	/* the engine translates bus addresses as dma-direct does */
	if (get_dma_ops(dev)) {
		dev_err(dev, "DMA ops in use: the model handles dma-direct only\n");
		return -ENODEV;
	}
	m = devm_kzalloc(dev, sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->meta = devm_kcalloc(dev, XDMA_SRC_META_DEPTH, sizeof(*m->meta),
			       GFP_KERNEL);
	if (!m->meta)
		return -ENOMEM;
	m->dev = dev;
	dev->dma_parms = &m->dma_parms;
	dma_set_max_seg_size(dev, XDMA_DESC_LEN_MAX & PAGE_MASK);
	spin_lock_init(&m->lock);
	hrtimer_setup(&m->timer, xm_timer_fn, CLOCK_MONOTONIC,
		      HRTIMER_MODE_ABS);
	INIT_WORK(&m->work, xm_work);
	platform_set_drvdata(pdev, m);
	ret = dmakit_xdma_attach(&m->xd, dev, dev, &xm_io, m);
	if (ret) {
		dev->dma_parms = NULL;
		return ret;
	}
	return 0;
}

static void xm_remove_card(struct platform_device *pdev)
{
	struct xdma_model *m = platform_get_drvdata(pdev);

	dmakit_xdma_detach(m->xd);
	/* the engine is stopped: no timer or work may be left */
	spin_lock(&m->lock);
	m->src_ctrl = 0;
	m->busy = false;
	spin_unlock(&m->lock);
	hrtimer_cancel(&m->timer);
	cancel_work_sync(&m->work);
	hrtimer_cancel(&m->timer);
	pdev->dev.dma_parms = NULL;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static void xm_remove(struct platform_device *pdev)
{
	xm_remove_card(pdev);
}
#else
static int xm_remove(struct platform_device *pdev)
{
	xm_remove_card(pdev);
	return 0;
}
#endif

static struct platform_driver xm_driver = {
	.driver.name = XM_NAME,
	.probe = xm_probe,
	.remove = xm_remove,
};

int dmakit_xdma_model_init(void)
{
	unsigned int i;
	int ret;

	if (!sim_xdma_count)
		return 0;
	if (sim_xdma_count > DMAKIT_MAX_CARDS)
		return -EINVAL;
	xm_wq = alloc_workqueue("dmakit-xdma", WQ_UNBOUND, 0);
	if (!xm_wq)
		return -ENOMEM;
	ret = platform_driver_register(&xm_driver);
	if (ret)
		goto err_wq;
	xm_pdevs = kcalloc(sim_xdma_count, sizeof(*xm_pdevs), GFP_KERNEL);
	if (!xm_pdevs) {
		ret = -ENOMEM;
		goto err_driver;
	}
	for (i = 0; i < sim_xdma_count; i++) {
		struct platform_device_info info = {
			.name = XM_NAME,
			.id = i,
			.dma_mask = DMA_BIT_MASK(64),
		};

		xm_pdevs[i] = platform_device_register_full(&info);
		if (IS_ERR(xm_pdevs[i])) {
			ret = PTR_ERR(xm_pdevs[i]);
			goto err_devices;
		}
	}
	return 0;

err_devices:
	while (i--)
		platform_device_unregister(xm_pdevs[i]);
	kfree(xm_pdevs);
	xm_pdevs = NULL;
err_driver:
	platform_driver_unregister(&xm_driver);
err_wq:
	destroy_workqueue(xm_wq);
	xm_wq = NULL;
	return ret;
}

void dmakit_xdma_model_exit(void)
{
	unsigned int i;

	if (!xm_wq)
		return;
	for (i = 0; i < sim_xdma_count; i++)
		platform_device_unregister(xm_pdevs[i]);
	kfree(xm_pdevs);
	platform_driver_unregister(&xm_driver);
	destroy_workqueue(xm_wq);
	xm_wq = NULL;
}
