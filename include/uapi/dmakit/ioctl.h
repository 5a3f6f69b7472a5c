/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * dmakit ioctl ABI: /dev/dmakitN, shared by dmakit.ko and libdmakit.
 *
 * Every structure has fixed-width fields, explicit padding and reserved
 * words; the kernel rejects a call whose reserved words or unknown flags are
 * not zero (-EINVAL), so they can be given a meaning later.  Sizes and
 * offsets are asserted by tests/unit/test_ioctl_abi.c.  Each ioctl number
 * encodes its structure, so a caller built against another layout gets
 * -ENOTTY, never a misread argument.
 *
 * One file descriptor per consumer: a process opens the device once for
 * control (mmap, start/stop, transactions) and once more per consumer; a
 * file that did DMAKIT_IOC_ATTACH owns that consumer slot until it is
 * closed, and poll() on it waits for that consumer's next buffer.
 */
#ifndef _UAPI_DMAKIT_IOCTL_H
#define _UAPI_DMAKIT_IOCTL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define DMAKIT_IOCTL_ABI_VERSION	1
#define DMAKIT_IOC_MAGIC		0xD3

/* dmakit_info.flags: what the card has */
#define DMAKIT_INFO_F_RING	(1U << 0)	/* a streaming ring (mmap) */
#define DMAKIT_INFO_F_XFER	(1U << 1)	/* a transaction engine */
#define DMAKIT_INFO_F_RING_H2C	(1U << 2)	/* the ring can be set up H2C */

/* dmakit_info.irq_type */
#define DMAKIT_IRQ_NONE		0	/* no hardware interrupt (sim) */
#define DMAKIT_IRQ_INTX		1
#define DMAKIT_IRQ_MSI		2
#define DMAKIT_IRQ_MSIX		3

/**
 * struct dmakit_info - DMAKIT_IOC_INFO (out): what the card is.  128 bytes.
 * @abi_version:  DMAKIT_IOCTL_ABI_VERSION
 * @flags:        DMAKIT_INFO_F_*
 * @backend:      "edu", "sim" (NUL-terminated)
 * @card_mem_size: bytes of card memory reachable by transactions
 * @ring_map_size: bytes to mmap at offset 0 (0 without a ring)
 * @ring_nbufs:   buffers in the ring
 * @ring_bufsize: bytes per buffer
 * @rate:         configured production rate in bytes/s (0: max / unknown)
 * @dma_mask_bits: the DMA mask the driver negotiated
 * @irq_type:     DMAKIT_IRQ_*
 * @irq_vectors:  interrupt vectors in use
 * @max_xfers:    transactions one file may have outstanding
 * @ring_dir:     DMAKIT_DIR_* (ring.h) of the ring as it is set up now
 */
struct dmakit_info {
	__u32 abi_version;
	__u32 flags;
	char backend[16];
	__u64 card_mem_size;
	__u64 ring_map_size;
	__u32 ring_nbufs;
	__u32 ring_bufsize;
	__u64 rate;
	__u32 dma_mask_bits;
	__u32 irq_type;
	__u32 irq_vectors;
	__u32 max_xfers;
	__u32 ring_dir;
	__u32 reserved0;
	__u64 reserved[6];
};

/**
 * struct dmakit_ring_setup - DMAKIT_IOC_RING_SETUP: set the ring up for a
 * direction.  Geometry and policy stay as configured (sysfs).
 * @dir:      in: DMAKIT_DIR_C2H (every ring's default) or DMAKIT_DIR_H2C
 *            (needs DMAKIT_INFO_F_RING_H2C)
 * @reserved0, @reserved: in: zero
 *
 * C2H again changes nothing.  H2C needs this file to be the card's only
 * open file (one producer; EBUSY otherwise).  A change of direction builds
 * a new, empty ring: only while the stream is stopped and nothing maps the
 * ring (EBUSY otherwise; map after the call).  When the last file of the card closes with nothing mapped,
 * the ring returns to C2H, so programs that never ask keep their default.
 * Errors: EINVAL (dir, reserved), EOPNOTSUPP (no ring, or no H2C engine),
 * EBUSY, ENOMEM (the old ring is kept), ENODEV.
 */
struct dmakit_ring_setup {
	__u32 dir;
	__u32 reserved0;
	__u64 reserved[3];
};

/**
 * struct dmakit_attach - DMAKIT_IOC_ATTACH: make this file a ring consumer.
 * @mode:      in: DMAKIT_CONSUMER_RELIABLE or DMAKIT_CONSUMER_LOSSY
 * @slot:      out: index into ctrl->consumers[]
 * @start_pos: out: the first ring position this consumer will read
 * @reserved:  in: zero
 */
struct dmakit_attach {
	__u32 mode;
	__u32 slot;
	__u64 start_pos;
	__u64 reserved[2];
};

/* dmakit_xfer.dir */
#define DMAKIT_XFER_TO_HOST	1	/* card memory -> user buffer */
#define DMAKIT_XFER_FROM_HOST	2	/* user buffer -> card memory */

/**
 * struct dmakit_xfer - DMAKIT_IOC_XFER_SUBMIT: start a transaction.
 * @user_addr: in: the user buffer (any alignment)
 * @len:       in: bytes, 1..card_mem_size
 * @card_addr: in: offset into card memory; card_addr + len <= card_mem_size
 * @dir:       in: DMAKIT_XFER_*
 * @flags:     in: zero
 * @id:        out: transaction id (> 0), for DMAKIT_IOC_XFER_WAIT
 * @reserved:  in: zero
 *
 * The buffer is pinned until the transaction is waited for or the file is
 * closed.  Errors: EINVAL (zero length, outside card memory, bad dir or
 * reserved fields), EFAULT (unmapped memory, or read-only memory for
 * TO_HOST), EAGAIN (this file has max_xfers outstanding), ENODEV (the card
 * is gone), EIO (the buffer cannot be mapped for this device).
 */
struct dmakit_xfer {
	__u64 user_addr;
	__u64 len;
	__u64 card_addr;
	__u32 dir;
	__u32 flags;
	__u64 id;
	__u64 reserved[3];
};

/**
 * struct dmakit_xfer_wait - DMAKIT_IOC_XFER_WAIT: wait for a transaction.
 * @id:         in: from DMAKIT_IOC_XFER_SUBMIT
 * @timeout_ms: in: -1 waits forever, 0 only checks
 * @status:     out: 0, or the transaction's -errno (EIO device error,
 *              ENODEV card removed, ETIMEDOUT the device stopped answering)
 * @bytes_done: out: bytes transferred (so far, if the ioctl fails)
 * @reserved:   in: zero
 *
 * Returns 0 when the transaction has ended, whatever its status: the id is
 * then forgotten and the buffer unpinned.  Fails with ETIMEDOUT (still
 * running; wait again), EINTR (a signal arrived), ENOENT (unknown id).
 */
struct dmakit_xfer_wait {
	__u64 id;
	__s32 timeout_ms;
	__s32 status;
	__u64 bytes_done;
	__u64 reserved[3];
};

#define DMAKIT_IOC_INFO		_IOR(DMAKIT_IOC_MAGIC, 0x00, struct dmakit_info)
#define DMAKIT_IOC_ATTACH	_IOWR(DMAKIT_IOC_MAGIC, 0x01, struct dmakit_attach)
#define DMAKIT_IOC_START	_IO(DMAKIT_IOC_MAGIC, 0x02)
#define DMAKIT_IOC_STOP		_IO(DMAKIT_IOC_MAGIC, 0x03)
/*
 * A consumer released buffers while ctrl->producer_waiting was set (C2H),
 * or the application published while ctrl->engine_waiting was (H2C).
 */
#define DMAKIT_IOC_KICK		_IO(DMAKIT_IOC_MAGIC, 0x04)
#define DMAKIT_IOC_RING_SETUP	_IOW(DMAKIT_IOC_MAGIC, 0x05, struct dmakit_ring_setup)
#define DMAKIT_IOC_XFER_SUBMIT	_IOWR(DMAKIT_IOC_MAGIC, 0x10, struct dmakit_xfer)
#define DMAKIT_IOC_XFER_WAIT	_IOWR(DMAKIT_IOC_MAGIC, 0x11, struct dmakit_xfer_wait)

#endif /* _UAPI_DMAKIT_IOCTL_H */
