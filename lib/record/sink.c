// SPDX-License-Identifier: MIT
/*
 * The sink: writes a stream of buffers into fixed-size slots of a file or
 * block device through one of the engines, and keeps the index and the
 * metadata consistent with what is really on the target (see lib/record/sink.h
 * for the complete / persisted stages and include/dmakit/recording.h for
 * the format).
 *
 * Space is reserved before it is needed so that a full file system stops
 * the data, never the bookkeeping: the index is reserved ahead of the data
 * (FALLOC_FL_KEEP_SIZE) and the final metadata is written into a file
 * whose blocks were reserved at open, then renamed into place.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "meta.h"
#include "sink.h"

#define IDX_FLUSH_ENTRIES	64		/* 4 KiB of index per write */
#define IDX_FLUSH_NS		(250 * 1000000ULL)
#define IDX_MIN_RESERVE		1024		/* entries, whatever the size */
#define META_RESERVE		(64 * 1024)
#define DEFAULT_DEPTH		8
#define DEFAULT_CHECKPOINT_MS	1000

static const struct sink_engine *const engines[] = {
	[DMAKIT_ENGINE_URING] = &dmakit_sink_uring,
	[DMAKIT_ENGINE_PWRITE] = &dmakit_sink_pwrite,
	[DMAKIT_ENGINE_BUFFERED] = &dmakit_sink_buffered,
	[DMAKIT_ENGINE_MMAP] = &dmakit_sink_mmap,
};

void dmakit_sink_notice(struct dmakit_sink *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!s->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->notice(s->notice_ctx, msg);
}

void dmakit_sink_fail(struct dmakit_sink *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->error)
		return;
	s->error = err;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
}

/* Nothing at or after @offset can be indexed any more. */
static void cut_at(struct dmakit_sink *s, uint64_t offset)
{
	if (offset < s->fail_offset)
		s->fail_offset = offset;
}

static uint32_t usec_since(uint64_t t0)
{
	uint64_t us = (dmakit_now_ns() - t0) / 1000;

	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

void dmakit_sink_io_done(struct dmakit_sink *s, struct sink_io *io,
			 int result)
{
	io->complete = true;
	io->result = result;
	io->write_us = usec_since(io->t_submit);
	if (result < 0) {
		/*
		 * Writes complete in any order: the failure named is the
		 * lowest slot's, where the recording ends, even when a later
		 * slot's failure was seen first.
		 */
		if (s->error && io->offset < s->error_write_offset &&
		    s->error_write_offset != UINT64_MAX)
			s->error = 0;
		if (!s->error) {
			dmakit_sink_fail(s, result, "write %s at offset %llu: %s",
					 s->data_path,
					 (unsigned long long)io->offset,
					 dmakit_strerror(result));
			s->error_write_offset = io->offset;
		}
		cut_at(s, io->offset);
	}
}

void dmakit_sink_persisted(struct dmakit_sink *s, uint64_t end, int err)
{
	int zero = 0;

	if (err) {
		__atomic_compare_exchange_n(&s->bg_error, &zero, err, false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
		return;
	}
	__atomic_store_n(&s->persisted, end, __ATOMIC_RELEASE);
}

/* A copying engine's writeback failed: nothing after what it persisted. */
static void check_bg_error(struct dmakit_sink *s)
{
	int err = __atomic_load_n(&s->bg_error, __ATOMIC_ACQUIRE);

	if (!err)
		return;
	cut_at(s, __atomic_load_n(&s->persisted, __ATOMIC_ACQUIRE));
	dmakit_sink_fail(s, err, "write back %s: %s", s->data_path,
			 dmakit_strerror(err));
}

/* --- index --- */

static void account_entry(struct dmakit_sink *s,
			  const struct dmakit_idx_entry *e)
{
	dmakit_idx_account(&s->st, &s->entries_crc, s->bufsize, e);
	if (e->write_us > s->write_us_max)
		s->write_us_max = e->write_us;
	s->write_us_sum += e->write_us;
}

/* Write the buffered index entries; on failure they are not recorded. */
void dmakit_sink_flush_index(struct dmakit_sink *s)
{
	size_t i;
	int ret;

	if (!s->ibuf_n)
		return;
	for (i = 0; i < s->ibuf_n; i++)
		s->ibuf[i].entry_crc32c = dmakit_idx_entry_crc(&s->ibuf[i]);
	ret = rec_write_all(s->idx_fd, s->ibuf,
			s->ibuf_n * sizeof(struct dmakit_idx_entry),
			sizeof(struct dmakit_idx_header) +
			s->st.buffers * sizeof(struct dmakit_idx_entry));
	if (ret) {
		dmakit_sink_fail(s, ret, "write index %s: %s", s->idx_path,
				 dmakit_strerror(ret));
		cut_at(s, s->ibuf[0].offset);
		s->st.not_recorded += s->ibuf_n;
		/* part of the batch may have landed: the index ends where the
		 * counts do (shrinking needs no space) */
		if (ftruncate(s->idx_fd, (off_t)(sizeof(struct dmakit_idx_header) +
				s->st.buffers * sizeof(struct dmakit_idx_entry)))) {
			/* the metadata then disagrees: verify reports it */
		}
	} else {
		for (i = 0; i < s->ibuf_n; i++)
			account_entry(s, &s->ibuf[i]);
	}
	s->ibuf_n = 0;
	s->last_idx_flush_ns = dmakit_now_ns();
}

static void maybe_flush_index(struct dmakit_sink *s)
{
	if (s->ibuf_n >= IDX_FLUSH_ENTRIES ||
	    (s->ibuf_n &&
	     dmakit_now_ns() - s->last_idx_flush_ns >= IDX_FLUSH_NS))
		dmakit_sink_flush_index(s);
}

/*
 * Move persisted pending entries to the index buffer.  A copying engine's
 * data is on the target once its writeback reported it, or once a
 * checkpoint synced it (a window still filling: its buffers must not wait
 * for the window to fill) — unless writeback failed, which the sync may
 * not have seen (the error is reported to one of them only).
 */
void dmakit_sink_promote(struct dmakit_sink *s)
{
	uint64_t limit = s->completed_end;

	if (s->eng->copies) {
		limit = __atomic_load_n(&s->persisted, __ATOMIC_ACQUIRE);
		if (s->ckpt.synced > limit &&
		    !__atomic_load_n(&s->bg_error, __ATOMIC_ACQUIRE))
			limit = s->ckpt.synced;
	}

	while (s->npending) {
		struct dmakit_idx_entry *e = &s->pending[s->pending_first];

		/* fail_offset may move down when an index write fails */
		if (e->offset + s->bufsize > limit ||
		    e->offset >= s->fail_offset)
			break;
		s->ibuf[s->ibuf_n++] = *e;
		s->pending_first = (s->pending_first + 1) % s->pending_cap;
		s->npending--;
		if (s->ibuf_n == IDX_FLUSH_ENTRIES)
			dmakit_sink_flush_index(s);
	}
}

static int push_pending(struct dmakit_sink *s, const struct sink_io *io)
{
	struct dmakit_idx_entry *e;

	if (s->npending == s->pending_cap) {
		size_t cap = s->pending_cap * 2, i;
		struct dmakit_idx_entry *n = malloc(cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (i = 0; i < s->npending; i++)
			n[i] = s->pending[(s->pending_first + i) %
					  s->pending_cap];
		free(s->pending);
		s->pending = n;
		s->pending_cap = cap;
		s->pending_first = 0;
	}
	e = &s->pending[(s->pending_first + s->npending) % s->pending_cap];
	memset(e, 0, sizeof(*e));
	e->seq = io->desc.seq;
	e->dev_ts = io->desc.dev_ts;
	e->host_ts = io->desc.host_ts;
	e->lost = io->desc.lost;
	e->offset = io->offset;
	e->len = io->desc.len;
	e->flags = io->desc.flags;
	e->crc32c = io->desc.crc32c;
	e->write_us = io->write_us;
	s->npending++;
	return 0;
}

/* Hand back completed ios in submission order; returns how many. */
static int retire(struct dmakit_sink *s, uint64_t *cookies, int max)
{
	int n = 0;

	while (s->count && n < max) {
		struct sink_io *io = &s->ios[s->head];

		if (!io->complete)
			break;
		if (io->offset >= s->fail_offset) {
			s->st.not_recorded++;
		} else if (push_pending(s, io)) {
			dmakit_sink_fail(s, -ENOMEM, "out of memory");
			cut_at(s, io->offset);
			s->st.not_recorded++;
		} else {
			s->completed_end = io->offset + s->bufsize;
		}
		cookies[n++] = io->cookie;
		s->head = (s->head + 1) % s->depth;
		s->count--;
	}
	return n;
}

/* --- the API: submit / reap --- */

int dmakit_sink_submit(struct dmakit_sink *s, const struct dmakit_desc *desc,
		       const void *data, int pool_index, uint64_t cookie)
{
	struct sink_io *io;
	int ret;

	if (!s || !desc || !data)
		return -EINVAL;
	check_bg_error(s);
	if (s->error) {
		s->st.not_recorded++;
		return s->error;
	}
	if (desc->len > s->bufsize)
		return -EINVAL;
	if (s->count == s->depth)
		return -EAGAIN;
	if (s->capacity && s->next_offset + s->bufsize > s->capacity) {
		dmakit_sink_fail(s, -ENOSPC, "%s is full (%llu bytes)",
				 s->data_path,
				 (unsigned long long)s->capacity);
		cut_at(s, s->next_offset);
		s->st.not_recorded++;
		return -ENOSPC;
	}
	io = &s->ios[(s->head + s->count) % s->depth];
	memset(io, 0, sizeof(*io));
	io->desc = *desc;
	io->data = data;
	io->cookie = cookie;
	io->offset = s->next_offset;
	io->len = s->bufsize;
	io->pool_index = pool_index;
	io->t_submit = dmakit_now_ns();
	if (!(desc->flags & DMAKIT_DESC_F_CRC) && !s->opts.no_host_crc) {
		io->desc.crc32c = dmakit_crc32c(0, data, desc->len);
		io->desc.flags |= DMAKIT_DESC_F_CRC | DMAKIT_IDX_F_HOST_CRC;
	}
	/* bound to its place: moved data fails even with its checksum */
	if (io->desc.flags & DMAKIT_DESC_F_CRC)
		io->desc.crc32c = dmakit_idx_bound_crc(desc->seq, io->offset,
						       io->desc.crc32c,
						       desc->len);
	s->count++;
	s->next_offset += s->bufsize;
	dmakit_sink_alloc_poke(s, s->next_offset);
	ret = s->eng->submit(s, io);
	if (ret) {
		/* not started: the slot is free again */
		s->count--;
		s->next_offset -= s->bufsize;
		if (ret == -EAGAIN || ret == -EINTR)
			return ret;
		dmakit_sink_fail(s, ret, "write %s: %s", s->data_path,
				 dmakit_strerror(ret));
		cut_at(s, s->next_offset);
		s->st.not_recorded++;
		return ret;
	}
	return 0;
}

int dmakit_sink_reap(struct dmakit_sink *s, uint64_t *cookies, int max,
		     int min_wait)
{
	bool harvested = false;
	int n, ret = 0;

	if (!s || !cookies || max <= 0)
		return -EINVAL;
	if (min_wait > max)
		min_wait = max;
	/* completions harvested earlier first: no system call for them */
	n = retire(s, cookies, max);
	while (n < max && s->count) {
		bool block = n < min_wait;

		if (!block && harvested)
			break;
		/* one call: start queued writes, wait for one, take all done */
		ret = s->eng->wait(s, block ? 1 : 0);
		harvested = true;
		check_bg_error(s);
		n += retire(s, cookies + n, max - n);
		if (ret || !block)
			break;
	}
	dmakit_sink_promote(s);
	maybe_flush_index(s);
	dmakit_sink_checkpoint_tick(s);
	if (ret == -EINTR && n == 0)
		return -EINTR;
	return n;
}

int dmakit_sink_inflight(struct dmakit_sink *s)
{
	return s ? (int)s->count : 0;
}

int dmakit_sink_error(struct dmakit_sink *s)
{
	if (!s)
		return -EINVAL;
	check_bg_error(s);
	return s->error;
}

int dmakit_sink_set_stream_id(struct dmakit_sink *s, uint64_t stream_id)
{
	if (!s)
		return -EINVAL;
	if (s->hdr.stream_id == stream_id)
		return 0;
	s->hdr.stream_id = stream_id;
	s->hdr.header_crc32c = dmakit_idx_header_crc(&s->hdr);
	return rec_write_all(s->idx_fd, &s->hdr, sizeof(s->hdr), 0);
}

uint64_t dmakit_sink_bytes_written(struct dmakit_sink *s)
{
	return s ? s->st.bytes : 0;
}

int dmakit_sink_stats(struct dmakit_sink *s, struct dmakit_sink_stats *st)
{
	if (!s || !st)
		return -EINVAL;
	*st = s->st;
	if (!s->closed)
		st->seconds = (double)(dmakit_now_ns() - s->t_open_ns) / 1e9;
	st->engine = s->engine_used;
	st->direct = s->direct;
	st->registered = s->registered;
	st->error = s->error;
	if (!s->closed)
		snprintf(st->message, sizeof(st->message), "%s", s->errmsg);
	return 0;
}

/* --- metadata --- */

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#define COPY(dst, src) snprintf(dst, sizeof(dst), "%s", src)

/* The metadata of this sink now; @final: the recording has ended. */
void dmakit_sink_fill_meta(struct dmakit_sink *s, struct rec_meta *m, bool final,
		      const char *result, const char *error)
{
	const struct dmakit_geometry *g = s->opts.source;
	const struct dmakit_sink_stats *st = &s->st;

	memset(m, 0, sizeof(*m));
	COPY(m->data, s->data_path);
	COPY(m->index, s->idx_path);
	COPY(m->target, s->is_blkdev ? "block-device" : "file");
	COPY(m->device, g ? g->name : s->hdr.device);
	COPY(m->device_kind, g ? g->kind : "");
	m->bufsize = s->bufsize;
	m->nbufs = g ? g->nbufs : s->opts.nbufs;
	COPY(m->policy, !g ? "" :
	     g->policy == DMAKIT_POLICY_BLOCK ? "block" : "drop");
	COPY(m->payload, s->hdr.payload == DMAKIT_PAYLOAD_SIM ? "sim" : "none");
	m->source_rate = g ? g->rate : 0;
	m->dev_clock_hz = s->hdr.dev_clock_hz;
	m->stream_id = s->hdr.stream_id;
	COPY(m->engine, dmakit_engine_name(s->engine_used));
	COPY(m->engine_requested, dmakit_engine_name(s->opts.engine));
	m->direct = s->direct;
	m->registered = s->registered;
	m->queue_depth = s->depth;
	m->preallocated = s->preallocated;
	m->start_realtime_ns = s->start_realtime_ns;
	m->start_mono_ns = s->t_open_ns;
	m->end_realtime_ns = final ? realtime_ns() : 0;
	m->seconds = s->closed ? st->seconds :
		     (double)(dmakit_now_ns() - s->t_open_ns) / 1e9;
	m->finished = final;
	m->buffers = st->buffers;
	m->bytes = st->bytes;
	m->first_seq = st->first_seq;
	m->last_seq = st->last_seq;
	m->gaps = st->gaps;
	m->lost = st->lost;
	m->lost_before = st->lost_before;
	m->empty = st->empty;
	m->truncated = st->truncated;
	m->dma_errors = st->dma_errors;
	m->dropped = st->dropped;
	m->not_recorded = st->not_recorded;
	m->write_us_max = s->write_us_max;
	m->write_us_mean = st->buffers ? s->write_us_sum / st->buffers : 0;
	m->checkpoint_ms = s->ckpt_ms;
	m->checkpoints = st->checkpoints;
	m->checkpoint_buffers = st->checkpoint_buffers;
	m->checkpoint_last_seq = s->ckpt_last_seq;
	m->checkpoint_seconds = s->ckpt_seconds;
	COPY(m->result, result);
	COPY(m->error, error);
	m->samples = s->opts.samples;
}

/* The metadata text of this sink now (malloc'd), or NULL. */
static char *metadata_text(struct dmakit_sink *s, bool final,
			   const char *result, const char *error, size_t *lenp)
{
	struct rec_meta *m = malloc(sizeof(*m));
	char *text;

	if (!m)
		return NULL;
	dmakit_sink_fill_meta(s, m, final, result, error);
	text = rec_meta_text(m, lenp);
	free(m);
	return text;
}

/*
 * Write @text as the metadata through the reserved temporary file and
 * rename it into place, so the old version stays until the new one is
 * durable.  Frees @text.
 */
static int write_metadata_text(struct dmakit_sink *s, char *text, size_t len)
{
	int ret, fd = s->meta_tmp_fd;

	s->meta_tmp_fd = -1;
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	ret = rec_meta_commit(fd, s->meta_tmp_path, s->meta_path, text, len);
	free(text);
	return ret;
}

static int write_metadata(struct dmakit_sink *s, bool final,
			  const char *result, const char *error)
{
	size_t len = 0;
	char *text = metadata_text(s, final, result, error, &len);

	return write_metadata_text(s, text, len);
}

/* Reserve the blocks of the open temporary metadata file. */
static int reserve_metadata(struct dmakit_sink *s)
{
	if (fallocate(s->meta_tmp_fd, FALLOC_FL_KEEP_SIZE, 0, META_RESERVE) &&
	    errno != EOPNOTSUPP)
		return -errno;
	return 0;
}

/* The first version (result "recording"), then room for the final one. */
static int write_metadata_initial(struct dmakit_sink *s)
{
	int ret = reserve_metadata(s);

	if (!ret) {
		ret = write_metadata(s, false, "recording", "");
		s->wrote_meta = true;
	}
	if (!ret) {
		s->meta_tmp_fd = open(s->meta_tmp_path, O_RDWR | O_CREAT |
				      O_TRUNC | O_CLOEXEC, 0644);
		ret = s->meta_tmp_fd < 0 ? -errno : reserve_metadata(s);
		s->created_meta_tmp = true;
	}
	return ret;
}

void dmakit_sink_tick(struct dmakit_sink *s)
{
	dmakit_sink_promote(s);
	maybe_flush_index(s);
	dmakit_sink_checkpoint_tick(s);
}

/* --- open --- */

/* Lock a file being written; without flock, say so and go on. */
static int lock_or_notice(struct dmakit_sink *s, int fd, const char *path,
			  char *err, size_t errlen)
{
	int ret = dmakit_sink_lock(fd, path, err, errlen);

	if (ret != -EOPNOTSUPP)
		return ret;
	if (err && errlen)
		err[0] = '\0';
	dmakit_sink_notice(s, "%s cannot be locked on this file system: a second writer would not be noticed",
			   path);
	return 0;
}

/* Open @path, creating it if missing but never truncating it. */
static int open_keep(const char *path, int flags, bool *created)
{
	int fd = open(path, flags | O_CREAT | O_EXCL, 0644);

	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(path, flags);
	return fd;
}

static int open_data(struct dmakit_sink *s, int flags)
{
	/* O_EXCL on a block device: refuse one that is mounted or in use */
	if (s->is_blkdev)
		return open(s->data_path, flags | O_EXCL);
	return open_keep(s->data_path, flags, &s->created_data);
}

static int open_target(struct dmakit_sink *s, char *err, size_t errlen)
{
	const struct sink_engine *eng = s->eng;
	int flags = O_CLOEXEC | (eng == &dmakit_sink_mmap ? O_RDWR : O_WRONLY);
	int fd, ret;

	if (eng->direct)
		flags |= O_DIRECT;
	fd = open_data(s, flags);
	if (fd < 0 && errno == EINVAL && (flags & O_DIRECT)) {
		/* the refused O_DIRECT open may have created the file */
		fd = open_data(s, flags & ~O_DIRECT);
		if (fd >= 0 && s->data_was_missing)
			s->created_data = true;
		if (fd >= 0) {
			dmakit_sink_notice(s, "%s does not support O_DIRECT: using the buffered engine instead of %s",
					   s->data_path, eng->name);
			s->eng = &dmakit_sink_buffered;
			s->engine_used = DMAKIT_ENGINE_BUFFERED;
			flags &= ~O_DIRECT;
		}
	}
	if (fd < 0) {
		int e = errno;

		return dmakit_errf(err, errlen, -e, "open %s: %s%s",
				   s->data_path, strerror(e),
				   e == EBUSY && s->is_blkdev ?
				   " (mounted or in use?)" : "");
	}
	s->fd = fd;
	s->direct = flags & O_DIRECT;
	ret = lock_or_notice(s, fd, s->data_path, err, errlen);
	if (ret) {
		s->created_data = false;	/* another writer's now */
		return ret;
	}
	if (s->is_blkdev) {
		uint64_t size = 0;
		int lbs = 512;

		if (ioctl(fd, BLKGETSIZE64, &size) || ioctl(fd, BLKSSZGET, &lbs))
			return dmakit_errf(err, errlen, -errno,
					   "%s: cannot read the device size: %s",
					   s->data_path, strerror(errno));
		if (lbs <= 0 || s->bufsize % (uint32_t)lbs)
			return dmakit_errf(err, errlen, -EINVAL,
					   "%s: buffer size %u is not a multiple of the device's %d-byte blocks",
					   s->data_path, s->bufsize, lbs);
		if (size < s->bufsize)
			return dmakit_errf(err, errlen, -ENOSPC,
					   "%s: %llu bytes is smaller than one buffer",
					   s->data_path,
					   (unsigned long long)size);
		s->capacity = size - size % s->bufsize;
	}
	return 0;
}

/* Reserve the index for @entries entries beyond the header. */
static int reserve_index(struct dmakit_sink *s, uint64_t entries)
{
	uint64_t len = sizeof(struct dmakit_idx_header) +
		       entries * sizeof(struct dmakit_idx_entry);

	if (fallocate(s->idx_fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)len))
		return errno == EOPNOTSUPP ? 0 : -errno;
	return 0;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/*
 * Open (without truncating) and lock the sidecars, check that nothing
 * would be lost, and only then empty the files: a start that fails leaves
 * an earlier recording as it was.
 */
static int open_sidecars(struct dmakit_sink *s, char *err, size_t errlen)
{
	struct stat sb, dst;
	int ret;

	s->idx_fd = open_keep(s->idx_path, O_WRONLY | O_CLOEXEC,
			      &s->created_idx);
	if (s->idx_fd < 0)
		return dmakit_errf(err, errlen, -errno, "open %s: %s",
				   s->idx_path, strerror(errno));
	if (same_file(s->fd, s->idx_fd))
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s would be both the data and a sidecar: choose another --sidecar",
				   s->data_path);
	ret = lock_or_notice(s, s->idx_fd, s->idx_path, err, errlen);
	if (ret) {
		s->created_idx = false;		/* another writer's now */
		return ret;
	}
	if (!stat(s->meta_path, &sb) && !fstat(s->fd, &dst) &&
	    sb.st_dev == dst.st_dev && sb.st_ino == dst.st_ino)
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s would be both the data and a sidecar: choose another --sidecar",
				   s->data_path);
	if (!s->is_blkdev) {
		ret = dmakit_sink_check_not_live_meta(s->data_path, err,
						      errlen);
		if (ret)
			return ret;
	}
	/* another recorder's data, named as our metadata */
	ret = dmakit_sink_check_unlocked(s->meta_path, err, errlen);
	if (ret)
		return ret;
	s->had_meta = !stat(s->meta_path, &sb);
	s->meta_tmp_fd = open_keep(s->meta_tmp_path, O_RDWR | O_CLOEXEC,
				   &s->created_meta_tmp);
	if (s->meta_tmp_fd < 0)
		return dmakit_errf(err, errlen, -errno, "open %s: %s",
				   s->meta_tmp_path, strerror(errno));
	if (same_file(s->fd, s->meta_tmp_fd))
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s would be both the data and a sidecar: choose another --sidecar",
				   s->data_path);
	if (!s->opts.force) {
		ret = dmakit_sink_check_existing(s->data_path, s->idx_path,
						 s->meta_path, s->is_blkdev,
						 err, errlen);
		if (ret)
			return ret;
	}
	if (!s->is_blkdev && ftruncate(s->fd, 0))
		return dmakit_errf(err, errlen, -errno, "truncate %s: %s",
				   s->data_path, strerror(errno));
	if (ftruncate(s->idx_fd, 0) || ftruncate(s->meta_tmp_fd, 0))
		return dmakit_errf(err, errlen, -errno, "truncate %s: %s",
				   s->idx_path, strerror(errno));
	return 0;
}

/* A failed open: remove the files it created, nothing else. */
static void remove_new_files(struct dmakit_sink *s)
{
	if (s->created_data)
		unlink(s->data_path);
	if (s->created_idx)
		unlink(s->idx_path);
	if (s->created_meta_tmp)
		unlink(s->meta_tmp_path);
	/* the data lock kept other writers out: a new .json is ours */
	if (s->wrote_meta && !s->had_meta)
		unlink(s->meta_path);
}

static int open_index(struct dmakit_sink *s, char *err, size_t errlen)
{
	const struct dmakit_geometry *g = s->opts.source;
	struct dmakit_idx_header *h = &s->hdr;
	uint64_t entries = IDX_MIN_RESERVE;
	int ret;

	if (s->opts.expected_bytes)
		entries += s->opts.expected_bytes / s->bufsize + 1;
	ret = reserve_index(s, entries);
	if (ret && entries > IDX_MIN_RESERVE)
		ret = reserve_index(s, IDX_MIN_RESERVE);
	if (ret)
		return dmakit_errf(err, errlen, ret,
				   "no room for the index %s: %s",
				   s->idx_path, dmakit_strerror(ret));
	s->alloc.idx_end = sizeof(*h) + entries * sizeof(struct dmakit_idx_entry);

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, DMAKIT_IDX_MAGIC, sizeof(h->magic));
	h->version = DMAKIT_IDX_VERSION;
	h->header_size = sizeof(*h);
	h->entry_size = sizeof(struct dmakit_idx_entry);
	h->bufsize = s->bufsize;
	h->payload = g ? g->payload : DMAKIT_PAYLOAD_NONE;
	h->stream_id = s->opts.stream_id;
	h->dev_clock_hz = g ? g->dev_clock_hz : 0;
	h->start_realtime_ns = s->start_realtime_ns;
	h->start_mono_ns = s->t_open_ns;
	if (g)	/* truncated to fit: the metadata has all of it */
		memcpy(h->device, g->name, strnlen(g->name,
						   sizeof(h->device) - 1));
	h->nbufs = g ? g->nbufs : s->opts.nbufs;
	h->engine = (uint32_t)s->engine_used;
	h->flags = DMAKIT_IDX_HDR_F_META_CRC;
	h->header_crc32c = dmakit_idx_header_crc(h);
	ret = rec_write_all(s->idx_fd, h, sizeof(*h), 0);
	if (ret)
		return dmakit_errf(err, errlen, ret, "write %s: %s",
				   s->idx_path, dmakit_strerror(ret));
	return 0;
}

/* Preallocate the data up front, or start growing it ahead of the writer. */
static void preallocate(struct dmakit_sink *s)
{
	uint64_t want = s->opts.expected_bytes;
	struct statvfs vfs;
	char b1[32];

	if (want % s->bufsize)
		want += s->bufsize - want % s->bufsize;
	snprintf(b1, sizeof(b1), "%llu", (unsigned long long)want);
	if (s->is_blkdev) {
		if (want > s->capacity)
			dmakit_sink_notice(s, "%s holds %llu bytes, less than the %s requested: recording until it is full",
					   s->data_path,
					   (unsigned long long)s->capacity, b1);
		return;
	}
	s->can_fallocate = true;
	if (want && !fstatvfs(s->fd, &vfs) &&
	    want > (uint64_t)vfs.f_bavail * vfs.f_frsize) {
		/* what fits is not allocated up front: a failed fallocate()
		 * keeps what it allocated and would fill the disk at once */
		dmakit_sink_notice(s, "%s bytes requested, %llu free on the file system of %s: recording until it is full",
				   b1, (unsigned long long)vfs.f_bavail * vfs.f_frsize,
				   s->data_path);
		want = 0;
	}
	if (want) {
		if (!fallocate(s->fd, 0, 0, (off_t)want)) {
			s->alloc.data_end = want;
			s->preallocated = want;
			return;
		}
		if (errno == EOPNOTSUPP) {
			s->can_fallocate = false;
			dmakit_sink_notice(s, "%s cannot be preallocated (no fallocate on this file system)",
					   s->data_path);
			return;
		}
		dmakit_sink_notice(s, "cannot preallocate %s bytes for %s (%s): recording until the file system is full",
				   b1, s->data_path, strerror(errno));
		/* give back what a failed fallocate() kept (nothing is written yet) */
		if (ftruncate(s->fd, 0))
			dmakit_sink_notice(s, "cannot release the partial preallocation of %s: %s",
					   s->data_path, strerror(errno));
	}
	if (dmakit_sink_alloc_start(s))
		dmakit_sink_notice(s, "no preallocation thread: %s grows as it is written",
				   s->data_path);
}

static int check_opts(const struct dmakit_sink_opts *o, char *err,
		      size_t errlen)
{
	if (!o->path || !*o->path)
		return dmakit_errf(err, errlen, -EINVAL, "no target path");
	if (o->sidecar && !*o->sidecar)
		return dmakit_errf(err, errlen, -EINVAL, "empty sidecar prefix");
	if ((unsigned int)o->engine >= sizeof(engines) / sizeof(engines[0]))
		return dmakit_errf(err, errlen, -EINVAL, "unknown engine %d",
				   (int)o->engine);
	if (o->bufsize < DMAKIT_RING_MIN_BUFSIZE ||
	    o->bufsize > DMAKIT_RING_MAX_BUFSIZE ||
	    o->bufsize % DMAKIT_RING_MIN_BUFSIZE)
		return dmakit_errf(err, errlen, -EINVAL,
				   "buffer size %u is not a multiple of 4096 in 4K..64M",
				   o->bufsize);
	if (o->queue_depth > SINK_MAX_DEPTH)
		return dmakit_errf(err, errlen, -EINVAL,
				   "queue depth %u is out of range 1..%d",
				   o->queue_depth, SINK_MAX_DEPTH);
	return rec_samples_check(&o->samples, err, errlen);
}

static int classify_target(struct dmakit_sink *s, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(s->data_path, &sb)) {
		if (errno == ENOENT) {	/* a new file */
			s->data_was_missing = true;
			return dmakit_sink_check_new_path(s->data_path, err,
							  errlen);
		}
		return dmakit_errf(err, errlen, -errno, "%s: %s", s->data_path,
				   strerror(errno));
	}
	if (S_ISDIR(sb.st_mode))
		return dmakit_errf(err, errlen, -EISDIR, "%s is a directory",
				   s->data_path);
	if (S_ISBLK(sb.st_mode)) {
		s->is_blkdev = true;
		if (!s->opts.sidecar)
			return dmakit_errf(err, errlen, -EINVAL,
					   "%s is a block device: give a sidecar prefix for the index and metadata (--sidecar)",
					   s->data_path);
		return 0;
	}
	if (!S_ISREG(sb.st_mode))
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s is not a regular file or a block device",
				   s->data_path);
	return 0;
}

static void free_sink(struct dmakit_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->idx_fd >= 0)
		close(s->idx_fd);
	if (s->meta_tmp_fd >= 0)
		close(s->meta_tmp_fd);
	free(s->data_path);
	free(s->idx_path);
	free(s->meta_path);
	free(s->meta_tmp_path);
	free(s->pending);
	free(s->ibuf);
	free(s);
}

int dmakit_sink_open(struct dmakit_sink **sinkp,
		     const struct dmakit_sink_opts *o, char *err,
		     size_t errlen)
{
	struct dmakit_sink *s;
	const char *prefix;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!sinkp || !o)
		return dmakit_errf(err, errlen, -EINVAL, "no options");
	ret = check_opts(o, err, errlen);
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	s->fd = s->idx_fd = s->meta_tmp_fd = -1;
	s->opts = *o;
	s->eng = engines[o->engine];
	s->engine_used = o->engine;
	s->bufsize = o->bufsize;
	s->depth = o->queue_depth ? o->queue_depth : DEFAULT_DEPTH;
	s->notice = o->notice;
	s->notice_ctx = o->notice_ctx;
	s->fail_offset = UINT64_MAX;
	s->error_write_offset = UINT64_MAX;
	s->ckpt_ms = o->checkpoint_ms ? o->checkpoint_ms : DEFAULT_CHECKPOINT_MS;
	if (s->ckpt_ms < 0)
		s->ckpt_ms = -1;
	s->t_open_ns = dmakit_now_ns();
	s->start_realtime_ns = realtime_ns();
	s->last_idx_flush_ns = s->t_open_ns;
	prefix = o->sidecar ? o->sidecar : o->path;
	s->data_path = strdup(o->path);
	s->idx_path = dmakit_sidecar_name(prefix, ".idx");
	s->meta_path = dmakit_sidecar_name(prefix, ".json");
	s->meta_tmp_path = dmakit_sidecar_name(prefix, ".json.tmp");
	s->pending_cap = 1024;
	s->pending = malloc(s->pending_cap * sizeof(*s->pending));
	s->ibuf = malloc(IDX_FLUSH_ENTRIES * sizeof(*s->ibuf));
	if (!s->data_path || !s->idx_path || !s->meta_path ||
	    !s->meta_tmp_path || !s->pending || !s->ibuf) {
		free_sink(s);
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	}
	ret = classify_target(s, err, errlen);
	/* the caller's strings and geometry may go away before close */
	s->opts.path = s->data_path;
	s->opts.sidecar = NULL;
	if (o->source) {
		s->source = *o->source;
		s->opts.source = &s->source;
	}
	if (!ret)
		ret = open_target(s, err, errlen);
	if (!ret)
		ret = open_sidecars(s, err, errlen);
	/* bookkeeping space first: the data may take all that is left */
	if (!ret)
		ret = open_index(s, err, errlen);
	if (!ret) {
		ret = write_metadata_initial(s);
		if (ret)
			dmakit_errf(err, errlen, ret, "write %s: %s",
				    s->meta_path, dmakit_strerror(ret));
	}
	if (!ret) {
		preallocate(s);
		ret = s->eng->open(s, err, errlen);
		if (ret)
			dmakit_sink_alloc_stop(s);
	}
	if (ret) {
		remove_new_files(s);
		free_sink(s);
		return ret;
	}
	dmakit_sink_checkpoint_start(s);
	*sinkp = s;
	return 0;
}

/* --- close --- */

/*
 * The index's end: totals, a CRC over every entry and one over the final
 * metadata @text (format 2), whose members' fingerprints go into the
 * header (they name what an edit changed).
 */
static int write_trailer(struct dmakit_sink *s, const char *text, size_t len)
{
	struct dmakit_idx_trailer t;
	int ret;

	if (text) {
		rec_meta_fields(text, s->hdr.meta_fields,
				sizeof(s->hdr.meta_fields));
		ret = rec_write_all(s->idx_fd, &s->hdr, sizeof(s->hdr), 0);
		if (ret)
			return ret;
	}
	dmakit_idx_trailer_fill(&t, &s->st, s->hdr.stream_id, s->entries_crc,
				s->st.result, text ? rec_meta_crc(text, len) : 0);
	ret = rec_write_all(s->idx_fd, &t, sizeof(t),
			    sizeof(struct dmakit_idx_header) +
			    s->st.buffers * sizeof(struct dmakit_idx_entry));
	if (ret)
		return ret;
	/* a failed index write may have left more behind (see flush_index) */
	if (ftruncate(s->idx_fd, (off_t)(sizeof(struct dmakit_idx_header) +
			(s->st.buffers + 1) * sizeof(struct dmakit_idx_entry))))
		return -errno;
	return 0;
}

static enum dmakit_result final_result(struct dmakit_sink *s,
				       const struct dmakit_sink_summary *sum)
{
	enum dmakit_result r = sum ? sum->result : DMAKIT_RESULT_COMPLETE;

	if (s->error && r != DMAKIT_RESULT_DEVICE_ERROR)
		r = dmakit_err_is_full(s->error) ? DMAKIT_RESULT_DISK_FULL :
						   DMAKIT_RESULT_IO_ERROR;
	return r;
}

/* A step of close failed: keep the first, saying what it left undone. */
static void unfinished(struct dmakit_sink *s, int *ret, int err,
		       const char *fmt, ...)
{
	char what[192];
	va_list ap;

	if (*ret)
		return;
	*ret = err;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	s->st.close_error = err;
	snprintf(s->st.close_message, sizeof(s->st.close_message),
		 "could not %s: %s", what, dmakit_strerror(err));
}

int dmakit_sink_close(struct dmakit_sink *s,
		      const struct dmakit_sink_summary *sum,
		      struct dmakit_sink_stats *out)
{
	uint64_t cookies[SINK_MAX_DEPTH];
	uint64_t ckpt_n, ckpt_buffers, ckpt_last_seq;
	double ckpt_seconds;
	bool claimed;
	const char *msg;
	char *text;
	size_t len = 0;
	int ret = 0, r;

	if (!s)
		return -EINVAL;
	/* every write in flight ends, signals or not */
	while (s->count)
		dmakit_sink_reap(s, cookies, SINK_MAX_DEPTH, (int)s->count);
	s->eng->drain(s);
	check_bg_error(s);
	dmakit_sink_promote(s);
	/* completed but never persisted (writeback failed) */
	s->st.not_recorded += s->npending;
	s->npending = 0;
	dmakit_sink_flush_index(s);
	/* no checkpoint may rename its metadata over the final one */
	dmakit_sink_checkpoint_stop(s);
	dmakit_sink_alloc_stop(s);
	s->eng->close(s);

	s->st.seconds = (double)(dmakit_now_ns() - s->t_open_ns) / 1e9;
	s->st.dropped = sum ? sum->dropped : 0;
	s->st.not_recorded += sum ? sum->not_taken : 0;
	s->st.result = final_result(s, sum);
	s->closed = true;

	/* data first, then the index that describes it, then metadata */
	if (!s->is_blkdev &&
	    ftruncate(s->fd, (off_t)(s->st.buffers * s->bufsize)))
		unfinished(s, &ret, -errno, "trim %s", s->data_path);
	if (fsync(s->fd)) {
		r = -errno;
		dmakit_sink_fail(s, r, "fsync %s: %s", s->data_path,
				 dmakit_strerror(r));
		s->st.result = final_result(s, sum);
		unfinished(s, &ret, r, "fsync %s", s->data_path);
	}
	msg = s->error || !sum ? s->errmsg : sum->error;
	snprintf(s->st.message, sizeof(s->st.message), "%s", msg);
	/*
	 * The final metadata is made first: the trailer binds its bytes.
	 * Once the trailer is durable, everything is: the end is the last
	 * checkpoint (if it is not, the metadata is made again without
	 * that claim, and no longer matches the trailer: verify says so).
	 */
	ckpt_n = s->st.checkpoints;
	ckpt_buffers = s->st.checkpoint_buffers;
	ckpt_last_seq = s->ckpt_last_seq;
	ckpt_seconds = s->ckpt_seconds;
	claimed = !ret;
	if (claimed) {
		s->st.checkpoints++;
		s->st.checkpoint_buffers = s->st.buffers;
		s->ckpt_last_seq = s->st.last_seq;
		s->ckpt_seconds = s->st.seconds;
	}
	text = metadata_text(s, true, dmakit_result_name(s->st.result), msg,
			     &len);
	r = write_trailer(s, text, len);
	if (r)
		unfinished(s, &ret, r, "write the trailer of %s", s->idx_path);
	if (fsync(s->idx_fd))
		unfinished(s, &ret, -errno, "fsync %s", s->idx_path);
	if (ret && claimed) {
		s->st.checkpoints = ckpt_n;
		s->st.checkpoint_buffers = ckpt_buffers;
		s->ckpt_last_seq = ckpt_last_seq;
		s->ckpt_seconds = ckpt_seconds;
		free(text);
		text = metadata_text(s, true, dmakit_result_name(s->st.result),
				     msg, &len);
	}
	r = write_metadata_text(s, text, len);
	/* written to a temporary file, fsynced, renamed, directory fsynced */
	if (r)
		unfinished(s, &ret, r, "write the final %s (it still says \"recording\")",
			   s->meta_path);
	if (!s->is_blkdev) {
		r = rec_fsync_dir_of(s->data_path);
		if (r)
			unfinished(s, &ret, r, "fsync the directory of %s",
				   s->data_path);
	}
	if (out)
		dmakit_sink_stats(s, out);
	free_sink(s);
	return ret;
}
