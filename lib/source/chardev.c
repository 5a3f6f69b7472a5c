// SPDX-License-Identifier: MIT
/*
 * The chardev: source: a vendor driver's character device (XDMA/QDMA C2H,
 * Xillybus), a FIFO or any readable file, read straight into the ring.
 *
 *   chardev:/dev/xdma0_c2h_0[,bufsize=512K,nbufs=256,depth=8,policy=drop,maxerr=16]
 *
 * A producer thread keeps up to `depth` read()s in flight through
 * io_uring, each into a ring buffer's own pages (memfd pages from
 * ring_mem.c, ordinary user memory): a driver that DMAs into the caller's
 * pages, as XDMA does, fills dmakit's ring with no copy, and the
 * recorder writes the same pages to disk.  Plain IORING_OP_READ on user
 * addresses, not fixed buffers: vendor drivers pin the iovec's pages
 * themselves and do not accept kernel bvecs.
 *
 * A stream device has no offsets: the order in which concurrent reads take
 * its data is the order of the stream.  So the reads in flight are linked
 * (IOSQE_IO_LINK): the kernel issues each one as soon as the previous one
 * completed, in ring order, never two at once.  A short read ends a chain
 * (the rest come back -ECANCELED having read nothing, and are issued
 * again); a new chain starts when the previous one has completed.
 *
 * Every read has one defined outcome (chardev_classify()):
 *   full buffer      published, host timestamp at completion
 *   short (0<n<bs)   published with len = n and DMAKIT_DESC_F_TRUNC
 *   0 (EOF)          end of stream: state STOPPED, consumers drain and get
 *                    -ENODATA ("source-ended")
 *   EINTR, EAGAIN    nothing moved: read again, no sequence number used
 *   EIO, ETIMEDOUT, ETIME, ERESTARTSYS & co. (kernel-internal 512..516
 *                    that leak from some drivers as "Unknown error 512")
 *                    the device failed or aborted a transfer: one buffer
 *                    counted lost (ctrl->dropped, a sequence number, and
 *                    the next buffer carries F_GAP, lost = n and
 *                    F_DMA_ERR); after maxerr such reads in a row the
 *                    stream fails (state ERROR, consumers get -EIO)
 *   anything else    (ENODEV, ENXIO, EINVAL, EFAULT...) the stream fails
 *                    at once with that error
 * Nothing is invented: a failed read publishes no bytes.
 *
 * Sequence numbers: one per buffer the device delivered or lost, in
 * stream order.  When reliable consumers are full, policy=block stops
 * reading (the device is paused: right for FIFOs and files, the default
 * for them), policy=drop goes on reading into a scratch buffer and counts
 * every such buffer as dropped (a card behind a vendor driver would lose
 * the data inside the card, unseen: the default for character devices).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "chardev.h"
#include "ring_mem.h"

#define CHARDEV_MAX_DEPTH	64
#define CHARDEV_DEFAULT_DEPTH	8
#define CHARDEV_DEFAULT_MAXERR	16
#define CHARDEV_PATH_MAX	4096
/* how long the producer sleeps in one wait for a completion, ms */
#define CHARDEV_POLL_MS		100
/* how long a stop waits for cancelled reads to come back, ms */
#define CHARDEV_STOP_MS		10000
/* kernel-internal restart codes some drivers leak to user space */
#define ERESTARTSYS_		512
#define ERESTART_RESTARTBLOCK_	516

/* One read, from submission to its place in the stream. */
struct chardev_read {
	uint64_t pos;			/* ring position, or ~0: scratch */
	uint32_t filled;		/* bytes already in it (fill mode) */
	int res;			/* result once done */
	bool submitted, done;
};

struct chardev {
	struct ring_mem rm;
	char path[CHARDEV_PATH_MAX];
	int fd;
	uint32_t bufsize, nbufs, depth, policy, maxerr;
	bool policy_given;
	bool fill;			/* a byte stream: fill whole buffers */
	struct io_uring uring;
	bool uring_ready;
	void *scratch;			/* policy=drop: reads nobody can take */

	pthread_t thread;
	bool running;
	uint32_t stop_req;		/* atomic */
	uint64_t cpu_ns;		/* atomic: the thread's CPU time */

	/* producer thread state */
	struct chardev_read q[CHARDEV_MAX_DEPTH];	/* FIFO, stream order */
	unsigned int q_first, q_n;
	unsigned int in_flight;		/* submitted, not completed */
	uint64_t claim_pos;		/* next ring position to read into */
	uint64_t seq, lost, t0;
	bool lost_err;			/* the lost buffers include failures */
	unsigned int errors_in_row;
};

#define SCRATCH_POS UINT64_MAX
/* user_data of cancel requests (reads carry their queue index, < 64) */
#define CANCEL_TAG 0xcafeULL

enum chardev_outcome chardev_classify(int res, uint32_t bufsize)
{
	if (res > 0)
		return (uint32_t)res >= bufsize ? CHARDEV_FULL : CHARDEV_SHORT;
	if (res == 0)
		return CHARDEV_END;
	switch (-res) {
	case EINTR:
	case EAGAIN:
	case ECANCELED:
		return CHARDEV_RETRY;
	case EIO:
	case ETIMEDOUT:
	case ETIME:
		return CHARDEV_LOST;
	default:
		if (-res >= ERESTARTSYS_ && -res <= ERESTART_RESTARTBLOCK_)
			return CHARDEV_LOST;
		return CHARDEV_FATAL;
	}
}

static int chardev_opt(void *ctx, const char *key, const char *val, char *err,
		       size_t errlen)
{
	struct chardev *c = ctx;
	uint64_t v;

	if (!strcmp(key, "bufsize")) {
		if (dmakit_parse_size(val, &v) || v > UINT32_MAX)
			goto bad;
		c->bufsize = (uint32_t)v;
	} else if (!strcmp(key, "nbufs")) {
		if (dmakit_parse_size(val, &v) || v > UINT32_MAX)
			goto bad;
		c->nbufs = (uint32_t)v;
	} else if (!strcmp(key, "depth")) {
		if (dmakit_parse_size(val, &v) || v < 1 ||
		    v > CHARDEV_MAX_DEPTH)
			return dmakit_errf(err, errlen, -EINVAL,
					   "chardev: depth must be 1..%d, not '%s'",
					   CHARDEV_MAX_DEPTH, val);
		c->depth = (uint32_t)v;
	} else if (!strcmp(key, "maxerr")) {
		if (dmakit_parse_size(val, &v) || v < 1 || v > 1000000)
			goto bad;
		c->maxerr = (uint32_t)v;
	} else if (!strcmp(key, "short")) {
		if (!strcmp(val, "fill"))
			c->fill = true;
		else if (!strcmp(val, "flag"))
			c->fill = false;
		else
			return dmakit_errf(err, errlen, -EINVAL,
					   "chardev: short must be 'flag' or 'fill', not '%s'",
					   val);
	} else if (!strcmp(key, "policy")) {
		if (!strcmp(val, "drop"))
			c->policy = DMAKIT_POLICY_DROP;
		else if (!strcmp(val, "block"))
			c->policy = DMAKIT_POLICY_BLOCK;
		else
			return dmakit_errf(err, errlen, -EINVAL,
					   "chardev: policy must be 'drop' or 'block', not '%s'",
					   val);
		c->policy_given = true;
	} else {
		return dmakit_errf(err, errlen, -EINVAL,
				   "chardev: unknown option '%s' (known: bufsize, nbufs, depth, policy, short, maxerr)",
				   key);
	}
	return 0;
bad:
	return dmakit_errf(err, errlen, -EINVAL, "chardev: bad value '%s' for %s (%s)",
			   val, key,
			   !strcmp(key, "maxerr") ? "1..1000000" :
			   !strcmp(key, "bufsize") ? "a multiple of 4K in 4K..64M" :
			   "2..65536");
}

static bool stop_requested(struct chardev *c)
{
	return __atomic_load_n(&c->stop_req, __ATOMIC_ACQUIRE);
}

static void sample_cpu(struct chardev *c)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return;
	__atomic_store_n(&c->cpu_ns, (uint64_t)ts.tv_sec * 1000000000ULL +
			 (uint64_t)ts.tv_nsec, __ATOMIC_RELAXED);
}

static struct chardev_read *q_at(struct chardev *c, unsigned int i)
{
	return &c->q[(c->q_first + i) % CHARDEV_MAX_DEPTH];
}

/*
 * Queue reads up to the depth: into the ring while a slot may be claimed,
 * else (policy drop) into the scratch buffer.  Returns how many were added.
 */
static unsigned int fill_queue(struct chardev *c)
{
	struct dmakit_ring_ctrl *ctrl = c->rm.map;
	unsigned int added = 0;

	while (c->q_n < c->depth) {
		struct chardev_read *r = q_at(c, c->q_n);

		if (dmakit_ring_may_claim(ctrl, c->nbufs, c->claim_pos)) {
			dmakit_ring_claim(ctrl, c->claim_pos);
			r->pos = c->claim_pos++;
		} else if (c->policy == DMAKIT_POLICY_DROP) {
			/* one scratch buffer: the chain reads serially */
			r->pos = SCRATCH_POS;
		} else {
			break;
		}
		r->submitted = r->done = false;
		r->res = 0;
		r->filled = 0;
		c->q_n++;
		added++;
	}
	return added;
}

/* Submit every queued read that is not in flight, as one linked chain. */
static int submit_chain(struct chardev *c, struct dmakit_dev *dev)
{
	struct io_uring_sqe *sqe = NULL;
	unsigned int i, n = 0;
	int ret;

	for (i = 0; i < c->q_n; i++) {
		struct chardev_read *r = q_at(c, i);
		void *buf;

		if (r->submitted)
			continue;
		sqe = io_uring_get_sqe(&c->uring);
		if (!sqe)
			break;
		buf = r->pos == SCRATCH_POS ? c->scratch :
		      dev->data + (size_t)(r->pos % c->nbufs) * c->bufsize;
		/* offset -1: the file position (a stream has none anyway) */
		io_uring_prep_read(sqe, c->fd, (char *)buf + r->filled,
				   c->bufsize - r->filled, (uint64_t)-1);
		io_uring_sqe_set_data64(sqe, (c->q_first + i) % CHARDEV_MAX_DEPTH);
		sqe->flags |= IOSQE_IO_LINK;
		/*
		 * short=flag: issued from io_uring's worker, a blocking read()
		 * as a read loop would make.  Issued inline, a read of a
		 * device that supports non-blocking I/O (/dev/zero,
		 * /dev/urandom) stops at a page whenever this thread has
		 * completion work pending, and each such cut would be flagged
		 * a truncated buffer.  A driver without non-blocking I/O
		 * (XDMA) is issued from the worker anyway; short=fill
		 * continues a cut read, inline.
		 */
		if (!c->fill)
			sqe->flags |= IOSQE_ASYNC;
		r->submitted = true;
		n++;
	}
	if (!n)
		return 0;
	sqe->flags &= (uint8_t)~IOSQE_IO_LINK;	/* the chain ends here */
	do {
		ret = io_uring_submit(&c->uring);
	} while (ret == -EINTR);
	if (ret < 0) {
		/* nothing is in flight: the stream fails with this error */
		for (i = 0; i < c->q_n; i++)
			q_at(c, i)->submitted = false;
		return ret;
	}
	c->in_flight += n;
	return 0;
}

/* Publish ring position @r->pos with @len bytes. */
static void publish(struct chardev *c, struct dmakit_dev *dev,
		    const struct chardev_read *r, uint32_t len, bool failed)
{
	struct dmakit_desc d;
	uint64_t now = dmakit_now_ns();

	memset(&d, 0, sizeof(d));
	d.seq = c->seq++;
	d.dev_ts = now - c->t0;		/* no device clock: host ns */
	d.host_ts = now;
	d.lost = c->lost;
	d.len = len;
	if (len < c->bufsize)
		d.flags |= DMAKIT_DESC_F_TRUNC;
	if (c->lost_err || failed)
		d.flags |= DMAKIT_DESC_F_DMA_ERR;
	dmakit_ring_publish(dev->ctrl, dev->descs, c->nbufs, r->pos, &d);
	c->lost = 0;
	c->lost_err = false;
	ring_mem_wake_consumers(&c->rm, false);
}

static void count_lost(struct chardev *c, bool failed)
{
	dmakit_ring_count_drop(c->rm.map, 1);
	c->seq++;
	c->lost++;
	if (failed)
		c->lost_err = true;
}

/* Reads that came back without moving data are issued again, in order. */
static void requeue_done(struct chardev *c)
{
	unsigned int i;

	for (i = 0; i < c->q_n; i++) {
		struct chardev_read *r = q_at(c, i);

		if (r->done)
			r->submitted = r->done = false;
	}
}

/*
 * True if a read behind the front one was issued and has not come back
 * empty: it holds, or may still get, bytes that follow the front's in the
 * stream.  Whether a short read cancels the reads linked behind it
 * depends on how the kernel issued them, so it is checked, not assumed.
 */
static bool later_read_may_hold_data(struct chardev *c)
{
	unsigned int i;

	for (i = 1; i < c->q_n; i++) {
		const struct chardev_read *r = q_at(c, i);

		if (r->submitted && (!r->done || r->res > 0))
			return true;
	}
	return false;
}

/*
 * Take the completed reads at the front of the queue in stream order.
 * Returns 0 to go on, 1 at the end of the stream, or -errno on failure.
 * (Reads behind a failed or short one in its chain come back cancelled.)
 */
static int retire(struct chardev *c, struct dmakit_dev *dev)
{
	while (c->q_n) {
		struct chardev_read *r = q_at(c, 0);
		enum chardev_outcome o;

		if (!r->done)
			return 0;
		o = chardev_classify(r->res, c->bufsize - r->filled);
		if (o == CHARDEV_RETRY) {
			requeue_done(c);
			return 0;
		}
		if (o == CHARDEV_FULL || o == CHARDEV_SHORT) {
			c->errors_in_row = 0;
			r->filled += (uint32_t)r->res;
			/*
			 * A byte stream: the rest of the buffer next, unless
			 * the bytes that follow went to a later read already:
			 * then this buffer ends here (truncated), nothing is
			 * read over or out of order.
			 */
			if (o == CHARDEV_SHORT && c->fill &&
			    !later_read_may_hold_data(c)) {
				requeue_done(c);
				return 0;
			}
			if (r->pos == SCRATCH_POS)
				count_lost(c, false);	/* nobody could take it */
			else
				publish(c, dev, r, r->filled, false);
			goto next;
		}
		/* the stream ends or fails at this read: keep what came before */
		if (r->pos == SCRATCH_POS) {
			if (r->filled || o == CHARDEV_LOST)
				count_lost(c, o == CHARDEV_LOST);
		} else if (r->filled) {
			/* a DMA-error buffer if the transfer failed midway */
			publish(c, dev, r, r->filled, o != CHARDEV_END);
		} else if (o == CHARDEV_LOST) {
			count_lost(c, true);
		}
		if (o == CHARDEV_END)
			return 1;
		if (o == CHARDEV_FATAL)
			return r->res;
		/* CHARDEV_LOST: the device failed or aborted this transfer */
		if (++c->errors_in_row >= c->maxerr)
			/* a leaked restart code means nothing to users */
			return -r->res >= ERESTARTSYS_ ? -EIO : r->res;
		requeue_done(c);
		if (r->pos != SCRATCH_POS && !r->filled)
			return 0;	/* nothing arrived: the same slot again */
next:
		c->q_first = (c->q_first + 1) % CHARDEV_MAX_DEPTH;
		c->q_n--;
	}
	return 0;
}

/* Collect completions: wait up to @wait_ms for the first one. */
static int reap(struct chardev *c, int wait_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = wait_ms / 1000,
		.tv_nsec = (long long)(wait_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_wait_cqe_timeout(&c->uring, &cqe, &ts);
	if (ret == -ETIME || ret == -EINTR)
		return 0;
	if (ret < 0)
		return ret;
	do {
		struct chardev_read *r = &c->q[io_uring_cqe_get_data64(cqe) %
					       CHARDEV_MAX_DEPTH];

		r->res = cqe->res;
		r->done = true;
		c->in_flight--;
		io_uring_cqe_seen(&c->uring, cqe);
	} while (io_uring_peek_cqe(&c->uring, &cqe) == 0);
	return 0;
}

/* Cancel the reads in flight and wait (bounded) for them to come back. */
static void cancel_all(struct chardev *c)
{
	uint64_t deadline = dmakit_now_ns() + CHARDEV_STOP_MS * 1000000ULL;
	unsigned int i;

	for (i = 0; i < c->q_n; i++) {
		struct chardev_read *r = q_at(c, i);
		struct io_uring_sqe *sqe;

		if (!r->submitted || r->done)
			continue;
		sqe = io_uring_get_sqe(&c->uring);
		if (!sqe)
			break;
		io_uring_prep_cancel64(sqe, (c->q_first + i) % CHARDEV_MAX_DEPTH,
				       0);
		io_uring_sqe_set_data64(sqe, CANCEL_TAG);
	}
	io_uring_submit(&c->uring);
	while (c->in_flight && dmakit_now_ns() < deadline) {
		struct __kernel_timespec ts = { .tv_sec = 0,
						.tv_nsec = 100000000 };
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe_timeout(&c->uring, &cqe, &ts))
			continue;
		if (io_uring_cqe_get_data64(cqe) != CANCEL_TAG) {
			struct chardev_read *r =
				&c->q[io_uring_cqe_get_data64(cqe) %
				      CHARDEV_MAX_DEPTH];

			r->res = cqe->res;
			r->done = true;
			c->in_flight--;
		}
		io_uring_cqe_seen(&c->uring, cqe);
	}
}

/*
 * At a stop, short=fill may hold a buffer partly filled, its read for the
 * rest cancelled: those bytes were read from the device and are
 * published as a truncated buffer, not dropped.
 */
static void publish_partial(struct chardev *c, struct dmakit_dev *dev)
{
	struct chardev_read *r;

	if (!c->q_n)
		return;
	r = q_at(c, 0);
	if (r->pos == SCRATCH_POS || !r->filled || (r->submitted && !r->done))
		return;		/* nothing kept, or the kernel may still write */
	publish(c, dev, r, r->filled, false);
	c->q_first = (c->q_first + 1) % CHARDEV_MAX_DEPTH;
	c->q_n--;
}

static void *producer(void *arg)
{
	struct dmakit_dev *dev = arg;
	struct chardev *c = dev->priv;
	uint32_t end_state = DMAKIT_STATE_STOPPED;
	unsigned int loops = 0;
	sigset_t all;
	int ret = 0;

	/* signals belong to the application's threads */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	c->t0 = dmakit_now_ns();

	while (!stop_requested(c)) {
		if (++loops % 64 == 0)
			sample_cpu(c);
		if (!c->in_flight) {
			fill_queue(c);
			if (!c->q_n) {
				/* policy=block and the consumers are full */
				ring_mem_wait_for_space(&c->rm, c->claim_pos,
							&c->stop_req);
				continue;
			}
			ret = submit_chain(c, dev);
			if (ret)
				break;
		}
		ret = reap(c, CHARDEV_POLL_MS);
		if (ret)
			break;
		ret = retire(c, dev);
		if (ret)
			break;
	}
	if (c->in_flight) {
		/* a stop: data that arrives meanwhile is still published */
		cancel_all(c);
		if (ret == 0)
			ret = retire(c, dev);
	}
	if (ret == 0)
		publish_partial(c, dev);
	sample_cpu(c);
	if (ret < 0) {
		dev->error = ret;
		end_state = DMAKIT_STATE_ERROR;
	}
	/* buffers lost at the very end are in ctrl->dropped only */
	ring_mem_end(&c->rm, end_state);
	return NULL;
}

static void chardev_free(struct chardev *c)
{
	if (c->uring_ready)
		io_uring_queue_exit(&c->uring);
	if (c->fd >= 0)
		close(c->fd);
	ring_mem_destroy(&c->rm);
	free(c->scratch);
	free(c);
}

static int chardev_open(struct dmakit_dev *dev, const char *args, char *err,
			size_t errlen)
{
	struct ring_mem_geo geo;
	const char *comma = strchr(args, ',');
	size_t plen = comma ? (size_t)(comma - args) : strlen(args);
	struct chardev *c;
	struct stat st;
	int ret;

	if (!plen || plen >= CHARDEV_PATH_MAX)
		return dmakit_errf(err, errlen, -EINVAL,
				   "chardev: give a path, e.g. chardev:/dev/xdma0_c2h_0");
	c = calloc(1, sizeof(*c));
	if (!c)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	ring_mem_init(&c->rm, NULL);
	c->fd = -1;
	memcpy(c->path, args, plen);
	c->bufsize = 512 * 1024;
	c->nbufs = 256;
	c->depth = CHARDEV_DEFAULT_DEPTH;
	c->maxerr = CHARDEV_DEFAULT_MAXERR;
	ret = dmakit_parse_opts(comma ? comma + 1 : "", err, errlen,
				chardev_opt, c);
	if (ret)
		goto fail;
	if (c->depth >= c->nbufs)
		c->depth = c->nbufs > 1 ? c->nbufs - 1 : 1;

	/* a FIFO opens for reading once it has a writer: a signal ends the wait */
	c->fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0 && errno == EINTR) {
		ret = dmakit_errf(err, errlen, -EINTR,
				  "chardev: stopped while waiting for %s to open (a FIFO opens once it has a writer): nothing was read",
				  c->path);
		goto fail;
	}
	if (c->fd < 0) {
		ret = dmakit_errf(err, errlen, -errno, "chardev: open %s: %s",
				  c->path, strerror(errno));
		goto fail;
	}
	if (fstat(c->fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		ret = dmakit_errf(err, errlen, -EINVAL,
				  "chardev: %s is not a readable device or file",
				  c->path);
		goto fail;
	}
	/* a card loses what it cannot hand over; a FIFO or file just waits */
	if (!c->policy_given)
		c->policy = S_ISCHR(st.st_mode) ? DMAKIT_POLICY_DROP :
						  DMAKIT_POLICY_BLOCK;

	memset(&geo, 0, sizeof(geo));
	geo.nbufs = c->nbufs;
	geo.bufsize = c->bufsize;
	geo.policy = c->policy;
	geo.payload = DMAKIT_PAYLOAD_NONE;
	geo.dev_clock_hz = 1000000000ULL;
	geo.stop = dev->open_stop;
	ret = ring_mem_open(&c->rm, &geo, "chardev", err, errlen);
	if (ret)
		goto fail;
	if (c->policy == DMAKIT_POLICY_DROP &&
	    posix_memalign(&c->scratch, 4096, c->bufsize)) {
		c->scratch = NULL;
		ret = dmakit_errf(err, errlen, -ENOMEM, "chardev: out of memory");
		goto fail;
	}
	ret = io_uring_queue_init(CHARDEV_MAX_DEPTH * 2, &c->uring, 0);
	if (ret) {
		ret = dmakit_errf(err, errlen, ret,
				  "chardev: io_uring setup: %s (needs Linux 5.6+ and io_uring enabled)",
				  strerror(-ret));
		goto fail;
	}
	c->uring_ready = true;
	dev->priv = c;
	ring_mem_set_dev(dev, &c->rm, "chardev");
	return 0;
fail:
	chardev_free(c);
	return ret;
}

static int chardev_stop(struct dmakit_dev *dev)
{
	struct chardev *c = dev->priv;

	if (!c->running)
		return 0;
	__atomic_store_n(&c->stop_req, 1, __ATOMIC_RELEASE);
	ring_mem_wake_producer(&c->rm);
	pthread_join(c->thread, NULL);
	c->running = false;
	return 0;
}

static void chardev_close(struct dmakit_dev *dev)
{
	chardev_stop(dev);
	chardev_free(dev->priv);
}

static int chardev_start(struct dmakit_dev *dev)
{
	struct chardev *c = dev->priv;
	int ret;

	if (c->running || dev->ctrl->state != DMAKIT_STATE_IDLE)
		return -EALREADY;
	ring_mem_start(&c->rm);
	ret = pthread_create(&c->thread, NULL, producer, dev);
	if (ret) {
		DMAKIT_STORE_RELEASE(&dev->ctrl->state, DMAKIT_STATE_IDLE);
		return -ret;
	}
	c->running = true;
	return 0;
}

static uint64_t chardev_producer_cpu_ns(struct dmakit_dev *dev)
{
	return __atomic_load_n(&((struct chardev *)dev->priv)->cpu_ns,
			       __ATOMIC_RELAXED);
}

const struct dmakit_backend dmakit_chardev_backend = {
	.name = "chardev",
	.open = chardev_open,
	.close = chardev_close,
	.start = chardev_start,
	.stop = chardev_stop,
	.consumer_attach = ring_mem_consumer_attach,
	.consumer_detach = ring_mem_consumer_detach,
	.wait = ring_mem_wait,
	.released = ring_mem_released,
	.producer_cpu_ns = chardev_producer_cpu_ns,
};
