// SPDX-License-Identifier: MIT
/*
 * The default engine: io_uring O_DIRECT writes straight from the ring's
 * pages (zero copy), several in flight.  The pool is registered once as
 * fixed buffers so the kernel does not pin and unpin 128 pages for every
 * 512 KiB write; where the kernel refuses (EOPNOTSUPP for driver mappings
 * on older kernels, ENOMEM over RLIMIT_MEMLOCK) plain WRITEs are used and
 * a notice says so.  Short writes are continued; EAGAIN is retried.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "sink.h"

/* io_uring limits for fixed buffers: 1 GiB each, 16384 of them */
#define FIXED_MAX_BYTES	(1ULL << 30)
#define FIXED_MAX_BUFS	16384

struct uring {
	struct io_uring ring;
	bool fixed;
	bool defer_taskrun;
	uint32_t per_chunk;		/* pool buffers per fixed buffer */
	const unsigned char *pool;
	size_t pool_len;
	bool unsubmitted;		/* SQEs queued, not yet submitted */
};

static int setup_ring(struct uring *u, unsigned int entries)
{
	/* fewest context switches first, then what older kernels take */
	static const unsigned int flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	size_t i;
	int ret = -EINVAL;

	for (i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i];
		ret = io_uring_queue_init_params(entries, &u->ring, &p);
		if (ret == 0) {
			u->defer_taskrun = flag_sets[i] &
					   IORING_SETUP_DEFER_TASKRUN;
			return 0;
		}
		if (ret != -EINVAL)
			break;
	}
	return ret;
}

/* Register the pool as fixed buffers, each up to 1 GiB of whole buffers. */
static void register_pool(struct dmakit_sink *s, struct uring *u)
{
	const struct dmakit_sink_opts *o = &s->opts;
	struct iovec *iov;
	uint32_t n, i;
	int ret;

	if (!o->pool || !o->nbufs ||
	    o->pool_len < (size_t)o->nbufs * s->bufsize)
		return;
	u->per_chunk = (uint32_t)(FIXED_MAX_BYTES / s->bufsize);
	if (!u->per_chunk)
		u->per_chunk = 1;
	n = (o->nbufs + u->per_chunk - 1) / u->per_chunk;
	if (n > FIXED_MAX_BUFS)
		return;
	iov = calloc(n, sizeof(*iov));
	if (!iov)
		return;
	for (i = 0; i < n; i++) {
		uint32_t first = i * u->per_chunk;
		uint32_t cnt = o->nbufs - first < u->per_chunk ?
			       o->nbufs - first : u->per_chunk;

		iov[i].iov_base = (unsigned char *)o->pool +
				  (size_t)first * s->bufsize;
		iov[i].iov_len = (size_t)cnt * s->bufsize;
	}
	ret = io_uring_register_buffers(&u->ring, iov, n);
	free(iov);
	if (ret) {
		dmakit_sink_notice(s, "io_uring cannot register the buffers (%s): using plain io_uring writes",
				   dmakit_strerror(ret));
		return;
	}
	u->fixed = true;
	u->pool = o->pool;
	u->pool_len = (size_t)o->nbufs * s->bufsize;
	s->registered = true;
}

static int uring_open(struct dmakit_sink *s, char *err, size_t errlen)
{
	struct uring *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	/* room for resubmitted remainders of short writes as well */
	ret = setup_ring(u, s->depth * 2);
	if (ret) {
		free(u);
		return dmakit_errf(err, errlen, ret, "io_uring: %s%s",
				   dmakit_strerror(ret),
				   ret == -EPERM || ret == -ENOSYS ?
				   " (io_uring disabled? try --engine pwrite)" :
				   "");
	}
	s->priv = u;
	register_pool(s, u);
	return 0;
}

/* Queue the (rest of the) write of @io. */
static int queue_write(struct dmakit_sink *s, struct uring *u,
		       struct sink_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	const unsigned char *p = io->data + io->done;
	uint32_t len = io->len - io->done;
	uint64_t off = io->offset + io->done;

	if (!sqe) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return -EAGAIN;
	}
	if (u->fixed && io->pool_index >= 0 && p >= u->pool &&
	    p + len <= u->pool + u->pool_len)
		io_uring_prep_write_fixed(sqe, s->fd, p, len, off,
					  (int)((uint32_t)io->pool_index /
						u->per_chunk));
	else
		io_uring_prep_write(sqe, s->fd, p, len, off);
	io_uring_sqe_set_data(sqe, io);
	return 0;
}

static int push(struct uring *u)
{
	int ret = io_uring_submit(&u->ring);

	/* on a transient failure the SQEs stay queued: retried later */
	u->unsubmitted = ret < 0;
	if (ret < 0 && ret != -EAGAIN && ret != -EBUSY && ret != -EINTR)
		return ret;
	return 0;
}

/*
 * With few writes in flight, start this one now: the disk may be idle.
 * With many, leave it queued: dmakit_sink_reap() starts it in the same
 * io_uring_enter that waits for a completion, one system call per buffer.
 */
static int uring_submit(struct dmakit_sink *s, struct sink_io *io)
{
	struct uring *u = s->priv;
	int ret = queue_write(s, u, io);

	if (ret)
		return ret;
	if (s->count <= (s->depth + 1) / 2)
		return push(u);
	u->unsubmitted = true;
	return 0;
}

static void handle_cqe(struct dmakit_sink *s, struct uring *u,
		       const struct io_uring_cqe *cqe)
{
	struct sink_io *io = io_uring_cqe_get_data(cqe);
	int res = cqe->res;

	if (res == -EAGAIN || res == -EINTR) {
		if (!queue_write(s, u, io) && !push(u))
			return;
		res = -EIO;
	} else if (res == 0) {
		res = -ENOSPC;		/* no progress: nothing more fits */
	} else if (res > 0) {
		io->done += (uint32_t)res;
		if (io->done < io->len) {
			if (!queue_write(s, u, io) && !push(u))
				return;
			res = -EIO;
		} else {
			res = 0;
		}
	}
	dmakit_sink_io_done(s, io, res);
}

static int uring_wait(struct dmakit_sink *s, unsigned int min)
{
	struct uring *u = s->priv;
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int ret = 0;

	if (min && io_uring_cq_ready(&u->ring) >= min)
		min = 0;	/* already there */
	if (u->unsubmitted) {
		ret = min ? io_uring_submit_and_wait(&u->ring, min) :
			    io_uring_submit_and_get_events(&u->ring);
		u->unsubmitted = ret < 0 && ret != -EINTR && ret != -ETIME;
		if (ret >= 0)
			ret = 0;
	} else if (min) {
		ret = io_uring_wait_cqe_nr(&u->ring, &cqe, min);
	} else if (u->defer_taskrun) {
		/* completions are only posted when this thread asks */
		io_uring_get_events(&u->ring);
	}
	if (ret == -ETIME)
		ret = -EINTR;
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		handle_cqe(s, u, cqe);
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
	return ret == -EINTR ? -EINTR : 0;
}

static void uring_drain(struct dmakit_sink *s)
{
	(void)s;	/* O_DIRECT: complete means written */
}

static void uring_close(struct dmakit_sink *s)
{
	struct uring *u = s->priv;

	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
	s->priv = NULL;
}

const struct sink_engine dmakit_sink_uring = {
	.name = "uring",
	.direct = true,
	.open = uring_open,
	.submit = uring_submit,
	.wait = uring_wait,
	.drain = uring_drain,
	.close = uring_close,
};
