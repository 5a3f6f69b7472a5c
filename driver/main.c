// SPDX-License-Identifier: GPL-2.0
/*
 * dmakit.ko's entry points: the core first, then each backend's driver
 * (the simulated cards, the PCI driver); unloading is the reverse.  The
 * backends call into core.c, never the other way round.
 */
#include <linux/module.h>

#include "dmakit.h"
#include "xdma.h"

static int __init dmakit_init(void)
{
	int ret;

	ret = dmakit_core_init();
	if (ret)
		return ret;
	ret = dmakit_sim_init();
	if (ret)
		goto err_core;
	ret = dmakit_xdma_model_init();
	if (ret)
		goto err_sim;
	ret = dmakit_pci_init();
	if (ret)
		goto err_xdma;
	return 0;

err_xdma:
	dmakit_xdma_model_exit();
err_sim:
	dmakit_sim_exit();
err_core:
	dmakit_core_exit();
	return ret;
}

static void __exit dmakit_exit(void)
{
	dmakit_pci_exit();
	dmakit_xdma_model_exit();
	dmakit_sim_exit();
	dmakit_core_exit();
}

module_init(dmakit_init);
module_exit(dmakit_exit);

MODULE_DESCRIPTION("dmakit: PCIe DMA streaming ring and transactions");
MODULE_LICENSE("GPL");
#ifndef DMAKIT_MODULE_VERSION
#error "DMAKIT_MODULE_VERSION unset: build with make -C driver (it passes the top Makefile's VERSION)"
#endif
MODULE_VERSION(DMAKIT_MODULE_VERSION);
