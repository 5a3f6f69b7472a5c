// SPDX-License-Identifier: MIT
/*
 * The mmap engine: the technique users keep asking about ("write DMA
 * buffers through a memory-mapped file"), done correctly:
 *
 *   - the file is allocated before it is mapped (fallocate, or ftruncate
 *     where there is none), so a store never meets a hole on a full disk;
 *   - it is mapped in windows (64 MiB) that a background thread prepares
 *     ahead of the writer: mmap(MAP_SHARED) of an O_RDWR descriptor, then
 *     MADV_POPULATE_WRITE so the copy does not take 128 page faults per
 *     buffer (and a failure to populate is an error, not a SIGBUS);
 *   - the writer copies each buffer into the current window (the DMA
 *     buffer cannot itself be the file mapping: the card writes into its
 *     own pages), which frees the ring buffer at once;
 *   - finished windows are written back by the same thread off the hot
 *     path: msync(MS_SYNC), munmap, POSIX_FADV_DONTNEED; only then do their
 *     buffers get index entries.  At most MMAP_WINDOWS windows exist, so
 *     the page cache stays bounded and a slow disk pushes back on the
 *     writer.
 *
 * Costs compared with O_DIRECT: one copy per byte, page-table setup and
 * teardown per window, and on a block device (no fallocate, no unwritten
 * extents) every page is read from the disk before it is overwritten.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "sink.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define MMAP_WINDOW	(64ULL << 20)
#define MMAP_WINDOWS	4

enum win_state {
	WIN_FREE,
	WIN_READY,	/* mapped and populated, waiting for the writer */
	WIN_FILLING,	/* the writer's current window */
	WIN_FULL,	/* handed back: write back, unmap */
};

struct win {
	enum win_state state;
	uint64_t off;
	uint64_t len;		/* mapped bytes (shorter near a full disk) */
	uint64_t fill;		/* bytes the writer copied (FULL: final) */
	unsigned char *addr;
};

struct mm {
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	uint64_t window;
	struct win wins[MMAP_WINDOWS];	/* used round-robin, in file order */
	unsigned int next_prep;		/* next window slot to prepare */
	unsigned int next_fill;		/* next window slot the writer takes */
	unsigned int next_flush;	/* next window slot to write back */
	uint64_t prep_off;		/* file offset of the next window */
	struct win *cur;		/* writer only */
	int error;			/* under lock: preparing/writeback */
	bool quit;
	bool populate;			/* MADV_POPULATE_WRITE works */
};

/*
 * Map and populate the window at @off (no lock held).  Near a full file
 * system the window shrinks, down to one buffer, so the recording fills
 * the disk instead of stopping a window short.
 */
static int prepare(struct dmakit_sink *s, struct mm *m, struct win *w,
		   uint64_t off)
{
	uint64_t len = m->window;
	void *p;
	int ret;

	if (s->capacity && off + len > s->capacity)
		len = s->capacity - off;
	if (!len)
		return -ENOSPC;
	while ((ret = dmakit_sink_alloc_until(s, off + len))) {
		if (!dmakit_err_is_full(ret) || len <= s->bufsize)
			return ret;
		len /= 2;
		len -= len % s->bufsize;
		if (len < s->bufsize)
			len = s->bufsize;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd,
		 (off_t)off);
	if (p == MAP_FAILED)
		return -errno;
	if (m->populate && madvise(p, len, MADV_POPULATE_WRITE)) {
		ret = -errno;
		if (ret == -EINVAL) {
			m->populate = false;	/* kernel < 5.14 */
		} else {
			munmap(p, len);
			return ret == -EFAULT ? -ENOSPC : ret;
		}
	}
	w->addr = p;
	w->off = off;
	w->len = len;
	w->fill = 0;
	return 0;
}

/* Write back and unmap a full window (no lock held). */
static int write_back(struct dmakit_sink *s, struct win *w)
{
	int ret = 0;

	if (w->fill && msync(w->addr, w->fill, MS_SYNC))
		ret = -errno;
	munmap(w->addr, w->len);
	w->addr = NULL;
	if (!ret && w->fill)
		posix_fadvise(s->fd, (off_t)w->off, (off_t)w->fill,
			      POSIX_FADV_DONTNEED);
	return ret;
}

static unsigned int nready(struct mm *m)
{
	unsigned int i, n = 0;

	for (i = 0; i < MMAP_WINDOWS; i++)
		n += m->wins[i].state == WIN_READY;
	return n;
}

static void *mapper(void *arg)
{
	struct dmakit_sink *s = arg;
	struct mm *m = s->priv;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&m->lock);
	for (;;) {
		struct win *flush = &m->wins[m->next_flush];
		struct win *prep = &m->wins[m->next_prep];
		bool can_prep = prep->state == WIN_FREE && !m->error &&
				!m->quit;
		int ret;

		/* a writer about to starve comes first, then write-back */
		if (can_prep && nready(m) == 0) {
			uint64_t off = m->prep_off;

			pthread_mutex_unlock(&m->lock);
			ret = prepare(s, m, prep, off);
			pthread_mutex_lock(&m->lock);
			if (ret) {
				m->error = ret;
			} else {
				prep->state = WIN_READY;
				m->prep_off = off + prep->len;
				m->next_prep = (m->next_prep + 1) % MMAP_WINDOWS;
			}
			pthread_cond_broadcast(&m->cv);
			continue;
		}
		if (flush->state == WIN_FULL) {
			pthread_mutex_unlock(&m->lock);
			ret = write_back(s, flush);
			pthread_mutex_lock(&m->lock);
			if (ret) {
				m->error = ret;
				dmakit_sink_persisted(s, 0, ret);
			} else {
				dmakit_sink_persisted(s, flush->off + flush->fill,
						      0);
			}
			flush->state = WIN_FREE;
			m->next_flush = (m->next_flush + 1) % MMAP_WINDOWS;
			pthread_cond_broadcast(&m->cv);
			continue;
		}
		if (can_prep && nready(m) < MMAP_WINDOWS - 2) {
			/* one more ahead, keeping a slot for write-back */
			uint64_t off = m->prep_off;

			pthread_mutex_unlock(&m->lock);
			ret = prepare(s, m, prep, off);
			pthread_mutex_lock(&m->lock);
			if (ret) {
				/* only the writer reaching it makes it fatal */
				if (!nready(m))
					m->error = ret;
			} else {
				prep->state = WIN_READY;
				m->prep_off = off + prep->len;
				m->next_prep = (m->next_prep + 1) % MMAP_WINDOWS;
			}
			pthread_cond_broadcast(&m->cv);
			if (!ret)
				continue;
		}
		if (m->quit)
			break;
		pthread_cond_wait(&m->cv, &m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static int mm_open(struct dmakit_sink *s, char *err, size_t errlen)
{
	struct mm *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	m->window = MMAP_WINDOW - MMAP_WINDOW % s->bufsize;
	if (!m->window)
		m->window = s->bufsize;
	m->populate = true;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cv, NULL);
	s->priv = m;
	ret = pthread_create(&m->thread, NULL, mapper, s);
	if (ret) {
		pthread_cond_destroy(&m->cv);
		pthread_mutex_destroy(&m->lock);
		free(m);
		s->priv = NULL;
		return dmakit_errf(err, errlen, -ret,
				   "cannot start the mapping thread: %s",
				   dmakit_strerror(ret));
	}
	m->running = true;
	/* the first window before the source starts: mapping and populating
	 * it takes tens of ms, which a small ring at speed cannot wait */
	pthread_mutex_lock(&m->lock);
	while (!nready(m) && !m->error)
		pthread_cond_wait(&m->cv, &m->lock);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* Give the current window back for write-back (lock held). */
static void retire_cur(struct mm *m)
{
	if (!m->cur)
		return;
	m->cur->state = WIN_FULL;
	m->cur = NULL;
	pthread_cond_broadcast(&m->cv);
}

static int mm_submit(struct dmakit_sink *s, struct sink_io *io)
{
	struct mm *m = s->priv;
	struct win *w = m->cur;
	int ret = 0;

	if (!w || io->offset >= w->off + w->len) {
		pthread_mutex_lock(&m->lock);
		retire_cur(m);
		while (m->wins[m->next_fill].state != WIN_READY && !m->error)
			pthread_cond_wait(&m->cv, &m->lock);
		if (m->wins[m->next_fill].state == WIN_READY) {
			w = &m->wins[m->next_fill];
			w->state = WIN_FILLING;
			m->cur = w;
			m->next_fill = (m->next_fill + 1) % MMAP_WINDOWS;
			pthread_cond_broadcast(&m->cv);
		} else {
			ret = m->error;
		}
		pthread_mutex_unlock(&m->lock);
	}
	if (!ret && io->offset != w->off + w->fill)
		ret = -EIO;	/* cannot happen: slots are sequential */
	if (!ret) {
		memcpy(w->addr + w->fill, io->data, io->len);
		w->fill += io->len;
	}
	dmakit_sink_io_done(s, io, ret);
	return 0;
}

static int mm_wait(struct dmakit_sink *s, unsigned int min)
{
	(void)s;
	(void)min;	/* every io completed in submit */
	return 0;
}

static void mm_drain(struct dmakit_sink *s)
{
	struct mm *m = s->priv;
	unsigned int i;

	if (!m || !m->running)
		return;
	pthread_mutex_lock(&m->lock);
	retire_cur(m);
	m->quit = true;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	m->running = false;
	/* windows prepared but never used: the file is trimmed after this */
	for (i = 0; i < MMAP_WINDOWS; i++) {
		struct win *w = &m->wins[i];

		if (w->state == WIN_READY) {
			munmap(w->addr, w->len);
			w->state = WIN_FREE;
		}
	}
}

static void mm_close(struct dmakit_sink *s)
{
	struct mm *m = s->priv;

	if (!m)
		return;
	mm_drain(s);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->lock);
	free(m);
	s->priv = NULL;
}

const struct sink_engine dmakit_sink_mmap = {
	.name = "mmap",
	.copies = true,
	.open = mm_open,
	.submit = mm_submit,
	.wait = mm_wait,
	.drain = mm_drain,
	.close = mm_close,
};
