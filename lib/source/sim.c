// SPDX-License-Identifier: MIT
/*
 * The simulated card ("sim"): a producer thread that "DMAs" the verifiable
 * payload into a ring in memfd (shmem) pages at a configured rate, plus a
 * small transaction engine over simulated card memory.
 *
 * The ring and its wakeups are lib/source/ring_mem.c's (memfd pages, like
 * the driver's ring for O_DIRECT, io_uring and MSG_ZEROCOPY).  With
 * name=NAME the ring is shared between processes: the first opener
 * produces, later openers only attach consumers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "ring_mem.h"

#define SIM_MAX_XFERS 64
/* How long an attached process waits for the owner to start, ms. */
#define SIM_OWNER_START_MS 60000

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

	struct ring_mem rm;		/* the ring and its wakeups */
	pthread_t thread;
	bool running;			/* producer thread exists */
	uint32_t stop_req;		/* atomic futex word: ask the thread to stop */

	/* transactions */
	pthread_mutex_t xfer_lock;
	unsigned char *cardmem;
	struct sim_xfer xfers[SIM_MAX_XFERS];
	int64_t next_id;
	uint64_t engine_free_ns;	/* the engine runs one transfer at a time */

	uint64_t gen_ns_per_buf;	/* measured cost of filling one buffer */
	uint64_t cpu_ns;		/* atomic: the producer thread's CPU time */
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
					   "sim: bad name '%s' (1-64 of A-Z a-z 0-9 _ - ., not starting with '.')",
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
	return dmakit_errf(err, errlen, -EINVAL, "sim: bad value '%s' for %s%s",
			   val, key,
			   !strcmp(key, "bufsize") ? " (a multiple of 4K in 4K..64M)" :
			   !strcmp(key, "nbufs") ? " (2..65536)" :
			   !strcmp(key, "cardmem") ? " (1..1G)" :
			   !strcmp(key, "xfer_lat") ? " (0..60000000 microseconds)" :
			   !strcmp(key, "rate") || !strcmp(key, "xfer_rate") ?
			   " (bytes/s with K/M/G, or max)" : "");
}

/*
 * Sleep until CLOCK_MONOTONIC @t_ns or a stop request, whichever comes
 * first: at rate=1 the next buffer may be days away, and sim_stop() must
 * not wait for it.  The stop word is the futex (woken by sim_stop()).
 */
static void sleep_until_or_stop(struct sim *s, uint64_t t_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t_ns / 1000000000ULL),
		.tv_nsec = (long)(t_ns % 1000000000ULL),
	};

	while (!__atomic_load_n(&s->stop_req, __ATOMIC_ACQUIRE) &&
	       dmakit_now_ns() < t_ns)
		/* absolute CLOCK_MONOTONIC timeout; EAGAIN if already set */
		syscall(SYS_futex, &s->stop_req,
			FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, &ts, NULL,
			FUTEX_BITSET_MATCH_ANY);
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

static bool stop_requested(struct sim *s)
{
	return __atomic_load_n(&s->stop_req, __ATOMIC_ACQUIRE);
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
		ring_mem_reclaim_dead(&s->rm);
		if (produced % SIM_CPU_EVERY == 0)
			sample_cpu(s);
		/* the card produces buffer n at t0 + n * buf_ns */
		due = t0 + (uint64_t)((double)(seq - s->seed) * buf_ns);
		now = dmakit_now_ns();
		if (buf_ns > 0 && now < due) {
			sleep_until_or_stop(s, due);
			/* a stop before the buffer was due: it never came */
			if (stop_requested(s))
				break;
		}

		if (!dmakit_ring_may_claim(ctrl, s->nbufs, pos)) {
			if (s->policy == DMAKIT_POLICY_BLOCK) {
				ring_mem_wait_for_space(&s->rm, pos, &s->stop_req);
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
				sleep_until_or_stop(s, dmakit_now_ns() +
						    s->gen_ns_per_buf);
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
		ring_mem_wake_consumers(&s->rm, false);
	}
	sample_cpu(s);
	/* buffers dropped at the very end have no successor to carry them */
	ring_mem_end(&s->rm, DMAKIT_STATE_STOPPED);
	return NULL;
}

static int sim_open(struct dmakit_dev *dev, const char *args, char *err,
		    size_t errlen)
{
	struct ring_mem_geo geo;
	char who[16 + SIM_SHARED_NAME_MAX];
	struct sim *s;
	int ret;

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
	ring_mem_init(&s->rm, NULL);
	pthread_mutex_init(&s->xfer_lock, NULL);

	ret = dmakit_parse_opts(args, err, errlen, sim_opt, s);
	if (ret)
		goto fail;
#if defined(__x86_64__)
	s->fast_fill = __builtin_cpu_supports("sse4.2");
#endif
	if (s->name[0]) {
		char qname[SIM_SHARED_QNAME_MAX + 1];

		snprintf(qname, sizeof(qname), "sim.%s", s->name);
		ring_mem_init(&s->rm, qname);
	}
	memset(&geo, 0, sizeof(geo));
	geo.nbufs = s->nbufs;
	geo.bufsize = s->bufsize;
	geo.policy = s->policy;
	geo.payload = DMAKIT_PAYLOAD_SIM;
	geo.dev_clock_hz = 1000000000ULL;
	geo.geometry_given = s->geometry_given;
	geo.stop = dev->open_stop;
	if (s->name[0])
		snprintf(who, sizeof(who), "sim:name=%s", s->name);
	else
		snprintf(who, sizeof(who), "sim");
	ret = ring_mem_open(&s->rm, &geo, who, err, errlen);
	if (ret)
		goto fail;
	if (s->rm.attached) {
		s->bufsize = geo.bufsize;
		s->nbufs = geo.nbufs;
		s->policy = geo.policy;
		s->rate = 0;		/* the owner's business */
		s->cardmem_size = 0;
	} else {
		s->cardmem = calloc(1, s->cardmem_size);
		if (!s->cardmem) {
			ret = dmakit_errf(err, errlen, -ENOMEM,
					  "sim: out of memory");
			goto fail;
		}
	}
	dev->priv = s;
	ring_mem_set_dev(dev, &s->rm, "sim");
	dev->geo.rate = s->rate;
	return 0;
fail:
	ring_mem_destroy(&s->rm);
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
	__atomic_store_n(&s->stop_req, 1, __ATOMIC_RELEASE);
	/* wake the producer wherever it sleeps: for its rate, or for space */
	syscall(SYS_futex, &s->stop_req, FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
		INT_MAX, NULL, NULL, 0);
	ring_mem_wake_producer(&s->rm);
	pthread_join(s->thread, NULL);
	s->running = false;
	return 0;
}

static void sim_close(struct dmakit_dev *dev)
{
	struct sim *s = dev->priv;

	sim_stop(dev);
	ring_mem_destroy(&s->rm);
	free(s->cardmem);
	pthread_mutex_destroy(&s->xfer_lock);
	free(s);
}

static int sim_start(struct dmakit_dev *dev)
{
	struct sim *s = dev->priv;
	int ret;

	/*
	 * An attached process cannot start another's producer: it waits
	 * until the owner has (its consumers then see the stream id).
	 */
	if (s->rm.attached)
		return ring_mem_wait_started(&s->rm, SIM_OWNER_START_MS);
	if (s->running || dev->ctrl->state != DMAKIT_STATE_IDLE)
		return -EALREADY;
	ring_mem_start(&s->rm);
	ret = pthread_create(&s->thread, NULL, producer, dev);
	if (ret) {
		DMAKIT_STORE_RELEASE(&dev->ctrl->state, DMAKIT_STATE_IDLE);
		return -ret;
	}
	s->running = true;
	return 0;
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

	if (s->rm.attached)
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
	.consumer_attach = ring_mem_consumer_attach,
	.consumer_detach = ring_mem_consumer_detach,
	.wait = ring_mem_wait,
	.released = ring_mem_released,
	.dma_submit = sim_dma_submit,
	.dma_wait = sim_dma_wait,
	.card_mem_size = sim_card_mem_size,
	.producer_cpu_ns = sim_producer_cpu_ns,
};
