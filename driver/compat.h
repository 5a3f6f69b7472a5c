/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels dmakit is built and booted
 * on: Debian 12's 6.1 and 6.12 (tests/vm/kernels.sh).  The code uses the
 * newer API; each shim gives it to the older kernel.
 */
#ifndef DMAKIT_COMPAT_H
#define DMAKIT_COMPAT_H

#include <linux/device.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "dmakit is built and tested on Linux 6.1 and 6.12"
#endif

/* 6.3: vm_flags became read-only outside the helpers */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void dmakit_vm_flags_mod(struct vm_area_struct *vma,
				       unsigned long set, unsigned long clear)
{
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
}
#else
#define dmakit_vm_flags_mod vm_flags_mod
#endif

/* 6.4: class_create() lost its owner argument */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define dmakit_class_create(name) class_create(THIS_MODULE, name)
#else
#define dmakit_class_create(name) class_create(name)
#endif

/* 6.8: PCI_IRQ_INTX; PCI_IRQ_LEGACY, its old name, went in 6.10 */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX PCI_IRQ_LEGACY
#endif

/* 6.13: hrtimer_setup(); hrtimer_init(), which it replaces, went in 6.15 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
static inline void
hrtimer_setup(struct hrtimer *timer,
	      enum hrtimer_restart (*function)(struct hrtimer *),
	      clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

#endif /* DMAKIT_COMPAT_H */
