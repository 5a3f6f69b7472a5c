// SPDX-License-Identifier: MIT
/*
 * Ring protocol over the simulated card: ordering, payload, CRCs, drop
 * accounting, BLOCK back-pressure, several consumers, lossy skip-ahead,
 * out-of-order release, end of stream.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <unistd.h>
#include <dmakit.h>
#include "t.h"

static struct dmakit_dev *open_sim(const char *spec)
{
	char err[DMAKIT_ERRMSG_MAX];
	struct dmakit_dev *dev = NULL;
	int ret = dmakit_open(&dev, spec, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "open %s: %s\n", spec, err);
		return NULL;
	}
	return dev;
}

/* Every word of a sim buffer matches the payload of its sequence number. */
static bool payload_ok(const struct dmakit_buf *b)
{
	const uint64_t *w = b->data;
	size_t i;

	for (i = 0; i < b->desc.len / 8; i++)
		if (w[i] != dmakit_payload_word(b->desc.seq, i))
			return false;
	return true;
}

static void abi_layout(void)
{
	/* the ABI is fixed-size with no hidden padding */
	T_EQ(sizeof(struct dmakit_desc), 64);
	T_EQ(sizeof(struct dmakit_ring_consumer), 64);
	T_EQ(offsetof(struct dmakit_ring_ctrl, head), 64);
	T_EQ(offsetof(struct dmakit_ring_ctrl, consumers) % 64, 0);
	T_ASSERT(sizeof(struct dmakit_ring_ctrl) <= DMAKIT_RING_CTRL_SIZE);
	T_EQ(dmakit_ring_map_size(256, 4096), 4096 + 4 * 4096 + 256 * 4096);
	T_ASSERT(dmakit_ring_check_geometry(1, 4096));
	T_ASSERT(dmakit_ring_check_geometry(4, 4000));
	T_ASSERT(!dmakit_ring_check_geometry(4, 8192));
}

static void bad_specs(void)
{
	static const char *const bad[] = {
		"", "sim:bufsz=4K", "sim:bufsize=1000", "sim:nbufs=1",
		"sim:rate=fast", "sim:policy=wait", "sim:bufsize", "nosuch",
		"sim:rate=0", "sim:crc=maybe", "sim:bufsize=128M",
	};
	char err[DMAKIT_ERRMSG_MAX];
	struct dmakit_dev *dev;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		dev = NULL;
		T_EQ(dmakit_open(&dev, bad[i], err, sizeof(err)), -EINVAL);
		T_ASSERT(dev == NULL);
		T_ASSERT(err[0] != '\0');	/* always explained */
	}
	T_EQ(dmakit_open(&dev, "sim:bufsz=4K", err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "bufsz") != NULL);
}

static void in_order_payload_crc(void)
{
	struct dmakit_dev *dev = open_sim("sim:bufsize=16K,nbufs=8,count=200,policy=block");
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	uint64_t n = 0;
	int ret;

	T_ASSERT(dev);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	while ((ret = dmakit_consumer_next(c, &b, 5000)) == 0) {
		T_EQ_U64(b.desc.seq, n);
		T_EQ(b.desc.len, 16384);
		T_EQ(b.desc.lost, 0);
		T_ASSERT(b.desc.flags & DMAKIT_DESC_F_CRC);
		T_EQ(b.desc.crc32c, dmakit_crc32c(0, b.data, b.desc.len));
		T_ASSERT(payload_ok(&b));
		T_EQ(dmakit_consumer_release(c, &b), 0);
		n++;
	}
	T_EQ(ret, -ENODATA);	/* count reached, drained */
	T_EQ_U64(n, 200);
	dmakit_close(dev);
}

static void release_out_of_order(void)
{
	struct dmakit_dev *dev = open_sim("sim:bufsize=4K,nbufs=4,count=4,policy=block");
	struct dmakit_consumer *c;
	struct dmakit_buf b[4], extra;
	struct dmakit_stats st;
	int i;

	T_ASSERT(dev);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	for (i = 0; i < 4; i++)
		T_EQ(dmakit_consumer_next(c, &b[i], 5000), 0);
	/* holding the whole ring: no more buffers can be handed out */
	T_EQ(dmakit_consumer_next(c, &extra, 0), -ENOBUFS);
	T_EQ(dmakit_consumer_release(c, &b[2]), 0);
	T_EQ(dmakit_consumer_release(c, &b[2]), -EINVAL);	/* double */
	T_EQ(dmakit_consumer_release(c, &b[1]), 0);
	T_EQ(dmakit_consumer_stats(c, &st), 0);
	T_EQ(st.held, 2);
	T_EQ(st.fill, 4);	/* tail still at 0: b[0] held */
	T_EQ(dmakit_consumer_release(c, &b[0]), 0);
	T_EQ(dmakit_consumer_stats(c, &st), 0);
	T_EQ(st.fill, 1);	/* tail jumped over 0, 1, 2 */
	T_EQ(dmakit_consumer_release(c, &b[3]), 0);
	T_EQ(dmakit_consumer_next(c, &extra, 2000), -ENODATA);
	dmakit_close(dev);
}

/*
 * policy=drop with a consumer that holds everything: the producer must
 * count drops and the next buffer must carry them as a gap whose size
 * matches the jump in sequence numbers.
 */
static void drops_are_marked(void)
{
	struct dmakit_dev *dev = open_sim("sim:bufsize=4K,nbufs=4,rate=40M,policy=drop");
	struct dmakit_consumer *c;
	struct dmakit_buf b[4], g;
	struct dmakit_stats st;
	int i;

	T_ASSERT(dev);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	for (i = 0; i < 4; i++)
		T_EQ(dmakit_consumer_next(c, &b[i], 5000), 0);
	/* ~10 000 buffers/s: the producer soon laps the held ones (waited
	 * for, up to 30 s, however slowly this machine runs the producer) */
	for (i = 0; i < 3000; i++) {
		T_EQ(dmakit_consumer_stats(c, &st), 0);
		if (st.dropped > 10)
			break;
		usleep(10000);
	}
	T_ASSERT(st.dropped > 10);
	for (i = 0; i < 4; i++)
		T_EQ(dmakit_consumer_release(c, &b[i]), 0);
	T_EQ(dmakit_consumer_next(c, &g, 5000), 0);
	T_ASSERT(g.desc.flags & DMAKIT_DESC_F_GAP);
	T_ASSERT(g.desc.lost > 0);
	T_EQ_U64(g.desc.seq, b[3].desc.seq + 1 + g.desc.lost);
	T_ASSERT(payload_ok(&g));
	dmakit_close(dev);
}

/* A reliable and a lossy consumer: the slow lossy one never blocks. */
static void lossy_does_not_block(void)
{
	struct dmakit_dev *dev = open_sim("sim:bufsize=4K,nbufs=8,count=2000,policy=block");
	struct dmakit_consumer *rel, *lossy;
	struct dmakit_buf b, l;
	struct dmakit_stats st;
	uint64_t n = 0, seen = 0, last = 0;
	int ret;

	T_ASSERT(dev);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &rel), 0);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_LOSSY, &lossy), 0);
	T_EQ(dmakit_start(dev), 0);
	/* the lossy consumer takes one buffer and sits on it */
	T_EQ(dmakit_consumer_next(lossy, &l, 5000), 0);
	while ((ret = dmakit_consumer_next(rel, &b, 5000)) == 0) {
		T_EQ_U64(b.desc.seq, n);
		T_EQ(dmakit_consumer_release(rel, &b), 0);
		n++;
	}
	T_EQ(ret, -ENODATA);
	T_EQ_U64(n, 2000);
	/* its held buffer was overwritten long ago, and it can tell */
	T_EQ(dmakit_consumer_buf_valid(lossy, &l), 0);
	T_EQ(dmakit_consumer_release(lossy, &l), 0);
	while ((ret = dmakit_consumer_next(lossy, &l, 1000)) == 0) {
		T_ASSERT(l.desc.seq >= last);
		T_ASSERT(payload_ok(&l) || !dmakit_consumer_buf_valid(lossy, &l));
		last = l.desc.seq;
		seen++;
		T_EQ(dmakit_consumer_release(lossy, &l), 0);
	}
	T_EQ(ret, -ENODATA);
	T_EQ(dmakit_consumer_stats(lossy, &st), 0);
	T_ASSERT(st.skipped > 1900);
	T_EQ_U64(st.skipped + seen + 1, 2000);
	dmakit_close(dev);
}

/* Two reliable consumers each see every buffer. */
static void two_reliable(void)
{
	struct dmakit_dev *dev = open_sim("sim:bufsize=4K,nbufs=8,count=500,policy=block");
	struct dmakit_consumer *a, *b;
	struct dmakit_buf x;
	uint64_t na = 0, nb = 0;
	int ra = 0, rb = 0;

	T_ASSERT(dev);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &a), 0);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &b), 0);
	T_EQ(dmakit_start(dev), 0);
	while (ra == 0 || rb == 0) {
		if (ra == 0 && (ra = dmakit_consumer_next(a, &x, 5000)) == 0) {
			T_EQ_U64(x.desc.seq, na);
			na++;
			dmakit_consumer_release(a, &x);
		}
		if (rb == 0 && (rb = dmakit_consumer_next(b, &x, 5000)) == 0) {
			T_EQ_U64(x.desc.seq, nb);
			nb++;
			dmakit_consumer_release(b, &x);
		}
	}
	T_EQ(ra, -ENODATA);
	T_EQ(rb, -ENODATA);
	T_EQ_U64(na, 500);
	T_EQ_U64(nb, 500);
	dmakit_close(dev);
}

static void slots_run_out(void)
{
	struct dmakit_dev *dev = open_sim("sim:bufsize=4K,nbufs=2");
	struct dmakit_consumer *c[DMAKIT_RING_MAX_CONSUMERS + 1];
	int i;

	T_ASSERT(dev);
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++)
		T_EQ(dmakit_consumer_attach(dev, DMAKIT_LOSSY, &c[i]), 0);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_LOSSY, &c[i]), -EBUSY);
	dmakit_consumer_detach(c[3]);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c[3]), 0);
	dmakit_close(dev);	/* detaches the rest */
}

static void timeout_and_pollfd(void)
{
	/* one buffer a second: a descheduled test thread still sees the
	 * second buffer not yet due */
	struct dmakit_dev *dev = open_sim("sim:bufsize=4K,nbufs=4,rate=4K");
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	struct pollfd pfd;

	T_ASSERT(dev);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_consumer_next(c, &b, 0), -ETIMEDOUT);	/* not started */
	T_EQ(dmakit_consumer_next(c, &b, 30), -ETIMEDOUT);
	T_EQ(dmakit_start(dev), 0);
	/* the first is due at once, the second a second later */
	T_EQ(dmakit_consumer_next(c, &b, 10000), 0);
	T_EQ(dmakit_consumer_release(c, &b), 0);
	T_EQ(dmakit_consumer_next(c, &b, 0), -ETIMEDOUT);
	/* the pollable fd fires once the consumer asked to be woken */
	pfd.fd = dmakit_consumer_fd(c);
	pfd.events = POLLIN;
	T_ASSERT(pfd.fd >= 0);
	T_EQ(poll(&pfd, 1, 30000), 1);
	T_EQ(dmakit_consumer_next(c, &b, 0), 0);
	T_EQ_U64(b.desc.seq, 1);
	dmakit_close(dev);
}

/*
 * An event loop polling the consumer fd and calling next() with timeout 0
 * must sleep between buffers: the fd may not stay readable (spin).
 */
static void pollfd_loop_does_not_spin(void)
{
	struct dmakit_dev *dev = open_sim("sim:bufsize=4K,nbufs=4,rate=80K");
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	struct pollfd pfd;
	int got = 0, wakeups = 0, i;

	T_ASSERT(dev);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	pfd.fd = dmakit_consumer_fd(c);
	pfd.events = POLLIN;
	/* 20 buffers/s: 4 buffers take ~150 ms */
	for (i = 0; i < 1000 && got < 4; i++) {
		if (dmakit_consumer_next(c, &b, 0) == 0) {
			got++;
			T_EQ(dmakit_consumer_release(c, &b), 0);
			continue;
		}
		if (poll(&pfd, 1, 2000) > 0)
			wakeups++;
	}
	T_EQ(got, 4);
	/* one wakeup per buffer, a few spurious at most */
	T_ASSERT(wakeups <= 8);
	dmakit_close(dev);
}

struct stress_arg {
	struct dmakit_consumer *c;
	uint64_t n, bad;
	int ret;
};

/* Consumer thread holding up to 3 buffers, releasing newest first. */
static void *stress_consumer(void *p)
{
	struct stress_arg *a = p;
	struct dmakit_buf held[3];
	int nh = 0;

	for (;;) {
		struct dmakit_buf b;

		a->ret = dmakit_consumer_next(a->c, &b, 5000);
		if (a->ret)
			break;
		if (b.desc.seq != a->n || !payload_ok(&b))
			a->bad++;
		a->n = b.desc.seq + 1;
		held[nh++] = b;
		if (nh == 3) {
			while (nh)
				dmakit_consumer_release(a->c, &held[--nh]);
		}
	}
	while (nh)
		dmakit_consumer_release(a->c, &held[--nh]);
	return NULL;
}

/* Producer at full speed against two consumer threads, BLOCK policy. */
static void stress_threads(void)
{
	struct dmakit_dev *dev = open_sim("sim:bufsize=4K,nbufs=16,count=20000,policy=block,crc=off");
	struct stress_arg a = { 0 }, b = { 0 };
	pthread_t ta, tb;

	T_ASSERT(dev);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &a.c), 0);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &b.c), 0);
	T_EQ(dmakit_start(dev), 0);
	pthread_create(&ta, NULL, stress_consumer, &a);
	pthread_create(&tb, NULL, stress_consumer, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	T_EQ(a.ret, -ENODATA);
	T_EQ(b.ret, -ENODATA);
	T_EQ_U64(a.n, 20000);
	T_EQ_U64(b.n, 20000);
	T_EQ_U64(a.bad, 0);
	T_EQ_U64(b.bad, 0);
	dmakit_close(dev);
}

int main(void)
{
	T_RUN(abi_layout);
	T_RUN(bad_specs);
	T_RUN(in_order_payload_crc);
	T_RUN(release_out_of_order);
	T_RUN(drops_are_marked);
	T_RUN(lossy_does_not_block);
	T_RUN(two_reliable);
	T_RUN(slots_run_out);
	T_RUN(timeout_and_pollfd);
	T_RUN(pollfd_loop_does_not_spin);
	T_RUN(stress_threads);
	return t_exit();
}
