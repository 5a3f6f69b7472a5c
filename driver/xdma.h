/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The xdma backend (xdma.c) and what it is bound to: a card with Xilinx's
 * XDMA subsystem (xdma_regs.h, PG195) in its DMA BAR and, in its user
 * BAR, the acquisition logic feeding the C2H stream (below).  The backend
 * reaches both only through struct xdma_io: on a PCI card that is
 * ioread32/iowrite32 on the mapped BARs and synchronize_irq(); on the
 * model (xdma_model.c, module parameter sim_xdma) the model's registers.
 */
#ifndef DMAKIT_XDMA_H
#define DMAKIT_XDMA_H

#include <linux/bits.h>
#include <linux/device.h>
#include <linux/types.h>

#define XDMA_BAR_USER		0
#define XDMA_BAR_DMA		1

/**
 * struct xdma_io - register access to one card.
 * @rd:       32-bit read of BAR @bar at @off
 * @wr:       32-bit write, ordered after the CPU's earlier memory writes
 *            (as iowrite32 is)
 * @sync_irq: wait until a running handler of vector @vec has returned
 *            (synchronize_irq)
 */
struct xdma_io {
	u32 (*rd)(void *ctx, unsigned int bar, u32 off);
	void (*wr)(void *ctx, unsigned int bar, u32 off, u32 v);
	void (*sync_irq)(void *ctx, unsigned int vec);
};

/*
 * The acquisition logic in the user BAR (dmakit's design behind XDMA's
 * stream channels, not part of PG195): one block of the registers below
 * per channel n, at XDMA_USER_CHAN(n), behind C2H and H2C channel n.
 * C2H: a packet source writing one packet per ring buffer into the
 * channel's AXI-ST port -- the payload of dmakit_payload_word() -- at a
 * set rate, and a metadata FIFO with one entry per packet (its sequence
 * number, time, the packets dropped just before it, its CRC32C).  XDMA's
 * C2H writeback carries only a length; what a recorder needs besides
 * comes from the user logic, as on real acquisition cards.  Without a
 * free descriptor the source waits (XDMA_SRC_CTRL_DROP clear: AXI-ST
 * back-pressure) or drops the packet (counted).  Channel n's source
 * numbers its packets from n << XDMA_SRC_SEQ_CHAN_SHIFT: the channel is
 * in every sequence number, so its payload is its own and a recording
 * says which channel it came from (a swapped channel is seen).
 */
#define XDMA_USER_CHAN(n)	((n) * 0x100)
#define XDMA_SRC_SEQ_CHAN_SHIFT	40
#define XDMA_SRC_ID		0x00	/* reads XDMA_SRC_ID_VALUE */
#define XDMA_SRC_ID_VALUE	0xd3a50001
#define XDMA_SRC_CTRL		0x04
#define XDMA_SRC_CTRL_RUN	BIT(0)	/* 0 -> 1: sequence and clock 0 */
#define XDMA_SRC_CTRL_DROP	BIT(1)
#define XDMA_SRC_PKT_LEN	0x08	/* bytes per packet, multiple of 8 */
#define XDMA_SRC_RATE_LO	0x0c	/* bytes/s, 0: as fast as it can */
#define XDMA_SRC_RATE_HI	0x10
#define XDMA_SRC_DROPS_LO	0x14	/* packets dropped since RUN */
#define XDMA_SRC_DROPS_HI	0x18
#define XDMA_SRC_META_COUNT	0x20	/* entries in the FIFO */
#define XDMA_SRC_META_SEQ_LO	0x24	/* the oldest entry, */
#define XDMA_SRC_META_SEQ_HI	0x28	/* valid while META_COUNT > 0 */
#define XDMA_SRC_META_TS_LO	0x2c	/* ns since RUN */
#define XDMA_SRC_META_TS_HI	0x30
#define XDMA_SRC_META_LOST	0x34
#define XDMA_SRC_META_CRC	0x38
#define XDMA_SRC_META_FLAGS	0x3c
#define XDMA_SRC_META_ABORTED	BIT(0)	/* the engine stopped mid-packet */
#define XDMA_SRC_META_POP	0x40	/* write: drop the oldest entry */
#define XDMA_SRC_META_DEPTH	1024

/*
 * The sink behind each H2C stream (channel n's, in its block): what the card proves it
 * received -- bytes, packets (one per buffer, ended by a descriptor with
 * EOP), the CRC32C of every byte in order -- and a FIFO with each
 * packet's length and CRC32C.  It takes data as fast as the engine gives
 * it (no pace: it never runs dry).  Its FIFO full, the engine waits.
 */
#define XDMA_SINK_CTRL		0x60
#define XDMA_SINK_CTRL_RESET	BIT(0)	/* write: counters and FIFO cleared */
#define XDMA_SINK_BYTES_LO	0x64
#define XDMA_SINK_BYTES_HI	0x68
#define XDMA_SINK_PACKETS	0x6c
#define XDMA_SINK_CRC		0x70	/* of every byte since the reset */
#define XDMA_SINK_META_COUNT	0x74
#define XDMA_SINK_META_LEN	0x78	/* the oldest entry */
#define XDMA_SINK_META_CRC	0x7c
#define XDMA_SINK_META_FLAGS	0x80	/* XDMA_SRC_META_ABORTED */
#define XDMA_SINK_META_POP	0x84

struct dmakit_xdma;

/* xdma.c */
int dmakit_xdma_attach(struct dmakit_xdma **xdp, struct device *parent,
		       struct device *dma_dev, const struct xdma_io *io,
		       void *ctx, u64 mm_size, unsigned int nvec);
void dmakit_xdma_detach(struct dmakit_xdma *xd);
void dmakit_xdma_irq(struct dmakit_xdma *xd, unsigned int vec);
void dmakit_xdma_vec_name(char *buf, size_t size, unsigned int nchan,
			  unsigned int nvec, unsigned int vec);

/* xdma_model.c */
int dmakit_xdma_model_init(void);
void dmakit_xdma_model_exit(void);

#endif /* DMAKIT_XDMA_H */
