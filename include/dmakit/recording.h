/* SPDX-License-Identifier: MIT */
/*
 * dmakit recordings: a data file (or raw block device) of fixed-size buffer
 * slots, a binary index with one entry per recorded buffer, and a JSON
 * metadata file.  Written by a "sink" (the record engines), checked by the
 * verifier.
 *
 *   DATA            buffer k at offset k * bufsize (entry.offset says so)
 *   SIDECAR.idx     struct dmakit_idx_header, then struct dmakit_idx_entry[]
 *   SIDECAR.json    metadata: device, geometry, engine, times, counts, result
 *
 * SIDECAR defaults to DATA for regular files; a block device target needs
 * an explicit sidecar prefix.
 */
#ifndef DMAKIT_RECORDING_H
#define DMAKIT_RECORDING_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <dmakit.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define DMAKIT_IDX_MAGIC	"DMKIDX01"
#define DMAKIT_IDX_VERSION	1

/* Index file header, 256 bytes, little-endian, no implicit padding. */
struct dmakit_idx_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;		/* sizeof(struct dmakit_idx_header) */
	uint32_t entry_size;		/* sizeof(struct dmakit_idx_entry) */
	uint32_t bufsize;		/* bytes per data slot */
	uint32_t payload;		/* DMAKIT_PAYLOAD_* of the source */
	uint32_t flags;			/* reserved, 0 */
	uint64_t stream_id;		/* the source's stream id */
	uint64_t dev_clock_hz;
	uint64_t start_realtime_ns;	/* CLOCK_REALTIME at start */
	uint64_t start_mono_ns;		/* CLOCK_MONOTONIC at start */
	char device[128];		/* the device string */
	uint32_t header_crc32c;		/* of the bytes before this field */
	uint32_t reserved0;
	uint64_t reserved[9];
};

/*
 * One recorded buffer, 64 bytes.  entry_crc32c covers the 60 bytes before
 * it, so a torn or corrupt index entry is detected, not trusted.
 */
struct dmakit_idx_entry {
	uint64_t seq;			/* descriptor fields, as produced */
	uint64_t dev_ts;
	uint64_t host_ts;
	uint64_t lost;
	uint64_t offset;		/* byte offset of the slot in DATA */
	uint32_t len;
	uint32_t flags;			/* DMAKIT_DESC_F_* */
	uint32_t crc32c;		/* of the len valid bytes (F_CRC) */
	uint32_t reserved0;
	uint32_t write_us;		/* data write latency, microseconds */
	uint32_t entry_crc32c;
};

/* Record engines. */
enum dmakit_engine {
	DMAKIT_ENGINE_URING = 0,	/* io_uring O_DIRECT from ring pages */
	DMAKIT_ENGINE_PWRITE,		/* O_DIRECT pwrite() from writer threads */
	DMAKIT_ENGINE_BUFFERED,		/* page-cache writes, flushed behind */
	DMAKIT_ENGINE_MMAP,		/* copy into mapped file windows */
};

/* "uring", "pwrite", "buffered", "mmap" <-> enum; -EINVAL if unknown. */
int dmakit_engine_parse(const char *name, enum dmakit_engine *e);
const char *dmakit_engine_name(enum dmakit_engine e);

/* How a recording ended (metadata "result"). */
enum dmakit_result {
	DMAKIT_RESULT_COMPLETE = 0,	/* size or duration reached */
	DMAKIT_RESULT_INTERRUPTED,	/* stopped by a signal / request */
	DMAKIT_RESULT_DISK_FULL,	/* ENOSPC / EFBIG / end of device */
	DMAKIT_RESULT_IO_ERROR,		/* EIO or another write error */
	DMAKIT_RESULT_DEVICE_ERROR,	/* the source vanished or failed */
	DMAKIT_RESULT_SOURCE_ENDED,	/* the source stopped producing */
};
const char *dmakit_result_name(enum dmakit_result r);

/**
 * struct dmakit_sink_opts - where and how a sink writes.
 * @path:       data file or block device
 * @sidecar:    prefix for .idx and .json (NULL: @path; required for
 *              block devices)
 * @engine:     write engine
 * @queue_depth: writes in flight (uring) / writer threads (pwrite); 0: 8
 * @expected_bytes: bytes to preallocate up front (0: grow as needed)
 * @bufsize:    bytes per slot (the source's buffer size)
 * @pool, @pool_len: memory all submitted buffers live in (the ring's data
 *              area, or a receive pool), registered with io_uring when
 *              the kernel allows it; NULL if unknown
 * @nbufs:      buffers in @pool (each @bufsize bytes), for registration
 * @source:     device string, kind, payload, stream id, clock: copied into
 *              the index header and metadata
 * @notice:     called with a one-line notice (fallbacks, e.g. "target has
 *              no O_DIRECT, using buffered writes"); may be NULL
 */
struct dmakit_sink_opts {
	const char *path;
	const char *sidecar;
	enum dmakit_engine engine;
	unsigned int queue_depth;
	uint64_t expected_bytes;
	uint32_t bufsize;
	void *pool;
	size_t pool_len;
	uint32_t nbufs;
	const struct dmakit_geometry *source;
	uint64_t stream_id;
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

struct dmakit_sink;

/*
 * Open the target (create / preallocate / check a block device's size),
 * create the sidecars.  Return 0 or -errno with @err explaining.
 */
int dmakit_sink_open(struct dmakit_sink **sinkp,
		     const struct dmakit_sink_opts *opts, char *err,
		     size_t errlen);

/*
 * Queue one buffer for writing.  @data must stay untouched until the sink
 * returns @cookie from dmakit_sink_reap().  @pool_index is the buffer's
 * index in opts->pool (for registered writes), or -1.
 * Return 0; -EAGAIN if the queue is full (reap first); -ENOSPC/-EIO/...
 * once the sink has failed (it accepts nothing more after an error).
 */
int dmakit_sink_submit(struct dmakit_sink *sink, const struct dmakit_desc *desc,
		       const void *data, int pool_index, uint64_t cookie);

/*
 * Collect finished writes: up to @max cookies of buffers whose data is
 * written (or failed) and may be reused.  @min_wait: wait until at least
 * this many are done (0: don't wait).  Return the count or -errno.
 */
int dmakit_sink_reap(struct dmakit_sink *sink, uint64_t *cookies, int max,
		     int min_wait);

/* Writes in flight. */
int dmakit_sink_inflight(struct dmakit_sink *sink);

/* Bytes still available at the target (for progress and early stops). */
uint64_t dmakit_sink_bytes_written(struct dmakit_sink *sink);

/**
 * struct dmakit_sink_summary - what the metadata says at the end.
 * @dropped:   buffers the source reported dropped while recording
 * @skipped:   buffers a lossy consumer skipped (0 for reliable)
 * @not_recorded: buffers received but not written (the sink failed)
 * @result:    how it ended
 * @error:     message for a failure, "" otherwise
 */
struct dmakit_sink_summary {
	uint64_t dropped;
	uint64_t skipped;
	uint64_t not_recorded;
	enum dmakit_result result;
	char error[256];
};

/*
 * Finish: wait for writes in flight, make data, index and metadata
 * durable (fsync, directory fsync), trim preallocation, free.  The
 * recording is consistent and verifiable whatever the result.
 * @out, if not NULL, receives the final counters.
 */
struct dmakit_sink_stats {
	uint64_t buffers;	/* recorded */
	uint64_t bytes;		/* valid bytes recorded */
	uint64_t gaps;		/* entries with lost > 0 */
	uint64_t lost;		/* sum of lost over recorded entries */
	uint64_t first_seq, last_seq;
	double seconds;
	enum dmakit_result result;
	int error;		/* first write error, -errno, or 0 */
};
int dmakit_sink_stats(struct dmakit_sink *sink, struct dmakit_sink_stats *st);
int dmakit_sink_close(struct dmakit_sink *sink,
		      const struct dmakit_sink_summary *summary,
		      struct dmakit_sink_stats *out);

/**
 * struct dmakit_record_opts - dmakit_record(): a consumer feeding a sink.
 * @sink:       sink options (pool/nbufs/source filled in by dmakit_record)
 * @max_bytes:  stop after this many bytes (0: no limit)
 * @max_seconds: stop after this long (0: no limit)
 * @mode:       consumer mode (normally DMAKIT_RELIABLE)
 * @stop:       set nonzero (e.g. from a signal handler) to stop cleanly
 * @progress:   called about every @progress_ms with current counters
 */
struct dmakit_record_progress {
	double seconds;
	uint64_t bytes;
	uint64_t buffers;
	uint64_t dropped;
	uint32_t ring_fill;	/* buffers produced, not yet released */
	uint32_t nbufs;
	uint32_t inflight;
};

struct dmakit_record_opts {
	struct dmakit_sink_opts sink;
	uint64_t max_bytes;
	double max_seconds;
	enum dmakit_consumer_mode mode;
	volatile sig_atomic_t *stop;
	void (*progress)(void *ctx, const struct dmakit_record_progress *p);
	void *progress_ctx;
	unsigned int progress_ms;
};

/*
 * Record from @dev until a limit, a stop request, the end of the stream
 * or an error.  Starts the device if it is idle.  Always leaves a
 * consistent recording; @out describes it.  Return 0 if the recording is
 * complete (limit reached), else a negative errno matching out->result
 * (-EINTR interrupted, -ENOSPC disk full, -EIO, -ENODEV, -ENODATA).
 */
int dmakit_record(struct dmakit_dev *dev, const struct dmakit_record_opts *opts,
		  struct dmakit_sink_stats *out, char *err, size_t errlen);

/**
 * struct dmakit_verify_report - what dmakit_verify() found.
 * @buffers, @bytes: entries checked and their valid bytes
 * @dropped:   buffers the metadata says were dropped
 * @gaps:      gap entries (lost > 0), accounted by the metadata
 * @lost:      sum of lost over entries
 * @crc_errors: data CRC mismatches
 * @payload_errors: sim payload mismatches (buffers)
 * @index_errors: corrupt index entries / header problems
 * @unaccounted: sequence jumps not explained by a lost count, or a
 *             metadata total that does not match the index
 * @first_bad_seq: sequence number of the first bad buffer (if any)
 * @ok:        no corruption and no unaccounted loss
 */
struct dmakit_verify_report {
	uint64_t buffers;
	uint64_t bytes;
	uint64_t dropped;
	uint64_t gaps;
	uint64_t lost;
	uint64_t crc_errors;
	uint64_t payload_errors;
	uint64_t index_errors;
	uint64_t unaccounted;
	uint64_t first_bad_seq;
	bool payload_checked;
	bool ok;
	char result[32];	/* the recording's result from metadata */
	char message[256];	/* first problem, human readable */
};

/*
 * Verify a recording: @path is the data file or device, @sidecar the
 * prefix (NULL: @path).  Return 0 if it was read (see report->ok), or a
 * negative errno if it could not be read at all.
 */
int dmakit_verify(const char *path, const char *sidecar,
		  struct dmakit_verify_report *report, char *err,
		  size_t errlen);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMAKIT_RECORDING_H */
