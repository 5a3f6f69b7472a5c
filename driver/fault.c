// SPDX-License-Identifier: GPL-2.0
/*
 * The "fault" module parameter of test builds (see fault.h): a list of
 * bug names, parsed on every use so that it can change at run time.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dmakit.h"
#include "fault.h"

static char *fault = "";
module_param(fault, charp, 0444);
MODULE_PARM_DESC(fault,
		 "TEST BUILD ONLY: bugs to commit (leak_unmap,map_error,atomic_sleep,lock_order,use_after_free,ring_vmap,ring_wrong_dir,ring_no_sync), paths to force (abort_window,close_nowait)");

static const char *const fault_names[] = {
	[DMAKIT_FAULT_LEAK_UNMAP] = "leak_unmap",
	[DMAKIT_FAULT_MAP_ERROR] = "map_error",
	[DMAKIT_FAULT_ATOMIC_SLEEP] = "atomic_sleep",
	[DMAKIT_FAULT_LOCK_ORDER] = "lock_order",
	[DMAKIT_FAULT_USE_AFTER_FREE] = "use_after_free",
	[DMAKIT_FAULT_RING_VMAP] = "ring_vmap",
	[DMAKIT_FAULT_RING_WRONG_DIR] = "ring_wrong_dir",
	[DMAKIT_FAULT_RING_NO_SYNC] = "ring_no_sync",
	[DMAKIT_FAULT_ABORT_WINDOW] = "abort_window",
	[DMAKIT_FAULT_CLOSE_NOWAIT] = "close_nowait",
};

bool dmakit_fault(enum dmakit_fault which)
{
	const char *p = fault;
	size_t n = strlen(fault_names[which]);

	while (p && *p) {
		if (!strncmp(p, fault_names[which], n) &&
		    (p[n] == '\0' || p[n] == ','))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* kept where the compiler cannot prove the use after free */
static u8 *fault_freed;
static u8 fault_sink;

void dmakit_fault_use_after_free(void)
{
	fault_freed = kmalloc(64, GFP_KERNEL);
	if (!fault_freed)
		return;
	kfree(fault_freed);
	WRITE_ONCE(fault_sink, READ_ONCE(fault_freed[8]));
}

/*
 * The watchdog gave the engine up (segment @gen of transaction @x, which
 * this must not dereference) and dropped the lock to stop it.  Wait there
 * until that segment has ended (another started, or @x is no longer the
 * active one), at most 30 s, then long enough for a waiter to free @x.
 */
void dmakit_fault_abort_window(struct dmakit_card *card,
			       const struct dmakit_txn *x, u64 gen)
{
	unsigned long deadline = jiffies + 30 * HZ;
	unsigned long flags;
	bool ended;

	if (!dmakit_fault(DMAKIT_FAULT_ABORT_WINDOW))
		return;
	do {
		msleep(20);
		spin_lock_irqsave(&card->xfer_lock, flags);
		ended = card->xfer_seg_gen != gen || card->xfer_active != x;
		spin_unlock_irqrestore(&card->xfer_lock, flags);
	} while (!ended && time_before(jiffies, deadline));
	msleep(1000);
}

static struct dentry *fault_debugfs;

void dmakit_fault_init(void)
{
	fault_debugfs = debugfs_create_dir(DMAKIT_NAME, NULL);
}

void dmakit_fault_exit(void)
{
	debugfs_remove_recursive(fault_debugfs);
}

void dmakit_fault_pci_add(struct dmakit_pci *p)
{
	p->debugfs = debugfs_create_dir(pci_name(p->pdev), fault_debugfs);
	debugfs_create_bool("fake_vanished", 0600, p->debugfs,
			    &p->fake_vanished);
}

void dmakit_fault_pci_remove(struct dmakit_pci *p)
{
	debugfs_remove_recursive(p->debugfs);
}

bool dmakit_fault_vanished(struct dmakit_pci *p)
{
	return READ_ONCE(p->fake_vanished);
}
