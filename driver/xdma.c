// SPDX-License-Identifier: GPL-2.0
/*
 * The xdma backend: the streaming ring over a card built on Xilinx's
 * DMA/Bridge Subsystem for PCI Express (XDMA, PG195), written only
 * against its register-level description (xdma_regs.h) and the card's
 * acquisition logic in the user BAR (xdma.h), through struct xdma_io.
 *
 * C2H stream, channel 0: each posted ring buffer becomes a run of
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
 * go into the next chain.  Stop: run cleared, then a bounded wait for
 * busy to drop, interrupts off, synchronize_irq.
 *
 * H2C stream, channel 0 (the ring set up host to card): the same chains
 * over the first buf->len bytes of each posted buffer, the last
 * descriptor of each with EOP; no writebacks (the count says what was
 * read); each buffer is reported with the length and CRC32C the user
 * logic's sink received for its packet.
 *
 * An XDMA built for AXI-MM (the identifiers' AXI-ST bit clear): no ring
 * but transactions, one chain of descriptors per xfer_chain_start (card
 * addresses on the AXI side) on the C2H channel (to host) or the H2C
 * one, ended by the channel's interrupt: dmakit_xfer_complete() with the
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
 *  - Interrupts: MSI-X (or MSI), one vector per channel: the backend
 *    writes each channel's vector number into the IRQ block's vector
 *    registers and enables the channel's bit in the channel interrupt
 *    enable mask; the handler of that vector is dmakit_xdma_irq().
 * Binding it takes a pci_driver entry that maps both BARs, finds the DMA
 * BAR by its identifiers, requests the vectors as threaded interrupts and
 * passes an xdma_io of ioread32/iowrite32/synchronize_irq to
 * dmakit_xdma_attach(); docs/porting.md says what else a real design
 * needs (the user logic of xdma.h).
 */
#include <linux/delay.h>
#include <linux/iopoll.h>
#include <linux/slab.h>

#include "dmakit.h"
#include "xdma.h"
#include "xdma_regs.h"

/* descriptors per transaction chain (the core splits longer lists) */
#define XDMA_XFER_MAX_CHAIN	64
/* a transaction descriptor's longest element, a page multiple */
#define XDMA_XFER_MAX_SEG	SZ_1M

/* the vector numbers the backend gives the channels 0 */
#define XDMA_VEC_H2C0		0
#define XDMA_VEC_C2H0		1
/*
 * How long a stop waits for busy to drop: one descriptor's move, at most
 * a ring buffer; generous for a debug kernel under TCG on a loaded host.
 */
#define XDMA_STOP_TIMEOUT_S	5
/* channel interrupt bits: the H2C channels', then the C2H channels' */
#define XDMA_H2C0_IRQ_BIT	BIT(0)
#define XDMA_C2H0_IRQ_BIT	BIT(XDMA_MAX_CHANNELS + 0)
#define XDMA_CHAN_IE		(XDMA_CTRL_IE_DESC_STOPPED | \
				 XDMA_CTRL_IE_DESC_COMPLETED | \
				 XDMA_CTRL_IE_MAGIC_STOPPED | \
				 XDMA_CTRL_IE_READ_ERROR | \
				 XDMA_CTRL_IE_DESC_ERROR)

struct dmakit_xdma {
	struct device *dma_dev;
	const struct xdma_io *io;
	void *ctx;
	struct dmakit_card *card;

	/*
	 * AXI-MM (transactions): one chain at a time on the H2C or the C2H
	 * channel, in @xdesc (coherent, XDMA_XFER_MAX_CHAIN descriptors);
	 * under @lock
	 */
	bool mm;
	bool x_busy;
	bool x_h2c;
	u32 x_nd;
	struct xdma_desc *xdesc;
	dma_addr_t xdesc_bus;

	spinlock_t lock;		/* everything below */
	bool running;			/* between stream start and stop */
	bool h2c;			/* the channel in use: H2C or C2H */
	bool chain_busy;		/* the engine runs a chain */
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
};

static u32 xdma_rd(struct dmakit_xdma *xd, unsigned int bar, u32 off)
{
	return xd->io->rd(xd->ctx, bar, off);
}

static void xdma_wr(struct dmakit_xdma *xd, unsigned int bar, u32 off, u32 v)
{
	xd->io->wr(xd->ctx, bar, off, v);
}

/* the ring's channel 0 (H2C or C2H) and its SGDMA block */
static u32 xdma_chan_rd(struct dmakit_xdma *xd, u32 reg)
{
	return xdma_rd(xd, XDMA_BAR_DMA,
		       (xd->h2c ? XDMA_H2C_CHAN(0) : XDMA_C2H_CHAN(0)) + reg);
}

static void xdma_chan_wr(struct dmakit_xdma *xd, u32 reg, u32 v)
{
	xdma_wr(xd, XDMA_BAR_DMA,
		(xd->h2c ? XDMA_H2C_CHAN(0) : XDMA_C2H_CHAN(0)) + reg, v);
}

static void xdma_sgdma_wr(struct dmakit_xdma *xd, u32 reg, u32 v)
{
	xdma_wr(xd, XDMA_BAR_DMA,
		(xd->h2c ? XDMA_H2C_SGDMA(0) : XDMA_C2H_SGDMA(0)) + reg, v);
}

static u32 xdma_chan_irq_bit(struct dmakit_xdma *xd)
{
	return xd->h2c ? XDMA_H2C0_IRQ_BIT : XDMA_C2H0_IRQ_BIT;
}

static struct xdma_desc *xdma_slot_desc(struct dmakit_xdma *xd, u32 slot)
{
	return &xd->desc[(size_t)slot * xd->cfg.max_nsg];
}

static dma_addr_t xdma_slot_desc_bus(struct dmakit_xdma *xd, u32 slot)
{
	return xd->desc_bus +
	       (dma_addr_t)slot * xd->cfg.max_nsg * sizeof(struct xdma_desc);
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

static void xdma_free_rings(struct dmakit_xdma *xd)
{
	if (xd->desc)
		dma_free_coherent(xd->dma_dev, xd->ndesc * sizeof(*xd->desc),
				  xd->desc, xd->desc_bus);
	if (xd->wb)
		dma_free_coherent(xd->dma_dev, xd->ndesc * sizeof(*xd->wb),
				  xd->wb, xd->wb_bus);
	kfree(xd->nd);
	kfree(xd->nbytes);
	kfree(xd->queue);
	xd->desc = NULL;
	xd->wb = NULL;
	xd->nd = NULL;
	xd->nbytes = NULL;
	xd->queue = NULL;
	xd->ndesc = 0;
	xd->nbufs = 0;
}

/* The engine is stopped: (re)size the descriptor memory for @cfg. */
static int xdma_alloc_rings(struct dmakit_xdma *xd,
			    const struct dmakit_stream_cfg *cfg)
{
	size_t ndesc = (size_t)cfg->nbufs * cfg->max_nsg;

	if (xd->ndesc == ndesc && xd->nbufs == cfg->nbufs)
		return 0;
	xdma_free_rings(xd);
	xd->ndesc = ndesc;
	xd->nbufs = cfg->nbufs;
	xd->desc = dma_alloc_coherent(xd->dma_dev, ndesc * sizeof(*xd->desc),
				      &xd->desc_bus, GFP_KERNEL);
	xd->wb = dma_alloc_coherent(xd->dma_dev, ndesc * sizeof(*xd->wb),
				    &xd->wb_bus, GFP_KERNEL);
	xd->nd = kcalloc(cfg->nbufs, sizeof(*xd->nd), GFP_KERNEL);
	xd->nbytes = kcalloc(cfg->nbufs, sizeof(*xd->nbytes), GFP_KERNEL);
	xd->queue = kcalloc(cfg->nbufs, sizeof(*xd->queue), GFP_KERNEL);
	if (!xd->desc || !xd->wb || !xd->nd || !xd->nbytes || !xd->queue) {
		xdma_free_rings(xd);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Under @lock, the engine idle: link every queued slot's descriptors into
 * one chain, STOP on the last, and start it.
 */
static void xdma_chain_start(struct dmakit_xdma *xd)
{
	u32 i, first = xd->queue[xd->qhead];
	dma_addr_t head = xdma_slot_desc_bus(xd, first);

	for (i = 0; i < xd->qlen; i++) {
		u32 slot = xd->queue[(xd->qhead + i) % xd->cfg.nbufs];
		struct xdma_desc *last = &xdma_slot_desc(xd, slot)[xd->nd[slot] - 1];
		u32 ctl = XDMA_DESC_MAGIC << XDMA_DESC_MAGIC_SHIFT |
			  XDMA_DESC_COMPLETED | (xd->h2c ? XDMA_DESC_EOP : 0);
		dma_addr_t next = 0;

		if (i + 1 < xd->qlen)
			next = xdma_slot_desc_bus(xd, xd->queue[(xd->qhead + i + 1) %
								xd->cfg.nbufs]);
		else
			ctl |= XDMA_DESC_STOP;
		last->control = cpu_to_le32(ctl);
		last->next_lo = cpu_to_le32(lower_32_bits(next));
		last->next_hi = cpu_to_le32(upper_32_bits(next));
	}
	xd->inflight = xd->qlen;
	xd->chain_done = 0;
	xd->chain_busy = true;
	WRITE_ONCE(*xd->count_wb, 0);
	/* descriptors in memory before the engine is told (xdma_io.wr) */
	dma_wmb();
	xdma_sgdma_wr(xd, XDMA_SGDMA_DESC_LO, lower_32_bits(head));
	xdma_sgdma_wr(xd, XDMA_SGDMA_DESC_HI, upper_32_bits(head));
	xdma_sgdma_wr(xd, XDMA_SGDMA_DESC_ADJACENT, 0);
	/* run 0 -> 1 starts it (after a STOP run is still set) */
	xdma_chan_wr(xd, XDMA_CHAN_CONTROL_W1C, XDMA_CTRL_RUN);
	xdma_chan_wr(xd, XDMA_CHAN_CONTROL_W1S, XDMA_CTRL_RUN);
}

/*
 * Under @lock: the metadata of the oldest packet, from the user logic's
 * FIFO, into @res; false if the FIFO is empty (a desynchronised card).
 */
static bool xdma_pop_meta(struct dmakit_xdma *xd,
			  struct dmakit_stream_result *res, u32 *flags)
{
	if (!xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_META_COUNT))
		return false;
	res->seq = xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_META_SEQ_LO) |
		   (u64)xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_META_SEQ_HI) << 32;
	res->dev_ts = xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_META_TS_LO) |
		      (u64)xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_META_TS_HI) << 32;
	res->lost = xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_META_LOST);
	res->crc32c = xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_META_CRC);
	*flags = xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_META_FLAGS);
	xdma_wr(xd, XDMA_BAR_USER, XDMA_SRC_META_POP, 1);
	return true;
}

/*
 * Under @lock, H2C: the length and CRC32C of the oldest packet the sink
 * received, from its FIFO, into @res; false if the FIFO is empty.
 */
static bool xdma_pop_sink_meta(struct dmakit_xdma *xd,
			       struct dmakit_stream_result *res, u32 *flags)
{
	if (!xdma_rd(xd, XDMA_BAR_USER, XDMA_SINK_META_COUNT))
		return false;
	res->len = xdma_rd(xd, XDMA_BAR_USER, XDMA_SINK_META_LEN);
	res->crc32c = xdma_rd(xd, XDMA_BAR_USER, XDMA_SINK_META_CRC);
	*flags = xdma_rd(xd, XDMA_BAR_USER, XDMA_SINK_META_FLAGS);
	xdma_wr(xd, XDMA_BAR_USER, XDMA_SINK_META_POP, 1);
	return true;
}

/* Under @lock: the buffer at the head of the queue is reported. */
static void xdma_report_head(struct dmakit_xdma *xd,
			     struct dmakit_stream_result *res)
{
	u32 slot = xd->queue[xd->qhead];

	dmakit_stream_complete(xd->card, slot, res);
	xd->chain_done += xd->nd[slot];
	xd->qhead = (xd->qhead + 1) % xd->cfg.nbufs;
	xd->qlen--;
	xd->inflight--;
}

/*
 * Under @lock: report the buffers of the chain whose descriptors the
 * engine has all completed (@count of them since the chain started).
 */
static void xdma_reap(struct dmakit_xdma *xd, u32 count)
{
	while (xd->inflight && xd->h2c) {
		u32 slot = xd->queue[xd->qhead], flags = 0;
		struct dmakit_stream_result res = {
			.flags = DMAKIT_HW_CMPL_NOSEQ | DMAKIT_HW_CMPL_NOTS,
		};

		if (count - xd->chain_done < xd->nd[slot])
			break;
		/* the engine read the descriptors; the sink says what came */
		if (!xdma_pop_sink_meta(xd, &res, &flags) ||
		    (flags & XDMA_SRC_META_ABORTED) ||
		    res.len != xd->nbytes[slot])
			res.flags |= DMAKIT_HW_CMPL_ERR;
		else
			res.flags |= DMAKIT_HW_CMPL_CRC;
		xdma_report_head(xd, &res);
	}
	while (xd->inflight && !xd->h2c) {
		u32 slot = xd->queue[xd->qhead], i, flags = 0;
		const struct xdma_c2h_wb *wb = &xd->wb[(size_t)slot *
						       xd->cfg.max_nsg];
		struct dmakit_stream_result res = {};
		bool eop = false;

		if (count - xd->chain_done < xd->nd[slot])
			break;
		for (i = 0; i < xd->nd[slot]; i++) {
			u32 st = le32_to_cpu(READ_ONCE(wb[i].status));

			if (st >> XDMA_WB_MAGIC_SHIFT != XDMA_WB_MAGIC) {
				res.flags |= DMAKIT_HW_CMPL_ERR;
				break;
			}
			res.len += le32_to_cpu(READ_ONCE(wb[i].len));
			eop = st & XDMA_WB_EOP;
		}
		if (!xdma_pop_meta(xd, &res, &flags) ||
		    (flags & XDMA_SRC_META_ABORTED))
			res.flags |= DMAKIT_HW_CMPL_ERR;
		else
			res.flags |= DMAKIT_HW_CMPL_CRC;
		/* one packet per buffer: its end is the buffer's */
		if (!eop)
			res.flags |= DMAKIT_HW_CMPL_TRUNC;
		xdma_report_head(xd, &res);
	}
}

/*
 * AXI-MM: a transaction chain ended (@vec: its channel's vector).  Its
 * bytes: the lengths of the descriptors the engine completed.
 */
static void xdma_xfer_irq(struct dmakit_xdma *xd, unsigned int vec)
{
	u32 status, count, i;
	u64 bytes = 0;
	int err = 0;

	spin_lock(&xd->lock);
	xd->h2c = xd->x_h2c;
	if (!xd->x_busy || vec != (xd->x_h2c ? XDMA_VEC_H2C0 : XDMA_VEC_C2H0)) {
		spin_unlock(&xd->lock);
		return;
	}
	status = xdma_chan_rd(xd, XDMA_CHAN_STATUS_RC);
	if (!(status & (XDMA_STAT_DESC_STOPPED | XDMA_STAT_ERRORS)) ||
	    (status & XDMA_STAT_BUSY)) {
		spin_unlock(&xd->lock);
		return;		/* not ended yet */
	}
	count = xdma_chan_rd(xd, XDMA_CHAN_COMPLETED_DESC);
	for (i = 0; i < min(count, xd->x_nd); i++)
		bytes += le32_to_cpu(xd->xdesc[i].len);
	if (status & XDMA_STAT_ERRORS) {
		dev_warn_ratelimited(&xd->card->dev,
				     "%s engine stopped, status %#x after %u descriptors\n",
				     xd->x_h2c ? "H2C" : "C2H", status, count);
		err = -EIO;
	}
	xd->x_busy = false;
	spin_unlock(&xd->lock);
	dmakit_card_irq(xd->card, xd->x_h2c ? 0 : 1);
	/* may start the next chain (xdma_xfer_chain_start) */
	dmakit_xfer_complete(xd->card, bytes, err);
}

/*
 * AXI-MM: a chain of descriptors for @chain's elements, card addresses
 * from chain->card_off on, on the C2H channel (to host) or the H2C one,
 * started.  Called with the card's xfer_lock held: no sleeping.
 */
static int xdma_xfer_chain_start(struct dmakit_card *card,
				 const struct dmakit_xfer_chain *chain)
{
	struct dmakit_xdma *xd = card->hw_priv;
	u64 card_addr = chain->card_off, left = chain->len;
	struct scatterlist *sg;
	unsigned int i;

	if (!chain->nents || chain->nents > XDMA_XFER_MAX_CHAIN)
		return -EINVAL;
	spin_lock(&xd->lock);
	if (xd->x_busy) {
		spin_unlock(&xd->lock);
		return -EBUSY;
	}
	for_each_sg(chain->sgl, sg, chain->nents, i) {
		u32 len = min_t(u64, sg_dma_len(sg), left);
		u64 host = sg_dma_address(sg);
		u64 src = chain->to_host ? card_addr : host;
		u64 dst = chain->to_host ? host : card_addr;
		dma_addr_t next = xd->xdesc_bus + (i + 1) * sizeof(*xd->xdesc);
		u32 flags = 0;

		if (i == chain->nents - 1) {
			flags = XDMA_DESC_STOP | XDMA_DESC_COMPLETED;
			next = 0;
		}
		xdma_desc_set(&xd->xdesc[i], flags, len, src, dst, next);
		card_addr += len;
		left -= len;
	}
	xd->x_busy = true;
	xd->x_h2c = !chain->to_host;
	xd->x_nd = chain->nents;
	xd->h2c = xd->x_h2c;
	/* descriptors in memory before the engine is told (xdma_io.wr) */
	dma_wmb();
	xdma_sgdma_wr(xd, XDMA_SGDMA_DESC_LO, lower_32_bits(xd->xdesc_bus));
	xdma_sgdma_wr(xd, XDMA_SGDMA_DESC_HI, upper_32_bits(xd->xdesc_bus));
	xdma_sgdma_wr(xd, XDMA_SGDMA_DESC_ADJACENT, 0);
	xdma_chan_rd(xd, XDMA_CHAN_STATUS_RC);
	xdma_chan_wr(xd, XDMA_CHAN_CONTROL_W1C, XDMA_CTRL_RUN);
	xdma_chan_wr(xd, XDMA_CHAN_CONTROL_W1S, XDMA_CTRL_RUN);
	spin_unlock(&xd->lock);
	return 0;
}

/* 1 while a chain runs, 0 idle, -ENODEV if the card reads all-ones. */
static int xdma_xfer_poll(struct dmakit_card *card)
{
	struct dmakit_xdma *xd = card->hw_priv;
	int busy;

	if (xdma_rd(xd, XDMA_BAR_DMA, XDMA_C2H_CHAN(0)) == ~0U)
		return -ENODEV;
	spin_lock(&xd->lock);
	busy = xd->x_busy;
	spin_unlock(&xd->lock);
	return busy;
}

/* Both channels stopped, bounded; the chain in flight is given up. */
static void xdma_xfer_abort(struct dmakit_card *card)
{
	struct dmakit_xdma *xd = card->hw_priv;
	unsigned int i;
	u32 status;

	for (i = 0; i < 2; i++) {
		u32 ch = i ? XDMA_C2H_CHAN(0) : XDMA_H2C_CHAN(0);

		xdma_wr(xd, XDMA_BAR_DMA, ch + XDMA_CHAN_CONTROL_W1C,
			XDMA_CTRL_RUN);
		if (read_poll_timeout(xdma_rd, status,
				      !(status & XDMA_STAT_BUSY), 100,
				      XDMA_STOP_TIMEOUT_S * USEC_PER_SEC, false,
				      xd, XDMA_BAR_DMA, ch + XDMA_CHAN_STATUS))
			dev_err(&card->dev, "%s engine still busy %d s after abort (status %#x)\n",
				i ? "C2H" : "H2C", XDMA_STOP_TIMEOUT_S, status);
	}
	xd->io->sync_irq(xd->ctx, XDMA_VEC_H2C0);
	spin_lock(&xd->lock);
	xd->x_busy = false;
	spin_unlock(&xd->lock);
}

/* AXI-MM: both channels' vectors and interrupts, for transactions. */
static void xdma_xfer_setup(struct dmakit_xdma *xd)
{
	unsigned int i;

	xdma_wr(xd, XDMA_BAR_DMA, XDMA_IRQ_BLOCK + XDMA_IRQ_H2C_VECTOR,
		XDMA_VEC_H2C0 << XDMA_IRQ_VECTOR_SHIFT(0));
	xdma_wr(xd, XDMA_BAR_DMA, XDMA_IRQ_BLOCK + XDMA_IRQ_C2H_VECTOR,
		XDMA_VEC_C2H0 << XDMA_IRQ_VECTOR_SHIFT(0));
	for (i = 0; i < 2; i++) {
		u32 ch = i ? XDMA_C2H_CHAN(0) : XDMA_H2C_CHAN(0);

		xdma_wr(xd, XDMA_BAR_DMA, ch + XDMA_CHAN_INT_ENABLE,
			XDMA_CHAN_IE);
		xdma_wr(xd, XDMA_BAR_DMA, ch + XDMA_CHAN_CONTROL, XDMA_CHAN_IE);
	}
	xdma_wr(xd, XDMA_BAR_DMA, XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_EN_W1S,
		XDMA_H2C0_IRQ_BIT | XDMA_C2H0_IRQ_BIT);
}

/*
 * The interrupt of @vec (a threaded handler: the model calls it from its
 * engine's work, a PCI card's vector would be requested threaded).
 */
void dmakit_xdma_irq(struct dmakit_xdma *xd, unsigned int vec)
{
	u32 status, count;

	if (!xd)
		return;
	if (xd->mm) {
		xdma_xfer_irq(xd, vec);
		return;
	}
	spin_lock(&xd->lock);
	if (!xd->running || !xd->chain_busy ||
	    vec != (xd->h2c ? XDMA_VEC_H2C0 : XDMA_VEC_C2H0)) {
		spin_unlock(&xd->lock);
		return;
	}
	status = xdma_chan_rd(xd, XDMA_CHAN_STATUS_RC);
	dmakit_card_irq(xd->card, 0);
	/* the count the engine wrote back, after its data and writebacks */
	count = le32_to_cpu(READ_ONCE(*xd->count_wb)) & XDMA_WB_COUNT_MASK;
	dma_rmb();
	xdma_reap(xd, count);
	if (status & XDMA_STAT_ERRORS) {
		/* stopped on the next descriptor: its buffer failed */
		struct dmakit_stream_result res = {
			.flags = DMAKIT_HW_CMPL_ERR,
		};
		u32 flags;

		dev_warn_ratelimited(&xd->card->dev,
				     "%s engine stopped, status %#x after %u descriptors\n",
				     xd->h2c ? "H2C" : "C2H", status, count);
		if (xd->inflight) {
			/* its packet, cut off, is in the FIFO as aborted */
			if (xd->h2c)
				xdma_pop_sink_meta(xd, &res, &flags);
			if (xd->h2c || !xdma_pop_meta(xd, &res, &flags))
				res.flags |= DMAKIT_HW_CMPL_NOSEQ |
					     DMAKIT_HW_CMPL_NOTS;
			res.len = 0;
			res.crc32c = 0;
			res.flags &= ~DMAKIT_HW_CMPL_CRC;
			xdma_report_head(xd, &res);
		}
		xd->chain_busy = false;
	} else if (!(status & XDMA_STAT_BUSY) &&
		   (status & XDMA_STAT_DESC_STOPPED)) {
		xd->chain_busy = false;
	}
	if (!xd->chain_busy) {
		xd->inflight = 0;
		if (xd->qlen)
			xdma_chain_start(xd);
	}
	spin_unlock(&xd->lock);
	dmakit_ring_irq(xd->card);
}

static int xdma_stream_start(struct dmakit_card *card,
			     const struct dmakit_stream_cfg *cfg)
{
	struct dmakit_xdma *xd = card->hw_priv;
	u32 vec, vec_reg;
	int ret;

	if (!cfg->max_nsg || cfg->bufsize % 8)
		return -EOPNOTSUPP;
	ret = xdma_alloc_rings(xd, cfg);
	if (ret)
		return ret;
	spin_lock(&xd->lock);
	xd->cfg = *cfg;
	xd->h2c = cfg->h2c;
	xd->qhead = 0;
	xd->qlen = 0;
	xd->inflight = 0;
	xd->chain_done = 0;
	xd->chain_busy = false;
	xd->running = true;
	spin_unlock(&xd->lock);

	/* the channel: its vector, interrupts, the count written back */
	vec_reg = XDMA_IRQ_BLOCK + (xd->h2c ? XDMA_IRQ_H2C_VECTOR :
					      XDMA_IRQ_C2H_VECTOR);
	vec = xdma_rd(xd, XDMA_BAR_DMA, vec_reg);
	vec &= ~(XDMA_IRQ_VECTOR_MASK << XDMA_IRQ_VECTOR_SHIFT(0));
	vec |= (xd->h2c ? XDMA_VEC_H2C0 : XDMA_VEC_C2H0) <<
	       XDMA_IRQ_VECTOR_SHIFT(0);
	xdma_wr(xd, XDMA_BAR_DMA, vec_reg, vec);
	xdma_chan_wr(xd, XDMA_CHAN_POLL_WB_LO, lower_32_bits(xd->count_wb_bus));
	xdma_chan_wr(xd, XDMA_CHAN_POLL_WB_HI, upper_32_bits(xd->count_wb_bus));
	xdma_chan_wr(xd, XDMA_CHAN_INT_ENABLE, XDMA_CHAN_IE);
	xdma_chan_wr(xd, XDMA_CHAN_CONTROL, XDMA_CHAN_IE |
		     XDMA_CTRL_POLL_WB_ENABLE);
	xdma_chan_rd(xd, XDMA_CHAN_STATUS_RC);
	xdma_wr(xd, XDMA_BAR_DMA, XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_EN_W1S,
		xdma_chan_irq_bit(xd));

	if (xd->h2c) {
		/* the sink: what it proves it received, from now */
		xdma_wr(xd, XDMA_BAR_USER, XDMA_SINK_CTRL,
			XDMA_SINK_CTRL_RESET);
		return 0;
	}
	/* the acquisition logic: one packet per buffer, from sequence 0 */
	xdma_wr(xd, XDMA_BAR_USER, XDMA_SRC_CTRL, 0);
	xdma_wr(xd, XDMA_BAR_USER, XDMA_SRC_PKT_LEN, cfg->bufsize);
	xdma_wr(xd, XDMA_BAR_USER, XDMA_SRC_RATE_LO, lower_32_bits(cfg->rate));
	xdma_wr(xd, XDMA_BAR_USER, XDMA_SRC_RATE_HI, upper_32_bits(cfg->rate));
	xdma_wr(xd, XDMA_BAR_USER, XDMA_SRC_CTRL, XDMA_SRC_CTRL_RUN |
		(cfg->pausable ? 0 : XDMA_SRC_CTRL_DROP));
	return 0;
}

static void xdma_stream_stop(struct dmakit_card *card)
{
	struct dmakit_xdma *xd = card->hw_priv;
	u32 status;
	int ret;

	spin_lock(&xd->lock);
	xd->running = false;
	spin_unlock(&xd->lock);
	if (!xd->h2c)
		xdma_wr(xd, XDMA_BAR_USER, XDMA_SRC_CTRL, 0);
	xdma_chan_wr(xd, XDMA_CHAN_CONTROL_W1C, XDMA_CTRL_RUN);
	/* it finishes the descriptor it is on, then touches nothing more */
	ret = read_poll_timeout(xdma_chan_rd, status, !(status & XDMA_STAT_BUSY),
				100, XDMA_STOP_TIMEOUT_S * USEC_PER_SEC, false, xd,
				XDMA_CHAN_STATUS);
	if (ret)
		dev_err(&card->dev, "%s engine still busy %d s after stop (status %#x)\n",
			xd->h2c ? "H2C" : "C2H", XDMA_STOP_TIMEOUT_S, status);
	xdma_wr(xd, XDMA_BAR_DMA, XDMA_IRQ_BLOCK + XDMA_IRQ_CHAN_INT_EN_W1C,
		xdma_chan_irq_bit(xd));
	xdma_chan_wr(xd, XDMA_CHAN_INT_ENABLE, 0);
	xd->io->sync_irq(xd->ctx, xd->h2c ? XDMA_VEC_H2C0 : XDMA_VEC_C2H0);
	spin_lock(&xd->lock);
	xd->chain_busy = false;
	xd->qlen = 0;
	xd->inflight = 0;
	spin_unlock(&xd->lock);
}

/* Write slot @slot's descriptors; start a chain if the engine is idle. */
static void xdma_stream_post(struct dmakit_card *card, u32 slot,
			     const struct dmakit_stream_buf *buf)
{
	struct dmakit_xdma *xd = card->hw_priv;
	struct xdma_desc *d = xdma_slot_desc(xd, slot);
	const struct xdma_c2h_wb *wb = &xd->wb[(size_t)slot * xd->cfg.max_nsg];
	dma_addr_t wb_bus = xd->wb_bus +
			    (dma_addr_t)slot * xd->cfg.max_nsg * sizeof(*wb);
	dma_addr_t d_bus = xdma_slot_desc_bus(xd, slot);
	struct scatterlist *sg;
	u32 n = 0, left = xd->h2c ? buf->len : xd->cfg.bufsize;
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

		if (n == xd->cfg.max_nsg || !len)
			break;
		if (xd->h2c)
			src = sg_dma_address(sg);
		else
			dst = sg_dma_address(sg);
		xdma_desc_set(&d[n], 0, len, src, dst, next);
		memset(&xd->wb[(size_t)slot * xd->cfg.max_nsg + n], 0,
		       sizeof(*wb));
		left -= len;
		n++;
	}
	spin_lock(&xd->lock);
	if (!xd->running || WARN_ON_ONCE(!n || xd->qlen == xd->cfg.nbufs)) {
		spin_unlock(&xd->lock);
		return;
	}
	xd->nd[slot] = n;
	xd->nbytes[slot] = (xd->h2c ? buf->len : xd->cfg.bufsize) - left;
	xd->queue[(xd->qhead + xd->qlen) % xd->cfg.nbufs] = slot;
	xd->qlen++;
	if (!xd->chain_busy)
		xdma_chain_start(xd);
	spin_unlock(&xd->lock);
}

static u64 xdma_stream_drops(struct dmakit_card *card)
{
	struct dmakit_xdma *xd = card->hw_priv;
	u32 lo, hi;

	/* hi, lo, hi again: a consistent 64-bit count */
	do {
		hi = xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_DROPS_HI);
		lo = xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_DROPS_LO);
	} while (hi != xdma_rd(xd, XDMA_BAR_USER, XDMA_SRC_DROPS_HI));
	return (u64)hi << 32 | lo;
}

/*
 * h2c/: what the sink proves it received since the H2C stream last
 * started (bytes, buffers, the CRC32C of every byte in order, underruns:
 * it never runs dry), read from the user logic as sim's h2c/ shows its
 * own.  Kept after a stop until the next start.
 */
static struct dmakit_xdma *xdma_of(struct device *dev)
{
	return dmakit_card_of(dev)->hw_priv;
}

static ssize_t bytes_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct dmakit_xdma *xd = xdma_of(dev);
	u32 lo, hi;

	do {
		hi = xdma_rd(xd, XDMA_BAR_USER, XDMA_SINK_BYTES_HI);
		lo = xdma_rd(xd, XDMA_BAR_USER, XDMA_SINK_BYTES_LO);
	} while (hi != xdma_rd(xd, XDMA_BAR_USER, XDMA_SINK_BYTES_HI));
	return sysfs_emit(buf, "%llu\n", (u64)hi << 32 | lo);
}
static DEVICE_ATTR_RO(bytes);

static ssize_t buffers_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", xdma_rd(xdma_of(dev), XDMA_BAR_USER,
					       XDMA_SINK_PACKETS));
}
static DEVICE_ATTR_RO(buffers);

static ssize_t crc32c_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%08x\n", xdma_rd(xdma_of(dev), XDMA_BAR_USER,
						 XDMA_SINK_CRC));
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

/* The card is what xdma.h says: an XDMA C2H stream and our user logic. */
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
	return 0;
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
 *
 * Registers /dev/dmakitN.  Returns 0 or a negative errno.
 */
int dmakit_xdma_attach(struct dmakit_xdma **xdp, struct device *parent,
		       struct device *dma_dev, const struct xdma_io *io,
		       void *ctx, u64 mm_size)
{
	struct dmakit_xdma *xd;
	struct dmakit_card *card;
	int bits, ret;

	xd = kzalloc(sizeof(*xd), GFP_KERNEL);
	if (!xd)
		return -ENOMEM;
	xd->dma_dev = dma_dev;
	xd->io = io;
	xd->ctx = ctx;
	spin_lock_init(&xd->lock);
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
	xd->count_wb = dma_alloc_coherent(dma_dev, sizeof(*xd->count_wb),
					  &xd->count_wb_bus, GFP_KERNEL);
	if (!xd->count_wb) {
		ret = -ENOMEM;
		goto err_free;
	}
	if (xd->mm) {
		xd->xdesc = dma_alloc_coherent(dma_dev, XDMA_XFER_MAX_CHAIN *
					       sizeof(*xd->xdesc),
					       &xd->xdesc_bus, GFP_KERNEL);
		if (!xd->xdesc) {
			ret = -ENOMEM;
			goto err_wb;
		}
		xdma_xfer_setup(xd);
	}
	card = dmakit_card_alloc(parent, dma_dev, xd->mm ? &xdma_hw_ops_mm :
					   &xdma_hw_ops_stream, xd, "xdma");
	if (IS_ERR(card)) {
		ret = PTR_ERR(card);
		goto err_wb;
	}
	card->dma_bits = bits;
	card->irq_type = DMAKIT_IRQ_NONE;
	card->nvec = 2;
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
	xd->card = card;
	WRITE_ONCE(*xdp, xd);
	ret = dmakit_card_add(card);
	if (ret)
		goto err_card;
	return 0;

err_card:
	WRITE_ONCE(*xdp, NULL);
	dmakit_card_put(card);
err_wb:
	if (xd->xdesc)
		dma_free_coherent(dma_dev, XDMA_XFER_MAX_CHAIN *
				  sizeof(*xd->xdesc), xd->xdesc, xd->xdesc_bus);
	dma_free_coherent(dma_dev, sizeof(*xd->count_wb), xd->count_wb,
			  xd->count_wb_bus);
err_free:
	kfree(xd);
	return ret;
}

void dmakit_xdma_detach(struct dmakit_xdma *xd)
{
	dmakit_card_remove(xd->card);
	/* stopped by the removal if they ran; make sure, it is idempotent */
	if (xd->mm)
		xdma_xfer_abort(xd->card);
	else
		xdma_stream_stop(xd->card);
	dmakit_card_put(xd->card);
	xdma_free_rings(xd);
	if (xd->xdesc)
		dma_free_coherent(xd->dma_dev, XDMA_XFER_MAX_CHAIN *
				  sizeof(*xd->xdesc), xd->xdesc, xd->xdesc_bus);
	dma_free_coherent(xd->dma_dev, sizeof(*xd->count_wb), xd->count_wb,
			  xd->count_wb_bus);
	kfree(xd);
}
