// SPDX-License-Identifier: MIT
/*
 * dmakit_recv(): one stream from `dmakit send` into one recording, written
 * by the same sink as `dmakit record`, so `dmakit verify` checks it alike.
 *
 * Data is received straight into a pool of bufsize slots and handed to the
 * sink from there (no copy in between).  Nothing is submitted before it is
 * known to be good: the frame header's CRC, the sequence rule
 * (seq == previous + 1 + lost) and, when the frame has one, the data CRC
 * are checked first.  In a lossy stream a data CRC mismatch means the
 * sender's ring slot was overwritten while the kernel was sending it: the
 * buffer is dropped here and counted as lost on the next recorded entry.
 * In a reliable stream it means corruption: the connection is rejected.
 * However the stream ends, the recording is closed consistently.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "internal.h"
#include "net.h"

/* a sender's geometry must not make us pin unbounded memory */
#define RECV_POOL_MAX_BYTES	(256ULL << 20)
#define RECV_DEFAULT_IDLE_MS	30000
#define RECV_LINGER_MS		3000

struct rx {
	const struct dmakit_recv_opts *o;
	struct dmakit_recv_stats *st;
	int fd;
	int idle_ms;
	struct dmakit_sink *sink;
	struct dmakit_geometry src;
	unsigned char *pool;
	size_t pool_len;
	uint32_t nslots, bufsize;
	uint32_t *free_slots, nfree;
	bool lossy;
	bool have_prev;
	uint64_t prev_seq;
	uint64_t pending_lost;		/* dropped here, not yet on an entry */
	uint64_t t0, next_progress;
	char *err;
	size_t errlen;
};

static void notice(struct rx *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void notice(struct rx *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!r->o->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->o->notice(r->o->notice_ctx, msg);
}

/* Take back finished slots; wait for at least @min_wait. */
static int reap(struct rx *r, int min_wait)
{
	uint64_t cookies[64];
	int n, i;

	do {
		n = dmakit_sink_reap(r->sink, cookies, 64, min_wait);
	} while (n == -EINTR && !net_stopped(r->o->stop));
	if (n == -EINTR)
		return dmakit_errf(r->err, r->errlen, n, "interrupted");
	if (n < 0)
		return dmakit_errf(r->err, r->errlen, n, "writing: %s",
				   dmakit_strerror(n));
	for (i = 0; i < n; i++)
		r->free_slots[r->nfree++] = (uint32_t)cookies[i];
	return n;
}

static void progress(struct rx *r)
{
	struct dmakit_record_progress p = { 0 };
	uint64_t now = dmakit_now_ns();

	if (!r->o->progress || !r->o->progress_ms || now < r->next_progress)
		return;
	r->next_progress = now + (uint64_t)r->o->progress_ms * 1000000ULL;
	p.seconds = (double)(now - r->t0) / 1e9;
	p.bytes = dmakit_sink_bytes_written(r->sink);
	p.buffers = r->st->frames;
	p.dropped = r->st->sender.dropped + r->st->sender.skipped +
		    r->st->discarded;
	p.nbufs = r->nslots;
	p.inflight = (uint32_t)dmakit_sink_inflight(r->sink);
	p.ring_fill = r->nslots - r->nfree;
	r->o->progress(r->o->progress_ctx, &p);
}

static int on_buf(struct rx *r, const struct dmakit_frame *f)
{
	const struct dmakit_frame_buf *b = &f->u.buf;
	struct dmakit_desc d;
	unsigned char *slot;
	uint32_t idx;
	size_t got = 0;
	int ret;

	if (f->data_len > r->bufsize)
		return dmakit_errf(r->err, r->errlen, -EPROTO,
				   "BUF seq %llu carries %u bytes, the stream's buffers are %u",
				   (unsigned long long)b->seq, f->data_len,
				   r->bufsize);
	/* (the first test keeps a huge lost from wrapping the second) */
	if (r->have_prev && (b->seq <= r->prev_seq ||
			     b->seq - r->prev_seq - 1 != b->lost))
		return dmakit_errf(r->err, r->errlen, -EPROTO,
				   "BUF seq %llu after %llu with lost=%llu: buffers missing without account",
				   (unsigned long long)b->seq,
				   (unsigned long long)r->prev_seq,
				   (unsigned long long)b->lost);
	if (r->lossy && !(b->flags & DMAKIT_DESC_F_CRC))
		return dmakit_errf(r->err, r->errlen, -EPROTO,
				   "lossy stream sent BUF seq %llu without a CRC",
				   (unsigned long long)b->seq);
	while (!r->nfree) {
		ret = reap(r, 1);
		if (ret < 0)
			return ret;
	}
	idx = r->free_slots[--r->nfree];
	slot = r->pool + (size_t)idx * r->bufsize;
	ret = net_read_all(r->fd, slot, f->data_len, &got, r->idle_ms,
			   r->o->stop);
	if (ret) {
		r->free_slots[r->nfree++] = idx;
		if (ret == -ECONNRESET)
			return dmakit_errf(r->err, r->errlen, -EPROTO,
					   "truncated BUF seq %llu: connection closed after %zu of %u data bytes",
					   (unsigned long long)b->seq, got,
					   f->data_len);
		return dmakit_errf(r->err, r->errlen, ret,
				   "receiving BUF seq %llu: %s",
				   (unsigned long long)b->seq,
				   ret == -EINTR ? "interrupted" :
				   ret == -ETIMEDOUT ? "the sender went silent" :
				   dmakit_strerror(ret));
	}
	r->st->frames++;
	r->st->data_bytes += f->data_len;
	r->have_prev = true;
	r->prev_seq = b->seq;
	if ((b->flags & DMAKIT_DESC_F_CRC) &&
	    dmakit_crc32c(0, slot, f->data_len) != b->crc32c) {
		r->free_slots[r->nfree++] = idx;
		if (!r->lossy)
			return dmakit_errf(r->err, r->errlen, -EPROTO,
					   "BUF seq %llu: data CRC mismatch in a reliable stream (corrupted in transit)",
					   (unsigned long long)b->seq);
		/* overwritten at the sender while being sent: not recorded */
		r->st->discarded++;
		r->pending_lost += b->lost + 1;
		return 0;
	}
	if (f->data_len < r->bufsize)
		memset(slot + f->data_len, 0, r->bufsize - f->data_len);
	memset(&d, 0, sizeof(d));
	d.seq = b->seq;
	d.dev_ts = b->dev_ts;
	d.host_ts = b->host_ts;
	d.lost = b->lost + r->pending_lost;
	d.len = f->data_len;
	d.flags = b->flags & ~DMAKIT_DESC_F_GAP;
	if (d.lost)
		d.flags |= DMAKIT_DESC_F_GAP;
	d.crc32c = b->crc32c;
	for (;;) {
		ret = dmakit_sink_submit(r->sink, &d, slot, (int)idx, idx);
		if (ret != -EAGAIN)
			break;
		ret = reap(r, 1);
		if (ret < 0)
			return ret;
	}
	if (ret)
		return dmakit_errf(r->err, r->errlen, ret, "writing: %s",
				   dmakit_strerror(ret));
	r->pending_lost = 0;
	return 0;
}

/* Receive frames until END (0) or a failure (-errno). */
static int receive(struct rx *r)
{
	struct dmakit_frame f;
	int ret;

	for (;;) {
		ret = reap(r, 0);
		if (ret < 0)
			return ret;
		ret = dmakit_sink_error(r->sink);
		if (ret)
			return dmakit_errf(r->err, r->errlen, ret, "writing: %s",
					   dmakit_strerror(ret));
		progress(r);
		ret = net_read_frame(r->fd, &f, r->idle_ms, r->o->stop, NULL,
				     r->err, r->errlen);
		if (ret == -ECONNRESET)
			return dmakit_errf(r->err, r->errlen, -ECONNRESET,
					   "the sender closed the connection without ending the stream");
		if (ret == -ETIMEDOUT)
			return dmakit_errf(r->err, r->errlen, -ETIMEDOUT,
					   "the sender went silent for %d s",
					   r->idle_ms / 1000);
		if (ret)
			return ret;
		switch (f.type) {
		case DMAKIT_FRAME_BUF:
			ret = on_buf(r, &f);
			if (ret)
				return ret;
			break;
		case DMAKIT_FRAME_DISCARD:
			r->st->discard_notes++;
			break;
		case DMAKIT_FRAME_STATS:
			r->st->sender = f.u.stats;
			break;
		case DMAKIT_FRAME_END:
			r->st->sender = f.u.stats;
			r->st->got_end = true;
			return 0;
		default:
			return dmakit_errf(r->err, r->errlen, -EPROTO,
					   "unexpected %s frame in the stream",
					   dmakit_frame_type_name(f.type));
		}
	}
}

/* Read HELLO and open the sink for it; answer with ACCEPT. */
static int start_stream(struct rx *r)
{
	struct dmakit_sink_opts so = r->o->sink;
	struct dmakit_frame f, a = { .type = DMAKIT_FRAME_ACCEPT };
	struct dmakit_frame_hello *h = &r->st->hello;
	char serr[256] = "";
	uint32_t i;
	int ret;

	ret = net_read_frame(r->fd, &f, r->idle_ms, r->o->stop, NULL, serr,
			     sizeof(serr));
	if (ret == -ECONNRESET)
		return dmakit_errf(r->err, r->errlen, -EPROTO,
				   "the peer closed the connection before HELLO");
	if (ret == -EINTR || ret == -ETIMEDOUT)
		return dmakit_errf(r->err, r->errlen, ret, "%s", serr);
	if (!ret && f.type != DMAKIT_FRAME_HELLO)
		ret = dmakit_errf(serr, sizeof(serr), -EPROTO,
				  "expected HELLO, got %s",
				  dmakit_frame_type_name(f.type));
	/* say why, so a sender of another version can tell its user */
	if (ret)
		goto reject;
	*h = f.u.hello;
	r->lossy = h->flags & DMAKIT_STREAM_F_LOSSY;
	r->bufsize = h->bufsize;
	/*
	 * The sink takes at most queue_depth writes; one more slot is being
	 * received into, one spare.  More would never be used.
	 */
	r->nslots = r->o->pool_bufs ? r->o->pool_bufs :
		    (so.queue_depth ? so.queue_depth : 8) + 2;
	if ((uint64_t)r->nslots * r->bufsize > RECV_POOL_MAX_BYTES)
		r->nslots = (uint32_t)(RECV_POOL_MAX_BYTES / r->bufsize);
	if (r->nslots < 2)
		r->nslots = 2;
	r->pool_len = (size_t)r->nslots * r->bufsize;
	r->pool = mmap(NULL, r->pool_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	r->free_slots = calloc(r->nslots, sizeof(*r->free_slots));
	if (r->pool == MAP_FAILED || !r->free_slots) {
		if (r->pool == MAP_FAILED)
			r->pool = NULL;
		ret = dmakit_errf(serr, sizeof(serr), -ENOMEM,
				  "cannot allocate %u receive buffers of %u bytes",
				  r->nslots, r->bufsize);
		goto reject;
	}
	for (i = 0; i < r->nslots; i++)
		r->free_slots[r->nfree++] = r->nslots - 1 - i;

	snprintf(r->src.kind, sizeof(r->src.kind), "%s", h->kind);
	snprintf(r->src.name, sizeof(r->src.name), "%s", h->device);
	r->src.bufsize = h->bufsize;
	r->src.nbufs = h->nbufs;
	r->src.policy = DMAKIT_POLICY_DROP;
	r->src.payload = h->payload;
	r->src.dev_clock_hz = h->dev_clock_hz;
	so.bufsize = h->bufsize;
	so.pool = r->pool;
	so.pool_len = r->pool_len;
	so.nbufs = r->nslots;
	so.source = &r->src;
	so.stream_id = h->stream_id;
	ret = dmakit_sink_open(&r->sink, &so, serr, sizeof(serr));
	if (ret)
		goto reject;
	ret = net_write_frame(r->fd, &a, r->idle_ms, r->o->stop);
	if (ret)
		return dmakit_errf(r->err, r->errlen, ret, "sending ACCEPT: %s",
				   dmakit_strerror(ret));
	return 0;
reject:
	a.u.accept.status = ret;
	snprintf(a.u.accept.message, sizeof(a.u.accept.message), "%.*s",
		 (int)sizeof(a.u.accept.message) - 1, serr);
	net_write_frame(r->fd, &a, 2000, NULL);
	return dmakit_errf(r->err, r->errlen, ret, "%s", serr);
}

/*
 * Close without destroying what we sent last: closing a socket with unread
 * data makes the kernel reset the connection, and the peer's kernel then
 * drops our FINAL before the sender reads it.  Half-close, and discard
 * what still arrives until the sender closes (it does on FINAL).
 */
static void linger_close(int fd)
{
	uint64_t deadline = dmakit_deadline(RECV_LINGER_MS);
	char sink[16384];

	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = dmakit_remaining_ms(deadline);

		if (left == 0 || poll(&p, 1, left) <= 0)
			break;
		ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	close(fd);
}

static enum dmakit_result result_of(struct rx *r, int ret)
{
	if (r->st->got_end)
		return (enum dmakit_result)r->st->sender.result;
	/* the sink turns this into DISK_FULL or IO_ERROR itself */
	if (r->sink && dmakit_sink_error(r->sink))
		return DMAKIT_RESULT_COMPLETE;
	if (ret == -EINTR)
		return DMAKIT_RESULT_INTERRUPTED;
	/* the stream broke or lied: from here, the source failed */
	return DMAKIT_RESULT_DEVICE_ERROR;
}

int dmakit_recv(const struct dmakit_recv_opts *o,
		struct dmakit_recv_stats *out, char *err, size_t errlen)
{
	struct dmakit_recv_stats st;
	struct rx r = { .o = o, .st = &st, .err = err, .errlen = errlen,
			.fd = -1 };
	struct dmakit_sink_summary sum = { 0 };
	struct dmakit_frame fin = { .type = DMAKIT_FRAME_FINAL };
	int ret, cret;

	memset(&st, 0, sizeof(st));
	if (err && errlen)
		err[0] = '\0';
	if (!o || o->listen_fd < 0 || !o->sink.path)
		return dmakit_errf(err, errlen, -EINVAL,
				   "no listening socket or no output path");
	r.idle_ms = o->idle_timeout_ms > 0 ? o->idle_timeout_ms :
		    RECV_DEFAULT_IDLE_MS;
	/* refuse a target we would refuse at HELLO before anyone connects */
	ret = dmakit_sink_preflight(&o->sink, err, errlen);
	if (ret)
		goto out;
	ret = net_accept(o->listen_fd, o->accept_timeout_ms, o->stop, st.peer,
			 sizeof(st.peer), err, errlen);
	if (ret < 0)
		goto out;
	r.fd = ret;
	r.t0 = dmakit_now_ns();
	ret = start_stream(&r);
	if (ret)
		goto out;
	ret = receive(&r);

	/*
	 * Finish the recording whatever happened (close waits for the writes
	 * in flight; the pool outlives it), then tell the sender.
	 */
	sum.dropped = st.sender.dropped + st.sender.skipped + st.discarded;
	sum.result = result_of(&r, ret);
	if (ret)
		snprintf(sum.error, sizeof(sum.error), "stream from %s: %s",
			 st.peer, err);
	cret = dmakit_sink_close(r.sink, &sum, &st.recorded);
	r.sink = NULL;
	/* not durable is a failure, however the stream ended */
	if (cret) {
		char before[DMAKIT_ERRMSG_MAX];

		snprintf(before, sizeof(before), "%s", ret ? err : "");
		ret = dmakit_errf(err, errlen, cret, "%s%sthe recording %s",
				  before, before[0] ? "; " : "",
				  st.recorded.close_message);
	}
	if (!ret && st.recorded.error)
		ret = dmakit_errf(err, errlen, st.recorded.error, "writing: %s",
				  dmakit_strerror(st.recorded.error));
	if (!ret && st.recorded.result != DMAKIT_RESULT_COMPLETE)
		ret = dmakit_errf(err, errlen,
				  st.recorded.result == DMAKIT_RESULT_INTERRUPTED ?
				  -EINTR :
				  st.recorded.result == DMAKIT_RESULT_DEVICE_ERROR ?
				  -ENODEV : -ENODATA,
				  "the sender ended the stream early (%s)%s%s",
				  dmakit_result_name(st.recorded.result),
				  st.sender.message[0] ? ": " : "",
				  st.sender.message);
	/* the sender's own early end is not a failure of ours */
	fin.u.final.status = st.got_end && (ret == -EINTR || ret == -ENODATA ||
					    ret == -ENODEV) ? 0 : ret;
	fin.u.final.result = st.recorded.result;
	fin.u.final.buffers = st.recorded.buffers;
	fin.u.final.bytes = st.recorded.bytes;
	fin.u.final.discarded = st.discarded;
	snprintf(fin.u.final.message, sizeof(fin.u.final.message), "%s",
		 ret ? err : "");
	/* best effort: the sender may be gone */
	net_write_frame(r.fd, &fin, 2000, NULL);
	if (st.discarded)
		notice(&r, "%llu buffers were overwritten at the sender while being sent and were not recorded",
		       (unsigned long long)st.discarded);
out:
	if (r.sink) {
		sum.result = result_of(&r, ret);
		snprintf(sum.error, sizeof(sum.error), "%s", err);
		dmakit_sink_close(r.sink, &sum, &st.recorded);
	}
	if (r.fd >= 0)
		linger_close(r.fd);
	if (r.pool)
		munmap(r.pool, r.pool_len);
	free(r.free_slots);
	if (out)
		*out = st;
	return ret;
}
