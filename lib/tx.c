// SPDX-License-Identifier: MIT
/*
 * Host-to-card streaming into a dmakit.ko card's ring set up H2C
 * (include/dmakit/tx.h; the protocol is include/uapi/dmakit/ring.h's
 * "Host to card").
 *
 * Positions: [reaped, tx_done) came back and are read here before they
 * are handed out again; [tx_done, head) are the card's; [head, reaped +
 * nbufs) are free.  The kernel never trusts what is written here, and
 * nothing read back from the ctrl page is used without a bound.
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
#include <dmakit/tx.h>
#include "internal.h"

struct dmakit_tx {
	char path[128];
	int fd;
	void *map;
	size_t map_size;
	struct dmakit_info info;
	struct dmakit_ring_ctrl *ctrl;
	struct dmakit_desc *descs;
	unsigned char *data;
	uint32_t nbufs, bufsize;
	uint64_t head;			/* our copy of ctrl->head */
	uint64_t reaped;
	bool started;
	uint32_t *want_crc;		/* per slot: the publisher's CRC */
	bool *has_crc;
	struct dmakit_tx_stats st;
};

static int tx_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

static void tx_free(struct dmakit_tx *tx)
{
	if (tx->map)
		munmap(tx->map, tx->map_size);
	if (tx->fd >= 0)
		close(tx->fd);
	free(tx->want_crc);
	free(tx->has_crc);
	free(tx);
}

static int tx_map(struct dmakit_tx *tx, char *err, size_t errlen)
{
	struct dmakit_ring_ctrl *ctrl;
	uint32_t nbufs = tx->info.ring_nbufs, bufsize = tx->info.ring_bufsize;

	tx->map_size = tx->info.ring_map_size;
	tx->map = mmap(NULL, tx->map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       tx->fd, 0);
	if (tx->map == MAP_FAILED) {
		tx->map = NULL;
		return dmakit_errf(err, errlen, -errno,
				   "%s: cannot map its %zu-byte ring: %s",
				   tx->path, tx->map_size, strerror(errno));
	}
	ctrl = tx->map;
	if (ctrl->magic != DMAKIT_RING_MAGIC ||
	    ctrl->version != DMAKIT_RING_VERSION ||
	    dmakit_ring_check_geometry(nbufs, bufsize) ||
	    ctrl->nbufs != nbufs || ctrl->bufsize != bufsize ||
	    ctrl->map_size != tx->map_size ||
	    ctrl->map_size != dmakit_ring_map_size(nbufs, bufsize) ||
	    ctrl->desc_offset != DMAKIT_RING_CTRL_SIZE ||
	    ctrl->data_offset != DMAKIT_RING_CTRL_SIZE +
				 dmakit_ring_desc_bytes(nbufs) ||
	    ctrl->direction != DMAKIT_DIR_H2C)
		return dmakit_errf(err, errlen, -EPROTO,
				   "%s: the mapped ring is not the H2C ring the driver described",
				   tx->path);
	tx->ctrl = ctrl;
	tx->descs = (struct dmakit_desc *)((char *)tx->map + ctrl->desc_offset);
	tx->data = (unsigned char *)tx->map + ctrl->data_offset;
	tx->nbufs = nbufs;
	tx->bufsize = bufsize;
	/* a new ring (the setup built it): positions start where it says */
	tx->head = DMAKIT_LOAD_ACQUIRE(&ctrl->tx_done);
	tx->reaped = tx->head;
	DMAKIT_STORE_RELEASE(&ctrl->head, tx->head);
	return 0;
}

int dmakit_tx_open(struct dmakit_tx **txp, const char *path, char *err,
		   size_t errlen)
{
	struct dmakit_ring_setup rs = { .dir = DMAKIT_DIR_H2C };
	struct dmakit_tx *tx;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!txp || !path || !*path)
		return dmakit_errf(err, errlen, -EINVAL, "tx: no device given");
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	snprintf(tx->path, sizeof(tx->path), "%s", path);
	tx->fd = open(path, O_RDWR | O_CLOEXEC);
	if (tx->fd < 0) {
		ret = -errno;
		tx_free(tx);
		return dmakit_errf(err, errlen, ret, "open %s: %s", path,
				   strerror(-ret));
	}
	ret = tx_ioctl(tx->fd, DMAKIT_IOC_INFO, &tx->info);
	if (ret == -ENOTTY)
		ret = dmakit_errf(err, errlen, -ENODEV,
				  "%s: not a dmakit device (or a dmakit.ko with another ioctl ABI)",
				  path);
	else if (ret)
		ret = dmakit_errf(err, errlen, ret, "%s: %s", path,
				  strerror(-ret));
	else if (tx->info.abi_version != DMAKIT_IOCTL_ABI_VERSION)
		ret = dmakit_errf(err, errlen, -EPROTO,
				  "%s: driver ioctl ABI %u, library %d", path,
				  tx->info.abi_version, DMAKIT_IOCTL_ABI_VERSION);
	else if (!(tx->info.flags & DMAKIT_INFO_F_RING_H2C))
		ret = dmakit_errf(err, errlen, -EOPNOTSUPP,
				  "%s: the card has no host-to-card stream (its driver: %.16s)",
				  path, tx->info.backend);
	if (ret) {
		tx_free(tx);
		return ret;
	}
	ret = tx_ioctl(tx->fd, DMAKIT_IOC_RING_SETUP, &rs);
	if (ret == -EBUSY)
		ret = dmakit_errf(err, errlen, ret,
				  "%s: in use: another program has the card open (its ring can change direction only when this is the card's only open file)",
				  path);
	else if (ret)
		ret = dmakit_errf(err, errlen, ret,
				  "%s: cannot set its ring up host to card: %s",
				  path, strerror(-ret));
	/* INFO again: the setup built a new ring */
	if (!ret)
		ret = tx_ioctl(tx->fd, DMAKIT_IOC_INFO, &tx->info);
	if (!ret)
		ret = tx_map(tx, err, errlen);
	if (!ret) {
		tx->want_crc = calloc(tx->nbufs, sizeof(*tx->want_crc));
		tx->has_crc = calloc(tx->nbufs, sizeof(*tx->has_crc));
		if (!tx->want_crc || !tx->has_crc)
			ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	}
	if (ret) {
		if (err && errlen && !err[0])
			dmakit_errf(err, errlen, ret, "%s: %s", path,
				    strerror(-ret));
		tx_free(tx);
		return ret;
	}
	tx->info.backend[sizeof(tx->info.backend) - 1] = '\0';
	*txp = tx;
	return 0;
}

void dmakit_tx_close(struct dmakit_tx *tx)
{
	if (!tx)
		return;
	dmakit_tx_stop(tx);
	tx_free(tx);
}

int dmakit_tx_info(struct dmakit_tx *tx, struct dmakit_tx_info *info)
{
	if (!tx || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->nbufs = tx->nbufs;
	info->bufsize = tx->bufsize;
	info->rate = tx->info.rate;
	memcpy(info->backend, tx->info.backend, sizeof(info->backend));
	return 0;
}

int dmakit_tx_fd(struct dmakit_tx *tx)
{
	return tx ? tx->fd : -EINVAL;
}

/* Read back what the card returned: [reaped, tx_done). */
static void tx_reap(struct dmakit_tx *tx)
{
	uint64_t done = DMAKIT_LOAD_ACQUIRE(&tx->ctrl->tx_done);

	/* the kernel's value, bounded by what we published */
	if (done > tx->head || done < tx->reaped)
		return;
	for (; tx->reaped < done; tx->reaped++) {
		uint32_t slot = (uint32_t)(tx->reaped % tx->nbufs);
		const struct dmakit_desc *d = &tx->descs[slot];
		uint32_t flags = d->flags;

		if (flags & DMAKIT_DESC_F_UNDERRUN)
			tx->st.underrun_flags++;
		if (flags & DMAKIT_DESC_F_CUT) {
			tx->st.cut++;
			continue;
		}
		if (flags & DMAKIT_DESC_F_DMA_ERR) {
			tx->st.errors++;
			continue;
		}
		if (flags & DMAKIT_DESC_F_TRUNC) {
			tx->st.truncated++;
			continue;
		}
		if ((flags & DMAKIT_DESC_F_CRC) && tx->has_crc[slot]) {
			tx->st.crc_checked++;
			if (d->crc32c != tx->want_crc[slot])
				tx->st.crc_mismatches++;
		}
		tx->st.completed++;
		tx->st.bytes += d->len;
	}
}

static int tx_state_error(struct dmakit_tx *tx)
{
	return DMAKIT_LOAD_ACQUIRE(&tx->ctrl->state) == DMAKIT_STATE_ERROR ?
	       -ENODEV : 0;
}

/* Wait for @events on the device, up to the deadline. */
static int tx_wait(struct dmakit_tx *tx, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = tx->fd, .events = events };
	int ms = dmakit_remaining_ms(deadline), ret;

	ret = poll(&pfd, 1, ms);
	if (ret < 0)
		return -errno;
	if (pfd.revents & POLLERR)
		return -ENODEV;
	return ret ? 0 : -ETIMEDOUT;
}

int dmakit_tx_get(struct dmakit_tx *tx, struct dmakit_tx_buf *buf,
		  int timeout_ms)
{
	uint64_t deadline = dmakit_deadline(timeout_ms);
	uint32_t slot;
	int ret;

	if (!tx || !buf)
		return -EINVAL;
	for (;;) {
		ret = tx_state_error(tx);
		if (ret)
			return ret;
		tx_reap(tx);
		if (tx->head - tx->reaped < tx->nbufs)
			break;
		if (!timeout_ms)
			return -EAGAIN;
		ret = tx_wait(tx, POLLOUT, deadline);
		if (ret == -ETIMEDOUT && dmakit_remaining_ms(deadline) > 0)
			continue;
		if (ret)
			return ret;
	}
	slot = (uint32_t)(tx->head % tx->nbufs);
	memset(buf, 0, sizeof(*buf));
	buf->data = tx->data + (size_t)slot * tx->bufsize;
	buf->size = tx->bufsize;
	buf->pos = tx->head;
	return 0;
}

int dmakit_tx_publish(struct dmakit_tx *tx, const struct dmakit_tx_buf *buf)
{
	struct dmakit_desc *d;
	uint32_t slot;

	if (!tx || !buf || buf->pos != tx->head || !buf->len ||
	    buf->len > tx->bufsize || tx->head - tx->reaped >= tx->nbufs)
		return -EINVAL;
	if (tx_state_error(tx))
		return -ENODEV;
	slot = (uint32_t)(tx->head % tx->nbufs);
	d = &tx->descs[slot];
	memset(d, 0, sizeof(*d));
	d->seq = buf->seq;
	d->dev_ts = buf->dev_ts;
	d->len = buf->len;
	d->flags = buf->end ? DMAKIT_DESC_F_END : 0;
	tx->has_crc[slot] = buf->has_crc;
	tx->want_crc[slot] = buf->crc32c;
	tx->head++;
	tx->st.published++;
	/* data and descriptor before head: the kernel load-acquires it */
	DMAKIT_STORE_RELEASE(&tx->ctrl->head, tx->head);
	/* head before the flag; pairs with the kernel's barrier */
	DMAKIT_FULL_BARRIER();
	if (DMAKIT_LOAD_RELAXED(&tx->ctrl->engine_waiting))
		return tx_ioctl(tx->fd, DMAKIT_IOC_KICK, NULL);
	return 0;
}

int dmakit_tx_drain(struct dmakit_tx *tx, int timeout_ms)
{
	uint64_t deadline = dmakit_deadline(timeout_ms);
	int ret;

	if (!tx)
		return -EINVAL;
	for (;;) {
		tx_reap(tx);
		if (tx->reaped == tx->head)
			return 0;
		ret = tx_state_error(tx);
		if (ret)
			return ret;
		ret = tx_wait(tx, POLLIN, deadline);
		if (ret == -ETIMEDOUT && dmakit_remaining_ms(deadline) > 0)
			continue;
		if (ret)
			return ret;
	}
}

int dmakit_tx_start(struct dmakit_tx *tx)
{
	int ret;

	if (!tx)
		return -EINVAL;
	ret = tx_ioctl(tx->fd, DMAKIT_IOC_START, NULL);
	if (!ret)
		tx->started = true;
	return ret;
}

int dmakit_tx_stop(struct dmakit_tx *tx)
{
	int ret;

	if (!tx)
		return -EINVAL;
	if (!tx->started)
		return 0;
	ret = tx_ioctl(tx->fd, DMAKIT_IOC_STOP, NULL);
	tx->started = false;
	tx_reap(tx);
	return ret;
}

int dmakit_tx_stats(struct dmakit_tx *tx, struct dmakit_tx_stats *st)
{
	if (!tx || !st)
		return -EINVAL;
	tx_reap(tx);
	*st = tx->st;
	st->underruns = DMAKIT_LOAD_RELAXED(&tx->ctrl->underruns);
	return 0;
}
