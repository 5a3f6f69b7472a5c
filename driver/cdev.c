// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/dmakitN: one struct dmakit_file per open.  A file may become one
 * ring consumer (DMAKIT_IOC_ATTACH); closing it frees the slot, cancels its
 * queued transactions and waits for its running one.  The stream stops
 * when the file that started it closes, or when the last file does.
 *
 * Every ioctl validates its argument completely before it touches the
 * card, and every one fails with -ENODEV once the card is gone.
 *
 * The ring's direction is per use: DMAKIT_IOC_RING_SETUP sets it up H2C
 * for the file alone on the card, and the card's first open and last close
 * with nothing mapped put it back to C2H, so a program that never asks
 * (a recorder, an older libdmakit) always finds the default.
 */
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dmakit.h"

static int dmakit_open(struct inode *inode, struct file *file)
{
	struct dmakit_card *card = container_of(inode->i_cdev,
						struct dmakit_card, cdev);
	struct dmakit_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->card = card;
	f->slot = -1;
	mutex_lock(&card->lock);
	if (card->dead) {
		mutex_unlock(&card->lock);
		kfree(f);
		return -ENODEV;
	}
	get_device(&card->dev);
	card->nopen++;
	/* a mapping that outlived the last close kept it H2C till now */
	if (card->ring)
		dmakit_ring_default_dir(card);
	mutex_unlock(&card->lock);
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int dmakit_release(struct inode *inode, struct file *file)
{
	struct dmakit_file *f = file->private_data;
	struct dmakit_card *card = f->card;

	dmakit_xfer_release_file(f);
	mutex_lock(&card->lock);
	if (card->ring && !card->dead) {
		if (f->slot >= 0)
			dmakit_ring_detach(card, f->slot);
		if (f->started || card->nopen == 1)
			dmakit_ring_stop(card, DMAKIT_STATE_STOPPED);
		dmakit_ring_default_dir(card);
	}
	card->nopen--;
	mutex_unlock(&card->lock);
	put_device(&card->dev);
	kfree(f);
	return 0;
}

static long dmakit_ioc_info(struct dmakit_card *card, void __user *arg)
{
	struct dmakit_info info = {
		.abi_version = DMAKIT_IOCTL_ABI_VERSION,
		.card_mem_size = card->card_mem_size,
		.dma_mask_bits = card->dma_bits,
		.irq_type = card->irq_type,
		.irq_vectors = card->nvec,
		.max_xfers = DMAKIT_MAX_XFERS,
	};

	strscpy(info.backend, card->backend, sizeof(info.backend));
	mutex_lock(&card->lock);
	if (card->ring) {
		info.flags |= DMAKIT_INFO_F_RING;
		info.ring_map_size = dmakit_ring_mapped_bytes(card->ring);
		info.ring_nbufs = card->ring_nbufs;
		info.ring_bufsize = card->ring_bufsize;
		info.rate = card->rate;
		info.ring_dir = card->ring_dir;
		if (card->ring_h2c)
			info.flags |= DMAKIT_INFO_F_RING_H2C;
	}
	if (dmakit_card_has_xfer(card))
		info.flags |= DMAKIT_INFO_F_XFER;
	mutex_unlock(&card->lock);
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

/* Called with card->lock held; @a is already copied in and checked. */
static long dmakit_ioc_attach(struct dmakit_file *f, struct dmakit_attach *a)
{
	struct dmakit_card *card = f->card;
	long ret;

	/* an H2C ring has no consumers: its application fills it */
	if (!card->ring || card->ring_dir != DMAKIT_DIR_C2H)
		return -EOPNOTSUPP;
	/* one consumer per open file: open the device again for another */
	if (f->slot >= 0)
		return -EBUSY;
	ret = dmakit_ring_attach(card, a->mode, &a->slot, &a->start_pos);
	if (!ret)
		f->slot = a->slot;
	return ret;
}

/*
 * Commands serialised by card->lock.  User memory is copied outside it:
 * a fault takes mmap_lock, which mmap() holds when it takes card->lock.
 */
static long dmakit_ioctl_locked(struct dmakit_file *f, unsigned int cmd,
				struct dmakit_attach *a,
				const struct dmakit_ring_setup *rs)
{
	struct dmakit_card *card = f->card;
	long ret;

	if (card->dead)
		return -ENODEV;
	switch (cmd) {
	case DMAKIT_IOC_ATTACH:
		return dmakit_ioc_attach(f, a);
	case DMAKIT_IOC_START:
		if (!card->ring)
			return -EOPNOTSUPP;
		ret = dmakit_ring_start(card);
		if (!ret)
			f->started = true;
		return ret;
	case DMAKIT_IOC_STOP:
		if (!card->ring)
			return -EOPNOTSUPP;
		dmakit_ring_stop(card, DMAKIT_STATE_STOPPED);
		return 0;
	case DMAKIT_IOC_KICK:
		if (!card->ring)
			return -EOPNOTSUPP;
		dmakit_ring_kick(card);
		return 0;
	case DMAKIT_IOC_RING_SETUP:
		if (!card->ring)
			return -EOPNOTSUPP;
		return dmakit_ring_set_dir(card, rs->dir);
	}
	return -ENOTTY;
}

static long dmakit_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct dmakit_file *f = file->private_data;
	struct dmakit_card *card = f->card;
	void __user *uarg = (void __user *)arg;
	struct dmakit_ring_setup rs = {};
	struct dmakit_attach a;
	long ret;

	switch (cmd) {
	case DMAKIT_IOC_INFO:
		if (READ_ONCE(card->dead))
			return -ENODEV;
		return dmakit_ioc_info(card, uarg);
	case DMAKIT_IOC_XFER_SUBMIT:
		return dmakit_xfer_submit(f, uarg);
	case DMAKIT_IOC_XFER_WAIT:
		return dmakit_xfer_wait(f, uarg);
	case DMAKIT_IOC_ATTACH:
		if (copy_from_user(&a, uarg, sizeof(a)))
			return -EFAULT;
		if (a.reserved[0] || a.reserved[1])
			return -EINVAL;
		if (a.mode != DMAKIT_CONSUMER_RELIABLE &&
		    a.mode != DMAKIT_CONSUMER_LOSSY)
			return -EINVAL;
		fallthrough;
	case DMAKIT_IOC_RING_SETUP:
		if (cmd == DMAKIT_IOC_RING_SETUP) {
			if (copy_from_user(&rs, uarg, sizeof(rs)))
				return -EFAULT;
			if (rs.reserved0 || rs.reserved[0] || rs.reserved[1] ||
			    rs.reserved[2])
				return -EINVAL;
		}
		fallthrough;
	case DMAKIT_IOC_START:
	case DMAKIT_IOC_STOP:
	case DMAKIT_IOC_KICK:
		mutex_lock(&card->lock);
		ret = dmakit_ioctl_locked(f, cmd, &a, &rs);
		mutex_unlock(&card->lock);
		if (ret || cmd != DMAKIT_IOC_ATTACH)
			return ret;
		if (copy_to_user(uarg, &a, sizeof(a))) {
			mutex_lock(&card->lock);
			if (!card->dead)
				dmakit_ring_detach(card, f->slot);
			f->slot = -1;
			mutex_unlock(&card->lock);
			return -EFAULT;
		}
		return 0;
	}
	return -ENOTTY;
}

static __poll_t dmakit_poll(struct file *file, poll_table *wait)
{
	struct dmakit_file *f = file->private_data;
	struct dmakit_card *card = f->card;

	if (!card->ring) {
		/* nothing to read: only the card's removal wakes it */
		poll_wait(file, &card->xfer_wq, wait);
		return READ_ONCE(card->dead) ? EPOLLERR | EPOLLHUP : 0;
	}
	return dmakit_ring_poll(card, f->slot, file, wait);
}

static int dmakit_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dmakit_file *f = file->private_data;
	struct dmakit_card *card = f->card;
	int ret;

	mutex_lock(&card->lock);
	if (card->dead)
		ret = -ENODEV;
	else if (!card->ring)
		ret = -EOPNOTSUPP;
	else
		ret = dmakit_ring_mmap(card, vma);
	mutex_unlock(&card->lock);
	return ret;
}

const struct file_operations dmakit_fops = {
	.owner = THIS_MODULE,
	.open = dmakit_open,
	.release = dmakit_release,
	.unlocked_ioctl = dmakit_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = dmakit_poll,
	.mmap = dmakit_mmap,
};
