// SPDX-License-Identifier: MIT
/*
 * dmakit_send(): a ring consumer feeding a TCP socket, zero-copy.
 *
 * Frames wait in a FIFO of transmit items.  An item is sent (possibly in
 * pieces), then "retired" once the kernel no longer reads its memory: at
 * once for a plain send, after its MSG_ZEROCOPY completions (error queue)
 * or its io_uring notification CQE otherwise.  Only then is the ring
 * buffer released, and for a lossy consumer only then is it known whether
 * the producer overwrote the slot while the kernel was reading it; if it
 * may have, a DISCARD frame says so (the receiver checks the CRC anyway).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <liburing.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "net.h"
#include "record/drain.h"

#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
/* Linux 6.2 uapi, newer than liburing 2.3's header */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

/* AUTO: after this many completions, all copied => stop asking. */
#define AUTO_ZC_PROBE	64
/* Outstanding MSG_ZEROCOPY ids we can map back to items. */
#define ZC_MAP_SIZE	8192
#define STATS_EVERY_NS	1000000000ULL
/* Busy loop passes between looks at what poll() did not report. */
#define LOOK_EVERY	8
#define CTRL_SLOTS	16

struct tx_item {
	unsigned char hdr[DMAKIT_FRAME_MAX_LEN];
	uint32_t hdr_len, data_len;
	const unsigned char *data;
	size_t off;			/* bytes of hdr + data sent */
	uint32_t zc_pending;		/* completions the kernel owes us */
	bool uring_busy;		/* an io_uring send is in flight */
	bool has_buf;
	uint8_t type;
	struct dmakit_buf buf;
	struct msghdr msg;		/* io_uring reads these until its CQE */
	struct iovec iov[2];
};

struct tx {
	struct dmakit_dev *dev;
	struct dmakit_consumer *cons;
	const struct dmakit_send_opts *o;
	struct dmakit_geometry geo;
	int fd;
	enum dmakit_zerocopy method;	/* MSG, URING or OFF */
	bool auto_zc;
	bool lossy;

	struct tx_item *items;
	uint32_t cap;
	uint64_t head, sent, tail;	/* retire <= transmit <= queue */

	uint32_t *zc_map;		/* MSG_ZEROCOPY id -> item position */
	uint32_t zc_next, zc_outstanding, zc_completions;
	bool zc_blocked;		/* ENOBUFS: wait for completions */

	struct io_uring ring;
	bool ring_ok, uring_inflight, uring_report;

	unsigned char rx[DMAKIT_FRAME_MAX_LEN];
	size_t rx_len;
	bool peer_closed;

	bool have_prev;
	uint64_t prev_seq, dropped0, queued_bytes;
	uint64_t pre_skipped;		/* lossy: found overwritten before send */
	bool started;			/* we started the source: we stop it */
	bool draining;			/* stopped: sending what it delivered */
	bool dropped_final;		/* drops read at the stop */
	struct rec_drain drain;
	enum dmakit_result drain_result;
	bool ending;
	enum dmakit_result end_result;
	char end_msg[DMAKIT_ERRMSG_MAX];	/* END carries its start */
	bool end_queued;
	bool want_out;

	struct dmakit_send_stats *st;
	char *err;
	size_t errlen;
};

static void notice(struct tx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void notice(struct tx *t, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!t->o->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->o->notice(t->o->notice_ctx, msg);
}

static struct tx_item *item_at(struct tx *t, uint64_t pos)
{
	return &t->items[pos % t->cap];
}

static size_t item_total(const struct tx_item *it)
{
	return (size_t)it->hdr_len + it->data_len;
}

/* Queue a control frame (no data); there is always room for a few. */
static int queue_ctrl(struct tx *t, const struct dmakit_frame *f)
{
	struct tx_item *it;
	int len;

	if (t->tail - t->head >= t->cap)
		return -ENOBUFS;
	it = item_at(t, t->tail);
	memset(it, 0, sizeof(*it));
	len = dmakit_frame_encode(f, it->hdr, sizeof(it->hdr));
	if (len < 0)
		return len;
	it->hdr_len = (uint32_t)len;
	it->type = f->type;
	t->tail++;
	return 0;
}

static void fill_stats(struct tx *t, struct dmakit_frame_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->buffers = t->st->buffers;
	s->bytes = t->st->bytes;
	s->dropped = t->st->dropped;
	s->skipped = t->st->skipped;
	s->discarded = t->st->discarded;
	s->zc_sends = t->st->zc_sends;
	s->zc_copied = t->st->zc_copied;
	s->result = t->end_result;
	/* the frame's field holds the start of a longer message */
	memcpy(s->message, t->end_msg,
	       strnlen(t->end_msg, sizeof(s->message) - 1));
}

static void update_dropped(struct tx *t)
{
	struct dmakit_stats cs;

	if (t->dropped_final)
		return;		/* later drops belong to no stream */
	if (dmakit_consumer_stats(t->cons, &cs) == 0) {
		t->st->dropped = cs.dropped - t->dropped0;
		t->st->skipped = cs.skipped + t->pre_skipped;
	}
}

/* ---- transmit ---------------------------------------------------------- */

/* Point it->iov at what is left to send; returns the iovec count. */
static int item_iov(struct tx_item *it)
{
	int n = 0;

	if (it->off < it->hdr_len) {
		it->iov[n].iov_base = it->hdr + it->off;
		it->iov[n].iov_len = it->hdr_len - it->off;
		n++;
		if (it->data_len) {
			it->iov[n].iov_base = (void *)it->data;
			it->iov[n].iov_len = it->data_len;
			n++;
		}
	} else {
		size_t doff = it->off - it->hdr_len;

		it->iov[n].iov_base = (void *)(it->data + doff);
		it->iov[n].iov_len = it->data_len - doff;
		n++;
	}
	return n;
}

/* One sendmsg() of an item; >0 bytes, -EAGAIN, or -errno. */
static int send_msg(struct tx *t, struct tx_item *it, uint64_t pos)
{
	struct msghdr msg = { .msg_iov = it->iov };
	bool zc = t->method == DMAKIT_ZC_MSG && it->data_len;
	int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
	ssize_t n;

	if (zc && t->zc_outstanding >= ZC_MAP_SIZE - 1) {
		t->zc_blocked = true;
		return -EAGAIN;
	}
	msg.msg_iovlen = (size_t)item_iov(it);
	n = sendmsg(t->fd, &msg, flags | (zc ? MSG_ZEROCOPY : 0));
	if (n < 0 && errno == ENOBUFS && zc) {
		/* optmem is full of pending notifications */
		if (t->zc_outstanding) {
			t->zc_blocked = true;
			return -EAGAIN;
		}
		zc = false;
		n = sendmsg(t->fd, &msg, flags);
	}
	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	it->off += (size_t)n;
	if (zc) {
		t->zc_map[t->zc_next % ZC_MAP_SIZE] = (uint32_t)(pos % t->cap);
		t->zc_next++;
		t->zc_outstanding++;
		it->zc_pending++;
		t->st->zc_sends++;
	}
	return (int)n;
}

static int uring_submit(struct tx *t, struct tx_item *it, uint64_t pos)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);
	int ret;

	if (!sqe)
		return -EBUSY;
	memset(&it->msg, 0, sizeof(it->msg));
	it->msg.msg_iov = it->iov;
	it->msg.msg_iovlen = (size_t)item_iov(it);
	io_uring_prep_sendmsg_zc(sqe, t->fd, &it->msg,
				 MSG_NOSIGNAL | MSG_WAITALL);
	if (t->uring_report)
		sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE;
	io_uring_sqe_set_data64(sqe, pos);
	ret = io_uring_submit(&t->ring);
	if (ret < 0)
		return ret;
	it->uring_busy = true;
	t->uring_inflight = true;
	return 0;
}

static int transmit(struct tx *t)
{
	/* out of notification space: completions (POLLERR) come first */
	if (t->zc_blocked)
		return 0;
	t->want_out = false;
	while (t->sent < t->tail) {
		struct tx_item *it = item_at(t, t->sent);
		int ret;

		if (it->off == item_total(it)) {
			t->sent++;
			continue;
		}
		if (t->method == DMAKIT_ZC_URING) {
			if (t->uring_inflight)
				return 0;
			return uring_submit(t, it, t->sent);
		}
		ret = send_msg(t, it, t->sent);
		if (ret == -EAGAIN) {
			t->want_out = !t->zc_blocked;
			return 0;
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- completions ------------------------------------------------------- */

static void zc_complete(struct tx *t, uint32_t lo, uint32_t hi, bool copied)
{
	uint32_t id;

	for (id = lo;; id++) {
		struct tx_item *it = &t->items[t->zc_map[id % ZC_MAP_SIZE]];

		if (it->zc_pending)
			it->zc_pending--;
		if (t->zc_outstanding)
			t->zc_outstanding--;
		t->zc_completions++;
		if (copied)
			t->st->zc_copied++;
		if (id == hi)
			break;
	}
	t->zc_blocked = false;
}

/* Read MSG_ZEROCOPY notifications from the socket's error queue. */
static int reap_errqueue(struct tx *t)
{
	for (;;) {
		char control[128];
		struct msghdr msg = {
			.msg_control = control,
			.msg_controllen = sizeof(control),
		};
		struct cmsghdr *cm;
		ssize_t n = recvmsg(t->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err serr;

			if (!((cm->cmsg_level == SOL_IP &&
			       cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == SOL_IPV6 &&
			       cm->cmsg_type == IPV6_RECVERR)))
				continue;
			memcpy(&serr, CMSG_DATA(cm), sizeof(serr));
			if (serr.ee_origin != SO_EE_ORIGIN_ZEROCOPY) {
				if (serr.ee_errno)
					return -(int)serr.ee_errno;
				continue;
			}
			zc_complete(t, serr.ee_info, serr.ee_data,
				    serr.ee_code & SO_EE_CODE_ZEROCOPY_COPIED);
		}
	}
}

static int reap_uring(struct tx *t)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&t->ring, &cqe) == 0) {
		uint64_t pos = io_uring_cqe_get_data64(cqe);
		struct tx_item *it = item_at(t, pos);
		int res = cqe->res;
		unsigned int flags = cqe->flags;

		io_uring_cqe_seen(&t->ring, cqe);
		if (flags & IORING_CQE_F_NOTIF) {
			if (it->zc_pending)
				it->zc_pending--;
			if (!it->data_len)
				continue;	/* control frames: not counted */
			t->zc_completions++;
			if ((uint32_t)res & IORING_NOTIF_USAGE_ZC_COPIED)
				t->st->zc_copied++;
			continue;
		}
		it->uring_busy = false;
		t->uring_inflight = false;
		if (flags & IORING_CQE_F_MORE)
			it->zc_pending++;
		if (res == -EINVAL && t->uring_report && !t->st->zc_sends) {
			/* a kernel before 6.2: no copy reporting */
			t->uring_report = false;
			notice(t, "this kernel cannot report copied io_uring zero-copy sends");
			continue;
		}
		if (res < 0)
			return dmakit_errf(t->err, t->errlen, res, "send: %s",
					   dmakit_strerror(res));
		it->off += (size_t)res;
		if (it->data_len)
			t->st->zc_sends++;
	}
	return 0;
}

/* AUTO: stop asking for zero-copy the kernel only pretends to do. */
static void auto_decide(struct tx *t)
{
	if (!t->auto_zc || t->method != DMAKIT_ZC_MSG ||
	    t->zc_completions < AUTO_ZC_PROBE)
		return;
	t->auto_zc = false;
	if (t->st->zc_copied < t->zc_completions)
		return;
	t->method = DMAKIT_ZC_OFF;
	notice(t, "the kernel copied every zero-copy send (loopback, or a NIC without scatter-gather): using plain sends");
}

/* ---- retire: the kernel is done with an item's memory ------------------- */

static int retire(struct tx *t)
{
	while (t->head < t->sent) {
		struct tx_item *it = item_at(t, t->head);

		if (it->off != item_total(it) || it->uring_busy ||
		    it->zc_pending)
			break;
		if (it->has_buf) {
			if (t->lossy &&
			    !dmakit_consumer_buf_valid(t->cons, &it->buf)) {
				struct dmakit_frame f = {
					.type = DMAKIT_FRAME_DISCARD,
					.u.discard = {
						.seq = it->buf.desc.seq,
						.reason = DMAKIT_DISCARD_OVERWRITTEN,
					},
				};

				t->st->discarded++;
				queue_ctrl(t, &f);
			}
			dmakit_consumer_release(t->cons, &it->buf);
			it->has_buf = false;
		}
		t->head++;
	}
	return 0;
}

/* ---- frames from the receiver ------------------------------------------ */

static int handle_peer_frame(struct tx *t, const struct dmakit_frame *f)
{
	if (f->type != DMAKIT_FRAME_FINAL)
		return dmakit_errf(t->err, t->errlen, -EPROTO,
				   "receiver sent an unexpected %s frame",
				   dmakit_frame_type_name(f->type));
	t->st->have_final = true;
	t->st->final = f->u.final;
	return 0;
}

/* Read whatever the receiver sent (non-blocking). */
static int read_peer(struct tx *t)
{
	for (;;) {
		size_t want = DMAKIT_FRAME_COMMON_LEN;
		struct dmakit_frame f;
		ssize_t n;
		int len, ret;

		if (t->rx_len >= DMAKIT_FRAME_COMMON_LEN) {
			len = dmakit_frame_peek(t->rx, t->rx_len, t->err,
						t->errlen);
			if (len < 0)
				return len;
			want = (size_t)len;
		}
		if (t->rx_len == want) {
			ret = dmakit_frame_decode(t->rx, want, &f, t->err,
						  t->errlen);
			if (ret)
				return ret;
			t->rx_len = 0;
			ret = handle_peer_frame(t, &f);
			if (ret)
				return ret;
			continue;
		}
		n = recv(t->fd, t->rx + t->rx_len, want - t->rx_len,
			 MSG_DONTWAIT);
		if (n > 0) {
			t->rx_len += (size_t)n;
			continue;
		}
		if (n == 0) {
			t->peer_closed = true;
			return 0;
		}
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return dmakit_errf(t->err, t->errlen, -errno,
				   errno == ECONNRESET ?
				   "the receiver closed the connection (reset)" :
				   "receiving from the receiver: %s",
				   strerror(errno));
	}
}

/* ---- pulling buffers from the ring -------------------------------------- */

static bool size_reached(struct tx *t)
{
	return t->o->max_bytes && t->queued_bytes >= t->o->max_bytes;
}

static bool time_up(struct tx *t, uint64_t t0)
{
	return t->o->max_seconds > 0 &&
	       (double)(dmakit_now_ns() - t0) / 1e9 >= t->o->max_seconds;
}

static void begin_end(struct tx *t, enum dmakit_result r, const char *msg)
{
	if (t->ending)
		return;
	t->ending = true;
	t->end_result = r;
	snprintf(t->end_msg, sizeof(t->end_msg), "%s", msg);
}

static int queue_buffer(struct tx *t, struct dmakit_buf *b)
{
	struct dmakit_frame f = { .type = DMAKIT_FRAME_BUF };
	struct dmakit_frame_buf *fb = &f.u.buf;
	struct tx_item *it;
	uint64_t lost;
	int len;

	/* an empty buffer (a bus fault's) goes as one, as record keeps it */
	if (b->desc.len > t->geo.bufsize) {
		dmakit_consumer_release(t->cons, b);
		return dmakit_errf(t->err, t->errlen, -EIO,
				   "device gave a buffer of %u bytes (bufsize %u)",
				   b->desc.len, t->geo.bufsize);
	}
	if (t->have_prev && b->desc.seq <= t->prev_seq) {
		dmakit_consumer_release(t->cons, b);
		return dmakit_errf(t->err, t->errlen, -EIO,
				   "device sequence went backwards (%llu after %llu)",
				   (unsigned long long)b->desc.seq,
				   (unsigned long long)t->prev_seq);
	}
	fb->crc32c = b->desc.crc32c;
	fb->flags = b->desc.flags & ~DMAKIT_DESC_F_GAP;
	if (t->lossy) {
		/*
		 * The receiver must be able to tell an overwritten buffer from
		 * an intact one: every lossy frame carries a CRC taken while
		 * the slot was known to be intact.
		 */
		if (!(fb->flags & DMAKIT_DESC_F_CRC)) {
			fb->crc32c = dmakit_crc32c(0, b->data, b->desc.len);
			fb->flags |= DMAKIT_DESC_F_CRC;
		}
		if (!dmakit_consumer_buf_valid(t->cons, b)) {
			t->pre_skipped++;
			dmakit_consumer_release(t->cons, b);
			return 0;
		}
	}
	lost = t->have_prev ? b->desc.seq - t->prev_seq - 1 : b->desc.lost;
	fb->seq = b->desc.seq;
	fb->dev_ts = b->desc.dev_ts;
	fb->host_ts = b->desc.host_ts;
	fb->lost = lost;
	fb->skipped = lost > b->desc.lost ?
		      (uint32_t)(lost - b->desc.lost > UINT32_MAX ? UINT32_MAX :
				 lost - b->desc.lost) : 0;
	if (lost)
		fb->flags |= DMAKIT_DESC_F_GAP;
	f.data_len = b->desc.len;

	it = item_at(t, t->tail);
	len = dmakit_frame_encode(&f, it->hdr, sizeof(it->hdr));
	if (len < 0)
		return len;
	it->hdr_len = (uint32_t)len;
	it->data_len = b->desc.len;
	it->data = b->data;
	it->off = 0;
	it->zc_pending = 0;
	it->uring_busy = false;
	it->has_buf = true;
	it->type = DMAKIT_FRAME_BUF;
	it->buf = *b;
	t->tail++;
	t->have_prev = true;
	t->prev_seq = b->desc.seq;
	t->queued_bytes += b->desc.len;
	t->st->buffers++;
	t->st->bytes += b->desc.len;
	return 0;
}

/*
 * A stop by time or by request: stop the source (if we started it) and
 * send what it delivered up to the head seen now, as 'dmakit record'
 * does (a chardev: reader's last partial buffer, the ring's backlog),
 * within drain.h's bounds.
 */
static void begin_drain(struct tx *t, bool by_request)
{
	if (t->started) {
		dmakit_stop(t->dev);
		t->started = false;
	}
	rec_drain_begin(&t->drain, DMAKIT_LOAD_ACQUIRE(&t->dev->ctrl->head),
			t->o->stop, by_request);
	/* read after the head: every loss a drained buffer carries is in it */
	update_dropped(t);
	t->dropped_final = true;
	t->draining = true;
	t->drain_result = by_request ? DMAKIT_RESULT_INTERRUPTED :
				       DMAKIT_RESULT_COMPLETE;
}

/* Whether the drain is over; ends the stream then. */
static bool drain_over(struct tx *t)
{
	enum rec_drain_state why;
	enum dmakit_result r;
	char msg[DMAKIT_ERRMSG_MAX];
	uint64_t left;

	if (t->cons->next_pos >= t->drain.end_pos || size_reached(t)) {
		begin_end(t, t->drain_result,
			  t->drain_result == DMAKIT_RESULT_INTERRUPTED ?
			  "interrupted" : "");
		return true;
	}
	why = rec_drain_check(&t->drain);
	if (why == REC_DRAIN_GOING)
		return false;
	left = t->drain.end_pos - t->cons->next_pos;
	t->st->not_taken = left;
	r = rec_drain_cut(why, left, "sent", msg, sizeof(msg));
	begin_end(t, r, msg);
	return true;
}

/* Take every available buffer while there is room; 1 if any was taken. */
static int pull(struct tx *t, uint64_t t0)
{
	int taken = 0;

	while (!t->ending && t->tail - t->head < t->cap - CTRL_SLOTS) {
		struct dmakit_buf b;
		int ret;

		if (!t->draining) {
			bool asked = net_stopped(t->o->stop);

			if (asked || time_up(t, t0))
				begin_drain(t, asked);
			else if (size_reached(t)) {
				begin_end(t, DMAKIT_RESULT_COMPLETE, "");
				break;
			}
		}
		if (t->draining && drain_over(t))
			break;
		ret = dmakit_consumer_next(t->cons, &b, 0);
		if (ret == -ETIMEDOUT || ret == -ENOBUFS)
			break;
		if (ret == -ENODATA) {
			if (t->draining)	/* it ended before its stop */
				begin_end(t, t->drain_result, "");
			else
				begin_end(t, DMAKIT_RESULT_SOURCE_ENDED,
					  "the source stopped producing");
			break;
		}
		if (ret < 0) {
			begin_end(t, DMAKIT_RESULT_DEVICE_ERROR,
				  dmakit_strerror(ret));
			break;
		}
		ret = queue_buffer(t, &b);
		if (ret)
			return ret;
		if (t->draining)
			rec_drain_got(&t->drain);
		taken = 1;
	}
	return taken;
}

/* ---- setup ---------------------------------------------------------- */

static int setup_method(struct tx *t)
{
	int one = 1, ret;

	t->method = t->o->zerocopy;
	t->auto_zc = t->method == DMAKIT_ZC_AUTO;
	if (t->auto_zc)
		t->method = DMAKIT_ZC_MSG;
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (t->o->sndbuf > 0)
		setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &t->o->sndbuf,
			   sizeof(t->o->sndbuf));
	if (t->method == DMAKIT_ZC_MSG) {
		if (setsockopt(t->fd, SOL_SOCKET, SO_ZEROCOPY, &one,
			       sizeof(one)) < 0) {
			ret = -errno;
			if (!t->auto_zc)
				return dmakit_errf(t->err, t->errlen, ret,
						   "SO_ZEROCOPY: %s (kernel older than 4.14?)",
						   strerror(-ret));
			notice(t, "SO_ZEROCOPY: %s: using plain sends",
			       strerror(-ret));
			t->method = DMAKIT_ZC_OFF;
			t->auto_zc = false;
		}
	}
	if (t->method == DMAKIT_ZC_URING) {
		struct io_uring_probe *probe;

		/*
		 * io_uring waits for socket space itself; a blocking socket
		 * keeps it from failing sends with EAGAIN
		 */
		fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) & ~O_NONBLOCK);
		ret = io_uring_queue_init(64, &t->ring, 0);
		if (ret < 0)
			return dmakit_errf(t->err, t->errlen, ret,
					   "io_uring: %s", strerror(-ret));
		t->ring_ok = true;
		probe = io_uring_get_probe_ring(&t->ring);
		ret = probe && io_uring_opcode_supported(probe,
							 IORING_OP_SENDMSG_ZC);
		io_uring_free_probe(probe);
		if (!ret)
			return dmakit_errf(t->err, t->errlen, -EOPNOTSUPP,
					   "io_uring SENDMSG_ZC needs Linux 6.1 or later");
		t->uring_report = true;
	}
	return 0;
}

static int handshake(struct tx *t)
{
	int tmo = t->o->connect_timeout_ms > 0 ? t->o->connect_timeout_ms : 10000;
	struct dmakit_frame f = { .type = DMAKIT_FRAME_HELLO };
	struct dmakit_frame_hello *h = &f.u.hello;
	struct timespec rt;
	bool clean;
	int ret;

	clock_gettime(CLOCK_REALTIME, &rt);
	h->bufsize = t->geo.bufsize;
	h->nbufs = t->geo.nbufs;
	h->payload = t->geo.payload;
	h->flags = t->lossy ? DMAKIT_STREAM_F_LOSSY : 0;
	h->dev_clock_hz = t->geo.dev_clock_hz;
	/* published before the state (the driver's start, ring.h) */
	DMAKIT_LOAD_ACQUIRE(&t->dev->ctrl->state);
	h->stream_id = DMAKIT_LOAD_RELAXED(&t->dev->ctrl->stream_id);
	h->start_realtime_ns = (uint64_t)rt.tv_sec * 1000000000ULL +
			       (uint64_t)rt.tv_nsec;
	snprintf(h->kind, sizeof(h->kind), "%s", t->geo.kind);
	snprintf(h->device, sizeof(h->device), "%s", t->geo.name);
	ret = net_write_frame(t->fd, &f, tmo, t->o->stop);
	if (ret)
		return dmakit_errf(t->err, t->errlen, ret, "sending HELLO: %s",
				   dmakit_strerror(ret));
	ret = net_read_frame(t->fd, &f, tmo, t->o->stop, &clean, t->err,
			     t->errlen);
	if (ret == -ECONNRESET)
		return dmakit_errf(t->err, t->errlen, -ECONNRESET,
				   "the receiver closed the connection before accepting the stream");
	if (ret)
		return ret;
	if (f.type != DMAKIT_FRAME_ACCEPT)
		return dmakit_errf(t->err, t->errlen, -EPROTO,
				   "expected ACCEPT, the receiver sent %s",
				   dmakit_frame_type_name(f.type));
	if (f.u.accept.status)
		return dmakit_errf(t->err, t->errlen,
				   f.u.accept.status < 0 ? f.u.accept.status : -EPROTO,
				   "the receiver rejected the stream: %s",
				   f.u.accept.message);
	return 0;
}

/* ---- the loop ---------------------------------------------------------- */

static int run(struct tx *t)
{
	const struct dmakit_send_opts *o = t->o;
	uint64_t t0 = dmakit_now_ns(), next_stats = t0 + STATS_EVERY_NS;
	uint64_t next_progress = t0 + (uint64_t)o->progress_ms * 1000000ULL;
	int cfd = dmakit_consumer_fd(t->cons);
	/* what the socket is known to have to say; at first: look at all */
	short revents = POLLIN | POLLOUT | POLLERR;
	unsigned int pass = 0;
	int ret;

	for (;;) {
		uint64_t head0 = t->head, sent0 = t->sent, now;
		int np = 0, tmo = NET_POLL_SLICE_MS, pulled;
		bool look = ++pass % LOOK_EVERY == 0;
		struct pollfd p[3];

		/* a second stop request does not wait for a stalled peer */
		if (o->stop && *o->stop > 1)
			return dmakit_errf(t->err, t->errlen, -ECANCELED,
					   "interrupted twice: stream cut without END");
		/*
		 * Syscalls only where poll() said there is something (an
		 * error-queue read or a recv that would say EAGAIN costs as
		 * much as a useful one), and every few busy passes anyway.
		 */
		if (t->method == DMAKIT_ZC_URING)
			ret = reap_uring(t);	/* no syscall: the CQ ring */
		else if ((revents & POLLERR) || look)
			ret = reap_errqueue(t);
		else
			ret = 0;
		if (ret)
			return dmakit_errf(t->err, t->errlen, ret,
					   "send: %s", dmakit_strerror(ret));
		auto_decide(t);
		retire(t);
		if ((revents & (POLLIN | POLLHUP | POLLERR)) || look) {
			ret = read_peer(t);
			if (ret)
				return ret;
		}
		if (t->st->have_final && t->st->final.status)
			return dmakit_errf(t->err, t->errlen, -ECONNABORTED,
					   "the receiver failed: %s",
					   t->st->final.message);
		/*
		 * FINAL answers END: the receiver has everything, even if the
		 * kernel has not yet told us it is done with END's memory.
		 */
		if (t->st->have_final && t->end_queued)
			return 0;
		if (t->st->have_final)
			return dmakit_errf(t->err, t->errlen, -EPROTO,
					   "the receiver ended the stream before END");
		if (t->peer_closed)
			return dmakit_errf(t->err, t->errlen, -ECONNRESET,
					   "the receiver closed the connection");
		pulled = pull(t, t0);
		if (pulled < 0)
			return pulled;
		now = dmakit_now_ns();
		if (now >= next_stats && !t->ending) {
			struct dmakit_frame f = { .type = DMAKIT_FRAME_STATS };

			update_dropped(t);
			fill_stats(t, &f.u.stats);
			queue_ctrl(t, &f);
			next_stats = now + STATS_EVERY_NS;
		}
		if (o->progress && o->progress_ms && now >= next_progress) {
			struct dmakit_send_progress pr = { 0 };
			struct dmakit_stats cs;

			update_dropped(t);
			dmakit_consumer_stats(t->cons, &cs);
			pr.seconds = (double)(now - t0) / 1e9;
			pr.buffers = t->st->buffers;
			pr.bytes = t->st->bytes;
			pr.dropped = t->st->dropped;
			pr.skipped = t->st->skipped;
			pr.discarded = t->st->discarded;
			pr.ring_fill = cs.fill;
			pr.nbufs = t->geo.nbufs;
			pr.inflight = (uint32_t)(t->tail - t->head);
			o->progress(o->progress_ctx, &pr);
			next_progress = now + (uint64_t)o->progress_ms * 1000000ULL;
		}
		if (t->ending && !t->end_queued && t->head == t->tail) {
			struct dmakit_frame f = { .type = DMAKIT_FRAME_END };

			update_dropped(t);
			fill_stats(t, &f.u.stats);
			queue_ctrl(t, &f);
			t->end_queued = true;
		}
		/* after EAGAIN, only POLLOUT (or an error) makes room */
		ret = t->want_out && !(revents & (POLLOUT | POLLHUP | POLLERR)) &&
		      !look ? 0 : transmit(t);
		if (ret)
			return dmakit_errf(t->err, t->errlen, ret, "send: %s",
					   ret == -EPIPE || ret == -ECONNRESET ?
					   "the receiver closed the connection" :
					   dmakit_strerror(ret));
		retire(t);
		if (t->end_queued && t->head == t->tail)
			return 0;
		if (pulled || t->head != head0 || t->sent != sent0) {
			revents = 0;
			continue;
		}

		p[np++] = (struct pollfd){
			.fd = t->fd,
			.events = POLLIN | (t->want_out ? POLLOUT : 0),
		};
		if (t->ring_ok)
			p[np++] = (struct pollfd){ .fd = t->ring.ring_fd,
						   .events = POLLIN };
		if (!t->ending && t->tail - t->head < t->cap - CTRL_SLOTS)
			p[np++] = (struct pollfd){ .fd = cfd, .events = POLLIN };
		if (o->max_seconds > 0 && !t->ending && !t->draining) {
			double left = o->max_seconds -
				      (double)(dmakit_now_ns() - t0) / 1e9;

			if (left * 1000 < tmo)
				tmo = left > 0 ? (int)(left * 1000) + 1 : 0;
		}
		ret = poll(p, (nfds_t)np, tmo);
		if (ret < 0 && errno != EINTR)
			return dmakit_errf(t->err, t->errlen, -errno, "poll: %s",
					   strerror(errno));
		revents = ret > 0 ? p[0].revents : 0;
	}
}

/* After END: wait for the receiver's FINAL. */
static int wait_final(struct tx *t)
{
	int tmo = t->o->final_timeout_ms > 0 ? t->o->final_timeout_ms : 60000;
	uint64_t deadline = dmakit_deadline(tmo);
	int ret;

	while (!t->st->have_final) {
		struct pollfd p = { .fd = t->fd, .events = POLLIN };
		int left = dmakit_remaining_ms(deadline);

		if (left == 0)
			return dmakit_errf(t->err, t->errlen, -ETIMEDOUT,
					   "the receiver did not confirm the end of the stream within %d s",
					   tmo / 1000);
		/* a second stop request does not wait for the receiver */
		if (net_stopped(t->o->stop) && *t->o->stop > 1)
			return dmakit_errf(t->err, t->errlen, -ECANCELED,
					   "interrupted twice: the receiver did not confirm the end of the stream");
		if (poll(&p, 1, left > NET_POLL_SLICE_MS ? NET_POLL_SLICE_MS : left) < 0 &&
		    errno != EINTR)
			return -errno;
		ret = read_peer(t);
		if (ret)
			return ret;
		if (t->peer_closed && !t->st->have_final)
			return dmakit_errf(t->err, t->errlen, -ECONNRESET,
					   "the receiver closed the connection before confirming the end");
	}
	return 0;
}

int dmakit_send(struct dmakit_dev *dev, const struct dmakit_send_opts *o,
		struct dmakit_send_stats *out, char *err, size_t errlen)
{
	struct dmakit_send_stats st = { 0 };
	struct tx t = { .dev = dev, .o = o, .st = &st, .err = err,
			.errlen = errlen, .fd = -1 };
	struct dmakit_stats cs;
	bool streamed = false;
	char peer[64];
	uint64_t t0;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!dev || !o || !o->addr)
		return dmakit_errf(err, errlen, -EINVAL, "no device or address");
	if (o->mode != DMAKIT_RELIABLE && o->mode != DMAKIT_LOSSY)
		return dmakit_errf(err, errlen, -EINVAL, "bad consumer mode");
	if ((unsigned int)o->zerocopy > DMAKIT_ZC_OFF)
		return dmakit_errf(err, errlen, -EINVAL, "bad zero-copy method");
	dmakit_get_geometry(dev, &t.geo);
	t.lossy = o->mode == DMAKIT_LOSSY;
	t.cap = t.geo.nbufs + CTRL_SLOTS;
	t.items = calloc(t.cap, sizeof(*t.items));
	t.zc_map = calloc(ZC_MAP_SIZE, sizeof(*t.zc_map));
	if (!t.items || !t.zc_map) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	ret = net_connect(o->addr, o->connect_timeout_ms > 0 ?
			  o->connect_timeout_ms : 10000, o->stop, peer,
			  sizeof(peer), err, errlen);
	if (ret < 0)
		goto out;
	t.fd = ret;
	ret = setup_method(&t);
	if (ret)
		goto out;
	/*
	 * Attached before the start, as dmakit_record() does: every buffer
	 * the start makes is ours to send or to count as dropped.  (Attached
	 * after it, the buffers made during the handshake were neither sent
	 * nor counted.)  While the receiver sets up, a pausable source
	 * waits and a live one drops and counts.
	 */
	ret = dmakit_consumer_attach(dev, o->mode, &t.cons);
	if (ret) {
		dmakit_errf(err, errlen, ret, "attach a consumer: %s",
			    dmakit_strerror(ret));
		goto out;
	}
	dmakit_consumer_stats(t.cons, &cs);
	t.dropped0 = cs.dropped;
	/* start it unless running, stop what we start; before HELLO: a
	 * start gives the stream its id */
	ret = dmakit_start(dev);
	if (ret == 0) {
		t.started = true;
	} else if (ret != -EALREADY) {
		dmakit_errf(err, errlen, ret, "start: %s",
			    dmakit_strerror(ret));
		goto out;
	}
	ret = handshake(&t);
	if (ret)
		goto out;
	t0 = dmakit_now_ns();
	ret = run(&t);
	st.seconds = (double)(dmakit_now_ns() - t0) / 1e9;
	if (ret == 0)
		ret = wait_final(&t);
	if (ret == 0) {
		if (st.final.status)
			ret = dmakit_errf(err, errlen, -ECONNABORTED,
					  "the receiver failed: %s",
					  st.final.message);
		else if (t.end_result == DMAKIT_RESULT_INTERRUPTED)
			ret = dmakit_errf(err, errlen, -EINTR, "%s",
					  t.end_msg[0] ? t.end_msg :
					  "interrupted");
		else if (t.end_result == DMAKIT_RESULT_SOURCE_ENDED)
			ret = dmakit_errf(err, errlen, -ENODATA,
					  "the source stopped producing");
		else if (t.end_result == DMAKIT_RESULT_DEVICE_ERROR)
			ret = dmakit_errf(err, errlen, -ENODEV,
					  "device failed: %s", t.end_msg);
	}
	st.result = ret == 0 ? DMAKIT_RESULT_COMPLETE : t.ending ?
		    t.end_result : DMAKIT_RESULT_IO_ERROR;
	/* "complete" only for a stream that ended well on both sides */
	if (ret && st.result == DMAKIT_RESULT_COMPLETE)
		st.result = st.have_final &&
			    st.final.result != DMAKIT_RESULT_COMPLETE ?
			    (enum dmakit_result)st.final.result :
			    DMAKIT_RESULT_IO_ERROR;
	streamed = true;
	/* counters stay as END reported them: later drops are no one's */
	if (!t.end_queued)
		update_dropped(&t);
out:
	/*
	 * Close the socket before releasing buffers still in flight: the
	 * kernel keeps its own page references, and nobody reads the
	 * stream any more.
	 */
	if (t.fd >= 0)
		close(t.fd);
	if (t.ring_ok)
		io_uring_queue_exit(&t.ring);
	if (t.started)
		dmakit_stop(dev);
	if (t.cons) {
		if (dmakit_consumer_stats(t.cons, &cs) == 0)
			st.producer_cpu_ns = cs.producer_cpu_ns;
		for (; t.head < t.tail; t.head++) {
			struct tx_item *it = item_at(&t, t.head);

			if (it->has_buf)
				dmakit_consumer_release(t.cons, &it->buf);
		}
		dmakit_consumer_detach(t.cons);
	}
	/* ended before streaming (connect, handshake): never "complete" */
	if (!streamed)
		st.result = ret == -EINTR ? DMAKIT_RESULT_INTERRUPTED :
			    ret == -ENODEV ? DMAKIT_RESULT_DEVICE_ERROR :
					     DMAKIT_RESULT_IO_ERROR;
	st.zerocopy = t.method;
	free(t.items);
	free(t.zc_map);
	if (out)
		*out = st;
	return ret;
}
