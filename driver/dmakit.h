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
 *   edu_stream.c  edu's streaming engine: ring buffers filled DMA by DMA
 *   sim.c    the simulated card: a streaming and a transaction engine that
 *            reach memory only through bus addresses, like hardware
 *   sim_bus.c     the simulated cards' bus master: host memory by bus
 *            address, the verifiable payload
 *   xdma.c   the backend for cards built on Xilinx's XDMA (xdma.h,
 *            xdma_regs.h), through register accessors only
 *   xdma_model.c  a register-level model of such a card (sim_xdma=N)
 *   ring.c   the streaming ring (include/uapi/dmakit/ring.h) over DMA
 *   ring_tx.c its host-to-card (H2C) direction: posting what the
 *            application published, returning drained buffers
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
#define DMAKIT_HW_CMPL_ERR	BIT(1)	/* a DMA error: the data is suspect */
#define DMAKIT_HW_CMPL_CRC	BIT(2)	/* crc32c is valid */
#define DMAKIT_HW_CMPL_TRUNC	BIT(3)	/* more data than fitted: cut short */
#define DMAKIT_HW_CMPL_NOSEQ	BIT(4)	/* no device sequence: the core counts */
#define DMAKIT_HW_CMPL_NOTS	BIT(5)	/* no device clock: host time is used */
#define DMAKIT_HW_CMPL_UNDERRUN	BIT(6)	/* H2C: ran dry before it (lost: times) */

/**
 * struct dmakit_stream_result - one filled buffer, as an engine reports it
 * with dmakit_stream_complete() (instead of writing a dmakit_hw_cmpl).
 * @len:    bytes written (less than the buffer: truncated)
 * @flags:  DMAKIT_HW_CMPL_ERR, _CRC, _TRUNC, _NOSEQ, _NOTS
 * @crc32c: CRC32C of the @len bytes (with _CRC)
 * @seq:    the device's sequence number of the buffer (unless _NOSEQ:
 *          then the core numbers buffers, previous + 1 + @lost)
 * @dev_ts: device clock, ns since the stream started (unless _NOTS: then
 *          the host's, at publication)
 * @lost:   buffers the engine dropped just before this one; H2C: the
 *          underruns just before it (with DMAKIT_HW_CMPL_UNDERRUN)
 *
 * H2C: @len is the bytes the engine read, @crc32c its CRC of them.
 */
struct dmakit_stream_result {
	u32 len;
	u32 flags;
	u32 crc32c;
	u64 seq;
	u64 dev_ts;
	u64 lost;
};

/**
 * struct dmakit_stream_buf - a ring buffer posted to the engine.
 * @sgt:      the buffer as mapped for the device (DMA_FROM_DEVICE, or
 *            DMA_TO_DEVICE in an H2C ring): walk it with
 *            for_each_sgtable_dma_sg() and sg_dma_address() /
 *            sg_dma_len() to write the engine's own descriptors
 * @hwsg_bus: the same list in dmakit's format, @nsg struct dmakit_hw_sg
 *            (last one flagged), for an engine that reads that format
 * @nsg:      elements of the list
 * @len:      H2C: bytes to send from the start of the buffer (1..bufsize;
 *            the list covers the whole buffer: stop after @len); C2H 0
 * @flags:    H2C: DMAKIT_STREAM_F_END: the application has nothing after
 *            this buffer for now: idle without counting an underrun
 */
struct dmakit_stream_buf {
	struct sg_table *sgt;
	dma_addr_t hwsg_bus;
	u32 nsg;
	u32 len;
	u32 flags;
};

#define DMAKIT_STREAM_F_END	BIT(0)

/**
 * struct dmakit_stream_cfg - what a streaming engine is told at start.
 * @cmpl_bus:  bus address of the completion records (@nbufs of them)
 * @nbufs:     ring slots (completion record index = slot)
 * @bufsize:   bytes per buffer
 * @rate:      bytes/s to produce, 0: as fast as the engine can
 * @pausable:  wait for a posted buffer instead of dropping (policy BLOCK)
 * @max_nsg:   the most scatter-gather elements of any buffer
 * @h2c:       host to card: the engine reads each posted buffer (its
 *             buf->len bytes) instead of filling it; it never drops (it
 *             waits for the next post) and counts an underrun when it is
 *             ready for data and nothing is posted, unless the last
 *             buffer said DMAKIT_STREAM_F_END; @rate is how fast it takes
 *             data (0: as fast as it can: no underruns)
 */
struct dmakit_stream_cfg {
	dma_addr_t cmpl_bus;
	u32 nbufs;
	u32 max_nsg;
	u32 bufsize;
	u64 rate;
	bool pausable;
	bool h2c;
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
 * @stream_post:  hand ring slot @slot, described by @buf, to the engine
 *                (its descriptors, then a doorbell).  Process context,
 *                under the ring's mutex.
 * @stream_drops: the engine's count of buffers dropped since start
 * @stream_underruns: H2C: the engine's count of underruns since start
 *                (optional: without it the core adds up the completions')
 *
 * The engine reports each filled buffer either by writing its completion
 * record (struct dmakit_hw_cmpl at cfg->cmpl_bus + slot * 64, status
 * last) or with dmakit_stream_complete() (any context), then has the core
 * publish them with dmakit_ring_irq() (process context: a threaded
 * interrupt handler, a work item, a poll loop).  Buffers may complete out
 * of order; they are published in ring order.
 *
 * Transaction engine: one unit of work in flight at a time, of one of two
 * kinds; the core uses the chain op when the backend has it:
 * @xfer_seg_start: start moving @len bytes (at most card->xfer_max_seg)
 *                between bus address @bus and card memory offset
 *                @card_off.  A transaction takes one start per segment.
 * @xfer_chain_start: start moving a whole DMA-mapped scatter-gather list
 *                (struct dmakit_xfer_chain), written by the backend in the
 *                engine's own descriptor format; one completion for all of
 *                it.  A transaction takes one start, or one per
 *                card->xfer_max_chain elements.
 *                Either start is called with the card's xfer_lock held (no
 *                sleeping) and reports its end with dmakit_xfer_complete().
 * @xfer_poll:    1 while a segment or chain is in flight, 0 when idle,
 *                -ENODEV if the device no longer answers.  Atomic context.
 * @xfer_abort:   stop a hung engine from touching memory (may sleep)
 * @xfer_timeout_ms: longest a healthy segment (chain of xfer_max_chain
 *                elements) takes
 *
 * @shared_engine: the streaming and the transaction engine are one DMA
 *                engine (edu): the ring does not start while a transaction
 *                is queued or running, and a transaction is refused while
 *                the ring runs (-EBUSY both ways)
 */
struct dmakit_xfer_chain;

struct dmakit_hw_ops {
	int (*stream_start)(struct dmakit_card *card,
			    const struct dmakit_stream_cfg *cfg);
	void (*stream_stop)(struct dmakit_card *card);
	void (*stream_post)(struct dmakit_card *card, u32 slot,
			    const struct dmakit_stream_buf *buf);
	u64 (*stream_drops)(struct dmakit_card *card);
	u64 (*stream_underruns)(struct dmakit_card *card);

	int (*xfer_seg_start)(struct dmakit_card *card, dma_addr_t bus,
			      u64 card_off, u32 len, bool to_host);
	int (*xfer_chain_start)(struct dmakit_card *card,
				const struct dmakit_xfer_chain *chain);
	int (*xfer_poll)(struct dmakit_card *card);
	void (*xfer_abort)(struct dmakit_card *card);
	unsigned int xfer_timeout_ms;
	bool shared_engine;
};

/**
 * struct dmakit_xfer_chain - what one xfer_chain_start() moves.
 * @sgl:      the first element, DMA-mapped: walk @nents of them with
 *            for_each_sg() and read sg_dma_address()/sg_dma_len(); each is
 *            at most card->xfer_max_seg bytes and the mapping lives until
 *            the completion has been reported
 * @nents:    elements in this chain (at most card->xfer_max_chain)
 * @len:      their total length
 * @card_off: card memory offset of the first byte; the elements follow
 *            each other in card memory
 * @to_host:  the device writes host memory (else it reads it)
 */
struct dmakit_xfer_chain {
	struct scatterlist *sgl;
	unsigned int nents;
	u64 len;
	u64 card_off;
	bool to_host;
};

struct dmakit_counters {
	atomic64_t submitted;	/* transactions + ring buffers given to hw */
	atomic64_t xfer_starts;	/* transaction segments/chains started */
	atomic64_t completed;	/* ... and reported back */
	atomic64_t bytes;	/* bytes completed */
	atomic64_t errors;	/* completions with an error status */
	atomic64_t timeouts;	/* waits that timed out, engine watchdog */
	atomic64_t drops;	/* ring buffers the engine dropped */
	atomic64_t underruns;	/* H2C: times the engine ran dry */
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
 * One /dev/dmakitN: a card, or one DMA channel of a card that has
 * several (a card object each, sharing the device; sysfs "channel").
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
	u32 xfer_max_seg;	/* largest segment (chain element) it moves */
	u32 xfer_max_chain;	/* chain elements per start, 0: no limit */
	u32 dma_bits;
	u32 irq_type;		/* DMAKIT_IRQ_* */
	u32 nvec;
	u32 channel;		/* which of its device's DMA channels */

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
	u32 ring_dir;		/* DMAKIT_DIR_*, set up by DMAKIT_IOC_RING_SETUP */
	bool ring_h2c;		/* backend: the engine can drain an H2C ring */
	/* backend: its own sysfs attributes (set before dmakit_card_add) */
	const struct attribute_group *backend_group;
	const struct attribute_group *groups[4];

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

/* The card has a transaction engine, of either kind. */
static inline bool dmakit_card_has_xfer(const struct dmakit_card *card)
{
	return card->hw->xfer_seg_start || card->hw->xfer_chain_start;
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
		       u32 policy, u32 dir);
int dmakit_ring_reconfigure(struct dmakit_card *card, u32 nbufs, u32 bufsize,
			    u32 policy, u32 dir);
int dmakit_ring_set_dir(struct dmakit_card *card, u32 dir);
void dmakit_ring_default_dir(struct dmakit_card *card);
void dmakit_ring_teardown(struct dmakit_card *card);
void dmakit_ring_free(struct dmakit_ring *ring);
u64 dmakit_ring_mapped_bytes(struct dmakit_ring *ring);
int dmakit_ring_start(struct dmakit_card *card);
void dmakit_ring_stop(struct dmakit_card *card, u32 state);
void dmakit_ring_irq(struct dmakit_card *card);
void dmakit_stream_complete(struct dmakit_card *card, u32 slot,
			    const struct dmakit_stream_result *res);
void dmakit_ring_kick(struct dmakit_card *card);
bool dmakit_ring_running(struct dmakit_card *card);
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
void dmakit_xfer_complete(struct dmakit_card *card, u64 bytes, int status);
void dmakit_xfer_release_file(struct dmakit_file *f);
void dmakit_xfer_shutdown(struct dmakit_card *card);
void dmakit_xfer_init(struct dmakit_card *card);
bool dmakit_xfer_busy(struct dmakit_card *card);

/* pin.c */
int dmakit_pin_user(struct dmakit_card *card, struct dmakit_pin *pin,
		    u64 uaddr, u64 len, bool device_writes);
void dmakit_unpin_user(struct dmakit_card *card, struct dmakit_pin *pin);

/* cdev.c */
extern const struct file_operations dmakit_fops;

/* sysfs.c */
extern const struct attribute_group dmakit_card_group;
extern const struct attribute_group dmakit_counter_group;

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
 * @xfer_max_seg: largest single DMA of its transaction engine (a chain
 *             engine: the longest descriptor, at least PAGE_SIZE)
 * @xfer_max_chain: a chain engine's descriptors per start (0: no limit)
 * @hw:        its engines
 * @check:     is the device alive and what we expect (registers mapped)
 * @irq_handler: the hard interrupt handler of vector 0 (dev_id: struct
 *             dmakit_pci): acknowledge, account (dmakit_card_irq()),
 *             report what may be reported in atomic context, and return
 *             IRQ_WAKE_THREAD for the rest; NULL: only @irq_thread
 * @irq_thread: its threaded handler (may sleep: dmakit_ring_irq()), or
 *             NULL: the hard handler does everything
 * @irq_selftest: make the device raise an interrupt and wait for it;
 *             optional (NULL: the first vector the PCI core gives is used)
 * @priv_size: bytes of the backend's own per-device state (p->priv,
 *             zeroed, freed with the device)
 * @init:      set up that state (locks, work items) before anything that
 *             could use it: the check, the interrupt handlers
 * @ring_nbufs, @ring_bufsize: the card's default ring geometry (0: the
 *             module parameters'); a slow engine wants a small ring
 */
struct dmakit_pci_info {
	const char *name;
	int bar;
	unsigned int dma_bits;
	u64 card_mem_size;
	u32 xfer_max_seg;
	u32 xfer_max_chain;
	const struct dmakit_hw_ops *hw;
	int (*check)(struct dmakit_pci *p);
	irqreturn_t (*irq_handler)(int irq, void *dev_id);
	irqreturn_t (*irq_thread)(int irq, void *dev_id);
	int (*irq_selftest)(struct dmakit_pci *p);
	size_t priv_size;
	int (*init)(struct dmakit_pci *p);
	u32 ring_nbufs;
	u32 ring_bufsize;
};

struct dmakit_pci {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct dmakit_card *card;
	const struct dmakit_pci_info *info;
	struct completion irq_test;
	void *priv;		/* info->priv_size bytes of the backend's */
#ifdef DMAKIT_FAULT_INJECT
	struct dentry *debugfs;
	bool fake_vanished;	/* debugfs: registers read all-ones */
#endif
};

extern const struct dmakit_pci_info dmakit_edu_info;

/*
 * sim_bus.c: the simulated cards' bus master (sim.c, xdma_model.c).
 * dmakit_sim_fill_chunk() as @fn writes dmakit_payload_word(seq, w) from
 * word (k / K2 - 1) of buffer seq (base = seq * K1) and runs a CRC32C.
 */
struct dmakit_sim_fill {
	u64 base;			/* seq * K1 */
	u64 k;				/* (word + 1) * K2 of the next word */
	u32 crc;
};

int dmakit_sim_bus_access(struct device *dev, dma_addr_t bus, size_t len,
			  void (*fn)(void *va, size_t len, void *ctx),
			  void *ctx);
int dmakit_sim_bus_read(struct device *dev, dma_addr_t bus, void *dst,
			size_t len);
int dmakit_sim_bus_write(struct device *dev, dma_addr_t bus, const void *src,
			 size_t len);
void dmakit_sim_fill_chunk(void *va, size_t len, void *ctx);

/* core.c: set up before the backends register (main.c) */
int dmakit_core_init(void);
void dmakit_core_exit(void);

/* pci.c, sim.c: the backends' registration (main.c) */
int dmakit_pci_init(void);
void dmakit_pci_exit(void);
int dmakit_sim_init(void);
void dmakit_sim_exit(void);

#endif /* DMAKIT_DRV_H */
