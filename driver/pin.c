// SPDX-License-Identifier: GPL-2.0
/*
 * User pages pinned for a transaction.  The pins last until the
 * transaction is waited for or its file closes, so they are long-term
 * pins (FOLL_LONGTERM: the pages are first moved out of ZONE_MOVABLE and
 * CMA, and file-backed memory the kernel cannot pin for long is refused)
 * and they are charged like locked memory, as RDMA and VFIO do: to the
 * process's mm->pinned_vm (VmPin in /proc/PID/status) against
 * RLIMIT_MEMLOCK unless it has CAP_IPC_LOCK, and to the card's cap
 * (xfer_pin_mb), which bounds what all openers of one card hold.
 */
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "dmakit.h"

static unsigned int xfer_pin_mb = 64;
module_param(xfer_pin_mb, uint, 0644);
MODULE_PARM_DESC(xfer_pin_mb,
		 "user memory in MiB that all transactions of one card may hold pinned (default 64)");

/* Charge @npages to the caller's locked memory and to @card's cap. */
static int pin_charge(struct dmakit_card *card, struct dmakit_pin *pin)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	u64 cap = (u64)READ_ONCE(xfer_pin_mb) << (20 - PAGE_SHIFT);
	struct mm_struct *mm = current->mm;

	if (atomic64_add_return(pin->npages, &card->xfer_pinned) > cap) {
		atomic64_sub(pin->npages, &card->xfer_pinned);
		return -EAGAIN;
	}
	if (atomic64_add_return(pin->npages, &mm->pinned_vm) > limit &&
	    !capable(CAP_IPC_LOCK)) {
		atomic64_sub(pin->npages, &mm->pinned_vm);
		atomic64_sub(pin->npages, &card->xfer_pinned);
		/* as mlock(): no locked memory at all is EPERM */
		return limit ? -ENOMEM : -EPERM;
	}
	mmgrab(mm);
	pin->mm = mm;
	return 0;
}

static void pin_uncharge(struct dmakit_card *card, struct dmakit_pin *pin)
{
	atomic64_sub(pin->npages, &pin->mm->pinned_vm);
	atomic64_sub(pin->npages, &card->xfer_pinned);
	mmdrop(pin->mm);
	pin->mm = NULL;
}

/*
 * Pin @len bytes of user memory at @uaddr for @card (no card lock: this
 * may fault), writable when the device writes them.
 */
int dmakit_pin_user(struct dmakit_card *card, struct dmakit_pin *pin,
		    u64 uaddr, u64 len, bool device_writes)
{
	unsigned int gup = FOLL_LONGTERM | (device_writes ? FOLL_WRITE : 0);
	int pinned, ret;

	pin->offset = offset_in_page(uaddr);
	pin->npages = DIV_ROUND_UP(pin->offset + len, PAGE_SIZE);
	ret = pin_charge(card, pin);
	if (ret)
		return ret;
	pin->pages = kvmalloc_array(pin->npages, sizeof(*pin->pages),
				    GFP_KERNEL);
	if (!pin->pages) {
		pin_uncharge(card, pin);
		return -ENOMEM;
	}
	pinned = pin_user_pages_fast(uaddr & PAGE_MASK, pin->npages, gup,
				     pin->pages);
	if (pinned != pin->npages) {
		/* unmapped, or read-only while the device would write */
		if (pinned > 0)
			unpin_user_pages(pin->pages, pinned);
		kvfree(pin->pages);
		pin->pages = NULL;
		pin_uncharge(card, pin);
		return pinned == -ENOMEM ? -ENOMEM : -EFAULT;
	}
	pin->device_writes = device_writes;
	return 0;
}

/* Unpin (dirtying what the device wrote) and uncharge; may sleep. */
void dmakit_unpin_user(struct dmakit_card *card, struct dmakit_pin *pin)
{
	if (!pin->pages)
		return;
	if (pin->device_writes)
		unpin_user_pages_dirty_lock(pin->pages, pin->npages, true);
	else
		unpin_user_pages(pin->pages, pin->npages);
	kvfree(pin->pages);
	pin->pages = NULL;
	pin_uncharge(card, pin);
}
