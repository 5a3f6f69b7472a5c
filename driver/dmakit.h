/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmakit.ko internals: the card object every backend fills in, the small
 * hardware-ops interface a backend implements, and the entry points the
 * files of the driver offer each other.
 *
 *   main.c   module init/exit: the core, then the backends' drivers
 *   core.c   what backends call: card lifetime, DMA masks, interrupts
 *   pci.c    the PCI driver: probe/remove, IRQ vectors, per-device data
 *   edu.c    QEMU's edu device: registers, transaction engine, IRQ handler
 *   sim.c    the simulated card: a streaming and a transaction engine that
 *            reach memory only through bus addresses, like hardware
 *   ring.c   the streaming ring (include/uapi/dmakit/ring.h) over DMA
 *   cdev.c   /dev/dmakitN: open, mmap, poll, ioctl
 *   xfer.c   transactions: pinned user buffers <-> card memory
 *   sysfs.c  configuration and counters under /sys/class/dmakit/dmakitN
 *   trace.c  the dmakit:dma_submit and dmakit:dma_complete tracepoints
 */
#ifndef DMAKIT_DRV_H
#define DMAKIT_DRV_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/dma-mapping.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <dmakit/ring.h>
#include <dmakit/ioctl.h>

#include "compat.h"

#define DMAKIT_NAME		"dmakit"
#define DMAKIT_MAX_CARDS	64
#define DMAKIT_MAX_VECTORS	4
#define DMAKIT_MAX_XFERS	64	/* outstanding per open file */

/* Channels, as reported by the tracepoints. */
#define DMAKIT_CHAN_STREAM	0
#define DMAKIT_CHAN_XFER	1

/*
 * The streaming engine's memory interface.  The driver describes each ring
 * buffer to the engine as a list of these (in a dma_pool block) and the
 * engine reports each filled buffer in a completion record (one per ring
 * slot, in coherent memory).  Little-endian, as a PCIe card would read them.
 */
struct dmakit_hw_sg {
	__le64 addr;
	__le32 len;
	__le32 flags;
};

#define DMAKIT_HW_SG_LAST	BIT(0)

struct dmakit_hw_cmpl {
	__le64 seq;		/* device sequence number of the buffer */
	__le64 dev_ts;		/* device clock, ns since stream start */
	__le64 lost;		/* buffers the engine dropped just before */
	__le32 len;		/* bytes written */
	__le32 crc32c;		/* CRC32C of those bytes (status CRC) */
	__le32 status;		/* written last: DMAKIT_HW_CMPL_* */
	__le32 reserved0;
	__le64 reserved[3];
};

#define DMAKIT_HW_CMPL_DONE	BIT(0)
#define DMAKIT_HW_CMPL_ERR	BIT(1)
#define DMAKIT_HW_CMPL_CRC	BIT(2)

/**
 * struct dmakit_stream_cfg - what a streaming engine is told at start.
 * @cmpl_bus:  bus address of the completion records (@nbufs of them)
 * @nbufs:     ring slots (completion record index = slot)
 * @bufsize:   bytes per buffer
 * @rate:      bytes/s to produce, 0: as fast as the engine can
 * @pausable:  wait for a posted buffer instead of dropping (policy BLOCK)
 */
struct dmakit_stream_cfg {
	dma_addr_t cmpl_bus;
	u32 nbufs;
	u32 bufsize;
	u64 rate;
	bool pausable;
};

struct dmakit_card;

/**
 * struct dmakit_hw_ops - what a backend's hardware can do.  Either engine
 * may be absent (NULL ops).  Callbacks are never called after
 * dmakit_card_remove() has marked the card dead.
 *
 * Streaming engine:
 * @stream_start: reset the engine (sequence 0, no posted buffers) and
 *                enable it; it starts producing once a buffer is posted
 * @stream_stop:  disable it; on return it writes no buffer and reports no
 *                completion any more.  May sleep.
 * @stream_post:  hand ring slot @slot, described by @nsg elements at bus
 *                address @sg_bus, to the engine (a doorbell write)
 * @stream_drops: the engine's count of buffers dropped since start
 *
 * Transaction engine (one segment in flight at a time):
 * @xfer_seg_start: start moving @len bytes between bus address @bus and
 *                card memory offset @card_off; completion is reported with
 *                dmakit_xfer_irq().  Called with the card's xfer_lock held.
 * @xfer_seg_poll: 1 while a segment is in flight, 0 when idle, -ENODEV if
 *                the device no longer answers.  Atomic context.
 * @xfer_abort:   stop a hung engine from touching memory (may sleep)
 * @xfer_timeout_ms: longest a healthy segment takes
 */
struct dmakit_hw_ops {
	int (*stream_start)(struct dmakit_card *card,
			    const struct dmakit_stream_cfg *cfg);
	void (*stream_stop)(struct dmakit_card *card);
	void (*stream_post)(struct dmakit_card *card, u32 slot,
			    dma_addr_t sg_bus, u32 nsg);
	u64 (*stream_drops)(struct dmakit_card *card);

	int (*xfer_seg_start)(struct dmakit_card *card, dma_addr_t bus,
			      u64 card_off, u32 len, bool to_host);
	int (*xfer_seg_poll)(struct dmakit_card *card);
	void (*xfer_abort)(struct dmakit_card *card);
	unsigned int xfer_timeout_ms;
};

struct dmakit_counters {
	atomic64_t submitted;	/* transactions + ring buffers given to hw */
	atomic64_t completed;	/* ... and reported back */
	atomic64_t bytes;	/* bytes completed */
	atomic64_t errors;	/* completions with an error status */
	atomic64_t timeouts;	/* waits that timed out, engine watchdog */
	atomic64_t drops;	/* ring buffers the engine dropped */
	atomic64_t irqs[DMAKIT_MAX_VECTORS];
};

struct dmakit_ring;
struct dmakit_txn;

/* User pages pinned for a transaction (pin.c). */
struct dmakit_pin {
	struct page **pages;
	unsigned int npages;
	unsigned int offset;	/* of the buffer in its first page */
	bool device_writes;
	struct mm_struct *mm;	/* charged for them */
};

/*
 * One /dev/dmakitN.
 * @dev:       the class device; its release frees the card, so every open
 *             file and every user mapping holds a reference
 * @dma_dev:   the device that does DMA (PCI function, platform device);
 *             used only until dmakit_card_remove()
 * @lock:      configuration, ring lifetime, stream start/stop, @dead,
 *             @nopen; DMA (un)mapping of transactions
 * @dead:      removed: every entry point fails with -ENODEV
 * @xfer_lock: the transaction queue, taken from interrupt context
 */
struct dmakit_card {
	struct device dev;
	struct cdev cdev;
	struct device *dma_dev;
	const struct dmakit_hw_ops *hw;
	void *hw_priv;
	char backend[16];
	u64 card_mem_size;
	u32 xfer_max_seg;	/* largest segment the engine moves at once */
	u32 dma_bits;
	u32 irq_type;		/* DMAKIT_IRQ_* */
	u32 nvec;

	struct mutex lock;	/* see above */
	bool dead;
	unsigned int nopen;
	atomic_t nmaps;		/* user mappings of the ring */
	struct dmakit_ring *ring;
	u32 ring_nbufs;
	u32 ring_bufsize;
	u32 policy;		/* DMAKIT_POLICY_* */
	u32 payload;		/* DMAKIT_PAYLOAD_* the engine produces */
	u64 rate;		/* bytes/s, 0 = max */

	spinlock_t xfer_lock;		/* see above */
	struct list_head xfers;		/* every live transaction */
	struct list_head xfer_queue;	/* submitted, not yet started */
	struct dmakit_txn *xfer_active;
	u64 xfer_next_id;
	u64 xfer_seg_gen;		/* bumped per started segment */
	int xfer_err;			/* engine hung (-EIO) or gone (-ENODEV) */
	wait_queue_head_t xfer_wq;
	struct delayed_work xfer_watchdog;
	struct work_struct xfer_reap;	/* frees what closed files left */
	atomic64_t xfer_pinned;		/* user pages pinned (pin.c) */
	unsigned int xfer_watchdog_polls;

	struct dmakit_counters cnt;
};

/* Per open file. */
struct dmakit_file {
	struct dmakit_card *card;
	int slot;		/* ring consumer slot, -1: none */
	bool started;		/* this file started the stream */
	unsigned int nxfers;	/* live transactions (card->xfer_lock) */
};

static inline struct dmakit_card *dmakit_card_of(struct device *dev)
{
	return container_of(dev, struct dmakit_card, dev);
}

/* core.c */
extern unsigned int dmakit_ring_nbufs_default;
extern unsigned int dmakit_ring_bufsize_default;
struct dmakit_card *dmakit_card_alloc(struct device *parent,
				      struct device *dma_dev,
				      const struct dmakit_hw_ops *hw,
				      void *hw_priv, const char *backend);
int dmakit_card_add(struct dmakit_card *card);
void dmakit_card_remove(struct dmakit_card *card);
/* The backend's reference, dropped after its interrupts are freed. */
static inline void dmakit_card_put(struct dmakit_card *card)
{
	put_device(&card->dev);
}

int dmakit_dma_set_mask(struct device *dev, unsigned int limit_bits);
void dmakit_card_irq(struct dmakit_card *card, unsigned int vec);

/* ring.c */
int dmakit_ring_create(struct dmakit_card *card, u32 nbufs, u32 bufsize,
		       u32 policy);
int dmakit_ring_reconfigure(struct dmakit_card *card, u32 nbufs, u32 bufsize,
			    u32 policy);
void dmakit_ring_teardown(struct dmakit_card *card);
void dmakit_ring_free(struct dmakit_ring *ring);
u64 dmakit_ring_mapped_bytes(struct dmakit_ring *ring);
int dmakit_ring_start(struct dmakit_card *card);
void dmakit_ring_stop(struct dmakit_card *card, u32 state);
void dmakit_ring_irq(struct dmakit_card *card);
void dmakit_ring_kick(struct dmakit_card *card);
int dmakit_ring_attach(struct dmakit_card *card, u32 mode, u32 *slot,
		       u64 *start_pos);
void dmakit_ring_detach(struct dmakit_card *card, u32 slot);
__poll_t dmakit_ring_poll(struct dmakit_card *card, int slot,
			  struct file *file, poll_table *wait);
int dmakit_ring_mmap(struct dmakit_card *card, struct vm_area_struct *vma);
const char *dmakit_ring_state_name(struct dmakit_card *card);

/* xfer.c */
int dmakit_xfer_submit(struct dmakit_file *f, struct dmakit_xfer __user *arg);
int dmakit_xfer_wait(struct dmakit_file *f,
		     struct dmakit_xfer_wait __user *arg);
void dmakit_xfer_irq(struct dmakit_card *card, int status);
void dmakit_xfer_release_file(struct dmakit_file *f);
void dmakit_xfer_shutdown(struct dmakit_card *card);
void dmakit_xfer_init(struct dmakit_card *card);

/* pin.c */
int dmakit_pin_user(struct dmakit_card *card, struct dmakit_pin *pin,
		    u64 uaddr, u64 len, bool device_writes);
void dmakit_unpin_user(struct dmakit_card *card, struct dmakit_pin *pin);

/* cdev.c */
extern const struct file_operations dmakit_fops;

/* sysfs.c */
extern const struct attribute_group *dmakit_card_groups[];

/*
 * PCI backends (pci.c does what every PCI card needs; the per-device part
 * is data, struct dmakit_pci_info, in the device ID table).
 */
struct dmakit_pci;

/**
 * struct dmakit_pci_info - one kind of PCI card.
 * @name:      backend name shown to user space
 * @bar:       the register BAR
 * @dma_bits:  the device's addressing limit
 * @card_mem_size: bytes of card memory transactions may address
 * @xfer_max_seg: largest single DMA of its transaction engine
 * @hw:        its engines
 * @check:     is the device alive and what we expect (registers mapped)
 * @irq_handler: the handler of vector 0 (dev_id: struct dmakit_pci)
 * @irq_selftest: make the device raise an interrupt and wait for it
 */
struct dmakit_pci_info {
	const char *name;
	int bar;
	unsigned int dma_bits;
	u64 card_mem_size;
	u32 xfer_max_seg;
	const struct dmakit_hw_ops *hw;
	int (*check)(struct dmakit_pci *p);
	irqreturn_t (*irq_handler)(int irq, void *dev_id);
	int (*irq_selftest)(struct dmakit_pci *p);
};

struct dmakit_pci {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct dmakit_card *card;
	const struct dmakit_pci_info *info;
	struct completion irq_test;
#ifdef DMAKIT_FAULT_INJECT
	struct dentry *debugfs;
	bool fake_vanished;	/* debugfs: registers read all-ones */
#endif
};

extern const struct dmakit_pci_info dmakit_edu_info;

/* core.c: set up before the backends register (main.c) */
int dmakit_core_init(void);
void dmakit_core_exit(void);

/* pci.c, sim.c: the backends' registration (main.c) */
int dmakit_pci_init(void);
void dmakit_pci_exit(void);
int dmakit_sim_init(void);
void dmakit_sim_exit(void);

#endif /* DMAKIT_DRV_H */
