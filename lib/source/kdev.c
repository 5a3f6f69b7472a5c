// SPDX-License-Identifier: MIT
/*
 * Backend for /dev/dmakitN (dmakit.ko, include/uapi/dmakit/ioctl.h).
 *
 * The device file opened by dmakit_open() is the control file: it maps the
 * ring, starts and stops the stream and carries transactions.  Each
 * consumer opens the device once more and attaches that file: the kernel
 * assigns the slot, frees it when the file is closed (also when the
 * process dies), and poll() on it waits for that consumer's next buffer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <dmakit/ioctl.h>
#include "internal.h"

struct kdev {
	char path[128];
	int fd;
	void *map;
	size_t map_size;
	struct dmakit_info info;
	bool started;			/* this handle started the stream */
};

static int kdev_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR && cmd != DMAKIT_IOC_XFER_WAIT);
	return ret < 0 ? -errno : ret;
}

/* The mapped ctrl page must describe what INFO said, or we do not use it. */
static int kdev_check_ring(struct kdev *k, char *err, size_t errlen)
{
	const struct dmakit_ring_ctrl *ctrl = k->map;
	uint32_t nbufs = k->info.ring_nbufs, bufsize = k->info.ring_bufsize;

	if (ctrl->magic != DMAKIT_RING_MAGIC ||
	    ctrl->version != DMAKIT_RING_VERSION)
		return dmakit_errf(err, errlen, -EPROTO,
				   "%s: ring has magic %#llx version %u, expected version %u",
				   k->path, (unsigned long long)ctrl->magic,
				   ctrl->version, DMAKIT_RING_VERSION);
	if (dmakit_ring_check_geometry(nbufs, bufsize) ||
	    ctrl->nbufs != nbufs || ctrl->bufsize != bufsize ||
	    ctrl->map_size != k->map_size ||
	    ctrl->map_size != dmakit_ring_map_size(nbufs, bufsize) ||
	    ctrl->desc_offset != DMAKIT_RING_CTRL_SIZE ||
	    ctrl->data_offset != DMAKIT_RING_CTRL_SIZE +
				 dmakit_ring_desc_bytes(nbufs))
		return dmakit_errf(err, errlen, -EPROTO,
				   "%s: inconsistent ring geometry", k->path);
	/* set up host to card by the program that has it (dmakit play) */
	if (ctrl->direction != DMAKIT_DIR_C2H)
		return dmakit_errf(err, errlen, -EBUSY,
				   "%s: its ring is set up host to card by another program (dmakit play?): nothing to read until it closes the card",
				   k->path);
	return 0;
}

static void kdev_free(struct kdev *k)
{
	if (k->map)
		munmap(k->map, k->map_size);
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

static int kdev_open(struct dmakit_dev *dev, const char *path, char *err,
		     size_t errlen)
{
	struct dmakit_ring_ctrl *ctrl;
	struct kdev *k;
	int ret;

	k = calloc(1, sizeof(*k));
	if (!k)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	snprintf(k->path, sizeof(k->path), "%s", path);
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		ret = -errno;
		kdev_free(k);
		return dmakit_errf(err, errlen, ret, "open %s: %s", path,
				   strerror(-ret));
	}
	ret = kdev_ioctl(k->fd, DMAKIT_IOC_INFO, &k->info);
	if (ret) {
		kdev_free(k);
		if (ret == -ENOTTY)
			return dmakit_errf(err, errlen, -ENODEV,
					   "%s: not a dmakit device (or a dmakit.ko with another ioctl ABI)",
					   path);
		return dmakit_errf(err, errlen, ret, "%s: %s", path,
				   strerror(-ret));
	}
	if (k->info.abi_version != DMAKIT_IOCTL_ABI_VERSION) {
		ret = k->info.abi_version;
		kdev_free(k);
		return dmakit_errf(err, errlen, -EPROTO,
				   "%s: driver ioctl ABI %d, library %d", path,
				   ret, DMAKIT_IOCTL_ABI_VERSION);
	}
	k->info.backend[sizeof(k->info.backend) - 1] = '\0';
	snprintf(dev->geo.kind, sizeof(dev->geo.kind), "kernel");
	dev->priv = k;
	if (!(k->info.flags & DMAKIT_INFO_F_RING))
		return 0;

	k->map_size = k->info.ring_map_size;
	k->map = mmap(NULL, k->map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      k->fd, 0);
	if (k->map == MAP_FAILED) {
		ret = -errno;
		k->map = NULL;
		dmakit_errf(err, errlen, ret, "%s: cannot map its %zu-byte ring: %s",
			    path, k->map_size, strerror(-ret));
		kdev_free(k);
		dev->priv = NULL;
		return ret;
	}
	ret = kdev_check_ring(k, err, errlen);
	if (ret) {
		kdev_free(k);
		dev->priv = NULL;
		return ret;
	}
	ctrl = k->map;
	dev->ctrl = ctrl;
	dev->descs = (struct dmakit_desc *)((char *)k->map + ctrl->desc_offset);
	dev->data = (unsigned char *)k->map + ctrl->data_offset;
	dev->geo.bufsize = k->info.ring_bufsize;
	dev->geo.nbufs = k->info.ring_nbufs;
	dev->geo.policy = ctrl->policy;
	dev->geo.payload = ctrl->payload;
	dev->geo.dev_clock_hz = ctrl->dev_clock_hz;
	dev->geo.data = dev->data;
	dev->geo.data_len = (size_t)k->info.ring_nbufs * k->info.ring_bufsize;
	dev->geo.rate = k->info.rate;
	return 0;
}

static void kdev_close(struct dmakit_dev *dev)
{
	kdev_free(dev->priv);
}

static int kdev_start(struct dmakit_dev *dev)
{
	struct kdev *k = dev->priv;
	int ret;

	if (!k->map)
		return -EOPNOTSUPP;
	ret = kdev_ioctl(k->fd, DMAKIT_IOC_START, NULL);
	if (!ret)
		k->started = true;
	return ret;
}

/* Only the handle that started the stream stops it. */
static int kdev_stop(struct dmakit_dev *dev)
{
	struct kdev *k = dev->priv;
	int ret;

	if (!k->started)
		return 0;
	ret = kdev_ioctl(k->fd, DMAKIT_IOC_STOP, NULL);
	k->started = false;
	return ret;
}

static int kdev_consumer_attach(struct dmakit_consumer *cons)
{
	struct kdev *k = cons->dev->priv;
	struct dmakit_attach a = { .mode = (uint32_t)cons->mode };
	int fd, ret;

	if (!k->map)
		return -EOPNOTSUPP;
	fd = open(k->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = kdev_ioctl(fd, DMAKIT_IOC_ATTACH, &a);
	if (ret) {
		close(fd);
		return ret;
	}
	if (a.slot >= DMAKIT_RING_MAX_CONSUMERS) {
		close(fd);
		return -EPROTO;
	}
	cons->slot_idx = (int)a.slot;
	cons->slot = &cons->dev->ctrl->consumers[a.slot];
	cons->wait_fd = fd;
	return 0;
}

static void kdev_consumer_detach(struct dmakit_consumer *cons)
{
	/* the kernel frees the slot with the file */
	close(cons->wait_fd);
	cons->wait_fd = -1;
}

static int kdev_wait(struct dmakit_consumer *cons, int timeout_ms)
{
	struct pollfd pfd = { .fd = cons->wait_fd, .events = POLLIN };
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	/* with POLLIN the ring state tells the caller what happened */
	if (pfd.revents & POLLIN)
		return 0;
	return -ENODEV;
}

static void kdev_released(struct dmakit_consumer *cons)
{
	struct kdev *k = cons->dev->priv;

	DMAKIT_FULL_BARRIER();
	if (DMAKIT_LOAD_RELAXED(&cons->dev->ctrl->producer_waiting))
		kdev_ioctl(k->fd, DMAKIT_IOC_KICK, NULL);
}

static int64_t kdev_dma_submit(struct dmakit_dev *dev, int to_host, void *buf,
			       size_t len, uint64_t card_addr)
{
	struct kdev *k = dev->priv;
	struct dmakit_xfer x = {
		.user_addr = (uint64_t)(uintptr_t)buf,
		.len = len,
		.card_addr = card_addr,
		.dir = to_host ? DMAKIT_XFER_TO_HOST : DMAKIT_XFER_FROM_HOST,
	};
	int ret;

	if (!(k->info.flags & DMAKIT_INFO_F_XFER))
		return -EOPNOTSUPP;
	ret = kdev_ioctl(k->fd, DMAKIT_IOC_XFER_SUBMIT, &x);
	return ret ? ret : (int64_t)x.id;
}

static int kdev_dma_wait(struct dmakit_dev *dev, int64_t id, int timeout_ms,
			 size_t *done)
{
	struct kdev *k = dev->priv;
	struct dmakit_xfer_wait w = {
		.id = (uint64_t)id,
		.timeout_ms = timeout_ms < 0 ? -1 : timeout_ms,
	};
	int ret;

	ret = kdev_ioctl(k->fd, DMAKIT_IOC_XFER_WAIT, &w);
	*done = (size_t)w.bytes_done;
	if (ret)
		return ret;
	return w.status;
}

static int kdev_card_mem_size(struct dmakit_dev *dev, uint64_t *size)
{
	*size = ((struct kdev *)dev->priv)->info.card_mem_size;
	return 0;
}

const struct dmakit_backend dmakit_kdev_backend = {
	.name = "kernel",
	.open = kdev_open,
	.close = kdev_close,
	.start = kdev_start,
	.stop = kdev_stop,
	.consumer_attach = kdev_consumer_attach,
	.consumer_detach = kdev_consumer_detach,
	.wait = kdev_wait,
	.released = kdev_released,
	.dma_submit = kdev_dma_submit,
	.dma_wait = kdev_dma_wait,
	.card_mem_size = kdev_card_mem_size,
};
