// SPDX-License-Identifier: GPL-2.0
/*
 * A model of a card built on Xilinx's XDMA (PG195), as hardware: a
 * platform device per "sim_xdma" module parameter whose registers are
 * reached only through struct xdma_io, driven by the xdma backend (xdma.c)
 * exactly as that backend would drive a PCI card's BARs.
 *
 * DMA BAR (xdma_regs.h): every block's identifier; H2C and C2H channels
 * 0..sim_xdma_channels-1 (PG195's offsets: channel n at +n * 0x100 in the
 * channel and SGDMA blocks) in AXI-ST mode, each with its control (run, interrupt enables,
 * poll-mode writeback), status (write-1-to-clear and read-to-clear),
 * completed-descriptor count, writeback address and interrupt enable
 * mask; its SGDMA block (first descriptor address, adjacent count); the
 * IRQ block's channel interrupt enable/request/pending and vector
 * numbers.  Run 0 -> 1 starts the engine at the SGDMA descriptor address:
 * it fetches each 32-byte descriptor from host memory by bus address,
 * stops on a bad magic (magic-stopped, interrupt), writes the stream's
 * bytes to the descriptor's destination, the C2H writeback (magic,
 * length, end of packet) to its source address, the completed count to
 * the writeback address, and follows the next pointer until a descriptor
 * with STOP (descriptor-stopped, interrupt).  A descriptor with COMPLETED
 * raises descriptor-completed.  The H2C engine reads each descriptor's
 * bytes from its source address into the stream (no writeback: the count
 * says what was read), a descriptor with EOP ending a packet.  Clearing
 * run stops an engine after the descriptor it is moving; busy drops
 * then, and it touches no memory any more.
 *
 * User BAR (xdma.h): per channel, the acquisition logic feeding its C2H
 * stream, a packet per ring buffer at a rate, numbered from the channel's
 * own first sequence number, with its metadata FIFO; the sink taking its
 * H2C stream, with its counters and packet FIFO.
 *
 * With sim_xdma_mm=1 the card is built for AXI-MM instead (as PG195's IP
 * is, for all its channels): identifiers without the AXI-ST bit, no user
 * logic, 1 MiB of card memory that each H2C descriptor writes from its
 * host source to its card destination and each C2H descriptor reads from
 * its card source to its host destination.
 *
 * Not modelled: descriptor prefetch (adjacent counts are accepted, not used), descriptor credits,
 * the user interrupts, the config BAR, the performance counters; a bus
 * error reports descriptor-error (fetch), read-error (H2C data) or
 * write-error (C2H data) in the field's first bit, without PG195's finer
 * split.
 *
 * Each channel engine's interrupt is the vector number in its byte of
 * the IRQ block's vector register.  The device has sim_xdma_vectors
 * vectors (default two per channel), which the backend is told as a PCI
 * driver is by pci_alloc_irq_vectors(): real Linux interrupts from an IRQ
 * domain of the card's own (dummy_irq_chip, handle_simple_irq), each
 * requested threaded as a PCI binding would request its MSI-X vectors,
 * named after what raises it (dmakit_xdma_vec_name(): e.g.
 * "dmakit-xdma.0-c2h1", or "-shared"), counted in /proc/interrupts.  An
 * engine raises its vector with generic_handle_irq_safe() from its work
 * item (a vector number the device was not given raises nothing); the
 * vector's thread runs the backend's handler.  In test builds (DMAKIT_FAULTS=1), a test's
 * faults on the bus: sim_xdma_bad_desc=N makes the next N descriptor
 * fetches read a corrupted magic, sim_xdma_bad_data=N the next N
 * descriptors' data moves fail (write-error for C2H, read-error for H2C),
 * sim_xdma_stall=1 holds every engine where it is (busy, nothing moves,
 * no interrupt) until it is cleared or the engine is stopped, and
 * sim_xdma_vanished=1 makes the card gone (registers read all-ones,
 * writes are lost, engines stand still) until it is cleared;
 * sim_xdma_vanish_at_irq=N makes it gone just before each of the next N
 * interrupts it raises, so the handler finds all-ones (the race a card
 * pulled mid-stream gives), sim_xdma_vanish_at_meta=N as the driver reads
 * a metadata FIFO's count, after a good status (the same race, later).
 */
#include <linux/crc32c.h>
#include <linux/dma-map-ops.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#include "dmakit.h"
#include "xdma.h"
#include "xdma_regs.h"

static unsigned int sim_xdma_count;
module_param_named(sim_xdma, sim_xdma_count, uint, 0444);
MODULE_PARM_DESC(sim_xdma, "modelled XDMA cards to create (default 0)");

static bool sim_xdma_mm;
module_param(sim_xdma_mm, bool, 0444);
MODULE_PARM_DESC(sim_xdma_mm,
		 "modelled XDMA cards built for AXI-MM: their channels move card memory (transactions) instead of streams (default 0: AXI-ST)");

#define XM_MM_SIZE	SZ_1M	/* card memory of an AXI-MM card */

static unsigned int sim_xdma_channels = 1;
module_param(sim_xdma_channels, uint, 0444);
MODULE_PARM_DESC(sim_xdma_channels,
		 "channels per direction of each modelled XDMA card, 1..4, each a /dev/dmakitN (default 1)");

static unsigned int sim_xdma_vectors;
module_param(sim_xdma_vectors, uint, 0444);
MODULE_PARM_DESC(sim_xdma_vectors,
		 "interrupt vectors each modelled XDMA card is given (default 0: two per channel, one per engine; fewer: the last is shared)");

#define XM_NAME		"dmakit-xdma"
#define XM_VERSION	0x06	/* identifier [7:0] */
/* descriptors moved before the engine's work yields */
#define XM_BUDGET	16

struct xm_meta {
	u64 seq;
	u64 ts;
	u32 lost;
	u32 crc;
	u32 flags;
};

struct xdma_model;
struct xm_user;

/* One of the card's vectors: a Linux interrupt of the card's domain. */
struct xm_vec {
	struct xdma_model *m;
	unsigned int vec;		/* the hardware number, its hwirq */
	unsigned int virq;		/* 0: not mapped */
	bool requested;
	char *name;
};

/* One channel engine and its SGDMA block; the model's @lock covers it. */
struct xm_chan {
	struct xdma_model *m;
	struct xm_user *u;		/* the user logic behind it */
	unsigned int idx;		/* channel n */
	bool h2c;
	u32 irq_bit;			/* in the IRQ block's channel masks */
	u32 ctrl;
	u32 status;
	u32 completed;
	u32 int_en;
	u32 wb_lo, wb_hi;
	u32 desc_lo, desc_hi, desc_adj;
	bool busy;
	bool moving;			/* a descriptor's data is on the bus */
	dma_addr_t next_desc;
	struct work_struct work;	/* the engine; raises its vector */
};

struct xm_sink_meta {
	u32 len;
	u32 crc;
	u32 flags;
};

/* Channel n's user logic (xdma.h): its packet source and its sink. */
struct xm_user {
	struct xm_chan *c2h, *h2c;	/* the engines it feeds, drains */

	/* the packet source and its metadata FIFO */
	u32 src_ctrl;
	u32 pkt_len;
	u64 rate;
	u64 seq_base;			/* n << XDMA_SRC_SEQ_CHAN_SHIFT */
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
	struct hrtimer timer;		/* the source's pace */

	/* the H2C sink */
	u64 rx_bytes;
	u32 rx_packets;
	u32 rx_crc;			/* running register, ~0 seeded */
	u32 rx_pkt_len;
	u32 rx_pkt_crc;
	struct xm_sink_meta *rx_meta;
	u32 rx_meta_head, rx_meta_count;
};

struct xdma_model {
	struct device *dev;
	struct device_dma_parameters dma_parms;
	struct dmakit_xdma *xd;
	spinlock_t lock;		/* everything below and in the channels */

	unsigned int nchan;
	struct xm_chan h2c[XDMA_MAX_CHANNELS], c2h[XDMA_MAX_CHANNELS];
	struct xm_user user[XDMA_MAX_CHANNELS];
	u8 *mem;			/* AXI-MM: card memory, else NULL */

	/* IRQ block */
	u32 chan_int_en;
	u32 chan_int_req;
	u32 h2c_vec, c2h_vec;		/* a byte per channel */

	/* the vectors the device was given; set at probe, then constant */
	unsigned int nvec;
	struct fwnode_handle *fwnode;
	struct irq_domain *domain;
	struct xm_vec vecs[XDMA_IRQ_VECTOR_MASK + 1];

	struct list_head node;		/* test builds: xm_models */
};

static struct workqueue_struct *xm_wq;
static struct platform_device **xm_pdevs;

#ifdef DMAKIT_FAULT_INJECT
/* Every engine of @m looks again at what it has to do. */
static void xm_kick_all(struct xdma_model *m)
{
	unsigned int i;

	for (i = 0; i < m->nchan; i++) {
		queue_work(xm_wq, &m->h2c[i].work);
		queue_work(xm_wq, &m->c2h[i].work);
	}
}

/*
 * Test builds only (fault.h): the production module has no such switch.
 * A count takes effect on the next N descriptors of any engine.
 */
static atomic_t sim_xdma_bad_desc = ATOMIC_INIT(0);
module_param_named(sim_xdma_bad_desc, sim_xdma_bad_desc.counter, int, 0644);
MODULE_PARM_DESC(sim_xdma_bad_desc,
		 "descriptor fetches of the modelled XDMA cards that read a bad magic from now (tests; default 0)");

static atomic_t sim_xdma_bad_data = ATOMIC_INIT(0);
module_param_named(sim_xdma_bad_data, sim_xdma_bad_data.counter, int, 0644);
MODULE_PARM_DESC(sim_xdma_bad_data,
		 "descriptors of the modelled XDMA cards whose data move fails on the bus from now (tests; default 0)");

static bool xm_fault_take(atomic_t *count)
{
	return atomic_add_unless(count, -1, 0);
}

static bool xm_fetch_bad_desc(void)
{
	return xm_fault_take(&sim_xdma_bad_desc);
}

static bool xm_bad_data(void)
{
	return xm_fault_take(&sim_xdma_bad_data);
}

/*
 * Switches that hold while set: every engine stops making progress
 * (stall), and the registers read all-ones too (vanished).  Clearing
 * one lets the engines go on where they stood: their work is kicked.
 */
static bool sim_xdma_stall, sim_xdma_vanished;
static LIST_HEAD(xm_models);
static DEFINE_SPINLOCK(xm_models_lock);

static int xm_set_hold(const char *val, const struct kernel_param *kp)
{
	struct xdma_model *m;
	int ret = param_set_bool(val, kp);

	if (ret)
		return ret;
	spin_lock(&xm_models_lock);
	list_for_each_entry(m, &xm_models, node)
		xm_kick_all(m);
	spin_unlock(&xm_models_lock);
	return 0;
}

static const struct kernel_param_ops xm_hold_ops = {
	.set = xm_set_hold,
	.get = param_get_bool,
};

module_param_cb(sim_xdma_stall, &xm_hold_ops, &sim_xdma_stall, 0644);
__MODULE_PARM_TYPE(sim_xdma_stall, "bool");
MODULE_PARM_DESC(sim_xdma_stall,
		 "the modelled XDMA cards' engines make no progress while set (busy, no completion, no interrupt; tests)");
module_param_cb(sim_xdma_vanished, &xm_hold_ops, &sim_xdma_vanished, 0644);
__MODULE_PARM_TYPE(sim_xdma_vanished, "bool");
MODULE_PARM_DESC(sim_xdma_vanished,
		 "the modelled XDMA cards are gone while set: registers read all-ones, writes are lost, engines stand still (tests)");

static bool xm_vanished(void)
{
	return READ_ONCE(sim_xdma_vanished);
}

static atomic_t sim_xdma_vanish_at_irq = ATOMIC_INIT(0);
module_param_named(sim_xdma_vanish_at_irq, sim_xdma_vanish_at_irq.counter,
		   int, 0644);
MODULE_PARM_DESC(sim_xdma_vanish_at_irq,
		 "the next N interrupts of the modelled XDMA cards are raised just after the card vanished (sim_xdma_vanished set; tests; default 0)");

/* The card goes between an engine's event and its handler's reads. */
static void xm_vanish_at_irq(void)
{
	if (xm_fault_take(&sim_xdma_vanish_at_irq))
		WRITE_ONCE(sim_xdma_vanished, true);
}

static atomic_t sim_xdma_vanish_at_meta = ATOMIC_INIT(0);
module_param_named(sim_xdma_vanish_at_meta, sim_xdma_vanish_at_meta.counter,
		   int, 0644);
MODULE_PARM_DESC(sim_xdma_vanish_at_meta,
		 "the next N reads of a metadata FIFO's count of the modelled XDMA cards find the card just vanished (sim_xdma_vanished set; tests; default 0)");

/*
 * The card goes after the handler read a good status, as it reads the
 * metadata of a buffer the engine completed: the read is all-ones.
 */
static bool xm_vanish_at_meta(unsigned int bar, u32 off)
{
	u32 reg = off % XDMA_USER_CHAN(1);

	if (bar != XDMA_BAR_USER ||
	    (reg != XDMA_SRC_META_COUNT && reg != XDMA_SINK_META_COUNT) ||
	    !xm_fault_take(&sim_xdma_vanish_at_meta))
		return false;
	WRITE_ONCE(sim_xdma_vanished, true);
	return true;
}

static bool xm_frozen(void)
{
	return READ_ONCE(sim_xdma_stall) || xm_vanished();
}

static void xm_models_add(struct xdma_model *m)
{
	spin_lock(&xm_models_lock);
	list_add(&m->node, &xm_models);
	spin_unlock(&xm_models_lock);
}

static void xm_models_del(struct xdma_model *m)
{
	spin_lock(&xm_models_lock);
	list_del(&m->node);
	spin_unlock(&xm_models_lock);
}
#else
static bool xm_fetch_bad_desc(void)
{
	return false;
}

static bool xm_bad_data(void)
{
	return false;
}

static bool xm_vanished(void)
{
	return false;
}

static void xm_vanish_at_irq(void)
{
}

static bool xm_vanish_at_meta(unsigned int bar, u32 off)
{
	return false;
}

static bool xm_frozen(void)
{
	return false;
}

static void xm_models_add(struct xdma_model *m)
{
}

static void xm_models_del(struct xdma_model *m)
{
}
#endif

static u32 xm_identifier(u32 target, bool stream, u32 chan)
{
	return XDMA_SUBSYSTEM_ID << 20 | target << 16 |
	       (stream ? XDMA_ID_STREAM : 0) | chan << 8 | XM_VERSION;
}

/* Under @lock: the oldest unfinished packet ends in the FIFO, flagged. */
static void xm_meta_push(struct xm_user *u, u32 flags)
{
	struct xm_meta *e;

	if (u->meta_count == XDMA_SRC_META_DEPTH)
		return;		/* never: the source waits for room */
	e = &u->meta[(u->meta_head + u->meta_count) % XDMA_SRC_META_DEPTH];
	*e = (struct xm_meta){
		.seq = u->seq,
		.ts = u->pkt_ts,
		.lost = min_t(u64, u->lost, U32_MAX),
		.crc = ~u->pkt_crc,
		.flags = flags,
	};
	u->meta_count++;
	u->seq++;
	u->lost = 0;
	u->in_pkt = false;
}

/* Under @lock: a packet the sink got part of ends in its FIFO. */
static void xm_sink_push(struct xm_user *u, u32 flags)
{
	struct xm_sink_meta *e;

	if (u->rx_meta_count == XDMA_SRC_META_DEPTH)
		return;		/* never: the engine waits for room */
	e = &u->rx_meta[(u->rx_meta_head + u->rx_meta_count) %
			XDMA_SRC_META_DEPTH];
	*e = (struct xm_sink_meta){
		.len = u->rx_pkt_len,
		.crc = ~u->rx_pkt_crc,
		.flags = flags,
	};
	u->rx_meta_count++;
	u->rx_pkt_len = 0;
	u->rx_pkt_crc = ~0U;
}

/* Under @lock: the engine stops; a packet it was moving is cut off. */
static void xm_engine_halt(struct xm_chan *ch)
{
	struct xm_user *u = ch->u;

	ch->busy = false;
	if (!ch->h2c && u->in_pkt)
		xm_meta_push(u, XDMA_SRC_META_ABORTED);
	if (ch->h2c && u->rx_pkt_len)
		xm_sink_push(u, XDMA_SRC_META_ABORTED);
}

/* Under @lock: an event the channel may interrupt for.  True: raise it. */
static bool xm_event(struct xm_chan *ch, u32 stat, u32 ie)
{
	struct xdma_model *m = ch->m;

	ch->status |= stat;
	if (!(ch->int_en & ie))
		return false;
	m->chan_int_req |= ch->irq_bit;
	return m->chan_int_en & ch->irq_bit;
}

/* Under @lock: the vector programmed for the channel (its byte). */
static unsigned int xm_vector(struct xm_chan *ch)
{
	u32 v = ch->h2c ? ch->m->h2c_vec : ch->m->c2h_vec;

	return (v >> XDMA_IRQ_VECTOR_SHIFT(ch->idx)) & XDMA_IRQ_VECTOR_MASK;
}

/*
 * The channel's vector: its interrupt (its thread runs the handler).  A
 * number the device was not given has no message: nothing is raised.
 */
static void xm_raise(struct xm_chan *ch)
{
	struct xdma_model *m = ch->m;
	unsigned int vec;

	spin_lock(&m->lock);
	vec = xm_vector(ch);
	spin_unlock(&m->lock);
	xm_vanish_at_irq();
	if (vec < m->nvec)
		generic_handle_irq_safe(m->vecs[vec].virq);
}

static void xm_arm(struct xm_user *u, u64 when_ns)
{
	hrtimer_start(&u->timer, ns_to_ktime(when_ns), HRTIMER_MODE_ABS);
}

/*
 * Under @lock: is a packet ready to go into the engine?  Starts it (true),
 * or drops or holds it back, arming the timer for its pace (false).
 */
static bool xm_source_ready(struct xm_user *u)
{
	u64 now, due;

	if (u->in_pkt)
		return true;
	if (!(u->src_ctrl & XDMA_SRC_CTRL_RUN) || !u->pkt_len)
		return false;
	now = ktime_get_ns();
	for (;;) {
		due = u->t0_ns + (u->seq - u->seq_base) * u->buf_ns;
		if (u->buf_ns && now < due) {
			xm_arm(u, due);
			return false;
		}
		if (u->c2h->busy && u->meta_count < XDMA_SRC_META_DEPTH)
			break;
		/* no free descriptor: back-pressure, or the packet is lost */
		if (!(u->src_ctrl & XDMA_SRC_CTRL_DROP))
			return false;
		if (!u->buf_ns) {
			/* as fast as it can: a drop takes a packet's time */
			if (!u->next_drop_ns)
				u->next_drop_ns = now + max_t(u64, u->gen_ns,
							      NSEC_PER_USEC);
			if (now < u->next_drop_ns) {
				xm_arm(u, u->next_drop_ns);
				return false;
			}
			u->next_drop_ns = 0;
		}
		u->seq++;
		u->lost++;
		u->drops++;
	}
	u->next_drop_ns = 0;
	u->in_pkt = true;
	u->pkt_off = 0;
	u->pkt_crc = ~0U;
	u->pkt_ts = (u->buf_ns ? due : now) - u->t0_ns;
	u->pkt_t = now;
	return true;
}

static void xm_write_count(struct xdma_model *m, dma_addr_t wb, u32 count)
{
	__le32 v = cpu_to_le32(count);

	dmakit_sim_bus_write(m->dev, wb, &v, sizeof(v));
}

/*
 * Fetch the channel's next descriptor, with @lock held (dropped while on
 * the bus; @moving set).  False: a bus error or a bad descriptor stopped
 * the engine (its event raised).
 */
static bool xm_fetch(struct xm_chan *ch, struct xdma_desc *d, bool *irq)
{
	struct xdma_model *m = ch->m;
	dma_addr_t at = ch->next_desc;
	int err;

	ch->moving = true;
	spin_unlock(&m->lock);
	err = dmakit_sim_bus_read(m->dev, at, d, sizeof(*d));
	if (!err && xm_fetch_bad_desc())
		d->control ^= cpu_to_le32(0x0100 << XDMA_DESC_MAGIC_SHIFT);
	spin_lock(&m->lock);
	if (!err &&
	    le32_to_cpu(d->control) >> XDMA_DESC_MAGIC_SHIFT == XDMA_DESC_MAGIC &&
	    (le32_to_cpu(d->len) & XDMA_DESC_LEN_MAX))
		return true;
	ch->moving = false;
	xm_engine_halt(ch);
	if (err)
		*irq |= xm_event(ch, XDMA_STAT_DESC_ERROR_FIRST,
				 XDMA_CTRL_IE_DESC_ERROR);
	else
		*irq |= xm_event(ch, XDMA_STAT_MAGIC_STOPPED,
				 XDMA_CTRL_IE_MAGIC_STOPPED);
	return false;
}

/*
 * Under @lock, descriptor @d done (@err: its data move failed): count it,
 * write the count back, stop at STOP or a cleared run bit, raise its
 * events.  True: go on with the next descriptor.
 */
static bool xm_desc_done(struct xm_chan *ch, const struct xdma_desc *d,
			 int err, bool *irq)
{
	struct xdma_model *m = ch->m;
	u32 ctl = le32_to_cpu(d->control), count;

	ch->moving = false;
	if (err) {
		/* the engine reads host memory for H2C, writes it for C2H */
		xm_engine_halt(ch);
		if (ch->h2c)
			*irq |= xm_event(ch, XDMA_STAT_READ_ERROR_FIRST,
					 XDMA_CTRL_IE_READ_ERROR);
		else
			*irq |= xm_event(ch, XDMA_STAT_WRITE_ERROR_FIRST,
					 XDMA_CTRL_IE_WRITE_ERROR);
		return false;
	}
	count = ++ch->completed;
	ch->next_desc = (u64)le32_to_cpu(d->next_hi) << 32 |
			le32_to_cpu(d->next_lo);
	if (!(ch->ctrl & XDMA_CTRL_RUN) || (ctl & XDMA_DESC_STOP))
		xm_engine_halt(ch);
	/* data and writeback land before the count that announces them */
	wmb();
	if (ch->ctrl & XDMA_CTRL_POLL_WB_ENABLE)
		xm_write_count(m, (u64)ch->wb_hi << 32 | ch->wb_lo,
			       count | (ch->busy ? 0 : XDMA_WB_STOPPED));
	if (!(ch->ctrl & XDMA_CTRL_RUN))
		return false;
	if (ctl & XDMA_DESC_STOP) {
		*irq |= xm_event(ch, XDMA_STAT_DESC_STOPPED |
				 (ctl & XDMA_DESC_COMPLETED ?
				  XDMA_STAT_DESC_COMPLETED : 0),
				 XDMA_CTRL_IE_DESC_STOPPED);
		return false;
	}
	if (ctl & XDMA_DESC_COMPLETED)
		*irq |= xm_event(ch, XDMA_STAT_DESC_COMPLETED,
				 XDMA_CTRL_IE_DESC_COMPLETED);
	return true;
}

/*
 * C2H: one descriptor, with @lock held and a packet ready: the stream's
 * bytes to its destination, the writeback to its source address.
 */
static bool xm_run_c2h(struct xm_chan *ch, bool *irq)
{
	struct xdma_model *m = ch->m;
	struct xm_user *u = ch->u;
	struct dmakit_sim_fill fill;
	dma_addr_t dst, wb_addr;
	struct xdma_c2h_wb wb;
	struct xdma_desc d;
	bool eop;
	u32 n;
	int err;

	if (!xm_fetch(ch, &d, irq))
		return false;
	n = min(le32_to_cpu(d.len) & XDMA_DESC_LEN_MAX,
		u->pkt_len - u->pkt_off);
	fill = (struct dmakit_sim_fill){
		.base = u->seq * DMAKIT_PAYLOAD_K1,
		.k = (u64)(u->pkt_off / 8 + 1) * DMAKIT_PAYLOAD_K2,
		.crc = u->pkt_crc,
	};
	spin_unlock(&m->lock);

	dst = (u64)le32_to_cpu(d.dst_hi) << 32 | le32_to_cpu(d.dst_lo);
	wb_addr = (u64)le32_to_cpu(d.src_hi) << 32 | le32_to_cpu(d.src_lo);
	err = xm_bad_data() ? -EIO :
	      dmakit_sim_bus_access(m->dev, dst, n, dmakit_sim_fill_chunk,
				    &fill);
	eop = !err && u->pkt_off + n == u->pkt_len;
	if (!err) {
		wb.status = cpu_to_le32(XDMA_WB_MAGIC << XDMA_WB_MAGIC_SHIFT |
					(eop ? XDMA_WB_EOP : 0));
		wb.len = cpu_to_le32(n);
		err = dmakit_sim_bus_write(m->dev, wb_addr, &wb, sizeof(wb));
	}

	spin_lock(&m->lock);
	if (!err) {
		u->pkt_off += n;
		u->pkt_crc = fill.crc;
		if (eop) {
			u64 t = ktime_get_ns() - u->pkt_t;

			u->gen_ns = (u->gen_ns * 7 + t) / 8;
			xm_meta_push(u, 0);
		}
	}
	return xm_desc_done(ch, &d, err, irq);
}

struct xm_rx {
	u32 pkt_crc;
	u32 run_crc;
};

static void xm_rx_chunk(void *va, size_t len, void *ctx)
{
	struct xm_rx *rx = ctx;

	rx->pkt_crc = crc32c(rx->pkt_crc, va, len);
	rx->run_crc = crc32c(rx->run_crc, va, len);
}

/* H2C: one descriptor, with @lock held: its bytes into the sink. */
static bool xm_run_h2c(struct xm_chan *ch, bool *irq)
{
	struct xdma_model *m = ch->m;
	struct xm_user *u = ch->u;
	struct xm_rx rx;
	struct xdma_desc d;
	dma_addr_t src;
	u32 n;
	int err;

	if (!xm_fetch(ch, &d, irq))
		return false;
	n = le32_to_cpu(d.len) & XDMA_DESC_LEN_MAX;
	rx = (struct xm_rx){ .pkt_crc = u->rx_pkt_crc, .run_crc = u->rx_crc };
	spin_unlock(&m->lock);

	src = (u64)le32_to_cpu(d.src_hi) << 32 | le32_to_cpu(d.src_lo);
	err = xm_bad_data() ? -EIO :
	      dmakit_sim_bus_access(m->dev, src, n, xm_rx_chunk, &rx);

	spin_lock(&m->lock);
	if (!err) {
		u->rx_bytes += n;
		u->rx_crc = rx.run_crc;
		u->rx_pkt_crc = rx.pkt_crc;
		u->rx_pkt_len += n;
		if (le32_to_cpu(d.control) & XDMA_DESC_EOP) {
			u->rx_packets++;
			xm_sink_push(u, 0);
		}
	}
	return xm_desc_done(ch, &d, err, irq);
}

/*
 * AXI-MM: one descriptor, with @lock held: H2C host source -> card
 * destination, C2H card source -> host destination.
 */
static bool xm_run_mm(struct xm_chan *ch, bool *irq)
{
	struct xdma_model *m = ch->m;
	struct xdma_desc d;
	u64 src, dst, card;
	u32 n;
	int err = -EFAULT;

	if (!xm_fetch(ch, &d, irq))
		return false;
	spin_unlock(&m->lock);
	n = le32_to_cpu(d.len) & XDMA_DESC_LEN_MAX;
	src = (u64)le32_to_cpu(d.src_hi) << 32 | le32_to_cpu(d.src_lo);
	dst = (u64)le32_to_cpu(d.dst_hi) << 32 | le32_to_cpu(d.dst_lo);
	card = ch->h2c ? dst : src;
	/* an AXI address outside card memory: a decode error */
	if (card < XM_MM_SIZE && n <= XM_MM_SIZE - card && !xm_bad_data())
		err = ch->h2c ?
		      dmakit_sim_bus_read(m->dev, src, m->mem + card, n) :
		      dmakit_sim_bus_write(m->dev, dst, m->mem + card, n);
	spin_lock(&m->lock);
	return xm_desc_done(ch, &d, err, irq);
}

/* Under @lock: has the channel's engine something to do now? */
static bool xm_chan_ready(struct xm_chan *ch)
{
	struct xdma_model *m = ch->m;

	if (m->mem)
		return ch->busy;
	if (ch->h2c)
		return ch->busy && ch->u->rx_meta_count < XDMA_SRC_META_DEPTH;
	return xm_source_ready(ch->u) && ch->busy;
}

static void xm_work(struct work_struct *work)
{
	struct xm_chan *ch = container_of(work, struct xm_chan, work);
	struct xdma_model *m = ch->m;
	unsigned int budget = XM_BUDGET;
	bool irq = false, more = true;

	while (more && budget--) {
		/* stalled: busy stays set; a cleared switch kicks us again */
		if (xm_frozen())
			break;
		spin_lock(&m->lock);
		if (!xm_chan_ready(ch))
			more = false;
		else if (m->mem)
			more = xm_run_mm(ch, &irq);
		else
			more = ch->h2c ? xm_run_h2c(ch, &irq) :
					 xm_run_c2h(ch, &irq);
		spin_unlock(&m->lock);
		/* the interrupt of each event, before the engine goes on */
		if (irq)
			xm_raise(ch);
		irq = false;
		cond_resched();
	}
	if (more)
		queue_work(xm_wq, &ch->work);
}

static enum hrtimer_restart xm_timer_fn(struct hrtimer *t)
{
	struct xm_user *u = container_of(t, struct xm_user, timer);

	queue_work(xm_wq, &u->c2h->work);
	return HRTIMER_NORESTART;
}

/* Under @lock: control written; run 0 -> 1 starts the engine. */
static bool xm_set_ctrl(struct xm_chan *ch, u32 v)
{
	bool start = !(ch->ctrl & XDMA_CTRL_RUN) && (v & XDMA_CTRL_RUN);

	ch->ctrl = v;
	if (start) {
		ch->busy = true;
		ch->completed = 0;
		ch->status &= ~(XDMA_STAT_DESC_STOPPED |
				XDMA_STAT_DESC_COMPLETED | XDMA_STAT_ERRORS);
		ch->next_desc = (u64)ch->desc_hi << 32 | ch->desc_lo;
		return true;
	}
	if (!(v & XDMA_CTRL_RUN) && ch->busy && !ch->moving)
		xm_engine_halt(ch);	/* between descriptors: at once */
	return false;
}

static void xm_set_src_ctrl(struct xm_user *u, u32 v)
{
	if (!(u->src_ctrl & XDMA_SRC_CTRL_RUN) && (v & XDMA_SRC_CTRL_RUN)) {
		u->seq = u->seq_base;
		u->lost = 0;
		u->drops = 0;
		u->in_pkt = false;
		u->meta_head = 0;
		u->meta_count = 0;
		u->next_drop_ns = 0;
		u->t0_ns = ktime_get_ns();
		u->buf_ns = u->rate ? div64_u64((u64)u->pkt_len * NSEC_PER_SEC,
						u->rate) : 0;
	}
	u->src_ctrl = v;
}

static void xm_sink_reset(struct xm_user *u)
{
	u->rx_bytes = 0;
	u->rx_packets = 0;
	u->rx_crc = ~0U;
	u->rx_pkt_len = 0;
	u->rx_pkt_crc = ~0U;
	u->rx_meta_head = 0;
	u->rx_meta_count = 0;
}

static u32 xm_rd_user(struct xm_user *u, u32 off)
{
	const struct xm_meta *e = u->meta_count ? &u->meta[u->meta_head] :
				  NULL;
	const struct xm_sink_meta *r = u->rx_meta_count ?
				       &u->rx_meta[u->rx_meta_head] : NULL;

	switch (off) {
	case XDMA_SRC_ID:
		return XDMA_SRC_ID_VALUE;
	case XDMA_SRC_CTRL:
		return u->src_ctrl;
	case XDMA_SRC_PKT_LEN:
		return u->pkt_len;
	case XDMA_SRC_RATE_LO:
		return lower_32_bits(u->rate);
	case XDMA_SRC_RATE_HI:
		return upper_32_bits(u->rate);
	case XDMA_SRC_DROPS_LO:
		return lower_32_bits(u->drops);
	case XDMA_SRC_DROPS_HI:
		return upper_32_bits(u->drops);
	case XDMA_SRC_META_COUNT:
		return u->meta_count;
	case XDMA_SRC_META_SEQ_LO:
		return e ? lower_32_bits(e->seq) : 0;
	case XDMA_SRC_META_SEQ_HI:
		return e ? upper_32_bits(e->seq) : 0;
	case XDMA_SRC_META_TS_LO:
		return e ? lower_32_bits(e->ts) : 0;
	case XDMA_SRC_META_TS_HI:
		return e ? upper_32_bits(e->ts) : 0;
	case XDMA_SRC_META_LOST:
		return e ? e->lost : 0;
	case XDMA_SRC_META_CRC:
		return e ? e->crc : 0;
	case XDMA_SRC_META_FLAGS:
		return e ? e->flags : 0;
	case XDMA_SINK_BYTES_LO:
		return lower_32_bits(u->rx_bytes);
	case XDMA_SINK_BYTES_HI:
		return upper_32_bits(u->rx_bytes);
	case XDMA_SINK_PACKETS:
		return u->rx_packets;
	case XDMA_SINK_CRC:
		return ~u->rx_crc;
	case XDMA_SINK_META_COUNT:
		return u->rx_meta_count;
	case XDMA_SINK_META_LEN:
		return r ? r->len : 0;
	case XDMA_SINK_META_CRC:
		return r ? r->crc : 0;
	case XDMA_SINK_META_FLAGS:
		return r ? r->flags : 0;
	}
	return 0;
}

/* Returns the engine whose work should run, or NULL. */
static struct xm_chan *xm_wr_user(struct xm_user *u, u32 off, u32 v)
{
	switch (off) {
	case XDMA_SRC_CTRL:
		/* it starts timing; the engine's start kicks the work */
		xm_set_src_ctrl(u, v);
		break;
	case XDMA_SRC_PKT_LEN:
		u->pkt_len = v & ~7U;
		break;
	case XDMA_SRC_RATE_LO:
		u->rate = (u->rate & ~0xffffffffULL) | v;
		break;
	case XDMA_SRC_RATE_HI:
		u->rate = (u->rate & 0xffffffffULL) | (u64)v << 32;
		break;
	case XDMA_SRC_META_POP:
		if (u->meta_count) {
			u->meta_head = (u->meta_head + 1) % XDMA_SRC_META_DEPTH;
			u->meta_count--;
			return u->c2h;	/* room again for a waiting source */
		}
		break;
	case XDMA_SINK_CTRL:
		if (v & XDMA_SINK_CTRL_RESET)
			xm_sink_reset(u);
		break;
	case XDMA_SINK_META_POP:
		if (u->rx_meta_count) {
			u->rx_meta_head = (u->rx_meta_head + 1) %
					  XDMA_SRC_META_DEPTH;
			u->rx_meta_count--;
			return u->h2c;	/* room again for a waiting engine */
		}
		break;
	}
	return NULL;
}

/* The user logic block @off (user BAR) falls in, or NULL. */
static struct xm_user *xm_user_at(struct xdma_model *m, u32 off)
{
	u32 n = off / XDMA_USER_CHAN(1);

	return n < m->nchan ? &m->user[n] : NULL;
}

/* The channel (and SGDMA) block @off (DMA BAR) falls in, or NULL. */
static struct xm_chan *xm_chan_at(struct xdma_model *m, u32 off)
{
	u32 n = XDMA_ID_CHANNEL(off);	/* [11:8], as in the identifiers */

	if (n >= m->nchan)
		return NULL;
	switch (off & ~(XDMA_CHAN_STRIDE - 1)) {
	case XDMA_H2C_CHAN(0) ... XDMA_H2C_CHAN(XDMA_MAX_CHANNELS - 1):
	case XDMA_H2C_SGDMA(0) ... XDMA_H2C_SGDMA(XDMA_MAX_CHANNELS - 1):
		return &m->h2c[n];
	case XDMA_C2H_CHAN(0) ... XDMA_C2H_CHAN(XDMA_MAX_CHANNELS - 1):
	case XDMA_C2H_SGDMA(0) ... XDMA_C2H_SGDMA(XDMA_MAX_CHANNELS - 1):
		return &m->c2h[n];
	}
	return NULL;
}

/* Block @block's identifier; channel blocks only for channels present. */
static u32 xm_identifier_at(struct xdma_model *m, u32 block)
{
	const struct xm_chan *ch = xm_chan_at(m, block);
	u32 target = block >> 12;

	if (ch && (target == XDMA_TARGET_H2C || target == XDMA_TARGET_C2H))
		return xm_identifier(target, !sim_xdma_mm, ch->idx);
	if (ch)
		return xm_identifier(target, false, ch->idx);
	switch (block) {
	case XDMA_IRQ_BLOCK:
		return xm_identifier(XDMA_TARGET_IRQ, false, 0);
	case XDMA_SGDMA_COMMON:
		return xm_identifier(XDMA_TARGET_SGDMA_COMMON, false, 0);
	}
	return 0;
}

static u32 xm_rd_dma(struct xdma_model *m, u32 off)
{
	u32 block = off & ~(XDMA_CHAN_STRIDE - 1), reg = off & 0xff, v;
	struct xm_chan *ch = xm_chan_at(m, off);
	bool sgdma = (block >> 12) >= XDMA_TARGET_H2C_SGDMA;

	if (reg == XDMA_REG_IDENTIFIER)
		return xm_identifier_at(m, block);
	if (ch && sgdma) {
		switch (reg) {
		case XDMA_SGDMA_DESC_LO:
			return ch->desc_lo;
		case XDMA_SGDMA_DESC_HI:
			return ch->desc_hi;
		case XDMA_SGDMA_DESC_ADJACENT:
			return ch->desc_adj;
		}
		return 0;
	}
	if (ch) {
		switch (reg) {
		case XDMA_CHAN_CONTROL:
			return ch->ctrl;
		case XDMA_CHAN_STATUS:
			return ch->status | (ch->busy ? XDMA_STAT_BUSY : 0);
		case XDMA_CHAN_STATUS_RC:
			v = ch->status | (ch->busy ? XDMA_STAT_BUSY : 0);
			ch->status = 0;
			m->chan_int_req &= ~ch->irq_bit;
			return v;
		case XDMA_CHAN_COMPLETED_DESC:
			return ch->completed;
		case XDMA_CHAN_POLL_WB_LO:
			return ch->wb_lo;
		case XDMA_CHAN_POLL_WB_HI:
			return ch->wb_hi;
		case XDMA_CHAN_INT_ENABLE:
			return ch->int_en;
		}
		return 0;
	}
	switch (off) {
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

/* Returns the engine whose work should run, or NULL. */
static struct xm_chan *xm_wr_dma(struct xdma_model *m, u32 off, u32 v)
{
	u32 block = off & ~(XDMA_CHAN_STRIDE - 1), reg = off & 0xff;
	struct xm_chan *ch = xm_chan_at(m, off);

	if (ch && (block >> 12) >= XDMA_TARGET_H2C_SGDMA) {
		if (reg == XDMA_SGDMA_DESC_LO)
			ch->desc_lo = v;
		else if (reg == XDMA_SGDMA_DESC_HI)
			ch->desc_hi = v;
		else if (reg == XDMA_SGDMA_DESC_ADJACENT)
			ch->desc_adj = v & XDMA_DESC_NEXT_ADJ_MASK;
		return NULL;
	}
	if (ch) {
		switch (reg) {
		case XDMA_CHAN_CONTROL:
			return xm_set_ctrl(ch, v) ? ch : NULL;
		case XDMA_CHAN_CONTROL_W1S:
			return xm_set_ctrl(ch, ch->ctrl | v) ? ch : NULL;
		case XDMA_CHAN_CONTROL_W1C:
			return xm_set_ctrl(ch, ch->ctrl & ~v) ? ch : NULL;
		case XDMA_CHAN_STATUS:
			ch->status &= ~v;
			break;
		case XDMA_CHAN_POLL_WB_LO:
			ch->wb_lo = v;
			break;
		case XDMA_CHAN_POLL_WB_HI:
			ch->wb_hi = v;
			break;
		case XDMA_CHAN_INT_ENABLE:
			ch->int_en = v;
			break;
		case XDMA_CHAN_INT_ENABLE_W1S:
			ch->int_en |= v;
			break;
		case XDMA_CHAN_INT_ENABLE_W1C:
			ch->int_en &= ~v;
			break;
		}
		return NULL;
	}
	switch (off) {
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
	return NULL;
}

static u32 xm_rd(void *ctx, unsigned int bar, u32 off)
{
	struct xdma_model *m = ctx;
	u32 v = ~0U;	/* no such BAR: a master abort reads all-ones */

	if (xm_vanished() || xm_vanish_at_meta(bar, off))
		return v;
	spin_lock(&m->lock);
	/* an AXI-MM card has no user logic: no user BAR */
	if (bar == XDMA_BAR_USER && !m->mem)
		v = xm_user_at(m, off) ? xm_rd_user(xm_user_at(m, off),
						    off % XDMA_USER_CHAN(1)) : 0;
	else if (bar == XDMA_BAR_DMA && off < XDMA_BAR_SIZE)
		v = xm_rd_dma(m, off);
	spin_unlock(&m->lock);
	return v;
}

static void xm_wr(void *ctx, unsigned int bar, u32 off, u32 v)
{
	struct xdma_model *m = ctx;
	struct xm_chan *kick = NULL;

	if (xm_vanished())
		return;		/* nobody there to take it */
	/* as iowrite32: the CPU's memory writes before the register's */
	wmb();
	spin_lock(&m->lock);
	if (bar == XDMA_BAR_USER && !m->mem && xm_user_at(m, off))
		kick = xm_wr_user(xm_user_at(m, off), off % XDMA_USER_CHAN(1),
				  v);
	else if (bar == XDMA_BAR_DMA && off < XDMA_BAR_SIZE)
		kick = xm_wr_dma(m, off, v);
	spin_unlock(&m->lock);
	if (kick)
		queue_work(xm_wq, &kick->work);
}

/*
 * synchronize_irq() of @vec: the work of every engine programmed to raise
 * it flushed (what it raised is then in the vector's thread), then the
 * vector's own synchronize_irq() (which waits for its thread too).
 */
static void xm_sync_irq(void *ctx, unsigned int vec)
{
	struct xdma_model *m = ctx;
	struct xm_chan *raises[2 * XDMA_MAX_CHANNELS];
	unsigned int i, n = 0;

	spin_lock(&m->lock);
	for (i = 0; i < m->nchan; i++) {
		if (xm_vector(&m->h2c[i]) == vec)
			raises[n++] = &m->h2c[i];
		if (xm_vector(&m->c2h[i]) == vec)
			raises[n++] = &m->c2h[i];
	}
	spin_unlock(&m->lock);
	while (n--)
		flush_work(&raises[n]->work);
	if (vec < m->nvec)
		synchronize_irq(m->vecs[vec].virq);
}

static const struct xdma_io xm_io = {
	.rd = xm_rd,
	.wr = xm_wr,
	.sync_irq = xm_sync_irq,
};

static void xm_chan_init(struct xdma_model *m, struct xm_chan *ch,
			 unsigned int n, bool h2c)
{
	ch->m = m;
	ch->u = &m->user[n];
	ch->idx = n;
	ch->h2c = h2c;
	ch->irq_bit = h2c ? XDMA_IRQ_H2C_BIT(n) : XDMA_IRQ_C2H_BIT(n);
	INIT_WORK(&ch->work, xm_work);
}

/* Channel @n's user logic: its FIFOs, its timer, its engines. */
static int xm_user_init(struct xdma_model *m, unsigned int n)
{
	struct xm_user *u = &m->user[n];

	u->meta = devm_kcalloc(m->dev, XDMA_SRC_META_DEPTH, sizeof(*u->meta),
			       GFP_KERNEL);
	u->rx_meta = devm_kcalloc(m->dev, XDMA_SRC_META_DEPTH,
				  sizeof(*u->rx_meta), GFP_KERNEL);
	if (!u->meta || !u->rx_meta)
		return -ENOMEM;
	u->seq_base = (u64)n << XDMA_SRC_SEQ_CHAN_SHIFT;
	u->h2c = &m->h2c[n];
	u->c2h = &m->c2h[n];
	hrtimer_setup(&u->timer, xm_timer_fn, CLOCK_MONOTONIC,
		      HRTIMER_MODE_ABS);
	xm_chan_init(m, &m->h2c[n], n, true);
	xm_chan_init(m, &m->c2h[n], n, false);
	xm_sink_reset(u);
	return 0;
}

static irqreturn_t xm_irq_thread(int irq, void *data)
{
	struct xm_vec *v = data;

	dmakit_xdma_irq(READ_ONCE(v->m->xd), v->vec);
	return IRQ_HANDLED;
}

static int xm_irq_map(struct irq_domain *d, unsigned int virq,
		      irq_hw_number_t hw)
{
	irq_set_chip_and_handler(virq, &dummy_irq_chip, handle_simple_irq);
	irq_set_chip_data(virq, d->host_data);
	irq_modify_status(virq, IRQ_NOREQUEST, IRQ_NOPROBE);
	return 0;
}

static const struct irq_domain_ops xm_irq_domain_ops = {
	.map = xm_irq_map,
};

/* Undo xm_irqs_init(), as far as it went: nothing raises them any more. */
static void xm_irqs_free(struct xdma_model *m)
{
	unsigned int i;

	for (i = 0; i < m->nvec; i++) {
		struct xm_vec *v = &m->vecs[i];

		if (v->requested)
			free_irq(v->virq, v);
		v->requested = false;
		if (v->virq)
			irq_dispose_mapping(v->virq);
		v->virq = 0;
		kfree(v->name);
		v->name = NULL;
	}
	if (m->domain)
		irq_domain_remove(m->domain);
	m->domain = NULL;
	if (m->fwnode)
		irq_domain_free_fwnode(m->fwnode);
	m->fwnode = NULL;
}

/*
 * The card's @nvec vectors as a PCI binding has its MSI-X vectors: an
 * interrupt each (the card's own IRQ domain), requested threaded, named
 * by what raises it.
 */
static int xm_irqs_init(struct xdma_model *m, unsigned int nvec)
{
	const char *dev = dev_name(m->dev);
	char what[16];
	unsigned int i;
	int ret;

	m->nvec = nvec;
	m->fwnode = irq_domain_alloc_named_fwnode(dev);
	if (!m->fwnode)
		return -ENOMEM;
	m->domain = irq_domain_create_linear(m->fwnode, nvec,
					     &xm_irq_domain_ops, m);
	if (!m->domain) {
		ret = -ENOMEM;
		goto err;
	}
	for (i = 0; i < nvec; i++) {
		struct xm_vec *v = &m->vecs[i];

		v->m = m;
		v->vec = i;
		dmakit_xdma_vec_name(what, sizeof(what), m->nchan, nvec, i);
		v->name = kasprintf(GFP_KERNEL, "%s-%s", dev, what);
		if (!v->name) {
			ret = -ENOMEM;
			goto err;
		}
		v->virq = irq_create_mapping(m->domain, i);
		if (!v->virq) {
			ret = -ENOMEM;
			goto err;
		}
		ret = request_threaded_irq(v->virq, NULL, xm_irq_thread,
					   IRQF_ONESHOT, v->name, v);
		if (ret)
			goto err;
		v->requested = true;
	}
	return 0;

err:
	dev_err(m->dev, "vectors: %d\n", ret);
	xm_irqs_free(m);
	return ret;
}

/*
 * The backend gone (its engines stopped): no source, engine, timer or
 * work is left to raise a vector.
 */
static void xm_xdma_quiesce(struct xdma_model *m)
{
	unsigned int i;

	spin_lock(&m->lock);
	for (i = 0; i < m->nchan; i++) {
		m->user[i].src_ctrl = 0;
		m->h2c[i].busy = false;
		m->c2h[i].busy = false;
	}
	spin_unlock(&m->lock);
	for (i = 0; i < m->nchan; i++) {
		hrtimer_cancel(&m->user[i].timer);
		cancel_work_sync(&m->c2h[i].work);
		cancel_work_sync(&m->h2c[i].work);
		hrtimer_cancel(&m->user[i].timer);
	}
}

static int xm_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct xdma_model *m;
	unsigned int i;
	int ret;

	/* the engines translate bus addresses as dma-direct does */
	if (get_dma_ops(dev)) {
		dev_err(dev, "DMA ops in use: the model handles dma-direct only\n");
		return -ENODEV;
	}
	m = devm_kzalloc(dev, sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->dev = dev;
	m->nchan = sim_xdma_channels;
	spin_lock_init(&m->lock);
	for (i = 0; i < m->nchan; i++) {
		ret = xm_user_init(m, i);
		if (ret)
			return ret;
	}
	if (sim_xdma_mm) {
		m->mem = vzalloc(XM_MM_SIZE);
		if (!m->mem)
			return -ENOMEM;
	}
	/* its vectors, requested before the backend can raise them */
	ret = xm_irqs_init(m, sim_xdma_vectors ?: 2 * m->nchan);
	if (ret) {
		vfree(m->mem);
		return ret;
	}
	dev->dma_parms = &m->dma_parms;
	dma_set_max_seg_size(dev, XDMA_DESC_LEN_MAX & PAGE_MASK);
	platform_set_drvdata(pdev, m);
	ret = dmakit_xdma_attach(&m->xd, dev, dev, &xm_io, m,
				 m->mem ? XM_MM_SIZE : 0, m->nvec);
	if (ret) {
		xm_xdma_quiesce(m);
		xm_irqs_free(m);
		vfree(m->mem);
		dev->dma_parms = NULL;
		return ret;
	}
	xm_models_add(m);
	return 0;
}

static void xm_remove_card(struct platform_device *pdev)
{
	struct xdma_model *m = platform_get_drvdata(pdev);

	xm_models_del(m);
	dmakit_xdma_detach(m->xd);
	WRITE_ONCE(m->xd, NULL);
	xm_xdma_quiesce(m);
	/* nothing raises a vector any more */
	xm_irqs_free(m);
	vfree(m->mem);
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
	if (sim_xdma_count > DMAKIT_MAX_CARDS || !sim_xdma_channels ||
	    sim_xdma_channels > XDMA_MAX_CHANNELS ||
	    sim_xdma_vectors > XDMA_IRQ_VECTOR_MASK + 1) {
		pr_err("dmakit: sim_xdma_channels must be 1..%u and sim_xdma_vectors 0..%u\n",
		       XDMA_MAX_CHANNELS, XDMA_IRQ_VECTOR_MASK + 1);
		return -EINVAL;
	}
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
