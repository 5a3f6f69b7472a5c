/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences across the kernels DKMS builds dmakit for
 * (Debian 11+/RHEL 9+: 5.10 and later).  Built and tested on 6.1 only: the
 * shims for older and newer kernels follow those kernels' headers.
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

/* 5.11: kmap_local_page(); before it, only kernels without highmem */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 11, 0)
#ifdef CONFIG_HIGHMEM
#error "dmakit needs Linux 5.11 (kmap_local_page) on a highmem kernel"
#endif
#define kmap_local_page(page)	page_address(page)
#define kunmap_local(addr)	do { } while (0)
#endif

/* 5.15: sg_alloc_table_from_pages_segment() (before: the __ variant) */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 15, 0)
#include <linux/scatterlist.h>
static inline int
sg_alloc_table_from_pages_segment(struct sg_table *sgt, struct page **pages,
				  unsigned int n_pages, unsigned int offset,
				  unsigned long size, unsigned int max_segment,
				  gfp_t gfp_mask)
{
	return PTR_ERR_OR_ZERO(__sg_alloc_table_from_pages(sgt, pages, n_pages,
							   offset, size,
							   max_segment, NULL,
							   0, gfp_mask));
}
#endif

#endif /* DMAKIT_COMPAT_H */
