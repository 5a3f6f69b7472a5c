// SPDX-License-Identifier: MIT
/*
 * The pwrite engine: O_DIRECT pwrite() from a pool of writer threads
 * (queue_depth of them), for systems where io_uring is missing or
 * disabled.  Zero copy like io_uring, one thread per write in flight.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "sink.h"

#define PWRITE_MAX_THREADS 64

struct pw {
	struct dmakit_sink *s;
	pthread_t threads[PWRITE_MAX_THREADS];
	unsigned int nthreads;
	pthread_mutex_t lock;
	pthread_cond_t work_cv, done_cv;
	/* both FIFOs hold at most depth ios (SINK_MAX_DEPTH) */
	struct sink_io *todo[SINK_MAX_DEPTH];
	unsigned int todo_head, ntodo;
	struct sink_io *done[SINK_MAX_DEPTH];
	unsigned int ndone;
	unsigned int busy;		/* ios taken by writers, not yet done */
	bool quit;
};

/* Write all of @io; returns 0 or -errno. */
static int write_io(int fd, struct sink_io *io)
{
	while (io->done < io->len) {
		ssize_t n = pwrite(fd, io->data + io->done, io->len - io->done,
				   (off_t)(io->offset + io->done));

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENOSPC;
		io->done += (uint32_t)n;
	}
	return 0;
}

static void *writer(void *arg)
{
	struct pw *p = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct sink_io *io;

		while (!p->ntodo && !p->quit)
			pthread_cond_wait(&p->work_cv, &p->lock);
		if (!p->ntodo)
			break;
		io = p->todo[p->todo_head];
		p->todo_head = (p->todo_head + 1) % SINK_MAX_DEPTH;
		p->ntodo--;
		p->busy++;
		pthread_mutex_unlock(&p->lock);
		/* the result travels in io->result; the sink sees it later */
		io->result = write_io(p->s->fd, io);
		pthread_mutex_lock(&p->lock);
		p->busy--;
		p->done[p->ndone++] = io;
		pthread_cond_signal(&p->done_cv);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void stop_writers(struct pw *p)
{
	unsigned int i;

	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->lock);
}

static int pw_open(struct dmakit_sink *s, char *err, size_t errlen)
{
	struct pw *p = calloc(1, sizeof(*p));
	unsigned int n = s->depth < PWRITE_MAX_THREADS ? s->depth :
			 PWRITE_MAX_THREADS;
	int ret;

	if (!p)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	p->s = s;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	for (p->nthreads = 0; p->nthreads < n; p->nthreads++) {
		ret = pthread_create(&p->threads[p->nthreads], NULL, writer, p);
		if (ret) {
			stop_writers(p);
			free(p);
			return dmakit_errf(err, errlen, -ret,
					   "cannot start writer threads: %s",
					   dmakit_strerror(ret));
		}
	}
	s->priv = p;
	return 0;
}

static int pw_submit(struct dmakit_sink *s, struct sink_io *io)
{
	struct pw *p = s->priv;

	pthread_mutex_lock(&p->lock);
	p->todo[(p->todo_head + p->ntodo) % SINK_MAX_DEPTH] = io;
	p->ntodo++;
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int pw_wait(struct dmakit_sink *s, unsigned int min)
{
	struct pw *p = s->priv;
	struct sink_io *done[SINK_MAX_DEPTH];
	unsigned int i, n;

	pthread_mutex_lock(&p->lock);
	while (min && p->ndone < min && (p->ntodo || p->busy))
		pthread_cond_wait(&p->done_cv, &p->lock);
	n = p->ndone;
	for (i = 0; i < n; i++)
		done[i] = p->done[i];
	p->ndone = 0;
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < n; i++)
		dmakit_sink_io_done(s, done[i], done[i]->result);
	return 0;
}

static void pw_drain(struct dmakit_sink *s)
{
	(void)s;	/* O_DIRECT: complete means written */
}

static void pw_close(struct dmakit_sink *s)
{
	struct pw *p = s->priv;

	if (!p)
		return;
	stop_writers(p);
	free(p);
	s->priv = NULL;
}

const struct sink_engine dmakit_sink_pwrite = {
	.name = "pwrite",
	.direct = true,
	.open = pw_open,
	.submit = pw_submit,
	.wait = pw_wait,
	.drain = pw_drain,
	.close = pw_close,
};
