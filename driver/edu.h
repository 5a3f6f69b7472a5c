/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's edu device: the register map and the state edu.c (transactions,
 * interrupts) and edu_stream.c (the streaming engine) share.
 */
#ifndef DMAKIT_EDU_H
#define DMAKIT_EDU_H

#include <linux/bits.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "dmakit.h"

#define EDU_REG_ID		0x00
#define  EDU_ID_MAGIC_MASK	0xff
#define  EDU_ID_MAGIC		0xed
#define EDU_REG_ALIVE		0x04	/* reads back the inverse */
#define EDU_REG_IRQ_STATUS	0x24
#define  EDU_IRQ_DMA		BIT(8)
#define  EDU_IRQ_SELFTEST	BIT(16)	/* any bit the driver raises */
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define  EDU_DMA_START		BIT(0)	/* stays set while the DMA runs */
#define  EDU_DMA_TO_RAM		BIT(1)
#define  EDU_DMA_IRQ		BIT(2)

#define EDU_DMA_WINDOW		0x40000
/* the last byte of the 4 KiB window is unreachable on QEMU < 8.2.1 */
#define EDU_CARD_MEM		(4096 - 1)
#define EDU_DMA_BITS		28
/* a DMA takes 100 ms of QEMU's virtual clock */
#define EDU_SEG_TIMEOUT_MS	1000
#define EDU_ALL_ONES		0xffffffffU

/*
 * The streaming engine's data format (docs/driver.md, "edu's ring"):
 * before each buffer the driver writes a pattern block into the device,
 * EDU_PATTERN_WORDS little-endian 64-bit words, word j =
 * EDU_PATTERN_WORD(seq, j); then each EDU_CHUNK-byte chunk k of the buffer
 * is one device->RAM DMA of the device bytes from word (k % EDU_CHUNK_OFFSETS).
 * A chunk in the wrong place, of another buffer or never written cannot
 * pass for the right one.
 */
#define EDU_CHUNK		2048
#define EDU_CHUNK_OFFSETS	128
#define EDU_PATTERN_WORDS	(EDU_CHUNK_OFFSETS + EDU_CHUNK / 8)
#define EDU_PATTERN_BYTES	(EDU_PATTERN_WORDS * 8)
#define EDU_PATTERN_WORD(seq, j) \
	(((u64)(u32)(seq) << 32) | 0xed000000U | (u32)(j))

/* The default ring: edu moves ~20 KiB/s. */
#define EDU_RING_NBUFS		8
#define EDU_RING_BUFSIZE	(16 * 1024)

struct edu_posted {
	u32 slot;
	struct sg_table *sgt;
};

/*
 * The stream's state.  @lock orders every stream DMA start with the
 * decisions before it; taken in process context only (the threaded
 * handler, the watchdog, stream ops).
 * @enabled:   between stream_start and stream_stop: DMAs may start and
 *             completions be reported
 * @dma_busy:  a stream DMA is in flight (the interrupt is the stream's)
 * @failed:    the engine hung or vanished: no more DMAs until restart
 * @queue:     posted buffers in order, @qlen from @qhead (of @qcap)
 * @in_buf:    the buffer at @qhead is being filled: @filled bytes, next
 *             at @sg + @sg_off; @pattern_done: its pattern block is in
 * @unit_len:  bytes of the DMA in flight
 */
struct edu_stream {
	spinlock_t lock;	/* see above */
	bool enabled;
	bool dma_busy;
	bool failed;
	struct edu_posted *queue;
	u32 qcap, qhead, qlen;
	bool in_buf;
	bool pattern_done;
	struct scatterlist *sg;
	u32 sg_off;
	u32 filled;
	u32 unit_len;
	u32 bufsize;
	u64 seq;
	u64 *pattern;
	dma_addr_t pattern_bus;
	struct delayed_work watchdog;
	unsigned int watchdog_polls;
};

/* The backend's per-device state (dmakit_pci->priv). */
struct edu {
	struct dmakit_pci *pci;
	struct edu_stream stream;
};

u32 edu_readl(struct dmakit_pci *p, u32 reg);
void edu_writel(struct dmakit_pci *p, u32 reg, u32 val);
void edu_writeq(struct dmakit_pci *p, u32 reg, u64 val);
int edu_dma_poll(struct dmakit_pci *p);
int edu_dma_start(struct dmakit_pci *p, dma_addr_t bus, u32 card_off,
		  u32 len, bool to_ram);

/* edu_stream.c */
void edu_stream_init(struct dmakit_pci *p);
bool edu_stream_irq(struct dmakit_pci *p);
int edu_stream_start(struct dmakit_card *card,
		     const struct dmakit_stream_cfg *cfg);
void edu_stream_stop(struct dmakit_card *card);
void edu_stream_post(struct dmakit_card *card, u32 slot,
		     const struct dmakit_stream_buf *buf);

#endif /* DMAKIT_EDU_H */
