// SPDX-License-Identifier: MIT
/*
 * The simulated card ("sim"): a producer thread that "DMAs" the verifiable
 * payload into a ring in memfd (shmem) pages at a configured rate, plus a
 * small transaction engine over simulated card memory.
 *
 * The ring lives in ordinary struct-page backed memory, so consumers can
 * hand its pages straight to O_DIRECT, io_uring (also as registered
 * buffers) and MSG_ZEROCOPY, exactly like the driver's ring.
 *
 * With name=NAME the ring is shared between processes (lib/source/sim_shared.c):
 * the first opener produces, later openers only attach consumers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "sim_shared.h"

#define SIM_MAX_XFERS 64
/* How often a shared ring's owner looks for consumers of dead processes. */
#define SIM_RECLAIM_NS 500000000ULL
/* How often an attached consumer checks that the owner is alive, ms. */
#define SIM_OWNER_CHECK_MS 500

struct sim_xfer {
	int64_t id;			/* 0: free */
	uint64_t done_ns;		/* when the simulated engine finishes */
	size_t len;
	int status;
};

struct sim {
	/* options */
	uint32_t bufsize, nbufs, policy;
	uint64_t rate;			/* bytes/s, 0 = max */
	uint64_t count;			/* buffers to produce, 0 = unlimited */
	uint64_t seed;
	bool crc;
	/* test knobs: every Nth buffer published empty / short / as a DMA
	 * error, as a real card does on a bus fault (0: never) */
	uint64_t empty_every, trunc_every, dmaerr_every;
	uint64_t cardmem_size;
	uint64_t xfer_rate;		/* bytes/s of the transaction engine */
	uint64_t xfer_lat_ns;		/* fixed latency per transaction */
	char name[SIM_SHARED_NAME_MAX + 1];	/* shared ring, "" if private */
	bool geometry_given;		/* bufsize/nbufs/policy set explicitly */

	bool attached;			/* another process owns the producer */
	bool published;			/* we own s->name in /dev/shm */
	pid_t pid;
	int remote_fd[DMAKIT_RING_MAX_CONSUMERS];	/* producer: FIFOs */
	uint32_t remote_pid[DMAKIT_RING_MAX_CONSUMERS];
	uint64_t next_reclaim_ns;

	int memfd;
	void *map;
	size_t map_size;
	pthread_t thread;
	bool running;			/* producer thread exists */
	bool stop_req;			/* atomic: ask the thread to stop */
	int event_fd[DMAKIT_RING_MAX_CONSUMERS];

	/* transactions */
	pthread_mutex_t xfer_lock;
	unsigned char *cardmem;
	struct sim_xfer xfers[SIM_MAX_XFERS];
	int64_t next_id;
	uint64_t engine_free_ns;	/* the engine runs one transfer at a time */

	uint64_t gen_ns_per_buf;	/* measured cost of filling one buffer */
	uint64_t cpu_ns;		/* atomic: the producer thread's CPU time */
	uint64_t wake_tail;		/* atomic: BLOCK producer resumes at this tail */
	uint32_t refill_batch;		/* free slots a BLOCK producer waits for */
	bool fast_fill;			/* the CPU has a CRC32C instruction */
};

#define SIM_CPU_EVERY	32		/* buffers between CPU time samples */

/* Publish the producer thread's CPU time (a syscall: not every buffer). */
static void sample_cpu(struct sim *s)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return;
	__atomic_store_n(&s->cpu_ns, (uint64_t)ts.tv_sec * 1000000000ULL +
			 (uint64_t)ts.tv_nsec, __ATOMIC_RELAXED);
}

static bool every(uint64_t n, uint64_t seq)
{
	return n && seq % n == n - 1;
}

/* The test knobs: publish this buffer as a faulty card would. */
static void flaw(const struct sim *s, struct dmakit_desc *d,
		 const unsigned char *data)
{
	if (every(s->empty_every, d->seq))
		d->len = 0;
	else if (every(s->trunc_every, d->seq))
		d->len = s->bufsize / 2;
	else if (!every(s->dmaerr_every, d->seq))
		return;
	if (every(s->dmaerr_every, d->seq))
		d->flags |= DMAKIT_DESC_F_DMA_ERR;
	if (d->len < s->bufsize)
		d->flags |= DMAKIT_DESC_F_TRUNC;
	if (d->flags & DMAKIT_DESC_F_CRC)
		d->crc32c = dmakit_crc32c(0, data, d->len);
}

static int sim_opt(void *ctx, const char *key, const char *val, char *err,
		   size_t errlen)
{
	struct sim *s = ctx;
	uint64_t v;

	if (!strcmp(key, "bufsize")) {
		if (dmakit_parse_size(val, &v) || v > UINT32_MAX)
			goto bad;
		s->bufsize = (uint32_t)v;
		s->geometry_given = true;
	} else if (!strcmp(key, "nbufs")) {
		if (dmakit_parse_size(val, &v) || v > UINT32_MAX)
			goto bad;
		s->nbufs = (uint32_t)v;
		s->geometry_given = true;
	} else if (!strcmp(key, "name")) {
		if (!sim_shared_name_ok(val))
			return dmakit_errf(err, errlen, -EINVAL,
					   "sim: bad name '%s' (1-64 of A-Z a-z 0-9 _ - .)",
					   val);
		snprintf(s->name, sizeof(s->name), "%s", val);
	} else if (!strcmp(key, "rate")) {
		if (dmakit_parse_rate(val, &v))
			goto bad;
		if (v == 0 && strcmp(val, "max"))
			return dmakit_errf(err, errlen, -EINVAL,
					   "sim: rate must be > 0 or 'max'");
		s->rate = v;
	} else if (!strcmp(key, "policy")) {
		if (!strcmp(val, "drop"))
			s->policy = DMAKIT_POLICY_DROP;
		else if (!strcmp(val, "block"))
			s->policy = DMAKIT_POLICY_BLOCK;
		else
			return dmakit_errf(err, errlen, -EINVAL,
					   "sim: policy must be 'drop' or 'block', not '%s'",
					   val);
		s->geometry_given = true;
	} else if (!strcmp(key, "count")) {
		if (dmakit_parse_size(val, &s->count))
			goto bad;
	} else if (!strcmp(key, "seed")) {
		if (dmakit_parse_size(val, &s->seed))
			goto bad;
	} else if (!strcmp(key, "crc")) {
		if (!strcmp(val, "on") || !strcmp(val, "1"))
			s->crc = true;
		else if (!strcmp(val, "off") || !strcmp(val, "0"))
			s->crc = false;
		else
			return dmakit_errf(err, errlen, -EINVAL,
					   "sim: crc must be 'on' or 'off'");
	} else if (!strcmp(key, "empty_every")) {
		if (dmakit_parse_size(val, &s->empty_every))
			goto bad;
	} else if (!strcmp(key, "trunc_every")) {
		if (dmakit_parse_size(val, &s->trunc_every))
			goto bad;
	} else if (!strcmp(key, "dmaerr_every")) {
		if (dmakit_parse_size(val, &s->dmaerr_every))
			goto bad;
	} else if (!strcmp(key, "cardmem")) {
		if (dmakit_parse_size(val, &v) || v == 0 || v > (1ULL << 30))
			goto bad;
		s->cardmem_size = v;
	} else if (!strcmp(key, "xfer_rate")) {
		if (dmakit_parse_rate(val, &s->xfer_rate))
			goto bad;
	} else if (!strcmp(key, "xfer_lat")) {
		/* microseconds */
		if (dmakit_parse_size(val, &v) || v > 60000000)
			goto bad;
		s->xfer_lat_ns = v * 1000;
	} else {
		return dmakit_errf(err, errlen, -EINVAL,
				   "sim: unknown option '%s' (known: bufsize, nbufs, rate, policy, count, crc, seed, name, cardmem, xfer_rate, xfer_lat, empty_every, trunc_every, dmaerr_every)",
				   key);
	}
	return 0;
bad:
	return dmakit_errf(err, errlen, -EINVAL, "sim: bad value '%s' for %s",
			   val, key);
}

/* Consume pending wakeups of an eventfd or a wake FIFO. */
static void drain_fd(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void sleep_until(uint64_t t_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t_ns / 1000000000ULL),
		.tv_nsec = (long)(t_ns % 1000000000ULL),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* Fill one buffer with the payload of @seq; returns its CRC32C if asked. */
static uint32_t fill_payload_portable(uint64_t *w, uint32_t bufsize,
				      uint64_t seq, bool crc)
{
	uint64_t base = seq * DMAKIT_PAYLOAD_K1;
	uint64_t k = DMAKIT_PAYLOAD_K2;
	size_t n = bufsize / 8, i;

	/* dmakit_payload_word(seq, i) == base ^ ((i + 1) * K2) */
	for (i = 0; i < n; i++) {
		w[i] = base ^ k;
		k += DMAKIT_PAYLOAD_K2;
	}
	return crc ? dmakit_crc32c(0, w, bufsize) : 0;
}

#if defined(__x86_64__)
#include <immintrin.h>

/*
 * The same in one pass, as cheap as a card should be for the host: each
 * word is generated, folded into the CRC (SSE4.2) and stored with a
 * non-temporal store (the ring is read by the disk or the network, not by
 * this CPU: no read-for-ownership, no cache pollution).  2.5x faster than
 * fill-then-CRC.
 */
__attribute__((target("sse4.2")))
static uint32_t fill_payload_x86(uint64_t *w, uint32_t bufsize, uint64_t seq,
				 bool crc)
{
	uint64_t base = seq * DMAKIT_PAYLOAD_K1;
	uint64_t k = DMAKIT_PAYLOAD_K2, c = 0xffffffffU;
	size_t n = bufsize / 8, i;

	if (crc) {
		for (i = 0; i < n; i++) {
			uint64_t v = base ^ k;

			_mm_stream_si64((long long *)&w[i], (long long)v);
			c = __builtin_ia32_crc32di(c, v);
			k += DMAKIT_PAYLOAD_K2;
		}
	} else {
		for (i = 0; i < n; i++) {
			_mm_stream_si64((long long *)&w[i],
					(long long)(base ^ k));
			k += DMAKIT_PAYLOAD_K2;
		}
	}
	/* non-temporal stores are not ordered by the release of head */
	_mm_sfence();
	return crc ? ~(uint32_t)c : 0;
}
#endif

static uint32_t fill_payload(struct sim *s, uint64_t *w, uint64_t seq)
{
#if defined(__x86_64__)
	if (s->fast_fill)
		return fill_payload_x86(w, s->bufsize, seq, s->crc);
#endif
	return fill_payload_portable(w, s->bufsize, seq, s->crc);
}

/*
 * Wake a consumer of a shared ring that lives in another process, through
 * its slot's FIFO (opened on first use, reopened when the slot changes
 * hands).  A full FIFO means the consumer has a wakeup pending already.
 */
static void wake_remote(struct sim *s, unsigned int i, uint32_t owner)
{
	char one = 1;

	if (s->remote_fd[i] < 0 || s->remote_pid[i] != owner) {
		if (s->remote_fd[i] >= 0)
			close(s->remote_fd[i]);
		s->remote_fd[i] = sim_shared_wake_fd(s->name, (int)i, false);
		if (s->remote_fd[i] < 0)
			return;		/* not created yet: nobody waits */
		s->remote_pid[i] = owner;
	}
	if (write(s->remote_fd[i], &one, 1) < 0) {
		/* EAGAIN: FIFO full, the consumer is being woken anyway */
	}
}

static void wake_consumers(struct sim *s, struct dmakit_ring_ctrl *ctrl,
			   bool all)
{
	unsigned int i;

	DMAKIT_FULL_BARRIER();
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		struct dmakit_ring_consumer *cs = &ctrl->consumers[i];
		int fd = __atomic_load_n(&s->event_fd[i], __ATOMIC_ACQUIRE);
		uint64_t one = 1;
		uint32_t owner;

		if (!all && !DMAKIT_LOAD_RELAXED(&cs->need_wakeup))
			continue;
		owner = DMAKIT_LOAD_RELAXED(&cs->owner);
		if (s->name[0] && owner != (uint32_t)s->pid &&
		    DMAKIT_LOAD_ACQUIRE(&cs->state) != DMAKIT_CONSUMER_FREE) {
			wake_remote(s, i, owner);
			continue;
		}
		if (fd < 0)
			continue;
		if (write(fd, &one, sizeof(one)) < 0) {
			/* counter saturation only: the consumer is awake */
		}
	}
}

/*
 * A shared ring's consumers may belong to processes that were killed
 * without detaching: free their slots, or a dead reliable consumer would
 * make the producer drop (or wait) forever.
 */
static void reclaim_dead_consumers(struct sim *s, struct dmakit_ring_ctrl *ctrl)
{
	uint64_t now = dmakit_now_ns();
	unsigned int i;

	if (!s->name[0] || now < s->next_reclaim_ns)
		return;
	s->next_reclaim_ns = now + SIM_RECLAIM_NS;
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		struct dmakit_ring_consumer *cs = &ctrl->consumers[i];
		uint32_t state = DMAKIT_LOAD_ACQUIRE(&cs->state);
		uint32_t owner = DMAKIT_LOAD_RELAXED(&cs->owner);

		if (state == DMAKIT_CONSUMER_FREE || owner == (uint32_t)s->pid ||
		    owner == 0)
			continue;
		if (kill((pid_t)owner, 0) < 0 && errno == ESRCH)
			__atomic_compare_exchange_n(&cs->state, &state,
						    DMAKIT_CONSUMER_FREE, false,
						    __ATOMIC_SEQ_CST,
						    __ATOMIC_RELAXED);
	}
}

static bool stop_requested(struct sim *s)
{
	return __atomic_load_n(&s->stop_req, __ATOMIC_ACQUIRE);
}

/*
 * BLOCK policy: sleep until a consumer releases (or a stop request).  Like
 * a DMA engine refilling its descriptors, the producer asks to be woken
 * only once refill_batch slots are free, not for every released buffer:
 * fewer wakeups for both sides.
 */
static void wait_for_space(struct sim *s, struct dmakit_ring_ctrl *ctrl,
			   uint64_t pos)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000000 };

	__atomic_store_n(&s->wake_tail, pos - s->nbufs + s->refill_batch,
			 __ATOMIC_RELAXED);
	DMAKIT_STORE_RELEASE(&ctrl->producer_waiting, 1);
	DMAKIT_FULL_BARRIER();
	if (!dmakit_ring_may_claim(ctrl, s->nbufs, pos) && !stop_requested(s))
		futex(&ctrl->producer_waiting, FUTEX_WAIT, 1, &ts);
	DMAKIT_STORE_RELAXED(&ctrl->producer_waiting, 0);
}

static void *producer(void *arg)
{
	struct dmakit_dev *dev = arg;
	struct sim *s = dev->priv;
	struct dmakit_ring_ctrl *ctrl = dev->ctrl;
	uint64_t pos = DMAKIT_LOAD_RELAXED(&ctrl->head);
	uint64_t seq = s->seed, produced = 0, lost = 0;
	uint64_t t0 = dmakit_now_ns();
	/* ns per buffer at the configured rate (0 = as fast as possible) */
	double buf_ns = s->rate ? (double)s->bufsize * 1e9 / (double)s->rate : 0;
	sigset_t all;

	/* signals belong to the application's threads, not the card */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	while (!stop_requested(s)) {
		struct dmakit_desc d;
		uint64_t due, now, g0;
		uint32_t crc;

		if (s->count && produced >= s->count)
			break;
		reclaim_dead_consumers(s, ctrl);
		if (produced % SIM_CPU_EVERY == 0)
			sample_cpu(s);
		/* the card produces buffer n at t0 + n * buf_ns */
		due = t0 + (uint64_t)((double)(seq - s->seed) * buf_ns);
		now = dmakit_now_ns();
		if (buf_ns > 0 && now < due)
			sleep_until(due);

		if (!dmakit_ring_may_claim(ctrl, s->nbufs, pos)) {
			if (s->policy == DMAKIT_POLICY_BLOCK) {
				wait_for_space(s, ctrl, pos);
				/* a paused source resumes at its rate, no burst */
				t0 = dmakit_now_ns() -
				     (uint64_t)((double)(seq - s->seed) * buf_ns);
				continue;
			}
			/*
			 * A real card loses the buffer.  At rate=max model it
			 * arriving as fast as the generator fills buffers.
			 */
			dmakit_ring_count_drop(ctrl, 1);
			lost++;
			seq++;
			produced++;
			if (buf_ns == 0)
				sleep_until(dmakit_now_ns() + s->gen_ns_per_buf);
			continue;
		}
		dmakit_ring_claim(ctrl, pos);
		g0 = dmakit_now_ns();
		crc = fill_payload(s, (uint64_t *)(dev->data +
				(size_t)(pos % s->nbufs) * s->bufsize), seq);
		now = dmakit_now_ns();
		s->gen_ns_per_buf = (s->gen_ns_per_buf * 7 + (now - g0)) / 8;
		memset(&d, 0, sizeof(d));
		d.seq = seq;
		/* device clock: ns since start on the card's own schedule */
		d.dev_ts = buf_ns > 0 ? due - t0 : now - t0;
		d.host_ts = now;
		d.lost = lost;
		d.len = s->bufsize;
		d.flags = s->crc ? DMAKIT_DESC_F_CRC : 0;
		d.crc32c = crc;
		flaw(s, &d, dev->data + (size_t)(pos % s->nbufs) * s->bufsize);
		dmakit_ring_publish(ctrl, dev->descs, s->nbufs, pos, &d);
		lost = 0;
		pos++;
		seq++;
		produced++;
		wake_consumers(s, ctrl, false);
	}
	sample_cpu(s);
	/* buffers dropped at the very end have no successor to carry them */
	DMAKIT_STORE_RELEASE(&ctrl->state, DMAKIT_STATE_STOPPED);
	wake_consumers(s, ctrl, true);
	return NULL;
}

/* The device fields every opener derives from the ring's ctrl page. */
static void set_dev_fields(struct dmakit_dev *dev, struct sim *s)
{
	struct dmakit_ring_ctrl *ctrl = s->map;

	dev->priv = s;
	dev->ctrl = ctrl;
	dev->descs = (struct dmakit_desc *)((char *)s->map + ctrl->desc_offset);
	dev->data = (unsigned char *)s->map + ctrl->data_offset;
	snprintf(dev->geo.kind, sizeof(dev->geo.kind), "sim");
	dev->geo.bufsize = ctrl->bufsize;
	dev->geo.nbufs = ctrl->nbufs;
	dev->geo.policy = ctrl->policy;
	dev->geo.payload = ctrl->payload;
	dev->geo.dev_clock_hz = ctrl->dev_clock_hz;
	dev->geo.data = dev->data;
	dev->geo.data_len = (size_t)ctrl->nbufs * ctrl->bufsize;
	dev->geo.rate = s->rate;
}

/* Create, map and initialise a new ring (private memfd or shared file). */
static int create_ring(struct sim *s, char *err, size_t errlen)
{
	struct dmakit_ring_ctrl *ctrl;

	s->map_size = dmakit_ring_map_size(s->nbufs, s->bufsize);
	s->memfd = s->name[0] ? sim_shared_create_fd() :
		   memfd_create("dmakit-sim", MFD_CLOEXEC);
	if (s->memfd < 0)
		return dmakit_errf(err, errlen, s->name[0] ? s->memfd : -errno,
				   "sim: cannot create the ring: %s",
				   dmakit_strerror(s->name[0] ? s->memfd : -errno));
	if (ftruncate(s->memfd, (off_t)s->map_size))
		return dmakit_errf(err, errlen, -errno,
				   "sim: cannot size a %zu-byte ring: %s",
				   s->map_size, strerror(errno));
	/* populate now: the producer must not page-fault in its hot loop */
	s->map = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_POPULATE, s->memfd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return dmakit_errf(err, errlen, -errno,
				   "sim: cannot map a %zu-byte ring: %s",
				   s->map_size, strerror(errno));
	}
	ctrl = s->map;
	ctrl->magic = DMAKIT_RING_MAGIC;
	ctrl->version = DMAKIT_RING_VERSION;
	ctrl->ctrl_size = DMAKIT_RING_CTRL_SIZE;
	ctrl->nbufs = s->nbufs;
	ctrl->bufsize = s->bufsize;
	ctrl->desc_offset = DMAKIT_RING_CTRL_SIZE;
	ctrl->data_offset = DMAKIT_RING_CTRL_SIZE +
			    dmakit_ring_desc_bytes(s->nbufs);
	ctrl->map_size = s->map_size;
	ctrl->policy = s->policy;
	ctrl->payload = DMAKIT_PAYLOAD_SIM;
	ctrl->dev_clock_hz = 1000000000ULL;
	ctrl->state = DMAKIT_STATE_IDLE;
	return 0;
}

static void unmap_ring(struct sim *s)
{
	if (s->map)
		munmap(s->map, s->map_size);
	if (s->memfd >= 0)
		close(s->memfd);
	s->map = NULL;
	s->memfd = -1;
}

/* Map the ring a live owner published under s->name, as open as @fd. */
static int attach_shared(struct sim *s, int fd, char *err, size_t errlen)
{
	struct dmakit_ring_ctrl *c;
	struct stat st;

	s->memfd = fd;
	if (fstat(fd, &st) < 0)
		return dmakit_errf(err, errlen, -errno, "sim:name=%s: %s",
				   s->name, strerror(errno));
	if ((uint64_t)st.st_size < DMAKIT_RING_CTRL_SIZE)
		goto bad;
	s->map_size = (size_t)st.st_size;
	s->map = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_POPULATE, fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return dmakit_errf(err, errlen, -errno,
				   "sim:name=%s: cannot map the ring: %s",
				   s->name, strerror(errno));
	}
	c = s->map;
	if (c->magic != DMAKIT_RING_MAGIC || c->version != DMAKIT_RING_VERSION ||
	    c->ctrl_size != DMAKIT_RING_CTRL_SIZE ||
	    dmakit_ring_check_geometry(c->nbufs, c->bufsize) ||
	    c->map_size != s->map_size ||
	    c->map_size != dmakit_ring_map_size(c->nbufs, c->bufsize) ||
	    c->desc_offset != DMAKIT_RING_CTRL_SIZE ||
	    c->data_offset != DMAKIT_RING_CTRL_SIZE +
			      dmakit_ring_desc_bytes(c->nbufs))
		goto bad;
	if (s->geometry_given && (c->bufsize != s->bufsize ||
				  c->nbufs != s->nbufs || c->policy != s->policy))
		return dmakit_errf(err, errlen, -EINVAL,
				   "sim:name=%s is running with bufsize=%u nbufs=%u policy=%s: give matching options or only the name",
				   s->name, c->bufsize, c->nbufs,
				   c->policy == DMAKIT_POLICY_BLOCK ? "block" : "drop");
	s->attached = true;
	s->bufsize = c->bufsize;
	s->nbufs = c->nbufs;
	s->policy = c->policy;
	s->rate = 0;			/* the owner's business */
	s->cardmem_size = 0;
	return 0;
bad:
	return dmakit_errf(err, errlen, -EINVAL,
			   "sim:name=%s: /dev/shm holds no dmakit ring of this version under that name",
			   s->name);
}

/*
 * Open a named ring: attach to a live owner's, or create and publish a
 * new one (retrying if another process publishes first).
 */
static int open_shared(struct sim *s, char *err, size_t errlen)
{
	int tries, ret, fd;

	for (tries = 0; tries < 4; tries++) {
		ret = sim_shared_open_existing(s->name, &fd);
		if (ret < 0)
			return dmakit_errf(err, errlen, ret, "sim:name=%s: %s",
					   s->name, dmakit_strerror(ret));
		if (ret == 1)
			return attach_shared(s, fd, err, errlen);
		ret = create_ring(s, err, errlen);
		if (ret)
			return ret;
		ret = sim_shared_publish(s->memfd, s->name);
		if (ret == 0) {
			s->published = true;
			return 0;
		}
		unmap_ring(s);
		if (ret != -EEXIST)
			return dmakit_errf(err, errlen, ret,
					   "sim:name=%s: cannot publish the ring: %s",
					   s->name, dmakit_strerror(ret));
	}
	return dmakit_errf(err, errlen, -EBUSY,
			   "sim:name=%s: other processes keep replacing it",
			   s->name);
}

static int sim_open(struct dmakit_dev *dev, const char *args, char *err,
		    size_t errlen)
{
	struct sim *s;
	int ret, i;

	s = calloc(1, sizeof(*s));
	if (!s)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	s->bufsize = 512 * 1024;
	s->nbufs = 256;
	s->policy = DMAKIT_POLICY_DROP;
	s->crc = true;
	s->cardmem_size = 64 * 1024;
	s->xfer_rate = 1000000000ULL;
	s->xfer_lat_ns = 20000;
	s->memfd = -1;
	s->pid = getpid();
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		s->event_fd[i] = -1;
		s->remote_fd[i] = -1;
	}
	pthread_mutex_init(&s->xfer_lock, NULL);

	ret = dmakit_parse_opts(args, err, errlen, sim_opt, s);
	if (ret)
		goto fail;
	if (dmakit_ring_check_geometry(s->nbufs, s->bufsize)) {
		ret = dmakit_errf(err, errlen, -EINVAL,
				  "sim: bufsize must be a multiple of 4K in 4K..64M and nbufs in 2..65536 (got bufsize=%u nbufs=%u)",
				  s->bufsize, s->nbufs);
		goto fail;
	}
#if defined(__x86_64__)
	s->fast_fill = __builtin_cpu_supports("sse4.2");
#endif
	s->refill_batch = s->nbufs / 8 < 32 ? s->nbufs / 8 : 32;
	if (!s->refill_batch)
		s->refill_batch = 1;
	ret = s->name[0] ? open_shared(s, err, errlen) :
			   create_ring(s, err, errlen);
	if (ret)
		goto fail;
	if (!s->attached) {
		s->cardmem = calloc(1, s->cardmem_size);
		if (!s->cardmem) {
			ret = dmakit_errf(err, errlen, -ENOMEM,
					  "sim: out of memory");
			goto fail;
		}
	}
	set_dev_fields(dev, s);
	return 0;
fail:
	if (s->published)
		sim_shared_unlink(s->name);
	unmap_ring(s);
	free(s->cardmem);
	pthread_mutex_destroy(&s->xfer_lock);
	free(s);
	return ret;
}

static int sim_stop(struct dmakit_dev *dev)
{
	struct sim *s = dev->priv;

	if (!s->running)
		return 0;
	__atomic_store_n(&s->stop_req, true, __ATOMIC_RELEASE);
	futex(&dev->ctrl->producer_waiting, FUTEX_WAKE, INT_MAX, NULL);
	pthread_join(s->thread, NULL);
	s->running = false;
	return 0;
}

static void sim_close(struct dmakit_dev *dev)
{
	struct sim *s = dev->priv;
	int i;

	sim_stop(dev);
	/* the producer has stopped and woken everyone: retire the name */
	if (s->published)
		sim_shared_unlink(s->name);
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		if (s->event_fd[i] >= 0)
			close(s->event_fd[i]);
		if (s->remote_fd[i] >= 0)
			close(s->remote_fd[i]);
	}
	unmap_ring(s);
	free(s->cardmem);
	pthread_mutex_destroy(&s->xfer_lock);
	free(s);
}

static int sim_start(struct dmakit_dev *dev)
{
	struct sim *s = dev->priv;
	int ret;

	/* an attached process cannot start another's producer */
	if (s->attached)
		return 0;
	if (s->running || dev->ctrl->state != DMAKIT_STATE_IDLE)
		return -EALREADY;
	/* a new stream id per start, as the driver does; before the state */
	if (getrandom(&dev->ctrl->stream_id, sizeof(dev->ctrl->stream_id), 0) < 0)
		dev->ctrl->stream_id = dmakit_now_ns();
	DMAKIT_STORE_RELEASE(&dev->ctrl->state, DMAKIT_STATE_RUNNING);
	ret = pthread_create(&s->thread, NULL, producer, dev);
	if (ret) {
		DMAKIT_STORE_RELEASE(&dev->ctrl->state, DMAKIT_STATE_IDLE);
		return -ret;
	}
	s->running = true;
	return 0;
}

static int sim_consumer_attach(struct dmakit_consumer *cons)
{
	struct sim *s = cons->dev->priv;
	uint64_t start;
	int idx;

	idx = dmakit_ring_attach_slot(cons->dev->ctrl, cons->mode, &start);
	if (idx < 0)
		return idx;
	/*
	 * One eventfd per slot, created on first use and kept until the
	 * device closes: the producer thread may be signalling a slot while
	 * its consumer detaches, and must never write to a recycled fd.
	 * A process attached to another's shared ring uses the slot's FIFO.
	 */
	if (s->event_fd[idx] < 0) {
		int fd = s->attached ?
			 sim_shared_wake_fd(s->name, idx, true) :
			 eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (fd < 0) {
			fd = s->attached ? fd : -errno;
			dmakit_ring_detach_slot(cons->dev->ctrl, idx);
			return fd;
		}
		__atomic_store_n(&s->event_fd[idx], fd, __ATOMIC_RELEASE);
	} else {
		drain_fd(s->event_fd[idx]);
	}
	cons->slot_idx = idx;
	cons->slot = &cons->dev->ctrl->consumers[idx];
	cons->wait_fd = s->event_fd[idx];
	return 0;
}

static void sim_consumer_detach(struct dmakit_consumer *cons)
{
	dmakit_ring_detach_slot(cons->dev->ctrl, cons->slot_idx);
	/* a BLOCK producer may have been waiting for this consumer */
	futex(&cons->dev->ctrl->producer_waiting, FUTEX_WAKE, INT_MAX, NULL);
}

static int sim_wait(struct dmakit_consumer *cons, int timeout_ms)
{
	struct sim *s = cons->dev->priv;
	struct pollfd pfd = { .fd = cons->wait_fd, .events = POLLIN };
	uint64_t deadline = dmakit_deadline(timeout_ms);
	int ret, left;

	for (;;) {
		left = dmakit_remaining_ms(deadline);
		/* attached: look at the owner now and then */
		if (s->attached && (left < 0 || left > SIM_OWNER_CHECK_MS))
			left = SIM_OWNER_CHECK_MS;
		ret = poll(&pfd, 1, left);
		if (ret < 0)
			return -errno;
		if (ret > 0)
			break;
		if (s->attached && !sim_shared_owner_alive(s->memfd) &&
		    DMAKIT_LOAD_ACQUIRE(&cons->dev->ctrl->state) ==
		    DMAKIT_STATE_RUNNING)
			return -ENODEV;	/* the producer died mid-stream */
		if (dmakit_remaining_ms(deadline) == 0)
			return -ETIMEDOUT;
	}
	drain_fd(cons->wait_fd);
	return 0;
}

static void sim_released(struct dmakit_consumer *cons)
{
	struct dmakit_ring_ctrl *ctrl = cons->dev->ctrl;
	struct sim *s = cons->dev->priv;

	DMAKIT_FULL_BARRIER();
	if (!DMAKIT_LOAD_ACQUIRE(&ctrl->producer_waiting))
		return;
	/*
	 * wake_tail was stored before producer_waiting (release/acquire).
	 * Wake the producer once its refill batch is free, or at once if
	 * this consumer has taken everything and will wait for it.
	 */
	if (cons->tail >= __atomic_load_n(&s->wake_tail, __ATOMIC_RELAXED) ||
	    cons->next_pos >= DMAKIT_LOAD_ACQUIRE(&ctrl->head))
		futex(&ctrl->producer_waiting, FUTEX_WAKE, 1, NULL);
}

/*
 * Transactions on the simulated engine.  The copy is done at submit time
 * with process_vm_readv/writev on our own process, so an unmapped or
 * read-only user buffer fails with EFAULT exactly as the driver reports it;
 * the transaction completes after a modelled latency.
 */
static int64_t sim_dma_submit(struct dmakit_dev *dev, int to_host, void *buf,
			      size_t len, uint64_t card_addr)
{
	struct sim *s = dev->priv;
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote;
	struct sim_xfer *x = NULL;
	uint64_t now, start;
	ssize_t n;
	int i;

	if (s->attached)
		return -EOPNOTSUPP;	/* the engine is in the owner process */
	if (card_addr >= s->cardmem_size || len > s->cardmem_size - card_addr)
		return -EINVAL;
	remote.iov_base = s->cardmem + card_addr;
	remote.iov_len = len;
	pthread_mutex_lock(&s->xfer_lock);
	for (i = 0; i < SIM_MAX_XFERS; i++) {
		if (!s->xfers[i].id) {
			x = &s->xfers[i];
			break;
		}
	}
	if (!x) {
		pthread_mutex_unlock(&s->xfer_lock);
		return -EBUSY;
	}
	/*
	 * process_vm_readv() copies remote -> local, _writev() local ->
	 * remote; "local" is the user's buffer, "remote" card memory.
	 * To host: card memory -> buf (a read-only buf fails with EFAULT).
	 */
	if (to_host)
		n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	else
		n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	if (n < 0 || (size_t)n != len) {
		pthread_mutex_unlock(&s->xfer_lock);
		return -EFAULT;
	}
	now = dmakit_now_ns();
	start = s->engine_free_ns > now ? s->engine_free_ns : now;
	x->id = ++s->next_id;
	x->len = len;
	x->status = 0;
	x->done_ns = start + s->xfer_lat_ns +
		     (s->xfer_rate ? len * 1000000000ULL / s->xfer_rate : 0);
	s->engine_free_ns = x->done_ns;
	pthread_mutex_unlock(&s->xfer_lock);
	return x->id;
}

static int sim_dma_wait(struct dmakit_dev *dev, int64_t id, int timeout_ms,
			size_t *done)
{
	struct sim *s = dev->priv;
	uint64_t deadline = dmakit_deadline(timeout_ms), done_ns, now;
	struct sim_xfer *x = NULL;
	struct timespec ts;
	int i, ret;

	pthread_mutex_lock(&s->xfer_lock);
	for (i = 0; i < SIM_MAX_XFERS; i++) {
		if (s->xfers[i].id == id) {
			x = &s->xfers[i];
			break;
		}
	}
	if (!x) {
		pthread_mutex_unlock(&s->xfer_lock);
		return -ENOENT;
	}
	done_ns = x->done_ns;
	pthread_mutex_unlock(&s->xfer_lock);

	now = dmakit_now_ns();
	if (done_ns > now) {
		uint64_t until = done_ns < deadline ? done_ns : deadline;

		ts.tv_sec = (time_t)(until / 1000000000ULL);
		ts.tv_nsec = (long)(until % 1000000000ULL);
		ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		if (ret == EINTR)
			return -EINTR;
		if (dmakit_now_ns() < done_ns) {
			*done = 0;
			return -ETIMEDOUT;
		}
	}
	pthread_mutex_lock(&s->xfer_lock);
	*done = x->len;
	ret = x->status;
	x->id = 0;
	pthread_mutex_unlock(&s->xfer_lock);
	return ret;
}

static uint64_t sim_producer_cpu_ns(struct dmakit_dev *dev)
{
	return __atomic_load_n(&((struct sim *)dev->priv)->cpu_ns,
			       __ATOMIC_RELAXED);
}

static int sim_card_mem_size(struct dmakit_dev *dev, uint64_t *size)
{
	*size = ((struct sim *)dev->priv)->cardmem_size;
	return 0;
}

const struct dmakit_backend dmakit_sim_backend = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.start = sim_start,
	.stop = sim_stop,
	.consumer_attach = sim_consumer_attach,
	.consumer_detach = sim_consumer_detach,
	.wait = sim_wait,
	.released = sim_released,
	.dma_submit = sim_dma_submit,
	.dma_wait = sim_dma_wait,
	.card_mem_size = sim_card_mem_size,
	.producer_cpu_ns = sim_producer_cpu_ns,
};
