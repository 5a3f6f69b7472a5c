// SPDX-License-Identifier: GPL-2.0
/*
 * dmakit core: what the backends call -- the lifetime of a card
 * (/dev/dmakitN), DMA mask negotiation and interrupt accounting.  It calls
 * no backend; main.c registers them.
 *
 * Lifetime: the card lives as long as its class device is referenced.
 * The backend's binding holds one reference, every open file and every
 * user mapping of the ring one more.  dmakit_card_remove() (PCI remove,
 * hot-unplug, module unload) makes the card dead: new opens fail, waiters
 * get -ENODEV, the hardware is quiesced and every DMA mapping undone while
 * the DMA device still exists; the memory goes when the last user does.
 */
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "dmakit.h"
#include "fault.h"

unsigned int dmakit_ring_nbufs_default = 64;
module_param_named(ring_nbufs, dmakit_ring_nbufs_default, uint, 0444);
MODULE_PARM_DESC(ring_nbufs, "buffers per streaming ring (default 64)");

unsigned int dmakit_ring_bufsize_default = 256 * 1024;
module_param_named(ring_bufsize, dmakit_ring_bufsize_default, uint, 0444);
MODULE_PARM_DESC(ring_bufsize,
		 "bytes per ring buffer, a multiple of 4096 (default 256K)");

static struct class *dmakit_class;
static dev_t dmakit_devt;
static DEFINE_IDA(dmakit_minors);

static void dmakit_card_release(struct device *dev)
{
	struct dmakit_card *card = dmakit_card_of(dev);

	if (card->ring)
		dmakit_ring_free(card->ring);
	put_device(card->dma_dev);
	ida_free(&dmakit_minors, MINOR(dev->devt));
	kfree(card);
}

/*
 * A card for @hw doing DMA with @dma_dev, child of @parent in sysfs.
 * Not visible to user space until dmakit_card_add().
 */
struct dmakit_card *dmakit_card_alloc(struct device *parent,
				      struct device *dma_dev,
				      const struct dmakit_hw_ops *hw,
				      void *hw_priv, const char *backend)
{
	struct dmakit_card *card;
	int minor, ret;

	card = kzalloc(sizeof(*card), GFP_KERNEL);
	if (!card)
		return ERR_PTR(-ENOMEM);
	minor = ida_alloc_max(&dmakit_minors, DMAKIT_MAX_CARDS - 1,
			      GFP_KERNEL);
	if (minor < 0) {
		kfree(card);
		return ERR_PTR(minor);
	}
	/* held to the end: open files may outlive the binding */
	card->dma_dev = get_device(dma_dev);
	card->hw = hw;
	card->hw_priv = hw_priv;
	strscpy(card->backend, backend, sizeof(card->backend));
	card->ring_nbufs = dmakit_ring_nbufs_default;
	card->ring_bufsize = dmakit_ring_bufsize_default;
	card->policy = DMAKIT_POLICY_DROP;
	mutex_init(&card->lock);
	atomic_set(&card->nmaps, 0);
	dmakit_xfer_init(card);

	device_initialize(&card->dev);
	card->dev.class = dmakit_class;
	card->dev.parent = parent;
	card->dev.devt = MKDEV(MAJOR(dmakit_devt), minor);
	card->dev.release = dmakit_card_release;
	ret = dev_set_name(&card->dev, DMAKIT_NAME "%d", minor);
	if (ret) {
		put_device(&card->dev);
		return ERR_PTR(ret);
	}
	cdev_init(&card->cdev, &dmakit_fops);
	card->cdev.owner = THIS_MODULE;
	return card;
}

/* Create the ring (streaming cards) and make /dev/dmakitN appear. */
int dmakit_card_add(struct dmakit_card *card)
{
	int ret;

	/* a chain engine's elements are whole pages at least (xfer.c) */
	if (card->hw->xfer_chain_start && card->xfer_max_seg < PAGE_SIZE) {
		dev_err(card->dma_dev, "chain engine with %u-byte segments\n",
			card->xfer_max_seg);
		return -EINVAL;
	}

	if (card->hw->stream_start) {
		if (dmakit_ring_check_geometry(card->ring_nbufs,
					       card->ring_bufsize)) {
			dev_err(card->dma_dev,
				"bad ring geometry %u x %u (module parameters)\n",
				card->ring_nbufs, card->ring_bufsize);
			return -EINVAL;
		}
		ret = dmakit_ring_create(card, card->ring_nbufs,
					 card->ring_bufsize, card->policy,
					 card->ring_dir);
		if (ret)
			return ret;
	}
	card->groups[0] = &dmakit_card_group;
	card->groups[1] = &dmakit_counter_group;
	card->groups[2] = card->backend_group;
	card->dev.groups = card->groups;
	ret = cdev_device_add(&card->cdev, &card->dev);
	if (ret) {
		dmakit_ring_teardown(card);
		return ret;
	}
	dev_info(card->dma_dev, "%s: %s card, dma mask %u bits%s\n",
		 dev_name(&card->dev), card->backend, card->dma_bits,
		 card->ring ? ", streaming ring" : "");
	return 0;
}

/*
 * The hardware is going away (or the module is): fail everything that
 * waits on it, stop it touching memory and undo every DMA mapping.  The
 * backend then frees its interrupts and drops its reference with
 * dmakit_card_put(); open files and mappings keep the memory.
 */
void dmakit_card_remove(struct dmakit_card *card)
{
	unsigned long flags;

	mutex_lock(&card->lock);
	spin_lock_irqsave(&card->xfer_lock, flags);
	card->dead = true;
	spin_unlock_irqrestore(&card->xfer_lock, flags);
	mutex_unlock(&card->lock);
	/* poll() on a card without a ring sleeps there */
	wake_up_all(&card->xfer_wq);

	/* no new opens; waits for sysfs callbacks, which now see dead */
	cdev_device_del(&card->cdev, &card->dev);

	mutex_lock(&card->lock);
	if (card->ring)
		dmakit_ring_stop(card, DMAKIT_STATE_ERROR);
	dmakit_xfer_shutdown(card);
	dmakit_ring_teardown(card);
	mutex_unlock(&card->lock);
	/* the module may go next: no reaper left running its code */
	flush_work(&card->xfer_reap);
}

/*
 * Mask negotiation: the device's own limit in one call, 32 bits as the
 * only fallback.  The DMA API bounces (swiotlb) or translates (IOMMU)
 * whatever lies beyond the mask.
 */
int dmakit_dma_set_mask(struct device *dev, unsigned int limit_bits)
{
	unsigned int bits = min(limit_bits, 64U);

	if (!dma_set_mask_and_coherent(dev, DMA_BIT_MASK(bits)))
		return bits;
	if (bits > 32 && !dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32)))
		return 32;
	return -EIO;
}

/* Account one interrupt on vector @vec (any context). */
void dmakit_card_irq(struct dmakit_card *card, unsigned int vec)
{
	if (vec < DMAKIT_MAX_VECTORS)
		atomic64_inc(&card->cnt.irqs[vec]);
}

/*
 * The parts every card shares: the char device region, the class (and
 * in test builds the debugfs directory of the backends' test switches).  Called by main.c
 * before any backend registers, undone after the last one is gone.
 */
int dmakit_core_init(void)
{
	int ret;

	if (dmakit_ring_check_geometry(dmakit_ring_nbufs_default,
				       dmakit_ring_bufsize_default)) {
		pr_err("dmakit: ring_nbufs must be 2..65536 and ring_bufsize a multiple of 4096 in 4K..64M\n");
		return -EINVAL;
	}
	ret = alloc_chrdev_region(&dmakit_devt, 0, DMAKIT_MAX_CARDS,
				  DMAKIT_NAME);
	if (ret)
		return ret;
	dmakit_class = dmakit_class_create(DMAKIT_NAME);
	if (IS_ERR(dmakit_class)) {
		unregister_chrdev_region(dmakit_devt, DMAKIT_MAX_CARDS);
		return PTR_ERR(dmakit_class);
	}
	dmakit_fault_init();
	return 0;
}

void dmakit_core_exit(void)
{
	dmakit_fault_exit();
	class_destroy(dmakit_class);
	unregister_chrdev_region(dmakit_devt, DMAKIT_MAX_CARDS);
}
