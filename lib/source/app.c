// SPDX-License-Identifier: MIT
/*
 * An application as the producer ("app:NAME", include/dmakit/producer.h):
 * the producer API that creates and fills a named ring, and the backend
 * through which consumers in other processes attach to it by name.
 *
 * The ring is ring_mem.c's named ring (qualified name "app.NAME" in
 * /dev/shm), the same machinery as sim:name=: the owner's flock tells
 * consumers whether the producer lives; the producer frees the slots of
 * consumers whose process died.
 *
 * USDT probes dmakit:producer_claim(p, seq, 0, bufsize) and
 * dmakit:producer_publish(p, seq, flags, len) follow the argument order of
 * dmakit:dma_start/dma_done (channel, id, -, bytes), so `dmakit trace`
 * pairs them by sequence number: how long the program took to fill each
 * buffer.  The sequence number is the one the buffer is published with
 * (report drops with dmakit_producer_drop() before claiming).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <sys/stat.h>
#include <time.h>
#include "ring_mem.h"
#include "dmakit/producer.h"

/* how long a consumer waits for a producer's name to appear, ms */
#define APP_APPEAR_MS		10000

struct dmakit_producer {
	struct ring_mem rm;
	struct dmakit_desc *descs;
	unsigned char *data;
	uint32_t bufsize, nbufs, policy;
	uint64_t pos;			/* next position to claim */
	uint64_t seq, lost;
	bool claimed;
	uint32_t stop;			/* never set: ring_mem's stop flag */
};

static int qualify(char *qname, size_t len, const char *name, char *err,
		   size_t errlen)
{
	if (!name || !sim_shared_name_ok(name))
		return dmakit_errf(err, errlen, -EINVAL,
				   "app: bad name '%s' (1-64 of A-Z a-z 0-9 _ - ., not starting with '.')",
				   name ? name : "");
	snprintf(qname, len, "app.%s", name);
	return 0;
}

int dmakit_producer_create(struct dmakit_producer **pp, const char *name,
			   const struct dmakit_producer_opts *opts,
			   char *err, size_t errlen)
{
	char qname[SIM_SHARED_QNAME_MAX + 1], who[16 + SIM_SHARED_NAME_MAX];
	struct dmakit_producer_opts o;
	struct ring_mem_geo geo;
	struct dmakit_producer *p;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!pp)
		return dmakit_errf(err, errlen, -EINVAL, "no producer pointer");
	ret = qualify(qname, sizeof(qname), name, err, errlen);
	if (ret)
		return ret;
	memset(&o, 0, sizeof(o));
	if (opts)
		o = *opts;
	if (o.policy != DMAKIT_POLICY_DROP && o.policy != DMAKIT_POLICY_BLOCK)
		return dmakit_errf(err, errlen, -EINVAL, "app:%s: bad policy %u",
				   name, o.policy);
	p = calloc(1, sizeof(*p));
	if (!p)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	ring_mem_init(&p->rm, qname);
	snprintf(who, sizeof(who), "app:%s", name);
	memset(&geo, 0, sizeof(geo));
	geo.bufsize = o.bufsize ? o.bufsize : 512 * 1024;
	geo.nbufs = o.nbufs ? o.nbufs : 256;
	geo.policy = o.policy;
	geo.payload = o.payload;
	geo.dev_clock_hz = o.dev_clock_hz ? o.dev_clock_hz : 1000000000ULL;
	ret = ring_mem_open(&p->rm, &geo, who, err, errlen);
	if (ret) {
		free(p);
		return ret;
	}
	if (p->rm.attached) {
		ring_mem_destroy(&p->rm);
		free(p);
		return dmakit_errf(err, errlen, -EEXIST,
				   "app:%s: another process is producing under that name",
				   name);
	}
	if (o.mode && fchmod(p->rm.fd, o.mode & 0777) < 0) {
		ret = -errno;
		ring_mem_destroy(&p->rm);
		free(p);
		return dmakit_errf(err, errlen, ret, "app:%s: chmod: %s", name,
				   strerror(-ret));
	}
	p->descs = (struct dmakit_desc *)((char *)p->rm.map +
		   ((struct dmakit_ring_ctrl *)p->rm.map)->desc_offset);
	p->data = (unsigned char *)p->rm.map +
		  ((struct dmakit_ring_ctrl *)p->rm.map)->data_offset;
	p->bufsize = geo.bufsize;
	p->nbufs = geo.nbufs;
	p->policy = geo.policy;
	ring_mem_start(&p->rm);
	*pp = p;
	return 0;
}

int dmakit_producer_claim(struct dmakit_producer *p, void **data,
			  int timeout_ms)
{
	struct dmakit_ring_ctrl *ctrl;
	uint64_t deadline;

	if (!p || !data)
		return -EINVAL;
	if (p->claimed)
		return -EBUSY;
	ctrl = p->rm.map;
	deadline = dmakit_deadline(timeout_ms);
	for (;;) {
		ring_mem_reclaim_dead(&p->rm);
		DMAKIT_FULL_BARRIER();
		if (dmakit_ring_may_claim(ctrl, p->nbufs, p->pos))
			break;
		if (p->policy == DMAKIT_POLICY_DROP) {
			dmakit_ring_count_drop(ctrl, 1);
			p->seq++;
			p->lost++;
			return -ENOBUFS;
		}
		if (dmakit_remaining_ms(deadline) == 0)
			return -ETIMEDOUT;
		ring_mem_wait_for_space(&p->rm, p->pos, &p->stop);
	}
	dmakit_ring_claim(ctrl, p->pos);
	p->claimed = true;
	DTRACE_PROBE4(dmakit, producer_claim, p, p->seq, 0, p->bufsize);
	*data = p->data + (size_t)(p->pos % p->nbufs) * p->bufsize;
	return 0;
}

int dmakit_producer_publish(struct dmakit_producer *p, uint32_t len,
			    uint32_t flags, uint32_t crc32c, uint64_t dev_ts)
{
	struct dmakit_desc d;

	if (!p || !p->claimed || len == 0 || len > p->bufsize)
		return -EINVAL;
	memset(&d, 0, sizeof(d));
	d.seq = p->seq++;
	d.dev_ts = dev_ts;
	d.host_ts = dmakit_now_ns();
	d.lost = p->lost;
	d.len = len;
	d.flags = flags & (DMAKIT_DESC_F_DMA_ERR | DMAKIT_DESC_F_CRC);
	if (len < p->bufsize)
		d.flags |= DMAKIT_DESC_F_TRUNC;
	d.crc32c = crc32c;
	dmakit_ring_publish(p->rm.map, p->descs, p->nbufs, p->pos, &d);
	DTRACE_PROBE4(dmakit, producer_publish, p, d.seq, d.flags, len);
	p->pos++;
	p->lost = 0;
	p->claimed = false;
	ring_mem_wake_consumers(&p->rm, false);
	return 0;
}

int dmakit_producer_drop(struct dmakit_producer *p, uint64_t n)
{
	if (!p)
		return -EINVAL;
	dmakit_ring_count_drop(p->rm.map, n);
	p->seq += n;
	p->lost += n;
	return 0;
}

int dmakit_producer_consumers(struct dmakit_producer *p)
{
	struct dmakit_ring_ctrl *ctrl;
	int i, n = 0;

	if (!p)
		return -EINVAL;
	ring_mem_reclaim_dead(&p->rm);
	ctrl = p->rm.map;
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++)
		if (DMAKIT_LOAD_ACQUIRE(&ctrl->consumers[i].state) !=
		    DMAKIT_CONSUMER_FREE)
			n++;
	return n;
}

void dmakit_producer_close(struct dmakit_producer *p, int error)
{
	if (!p)
		return;
	ring_mem_end(&p->rm, error < 0 ? DMAKIT_STATE_ERROR :
					 DMAKIT_STATE_STOPPED);
	ring_mem_destroy(&p->rm);
	free(p);
}

/* --- the consumer side: dmakit_open("app:NAME") --- */

static int app_open(struct dmakit_dev *dev, const char *args, char *err,
		    size_t errlen)
{
	char qname[SIM_SHARED_QNAME_MAX + 1], who[16 + SIM_SHARED_NAME_MAX];
	struct ring_mem_geo geo;
	struct ring_mem *rm;
	uint64_t deadline;
	int ret;

	ret = qualify(qname, sizeof(qname), args, err, errlen);
	if (ret)
		return ret;
	rm = calloc(1, sizeof(*rm));
	if (!rm)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	ring_mem_init(rm, qname);
	snprintf(who, sizeof(who), "app:%s", args);
	memset(&geo, 0, sizeof(geo));
	geo.attach_only = true;
	/* any valid geometry: the producer's ring supplies the real one */
	geo.nbufs = DMAKIT_RING_MIN_BUFS;
	geo.bufsize = DMAKIT_RING_MIN_BUFSIZE;
	/*
	 * A producer started just before ('producer NAME & dmakit record -d
	 * app:NAME') may not have published its name yet: wait for it a
	 * while (a stop request ends the wait) rather than fail at once.
	 */
	deadline = dmakit_now_ns() + APP_APPEAR_MS * 1000000ULL;
	while ((ret = ring_mem_open(rm, &geo, who, err, errlen)) == -ENOENT &&
	       dmakit_now_ns() < deadline &&
	       !(dev->open_stop && *dev->open_stop)) {
		struct timespec nap = { 0, 20 * 1000000L };

		nanosleep(&nap, NULL);
		ring_mem_init(rm, qname);
	}
	if (ret == -ENOENT && dev->open_stop && *dev->open_stop)
		ret = dmakit_errf(err, errlen, -EINTR,
				  "%s: stopped while waiting for the producer to appear: nothing was read",
				  who);
	else if (ret == -ENOENT && geo.removed_stale)
		ret = dmakit_errf(err, errlen, ret,
				  "%s: no producer of that name is running: the last one ended without closing its ring (killed or crashed; the ring it left was removed), and no new one appeared in %d s",
				  who, APP_APPEAR_MS / 1000);
	else if (ret == -ENOENT)
		ret = dmakit_errf(err, errlen, ret,
				  "%s: no producer of that name is running (waited %d s for one to appear)",
				  who, APP_APPEAR_MS / 1000);
	if (ret) {
		free(rm);
		return ret;
	}
	dev->priv = rm;
	ring_mem_set_dev(dev, rm, "app");
	return 0;
}

static void app_close(struct dmakit_dev *dev)
{
	ring_mem_destroy(dev->priv);
	free(dev->priv);
}

/*
 * The producer runs in its own process: a start waits until it has
 * started its stream (it does right after publishing the name).
 */
static int app_start(struct dmakit_dev *dev)
{
	return ring_mem_wait_started(dev->priv, 10000);
}

static int app_stop(struct dmakit_dev *dev)
{
	(void)dev;
	return 0;
}

const struct dmakit_backend dmakit_app_backend = {
	.name = "app",
	.open = app_open,
	.close = app_close,
	.start = app_start,
	.stop = app_stop,
	.consumer_attach = ring_mem_consumer_attach,
	.consumer_detach = ring_mem_consumer_detach,
	.wait = ring_mem_wait,
	.released = ring_mem_released,
};
