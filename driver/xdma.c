// SPDX-License-Identifier: GPL-2.0
/*
 * The xdma backend: the streaming ring over a card built on Xilinx's
 * DMA/Bridge Subsystem for PCI Express (XDMA, PG195), written only
 * against its register-level description (xdma_regs.h) and the card's
 * acquisition logic in the user BAR (xdma.h), through struct xdma_io.
 *
 * Channels: the card has as many as its H2C and C2H identifiers name
 * (PG195: channel n's blocks at +n * 0x100); each is one card object
 * (/dev/dmakitN, sysfs "channel" n), sharing the device, with its own
 * ring, counters and state below, and its own vectors: H2C n raises
 * vector 2n, C2H n 2n + 1 (programmed in its byte of the IRQ block's
 * vector registers); vectors beyond what the device was given fall back
 * to its last one, shared, whose handler runs every channel's on it.
 *
 * C2H stream, channel n: each posted ring buffer becomes a run of
 * 32-byte descriptors (one per mapped element of its sg_table, in
 * coherent memory, one slot's run per ring slot), each writing its C2H
 * writeback (magic, length, end of packet) to its own entry, the last
 * one flagged COMPLETED.  The buffers queued while the engine is idle are
 * linked into one chain, the last descriptor flagged STOP, and started:
 * SGDMA descriptor address, run 0 -> 1.  The channel's interrupt (its
 * own vector, programmed in the IRQ block) reads the read-to-clear status
 * and the completed-descriptor count the engine writes back to host
 * memory (poll-mode writeback), reports each buffer whose descriptors are
 * all done with dmakit_stream_complete() -- its length from the
 * writebacks, its sequence number, time, loss and CRC32C from the user
 * logic's metadata FIFO -- and, once the chain has stopped, starts the
 * next one with what was posted meanwhile.  A magic or bus error stops
 * the engine: the buffer it was on is reported with a DMA error, the rest
 * go into the next chain.  While a chain runs, a watch reads the channel's
 * identifier every second: all-ones (the card is gone) reports the buffer
 * the engine was on as a DMA error and starts no chain until the stream
 * starts again; it does not look for a slow engine (AXI-ST waits for the
 * user logic).  Stop: run cleared, then a bounded wait for busy to drop
 * (or the status reading all-ones), interrupts off, synchronize_irq.
 *
 * H2C stream, channel n (the ring set up host to card): the same chains
 * over the first buf->len bytes of each posted buffer, the last
 * descriptor of each with EOP; no writebacks (the count says what was
 * read); each buffer is reported with the length and CRC32C the user
 * logic's sink received for its packet.
 *
 * An XDMA built for AXI-MM (the identifiers' AXI-ST bit clear): no ring
 * but transactions, one chain of descriptors per xfer_chain_start (card
 * addresses on the AXI side) on the channel's C2H engine (to host) or
 * its H2C one, ended by that engine's interrupt: dmakit_xfer_complete() with the
 * bytes of the completed descriptors.
 *
 * A real XDMA card (not bound here: untested on hardware):
 *  - PCI vendor 0x10ee; Xilinx's reference designs use device IDs of the
 *    form 0xGGLW (generation, lanes, width), e.g. 0x7011, 0x7012, 0x7014,
 *    0x7018, 0x7021, 0x7022, 0x7024, 0x7028, 0x8011, 0x8012, 0x8014,
 *    0x8018, 0x8021, 0x8022, 0x8024, 0x8028, 0x9011, 0x9012, 0x9014,
 *    0x9018, 0x9021, 0x9022, 0x9024, 0x9028; a product's own design has
 *    its own.
 *  - BARs: the DMA BAR (64 KiB) is the one whose 0x0000 identifier reads
 *    0x1fc0xxxx and 0x1000 reads 0x1fc1xxxx (XDMA_ID_*); the user (AXI-
 *    Lite master) BAR, if the design has one, comes before it, so the DMA
 *    BAR is BAR0 or BAR1 (the bypass BAR, if any, after it).
 *  - Interrupts: MSI-X (or MSI), one vector per channel engine: the
 *    backend writes each engine's vector number into the IRQ block's
 *    vector registers and enables its bit in the channel interrupt
 *    enable mask; the handler of every vector is dmakit_xdma_irq(), and
 *    dmakit_xdma_attach() is told how many vectors the card got.
 * Binding it takes a pci_driver entry that maps both BARs, finds the DMA
 * BAR by its identifiers, requests the vectors as threaded interrupts and
 * passes an xdma_io of ioread32/iowrite32/synchronize_irq to
 * dmakit_xdma_attach(); docs/porting.md says what else a real design
 * needs (the user logic of xdma.h).
 */
#include <linux/delay.h>
#include <linux/iopoll.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "dmakit.h"
#include "xdma.h"
#include "xdma_regs.h"

/* descriptors per transaction chain (the core splits longer lists) */
#define XDMA_XFER_MAX_CHAIN	64
/* a transaction descriptor's longest element, a page multiple */
#define XDMA_XFER_MAX_SEG	SZ_1M

/*
 * How long a stop waits for busy to drop: one descriptor's move, at most
 * a ring buffer; generous for a debug kernel under TCG on a loaded host.
 */
#define XDMA_STOP_TIMEOUT_S	5
/*
 * How often a running stream's chain checks that the card still answers:
 * no completion for a while is no sign of trouble (AXI-ST: the engine
 * waits for the user logic's packets), a DMA BAR of all-ones is.
 */
#define XDMA_WATCH_MS		1000
#define XDMA_CHAN_IE		(XDMA_CTRL_IE_DESC_STOPPED | \
				 XDMA_CTRL_IE_DESC_COMPLETED | \
				 XDMA_CTRL_IE_MAGIC_STOPPED | \
				 XDMA_CTRL_IE_READ_ERROR | \
				 XDMA_CTRL_IE_WRITE_ERROR | \
				 XDMA_CTRL_IE_DESC_ERROR)

struct dmakit_xdma;

/*
 * One channel: H2C channel n and C2H channel n of the device, one card
 * (/dev/dmakitN) whose ring uses either of them, or, AXI-MM, whose
 * transactions use both.
 */
struct xdma_chan {
	struct dmakit_xdma *xd;
	unsigned int idx;		/* n */
	unsigned int vec_h2c, vec_c2h;	/* the vectors it raises */
	struct dmakit_card *card;

	/*
	 * AXI-MM (transactions): one chain at a time on the H2C or the C2H
	 * channel, in @xdesc (coherent, XDMA_XFER_MAX_CHAIN descriptors);
	 * under @lock
	 */
	bool x_busy;
	bool x_h2c;
	u32 x_nd;
	struct xdma_desc *xdesc;
	dma_addr_t xdesc_bus;

	spinlock_t lock;		/* everything below */
	bool running;			/* between stream start and stop */
	bool h2c;			/* the channel in use: H2C or C2H */
	bool chain_busy;		/* the engine runs a chain */
	bool gone;			/* read all-ones: no chain until restart */
	struct delayed_work watch;	/* while a chain runs */
	struct dmakit_stream_cfg cfg;

	/*
	 * coherent memory: per ring slot max_nsg descriptors and as many
	 * C2H writebacks, and the completed-descriptor count the engine
	 * writes back
	 */
	struct xdma_desc *desc;
	dma_addr_t desc_bus;
	struct xdma_c2h_wb *wb;
	dma_addr_t wb_bus;
	__le32 *count_wb;
	dma_addr_t count_wb_bus;
	size_t ndesc;			/* descriptors (and writebacks) */
	u32 nbufs;			/* slots they were sized for */
	u32 *nd;			/* per slot: its descriptors */
	u32 *nbytes;			/* per slot: their bytes */

	/*
	 * posted slots in ring order: the first @inflight are in the
	 * running chain (the first @chain_done of its descriptors reported)
	 */
	u32 *queue;
	u32 qhead, qlen;
	u32 inflight;
	u32 chain_done;

	u64 drops;			/* the last count the card gave */
};

/* One device: its channels 0..@nchan-1, each a card. */
struct dmakit_xdma {
	struct device *dma_dev;
	const struct xdma_io *io;
	void *ctx;
	bool mm;			/* AXI-MM: transactions, else streams */
	unsigned int nchan;
	unsigned int nvec;		/* vectors the device was given */
	struct xdma_chan chan[XDMA_MAX_CHANNELS];
};

static u32 xdma_rd(struct dmakit_xdma *xd, unsigned int bar, u32 off)
{
	return xd->io->rd(xd->ctx, bar, off);
}

static void xdma_wr(struct dmakit_xdma *xd, unsigned int bar, u32 off, u32 v)
{
	xd->io->wr(xd->ctx, bar, off, v);
}

/* The user logic of channel @xc (xdma.h: its block in the user BAR). */
static u32 xdma_user_rd(struct xdma_chan *xc, u32 reg)
{
	return xdma_rd(xc->xd, XDMA_BAR_USER, XDMA_USER_CHAN(xc->idx) + reg);
}

static void xdma_user_wr(struct xdma_chan *xc, u32 reg, u32 v)
{
	xdma_wr(xc->xd, XDMA_BAR_USER, XDMA_USER_CHAN(xc->idx) + reg, v);
}

/* channel @xc's H2C or C2H register block */
static u32 xdma_chan_base(struct xdma_chan *xc, bool h2c)
{
	return h2c ? XDMA_H2C_CHAN(xc->idx) : XDMA_C2H_CHAN(xc->idx);
}

/* the direction in use (xc->h2c): its channel and SGDMA block */
static u32 xdma_chan_rd(struct xdma_chan *xc, u32 reg)
{
	return xdma_rd(xc->xd, XDMA_BAR_DMA, xdma_chan_base(xc, xc->h2c) + reg);
}

static void xdma_chan_wr(struct xdma_chan *xc, u32 reg, u32 v)
{
	xdma_wr(xc->xd, XDMA_BAR_DMA, xdma_chan_base(xc, xc->h2c) + reg, v);
}

static void xdma_sgdma_wr(struct xdma_chan *xc, u32 reg, u32 v)
{
	xdma_wr(xc->xd, XDMA_BAR_DMA,
		(xc->h2c ? XDMA_H2C_SGDMA(xc->idx) : XDMA_C2H_SGDMA(xc->idx)) +
		reg, v);
}

/* its bit in the IRQ block's channel interrupt masks */
static u32 xdma_chan_irq_bit(struct xdma_chan *xc, bool h2c)
{
	return h2c ? XDMA_IRQ_H2C_BIT(xc->idx) : XDMA_IRQ_C2H_BIT(xc->idx);
}

static unsigned int xdma_chan_vec(struct xdma_chan *xc, bool h2c)
{
	return h2c ? xc->vec_h2c : xc->vec_c2h;
}

static void xdma_sync_irq(struct xdma_chan *xc, bool h2c)
{
	xc->xd->io->sync_irq(xc->xd->ctx, xdma_chan_vec(xc, h2c));
}

/*
 * Program the vector of channel @xc's H2C or C2H engine into its byte of
 * the IRQ block's vector register (PG195: one byte per channel).
 */
static void xdma_set_vector(struct xdma_chan *xc, bool h2c)
{
	u32 reg = XDMA_IRQ_BLOCK + (h2c ? XDMA_IRQ_H2C_VECTOR :
					  XDMA_IRQ_C2H_VECTOR);
	u32 v = xdma_rd(xc->xd, XDMA_BAR_DMA, reg);

	v &= ~(XDMA_IRQ_VECTOR_MASK << XDMA_IRQ_VECTOR_SHIFT(xc->idx));
	v |= xdma_chan_vec(xc, h2c) << XDMA_IRQ_VECTOR_SHIFT(xc->idx);
	xdma_wr(xc->xd, XDMA_BAR_DMA, reg, v);
}

static struct xdma_desc *xdma_slot_desc(struct xdma_chan *xc, u32 slot)
{
	return &xc->desc[(size_t)slot * xc->cfg.max_nsg];
}

static dma_addr_t xdma_slot_desc_bus(struct xdma_chan *xc, u32 slot)
{
	return xc->desc_bus +
	       (dma_addr_t)slot * xc->cfg.max_nsg * sizeof(struct xdma_desc);
}

/* Fill @d: the magic with @flags, @len bytes from @src to @dst, @next. */
static void xdma_desc_set(struct xdma_desc *d, u32 flags, u32 len, u64 src,
			  u64 dst, u64 next)
{
	*d = (struct xdma_desc){
		.control = cpu_to_le32(XDMA_DESC_MAGIC << XDMA_DESC_MAGIC_SHIFT |
				       flags),
		.len = cpu_to_le32(len),
		.src_lo = cpu_to_le32(lower_32_bits(src)),
		.src_hi = cpu_to_le32(upper_32_bits(src)),
		.dst_lo = cpu_to_le32(lower_32_bits(dst)),
		.dst_hi = cpu_to_le32(upper_32_bits(dst)),
		.next_lo = cpu_to_le32(lower_32_bits(next)),
		.next_hi = cpu_to_le32(upper_32_bits(next)),
	};
}

static void xdma_free_rings(struct xdma_chan *xc)
{
	if (xc->desc)
		dma_free_coherent(xc->xd->dma_dev, xc->ndesc * sizeof(*xc->desc),
				  xc->desc, xc->desc_bus);
	if (xc->wb)
		dma_free_coherent(xc->xd->dma_dev, xc->ndesc * sizeof(*xc->wb),
				  xc->wb, xc->wb_bus);
	kfree(xc->nd);
	kfree(xc->nbytes);
	kfree(xc->queue);
	xc->desc = NULL;
	xc->wb = NULL;
	xc->nd = NULL;
	xc->nbytes = NULL;
	xc->queue = NULL;
	xc->ndesc = 0;
	xc->nbufs = 0;
}

/* The engine is stopped: (re)size the descriptor memory for @cfg. */
static int xdma_alloc_rings(struct xdma_chan *xc,
			    const struct dmakit_stream_cfg *cfg)
{
	size_t ndesc = (size_t)cfg->nbufs * cfg->max_nsg;

	if (xc->ndesc == ndesc && xc->nbufs == cfg->nbufs)
		return 0;
	xdma_free_rings(xc);
	xc->ndesc = ndesc;
	xc->nbufs = cfg->nbufs;
	xc->desc = dma_alloc_coherent(xc->xd->dma_dev, ndesc * sizeof(*xc->desc),
				      &xc->desc_bus, GFP_KERNEL);
	xc->wb = dma_alloc_coherent(xc->xd->dma_dev, ndesc * sizeof(*xc->wb),
				    &xc->wb_bus, GFP_KERNEL);
	xc->nd = kcalloc(cfg->nbufs, sizeof(*xc->nd), GFP_KERNEL);
	xc->nbytes = kcalloc(cfg->nbufs, sizeof(*xc->nbytes), GFP_KERNEL);
	xc->queue = kcalloc(cfg->nbufs, sizeof(*xc->queue), GFP_KERNEL);
	if (!xc->desc || !xc->wb || !xc->nd || !xc->nbytes || !xc->queue) {
		xdma_free_rings(xc);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Under @lock, the engine idle: link every queued slot's descriptors into
 * one chain, STOP on the last, and start it.
 */
static void xdma_chain_start(struct xdma_chan *xc)
{
	u32 i, first = xc->queue[xc->qhead];
	dma_addr_t head = xdma_slot_desc_bus(xc, first);

	for (i = 0; i < xc->qlen; i++) {
		u32 slot = xc->queue[(xc->qhead + i) % xc->cfg.nbufs];
		struct xdma_desc *last = &xdma_slot_desc(xc, slot)[xc->nd[slot] - 1];
		u32 ctl = XDMA_DESC_MAGIC << XDMA_DESC_MAGIC_SHIFT |
			  XDMA_DESC_COMPLETED | (xc->h2c ? XDMA_DESC_EOP : 0);
		dma_addr_t next = 0;

		if (i + 1 < xc->qlen)
			next = xdma_slot_desc_bus(xc, xc->queue[(xc->qhead + i + 1) %
								xc->cfg.nbufs]);
		else
			ctl |= XDMA_DESC_STOP;
		last->control = cpu_to_le32(ctl);
		last->next_lo = cpu_to_le32(lower_32_bits(next));
		last->next_hi = cpu_to_le32(upper_32_bits(next));
	}
	xc->inflight = xc->qlen;
	xc->chain_done = 0;
	xc->chain_busy = true;
	mod_delayed_work(system_wq, &xc->watch, msecs_to_jiffies(XDMA_WATCH_MS));
	WRITE_ONCE(*xc->count_wb, 0);
	/* descriptors in memory before the engine is told (xdma_io.wr) */
	dma_wmb();
	xdma_sgdma_wr(xc, XDMA_SGDMA_DESC_LO, lower_32_bits(head));
	xdma_sgdma_wr(xc, XDMA_SGDMA_DESC_HI, upper_32_bits(head));
	xdma_sgdma_wr(xc, XDMA_SGDMA_DESC_ADJACENT, 0);
	/* run 0 -> 1 starts it (after a STOP run is still set) */
	xdma_chan_wr(xc, XDMA_CHAN_CONTROL_W1C, XDMA_CTRL_RUN);
	xdma_chan_wr(xc, XDMA_CHAN_CONTROL_W1S, XDMA_CTRL_RUN);
}

/*
 * Under @lock: the metadata of the oldest packet, from the user logic's
 * FIFO, into @res: 1, or 0 if the FIFO is empty (a desynchronised card),
 * -ENODEV if the card is gone (its reads are all-ones, not metadata).
 */
static int xdma_pop_meta(struct xdma_chan *xc,
			 struct dmakit_stream_result *res, u32 *flags)
{
	struct dmakit_stream_result m = *res;
	u32 n = xdma_user_rd(xc, XDMA_SRC_META_COUNT);

	if (n == ~0U)
		return -ENODEV;
	if (!n)
		return 0;
	m.seq = xdma_user_rd(xc, XDMA_SRC_META_SEQ_LO) |
		(u64)xdma_user_rd(xc, XDMA_SRC_META_SEQ_HI) << 32;
	m.dev_ts = xdma_user_rd(xc, XDMA_SRC_META_TS_LO) |
		   (u64)xdma_user_rd(xc, XDMA_SRC_META_TS_HI) << 32;
	m.lost = xdma_user_rd(xc, XDMA_SRC_META_LOST);
	m.crc32c = xdma_user_rd(xc, XDMA_SRC_META_CRC);
	*flags = xdma_user_rd(xc, XDMA_SRC_META_FLAGS);
	/* gone while we read: what we read may be all-ones, not a packet's */
	if (xdma_user_rd(xc, XDMA_SRC_META_COUNT) == ~0U)
		return -ENODEV;
	*res = m;
	xdma_user_wr(xc, XDMA_SRC_META_POP, 1);
	return 1;
}

/*
 * Under @lock, H2C: the length and CRC32C of the oldest packet the sink
 * received, from its FIFO, into @res: 1, 0 if the FIFO is empty, -ENODEV
 * if the card is gone.
 */
static int xdma_pop_sink_meta(struct xdma_chan *xc,
			      struct dmakit_stream_result *res, u32 *flags)
{
	u32 n = xdma_user_rd(xc, XDMA_SINK_META_COUNT), len, crc;

	if (n == ~0U)
		return -ENODEV;
	if (!n)
		return 0;
	len = xdma_user_rd(xc, XDMA_SINK_META_LEN);
	crc = xdma_user_rd(xc, XDMA_SINK_META_CRC);
	*flags = xdma_user_rd(xc, XDMA_SINK_META_FLAGS);
	if (xdma_user_rd(xc, XDMA_SINK_META_COUNT) == ~0U)
		return -ENODEV;
	res->len = len;
	res->crc32c = crc;
	xdma_user_wr(xc, XDMA_SINK_META_POP, 1);
	return 1;
}

/* Under @lock: the buffer at the head of the queue is reported. */
static void xdma_report_head(struct xdma_chan *xc,
			     struct dmakit_stream_result *res)
{
	u32 slot = xc->queue[xc->qhead];

	dmakit_stream_complete(xc->card, slot, res);
	xc->chain_done += xc->nd[slot];
	xc->qhead = (xc->qhead + 1) % xc->cfg.nbufs;
	xc->qlen--;
	xc->inflight--;
}

/*
 * Under @lock: report the buffers of the chain whose descriptors the
 * engine has all completed (@count of them since the chain started).
 * False if the card went meanwhile (a metadata FIFO read all-ones): the
 * buffer whose metadata it was is left at the head, for
 * xdma_stream_gone() to end as the one in flight.
 */
static bool xdma_reap(struct xdma_chan *xc, u32 count)
{
	int got;

	while (xc->inflight && xc->h2c) {
		u32 slot = xc->queue[xc->qhead], flags = 0;
		struct dmakit_stream_result res = {
			.flags = DMAKIT_HW_CMPL_NOSEQ | DMAKIT_HW_CMPL_NOTS,
		};

		if (count - xc->chain_done < xc->nd[slot])
			break;
		/* the engine read the descriptors; the sink says what came */
		got = xdma_pop_sink_meta(xc, &res, &flags);
		if (got < 0)
			return false;
		if (!got || (flags & XDMA_SRC_META_ABORTED) ||
		    res.len != xc->nbytes[slot])
			res.flags |= DMAKIT_HW_CMPL_ERR;
		else
			res.flags |= DMAKIT_HW_CMPL_CRC;
		xdma_report_head(xc, &res);
	}
	while (xc->inflight && !xc->h2c) {
		u32 slot = xc->queue[xc->qhead], i, flags = 0;
		const struct xdma_c2h_wb *wb = &xc->wb[(size_t)slot *
						       xc->cfg.max_nsg];
		struct dmakit_stream_result res = {};
		bool eop = false;

		if (count - xc->chain_done < xc->nd[slot])
			break;
		for (i = 0; i < xc->nd[slot]; i++) {
			u32 st = le32_to_cpu(READ_ONCE(wb[i].status));

			if (st >> XDMA_WB_MAGIC_SHIFT != XDMA_WB_MAGIC) {
				res.flags |= DMAKIT_HW_CMPL_ERR;
				break;
			}
			res.len += le32_to_cpu(READ_ONCE(wb[i].len));
			eop = st & XDMA_WB_EOP;
		}
		got = xdma_pop_meta(xc, &res, &flags);
		if (got < 0)
			return false;
		if (!got)	/* no sequence or time of its own: the core's */
			res.flags |= DMAKIT_HW_CMPL_ERR | DMAKIT_HW_CMPL_NOSEQ |
				     DMAKIT_HW_CMPL_NOTS;
		else if (flags & XDMA_SRC_META_ABORTED)
			res.flags |= DMAKIT_HW_CMPL_ERR;
		else if (!(res.flags & DMAKIT_HW_CMPL_ERR))
			/* the packet's CRC: not of a part-written buffer */
			res.flags |= DMAKIT_HW_CMPL_CRC;
		/* one packet per buffer: its end is the buffer's */
		if (!eop)
			res.flags |= DMAKIT_HW_CMPL_TRUNC;
		xdma_report_head(xc, &res);
	}
	return true;
}

/*
 * AXI-MM: a transaction chain ended (@vec: its channel's vector).  Its
 * bytes: the lengths of the descriptors the engine completed.
 */
static void xdma_xfer_irq(struct xdma_chan *xc, unsigned int vec)
{
	u32 status, count, i;
	u64 bytes = 0;
	int err = 0;

	spin_lock(&xc->lock);
	xc->h2c = xc->x_h2c;
	if (!xc->x_busy || vec != xdma_chan_vec(xc, xc->x_h2c)) {
		spin_unlock(&xc->lock);
		return;
	}
	status = xdma_chan_rd(xc, XDMA_CHAN_STATUS_RC);
	if (!(status & (XDMA_STAT_DESC_STOPPED | XDMA_STAT_ERRORS)) ||
	    (status & XDMA_STAT_BUSY)) {
		spin_unlock(&xc->lock);
		return;		/* not ended yet */
	}
	count = xdma_chan_rd(xc, XDMA_CHAN_COMPLETED_DESC);
	for (i = 0; i < min(count, xc->x_nd); i++)
		bytes += le32_to_cpu(xc->xdesc[i].len);
	if (status & XDMA_STAT_ERRORS) {
		dev_warn_ratelimited(&xc->card->dev,
				     "%s engine stopped, status %#x after %u descriptors\n",
				     xc->x_h2c ? "H2C" : "C2H", status, count);
		err = -EIO;
	}
	xc->x_busy = false;
	spin_unlock(&xc->lock);
	dmakit_card_irq(xc->card, xc->x_h2c ? 0 : 1);
	/* may start the next chain (xdma_xfer_chain_start) */
	dmakit_xfer_complete(xc->card, bytes, err);
}

/*
 * AXI-MM: a chain of descriptors for @chain's elements, card addresses
 * from chain->card_off on, on the C2H channel (to host) or the H2C one,
 * started.  Called with the card's xfer_lock held: no sleeping.
 */
static int xdma_xfer_chain_start(struct dmakit_card *card,
				 const struct dmakit_xfer_chain *chain)
{
	struct xdma_chan *xc = card->hw_priv;
	u64 card_addr = chain->card_off, left = chain->len;
	struct scatterlist *sg;
	unsigned int i;

	if (!chain->nents || chain->nents > XDMA_XFER_MAX_CHAIN)
		return -EINVAL;
	spin_lock(&xc->lock);
	if (xc->x_busy) {
		spin_unlock(&xc->lock);
		return -EBUSY;
	}
	for_each_sg(chain->sgl, sg, chain->nents, i) {
		u32 len = min_t(u64, sg_dma_len(sg), left);
		u64 host = sg_dma_address(sg);
		u64 src = chain->to_host ? card_addr : host;
		u64 dst = chain->to_host ? host : card_addr;
		dma_addr_t next = xc->xdesc_bus + (i + 1) * sizeof(*xc->xdesc);
		u32 flags = 0;

		if (i == chain->nents - 1) {
			flags = XDMA_DESC_STOP | XDMA_DESC_COMPLETED;
			next = 0;
		}
		xdma_desc_set(&xc->xdesc[i], flags, len, src, dst, next);
		card_addr += len;
		left -= len;
	}
	xc->x_busy = true;
	xc->x_h2c = !chain->to_host;
	xc->x_nd = chain->nents;
	xc->h2c = xc->x_h2c;
	/* descriptors in memory before the engine is told (xdma_io.wr) */
	dma_wmb();
	xdma_sgdma_wr(xc, XDMA_SGDMA_DESC_LO, lower_32_bits(xc->xdesc_bus));
	xdma_sgdma_wr(xc, XDMA_SGDMA_DESC_HI, upper_32_bits(xc->xdesc_bus));
	xdma_sgdma_wr(xc, XDMA_SGDMA_DESC_ADJACENT, 0);
	xdma_chan_rd(xc, XDMA_CHAN_STATUS_RC);
	xdma_chan_wr(xc, XDMA_CHAN_CONTROL_W1C, XDMA_CTRL_RUN);
	xdma_chan_wr(xc, XDMA_CHAN_CONTROL_W1S, XDMA_CTRL_RUN);
	spin_unlock(&xc->lock);
	return 0;
}

/*
 * A stopping engine's status: busy dropped, or the device is gone (all-
 * ones: no use waiting for it).
 */
static bool xdma_stopped(u32 status)
{
	return !(status & XDMA_STAT_BUSY) || status == ~0U;
}

/* What a bounded wait for an engine to stop (@ret, @status) ended with. */
static void xdma_stop_check(struct dmakit_card *card, bool h2c,
			    const char *what, int ret, u32 status)
{
	if (ret)
		dev_err(&card->dev, "%s engine still busy %d s after %s (status %#x)\n",
			h2c ? "H2C" : "C2H", XDMA_STOP_TIMEOUT_S, what, status);
	else if (status == ~0U)
		dev_err_ratelimited(&card->dev, "%s engine: device not responding (reads all-ones) at %s\n",
				    h2c ? "H2C" : "C2H", what);
}

/* 1 while a chain runs, 0 idle, -ENODEV if the card reads all-ones. */
static int xdma_xfer_poll(struct dmakit_card *card)
{
	struct xdma_chan *xc = card->hw_priv;
	int busy;

	if (xdma_rd(xc->xd, XDMA_BAR_DMA, xdma_chan_base(xc, false)) == ~0U)
		return -ENODEV;
	spin_lock(&xc->lock);
	busy = xc->x_busy;
	spin_unlock(&xc->lock);
	return busy;
}

/* Both channels stopped, bounded; the chain in flight is given up. */
static void xdma_xfer_abort(struct dmakit_card *card)
{
	struct xdma_chan *xc = card->hw_priv;
	unsigned int i;
	u32 status;
	int ret;

	for (i = 0; i < 2; i++) {
		u32 ch = xdma_chan_base(xc, !i);

		xdma_wr(xc->xd, XDMA_BAR_DMA, ch + XDMA_CHAN_CONTROL_W1C,
			XDMA_CTRL_RUN);
		ret = read_poll_timeout(xdma_rd, status, xdma_stopped(status),
					100, XDMA_STOP_TIMEOUT_S * USEC_PER_SEC,
					false, xc->xd, XDMA_BAR_DMA,
					ch + XDMA_CHAN_STATUS);
		xdma_stop_check(card, !i, "abort", ret, status);
	}
	xdma_sync_irq(xc, true);
	xdma_sync_irq(xc, false);
	spin_lock(&xc->lock);
	xc->x_busy = false;
	spin_unlock(&xc->lock);
}

/* AXI-MM: both channels' vectors and interrupts, for transactions. */
static void xdma_xfer_setup(struct xdma_chan *xc)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		u32 ch = xdma_chan_base(xc, !i);

		xdma_set_vector(xc, !i);
		xdma_wr(xc->xd, XDMA_BAR_DMA, ch + XDMA_CHAN_INT_ENABLE,
			XDMA_CHAN_IE);
		xdma_wr(xc->xd, XDMA_BAR_DMA, ch + XDMA_CHAN_CONTROL,
			XDMA_CHAN_IE);
	}
	xdma_wr(xc->xd, XDMA_BAR_DMA, XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_EN_W1S,
		xdma_chan_irq_bit(xc, true) | xdma_chan_irq_bit(xc, false));
}

/*
 * Under @lock: the card reads all-ones, it is gone (found by the chain's
 * watch or by an interrupt handled after it went): the buffer the engine
 * was on is reported as a DMA error, nothing else is read from the card
 * (its FIFOs read all-ones, not metadata), and no chain starts until the
 * stream is started again.
 */
static void xdma_stream_gone(struct xdma_chan *xc)
{
	struct dmakit_stream_result res = {
		.flags = DMAKIT_HW_CMPL_ERR | DMAKIT_HW_CMPL_NOSEQ |
			 DMAKIT_HW_CMPL_NOTS,
	};

	dev_err(&xc->card->dev, "stream: device not responding (reads all-ones)\n");
	if (xc->inflight)
		xdma_report_head(xc, &res);
	xc->gone = true;
	xc->chain_busy = false;
	xc->inflight = 0;
}

/* The stream's interrupt (@vec) on channel @xc. */
static void xdma_stream_irq(struct xdma_chan *xc, unsigned int vec)
{
	u32 status, count;

	spin_lock(&xc->lock);
	if (!xc->running || !xc->chain_busy ||
	    vec != xdma_chan_vec(xc, xc->h2c)) {
		spin_unlock(&xc->lock);
		return;
	}
	status = xdma_chan_rd(xc, XDMA_CHAN_STATUS_RC);
	if (status == ~0U) {
		/* gone since it raised this: every error bit "set" is not one */
		dmakit_card_irq(xc->card, xc->h2c ? 0 : 1);
		xdma_stream_gone(xc);
		spin_unlock(&xc->lock);
		dmakit_ring_irq(xc->card);
		return;
	}
	/* on a shared vector: count only what this channel raised */
	if (status & ~XDMA_STAT_BUSY)
		dmakit_card_irq(xc->card, xc->h2c ? 0 : 1);
	/* the count the engine wrote back, after its data and writebacks */
	count = le32_to_cpu(READ_ONCE(*xc->count_wb)) & XDMA_WB_COUNT_MASK;
	dma_rmb();
	if (!xdma_reap(xc, count))
		goto gone;	/* after its status read: as if before */
	if (status & XDMA_STAT_ERRORS) {
		/* stopped on the next descriptor: its buffer failed */
		struct dmakit_stream_result res = {
			.flags = DMAKIT_HW_CMPL_ERR,
		};
		u32 flags;
		int got;

		dev_warn_ratelimited(&xc->card->dev,
				     "%s engine stopped, status %#x after %u descriptors\n",
				     xc->h2c ? "H2C" : "C2H", status, count);
		if (xc->inflight) {
			/* its packet, cut off, is in the FIFO as aborted */
			if (xc->h2c)
				got = xdma_pop_sink_meta(xc, &res, &flags);
			else
				got = xdma_pop_meta(xc, &res, &flags);
			if (got < 0)
				goto gone;
			if (xc->h2c || !got)
				res.flags |= DMAKIT_HW_CMPL_NOSEQ |
					     DMAKIT_HW_CMPL_NOTS;
			res.len = 0;
			res.crc32c = 0;
			res.flags &= ~DMAKIT_HW_CMPL_CRC;
			xdma_report_head(xc, &res);
		}
		xc->chain_busy = false;
	} else if (!(status & XDMA_STAT_BUSY) &&
		   (status & XDMA_STAT_DESC_STOPPED)) {
		xc->chain_busy = false;
	}
	if (!xc->chain_busy) {
		xc->inflight = 0;
		if (xc->qlen)
			xdma_chain_start(xc);
	}
	spin_unlock(&xc->lock);
	dmakit_ring_irq(xc->card);
	return;
gone:
	xdma_stream_gone(xc);
	spin_unlock(&xc->lock);
	dmakit_ring_irq(xc->card);
}

/* A running chain's watch: a card gone (as edu's stream watchdog finds). */
static void xdma_stream_watch(struct work_struct *work)
{
	struct xdma_chan *xc = container_of(to_delayed_work(work),
					    struct xdma_chan, watch);

	spin_lock(&xc->lock);
	if (!xc->running || !xc->chain_busy) {
		spin_unlock(&xc->lock);
		return;
	}
	if (xdma_chan_rd(xc, XDMA_REG_IDENTIFIER) != ~0U) {
		mod_delayed_work(system_wq, &xc->watch,
				 msecs_to_jiffies(XDMA_WATCH_MS));
		spin_unlock(&xc->lock);
		return;
	}
	xdma_stream_gone(xc);
	spin_unlock(&xc->lock);
	dmakit_ring_irq(xc->card);
}

/*
 * The interrupt of @vec (a threaded handler: the model's vectors are
 * requested threaded, as a PCI card's would be): the
 * handler of every channel engine that raises @vec (one, unless the
 * device was given fewer vectors than it has engines).
 */
void dmakit_xdma_irq(struct dmakit_xdma *xd, unsigned int vec)
{
	unsigned int i;

	if (!xd)
		return;
	for (i = 0; i < xd->nchan; i++) {
		struct xdma_chan *xc = &xd->chan[i];

		if (vec != xc->vec_h2c && vec != xc->vec_c2h)
			continue;
		if (xd->mm)
			xdma_xfer_irq(xc, vec);
		else
			xdma_stream_irq(xc, vec);
	}
}

static int xdma_stream_start(struct dmakit_card *card,
			     const struct dmakit_stream_cfg *cfg)
{
	struct xdma_chan *xc = card->hw_priv;
	int ret;

	if (!cfg->max_nsg || cfg->bufsize % 8)
		return -EOPNOTSUPP;
	ret = xdma_alloc_rings(xc, cfg);
	if (ret)
		return ret;
	spin_lock(&xc->lock);
	xc->cfg = *cfg;
	xc->h2c = cfg->h2c;
	xc->qhead = 0;
	xc->qlen = 0;
	xc->inflight = 0;
	xc->chain_done = 0;
	xc->chain_busy = false;
	xc->gone = false;
	xc->running = true;
	xc->drops = 0;
	spin_unlock(&xc->lock);

	/* the channel: its vector, interrupts, the count written back */
	xdma_set_vector(xc, xc->h2c);
	xdma_chan_wr(xc, XDMA_CHAN_POLL_WB_LO, lower_32_bits(xc->count_wb_bus));
	xdma_chan_wr(xc, XDMA_CHAN_POLL_WB_HI, upper_32_bits(xc->count_wb_bus));
	xdma_chan_wr(xc, XDMA_CHAN_INT_ENABLE, XDMA_CHAN_IE);
	xdma_chan_wr(xc, XDMA_CHAN_CONTROL, XDMA_CHAN_IE |
		     XDMA_CTRL_POLL_WB_ENABLE);
	xdma_chan_rd(xc, XDMA_CHAN_STATUS_RC);
	xdma_wr(xc->xd, XDMA_BAR_DMA, XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_EN_W1S,
		xdma_chan_irq_bit(xc, xc->h2c));

	if (xc->h2c) {
		/* the sink: what it proves it received, from now */
		xdma_user_wr(xc, XDMA_SINK_CTRL, XDMA_SINK_CTRL_RESET);
		return 0;
	}
	/*
	 * the acquisition logic: one packet per buffer, numbered from the
	 * channel's first sequence number (xdma.h)
	 */
	xdma_user_wr(xc, XDMA_SRC_CTRL, 0);
	xdma_user_wr(xc, XDMA_SRC_PKT_LEN, cfg->bufsize);
	xdma_user_wr(xc, XDMA_SRC_RATE_LO, lower_32_bits(cfg->rate));
	xdma_user_wr(xc, XDMA_SRC_RATE_HI, upper_32_bits(cfg->rate));
	xdma_user_wr(xc, XDMA_SRC_CTRL, XDMA_SRC_CTRL_RUN |
		     (cfg->pausable ? 0 : XDMA_SRC_CTRL_DROP));
	return 0;
}

static void xdma_stream_stop(struct dmakit_card *card)
{
	struct xdma_chan *xc = card->hw_priv;
	u32 status;
	int ret;

	spin_lock(&xc->lock);
	xc->running = false;
	spin_unlock(&xc->lock);
	/* not running: it ends at once, and is not armed again */
	cancel_delayed_work_sync(&xc->watch);
	if (!xc->h2c)
		xdma_user_wr(xc, XDMA_SRC_CTRL, 0);
	xdma_chan_wr(xc, XDMA_CHAN_CONTROL_W1C, XDMA_CTRL_RUN);
	/* it finishes the descriptor it is on, then touches nothing more */
	ret = read_poll_timeout(xdma_chan_rd, status, xdma_stopped(status),
				100, XDMA_STOP_TIMEOUT_S * USEC_PER_SEC, false, xc,
				XDMA_CHAN_STATUS);
	xdma_stop_check(card, xc->h2c, "stop", ret, status);
	xdma_wr(xc->xd, XDMA_BAR_DMA, XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_EN_W1C,
		xdma_chan_irq_bit(xc, xc->h2c));
	xdma_chan_wr(xc, XDMA_CHAN_INT_ENABLE, 0);
	xdma_sync_irq(xc, xc->h2c);
	spin_lock(&xc->lock);
	xc->chain_busy = false;
	xc->qlen = 0;
	xc->inflight = 0;
	spin_unlock(&xc->lock);
}

/* Write slot @slot's descriptors; start a chain if the engine is idle. */
static void xdma_stream_post(struct dmakit_card *card, u32 slot,
			     const struct dmakit_stream_buf *buf)
{
	struct xdma_chan *xc = card->hw_priv;
	struct xdma_desc *d = xdma_slot_desc(xc, slot);
	const struct xdma_c2h_wb *wb = &xc->wb[(size_t)slot * xc->cfg.max_nsg];
	dma_addr_t wb_bus = xc->wb_bus +
			    (dma_addr_t)slot * xc->cfg.max_nsg * sizeof(*wb);
	dma_addr_t d_bus = xdma_slot_desc_bus(xc, slot);
	struct scatterlist *sg;
	u32 n = 0, left = xc->h2c ? buf->len : xc->cfg.bufsize;
	int i;

	/*
	 * C2H: the engine writes the element, then the writeback to the
	 * descriptor's source address; H2C: it reads the element (the
	 * destination is the stream: 0)
	 */
	for_each_sgtable_dma_sg(buf->sgt, sg, i) {
		u32 len = min_t(u32, sg_dma_len(sg), left);
		dma_addr_t next = d_bus + (n + 1) * sizeof(*d);
		dma_addr_t src = wb_bus + n * sizeof(*wb), dst = 0;

		if (n == xc->cfg.max_nsg || !len)
			break;
		if (xc->h2c)
			src = sg_dma_address(sg);
		else
			dst = sg_dma_address(sg);
		xdma_desc_set(&d[n], 0, len, src, dst, next);
		memset(&xc->wb[(size_t)slot * xc->cfg.max_nsg + n], 0,
		       sizeof(*wb));
		left -= len;
		n++;
	}
	spin_lock(&xc->lock);
	if (!xc->running || WARN_ON_ONCE(!n || xc->qlen == xc->cfg.nbufs)) {
		spin_unlock(&xc->lock);
		return;
	}
	xc->nd[slot] = n;
	xc->nbytes[slot] = (xc->h2c ? buf->len : xc->cfg.bufsize) - left;
	xc->queue[(xc->qhead + xc->qlen) % xc->cfg.nbufs] = slot;
	xc->qlen++;
	if (!xc->chain_busy && !xc->gone)
		xdma_chain_start(xc);
	spin_unlock(&xc->lock);
}

static u64 xdma_stream_drops(struct dmakit_card *card)
{
	struct xdma_chan *xc = card->hw_priv;
	u32 lo, hi;

	/* hi, lo, hi again: a consistent 64-bit count */
	do {
		hi = xdma_user_rd(xc, XDMA_SRC_DROPS_HI);
		lo = xdma_user_rd(xc, XDMA_SRC_DROPS_LO);
	} while (hi != xdma_user_rd(xc, XDMA_SRC_DROPS_HI));
	/* all-ones: the card is gone, not 2^64 - 1 buffers dropped */
	if (hi != ~0U || lo != ~0U)
		WRITE_ONCE(xc->drops, (u64)hi << 32 | lo);
	return READ_ONCE(xc->drops);
}

/*
 * h2c/: what the sink proves it received since the H2C stream last
 * started (bytes, buffers, the CRC32C of every byte in order, underruns:
 * it never runs dry), read from the user logic as sim's h2c/ shows its
 * own.  Kept after a stop until the next start.
 */
static struct xdma_chan *xdma_of(struct device *dev)
{
	return dmakit_card_of(dev)->hw_priv;
}

static ssize_t bytes_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct xdma_chan *xc = xdma_of(dev);
	u32 lo, hi;

	do {
		hi = xdma_user_rd(xc, XDMA_SINK_BYTES_HI);
		lo = xdma_user_rd(xc, XDMA_SINK_BYTES_LO);
	} while (hi != xdma_user_rd(xc, XDMA_SINK_BYTES_HI));
	return sysfs_emit(buf, "%llu\n", (u64)hi << 32 | lo);
}
static DEVICE_ATTR_RO(bytes);

static ssize_t buffers_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  xdma_user_rd(xdma_of(dev), XDMA_SINK_PACKETS));
}
static DEVICE_ATTR_RO(buffers);

static ssize_t crc32c_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%08x\n",
			  xdma_user_rd(xdma_of(dev), XDMA_SINK_CRC));
}
static DEVICE_ATTR_RO(crc32c);

static ssize_t underruns_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "0\n");
}
static DEVICE_ATTR_RO(underruns);

static struct attribute *xdma_h2c_attrs[] = {
	&dev_attr_bytes.attr,
	&dev_attr_buffers.attr,
	&dev_attr_crc32c.attr,
	&dev_attr_underruns.attr,
	NULL,
};

static const struct attribute_group xdma_h2c_group = {
	.name = "h2c",
	.attrs = xdma_h2c_attrs,
};

/* AXI-ST: the streaming ring, both directions */
static const struct dmakit_hw_ops xdma_hw_ops_stream = {
	.stream_start = xdma_stream_start,
	.stream_stop = xdma_stream_stop,
	.stream_post = xdma_stream_post,
	.stream_drops = xdma_stream_drops,
};

/* AXI-MM: transactions between host memory and the card's */
static const struct dmakit_hw_ops xdma_hw_ops_mm = {
	.xfer_chain_start = xdma_xfer_chain_start,
	.xfer_poll = xdma_xfer_poll,
	.xfer_abort = xdma_xfer_abort,
	.xfer_timeout_ms = 1000,
};

/*
 * Channel @n is there: its H2C and C2H identifiers (PG195) name it, of
 * channel 0's kind, and (AXI-ST) its user logic answers.
 */
static bool xdma_chan_present(struct dmakit_xdma *xd, unsigned int n)
{
	u32 h2c = xdma_rd(xd, XDMA_BAR_DMA, XDMA_H2C_CHAN(n));
	u32 c2h = xdma_rd(xd, XDMA_BAR_DMA, XDMA_C2H_CHAN(n));
	u32 src = xdma_rd(xd, XDMA_BAR_USER, XDMA_USER_CHAN(n) + XDMA_SRC_ID);

	return XDMA_ID_SUBSYSTEM(h2c) == XDMA_SUBSYSTEM_ID &&
	       XDMA_ID_TARGET(h2c) == XDMA_TARGET_H2C &&
	       XDMA_ID_CHANNEL(h2c) == n &&
	       XDMA_ID_SUBSYSTEM(c2h) == XDMA_SUBSYSTEM_ID &&
	       XDMA_ID_TARGET(c2h) == XDMA_TARGET_C2H &&
	       XDMA_ID_CHANNEL(c2h) == n &&
	       xd->mm == !(h2c & XDMA_ID_STREAM) &&
	       xd->mm == !(c2h & XDMA_ID_STREAM) &&
	       (xd->mm || src == XDMA_SRC_ID_VALUE);
}

/*
 * The card is what xdma.h says: an XDMA with channel 0 and, for a stream,
 * our user logic; then its channels 1.. as far as their identifiers go.
 */
static int xdma_check(struct dmakit_xdma *xd)
{
	u32 h2c = xdma_rd(xd, XDMA_BAR_DMA, XDMA_H2C_CHAN(0));
	u32 c2h = xdma_rd(xd, XDMA_BAR_DMA, XDMA_C2H_CHAN(0));
	u32 src = xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_ID);

	if (XDMA_ID_SUBSYSTEM(h2c) != XDMA_SUBSYSTEM_ID ||
	    XDMA_ID_TARGET(h2c) != XDMA_TARGET_H2C ||
	    XDMA_ID_SUBSYSTEM(c2h) != XDMA_SUBSYSTEM_ID ||
	    XDMA_ID_TARGET(c2h) != XDMA_TARGET_C2H) {
		dev_err(xd->dma_dev, "no XDMA in the DMA BAR (identifiers %#x, %#x)\n",
			h2c, c2h);
		return -ENODEV;
	}
	xd->mm = !(c2h & XDMA_ID_STREAM);
	if (xd->mm != !(h2c & XDMA_ID_STREAM)) {
		dev_err(xd->dma_dev, "H2C and C2H channels of different kinds (identifiers %#x, %#x)\n",
			h2c, c2h);
		return -ENODEV;
	}
	if (!xd->mm && src != XDMA_SRC_ID_VALUE) {
		dev_err(xd->dma_dev, "no acquisition logic in the user BAR (id %#x)\n",
			src);
		return -ENODEV;
	}
	xd->nchan = 1;
	while (xd->nchan < XDMA_MAX_CHANNELS &&
	       xdma_chan_present(xd, xd->nchan))
		xd->nchan++;
	return 0;
}

/* The memory of channel @xc; its card is gone or was never added. */
static void xdma_chan_free(struct xdma_chan *xc)
{
	struct device *dma_dev = xc->xd->dma_dev;

	xdma_free_rings(xc);
	if (xc->xdesc)
		dma_free_coherent(dma_dev, XDMA_XFER_MAX_CHAIN *
				  sizeof(*xc->xdesc), xc->xdesc, xc->xdesc_bus);
	if (xc->count_wb)
		dma_free_coherent(dma_dev, sizeof(*xc->count_wb), xc->count_wb,
				  xc->count_wb_bus);
	xc->xdesc = NULL;
	xc->count_wb = NULL;
}

/*
 * The vector channel @n's H2C (or C2H) engine raises on a device given
 * @nvec vectors: H2C n 2n, C2H n 2n + 1; past the last one, the last one
 * (shared).
 */
static unsigned int xdma_engine_vec(unsigned int n, bool h2c,
				    unsigned int nvec)
{
	return min(2 * n + !h2c, max(nvec, 1U) - 1);
}

/**
 * dmakit_xdma_vec_name - what vector @vec raises, for its interrupt's name
 * @buf:   where the name goes: "h2cN" or "c2hN" (one engine's), "shared"
 *         (more than one engine's) or "unused"
 * @size:  of @buf
 * @nchan: channels per direction the card has
 * @nvec:  vectors the device was given (as told to dmakit_xdma_attach())
 * @vec:   the vector
 *
 * As this backend assigns the vectors: a binding names the interrupts it
 * requests with it before attaching.
 */
void dmakit_xdma_vec_name(char *buf, size_t size, unsigned int nchan,
			  unsigned int nvec, unsigned int vec)
{
	unsigned int e, users = 0, last = 0;

	/* engine e: channel e / 2, H2C if even */
	for (e = 0; e < 2 * nchan; e++) {
		if (xdma_engine_vec(e / 2, !(e % 2), nvec) == vec) {
			users++;
			last = e;
		}
	}
	if (users > 1)
		snprintf(buf, size, "shared");
	else if (users)
		snprintf(buf, size, "%s%u", last % 2 ? "c2h" : "h2c", last / 2);
	else
		snprintf(buf, size, "unused");
}

/*
 * Channel @n of @xd: its vectors (xdma_engine_vec()), its memory and its
 * card (not added yet).
 */
static int xdma_chan_init(struct dmakit_xdma *xd, unsigned int n,
			  struct device *parent, int bits, u64 mm_size)
{
	struct xdma_chan *xc = &xd->chan[n];
	struct dmakit_card *card;

	xc->xd = xd;
	xc->idx = n;
	xc->vec_h2c = xdma_engine_vec(n, true, xd->nvec);
	xc->vec_c2h = xdma_engine_vec(n, false, xd->nvec);
	spin_lock_init(&xc->lock);
	INIT_DELAYED_WORK(&xc->watch, xdma_stream_watch);
	xc->count_wb = dma_alloc_coherent(xd->dma_dev, sizeof(*xc->count_wb),
					  &xc->count_wb_bus, GFP_KERNEL);
	if (!xc->count_wb)
		return -ENOMEM;
	if (xd->mm) {
		xc->xdesc = dma_alloc_coherent(xd->dma_dev, XDMA_XFER_MAX_CHAIN *
					       sizeof(*xc->xdesc),
					       &xc->xdesc_bus, GFP_KERNEL);
		if (!xc->xdesc)
			return -ENOMEM;
		xdma_xfer_setup(xc);
	}
	card = dmakit_card_alloc(parent, xd->dma_dev,
				 xd->mm ? &xdma_hw_ops_mm : &xdma_hw_ops_stream,
				 xc, "xdma");
	if (IS_ERR(card))
		return PTR_ERR(card);
	card->dma_bits = bits;
	card->irq_type = DMAKIT_IRQ_NONE;
	card->nvec = 2;		/* counters: its H2C, its C2H vector */
	card->channel = n;
	if (xd->mm) {
		card->card_mem_size = mm_size;
		card->xfer_max_seg = XDMA_XFER_MAX_SEG;
		card->xfer_max_chain = XDMA_XFER_MAX_CHAIN;
	} else {
		/* what the acquisition logic writes into the stream */
		card->payload = DMAKIT_PAYLOAD_SIM;
		card->ring_h2c = true;
		card->backend_group = &xdma_h2c_group;
	}
	xc->card = card;
	return 0;
}

/*
 * Undo the channels: the first @nadded cards were added (removed here,
 * their engines stopped), every card is put, all memory freed.
 */
static void xdma_teardown(struct dmakit_xdma *xd, unsigned int nadded)
{
	unsigned int i;

	for (i = 0; i < xd->nchan; i++) {
		struct xdma_chan *xc = &xd->chan[i];

		if (!xc->card)
			continue;
		if (i < nadded) {
			dmakit_card_remove(xc->card);
			/* stopped by the removal if they ran; it is idempotent */
			if (xd->mm)
				xdma_xfer_abort(xc->card);
			else
				xdma_stream_stop(xc->card);
		}
		dmakit_card_put(xc->card);
	}
	for (i = 0; i < xd->nchan; i++)
		if (xd->chan[i].xd)	/* xdma_chan_init() began on it */
			xdma_chan_free(&xd->chan[i]);
	kfree(xd);
}

/**
 * dmakit_xdma_attach - a card with XDMA, reached through @io / @ctx.
 * @xdp:     where the backend's handle is stored (before any interrupt
 *           can arrive: the handlers find it there)
 * @parent:  the card's device in the device tree
 * @dma_dev: the device that does DMA
 * @io:      its register accessors
 * @ctx:     their first argument
 * @mm_size: an AXI-MM card: bytes of card memory transactions may
 *           address (the design's AXI address map; PG195 has no register
 *           for it)
 * @nvec:    interrupt vectors the device was given (2 per channel: each
 *           engine its own; fewer: the last one is shared)
 *
 * Registers one /dev/dmakitN per channel the card has, in channel order
 * (sysfs: channel, and the device link to @parent).  Returns 0 or a
 * negative errno.
 */
int dmakit_xdma_attach(struct dmakit_xdma **xdp, struct device *parent,
		       struct device *dma_dev, const struct xdma_io *io,
		       void *ctx, u64 mm_size, unsigned int nvec)
{
	struct dmakit_xdma *xd;
	unsigned int i;
	int bits, ret;

	xd = kzalloc(sizeof(*xd), GFP_KERNEL);
	if (!xd)
		return -ENOMEM;
	xd->dma_dev = dma_dev;
	xd->io = io;
	xd->ctx = ctx;
	xd->nvec = max(nvec, 1U);
	ret = xdma_check(xd);
	if (ret)
		goto err_free;
	if (xd->mm && !mm_size) {
		dev_err(dma_dev, "an AXI-MM card without card memory\n");
		ret = -EINVAL;
		goto err_free;
	}
	/* XDMA's descriptors carry 64-bit addresses */
	bits = dmakit_dma_set_mask(dma_dev, 64);
	if (bits < 0) {
		ret = bits;
		goto err_free;
	}
	for (i = 0; i < xd->nchan; i++) {
		ret = xdma_chan_init(xd, i, parent, bits, mm_size);
		if (ret) {
			xdma_teardown(xd, 0);
			return ret;
		}
	}
	WRITE_ONCE(*xdp, xd);
	for (i = 0; i < xd->nchan; i++) {
		ret = dmakit_card_add(xd->chan[i].card);
		if (ret) {
			WRITE_ONCE(*xdp, NULL);
			xdma_teardown(xd, i);
			return ret;
		}
	}
	if (xd->nchan > 1)
		dev_info(dma_dev, "%u channels, %u vectors\n", xd->nchan,
			 xd->nvec);
	return 0;

err_free:
	kfree(xd);
	return ret;
}

void dmakit_xdma_detach(struct dmakit_xdma *xd)
{
	xdma_teardown(xd, xd->nchan);
}
