// SPDX-License-Identifier: MIT
/*
 * dmakit_record(): one reliable consumer feeding a sink.  Buffers are
 * written straight from the ring and handed back to the producer only when
 * their write completed, so with policy=block nothing is ever lost and
 * with policy=drop every loss is the producer's, counted and marked.
 *
 * The loop keeps up to queue_depth writes in flight, submitting as soon as
 * buffers arrive and sleeping only when there is nothing to do: on a write
 * completion when the queue is full or writes are pending, on the ring
 * otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "drain.h"
#include "sink.h"

#define IDLE_WAIT_MS		100
#define DEFAULT_PROGRESS_MS	500
#define DRAIN_NOTICE_MS		1000	/* a drain longer than this is said */

struct recorder {
	struct dmakit_dev *dev;
	struct dmakit_consumer *cons;
	struct dmakit_sink *sink;
	const struct dmakit_record_opts *opts;
	uint64_t submitted_bytes;	/* payload (len) handed to the sink */
	uint64_t dropped0;		/* the producer's count at the start */
	uint64_t dropped_at_stop;
	uint64_t not_taken;		/* left in the ring by a cut drain */
	uint64_t t0, t_next_progress, deadline;
	enum dmakit_result result;
	bool stopping;
	bool drain;			/* record what the source has up to its stop */
	bool by_request;		/* a stop request (not time) ended it */
	char msg[256];
};

static uint64_t producer_dropped(struct recorder *r)
{
	struct dmakit_stats st;

	if (dmakit_consumer_stats(r->cons, &st))
		return 0;
	return st.dropped;
}

static void stop_with(struct recorder *r, enum dmakit_result res,
		      const char *msg)
{
	if (r->stopping)
		return;
	r->stopping = true;
	r->result = res;
	r->dropped_at_stop = producer_dropped(r);
	if (msg)
		snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

static void release(struct recorder *r, const uint64_t *cookies, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct dmakit_buf b = { .pos = cookies[i] };

		dmakit_consumer_release(r->cons, &b);
	}
}

static void progress(struct recorder *r, uint64_t now, bool final)
{
	struct dmakit_record_progress p;
	struct dmakit_sink_stats ss;
	struct dmakit_stats cs;

	if (!r->opts->progress || (now < r->t_next_progress && !final))
		return;
	r->t_next_progress = now + (uint64_t)(r->opts->progress_ms ?
				r->opts->progress_ms : DEFAULT_PROGRESS_MS) *
				1000000ULL;
	dmakit_sink_stats(r->sink, &ss);
	dmakit_consumer_stats(r->cons, &cs);
	memset(&p, 0, sizeof(p));
	p.seconds = (double)(now - r->t0) / 1e9;
	p.bytes = ss.bytes;
	p.buffers = ss.buffers;
	/* drops after the stop decision belong to no recording */
	p.dropped = (final ? r->dropped_at_stop : cs.dropped) - r->dropped0;
	p.lost = ss.lost;
	p.ring_fill = cs.fill;
	p.nbufs = r->dev->geo.nbufs;
	p.inflight = (uint32_t)dmakit_sink_inflight(r->sink);
	p.final = final;
	p.producer_cpu_ns = cs.producer_cpu_ns;
	r->opts->progress(r->opts->progress_ctx, &p);
}

/*
 * --size counts payload, the buffers' valid bytes, not slots: a source of
 * short buffers (a chardev: reader's small packets) would otherwise stop
 * at a fraction of it.  Buffers go whole: the last may carry past it.
 */
static bool size_reached(const struct recorder *r)
{
	return r->opts->max_bytes && r->submitted_bytes >= r->opts->max_bytes;
}

/* Reasons to stop that do not come from the ring or the sink. */
static void check_limits(struct recorder *r, uint64_t now)
{
	if (r->opts->stop && *r->opts->stop) {
		stop_with(r, DMAKIT_RESULT_INTERRUPTED, "stopped by request");
		r->drain = true;
		r->by_request = true;
	} else if (size_reached(r)) {
		stop_with(r, DMAKIT_RESULT_COMPLETE, NULL);
	} else if (r->deadline && now >= r->deadline) {
		stop_with(r, DMAKIT_RESULT_COMPLETE, NULL);
		r->drain = true;
	}
}

/* Take one buffer from the ring and submit it; 1 if one was submitted. */
static int feed_one(struct recorder *r, int timeout_ms)
{
	struct dmakit_buf b;
	int ret;

	ret = dmakit_consumer_next(r->cons, &b, timeout_ms);
	if (ret == -ETIMEDOUT || ret == -EINTR || ret == -ENOBUFS)
		return 0;
	if (ret == -ENODATA) {
		stop_with(r, DMAKIT_RESULT_SOURCE_ENDED,
			  "the source stopped producing");
		return 0;
	}
	if (ret) {
		char m[256];

		/* an app: producer's process is gone: say so, not just ENODEV */
		snprintf(m, sizeof(m), "device %s: %s%s", r->dev->geo.name,
			 dmakit_strerror(ret),
			 ret == -ENODEV && !strcmp(r->dev->geo.kind, "app") ?
			 " (the producer's process ended without closing its stream: killed or crashed)" :
			 "");
		stop_with(r, DMAKIT_RESULT_DEVICE_ERROR, m);
		return 0;
	}
	ret = dmakit_sink_submit(r->sink, &b.desc, b.data, (int)b.index,
				 b.pos);
	if (ret) {
		/* the sink failed (and counted the buffer): give it back */
		dmakit_consumer_release(r->cons, &b);
		stop_with(r, DMAKIT_RESULT_IO_ERROR, NULL);
		return 0;
	}
	r->submitted_bytes += b.desc.len;
	return 1;
}

static void run(struct recorder *r)
{
	uint64_t cookies[SINK_MAX_DEPTH];
	/* a ring smaller than the queue: never hold all of it */
	unsigned int depth = r->sink->depth < r->dev->geo.nbufs ?
			     r->sink->depth : r->dev->geo.nbufs;

	while (!r->stopping) {
		uint64_t now = dmakit_now_ns();
		int inflight, n, timeout;

		check_limits(r, now);
		if (r->stopping)
			break;
		progress(r, now, false);
		inflight = dmakit_sink_inflight(r->sink);
		if ((unsigned int)inflight < depth) {
			/* wait on the ring only when no write can wake us */
			timeout = inflight ? 0 : IDLE_WAIT_MS;
			if (r->deadline) {
				uint64_t left = (r->deadline - now) / 1000000;

				if ((uint64_t)timeout > left)
					timeout = (int)left;
			}
			if (feed_one(r, timeout))
				continue;	/* more may be ready */
			if (dmakit_sink_error(r->sink))
				stop_with(r, DMAKIT_RESULT_IO_ERROR, NULL);
			if (!inflight)
				dmakit_sink_tick(r->sink);	/* idle source */
			if (r->stopping || !inflight)
				continue;
		}
		n = dmakit_sink_reap(r->sink, cookies, SINK_MAX_DEPTH, 1);
		if (n > 0)
			release(r, cookies, n);
		if (dmakit_sink_error(r->sink))
			stop_with(r, DMAKIT_RESULT_IO_ERROR, NULL);
	}
}

/*
 * After a stop by time or by request, the source has been stopped: take
 * what it delivered up to then (the ring's backlog, a chardev: reader's
 * last partial buffer) before finishing, up to the head seen now (an app:
 * producer runs on; what it publishes later is not this recording's),
 * never past --size, within drain.h's bounds; a cut drain's result says
 * what was left (never "complete").
 */
static void drain(struct recorder *r, uint64_t *cookies)
{
	struct rec_drain d;
	enum rec_drain_state why = REC_DRAIN_GOING;
	unsigned int depth = r->sink->depth < r->dev->geo.nbufs ?
			     r->sink->depth : r->dev->geo.nbufs;
	uint64_t notice_at = dmakit_now_ns() + DRAIN_NOTICE_MS * 1000000ULL;
	bool cut = false, noticed = false;
	int n, ret;

	rec_drain_begin(&d, DMAKIT_LOAD_ACQUIRE(&r->dev->ctrl->head),
			r->opts->stop, r->by_request);
	/* read after the head: every loss a drained buffer carries is in it */
	r->dropped_at_stop = producer_dropped(r);
	while (r->cons->next_pos < d.end_pos && !dmakit_sink_error(r->sink)) {
		int inflight = dmakit_sink_inflight(r->sink);
		struct dmakit_buf b;

		/* a backlog after a stop by time that takes a while: say why
		 * the end waits (a short one is not worth a line) */
		if (!noticed && !r->by_request && r->opts->stop &&
		    dmakit_now_ns() > notice_at) {
			dmakit_sink_notice(r->sink, "writing the %llu buffers the source delivered before the stop (stop again to abandon them)",
					   (unsigned long long)(d.end_pos - r->cons->next_pos));
			noticed = true;
		}

		if (size_reached(r))
			break;		/* the size asked for: nothing is left out */
		why = rec_drain_check(&d);
		if (why != REC_DRAIN_GOING) {
			cut = true;
			break;
		}
		if ((unsigned int)inflight < depth) {
			ret = dmakit_consumer_next(r->cons, &b,
						   inflight ? 0 : IDLE_WAIT_MS);
			if (ret == 0) {
				if (dmakit_sink_submit(r->sink, &b.desc, b.data,
						       (int)b.index, b.pos)) {
					dmakit_consumer_release(r->cons, &b);
					break;
				}
				r->submitted_bytes += b.desc.len;
				rec_drain_got(&d);
				continue;
			}
			if (ret != -ETIMEDOUT && ret != -EINTR &&
			    ret != -ENOBUFS) {
				/* the end of the stream or its failure */
				cut = ret != -ENODATA;
				break;
			}
			if (!inflight)
				continue;
		}
		n = dmakit_sink_reap(r->sink, cookies, SINK_MAX_DEPTH, 1);
		if (n > 0)
			release(r, cookies, n);
	}
	while (dmakit_sink_inflight(r->sink)) {
		n = dmakit_sink_reap(r->sink, cookies, SINK_MAX_DEPTH, 1);
		if (n > 0)
			release(r, cookies, n);
	}
	if (cut && r->cons->next_pos < d.end_pos) {
		r->not_taken = d.end_pos - r->cons->next_pos;
		r->result = rec_drain_cut(why, r->not_taken, "recorded",
					  r->msg, sizeof(r->msg));
	}
}

static int result_errno(enum dmakit_result res)
{
	switch (res) {
	case DMAKIT_RESULT_COMPLETE:
		return 0;
	case DMAKIT_RESULT_INTERRUPTED:
		return -EINTR;
	case DMAKIT_RESULT_DISK_FULL:
		return -ENOSPC;
	case DMAKIT_RESULT_IO_ERROR:
		return -EIO;
	case DMAKIT_RESULT_DEVICE_ERROR:
		return -ENODEV;
	case DMAKIT_RESULT_SOURCE_ENDED:
		return -ENODATA;
	case DMAKIT_RESULT_RECOVERED:	/* not a recorder's ending */
		break;
	}
	return -EIO;
}

int dmakit_record_check_limits(const struct dmakit_record_opts *opts,
			       char *err, size_t errlen)
{
	/* NaN fails both: !(x >= 0) */
	if (!(opts->max_seconds >= 0 && opts->max_seconds <= DMAKIT_MAX_SECONDS))
		return dmakit_errf(err, errlen, -EINVAL,
				   "duration %g s is out of range 0..%g",
				   opts->max_seconds, DMAKIT_MAX_SECONDS);
	if (opts->max_bytes > DMAKIT_MAX_BYTES)
		return dmakit_errf(err, errlen, -EINVAL,
				   "size %llu is out of range (at most 2^60 bytes)",
				   (unsigned long long)opts->max_bytes);
	return 0;
}

int dmakit_record(struct dmakit_dev *dev, const struct dmakit_record_opts *opts,
		  struct dmakit_sink_stats *out, char *err, size_t errlen)
{
	struct dmakit_sink_opts so;
	struct dmakit_sink_summary sum;
	struct dmakit_sink_stats st;
	struct recorder r;
	uint64_t cookies[SINK_MAX_DEPTH];
	bool started = false;
	int ret, n;

	if (err && errlen)
		err[0] = '\0';
	if (!dev || !opts)
		return dmakit_errf(err, errlen, -EINVAL, "no device or options");
	ret = dmakit_record_check_limits(opts, err, errlen);
	if (ret)
		return ret;
	memset(&r, 0, sizeof(r));
	r.dev = dev;
	r.opts = opts;
	so = opts->sink;
	so.bufsize = dev->geo.bufsize;
	so.pool = dev->geo.data;
	so.pool_len = dev->geo.data_len;
	so.nbufs = dev->geo.nbufs;
	so.source = &dev->geo;
	so.stream_id = dev->ctrl->stream_id;
	/* at least this many slots: more if buffers come short */
	if (opts->max_bytes)
		so.expected_bytes = (opts->max_bytes + so.bufsize - 1) /
				    so.bufsize * so.bufsize;

	ret = dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &r.cons);
	if (ret)
		return dmakit_errf(err, errlen, ret,
				   "attach a consumer to %s: %s",
				   dev->geo.name, dmakit_strerror(ret));
	/*
	 * Drops count from the attach: a producer already running (app:,
	 * a shared sim) may drop while the sink opens.
	 */
	r.dropped0 = producer_dropped(&r);
	ret = dmakit_sink_open(&r.sink, &so, err, errlen);
	if (ret) {
		dmakit_consumer_detach(r.cons);
		return ret;
	}
	r.t0 = dmakit_now_ns();
	r.t_next_progress = r.t0 + (uint64_t)(opts->progress_ms ?
			    opts->progress_ms : DEFAULT_PROGRESS_MS) * 1000000ULL;
	if (opts->max_seconds > 0)
		r.deadline = r.t0 + (uint64_t)(opts->max_seconds * 1e9);
	ret = dmakit_start(dev);
	if (ret == 0)
		started = true;
	else if (ret != -EALREADY)
		stop_with(&r, DMAKIT_RESULT_DEVICE_ERROR, "cannot start the device");
	/* a source draws its stream id when it starts */
	if (dmakit_sink_set_stream_id(r.sink,
				      DMAKIT_LOAD_ACQUIRE(&dev->ctrl->stream_id)))
		stop_with(&r, DMAKIT_RESULT_IO_ERROR,
			  "cannot write the index header");

	run(&r);

	/* finish the writes in flight; their buffers go back as they end */
	while (dmakit_sink_inflight(r.sink)) {
		n = dmakit_sink_reap(r.sink, cookies, SINK_MAX_DEPTH, 1);
		if (n > 0)
			release(&r, cookies, n);
	}
	/* stop the source before finishing: what it still delivers counts */
	if (started)
		dmakit_stop(dev);
	if (r.drain)
		drain(&r, cookies);
	progress(&r, dmakit_now_ns(), true);
	memset(&sum, 0, sizeof(sum));
	sum.dropped = r.dropped_at_stop - r.dropped0;
	sum.not_taken = r.not_taken;
	sum.result = r.result;
	snprintf(sum.error, sizeof(sum.error), "%s", r.msg);
	dmakit_consumer_detach(r.cons);
	ret = dmakit_sink_close(r.sink, &sum, &st);
	if (out)
		*out = st;
	if (ret)
		return dmakit_errf(err, errlen, ret, "%s%s%s", st.message,
				   st.message[0] ? "; " : "",
				   st.close_message);
	if (st.result != DMAKIT_RESULT_COMPLETE)
		return dmakit_errf(err, errlen, result_errno(st.result), "%s",
				   st.message);
	return 0;
}
