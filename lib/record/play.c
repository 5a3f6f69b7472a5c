// SPDX-License-Identifier: MIT
/*
 * dmakit_play(): a recording written back into a card (an H2C channel such
 * as XDMA's /dev/xdma0_h2c_0), a FIFO or a file, buffer by buffer in
 * recording order.
 *
 * First the whole index is checked, before the target is opened: a
 * corrupt, unfinished or inconsistent recording is refused with nothing
 * written (the index is small: 64 bytes per buffer).  Then each buffer's
 * valid bytes are read into one of `depth` page-aligned buffers, checked
 * against the entry's CRC, and written with io_uring from those pages, so
 * a driver that DMAs from the caller's pages sends them with no copy.
 *
 * A stream target has no offsets: the writes in flight are linked
 * (IOSQE_IO_LINK) so the kernel issues each after the previous one
 * completed, in order.  A short write ends a chain (the rest come back
 * -ECANCELED having written nothing) and is issued again from where it
 * stopped, with the rest after it; a new chain starts once the previous
 * one has completed.  A file or block device is written at explicit
 * offsets, the writes independent.
 *
 * What the recording holds, and what is written for it:
 *   full buffer       its bytes
 *   short buffer      its valid bytes only (the rest of the slot is not
 *                     data), counted as truncated
 *   empty buffer      nothing, counted
 *   gap (lost > 0)    nothing stands in for the lost buffers: counted
 *   DMA-error buffer  refused before anything is written, or with
 *                     skip_dma_errors skipped and counted
 *   no CRC            written unchecked, counted
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "play_priv.h"

/* EINTR/EAGAIN/nothing written, in a row without progress, before failing */
#define PLAY_MAX_RETRIES	100
#define PLAY_RETRY_NS		10000000ULL	/* 10 ms between such retries */
/* how long cancelled writes may take to come back before giving up */
#define PLAY_CANCEL_MS		10000
#define CANCEL_TAG		0xcafeULL

static const char *const play_result_names[] = {
	[DMAKIT_PLAY_COMPLETE] = "complete",
	[DMAKIT_PLAY_INTERRUPTED] = "interrupted",
	[DMAKIT_PLAY_TARGET_ERROR] = "target-error",
	[DMAKIT_PLAY_CORRUPT] = "corrupt",
	[DMAKIT_PLAY_REFUSED] = "refused",
};

const char *dmakit_play_result_name(enum dmakit_play_result r)
{
	return (unsigned int)r < sizeof(play_result_names) /
				 sizeof(play_result_names[0]) ?
	       play_result_names[r] : "?";
}

/* The first ending wins: later errors are consequences of it. */
void play_fail(struct player *p, enum dmakit_play_result result, int error,
	       const char *fmt, ...)
{
	va_list ap;

	if (p->failed || p->stopping)
		return;
	p->failed = true;
	p->rep->result = result;
	p->rep->error = error;
	va_start(ap, fmt);
	vsnprintf(p->rep->message, sizeof(p->rep->message), fmt, ap);
	va_end(ap);
}

/* Reading ends at a bad buffer; what was queued before it is written. */
void play_corrupt(struct player *p, int error, const char *fmt, ...)
{
	va_list ap;

	p->corrupt = true;
	p->reading_done = true;
	p->corrupt_error = error;
	va_start(ap, fmt);
	vsnprintf(p->corrupt_message, sizeof(p->corrupt_message), fmt, ap);
	va_end(ap);
}

/* All @len bytes, fewer at end of file, or the error (even after some). */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	int err;
	ssize_t n = dmakit_pread_full(fd, buf, len, off, &err);

	return err ? err : n;
}

/* --- the recording, checked before anything is written --- */

static int read_header(struct player *p, char *err, size_t errlen)
{
	struct dmakit_idx_header *h = &p->hdr;
	ssize_t n = pread_full(p->idx_fd, h, sizeof(*h), 0);

	if (n < 0)
		return dmakit_errf(err, errlen, (int)n, "read %s: %s",
				   p->idx_path, dmakit_strerror((int)n));
	if ((size_t)n < sizeof(*h) ||
	    memcmp(h->magic, DMAKIT_IDX_MAGIC, sizeof(h->magic)))
		return dmakit_errf(err, errlen, -EBADMSG,
				   "%s is not a dmakit index", p->idx_path);
	if (h->version < 1 || h->version > DMAKIT_IDX_VERSION ||
	    h->header_size != sizeof(*h) ||
	    h->entry_size != sizeof(struct dmakit_idx_entry))
		return dmakit_errf(err, errlen, -EBADMSG,
				   "%s: unsupported index version %u (this dmakit reads 1..%d)",
				   p->idx_path, h->version, DMAKIT_IDX_VERSION);
	if (dmakit_idx_header_crc(h) != h->header_crc32c ||
	    h->bufsize < DMAKIT_RING_MIN_BUFSIZE ||
	    h->bufsize > DMAKIT_RING_MAX_BUFSIZE ||
	    h->bufsize % DMAKIT_RING_MIN_BUFSIZE)
		return dmakit_errf(err, errlen, -EBADMSG,
				   "the header of %s is corrupt: not playing it ('dmakit verify' tells more)",
				   p->idx_path);
	return 0;
}

/* Entries [first, first + n) of the index into p->ents; the count read. */
static ssize_t load_entries(struct player *p, uint64_t first)
{
	const uint64_t es = sizeof(struct dmakit_idx_entry);
	size_t want = p->nentries - first < PLAY_IDX_BATCH ?
		      (size_t)(p->nentries - first) : PLAY_IDX_BATCH;
	ssize_t n = pread_full(p->idx_fd, p->ents, want * es,
			       sizeof(struct dmakit_idx_header) + first * es);

	if (n < 0)
		return n;
	p->ents_first = first;
	p->ents_n = (size_t)n / es;
	return (ssize_t)p->ents_n;
}

/* Whether entry @e is written (else skipped: empty, or a skipped DMA error). */
static bool entry_played(const struct player *p,
			 const struct dmakit_idx_entry *e)
{
	if ((e->flags & DMAKIT_DESC_F_DMA_ERR) && p->o.skip_dma_errors)
		return false;
	return e->len > 0;
}

/*
 * The whole index: header, every entry (CRC, slot, sequence), the
 * trailer of a finished recording, the data file's size; the totals.
 */
static int check_recording(struct player *p, char *err, size_t errlen)
{
	const uint64_t hs = sizeof(struct dmakit_idx_header);
	const uint64_t es = sizeof(struct dmakit_idx_entry);
	struct dmakit_play_report *rep = p->rep;
	struct dmakit_sink_stats st;
	struct dmakit_idx_trailer t;
	uint64_t k, recs, prev_seq = 0, first_dma_seq = 0, end = 0;
	uint64_t per_pass_buffers = 0, per_pass_bytes = 0;
	uint64_t first_ts = 0, last_ts = 0, bytes_after_first = 0;
	uint32_t entries_crc = 0;
	bool have_trailer = false;
	struct stat sb;
	ssize_t n;
	int ret;

	ret = read_header(p, err, errlen);
	if (ret)
		return ret;
	if (fstat(p->idx_fd, &sb))
		return dmakit_errf(err, errlen, -errno, "stat %s: %s",
				   p->idx_path, strerror(errno));
	recs = (uint64_t)sb.st_size > hs ? ((uint64_t)sb.st_size - hs) / es : 0;
	if ((uint64_t)sb.st_size > hs && ((uint64_t)sb.st_size - hs) % es)
		return dmakit_errf(err, errlen, -EBADMSG,
				   "%s ends in the middle of an entry: the recording was not finished ('dmakit recover' finishes it)",
				   p->idx_path);
	p->nentries = recs;
	if (p->hdr.version >= 2) {
		if (recs && pread_full(p->idx_fd, &t, sizeof(t),
				       hs + (recs - 1) * es) == (ssize_t)sizeof(t) &&
		    dmakit_idx_is_trailer(&t)) {
			have_trailer = true;
			p->nentries = recs - 1;
		}
		if (!have_trailer)
			return dmakit_errf(err, errlen, -EBADMSG,
					   "%s has no trailer: the recording was not finished ('dmakit recover' finishes it)",
					   p->idx_path);
	}

	memset(&st, 0, sizeof(st));
	for (k = 0; k < p->nentries; k++) {
		const struct dmakit_idx_entry *e;

		if (k == p->ents_first + p->ents_n || k < p->ents_first) {
			n = load_entries(p, k);
			if (n < 0)
				return dmakit_errf(err, errlen, (int)n, "read %s: %s",
						   p->idx_path,
						   dmakit_strerror((int)n));
			if (n == 0)
				return dmakit_errf(err, errlen, -EBADMSG,
						   "%s ends early", p->idx_path);
		}
		e = &p->ents[k - p->ents_first];
		if (!dmakit_idx_entry_ok(e, k, p->hdr.bufsize))
			return dmakit_errf(err, errlen, -EBADMSG,
					   "%s: index entry %llu is corrupt: not playing a corrupt recording ('dmakit verify' tells more)",
					   p->idx_path, (unsigned long long)k);
		if (k && e->seq != prev_seq + 1 + e->lost)
			return dmakit_errf(err, errlen, -EBADMSG,
					   "%s: entry %llu: sequence %llu after %llu with %llu marked lost: buffers missing without an account ('dmakit verify' tells more)",
					   p->idx_path, (unsigned long long)k,
					   (unsigned long long)e->seq,
					   (unsigned long long)prev_seq,
					   (unsigned long long)e->lost);
		prev_seq = e->seq;
		dmakit_idx_account(&st, &entries_crc, p->hdr.bufsize, e);
		if ((e->flags & DMAKIT_DESC_F_DMA_ERR) && !rep->dma_errors++)
			first_dma_seq = e->seq;
		if (e->len && !(e->flags & DMAKIT_DESC_F_CRC))
			rep->unchecked++;
		if (entry_played(p, e)) {
			uint64_t ts = p->hdr.dev_clock_hz ? e->dev_ts :
							    e->host_ts;

			if (per_pass_buffers++)
				bytes_after_first += e->len;
			else
				first_ts = ts;
			last_ts = ts;
			per_pass_bytes += e->len;
		}
		if (e->len)
			end = e->offset + e->len;
	}
	if (have_trailer &&
	    (t.buffers != st.buffers || t.bytes != st.bytes ||
	     t.entries_crc32c != entries_crc ||
	     (st.buffers && (t.first_seq != st.first_seq ||
			     t.last_seq != st.last_seq))))
		return dmakit_errf(err, errlen, -EBADMSG,
				   "the trailer of %s does not match its entries: not playing a corrupt recording ('dmakit verify' tells more)",
				   p->idx_path);
	if (rep->dma_errors && !p->o.skip_dma_errors)
		return dmakit_errf(err, errlen, -EBADMSG,
				   "%s holds %llu buffers flagged as DMA errors (the first: seq %llu): their bytes are whatever the card left; not playing them unless asked to skip them",
				   p->data_path, (unsigned long long)rep->dma_errors,
				   (unsigned long long)first_dma_seq);
	if (fstat(p->data_fd, &sb))
		return dmakit_errf(err, errlen, -errno, "stat %s: %s",
				   p->data_path, strerror(errno));
	if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size < end)
		return dmakit_errf(err, errlen, -EBADMSG,
				   "%s ends at byte %llu, its index at %llu: data missing ('dmakit verify' tells more)",
				   p->data_path, (unsigned long long)sb.st_size,
				   (unsigned long long)end);
	rep->bufsize = p->hdr.bufsize;
	rep->rec_buffers = st.buffers;
	rep->gaps = st.gaps;
	rep->lost = st.lost + st.lost_before;
	rep->empty = st.empty;
	rep->truncated = st.truncated;
	if (per_pass_bytes > UINT64_MAX / p->o.loops)
		return dmakit_errf(err, errlen, -EINVAL,
				   "%u passes of %llu bytes are more bytes than can be counted",
				   p->o.loops, (unsigned long long)per_pass_bytes);
	/* the data rate the recording was made at, from its clock */
	if (last_ts > first_ts && bytes_after_first) {
		double hz = p->hdr.dev_clock_hz ? (double)p->hdr.dev_clock_hz :
						  1e9;

		p->rec_rate = (uint64_t)((double)bytes_after_first * hz /
					 (double)(last_ts - first_ts));
	}
	rep->total_buffers = per_pass_buffers * p->o.loops;
	rep->total_bytes = per_pass_bytes * p->o.loops;
	return 0;
}

/* --- playing --- */

static struct play_write *q_at(struct player *p, unsigned int i)
{
	return &p->q[(p->q_first + i) % p->qcap];
}

/* The next entry to write into *@e; false at the end of the last pass. */
bool play_next_entry(struct player *p, struct dmakit_idx_entry *e)
{
	for (;;) {
		if (p->entry == p->nentries) {
			if (++p->pass >= p->o.loops) {
				p->reading_done = true;
				return false;
			}
			p->entry = 0;
			continue;
		}
		if (p->entry < p->ents_first ||
		    p->entry >= p->ents_first + p->ents_n) {
			ssize_t n = load_entries(p, p->entry);

			if (n <= 0) {
				play_corrupt(p, n ? (int)n : -EBADMSG,
					"read %s: %s", p->idx_path,
					n ? dmakit_strerror((int)n) :
					"it ends early");
				return false;
			}
		}
		*e = p->ents[p->entry - p->ents_first];
		/* checked before; the file may have changed since */
		if (!dmakit_idx_entry_ok(e, p->entry, p->hdr.bufsize)) {
			play_corrupt(p, -EBADMSG,
				"%s: index entry %llu changed while playing",
				p->idx_path, (unsigned long long)p->entry);
			return false;
		}
		p->entry++;
		if (entry_played(p, e))
			return true;
	}
}

/*
 * Entry @e's bytes into @buf, checked against its CRC; false (the play
 * ends there, result corrupt) if they cannot be read or do not match.
 */
bool play_read_buffer(struct player *p, const struct dmakit_idx_entry *e,
		      void *buf)
{
	ssize_t n = pread_full(p->data_fd, buf, e->len, e->offset);

	if (n != (ssize_t)e->len) {
		play_corrupt(p, n < 0 ? (int)n : -EBADMSG,
			     "buffer seq %llu (entry %llu): read %s: %s: not written",
			     (unsigned long long)e->seq,
			     (unsigned long long)p->entry - 1, p->data_path,
			     n < 0 ? dmakit_strerror((int)n) : "it ends early");
		return false;
	}
	if (!dmakit_idx_data_ok(p->hdr.version, e, buf)) {
		play_corrupt(p, -EBADMSG,
			     "buffer seq %llu (entry %llu, offset %llu of %s): data CRC mismatch: not written",
			     (unsigned long long)e->seq,
			     (unsigned long long)p->entry - 1,
			     (unsigned long long)e->offset, p->data_path);
		return false;
	}
	return true;
}

/*
 * Queue buffers up to the queue's capacity: read, checked, ready to write.  With a
 * rate, not before their time: *@wait_ns is how long until the next one.
 */
static void fill_queue(struct player *p, uint64_t now, uint64_t *wait_ns)
{
	struct dmakit_idx_entry e;

	while (!p->failed && !p->stopping && !p->reading_done &&
	       p->q_n < p->qcap) {
		struct play_write *w = q_at(p, p->q_n);

		if (p->rate && p->started) {
			uint64_t due = p->t0 + (uint64_t)((double)p->queued_bytes *
							  1e9 / (double)p->rate);

			if (due > now) {
				if (due - now < *wait_ns)
					*wait_ns = due - now;
				return;
			}
		}
		if (!play_next_entry(p, &e) || !play_read_buffer(p, &e, w->buf))
			return;
		if (!p->started) {
			p->started = true;
			p->t0 = now;
		}
		w->len = e.len;
		w->done = 0;
		w->off = p->target_off;
		w->submitted = false;
		p->target_off += e.len;
		p->queued_bytes += e.len;
		p->q_n++;
	}
}

/*
 * Issue queued writes up to the depth in flight (a stream: one chain at a
 * time, in order).  The queue holds twice the depth, so the next buffers
 * are read and checked while these are written.
 */
static void submit_writes(struct player *p, uint64_t now)
{
	struct io_uring_sqe *sqe = NULL;
	unsigned int i, n = 0;
	int ret;

	if ((p->t.stream && p->in_flight) || now < p->retry_at)
		return;
	for (i = 0; i < p->q_n && p->in_flight + n < p->depth; i++) {
		struct play_write *w = q_at(p, i);

		if (w->submitted || w->done == w->len)
			continue;
		sqe = io_uring_get_sqe(&p->uring);
		if (!sqe)
			break;
		io_uring_prep_write(sqe, p->t.fd, (char *)w->buf + w->done,
				    w->len - w->done,
				    p->t.stream ? (uint64_t)-1 : w->off + w->done);
		io_uring_sqe_set_data64(sqe, (p->q_first + i) % p->qcap);
		if (p->t.stream)
			sqe->flags |= IOSQE_IO_LINK;
		w->submitted = true;
		n++;
	}
	if (!n)
		return;
	sqe->flags &= (uint8_t)~IOSQE_IO_LINK;	/* the chain ends here */
	do {
		ret = io_uring_submit(&p->uring);
	} while (ret == -EINTR);
	if (ret < 0) {
		for (i = 0; i < p->q_n; i++)
			q_at(p, i)->submitted = false;
		play_fail(p, DMAKIT_PLAY_TARGET_ERROR, ret, "io_uring submit: %s",
		     strerror(-ret));
		return;
	}
	p->in_flight += n;
}

static void complete(struct player *p, struct play_write *w, int res,
		     uint64_t now)
{
	struct dmakit_play_report *rep = p->rep;

	w->submitted = false;
	p->in_flight--;
	if (res > 0) {
		w->done += (uint32_t)res;
		p->retries_in_row = 0;
		if (w->done < w->len)
			rep->short_writes++;
		return;
	}
	if (res == -ECANCELED)
		return;		/* a broken chain, or our cancel: nothing written */
	if (res == 0 || res == -EINTR || res == -EAGAIN) {
		if (p->stopping || p->failed)
			return;
		rep->retries++;
		p->retry_at = now + PLAY_RETRY_NS;
		if (++p->retries_in_row > PLAY_MAX_RETRIES)
			play_fail(p, DMAKIT_PLAY_TARGET_ERROR, res ? res : -EIO,
			     "write %s: %s %d times in a row without progress",
			     p->t.path, res ? strerror(-res) : "nothing written",
			     PLAY_MAX_RETRIES + 1);
		return;
	}
	play_fail(p, DMAKIT_PLAY_TARGET_ERROR, res, "write %s: %s", p->t.path,
	     strerror(-res));
}

/* Wait up to @wait_ns for completions and take them all. */
static void reap(struct player *p, uint64_t wait_ns)
{
	struct __kernel_timespec ts = {
		.tv_sec = (long long)(wait_ns / 1000000000ULL),
		.tv_nsec = (long long)(wait_ns % 1000000000ULL),
	};
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_wait_cqe_timeout(&p->uring, &cqe, &ts);
	if (ret)
		return;		/* timeout, or a signal: the loop looks again */
	do {
		uint64_t tag = io_uring_cqe_get_data64(cqe);

		if (tag != CANCEL_TAG)
			complete(p, &p->q[tag % p->qcap], cqe->res,
				 dmakit_now_ns());
		io_uring_cqe_seen(&p->uring, cqe);
	} while (io_uring_peek_cqe(&p->uring, &cqe) == 0);
}

/* Written buffers leave the queue, in order. */
static void retire(struct player *p)
{
	while (p->q_n) {
		struct play_write *w = q_at(p, 0);

		if (w->submitted || w->done < w->len)
			break;
		p->rep->buffers++;
		p->rep->bytes += w->len;
		p->q_first = (p->q_first + 1) % p->qcap;
		p->q_n--;
	}
}

/* Ask the kernel to give up on every write in flight. */
static void cancel_writes(struct player *p)
{
	unsigned int i;

	for (i = 0; i < p->q_n; i++) {
		struct io_uring_sqe *sqe;

		if (!q_at(p, i)->submitted)
			continue;
		sqe = io_uring_get_sqe(&p->uring);
		if (!sqe)
			break;
		io_uring_prep_cancel64(sqe, (p->q_first + i) % p->qcap, 0);
		io_uring_sqe_set_data64(sqe, CANCEL_TAG);
	}
	io_uring_submit(&p->uring);
}

/* The progress callback: @bytes sent so far, @inflight on their way. */
void play_progress(struct player *p, uint64_t bytes, uint32_t inflight,
		   bool final)
{
	struct dmakit_play_progress pr;

	if (!p->o.progress)
		return;
	memset(&pr, 0, sizeof(pr));
	pr.seconds = p->started ?
		     (double)(dmakit_now_ns() - p->t0) / 1e9 : 0;
	pr.buffers = p->rep->buffers;
	pr.bytes = bytes;
	pr.total_bytes = p->rep->total_bytes;
	pr.inflight = inflight;
	pr.final = final;
	p->o.progress(p->o.progress_ctx, &pr);
}

static void progress(struct player *p, bool final)
{
	uint64_t bytes = p->rep->bytes;
	unsigned int i;

	for (i = 0; i < p->q_n; i++)
		bytes += q_at(p, i)->done;
	play_progress(p, bytes, p->in_flight, final);
}

bool play_stop_requested(const struct player *p)
{
	return p->o.stop && *p->o.stop;
}

static void play_loop(struct player *p)
{
	const uint64_t period = (uint64_t)(p->o.progress_ms ?
					   p->o.progress_ms : 500) * 1000000ULL;
	uint64_t cancel_deadline = 0;
	unsigned int i;

	p->next_progress = dmakit_now_ns() + period;
	for (;;) {
		uint64_t now = dmakit_now_ns(), wait_ns = PLAY_POLL_NS;

		if (play_stop_requested(p) && !p->stopping && !p->failed) {
			p->stopping = true;
			p->rep->result = DMAKIT_PLAY_INTERRUPTED;
			p->rep->error = -EINTR;
			snprintf(p->rep->message, sizeof(p->rep->message),
				 "stopped by request");
		}
		if ((p->stopping || p->failed) && p->in_flight &&
		    !cancel_deadline) {
			cancel_writes(p);
			cancel_deadline = now + PLAY_CANCEL_MS * 1000000ULL;
		}
		retire(p);
		fill_queue(p, now, &wait_ns);
		if (!p->in_flight &&
		    (p->stopping || p->failed || (!p->q_n && p->reading_done)))
			break;
		if (cancel_deadline && now > cancel_deadline) {
			/* the kernel still holds them: their pages stay */
			p->leak_buffers = true;
			break;
		}
		if (!p->stopping && !p->failed)
			submit_writes(p, now);
		if (p->retry_at > now && p->retry_at - now < wait_ns)
			wait_ns = p->retry_at - now;
		if (p->in_flight) {
			reap(p, wait_ns);
		} else if (!p->failed && !p->stopping) {
			struct timespec ts = {
				.tv_sec = (time_t)(wait_ns / 1000000000ULL),
				.tv_nsec = (long)(wait_ns % 1000000000ULL),
			};

			nanosleep(&ts, NULL);	/* pacing or a retry: a signal ends it */
		}
		if (dmakit_now_ns() >= p->next_progress) {
			progress(p, false);
			p->next_progress = dmakit_now_ns() + period;
		}
	}
	retire(p);
	for (i = 0; i < p->q_n; i++)
		p->rep->partial_bytes += q_at(p, i)->done;
	/* a bad buffer is the truer ending than a stop that came after */
	if (p->corrupt && !p->failed) {
		p->rep->result = DMAKIT_PLAY_CORRUPT;
		p->rep->error = p->corrupt_error;
		snprintf(p->rep->message, sizeof(p->rep->message), "%s",
			 p->corrupt_message);
	}
	p->rep->passes = p->reading_done && !p->corrupt && !p->failed &&
			 !p->stopping ? p->o.loops : p->pass;
	p->rep->seconds = p->started ?
			  (double)(dmakit_now_ns() - p->t0) / 1e9 : 0;
	progress(p, true);
}

static int alloc_buffers(struct player *p)
{
	unsigned int i;

	p->qcap = 2 * p->depth;
	for (i = 0; i < p->qcap; i++)
		if (posix_memalign(&p->q[i].buf, 4096, p->hdr.bufsize)) {
			p->q[i].buf = NULL;
			return -ENOMEM;
		}
	return 0;
}

static void player_free(struct player *p)
{
	unsigned int i;

	dmakit_tx_close(p->tx);
	if (p->uring_ready)
		io_uring_queue_exit(&p->uring);
	for (i = 0; i < 2 * PLAY_MAX_DEPTH && !p->leak_buffers; i++)
		free(p->q[i].buf);
	if (p->t.fd >= 0)
		close(p->t.fd);
	if (p->data_fd >= 0)
		close(p->data_fd);
	if (p->idx_fd >= 0)
		close(p->idx_fd);
	free(p->idx_path);
	free(p);
}

int dmakit_play(const char *path, const char *target,
		const struct dmakit_play_opts *opts,
		struct dmakit_play_report *rep, char *err, size_t errlen)
{
	struct player *p;
	char *meta_path;
	int rec_fds[3], ret;

	if (err && errlen)
		err[0] = '\0';
	if (!rep)
		return dmakit_errf(err, errlen, -EINVAL, "play: no report");
	memset(rep, 0, sizeof(*rep));
	if (!path || !*path)
		return dmakit_errf(err, errlen, -EINVAL, "play: no recording given");
	if (!target)
		target = "";
	p = calloc(1, sizeof(*p));
	if (!p)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	p->t.fd = p->data_fd = p->idx_fd = -1;
	p->rep = rep;
	p->data_path = path;
	if (opts)
		p->o = *opts;
	if (!p->o.loops)
		p->o.loops = 1;
	if (play_ring_target(target)) {
		snprintf(p->t.path, sizeof(p->t.path), "%s", target);
		p->depth = 1;
	} else {
		ret = play_target_parse(&p->t, target, err, errlen);
		if (ret)
			goto out;
		p->depth = p->t.depth;
	}
	snprintf(rep->target, sizeof(rep->target), "%s", p->t.path);
	rep->depth = p->depth;

	p->idx_path = dmakit_sidecar_name(p->o.sidecar ? p->o.sidecar : path,
					  ".idx");
	if (!p->idx_path) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	p->idx_fd = open(p->idx_path, O_RDONLY | O_CLOEXEC);
	if (p->idx_fd < 0) {
		ret = dmakit_errf(err, errlen, -errno, "open %s: %s",
				  p->idx_path, strerror(errno));
		goto out;
	}
	p->data_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->data_fd < 0) {
		ret = dmakit_errf(err, errlen, -errno, "open %s: %s", path,
				  strerror(errno));
		goto out;
	}
	posix_fadvise(p->data_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	ret = check_recording(p, err, errlen);
	if (ret)
		goto out;
	p->rate = p->o.rate;
	snprintf(rep->rate_source, sizeof(rep->rate_source), "%s",
		 p->o.rate ? "option" : "none");
	if (play_ring_target(target)) {
		if (!p->o.rate && p->rec_rate) {
			p->rate = p->rec_rate;
			snprintf(rep->rate_source, sizeof(rep->rate_source),
				 "recording");
		}
		rep->rate = p->rate;
		ret = play_ring_open(p, target, err, errlen);
		if (ret)
			goto out;
		play_ring_loop(p);
		ret = rep->error;
		if (ret)
			dmakit_errf(err, errlen, ret, "%s", rep->message);
		goto out;
	}
	rep->rate = p->rate;
	if (alloc_buffers(p)) {
		ret = dmakit_errf(err, errlen, -ENOMEM,
				  "out of memory for %u buffers of %u bytes",
				  2 * p->depth, p->hdr.bufsize);
		goto out;
	}
	ret = io_uring_queue_init(PLAY_MAX_DEPTH * 4, &p->uring, 0);
	if (ret) {
		ret = dmakit_errf(err, errlen, ret,
				  "play: io_uring setup: %s (needs Linux 5.6+ and io_uring enabled)",
				  strerror(-ret));
		goto out;
	}
	p->uring_ready = true;
	/* last: opening a FIFO waits for its reader */
	rec_fds[0] = p->data_fd;
	rec_fds[1] = p->idx_fd;
	meta_path = dmakit_sidecar_name(p->o.sidecar ? p->o.sidecar : path,
					".json");
	rec_fds[2] = meta_path ? open(meta_path, O_RDONLY | O_CLOEXEC) : -1;
	free(meta_path);
	ret = play_target_open(&p->t, p->o.force, p->o.stop, p->hdr.bufsize,
			       rec_fds, 3, err, errlen);
	if (rec_fds[2] >= 0)
		close(rec_fds[2]);
	if (ret) {
		if (ret == -EINTR) {
			rep->result = DMAKIT_PLAY_INTERRUPTED;
			rep->error = ret;
			snprintf(rep->message, sizeof(rep->message),
				 "stopped by request while opening %.200s",
				 p->t.path);
			dmakit_errf(err, errlen, ret, "%s", rep->message);
		}
		goto out;
	}
	play_loop(p);
	ret = rep->error;
	if (ret)
		dmakit_errf(err, errlen, ret, "%s", rep->message);
out:
	if (ret && !rep->error) {
		/* it ended before the first write */
		rep->result = DMAKIT_PLAY_REFUSED;
		rep->error = ret;
		if (!rep->message[0] && err)
			snprintf(rep->message, sizeof(rep->message), "%s", err);
	}
	player_free(p);
	return ret;
}
