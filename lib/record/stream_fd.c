// SPDX-License-Identifier: MIT
/*
 * dmakit_record_fd(): a device's buffers as one byte stream on a file
 * descriptor (a pipe, a socket, stdout: 'dmakit record -o -').  One
 * reliable consumer; each buffer's valid bytes are written in order and
 * the buffer goes back to the producer once written.  There is no index
 * and no metadata, so the stream cannot show a gap: gaps, lost buffers
 * and the source's drops are counted in @out for the caller to report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "dmakit/recording.h"
#include "drain.h"
#include "sink.h"

#define IDLE_WAIT_MS		100
#define DEFAULT_PROGRESS_MS	500

struct fd_stream {
	struct dmakit_dev *dev;
	struct dmakit_consumer *cons;
	const struct dmakit_record_opts *opts;
	int fd;
	uint64_t dropped0, dropped_at_stop;
	uint64_t t0, t_next_progress, deadline;
	struct dmakit_sink_stats st;
	bool stopping;
	bool drain;			/* write what the source has up to its stop */
	bool by_request;		/* a stop request (not time) ended it */
};

static uint64_t producer_dropped(struct fd_stream *s)
{
	struct dmakit_stats cs;

	return dmakit_consumer_stats(s->cons, &cs) ? 0 : cs.dropped;
}

static void stop_with(struct fd_stream *s, enum dmakit_result res,
		      const char *what, const char *why)
{
	if (s->stopping)
		return;
	s->stopping = true;
	s->st.result = res;
	s->dropped_at_stop = producer_dropped(s);
	if (what)
		snprintf(s->st.message, sizeof(s->st.message), "%s%s%s", what,
			 why ? ": " : "", why ? why : "");
}

static void progress(struct fd_stream *s, uint64_t now, bool final)
{
	struct dmakit_record_progress p;
	struct dmakit_stats cs;
	unsigned int period = s->opts->progress_ms ? s->opts->progress_ms :
			      DEFAULT_PROGRESS_MS;

	if (!s->opts->progress || (now < s->t_next_progress && !final))
		return;
	s->t_next_progress = now + (uint64_t)period * 1000000ULL;
	dmakit_consumer_stats(s->cons, &cs);
	memset(&p, 0, sizeof(p));
	p.seconds = (double)(now - s->t0) / 1e9;
	p.bytes = s->st.bytes;
	p.buffers = s->st.buffers;
	p.dropped = (final ? s->dropped_at_stop : cs.dropped) - s->dropped0;
	p.lost = s->st.lost;
	p.ring_fill = cs.fill;
	p.nbufs = s->dev->geo.nbufs;
	p.final = final;
	p.producer_cpu_ns = cs.producer_cpu_ns;
	s->opts->progress(s->opts->progress_ctx, &p);
}

/* All of @len bytes, or -errno.  A stop request does not cut a buffer. */
static int write_all(struct fd_stream *s, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(s->fd, p, len);

		if (n < 0 && errno == EINTR &&
		    !(s->opts->stop && *s->opts->stop > 1))
			continue;	/* a second request gives up */
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void account(struct dmakit_sink_stats *st, const struct dmakit_desc *d,
		    uint32_t bufsize)
{
	if (st->buffers == 0) {
		st->first_seq = d->seq;
		st->lost_before = d->lost;
	} else if (d->lost) {
		st->gaps++;
		st->lost += d->lost;
	}
	st->last_seq = d->seq;
	st->buffers++;
	st->bytes += d->len;
	if (d->len == 0)
		st->empty++;
	else if (d->len < bufsize)
		st->truncated++;
	if (d->flags & DMAKIT_DESC_F_DMA_ERR)
		st->dma_errors++;
}

/* Write one buffer's valid bytes and give it back; -errno ends the stream. */
static int write_buf(struct fd_stream *s, struct dmakit_buf *b)
{
	int ret = write_all(s, b->data, b->desc.len <= s->dev->geo.bufsize ?
			    b->desc.len : s->dev->geo.bufsize);

	dmakit_consumer_release(s->cons, b);
	if (ret) {
		/* after a stop: the write error is the ending */
		s->stopping = false;
		stop_with(s, DMAKIT_RESULT_IO_ERROR, "write", strerror(-ret));
		s->st.not_recorded++;
		s->st.error = ret;
		return ret;
	}
	account(&s->st, &b->desc, s->dev->geo.bufsize);
	return 0;
}

/* --size: payload written, whole buffers (as dmakit_record() counts) */
static bool size_reached(const struct fd_stream *s)
{
	return s->opts->max_bytes && s->st.bytes >= s->opts->max_bytes;
}

static void run(struct fd_stream *s)
{
	while (!s->stopping) {
		uint64_t now = dmakit_now_ns();
		struct dmakit_buf b;
		int timeout = IDLE_WAIT_MS, ret;

		if (s->opts->stop && *s->opts->stop) {
			stop_with(s, DMAKIT_RESULT_INTERRUPTED,
				  "stopped by request", NULL);
			s->drain = true;
			s->by_request = true;
			break;
		}
		if (size_reached(s)) {
			stop_with(s, DMAKIT_RESULT_COMPLETE, NULL, NULL);
			break;
		}
		if (s->deadline && now >= s->deadline) {
			stop_with(s, DMAKIT_RESULT_COMPLETE, NULL, NULL);
			s->drain = true;
			break;
		}
		progress(s, now, false);
		if (s->deadline && (s->deadline - now) / 1000000 < (uint64_t)timeout)
			timeout = (int)((s->deadline - now) / 1000000);
		ret = dmakit_consumer_next(s->cons, &b, timeout);
		if (ret == -ETIMEDOUT || ret == -EINTR || ret == -ENOBUFS)
			continue;
		if (ret == -ENODATA) {
			stop_with(s, DMAKIT_RESULT_SOURCE_ENDED,
				  "the source stopped producing", NULL);
			break;
		}
		if (ret) {
			stop_with(s, DMAKIT_RESULT_DEVICE_ERROR, "device",
				  dmakit_strerror(ret));
			break;
		}
		if (write_buf(s, &b))
			break;
	}
}

/*
 * After a stop by time or by request, the source has been stopped: write
 * what it delivered up to then, as dmakit_record() does (drain.h's bounds,
 * the same account of what was left).
 */
static void drain(struct fd_stream *s)
{
	struct rec_drain d;
	enum rec_drain_state why = REC_DRAIN_GOING;
	bool cut = false;
	int ret;

	rec_drain_begin(&d, DMAKIT_LOAD_ACQUIRE(&s->dev->ctrl->head),
			s->opts->stop, s->by_request);
	s->dropped_at_stop = producer_dropped(s);
	while (s->cons->next_pos < d.end_pos && !s->st.error) {
		struct dmakit_buf b;

		if (size_reached(s))
			break;
		why = rec_drain_check(&d);
		if (why != REC_DRAIN_GOING) {
			cut = true;
			break;
		}
		ret = dmakit_consumer_next(s->cons, &b, IDLE_WAIT_MS);
		if (ret == -ETIMEDOUT || ret == -EINTR || ret == -ENOBUFS)
			continue;
		if (ret) {
			cut = ret != -ENODATA;
			break;
		}
		if (write_buf(s, &b))
			return;
		rec_drain_got(&d);
	}
	if (cut && s->cons->next_pos < d.end_pos) {
		s->st.not_recorded += d.end_pos - s->cons->next_pos;
		s->st.result = rec_drain_cut(why, d.end_pos - s->cons->next_pos,
					     "written", s->st.message,
					     sizeof(s->st.message));
	}
}

static int result_errno(const struct dmakit_sink_stats *st)
{
	switch (st->result) {
	case DMAKIT_RESULT_COMPLETE:
		return 0;
	case DMAKIT_RESULT_INTERRUPTED:
		return -EINTR;
	case DMAKIT_RESULT_SOURCE_ENDED:
		return -ENODATA;
	case DMAKIT_RESULT_DEVICE_ERROR:
		return -ENODEV;
	case DMAKIT_RESULT_IO_ERROR:
		return st->error ? st->error : -EIO;
	default:
		return -EIO;
	}
}

int dmakit_record_fd(struct dmakit_dev *dev, int fd,
		     const struct dmakit_record_opts *opts,
		     struct dmakit_sink_stats *out, char *err, size_t errlen)
{
	struct fd_stream s;
	bool started = false;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (out)
		memset(out, 0, sizeof(*out));
	if (!dev || !opts || fd < 0)
		return dmakit_errf(err, errlen, -EINVAL,
				   "no device, options or file descriptor");
	ret = dmakit_record_check_limits(opts, err, errlen);
	if (ret)
		return ret;
	memset(&s, 0, sizeof(s));
	s.dev = dev;
	s.opts = opts;
	s.fd = fd;
	ret = dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &s.cons);
	if (ret)
		return dmakit_errf(err, errlen, ret,
				   "attach a consumer to %s: %s",
				   dev->geo.name, dmakit_strerror(ret));
	s.dropped0 = producer_dropped(&s);
	s.t0 = dmakit_now_ns();
	s.t_next_progress = s.t0 + (uint64_t)(opts->progress_ms ?
			    opts->progress_ms : DEFAULT_PROGRESS_MS) * 1000000ULL;
	if (opts->max_seconds > 0)
		s.deadline = s.t0 + (uint64_t)(opts->max_seconds * 1e9);
	ret = dmakit_start(dev);
	if (ret == 0)
		started = true;
	else if (ret != -EALREADY)
		stop_with(&s, DMAKIT_RESULT_DEVICE_ERROR,
			  "cannot start the device", NULL);
	run(&s);
	/* stop the source before finishing: what it still delivers counts */
	if (started)
		dmakit_stop(dev);
	if (s.drain)
		drain(&s);
	progress(&s, dmakit_now_ns(), true);
	s.st.seconds = (double)(dmakit_now_ns() - s.t0) / 1e9;
	s.st.dropped = s.dropped_at_stop - s.dropped0;
	dmakit_consumer_detach(s.cons);
	if (out)
		*out = s.st;
	if (s.st.result != DMAKIT_RESULT_COMPLETE)
		return dmakit_errf(err, errlen, result_errno(&s.st), "%s",
				   s.st.message);
	return 0;
}
