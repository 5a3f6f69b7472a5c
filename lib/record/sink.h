/* SPDX-License-Identifier: MIT */
/*
 * Sink internals: the common part (sink.c: target, slots, ordering, index,
 * metadata, durable finish; sink_alloc.c: preallocation ahead of the
 * writer) and the engine interface each sink_<engine>.c implements.
 *
 * Threading: every field of struct dmakit_sink is owned by the thread that
 * calls the dmakit_sink_* API, except those marked "atomic", which engine
 * and allocator threads share through __atomic builtins.
 *
 * A write goes through two stages:
 *   complete  - the engine is done with the caller's buffer (written with
 *               O_DIRECT, or copied into the page cache / a mapping); the
 *               cookie goes back to the caller in submission order;
 *   persisted - the data reached the target (for the direct engines the
 *               same moment; for the copying engines after writeback).
 * Only persisted slots get index entries, in slot order, so the index is
 * always a prefix of what is really on the target.
 */
#ifndef DMAKIT_SINK_H
#define DMAKIT_SINK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "internal.h"
#include "dmakit/recording.h"

#define SINK_MAX_DEPTH		256

/* One submitted buffer, from submit until its cookie is reaped. */
struct sink_io {
	struct dmakit_desc desc;
	const unsigned char *data;
	uint64_t cookie;
	uint64_t offset;		/* slot offset in the target */
	uint64_t t_submit;		/* CLOCK_MONOTONIC ns */
	uint32_t len;			/* bytes to write: the whole slot */
	uint32_t done;			/* bytes written so far */
	uint32_t write_us;
	int pool_index;
	int result;			/* 0 or -errno, valid once complete */
	bool complete;
};

struct dmakit_sink;

/**
 * struct sink_engine - one write technique.
 * @direct:  opens the target with O_DIRECT (falls back to buffered if the
 *           target refuses it)
 * @copies:  completes ios by copying; persisted progress comes from
 *           dmakit_sink_persisted() calls of the engine's threads
 * @open:    set up (s->fd is open); may leave a notice
 * @submit:  start writing @io; may complete it before returning
 *           (dmakit_sink_io_done).  Returns 0 or -errno (not started).
 * @wait:    complete ios: wait until at least @min are complete (0: only
 *           collect what is done).  Returns 0 or -EINTR.
 * @drain:   after the last io completed: push everything to the target
 *           (copying engines: write back, wait, report persisted)
 * @close:   free the engine (threads joined)
 */
struct sink_engine {
	const char *name;
	bool direct;
	bool copies;
	int (*open)(struct dmakit_sink *s, char *err, size_t errlen);
	int (*submit)(struct dmakit_sink *s, struct sink_io *io);
	int (*wait)(struct dmakit_sink *s, unsigned int min);
	void (*drain)(struct dmakit_sink *s);
	void (*close)(struct dmakit_sink *s);
};

extern const struct sink_engine dmakit_sink_uring;
extern const struct sink_engine dmakit_sink_pwrite;
extern const struct sink_engine dmakit_sink_buffered;
extern const struct sink_engine dmakit_sink_mmap;

/* Preallocation ahead of the writer (sink_alloc.c). */
struct sink_alloc {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running;
	bool late_start;		/* writer only: started past the prealloc */
	bool quit;			/* under lock */
	uint64_t data_end;		/* atomic: data allocated up to here */
	uint64_t want_end;		/* atomic: the writer's end offset */
	uint64_t poked_at;		/* writer only: data_end last poked */
	uint64_t idx_end;		/* index bytes reserved (thread only) */
	uint64_t chunk_max;		/* thread only: lowered when space is short */
	int error;			/* atomic: first fallocate failure */
};

/*
 * Checkpoints (sink_checkpoint.c): a thread that makes what is written
 * durable.  With a copying engine a checkpoint has two steps: the thread
 * first syncs the data copied so far (a window still filling included),
 * whose buffers then get index entries; then, as with the direct
 * engines, it makes the index durable and publishes the metadata.
 */
struct sink_ckpt {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running;			/* caller's thread only */
	uint64_t next_ns;		/* caller's thread only */
	bool error_told;		/* caller's thread only */
	bool data_step;			/* caller's: step one handed over */
	uint64_t synced;		/* caller's: data durable up to here */
	/* under lock */
	bool quit;
	char *text;			/* metadata to publish, NULL: idle */
	size_t len;
	bool data;			/* sync the data too (else the index only) */
	uint64_t data_off, data_len;	/* its range (len 0: to the end) */
	bool data_job;			/* step one: sync data_off..want_synced */
	uint64_t want_synced, done_synced;
	uint64_t want_buffers, want_last_seq;
	uint64_t done, done_buffers, done_last_seq;
	double done_seconds;
	int error;
};

struct dmakit_sink {
	const struct sink_engine *eng;
	void *priv;			/* engine state */
	struct dmakit_sink_opts opts;	/* pointers into this struct only */
	struct dmakit_geometry source;	/* copy of *opts.source */
	char *data_path, *idx_path, *meta_path, *meta_tmp_path;
	int fd;				/* data target */
	int idx_fd, meta_tmp_fd;
	bool is_blkdev;
	bool data_was_missing;		/* before this open */
	bool created_data, created_idx, created_meta_tmp; /* by this open */
	bool had_meta, wrote_meta;	/* PREFIX.json before / by this open */
	bool direct;
	bool registered;		/* set by the uring engine */
	bool can_fallocate;
	bool closed;
	enum dmakit_engine engine_used;	/* after any fallback */
	uint64_t preallocated;		/* bytes fallocate'd up front */
	uint64_t capacity;		/* block device bytes; 0: no limit */
	uint32_t bufsize;
	unsigned int depth;
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;

	/* submitted ios, in submission order: ios[(head + i) % depth] */
	struct sink_io ios[SINK_MAX_DEPTH];
	unsigned int head, count;
	uint64_t next_offset;		/* slot of the next submit */

	/* completed, not yet persisted: index entries waiting for writeback */
	struct dmakit_idx_entry *pending;
	size_t npending, pending_cap, pending_first;
	uint64_t completed_end;		/* end of the completed prefix */
	uint64_t fail_offset;		/* nothing from here is indexed */
	uint64_t persisted;		/* atomic (copying engines) */
	int bg_error;			/* atomic: engine thread's failure */

	/* index entries waiting to be written to SIDECAR.idx */
	struct dmakit_idx_entry *ibuf;
	size_t ibuf_n;
	uint64_t idx_written;		/* entries on disk */
	uint64_t last_idx_flush_ns;

	struct sink_alloc alloc;

	struct sink_ckpt ckpt;
	int32_t ckpt_ms;		/* < 0: only at the end */
	uint64_t ckpt_last_seq;
	double ckpt_seconds;
	uint32_t entries_crc;		/* chained over the entries written */

	struct dmakit_idx_header hdr;
	struct dmakit_sink_stats st;
	uint64_t write_us_max, write_us_sum;
	uint64_t t_open_ns;
	uint64_t start_realtime_ns;
	int error;			/* first failure, -errno */
	char errmsg[256];
	uint64_t error_write_offset;	/* the failed write errmsg names, or
					 * UINT64_MAX (not a write's) */
};

/* Engine -> common: @io is complete with @result (0 or -errno). */
void dmakit_sink_io_done(struct dmakit_sink *s, struct sink_io *io,
			 int result);

/*
 * Engine threads (copying engines): data up to @end is on the target, or
 * writeback failed with @err (then @end is ignored).
 */
void dmakit_sink_persisted(struct dmakit_sink *s, uint64_t end, int err);

/* Make sure data up to @end may be written/mapped (fallocate growth). */
int dmakit_sink_alloc_until(struct dmakit_sink *s, uint64_t end);

/* A notice through opts->notice (formatted). */
void dmakit_sink_notice(struct dmakit_sink *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record the sink's first error with a message (keeps the first). */
void dmakit_sink_fail(struct dmakit_sink *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct rec_meta;

/* Fill @m with the sink's metadata now; @final: the recording ended. */
void dmakit_sink_fill_meta(struct dmakit_sink *s, struct rec_meta *m,
			   bool final, const char *result, const char *error);

/* Write the buffered index entries (pwrite, not yet durable). */
void dmakit_sink_flush_index(struct dmakit_sink *s);

/* Give completed buffers whose data is on the target index entries. */
void dmakit_sink_promote(struct dmakit_sink *s);

/* Checkpoints (sink_checkpoint.c): start the thread at open (unless
 * ckpt_ms < 0), hand it a checkpoint when due, wait for it and stop. */
void dmakit_sink_checkpoint_start(struct dmakit_sink *s);
void dmakit_sink_checkpoint_tick(struct dmakit_sink *s);
void dmakit_sink_checkpoint_stop(struct dmakit_sink *s);

/*
 * Housekeeping between reaps (index flushes, checkpoints): for callers
 * that may go a while without dmakit_sink_reap() (an idle source).
 */
void dmakit_sink_tick(struct dmakit_sink *s);

/* Allocator (sink_alloc.c). */
int dmakit_sink_alloc_start(struct dmakit_sink *s);
void dmakit_sink_alloc_poke(struct dmakit_sink *s, uint64_t write_end);
void dmakit_sink_alloc_stop(struct dmakit_sink *s);

/* Index entry, header and trailer CRCs (shared with the verifier). */
uint32_t dmakit_idx_entry_crc(const struct dmakit_idx_entry *e);
uint32_t dmakit_idx_header_crc(const struct dmakit_idx_header *h);
uint32_t dmakit_idx_trailer_crc(const struct dmakit_idx_trailer *t);
/* The 64-byte record @rec is a trailer (magic and CRC match). */
bool dmakit_idx_is_trailer(const void *rec);

/*
 * Entry number @k of an index of @bufsize-byte slots can be trusted: its
 * entry CRC matches, it names slot @k and its length fits the slot.
 */
bool dmakit_idx_entry_ok(const struct dmakit_idx_entry *e, uint64_t k,
			 uint32_t bufsize);
/*
 * The @e->len bytes at @data are the ones entry @e was written with: its
 * CRC (index format @version; 2 binds it to sequence and slot) matches.
 * An entry without a CRC (no DMAKIT_DESC_F_CRC) has nothing to check and
 * is taken as it is: callers that must know count those themselves.
 */
bool dmakit_idx_data_ok(uint32_t version, const struct dmakit_idx_entry *e,
			const void *data);

/*
 * Count an index entry into @st (buffers, bytes, gaps, lost, empty,
 * truncated against @bufsize, DMA errors, first/last seq) and chain it
 * into *@entries_crc (the trailer's checksum): one rule for the writer,
 * which counts what it indexes, and recovery, which counts what it keeps.
 */
void dmakit_idx_account(struct dmakit_sink_stats *st, uint32_t *entries_crc,
			uint64_t bufsize, const struct dmakit_idx_entry *e);

/*
 * The index's trailer for the entries counted in @st, its CRC set;
 * @meta_crc: dmakit_crc32c() of the final metadata file's bytes.
 */
void dmakit_idx_trailer_fill(struct dmakit_idx_trailer *t,
			     const struct dmakit_sink_stats *st,
			     uint64_t stream_id, uint32_t entries_crc,
			     enum dmakit_result result, uint32_t meta_crc);

/*
 * The limits of a recording's options (duration 0..DMAKIT_MAX_SECONDS,
 * size at most DMAKIT_MAX_BYTES), for dmakit_record() and
 * dmakit_record_fd(): 0, or -EINVAL with @err saying which.
 */
struct dmakit_record_opts;
int dmakit_record_check_limits(const struct dmakit_record_opts *opts,
			       char *err, size_t errlen);

/*
 * dmakit_verify() without reading the data (verify.c): the index (entries,
 * sequence, trailer), the data file's size and the metadata against them,
 * DMA errors allowed.  For readers that trust nothing the metadata says
 * until verify would (export).
 */
struct dmakit_verify_report;
int rec_verify_index(const char *path, const char *sidecar,
		     struct dmakit_verify_report *rep, char *err,
		     size_t errlen);

/* Sidecar file names: "<prefix>.idx", "<prefix>.json" (malloc'd). */
char *dmakit_sidecar_name(const char *prefix, const char *suffix);

/*
 * The target before writing (sink_target.c).  Each returns 0 or -errno
 * with @err explaining.
 *   check_new_path:  a path that does not exist may be created (not a
 *                    mistyped device under /dev: -ENOENT)
 *   check_existing:  nothing is there to lose: no data, index or metadata
 *                    (a block device: blank, no signature) (-EEXIST)
 *   lock:            take @fd's exclusive flock at once, or name the
 *                    holder (-EBUSY); -EOPNOTSUPP: the file system has
 *                    no flock (the caller goes on, with a notice).  A
 *                    holder that has exited (its last file references
 *                    still being dropped by the kernel, as after SIGKILL
 *                    with io_uring writes) is waited for, up to
 *                    DMAKIT_SINK_DEAD_LOCK_MS (lock_wait: @dead_wait_ms)
 *   check_unlocked:  nobody holds @path's flock (a probe, nothing kept)
 *   check_not_live_meta: @path is not a live recording's metadata
 *                    (PREFIX.json whose PREFIX.idx a writer holds: the
 *                    metadata itself is replaced by rename, unlocked)
 *                    (-EBUSY)
 * (dmakit_sink_preflight() in recording.h runs them without opening.)
 */
int dmakit_sink_check_new_path(const char *path, char *err, size_t errlen);
int dmakit_sink_check_existing(const char *data, const char *idx,
			       const char *meta, bool is_blkdev, char *err,
			       size_t errlen);
int dmakit_sink_lock(int fd, const char *path, char *err, size_t errlen);
#define DMAKIT_SINK_DEAD_LOCK_MS	30000
int dmakit_sink_lock_wait(int fd, const char *path, int dead_wait_ms,
			  char *err, size_t errlen);
int dmakit_sink_check_unlocked(const char *path, char *err, size_t errlen);
int dmakit_sink_check_not_live_meta(const char *path, char *err,
				    size_t errlen);
/* 1 (and @writer says who) if a live writer holds @path's lock, else 0
 * (also when only an exited process's files still hold it). */
int dmakit_sink_writer(const char *path, char *writer, size_t len);

/*
 * What a disk's first bytes hold: "an ext4 file system", "a GPT partition
 * table", "a dmakit recording", "data (it is not blank)"; NULL if they
 * are all zero.
 */
const char *dmakit_disk_signature(const unsigned char *buf, size_t len);

/* True for errors that mean "no more space" (ENOSPC, EFBIG, EDQUOT). */
bool dmakit_err_is_full(int err);

#endif /* DMAKIT_SINK_H */
