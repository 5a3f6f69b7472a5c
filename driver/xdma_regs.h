/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The subset of Xilinx's DMA/Bridge Subsystem for PCI Express (XDMA, product
 * guide PG195) that dmakit's xdma backend (xdma.c) uses and its model
 * (xdma_model.c) implements.  Written from PG195's register and descriptor
 * tables; offsets are into the DMA BAR.  Everything is little-endian.
 *
 * The DMA BAR is a set of 4 KiB register blocks, the target in bits
 * [15:12] of the offset, the channel in bits [11:8].
 */
#ifndef DMAKIT_XDMA_REGS_H
#define DMAKIT_XDMA_REGS_H

#include <linux/bits.h>
#include <linux/types.h>

#define XDMA_BAR_SIZE			0x10000
#define XDMA_CHAN_STRIDE		0x100
#define XDMA_MAX_CHANNELS		4

/* register block targets */
#define XDMA_H2C_CHAN(n)		(0x0000 + (n) * XDMA_CHAN_STRIDE)
#define XDMA_C2H_CHAN(n)		(0x1000 + (n) * XDMA_CHAN_STRIDE)
#define XDMA_IRQ_BLOCK			0x2000
#define XDMA_H2C_SGDMA(n)		(0x4000 + (n) * XDMA_CHAN_STRIDE)
#define XDMA_C2H_SGDMA(n)		(0x5000 + (n) * XDMA_CHAN_STRIDE)
#define XDMA_SGDMA_COMMON		0x6000

/*
 * Every block's first register: subsystem 0x1fc in [31:20], the target
 * in [19:16] (0 H2C, 1 C2H, 2 IRQ, 4 H2C SGDMA, 5 C2H SGDMA, 6 SGDMA
 * common), AXI-ST (1) or AXI-MM (0) in [15], channel in [11:8], version
 * in [7:0].  A DMA BAR is the one whose 0x0000 reads 0x1fc0xxxx and whose
 * 0x1000 reads 0x1fc1xxxx.
 */
#define XDMA_REG_IDENTIFIER		0x00
#define XDMA_ID_SUBSYSTEM(v)		((v) >> 20)
#define XDMA_ID_TARGET(v)		(((v) >> 16) & 0xf)
#define XDMA_ID_STREAM			BIT(15)
#define XDMA_ID_CHANNEL(v)		(((v) >> 8) & 0xf)
#define XDMA_SUBSYSTEM_ID		0x1fc
#define XDMA_TARGET_H2C			0
#define XDMA_TARGET_C2H			1
#define XDMA_TARGET_IRQ			2
#define XDMA_TARGET_H2C_SGDMA		4
#define XDMA_TARGET_C2H_SGDMA		5
#define XDMA_TARGET_SGDMA_COMMON	6

/* channel registers (H2C and C2H blocks) */
#define XDMA_CHAN_CONTROL		0x04
#define XDMA_CHAN_CONTROL_W1S		0x08
#define XDMA_CHAN_CONTROL_W1C		0x0c
#define XDMA_CHAN_STATUS		0x40	/* write 1 to clear */
#define XDMA_CHAN_STATUS_RC		0x44	/* read to clear */
#define XDMA_CHAN_COMPLETED_DESC	0x48
#define XDMA_CHAN_POLL_WB_LO		0x88
#define XDMA_CHAN_POLL_WB_HI		0x8c
#define XDMA_CHAN_INT_ENABLE		0x90
#define XDMA_CHAN_INT_ENABLE_W1S	0x94
#define XDMA_CHAN_INT_ENABLE_W1C	0x98

/* control: run, then one interrupt enable per status event */
#define XDMA_CTRL_RUN			BIT(0)
#define XDMA_CTRL_IE_DESC_STOPPED	BIT(1)
#define XDMA_CTRL_IE_DESC_COMPLETED	BIT(2)
#define XDMA_CTRL_IE_MAGIC_STOPPED	BIT(4)
#define XDMA_CTRL_IE_READ_ERROR		GENMASK(13, 9)
#define XDMA_CTRL_IE_WRITE_ERROR	GENMASK(18, 14)
#define XDMA_CTRL_IE_DESC_ERROR		GENMASK(23, 19)
#define XDMA_CTRL_POLL_WB_ENABLE	BIT(26)

/* status: the same bit positions, busy in bit 0 */
#define XDMA_STAT_BUSY			BIT(0)
#define XDMA_STAT_DESC_STOPPED		BIT(1)
#define XDMA_STAT_DESC_COMPLETED	BIT(2)
#define XDMA_STAT_MAGIC_STOPPED		BIT(4)
#define XDMA_STAT_READ_ERROR		GENMASK(13, 9)
#define XDMA_STAT_WRITE_ERROR		GENMASK(18, 14)
#define XDMA_STAT_DESC_ERROR		GENMASK(23, 19)
/* what the model reports a bus error with: each field's first bit */
#define XDMA_STAT_READ_ERROR_FIRST	BIT(9)
#define XDMA_STAT_WRITE_ERROR_FIRST	BIT(14)
#define XDMA_STAT_DESC_ERROR_FIRST	BIT(19)
#define XDMA_STAT_ERRORS		(XDMA_STAT_MAGIC_STOPPED | \
					 XDMA_STAT_READ_ERROR | \
					 XDMA_STAT_WRITE_ERROR | \
					 XDMA_STAT_DESC_ERROR)

/*
 * Poll-mode writeback: with XDMA_CTRL_POLL_WB_ENABLE the engine writes
 * its completed-descriptor count to host memory at POLL_WB_LO/HI, bit 31
 * set once the engine has stopped.
 */
#define XDMA_WB_COUNT_MASK		GENMASK(23, 0)
#define XDMA_WB_STOPPED			BIT(31)

/* SGDMA blocks (per channel): the first descriptor of a chain */
#define XDMA_SGDMA_DESC_LO		0x80
#define XDMA_SGDMA_DESC_HI		0x84
#define XDMA_SGDMA_DESC_ADJACENT	0x88	/* after the first, 0..63 */
#define XDMA_SGDMA_DESC_CREDITS		0x8c

/* IRQ block */
#define XDMA_IRQ_CHAN_INT_EN		0x10
#define XDMA_IRQ_CHAN_INT_EN_W1S	0x14
#define XDMA_IRQ_CHAN_INT_EN_W1C	0x18
#define XDMA_IRQ_CHAN_INT_REQUEST	0x44
#define XDMA_IRQ_CHAN_INT_PENDING	0x4c
#define XDMA_IRQ_H2C_VECTOR		0xa0
#define XDMA_IRQ_C2H_VECTOR		0xa4
/*
 * channel interrupt bits: the H2C channels' from bit 0, then the C2H
 * channels'; vector registers: one byte per channel, vector in [4:0]
 */
#define XDMA_IRQ_H2C_BIT(ch)		BIT(ch)
#define XDMA_IRQ_C2H_BIT(ch)		BIT(XDMA_MAX_CHANNELS + (ch))
#define XDMA_IRQ_VECTOR_SHIFT(ch)	((ch) * 8)
#define XDMA_IRQ_VECTOR_MASK		0x1f

/* A descriptor: 32 bytes, 32-byte aligned, in host memory. */
struct xdma_desc {
	__le32 control;
	__le32 len;
	__le32 src_lo;
	__le32 src_hi;
	__le32 dst_lo;
	__le32 dst_hi;
	__le32 next_lo;
	__le32 next_hi;
};

#define XDMA_DESC_MAGIC			0xad4bU
#define XDMA_DESC_MAGIC_SHIFT		16
/* contiguous descriptors after the next one, 0..63 */
#define XDMA_DESC_NEXT_ADJ_SHIFT	8
#define XDMA_DESC_NEXT_ADJ_MASK		0x3f
#define XDMA_DESC_STOP			BIT(0)
#define XDMA_DESC_COMPLETED		BIT(1)	/* interrupt when done */
#define XDMA_DESC_EOP			BIT(4)	/* H2C stream: end of packet */
#define XDMA_DESC_LEN_MAX		(BIT(28) - 1)

/*
 * C2H AXI-ST: a descriptor's source address is where the engine writes
 * this, once the descriptor is done: magic in status[31:16], end of
 * packet in status[0], and the bytes written.
 */
struct xdma_c2h_wb {
	__le32 status;
	__le32 len;
};

#define XDMA_WB_MAGIC			0x52b4U
#define XDMA_WB_MAGIC_SHIFT		16
#define XDMA_WB_EOP			BIT(0)

#endif /* DMAKIT_XDMA_REGS_H */
