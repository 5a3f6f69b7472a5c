// SPDX-License-Identifier: MIT
/*
 * The buffered engine: write() into the page cache, with writeback driven
 * behind the writer so the cache does not balloon and the disk never
 * idles.  A flusher thread starts writeback of each finished window
 * (sync_file_range WRITE) and then waits for the window before it
 * (WAIT_BEFORE|WRITE|WAIT_AFTER) and drops it from the cache
 * (POSIX_FADV_DONTNEED).  The writer blocks when more than a few windows
 * are unwritten: back-pressure instead of gigabytes of dirty pages.
 *
 * A buffer is reusable as soon as write() copied it; its index entry is
 * written only once its window has reached the disk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "sink.h"

#define BUF_WINDOW	(32ULL << 20)
#define BUF_MAX_BEHIND	4		/* windows written but not on disk */

struct buffered {
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	uint64_t window;
	uint64_t written;	/* writer: bytes copied into the cache */
	uint64_t handed;	/* under lock: written, given to the flusher */
	uint64_t flushed;	/* under lock: on disk */
	int error;		/* under lock: writeback failed */
	bool quit;		/* under lock: flush what was handed, exit */
};

static int range_sync(int fd, uint64_t off, uint64_t len, unsigned int how)
{
	while (sync_file_range(fd, (off_t)off, (off_t)len, how)) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static void *flusher(void *arg)
{
	struct dmakit_sink *s = arg;
	struct buffered *b = s->priv;
	uint64_t started = 0;	/* writeback started up to here */
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&b->lock);
	while (!b->error) {
		uint64_t upto, waited;
		int ret;

		while (b->handed == started && !b->quit)
			pthread_cond_wait(&b->cv, &b->lock);
		if (b->handed == started && b->flushed == started)
			break;			/* quit, everything flushed */
		upto = b->handed;
		pthread_mutex_unlock(&b->lock);

		ret = 0;
		if (upto > started)
			ret = range_sync(s->fd, started, upto - started,
					 SYNC_FILE_RANGE_WRITE);
		/* wait for the older window while the new one is written */
		waited = upto > started ? started : upto;
		if (!ret && waited > b->flushed)
			ret = range_sync(s->fd, b->flushed,
					 waited - b->flushed,
					 SYNC_FILE_RANGE_WAIT_BEFORE |
					 SYNC_FILE_RANGE_WRITE |
					 SYNC_FILE_RANGE_WAIT_AFTER);
		if (!ret && waited > b->flushed)
			posix_fadvise(s->fd, (off_t)b->flushed,
				      (off_t)(waited - b->flushed),
				      POSIX_FADV_DONTNEED);
		started = upto;

		pthread_mutex_lock(&b->lock);
		if (ret) {
			b->error = ret;
			dmakit_sink_persisted(s, 0, ret);
		} else if (waited > b->flushed) {
			b->flushed = waited;
			dmakit_sink_persisted(s, waited, 0);
		}
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static int buf_open(struct dmakit_sink *s, char *err, size_t errlen)
{
	struct buffered *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	b->window = BUF_WINDOW - BUF_WINDOW % s->bufsize;
	if (!b->window)
		b->window = s->bufsize;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cv, NULL);
	s->priv = b;
	ret = pthread_create(&b->thread, NULL, flusher, s);
	if (ret) {
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->lock);
		free(b);
		s->priv = NULL;
		return dmakit_errf(err, errlen, -ret,
				   "cannot start the flusher thread: %s",
				   dmakit_strerror(ret));
	}
	b->running = true;
	return 0;
}

/* Give written bytes to the flusher; block while it is too far behind. */
static void hand_over(struct buffered *b, bool last)
{
	pthread_mutex_lock(&b->lock);
	b->handed = b->written;
	if (last)
		b->quit = true;
	pthread_cond_broadcast(&b->cv);
	while (!last && !b->error &&
	       b->handed - b->flushed > BUF_MAX_BEHIND * b->window)
		pthread_cond_wait(&b->cv, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

static int buf_submit(struct dmakit_sink *s, struct sink_io *io)
{
	struct buffered *b = s->priv;
	int ret = 0;

	while (io->done < io->len) {
		ssize_t n = pwrite(s->fd, io->data + io->done,
				   io->len - io->done,
				   (off_t)(io->offset + io->done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0) {
			ret = -ENOSPC;
			break;
		}
		io->done += (uint32_t)n;
	}
	dmakit_sink_io_done(s, io, ret);
	if (ret)
		return 0;
	b->written = io->offset + io->len;
	if (b->written - b->handed >= b->window)
		hand_over(b, false);
	return 0;
}

static int buf_wait(struct dmakit_sink *s, unsigned int min)
{
	(void)s;
	(void)min;	/* every io completed in submit */
	return 0;
}

static void buf_drain(struct dmakit_sink *s)
{
	struct buffered *b = s->priv;

	if (!b || !b->running)
		return;
	hand_over(b, true);
	pthread_join(b->thread, NULL);
	b->running = false;
}

static void buf_close(struct dmakit_sink *s)
{
	struct buffered *b = s->priv;

	if (!b)
		return;
	buf_drain(s);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->lock);
	free(b);
	s->priv = NULL;
}

const struct sink_engine dmakit_sink_buffered = {
	.name = "buffered",
	.copies = true,
	.open = buf_open,
	.submit = buf_submit,
	.wait = buf_wait,
	.drain = buf_drain,
	.close = buf_close,
};
