// SPDX-License-Identifier: MIT
/*
 * Growing a recording of unknown length: a thread keeps the data file
 * fallocate'd well ahead of the writer, in large chunks, so the writes
 * (O_DIRECT ones above all) overwrite allocated blocks instead of
 * extending the file, and reserves the index ahead of the data so a full
 * file system stops the data before it can stop the index.
 *
 * When the file system runs short the chunk shrinks; when nothing more can
 * be allocated the thread gives up quietly: the writes themselves then
 * meet ENOSPC and end the recording cleanly.
 *
 * fallocate() holds the file's lock, which a buffered write needs too.  An
 * extent file system allocates 256 MiB in well under a millisecond, but
 * tmpfs clears every page: 70 ms, while a 1 MiB ring at 20 MB/s holds
 * 50 ms, so the writer stalled and the source dropped.  The chunk starts
 * small and doubles while a call is quick, halves while one is slow.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include "sink.h"

#define ALLOC_CHUNK	(256ULL << 20)
#define ALLOC_MIN_CHUNK	(4ULL << 20)
#define ALLOC_AHEAD	(768ULL << 20)		/* allocated beyond the writer */
#define ALLOC_FAST_NS	(1000 * 1000ULL)	/* a chunk this quick doubles */
#define ALLOC_SLOW_NS	(4 * 1000 * 1000ULL)	/* one this slow halves */

static uint64_t round_down(uint64_t v, uint64_t unit)
{
	return v - v % unit;
}

/* Raise data_end to @end if it is lower (two threads may allocate). */
static void raise_end(struct sink_alloc *a, uint64_t end)
{
	uint64_t cur = __atomic_load_n(&a->data_end, __ATOMIC_RELAXED);

	while (cur < end &&
	       !__atomic_compare_exchange_n(&a->data_end, &cur, end, true,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

/* Reserve index space for the slots below @data_end (thread only). */
static void reserve_index_for(struct dmakit_sink *s, uint64_t data_end)
{
	uint64_t need = sizeof(struct dmakit_idx_header) +
			(data_end / s->bufsize + 1024) *
			sizeof(struct dmakit_idx_entry);

	if (need <= s->alloc.idx_end)
		return;
	need += 64 * 1024;
	if (!fallocate(s->idx_fd, FALLOC_FL_KEEP_SIZE,
		       (off_t)s->alloc.idx_end,
		       (off_t)(need - s->alloc.idx_end)))
		s->alloc.idx_end = need;
}

/* The next chunk after one that took @ns (see the top). */
static uint64_t next_chunk(const struct dmakit_sink *s, uint64_t chunk,
			   uint64_t ns)
{
	uint64_t max = s->alloc.chunk_max;
	uint64_t min = round_down(ALLOC_MIN_CHUNK, s->bufsize);

	if (min < s->bufsize)
		min = s->bufsize;
	if (max < min)
		max = min;
	if (ns < ALLOC_FAST_NS && chunk < max)
		chunk = chunk * 2 > max ? max : chunk * 2;
	else if (ns > ALLOC_SLOW_NS && chunk > min)
		chunk = round_down(chunk / 2, s->bufsize) < min ? min :
			round_down(chunk / 2, s->bufsize);
	return chunk;
}

/* One step: allocate the next chunk.  Returns 0, or -errno to give up. */
static int grow(struct dmakit_sink *s, uint64_t *chunk)
{
	uint64_t have = __atomic_load_n(&s->alloc.data_end, __ATOMIC_ACQUIRE);

	for (;;) {
		uint64_t t0;

		reserve_index_for(s, have + *chunk);
		t0 = dmakit_now_ns();
		if (!fallocate(s->fd, 0, (off_t)have, (off_t)*chunk)) {
			raise_end(&s->alloc, have + *chunk);
			*chunk = next_chunk(s, *chunk, dmakit_now_ns() - t0);
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (!dmakit_err_is_full(-errno) || *chunk <= ALLOC_MIN_CHUNK)
			return -errno;
		*chunk = round_down(*chunk / 2, s->bufsize);
		if (*chunk < ALLOC_MIN_CHUNK)
			*chunk = ALLOC_MIN_CHUNK;
		s->alloc.chunk_max = *chunk;	/* short of space: no regrowth */
	}
}

static void *alloc_thread(void *arg)
{
	struct dmakit_sink *s = arg;
	struct sink_alloc *a = &s->alloc;
	uint64_t chunk = round_down(ALLOC_MIN_CHUNK, s->bufsize);
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (!chunk)
		chunk = s->bufsize;
	a->chunk_max = round_down(ALLOC_CHUNK, s->bufsize);
	pthread_mutex_lock(&a->lock);
	while (!a->quit) {
		uint64_t want = __atomic_load_n(&a->want_end, __ATOMIC_RELAXED) +
				ALLOC_AHEAD;
		struct timespec ts;
		int ret;

		if (a->error ||
		    __atomic_load_n(&a->data_end, __ATOMIC_RELAXED) >= want) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 100 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&a->cond, &a->lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&a->lock);
		ret = grow(s, &chunk);
		pthread_mutex_lock(&a->lock);
		if (ret)
			__atomic_store_n(&a->error, ret, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int dmakit_sink_alloc_start(struct dmakit_sink *s)
{
	struct sink_alloc *a = &s->alloc;
	pthread_condattr_t ca;
	int ret;

	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cond, &ca);
	pthread_condattr_destroy(&ca);
	ret = pthread_create(&a->thread, NULL, alloc_thread, s);
	if (ret) {
		pthread_cond_destroy(&a->cond);
		pthread_mutex_destroy(&a->lock);
		return -ret;
	}
	a->running = true;
	return 0;
}

/*
 * The writer reached @write_end: wake the thread when it is within half
 * the look-ahead of the allocated end (cheap otherwise: two loads).
 */
void dmakit_sink_alloc_poke(struct dmakit_sink *s, uint64_t write_end)
{
	struct sink_alloc *a = &s->alloc;
	uint64_t end;

	/* --size preallocated full buffers; short ones write past that:
	 * from there on, keep ahead (and the index reserved) as when the
	 * size is not known */
	if (!a->running && s->preallocated && write_end > s->preallocated &&
	    !a->late_start) {
		a->late_start = true;
		if (dmakit_sink_alloc_start(s))
			return;
	}
	if (!a->running)
		return;
	__atomic_store_n(&a->want_end, write_end, __ATOMIC_RELAXED);
	end = __atomic_load_n(&a->data_end, __ATOMIC_RELAXED);
	if (write_end + ALLOC_AHEAD / 2 < end ||
	    __atomic_load_n(&a->error, __ATOMIC_RELAXED))
		return;
	if (end == a->poked_at)
		return;		/* already asked for this round */
	a->poked_at = end;
	pthread_mutex_lock(&a->lock);
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

int dmakit_sink_alloc_until(struct dmakit_sink *s, uint64_t end)
{
	uint64_t have = __atomic_load_n(&s->alloc.data_end, __ATOMIC_ACQUIRE);

	if (have >= end || s->is_blkdev)
		return 0;
	if (s->can_fallocate) {
		while (fallocate(s->fd, 0, (off_t)have, (off_t)(end - have))) {
			if (errno == EINTR)
				continue;
			if (errno != EOPNOTSUPP)
				return -errno;
			s->can_fallocate = false;
			break;
		}
	}
	if (!s->can_fallocate && ftruncate(s->fd, (off_t)end))
		return -errno;
	raise_end(&s->alloc, end);
	return 0;
}

void dmakit_sink_alloc_stop(struct dmakit_sink *s)
{
	struct sink_alloc *a = &s->alloc;

	if (!a->running)
		return;
	pthread_mutex_lock(&a->lock);
	a->quit = true;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	a->running = false;
}
