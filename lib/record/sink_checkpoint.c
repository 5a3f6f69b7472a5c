// SPDX-License-Identifier: MIT
/*
 * Checkpoints: every checkpoint_ms a thread makes the data and the index
 * written so far durable (fdatasync of both) and only then publishes
 * metadata naming them (temporary file, fsync, rename), so the recorder
 * never waits for a flush and the metadata never claims more than is
 * durable.  dmakit_recover() relies on that claim: after a crash it keeps
 * at least checkpoint_buffers entries.
 *
 * A flush is what a checkpoint costs: on a disk that stalls its queue for
 * one (a virtual disk flushing its host's cache), each of them takes a
 * bite of the recording's throughput.  So the two fdatasyncs go to the
 * kernel together (io_uring: a journalling file system commits both in
 * one transaction), and the rename is left to the next commit instead of
 * a directory fsync of its own: two flushes a checkpoint instead of four.
 *
 * A copying engine indexes a buffer only once its window (32 or 64 MiB)
 * was written back, so a slow source would reach no checkpoint for
 * minutes.  Its checkpoints first sync the data copied so far (a window
 * still filling included) and index those buffers; the second step then
 * needs to sync the index only: still two flushes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "meta.h"
#include "sink.h"

/*
 * fdatasync of the data (when @data: bytes @off..@off+@len, @len 0: to
 * the end) and of the index (when @index): in flight together through
 * @ring while *@ring_ok, else (no io_uring here, or the ring failed) one
 * after the other, of the whole files.  A copying engine's range leaves
 * the pages it has not filled yet alone: mmap windows populated ahead are
 * dirty zeros, which a whole-file sync would write and write-protect.
 */
static int sync_files(struct dmakit_sink *s, struct io_uring *ring,
		      bool *ring_ok, bool data, uint64_t off, uint64_t len,
		      bool index)
{
	int fds[2], n = 0;
	struct io_uring_cqe *cqe;
	int i, r, ret = 0, got = 0;

	if (data)
		fds[n++] = s->fd;
	if (index)
		fds[n++] = s->idx_fd;
	if (len > UINT32_MAX)		/* the SQE's length is 32 bits */
		len = 0;
	if (*ring_ok) {
		for (i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

			io_uring_prep_fsync(sqe, fds[i], IORING_FSYNC_DATASYNC);
			if (fds[i] == s->fd) {
				sqe->off = off;
				sqe->len = (uint32_t)len;
			}
		}
		got = io_uring_submit(ring);
		for (i = 0; i < got; i++) {
			do
				r = io_uring_wait_cqe(ring, &cqe);
			while (r == -EINTR);
			if (r < 0)
				break;
			if (cqe->res < 0 && !ret)
				ret = cqe->res;
			io_uring_cqe_seen(ring, cqe);
		}
		if (got == n && i == n)
			return ret;
		*ring_ok = false;	/* not every answer came: do it here */
	}
	for (i = 0; i < n; i++)
		if (fdatasync(fds[i]))
			return -errno;
	return 0;
}

/* Step one of a copying engine's checkpoint: the data copied so far. */
static void sync_data(struct dmakit_sink *s, struct sink_ckpt *c,
		      struct io_uring *ring, bool *ring_ok)
{
	uint64_t off = c->data_off, end = c->want_synced;
	int ret;

	pthread_mutex_unlock(&c->lock);
	ret = sync_files(s, ring, ring_ok, true, off, end - off, false);
	pthread_mutex_lock(&c->lock);
	c->data_job = false;
	if (ret && !c->error)
		c->error = ret;
	else if (!ret)
		c->done_synced = end;
	pthread_cond_broadcast(&c->cond);
}

/* The thread: publishes the metadata text the caller handed it. */
static void *checkpoint_thread(void *arg)
{
	struct dmakit_sink *s = arg;
	struct sink_ckpt *c = &s->ckpt;
	struct io_uring ring;
	bool have_ring, ring_ok;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	have_ring = io_uring_queue_init(2, &ring, 0) == 0;
	ring_ok = have_ring;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		char *text;
		size_t len;
		uint64_t buffers, last_seq;
		bool data;
		uint64_t off, dlen;
		int ret = 0;

		while (!c->text && !c->data_job && !c->quit)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->data_job) {
			sync_data(s, c, &ring, &ring_ok);
			continue;
		}
		if (!c->text)
			break;
		text = c->text;
		len = c->len;
		buffers = c->want_buffers;
		last_seq = c->want_last_seq;
		data = c->data;
		off = c->data_off;
		dlen = c->data_len;
		pthread_mutex_unlock(&c->lock);

		ret = sync_files(s, &ring, &ring_ok, data, off, dlen, true);
		if (!ret)
			ret = rec_meta_publish(s->meta_path, "ckpt", text, len);
		free(text);

		pthread_mutex_lock(&c->lock);
		c->text = NULL;
		if (ret) {
			if (!c->error)
				c->error = ret;
		} else {
			c->done++;
			c->done_buffers = buffers;
			c->done_last_seq = last_seq;
		}
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	if (have_ring)
		io_uring_queue_exit(&ring);
	return NULL;
}

void dmakit_sink_checkpoint_start(struct dmakit_sink *s)
{
	struct sink_ckpt *c = &s->ckpt;

	if (s->ckpt_ms < 0)
		return;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->next_ns = s->t_open_ns + (uint64_t)s->ckpt_ms * 1000000ULL;
	if (pthread_create(&c->thread, NULL, checkpoint_thread, s)) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		dmakit_sink_notice(s, "no checkpoint thread: %s is made durable only at the end",
				   s->data_path);
		return;
	}
	c->running = true;
}

/* Take what the thread finished into the counters (caller's thread). */
static void checkpoint_collect(struct dmakit_sink *s)
{
	struct sink_ckpt *c = &s->ckpt;

	if (!c->running)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->done_synced > c->synced)
		c->synced = c->done_synced;
	if (c->done > s->st.checkpoints) {
		s->st.checkpoints = c->done;
		s->st.checkpoint_buffers = c->done_buffers;
		s->ckpt_last_seq = c->done_last_seq;
		s->ckpt_seconds = c->done_seconds;
	}
	if (c->error && !c->error_told) {
		c->error_told = true;
		dmakit_sink_notice(s, "checkpoint of %s failed: %s (the recording goes on; recovery after a crash may keep less)",
				   s->data_path, dmakit_strerror(c->error));
	}
	pthread_mutex_unlock(&c->lock);
}

/*
 * A copying engine's buffers wait for their window's writeback (up to
 * 64 MiB) before they are indexed: have the thread sync what is copied
 * first, so a checkpoint covers every buffer completed when it was due
 * (true: a data sync was handed over, the checkpoint proper comes later).
 */
static bool checkpoint_sync_data(struct dmakit_sink *s)
{
	struct sink_ckpt *c = &s->ckpt;

	if (!s->eng->copies || c->data_step || !s->npending ||
	    s->completed_end <= c->synced)
		return false;
	c->data_step = true;	/* once per checkpoint, even if it fails */
	pthread_mutex_lock(&c->lock);
	c->data_job = true;
	c->data_off = c->synced;
	c->want_synced = s->completed_end;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return true;
}

/* Hand a checkpoint to the thread if one is due and it is idle. */
void dmakit_sink_checkpoint_tick(struct dmakit_sink *s)
{
	struct sink_ckpt *c = &s->ckpt;
	uint64_t now;
	struct rec_meta *m;
	char *text;
	size_t len;
	uint64_t end;
	bool idle, stepped;

	if (!c->running)
		return;
	now = dmakit_now_ns();
	if (now < c->next_ns)
		return;
	checkpoint_collect(s);
	pthread_mutex_lock(&c->lock);
	idle = !c->text && !c->data_job;
	pthread_mutex_unlock(&c->lock);
	if (!idle || checkpoint_sync_data(s))
		return;
	stepped = c->data_step;
	c->data_step = false;
	dmakit_sink_promote(s);
	dmakit_sink_flush_index(s);
	if (s->st.buffers == s->st.checkpoint_buffers) {
		/* a data sync that failed is not retried at every tick */
		if (stepped)
			c->next_ns = now + (uint64_t)s->ckpt_ms * 1000000ULL;
		return;
	}
	c->next_ns = now + (uint64_t)s->ckpt_ms * 1000000ULL;
	m = malloc(sizeof(*m));
	if (!m)
		return;
	dmakit_sink_fill_meta(s, m, false, "recording", "");
	/* what the metadata claims once the thread made it true */
	m->checkpoints = s->st.checkpoints + 1;
	m->checkpoint_buffers = s->st.buffers;
	m->checkpoint_last_seq = s->st.last_seq;
	m->checkpoint_seconds = (double)(now - s->t_open_ns) / 1e9;
	text = rec_meta_text(m, &len);
	free(m);
	if (!text)
		return;
	pthread_mutex_lock(&c->lock);
	c->text = text;
	c->len = len;
	/* a copying engine's indexed buffers are those synced in step one,
	 * or written back before it (and so synced by it too), or written
	 * back since: then only those; a direct engine's: the whole file */
	end = s->st.buffers * s->bufsize;
	c->data = !s->eng->copies || end > c->synced;
	c->data_off = s->eng->copies ? c->synced : 0;
	c->data_len = s->eng->copies && c->data ? end - c->synced : 0;
	c->want_buffers = s->st.buffers;
	c->want_last_seq = s->st.last_seq;
	c->done_seconds = (double)(now - s->t_open_ns) / 1e9;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Wait for a checkpoint in progress and end the thread. */
void dmakit_sink_checkpoint_stop(struct dmakit_sink *s)
{
	struct sink_ckpt *c = &s->ckpt;

	if (!c->running)
		return;
	pthread_mutex_lock(&c->lock);
	c->quit = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	checkpoint_collect(s);
	c->running = false;
	free(c->text);
	c->text = NULL;
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
}

