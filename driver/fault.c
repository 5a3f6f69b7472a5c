// SPDX-License-Identifier: GPL-2.0
/*
 * The "fault" module parameter of test builds (see fault.h): a list of
 * bug names, parsed on every use so that it can change at run time.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "fault.h"

static char *fault = "";
module_param(fault, charp, 0444);
MODULE_PARM_DESC(fault,
		 "TEST BUILD ONLY: bugs to commit (leak_unmap,map_error,atomic_sleep,lock_order,use_after_free)");

static const char *const fault_names[] = {
	[DMAKIT_FAULT_LEAK_UNMAP] = "leak_unmap",
	[DMAKIT_FAULT_MAP_ERROR] = "map_error",
	[DMAKIT_FAULT_ATOMIC_SLEEP] = "atomic_sleep",
	[DMAKIT_FAULT_LOCK_ORDER] = "lock_order",
	[DMAKIT_FAULT_USE_AFTER_FREE] = "use_after_free",
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
