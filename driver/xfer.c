// SPDX-License-Identifier: GPL-2.0
/*
 * Transactions: a user buffer <-> card memory, asynchronously.
 *
 * Submit pins the user pages (pin.c: long-term, charged to the process's
 * locked memory and the card's cap), builds an sg_table and maps it with
 * dma_map_sgtable() for the direction of the transfer, then queues the
 * transaction.  The card runs one transaction at a time, one unit of
 * work at a time: on a segment engine one hardware segment (a DMA segment,
 * split to the engine's limit), each segment's completion starting the
 * next; on a chain engine the whole mapped scatter-gather list in one
 * start and one completion (or one per xfer_max_chain elements).  Wait
 * sleeps, with a timeout and
 * interruptibly, until the transaction has ended, then unmaps (which, with
 * swiotlb, copies the bounce buffer back for DMA_FROM_DEVICE) and unpins
 * (dirtying the pages the device wrote).
 *
 * Everything that could hang is bounded: a watchdog recovers a lost
 * interrupt, notices a device that reads all-ones (gone), and after
 * repeated timeouts stops a hung engine from touching memory before the
 * pages are released.  Closing a file cancels its queued transactions and
 * waits for its running one to end; removing the card fails all of them
 * with -ENODEV and undoes every mapping while the device still exists.
 *
 * Locking: card->xfer_lock (irq-safe) protects the queue and each
 * transaction's progress; card->lock is held for DMA (un)mapping and for
 * adding/removing transactions to/from card->xfers, so that removal can
 * walk the list and unmap.
 */
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dmakit.h"
#include "dmakit_trace.h"
#include "fault.h"

/* Watchdog: this many silent timeouts of a busy engine mean it hung. */
#define XFER_HUNG_POLLS		3
/* Closing a file waits at most this long for its running transaction. */
#define XFER_CLOSE_WAIT_MS	30000

static unsigned int xfer_close_wait_ms(void)
{
	/* test builds: a close that does not wait, to test what follows */
	return dmakit_fault(DMAKIT_FAULT_CLOSE_NOWAIT) ? 1 : XFER_CLOSE_WAIT_MS;
}

enum { XFER_QUEUED, XFER_ACTIVE, XFER_DONE };

struct dmakit_txn {
	struct list_head node;		/* card->xfers */
	struct list_head qnode;		/* card->xfer_queue while queued */
	struct dmakit_file *owner;	/* NULL once its file closed */
	u64 id;
	u32 dir;			/* DMAKIT_XFER_* */
	u64 len;
	u64 card_addr;
	u64 done;			/* bytes transferred */
	int status;
	u8 state;
	bool cancelled;			/* its file closed while it ran */
	bool waiting;			/* a thread is in XFER_WAIT on it */
	bool mapped;
	struct dmakit_pin pin;		/* the user buffer (pin.c) */
	struct sg_table sgt;
	dma_addr_t first_bus;
	/* the unit in flight: a segment at @sg + @sg_off, or a chain of
	 * @unit_nents elements from @sg; @unit_len bytes either way
	 */
	struct scatterlist *sg;
	u32 sg_off;
	unsigned int unit_nents;
	u64 unit_len;
};

static enum dma_data_direction xfer_dma_dir(const struct dmakit_txn *x)
{
	/* to host: the device writes memory */
	return x->dir == DMAKIT_XFER_TO_HOST ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
}

/* Unmap, unpin, free the pages array: called with card->lock held. */
static void xfer_release_memory(struct dmakit_card *card, struct dmakit_txn *x)
{
	if (x->mapped && !dmakit_fault(DMAKIT_FAULT_LEAK_UNMAP))
		dma_unmap_sgtable(card->dma_dev, &x->sgt, xfer_dma_dir(x), 0);
	x->mapped = false;
	sg_free_table(&x->sgt);
	dmakit_unpin_user(card, &x->pin);
}

/* End @x; only a transaction the hardware saw is traced and counted. */
static void xfer_finish_locked(struct dmakit_card *card, struct dmakit_txn *x,
			       int status)
{
	if (card->xfer_active == x)
		card->xfer_active = NULL;
	if (x->state == XFER_ACTIVE) {
		trace_dma_complete(card, DMAKIT_CHAN_XFER, x->id, x->dir,
				   x->done, x->first_bus, status);
		atomic64_inc(&card->cnt.completed);
		atomic64_add(x->done, &card->cnt.bytes);
		if (status)
			atomic64_inc(&card->cnt.errors);
	}
	x->state = XFER_DONE;
	x->status = status;
	wake_up_all(&card->xfer_wq);
	/* its file closed without waiting for it: free it from a worker */
	if (!x->owner) {
		get_device(&card->dev);
		if (!queue_work(system_wq, &card->xfer_reap))
			put_device(&card->dev);
	}
}

/* Start the chain of the elements from x->sg, as many as the engine takes. */
static int xfer_issue_chain_locked(struct dmakit_card *card,
				   struct dmakit_txn *x)
{
	struct dmakit_xfer_chain chain = {
		.sgl = x->sg,
		.card_off = x->card_addr + x->done,
		.to_host = x->dir == DMAKIT_XFER_TO_HOST,
	};
	struct scatterlist *sg = x->sg;
	u64 left = x->len - x->done;

	while (sg && left && (!card->xfer_max_chain ||
			      chain.nents < card->xfer_max_chain)) {
		u32 n = min_t(u64, sg_dma_len(sg), left);

		chain.len += n;
		left -= n;
		chain.nents++;
		sg = sg_next(sg);
	}
	x->unit_nents = chain.nents;
	x->unit_len = chain.len;
	return card->hw->xfer_chain_start(card, &chain);
}

/* Program the next segment or chain of the active transaction. */
static int xfer_issue_locked(struct dmakit_card *card, struct dmakit_txn *x)
{
	const struct dmakit_hw_ops *hw = card->hw;
	int ret;

	card->xfer_seg_gen++;
	card->xfer_watchdog_polls = 0;
	if (hw->xfer_chain_start) {
		ret = xfer_issue_chain_locked(card, x);
	} else {
		u32 avail = sg_dma_len(x->sg) - x->sg_off;

		x->unit_nents = 1;
		x->unit_len = min(avail, card->xfer_max_seg);
		ret = hw->xfer_seg_start(card,
					 sg_dma_address(x->sg) + x->sg_off,
					 x->card_addr + x->done, x->unit_len,
					 x->dir == DMAKIT_XFER_TO_HOST);
	}
	if (!ret) {
		atomic64_inc(&card->cnt.xfer_starts);
		mod_delayed_work(system_wq, &card->xfer_watchdog,
				 msecs_to_jiffies(hw->xfer_timeout_ms));
	}
	return ret;
}

static void xfer_start_next_locked(struct dmakit_card *card)
{
	while (!card->xfer_active && !list_empty(&card->xfer_queue)) {
		struct dmakit_txn *x = list_first_entry(&card->xfer_queue,
							 struct dmakit_txn,
							 qnode);
		int ret;

		list_del_init(&x->qnode);
		if (card->dead || card->xfer_err) {
			xfer_finish_locked(card, x, card->dead ? -ENODEV :
						    card->xfer_err);
			continue;
		}
		x->state = XFER_ACTIVE;
		card->xfer_active = x;
		x->sg = x->sgt.sgl;
		x->sg_off = 0;
		trace_dma_submit(card, DMAKIT_CHAN_XFER, x->id, x->dir, x->len,
				 x->first_bus, 0);
		atomic64_inc(&card->cnt.submitted);
		ret = xfer_issue_locked(card, x);
		if (ret)
			xfer_finish_locked(card, x, ret);
	}
}

/* Past the unit that completed: the next segment or chain starts there. */
static void xfer_advance_locked(struct dmakit_card *card, struct dmakit_txn *x)
{
	unsigned int i;

	x->done += x->unit_len;
	if (x->done >= x->len)
		return;
	if (card->hw->xfer_chain_start) {
		for (i = 0; i < x->unit_nents; i++)
			x->sg = sg_next(x->sg);
		return;
	}
	x->sg_off += x->unit_len;
	if (x->sg_off == sg_dma_len(x->sg)) {
		x->sg = sg_next(x->sg);
		x->sg_off = 0;
	}
}

/*
 * The unit in flight ended: the engine moved @bytes of it, with @status.
 * Fewer bytes than started without an error status is an error too: the
 * transaction's data did not all move.
 */
static void xfer_unit_done_locked(struct dmakit_card *card,
				  struct dmakit_txn *x, u64 bytes, int status)
{
	int ret;

	if (!status && bytes != x->unit_len) {
		dev_err_ratelimited(&card->dev,
				    "transaction %llu: the engine reported %llu of %llu bytes\n",
				    x->id, bytes, x->unit_len);
		status = -EIO;
	}
	if (status) {
		/* what the engine says it moved before the error */
		x->done += min(bytes, x->unit_len);
		xfer_finish_locked(card, x, status);
		goto next;
	}
	xfer_advance_locked(card, x);
	if (x->done >= x->len) {
		xfer_finish_locked(card, x, 0);
	} else if (x->cancelled) {
		xfer_finish_locked(card, x, -ECANCELED);
	} else if (card->dead) {
		xfer_finish_locked(card, x, -ENODEV);
	} else if (card->xfer_err) {
		/* the watchdog gave the engine up while this segment ran */
		xfer_finish_locked(card, x, card->xfer_err == -EIO ?
					    -ETIMEDOUT : card->xfer_err);
	} else {
		ret = xfer_issue_locked(card, x);
		if (!ret)
			return;
		xfer_finish_locked(card, x, ret);
	}
next:
	xfer_start_next_locked(card);
}

/**
 * dmakit_xfer_complete - the engine finished the segment or chain it was
 * given (any context: hard or threaded interrupt handler, work, a poll
 * loop).
 * @card:   the card
 * @bytes:  bytes the engine moved (all of the unit on success)
 * @status: 0, or a negative errno for a failed DMA (-EIO)
 *
 * The engine is asked whether it is idle, under the lock: a completion
 * left over from a unit the watchdog already completed must not end the
 * next one.
 */
void dmakit_xfer_complete(struct dmakit_card *card, u64 bytes, int status)
{
	struct dmakit_txn *x;
	unsigned long flags;

	spin_lock_irqsave(&card->xfer_lock, flags);
	x = card->xfer_active;
	if (x && !card->dead) {
		int busy = card->hw->xfer_poll(card);

		if (busy < 0) {
			/* a vanished device's report is not to be trusted */
			status = busy;
			bytes = 0;
		} else if (busy) {
			spin_unlock_irqrestore(&card->xfer_lock, flags);
			return;
		}
		cancel_delayed_work(&card->xfer_watchdog);
		xfer_unit_done_locked(card, x, bytes, status);
	}
	spin_unlock_irqrestore(&card->xfer_lock, flags);
}

static void xfer_fail_all_locked(struct dmakit_card *card, int status)
{
	struct dmakit_txn *x, *tmp;

	if (card->xfer_active)
		xfer_finish_locked(card, card->xfer_active, status);
	list_for_each_entry_safe(x, tmp, &card->xfer_queue, qnode) {
		list_del_init(&x->qnode);
		xfer_finish_locked(card, x, status);
	}
}

static void xfer_watchdog_fn(struct work_struct *work)
{
	struct dmakit_card *card = container_of(to_delayed_work(work),
						struct dmakit_card,
						xfer_watchdog);
	struct dmakit_txn *x;
	unsigned long flags;
	u64 id, gen;
	int busy;

	spin_lock_irqsave(&card->xfer_lock, flags);
	x = card->xfer_active;
	if (!x || card->dead)
		goto out;
	gen = card->xfer_seg_gen;
	busy = card->hw->xfer_poll(card);
	if (busy == 0) {
		dev_warn_ratelimited(&card->dev,
				     "transaction %llu: completion interrupt lost, recovered\n",
				     x->id);
		xfer_unit_done_locked(card, x, x->unit_len, 0);
		goto out;
	}
	if (busy < 0) {
		dev_err(&card->dev, "device not responding (reads all-ones)\n");
		card->xfer_err = -ENODEV;
		xfer_fail_all_locked(card, -ENODEV);
		goto out;
	}
	if (++card->xfer_watchdog_polls < XFER_HUNG_POLLS) {
		mod_delayed_work(system_wq, &card->xfer_watchdog,
				 msecs_to_jiffies(card->hw->xfer_timeout_ms));
		goto out;
	}
	/*
	 * Give the engine up before the lock is dropped for the abort: a
	 * completion that arrives meanwhile must start no segment the abort
	 * would then kill unreported.  @x may be freed once it is dropped.
	 */
	card->xfer_err = -EIO;
	id = x->id;
	spin_unlock_irqrestore(&card->xfer_lock, flags);

	dev_err(&card->dev, "transaction %llu: DMA engine hung, stopping it\n",
		id);
	dmakit_fault_abort_window(card, x, gen);
	card->hw->xfer_abort(card);

	spin_lock_irqsave(&card->xfer_lock, flags);
	atomic64_inc(&card->cnt.timeouts);
	if (!card->dead)
		xfer_fail_all_locked(card, -ETIMEDOUT);
out:
	spin_unlock_irqrestore(&card->xfer_lock, flags);
}

static int xfer_check_args(struct dmakit_card *card,
			   const struct dmakit_xfer *a)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(a->reserved); i++)
		if (a->reserved[i])
			return -EINVAL;
	if (a->flags)
		return -EINVAL;
	if (a->dir != DMAKIT_XFER_TO_HOST && a->dir != DMAKIT_XFER_FROM_HOST)
		return -EINVAL;
	if (!a->len)
		return -EINVAL;
	/* never hand the engine a range outside card memory */
	if (a->card_addr >= card->card_mem_size ||
	    a->len > card->card_mem_size - a->card_addr)
		return -EINVAL;
	if (a->user_addr + a->len < a->user_addr ||
	    !access_ok(u64_to_user_ptr(a->user_addr), a->len))
		return -EFAULT;
	return 0;
}

/*
 * An IOMMU merges mapped pages up to the device's max_seg_size, which a
 * chain engine's backend sets to its descriptor limit (pci.c does): an
 * element beyond it is never handed to the engine.
 */
static int xfer_check_chain_limit(struct dmakit_card *card,
				  struct dmakit_txn *x)
{
	struct scatterlist *sg;
	int i;

	if (!card->hw->xfer_chain_start)
		return 0;
	for_each_sgtable_dma_sg(&x->sgt, sg, i) {
		if (sg_dma_len(sg) > card->xfer_max_seg) {
			dev_err_ratelimited(&card->dev,
					    "a mapped segment of %u bytes exceeds the engine's %u\n",
					    sg_dma_len(sg), card->xfer_max_seg);
			return -EIO;
		}
	}
	return 0;
}

/*
 * Describe the pinned pages within the DMA layer's segment limits and map
 * them.  Called with card->lock held, the card alive.
 */
static int xfer_map(struct dmakit_card *card, struct dmakit_txn *x)
{
	unsigned int max_seg;
	int ret;

	max_seg = min_t(size_t, dma_get_max_seg_size(card->dma_dev),
			dma_max_mapping_size(card->dma_dev));
	/* a chain engine's descriptor takes at most xfer_max_seg bytes */
	if (card->hw->xfer_chain_start)
		max_seg = min(max_seg, card->xfer_max_seg);
	max_seg = max_t(unsigned int, rounddown(max_seg, PAGE_SIZE), PAGE_SIZE);
	ret = sg_alloc_table_from_pages_segment(&x->sgt, x->pin.pages,
						x->pin.npages, x->pin.offset,
						x->len, max_seg,
						GFP_KERNEL);
	if (ret)
		return ret;
	ret = dma_map_sgtable(card->dma_dev, &x->sgt, xfer_dma_dir(x), 0);
	if (ret) {
		dev_err_ratelimited(&card->dev,
				    "cannot map a %llu-byte buffer for DMA: %d\n",
				    x->len, ret);
		return -EIO;
	}
	x->mapped = true;
	x->first_bus = sg_dma_address(x->sgt.sgl);
	ret = xfer_check_chain_limit(card, x);
	if (ret)
		return ret;
	if (dmakit_fault(DMAKIT_FAULT_MAP_ERROR)) {
		/* the bug: a page mapped and used without dma_mapping_error() */
		dma_addr_t bus = dma_map_page(card->dma_dev, x->pin.pages[0], 0,
					      PAGE_SIZE, xfer_dma_dir(x));

		dma_unmap_page(card->dma_dev, bus, PAGE_SIZE, xfer_dma_dir(x));
	}
	return 0;
}

int dmakit_xfer_submit(struct dmakit_file *f, struct dmakit_xfer __user *arg)
{
	struct dmakit_card *card = f->card;
	struct dmakit_xfer a;
	struct dmakit_txn *x;
	bool reserved = false;
	int ret;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (dmakit_fault(DMAKIT_FAULT_LOCK_ORDER))
		dmakit_ring_fault_lock_order(card);
	if (dmakit_fault(DMAKIT_FAULT_USE_AFTER_FREE))
		dmakit_fault_use_after_free();
	if (!dmakit_card_has_xfer(card))
		return -EOPNOTSUPP;
	ret = xfer_check_args(card, &a);
	if (ret)
		return ret;

	spin_lock_irq(&card->xfer_lock);
	if (dmakit_fault(DMAKIT_FAULT_ATOMIC_SLEEP))
		kfree(kmalloc(64, GFP_KERNEL));	/* the bug: may sleep */
	if (f->nxfers < DMAKIT_MAX_XFERS) {
		f->nxfers++;
		reserved = true;
	}
	spin_unlock_irq(&card->xfer_lock);
	if (!reserved)
		return -EAGAIN;

	ret = -ENOMEM;
	x = kzalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		goto err_unreserve;
	INIT_LIST_HEAD(&x->qnode);
	x->owner = f;
	x->dir = a.dir;
	x->len = a.len;
	x->card_addr = a.card_addr;
	x->state = XFER_QUEUED;
	/* user memory is never touched under card->lock (mmap takes it) */
	ret = dmakit_pin_user(card, &x->pin, a.user_addr, a.len,
			      a.dir == DMAKIT_XFER_TO_HOST);
	if (ret)
		goto err_free;

	spin_lock_irq(&card->xfer_lock);
	x->id = ++card->xfer_next_id;
	spin_unlock_irq(&card->xfer_lock);
	ret = -EFAULT;
	if (put_user(x->id, &arg->id))
		goto err_unpin;

	mutex_lock(&card->lock);
	ret = -ENODEV;
	if (card->dead)
		goto err_unlock;
	ret = card->xfer_err;
	if (ret)
		goto err_unlock;
	/* one engine for both, and the stream has it (ring.c checks back) */
	ret = -EBUSY;
	if (card->hw->shared_engine && dmakit_ring_running(card))
		goto err_unlock;
	ret = xfer_map(card, x);
	if (ret)
		goto err_unlock;

	spin_lock_irq(&card->xfer_lock);
	list_add_tail(&x->node, &card->xfers);
	list_add_tail(&x->qnode, &card->xfer_queue);
	xfer_start_next_locked(card);
	spin_unlock_irq(&card->xfer_lock);
	mutex_unlock(&card->lock);
	return 0;

err_unlock:
	xfer_release_memory(card, x);
	mutex_unlock(&card->lock);
	goto err_free;
err_unpin:
	xfer_release_memory(card, x);
err_free:
	kfree(x);
err_unreserve:
	spin_lock_irq(&card->xfer_lock);
	f->nxfers--;
	spin_unlock_irq(&card->xfer_lock);
	return ret;
}

/* A transaction is queued or running (for the ring: shared_engine). */
bool dmakit_xfer_busy(struct dmakit_card *card)
{
	bool busy;

	spin_lock_irq(&card->xfer_lock);
	busy = card->xfer_active || !list_empty(&card->xfer_queue);
	spin_unlock_irq(&card->xfer_lock);
	return busy;
}

static struct dmakit_txn *xfer_find_locked(struct dmakit_file *f, u64 id)
{
	struct dmakit_txn *x;

	list_for_each_entry(x, &f->card->xfers, node)
		if (x->owner == f && x->id == id)
			return x;
	return NULL;
}

/* Forget an ended transaction: unlink, unmap, unpin, free. */
static void xfer_reap(struct dmakit_card *card, struct dmakit_txn *x)
{
	mutex_lock(&card->lock);
	spin_lock_irq(&card->xfer_lock);
	list_del(&x->node);
	x->owner->nxfers--;
	spin_unlock_irq(&card->xfer_lock);
	/* a removed card unmapped everything already */
	xfer_release_memory(card, x);
	mutex_unlock(&card->lock);
	kfree(x);
}

int dmakit_xfer_wait(struct dmakit_file *f, struct dmakit_xfer_wait __user *arg)
{
	struct dmakit_card *card = f->card;
	struct dmakit_xfer_wait w;
	struct dmakit_txn *x;
	unsigned int i;
	long left = 0;
	u8 state;

	if (copy_from_user(&w, arg, sizeof(w)))
		return -EFAULT;
	for (i = 0; i < ARRAY_SIZE(w.reserved); i++)
		if (w.reserved[i])
			return -EINVAL;
	if (w.timeout_ms < -1)
		return -EINVAL;

	spin_lock_irq(&card->xfer_lock);
	x = xfer_find_locked(f, w.id);
	if (x && x->waiting)
		x = ERR_PTR(-EBUSY);
	else if (x)
		x->waiting = true;
	spin_unlock_irq(&card->xfer_lock);
	if (!x)
		return -ENOENT;
	if (IS_ERR(x))
		return PTR_ERR(x);

	if (w.timeout_ms < 0)
		left = wait_event_interruptible(card->xfer_wq,
						READ_ONCE(x->state) == XFER_DONE);
	else if (w.timeout_ms > 0)
		left = wait_event_interruptible_timeout(card->xfer_wq,
							READ_ONCE(x->state) ==
							XFER_DONE,
							msecs_to_jiffies(w.timeout_ms));

	spin_lock_irq(&card->xfer_lock);
	x->waiting = false;
	state = x->state;
	w.bytes_done = x->done;
	w.status = x->status;
	spin_unlock_irq(&card->xfer_lock);

	if (state != XFER_DONE) {
		int ret;

		w.status = 0;
		/* a wait with a timeout cannot be restarted: EINTR, not 512 */
		if (left < 0) {
			ret = -EINTR;
		} else {
			ret = -ETIMEDOUT;
			atomic64_inc(&card->cnt.timeouts);
		}
		if (copy_to_user(arg, &w, sizeof(w)))
			return -EFAULT;
		return ret;
	}
	xfer_reap(card, x);
	if (copy_to_user(arg, &w, sizeof(w)))
		return -EFAULT;
	return 0;
}

static bool xfer_file_running(struct dmakit_file *f)
{
	struct dmakit_card *card = f->card;
	bool running;

	spin_lock_irq(&card->xfer_lock);
	running = card->xfer_active && card->xfer_active->owner == f;
	spin_unlock_irq(&card->xfer_lock);
	return running;
}

/*
 * Free the ended transactions whose file has closed (card->lock held).
 * The one a closing file could not wait for ends later, in any context:
 * its end queues card->xfer_reap, which comes here.
 */
static void xfer_reap_orphans_locked(struct dmakit_card *card)
{
	struct dmakit_txn *x, *tmp;
	LIST_HEAD(reap);

	spin_lock_irq(&card->xfer_lock);
	list_for_each_entry_safe(x, tmp, &card->xfers, node)
		if (!x->owner && x->state == XFER_DONE)
			list_move(&x->node, &reap);
	spin_unlock_irq(&card->xfer_lock);
	list_for_each_entry_safe(x, tmp, &reap, node) {
		xfer_release_memory(card, x);
		kfree(x);
	}
}

static void xfer_reap_fn(struct work_struct *work)
{
	struct dmakit_card *card = container_of(work, struct dmakit_card,
						xfer_reap);

	mutex_lock(&card->lock);
	xfer_reap_orphans_locked(card);
	mutex_unlock(&card->lock);
	put_device(&card->dev);	/* taken by xfer_finish_locked() */
}

/*
 * The file is closing: cancel what is queued, let what runs end (bounded),
 * then free its transactions.  They stop belonging to the file first, so
 * none can be found through a later file at the same address; one still
 * running after the bound is freed when it ends.
 */
void dmakit_xfer_release_file(struct dmakit_file *f)
{
	struct dmakit_card *card = f->card;
	struct dmakit_txn *x;

	spin_lock_irq(&card->xfer_lock);
	list_for_each_entry(x, &card->xfers, node) {
		if (x->owner != f)
			continue;
		if (x->state == XFER_QUEUED) {
			list_del_init(&x->qnode);
			x->state = XFER_DONE;
			x->status = -ECANCELED;
		} else if (x->state == XFER_ACTIVE) {
			x->cancelled = true;
		}
	}
	spin_unlock_irq(&card->xfer_lock);

	if (!wait_event_timeout(card->xfer_wq, !xfer_file_running(f),
				msecs_to_jiffies(xfer_close_wait_ms())))
		/* the watchdog should have ended it: its pages stay pinned */
		dev_err(&card->dev,
			"close: transaction still running, freed when it ends\n");

	spin_lock_irq(&card->xfer_lock);
	list_for_each_entry(x, &card->xfers, node) {
		if (x->owner == f) {
			x->owner = NULL;
			f->nxfers--;
		}
	}
	spin_unlock_irq(&card->xfer_lock);
	mutex_lock(&card->lock);
	xfer_reap_orphans_locked(card);
	mutex_unlock(&card->lock);
}

/*
 * The card is going away (card->lock held, card->dead set): let the
 * segment in flight end or stop the engine, fail every transaction with
 * -ENODEV and undo all mappings now, while the DMA device exists.
 */
void dmakit_xfer_shutdown(struct dmakit_card *card)
{
	const struct dmakit_hw_ops *hw = card->hw;
	struct dmakit_txn *x;
	unsigned long deadline;
	bool active;

	if (!dmakit_card_has_xfer(card))
		return;
	spin_lock_irq(&card->xfer_lock);
	active = card->xfer_active;
	spin_unlock_irq(&card->xfer_lock);
	if (active) {
		deadline = jiffies + msecs_to_jiffies(2 * hw->xfer_timeout_ms);
		while (hw->xfer_poll(card) == 1 &&
		       time_before(jiffies, deadline))
			usleep_range(5000, 10000);
		if (hw->xfer_poll(card) == 1)
			hw->xfer_abort(card);
	}
	cancel_delayed_work_sync(&card->xfer_watchdog);

	spin_lock_irq(&card->xfer_lock);
	xfer_fail_all_locked(card, -ENODEV);
	spin_unlock_irq(&card->xfer_lock);

	/* waiters and closers unlink only under card->lock, which we hold */
	list_for_each_entry(x, &card->xfers, node)
		xfer_release_memory(card, x);
	xfer_reap_orphans_locked(card);
}

void dmakit_xfer_init(struct dmakit_card *card)
{
	spin_lock_init(&card->xfer_lock);
	INIT_LIST_HEAD(&card->xfers);
	INIT_LIST_HEAD(&card->xfer_queue);
	init_waitqueue_head(&card->xfer_wq);
	INIT_DELAYED_WORK(&card->xfer_watchdog, xfer_watchdog_fn);
	INIT_WORK(&card->xfer_reap, xfer_reap_fn);
}
