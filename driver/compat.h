/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences across the kernels DKMS builds dmakit for
 * (Debian 11+/RHEL 9+: 5.10 and later).  Tested on 6.1.
 */
#ifndef DMAKIT_COMPAT_H
#define DMAKIT_COMPAT_H

#include <linux/device.h>
#include <linux/mm.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)
#error "dmakit needs Linux 5.10 or later (pin_user_pages, dma_map_sgtable)"
#endif

/* 6.3: vm_flags became read-only outside the helpers */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void dmakit_vm_flags_set(struct vm_area_struct *vma,
				       unsigned long flags)
{
	vma->vm_flags |= flags;
}
#else
#define dmakit_vm_flags_set vm_flags_set
#endif

/* 6.4: class_create() lost its owner argument */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define dmakit_class_create(name) class_create(THIS_MODULE, name)
#else
#define dmakit_class_create(name) class_create(name)
#endif

#endif /* DMAKIT_COMPAT_H */
