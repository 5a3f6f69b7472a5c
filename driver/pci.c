// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI driver: what every dmakit PCI card needs, in probe order --
 * enable, map the register BAR, negotiate the DMA mask (the device's
 * limit, else 32 bits), bus mastering, the device's own check, one interrupt
 * vector (MSI-X, MSI, then INTx: a vector that fails its self test, where
 * the card has one, falls back to INTx) with the backend's hard and/or
 * threaded handler, and /dev/dmakitN last.  Remove is the reverse.  What
 * differs between cards is data: struct dmakit_pci_info in the ID table.
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "dmakit.h"
#include "fault.h"

static bool no_msi;
module_param(no_msi, bool, 0444);
MODULE_PARM_DESC(no_msi, "use INTx even where MSI-X or MSI work");

static const struct pci_device_id dmakit_pci_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8),	/* QEMU edu */
	  .driver_data = (kernel_ulong_t)&dmakit_edu_info },
	{ }
};
MODULE_DEVICE_TABLE(pci, dmakit_pci_ids);

static u32 dmakit_pci_irq_type(struct pci_dev *pdev)
{
	if (pdev->msix_enabled)
		return DMAKIT_IRQ_MSIX;
	if (pdev->msi_enabled)
		return DMAKIT_IRQ_MSI;
	return DMAKIT_IRQ_INTX;
}

/*
 * INTx may be shared.  A handler that is only a thread keeps the line
 * masked until it has run (IRQF_ONESHOT); sharing the line then needs
 * every sharer to agree, so a card on INTx should have a hard handler
 * that checks its status and returns IRQ_WAKE_THREAD.
 */
static unsigned long dmakit_pci_irq_flags(struct dmakit_pci *p)
{
	unsigned long flags = 0;

	if (p->card->irq_type == DMAKIT_IRQ_INTX)
		flags |= IRQF_SHARED;
	if (!p->info->irq_handler)
		flags |= IRQF_ONESHOT;
	return flags;
}

static int dmakit_pci_setup_irq(struct dmakit_pci *p)
{
	struct pci_dev *pdev = p->pdev;
	struct dmakit_card *card = p->card;
	unsigned int types = no_msi ? PCI_IRQ_INTX : PCI_IRQ_ALL_TYPES;
	int nvec, ret;

	for (;;) {
		nvec = pci_alloc_irq_vectors(pdev, 1, 1, types);
		if (nvec < 0)
			return nvec;
		card->irq_type = dmakit_pci_irq_type(pdev);
		card->nvec = nvec;
		ret = request_threaded_irq(pci_irq_vector(pdev, 0),
					   p->info->irq_handler,
					   p->info->irq_thread,
					   dmakit_pci_irq_flags(p),
					   dev_name(&card->dev), p);
		if (!ret) {
			/* a card without a self test trusts its first vector */
			if (p->info->irq_selftest)
				ret = p->info->irq_selftest(p);
			if (!ret)
				return 0;
			free_irq(pci_irq_vector(pdev, 0), p);
		}
		pci_free_irq_vectors(pdev);
		if (card->irq_type == DMAKIT_IRQ_INTX)
			return ret;
		dev_warn(&pdev->dev, "MSI/MSI-X interrupt failed (%d), using INTx\n",
			 ret);
		types = PCI_IRQ_INTX;
	}
}

static void dmakit_pci_free_irq(struct dmakit_pci *p)
{
	free_irq(pci_irq_vector(p->pdev, 0), p);
	pci_free_irq_vectors(p->pdev);
}

static int dmakit_pci_probe(struct pci_dev *pdev,
			    const struct pci_device_id *id)
{
	const struct dmakit_pci_info *info = (const void *)id->driver_data;
	struct device *dev = &pdev->dev;
	struct dmakit_card *card;
	struct dmakit_pci *p;
	int bits, ret;

	p = devm_kzalloc(dev, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->pdev = pdev;
	p->info = info;
	init_completion(&p->irq_test);
	if (info->priv_size) {
		p->priv = devm_kzalloc(dev, info->priv_size, GFP_KERNEL);
		if (!p->priv)
			return -ENOMEM;
	}
	ret = info->init ? info->init(p) : 0;
	if (ret)
		return ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(info->bar), DMAKIT_NAME);
	if (ret)
		return ret;
	p->regs = pcim_iomap_table(pdev)[info->bar];
	bits = dmakit_dma_set_mask(dev, info->dma_bits);
	if (bits < 0) {
		dev_err(dev, "no usable DMA mask (device limit %u bits)\n",
			info->dma_bits);
		return bits;
	}
	/*
	 * DMA segments as long as the card takes (the default is 64 KiB); a
	 * chain engine's descriptor limit also bounds what an IOMMU merges
	 */
	dma_set_max_seg_size(dev, info->hw->xfer_chain_start ?
			     rounddown(info->xfer_max_seg, PAGE_SIZE) :
			     UINT_MAX);
	pci_set_master(pdev);
	ret = info->check ? info->check(p) : 0;
	if (ret)
		return ret;

	card = dmakit_card_alloc(dev, dev, info->hw, p, info->name);
	if (IS_ERR(card))
		return PTR_ERR(card);
	card->dma_bits = bits;
	card->card_mem_size = info->card_mem_size;
	card->xfer_max_seg = info->xfer_max_seg;
	card->xfer_max_chain = info->xfer_max_chain;
	if (info->ring_nbufs && info->ring_bufsize) {
		card->ring_nbufs = info->ring_nbufs;
		card->ring_bufsize = info->ring_bufsize;
	}
	p->card = card;

	ret = dmakit_pci_setup_irq(p);
	if (ret) {
		dev_err(dev, "no working interrupt: %d\n", ret);
		goto err_put_card;
	}
	ret = dmakit_card_add(card);
	if (ret)
		goto err_free_irq;
	pci_set_drvdata(pdev, p);
	dmakit_fault_pci_add(p);
	return 0;

err_free_irq:
	dmakit_pci_free_irq(p);
err_put_card:
	dmakit_card_put(card);
	return ret;
}

static void dmakit_pci_remove(struct pci_dev *pdev)
{
	struct dmakit_pci *p = pci_get_drvdata(pdev);

	dmakit_fault_pci_remove(p);
	dmakit_card_remove(p->card);
	dmakit_pci_free_irq(p);
	dmakit_card_put(p->card);
}

static struct pci_driver dmakit_pci_driver = {
	.name = DMAKIT_NAME,
	.id_table = dmakit_pci_ids,
	.probe = dmakit_pci_probe,
	.remove = dmakit_pci_remove,
};

int dmakit_pci_init(void)
{
	return pci_register_driver(&dmakit_pci_driver);
}

void dmakit_pci_exit(void)
{
	pci_unregister_driver(&dmakit_pci_driver);
}
