// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's edu device (hw/misc/edu.c, docs/specs/edu.rst) as a dmakit card:
 * a transaction engine between host memory and a 4 KiB window of device
 * memory, one DMA at a time, completing with an interrupt.  The same
 * engine fills the streaming ring (edu_stream.c): transactions and the
 * stream take turns (shared_engine: one refuses while the other runs).
 *
 * The emulator aborts on a DMA of zero bytes or outside its window (QEMU
 * before 8.2.1 also on a range that ends exactly at the window's end), so
 * every segment is checked here again, after the ioctl's own check, before
 * a register is written.
 */
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/pci.h>

#include "dmakit.h"
#include "edu.h"
#include "fault.h"

/*
 * A removed device answers reads with all-ones.  QEMU cannot remove a
 * device by surprise (its reads of a disabled BAR return zeroes), so in
 * test builds a debugfs switch, dmakit/<pci address>/fake_vanished, makes
 * the registers read that way to test the driver's handling (fault.c).
 */
u32 edu_readl(struct dmakit_pci *p, u32 reg)
{
	if (unlikely(dmakit_fault_vanished(p)))
		return EDU_ALL_ONES;
	return readl(p->regs + reg);
}

void edu_writel(struct dmakit_pci *p, u32 reg, u32 val)
{
	writel(val, p->regs + reg);
}

void edu_writeq(struct dmakit_pci *p, u32 reg, u64 val)
{
	writeq(val, p->regs + reg);
}

/*
 * Hard half: is it ours, acknowledge, account; a finished DMA is reported
 * from the thread (the pattern of an engine whose completion handling
 * may sleep; dmakit_xfer_complete() itself takes any context).
 */
static irqreturn_t edu_irq(int irq, void *dev_id)
{
	struct dmakit_pci *p = dev_id;
	u32 status = edu_readl(p, EDU_REG_IRQ_STATUS);

	/* not ours (shared INTx), or the device is gone */
	if (!status || status == EDU_ALL_ONES)
		return IRQ_NONE;
	edu_writel(p, EDU_REG_IRQ_ACK, status);
	/* the ack reaches the device before INTx is looked at again */
	edu_readl(p, EDU_REG_IRQ_STATUS);
	dmakit_card_irq(p->card, 0);
	if (status & EDU_IRQ_SELFTEST)
		complete(&p->irq_test);
	return status & EDU_IRQ_DMA ? IRQ_WAKE_THREAD : IRQ_HANDLED;
}

/*
 * Threaded half: the DMA that ended is the stream's or a transaction's
 * (never both at once); for a transaction the count register holds its
 * length.
 */
static irqreturn_t edu_irq_thread(int irq, void *dev_id)
{
	struct dmakit_pci *p = dev_id;

	if (!edu_stream_irq(p))
		dmakit_xfer_complete(p->card,
				     edu_readl(p, EDU_REG_DMA_COUNT), 0);
	return IRQ_HANDLED;
}

static int edu_irq_selftest(struct dmakit_pci *p)
{
	reinit_completion(&p->irq_test);
	edu_writel(p, EDU_REG_IRQ_RAISE, EDU_IRQ_SELFTEST);
	edu_readl(p, EDU_REG_IRQ_STATUS);
	if (!wait_for_completion_timeout(&p->irq_test, HZ))
		return -ETIMEDOUT;
	return 0;
}

static int edu_check(struct dmakit_pci *p)
{
	u32 id = edu_readl(p, EDU_REG_ID);

	if (id == EDU_ALL_ONES || (id & EDU_ID_MAGIC_MASK) != EDU_ID_MAGIC) {
		dev_err(&p->pdev->dev, "not an edu device (id %#x)\n", id);
		return -ENODEV;
	}
	edu_writel(p, EDU_REG_ALIVE, 0x5a5aa5a5);
	if (edu_readl(p, EDU_REG_ALIVE) != ~0x5a5aa5a5U) {
		dev_err(&p->pdev->dev, "edu liveness check failed\n");
		return -EIO;
	}
	/* a DMA left running by a previous owner would confuse the engine */
	if (edu_readl(p, EDU_REG_DMA_CMD) & EDU_DMA_START) {
		dev_err(&p->pdev->dev, "edu DMA engine busy at probe\n");
		return -EBUSY;
	}
	return 0;
}

/* 1 while a DMA runs, 0 when idle, -ENODEV if the device is gone. */
int edu_dma_poll(struct dmakit_pci *p)
{
	u32 cmd = edu_readl(p, EDU_REG_DMA_CMD);

	if (cmd == EDU_ALL_ONES)
		return -ENODEV;
	return cmd & EDU_DMA_START ? 1 : 0;
}

static int edu_xfer_poll(struct dmakit_card *card)
{
	return edu_dma_poll(card->hw_priv);
}

/*
 * Start one DMA of @len bytes between bus address @bus and device memory
 * offset @card_off, completing with an interrupt; checked first, as the
 * emulator dies of a bad one.
 */
int edu_dma_start(struct dmakit_pci *p, dma_addr_t bus, u32 card_off,
		  u32 len, bool to_ram)
{
	u64 window = EDU_DMA_WINDOW + card_off;
	int busy;

	if (!len || card_off >= EDU_CARD_MEM || len > EDU_CARD_MEM - card_off)
		return -EINVAL;
	/* the device truncates addresses beyond its mask */
	if (bus + len - 1 > DMA_BIT_MASK(EDU_DMA_BITS))
		return -EIO;
	busy = edu_dma_poll(p);
	if (busy)
		return busy < 0 ? busy : -EBUSY;

	edu_writeq(p, EDU_REG_DMA_SRC, to_ram ? window : bus);
	edu_writeq(p, EDU_REG_DMA_DST, to_ram ? bus : window);
	edu_writeq(p, EDU_REG_DMA_COUNT, len);
	edu_writel(p, EDU_REG_DMA_CMD, EDU_DMA_START | EDU_DMA_IRQ |
		   (to_ram ? EDU_DMA_TO_RAM : 0));
	/*
	 * Flush the posted writes and see the engine busy: it stays busy for
	 * 100 ms, so a clear start bit without a completion means the device
	 * did not take the command (e.g. its memory decoding is off).
	 */
	busy = edu_dma_poll(p);
	if (busy < 0)
		return busy;
	if (!busy && !(edu_readl(p, EDU_REG_IRQ_STATUS) & EDU_IRQ_DMA))
		return -EIO;
	return 0;
}

static int edu_xfer_seg_start(struct dmakit_card *card, dma_addr_t bus,
			      u64 card_off, u32 len, bool to_host)
{
	if (card_off >= EDU_CARD_MEM)
		return -EINVAL;
	return edu_dma_start(card->hw_priv, bus, card_off, len, to_host);
}

/* A hung engine: no more bus mastering, so it cannot touch our pages. */
static void edu_xfer_abort(struct dmakit_card *card)
{
	struct dmakit_pci *p = card->hw_priv;

	pci_clear_master(p->pdev);
}

static int edu_init(struct dmakit_pci *p)
{
	edu_stream_init(p);
	return 0;
}

static const struct dmakit_hw_ops edu_hw_ops = {
	.stream_start = edu_stream_start,
	.stream_stop = edu_stream_stop,
	.stream_post = edu_stream_post,
	.xfer_seg_start = edu_xfer_seg_start,
	.xfer_poll = edu_xfer_poll,
	.xfer_abort = edu_xfer_abort,
	.xfer_timeout_ms = EDU_SEG_TIMEOUT_MS,
	.shared_engine = true,
};

const struct dmakit_pci_info dmakit_edu_info = {
	.name = "edu",
	.bar = 0,
	.dma_bits = EDU_DMA_BITS,
	.card_mem_size = EDU_CARD_MEM,
	.xfer_max_seg = EDU_CARD_MEM,
	.hw = &edu_hw_ops,
	.check = edu_check,
	.irq_handler = edu_irq,
	.irq_thread = edu_irq_thread,
	.irq_selftest = edu_irq_selftest,
	.priv_size = sizeof(struct edu),
	.init = edu_init,
	.ring_nbufs = EDU_RING_NBUFS,
	.ring_bufsize = EDU_RING_BUFSIZE,
};
