/* SPDX-License-Identifier: MIT */
/*
 * dmakit recordings: a data file (or raw block device) of fixed-size buffer
 * slots, a binary index with one entry per recorded buffer, and a JSON
 * metadata file.  Written by a "sink" (the record engines), checked by the
 * verifier.
 *
 *   DATA            buffer k in slot k: bytes [k * bufsize, (k+1) * bufsize)
 *                   (entry.offset says so; entry.len bytes of it are valid)
 *   SIDECAR.idx     struct dmakit_idx_header, struct dmakit_idx_entry[],
 *                   and (once finished) struct dmakit_idx_trailer
 *   SIDECAR.json    metadata: device, geometry, engine, times, counts,
 *                   the last checkpoint, result
 *
 * SIDECAR defaults to DATA for regular files; a block device target needs
 * an explicit sidecar prefix.
 *
 * Accounting (what "nothing is lost silently" means here):
 *   - a buffer the source dropped while recording shows as a gap: the next
 *     recorded entry has lost = number of buffers dropped before it, and
 *     seq[k] == seq[k-1] + 1 + lost[k] for every k >= 1;
 *   - buffers the source dropped after the last recorded one (no successor
 *     carries them) are in the metadata's "dropped" count;
 *   - a buffer handed to the sink but not written (the target failed) is
 *     counted in "not_recorded"; the index covers exactly the buffers whose
 *     data was written, as a prefix of the slots, whatever the result;
 *   - a buffer the source published empty (len 0), short (len < bufsize)
 *     or flagged as a DMA error is recorded like any other, with its
 *     flags, and counted per kind ("empty", "truncated", "dma_errors").
 *
 * Version 2 binds each buffer's checksum to its place: entry.crc32c is the
 * CRC32C of (seq, offset, data) (see dmakit_idx_bound_crc), so data moved
 * to another slot fails even with its checksum moved along; and a
 * finished index ends with a CRC-protected trailer holding the totals and
 * a CRC over every entry, so an index cut at an entry boundary is
 * detected whatever the metadata says; and the trailer holds a CRC of the
 * final metadata file (DMAKIT_IDX_HDR_F_META_CRC), so what only the
 * metadata says (drops after the last buffer, buffers not recorded, the
 * sample format, times, ...) cannot be edited unnoticed.  Version 1 recordings (plain data
 * CRCs, no trailer) are still verified, with those two checks reported as
 * unavailable.
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
#define DMAKIT_IDX_VERSION	2
#define DMAKIT_IDX_TRAILER_MAGIC "DMKEND02"

/* Index file header, 256 bytes, little-endian, no implicit padding. */
struct dmakit_idx_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;		/* sizeof(struct dmakit_idx_header) */
	uint32_t entry_size;		/* sizeof(struct dmakit_idx_entry) */
	uint32_t bufsize;		/* bytes per data slot */
	uint32_t payload;		/* DMAKIT_PAYLOAD_* of the source */
	uint32_t flags;			/* DMAKIT_IDX_HDR_F_* */
	uint64_t stream_id;		/* the source's stream id */
	uint64_t dev_clock_hz;
	uint64_t start_realtime_ns;	/* CLOCK_REALTIME at start */
	uint64_t start_mono_ns;		/* CLOCK_MONOTONIC at start */
	char device[112];		/* the device string (truncated) */
	uint32_t nbufs;			/* v2: buffers in the source's ring */
	uint32_t engine;		/* v2: enum dmakit_engine used */
	uint64_t reserved1;
	uint32_t header_crc32c;		/* of the bytes before this field */
	/*
	 * DMAKIT_IDX_HDR_F_META_CRC: a byte per top-level member of the
	 * final metadata, in order (rec_meta_field_fp), so verify can name
	 * what was edited; the trailer's CRC is what binds it (0 before).
	 */
	uint8_t meta_fields[60];
};

/*
 * Header flag: the trailer's meta_crc32c is the CRC32C of the metadata
 * file's bytes as the recorder (or dmakit_recover()) finished it, so any
 * later change of the metadata is detected (and the header's meta_fields
 * say which member changed).  Without it (an older
 * recorder) the metadata's own claims (dropped, not_recorded, ...) are
 * not bound to the index.
 */
#define DMAKIT_IDX_HDR_F_META_CRC	(1U << 0)

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
	uint32_t flags;			/* DMAKIT_DESC_F_*, DMAKIT_IDX_F_* */
	uint32_t crc32c;		/* F_CRC: v2 dmakit_idx_bound_crc(),
					 * v1 CRC32C of the len valid bytes */
	uint32_t reserved0;
	uint32_t write_us;		/* submit -> buffer reusable, microseconds */
	uint32_t entry_crc32c;
};

/*
 * Entry flag: crc32c was computed by the recorder from the ring buffer
 * (the device supplied none).  DMAKIT_DESC_F_CRC is set as well.
 */
#define DMAKIT_IDX_F_HOST_CRC	(1U << 16)

/*
 * The end of a finished index (v2), 64 bytes, after the last entry.
 * entries_crc32c chains dmakit_crc32c() over every entry's 64 bytes in
 * order; trailer_crc32c covers the 60 bytes before it.
 */
struct dmakit_idx_trailer {
	char magic[8];			/* DMAKIT_IDX_TRAILER_MAGIC */
	uint64_t buffers;
	uint64_t bytes;
	uint64_t first_seq;
	uint64_t last_seq;
	uint64_t stream_id;
	uint32_t entries_crc32c;
	uint32_t result;		/* enum dmakit_result */
	uint32_t meta_crc32c;		/* DMAKIT_IDX_HDR_F_META_CRC, else 0 */
	uint32_t trailer_crc32c;
};

/*
 * The v2 entry checksum: CRC32C of seq and offset (8 bytes each, little
 * endian) followed by the @len data bytes, computed from the data's plain
 * CRC32C @data_crc without reading the data again.
 */
uint32_t dmakit_idx_bound_crc(uint64_t seq, uint64_t offset,
			      uint32_t data_crc, uint32_t len);

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
	DMAKIT_RESULT_DISK_FULL,	/* ENOSPC / EFBIG / EDQUOT / end of device */
	DMAKIT_RESULT_IO_ERROR,		/* EIO or another write error */
	DMAKIT_RESULT_DEVICE_ERROR,	/* the source vanished or failed */
	DMAKIT_RESULT_SOURCE_ENDED,	/* the source stopped producing */
	DMAKIT_RESULT_RECOVERED,	/* finished by dmakit_recover() */
};
/* "complete", "interrupted", "disk-full", "io-error", "device-error",
 * "source-ended", "recovered"; dmakit_result_parse() is the inverse
 * (-EINVAL). */
const char *dmakit_result_name(enum dmakit_result r);
int dmakit_result_parse(const char *name, enum dmakit_result *r);

/**
 * struct dmakit_samples - what the recorded bytes are, for readers of the
 * recording (SigMF export, numpy, GNU Radio); kept in the metadata.
 * @format:      a SigMF dataset format: "cf32_le", "ci16_le", "ri8",
 *               "cu8", ... (c|r, then f32|f64|i32|i16|u32|u16 with _le or
 *               _be, or i8|u8); "" if the bytes are not samples (the
 *               default: nothing is written)
 * @rate:        samples per second (0: unknown)
 * @center_freq: centre frequency in Hz, valid if @has_center_freq
 */
struct dmakit_samples {
	char format[16];
	double rate;
	double center_freq;
	bool has_center_freq;
};

/*
 * Bytes per sample of SigMF dataset format @format (8 for "ci32_le",
 * 2 for "cu8"), or -EINVAL if it is not one.
 */
int dmakit_sample_size(const char *format);

/**
 * struct dmakit_sink_opts - where and how a sink writes.
 * @path:       data file or block device
 * @sidecar:    prefix for .idx and .json (NULL: @path; required for
 *              block devices)
 * @engine:     write engine.  A target that refuses O_DIRECT (ramfs, some
 *              FUSE file systems) makes the uring and pwrite engines fall
 *              back to buffered with a notice.
 * @queue_depth: writes in flight (uring) / writer threads (pwrite); 0: 8;
 *              at most 256
 * @expected_bytes: bytes to preallocate up front (0: grow the file in
 *              large chunks ahead of the writer).  If they cannot be
 *              preallocated the sink says so in a notice and records
 *              until the target is full.
 * @bufsize:    bytes per slot (the source's buffer size), a multiple of
 *              4096
 * @pool, @pool_len: memory all submitted buffers live in (the ring's data
 *              area, or a receive pool), registered with io_uring when
 *              the kernel allows it (else plain writes, with a notice);
 *              NULL if unknown
 * @nbufs:      buffers in @pool (each @bufsize bytes), for registration
 * @source:     device string, kind, payload, clock: copied into the index
 *              header and metadata; may be NULL.  The sink keeps copies of
 *              @path, @sidecar and *@source, not the pointers.
 * @stream_id:  the source's stream id (index header and metadata)
 * @no_host_crc: do not compute a CRC32C for buffers whose descriptor has
 *              none (saves reading every byte; verify then checks only
 *              the sim payload, if any)
 * @force:      overwrite what the target holds: an earlier recording
 *              (data, index or metadata present), a non-empty file, a
 *              block device that is not blank (a file system, a partition
 *              table, an earlier recording).  Without it the sink refuses
 *              with -EEXIST and touches nothing.
 * @checkpoint_ms: make data and index durable and record the point in
 *              the metadata every this many milliseconds (0: 1000; < 0:
 *              only at the end).  After a crash, dmakit_recover() keeps
 *              at least every buffer up to the last checkpoint.
 * @notice:     called with a one-line notice (fallbacks, e.g. "target has
 *              no O_DIRECT, using buffered writes"); may be NULL
 * @samples:    what the bytes are (format "" : not described); a format
 *              that is not SigMF's, or a negative or non-finite rate or
 *              frequency, is refused with -EINVAL
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
	bool no_host_crc;
	bool force;
	int32_t checkpoint_ms;
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
	struct dmakit_samples samples;
};

/*
 * A sink is used from one thread (all dmakit_sink_* calls on it); its
 * engines run their own threads internally.
 */
struct dmakit_sink;

/*
 * Open the target (create / preallocate / check a block device's size and
 * that nothing has it mounted), create the sidecars.  Return 0 or -errno
 * with @err explaining (-EINVAL for bad options, e.g. a block device
 * without a sidecar prefix).
 *
 * Writes past RLIMIT_FSIZE raise SIGXFSZ, which kills a process by default:
 * a program that wants the clean "disk full" ending ignores SIGXFSZ.
 */
int dmakit_sink_open(struct dmakit_sink **sinkp,
		     const struct dmakit_sink_opts *opts, char *err,
		     size_t errlen);

/*
 * What dmakit_sink_open() would refuse about the files already there,
 * asked without creating, locking or changing anything (bufsize and the
 * rest are not needed): a name under /dev that does not exist, or a new
 * file whose directory does not (-ENOENT), a directory (-EISDIR), another
 * writer holding the data, index or metadata (-EBUSY, naming it), an
 * earlier recording (its data, index or metadata) or a non-blank device
 * without @opts->force (-EEXIST).  For callers that wait before opening (dmakit_recv waits for
 * a sender); the open checks again.  Return 0 or -errno with @err.
 */
int dmakit_sink_preflight(const struct dmakit_sink_opts *opts, char *err,
			  size_t errlen);

/*
 * Queue one buffer for writing into the next slot.  @data must point to
 * bufsize readable bytes (the whole slot is written: O_DIRECT needs whole
 * blocks) of which desc->len are valid, and must stay untouched until the
 * sink returns @cookie from dmakit_sink_reap().  @pool_index is the
 * buffer's index in opts->pool (for registered writes), or -1.
 * The copying engines (buffered, mmap) copy the data before returning and
 * may block while their writeback catches up (back-pressure).  With many
 * writes in flight the uring engine queues the write and starts it in the
 * next dmakit_sink_reap() (one system call for both): reap regularly.
 * A descriptor with len 0 (the source published an empty buffer) is
 * recorded like any other: it takes a slot and an index entry.
 * Return 0; -EAGAIN if the queue is full (reap first); -EINVAL for a bad
 * descriptor (len > bufsize); the sink's error (-ENOSPC, -EIO, ...)
 * once it has failed: it accepts nothing more, and counts the refused
 * buffer as not recorded.
 */
int dmakit_sink_submit(struct dmakit_sink *sink, const struct dmakit_desc *desc,
		       const void *data, int pool_index, uint64_t cookie);

/*
 * Collect finished writes: up to @max cookies of buffers whose data is
 * written (or failed) and may be reused, in submission order.  @min_wait:
 * wait until at least this many are done (0: don't wait; capped at the
 * writes in flight).  Return the count, or -EINTR if a signal interrupted
 * the wait (call again).  A write error is not returned here: it shows in
 * dmakit_sink_error() and the next dmakit_sink_submit().
 */
int dmakit_sink_reap(struct dmakit_sink *sink, uint64_t *cookies, int max,
		     int min_wait);

/* Writes in flight (submitted, cookie not yet reaped). */
int dmakit_sink_inflight(struct dmakit_sink *sink);

/* The sink's first write error (-errno), or 0 while it is healthy. */
int dmakit_sink_error(struct dmakit_sink *sink);

/*
 * Set the source's stream id in the index header and metadata.  Sources
 * draw a new id when they start (the driver does, on every start), which
 * is after the sink was opened.  Return 0 or -errno (header write failed).
 */
int dmakit_sink_set_stream_id(struct dmakit_sink *sink, uint64_t stream_id);

/* Valid bytes recorded so far (entries in the index). */
uint64_t dmakit_sink_bytes_written(struct dmakit_sink *sink);

/**
 * struct dmakit_sink_summary - what the caller knows about the ending.
 * @dropped:   buffers the source reported dropped while recording
 * @result:    how it ended (a write error overrides COMPLETE/INTERRUPTED
 *             with DISK_FULL or IO_ERROR)
 * @error:     message for a failure, "" otherwise
 * @not_taken: buffers the source delivered that the caller never handed
 *             to the sink (a stop request's bounded drain left them in the
 *             ring): added to the stats' not_recorded
 */
struct dmakit_sink_summary {
	uint64_t dropped;
	enum dmakit_result result;
	char error[256];
	uint64_t not_taken;
};

/**
 * struct dmakit_sink_stats - counters of a sink (final after close).
 * @buffers:   entries in the index
 * @bytes:     valid bytes of those entries
 * @gaps:      entries after the first with lost > 0
 * @lost:      sum of lost over entries after the first (dropped inside
 *             the recording)
 * @lost_before: lost count of the first entry (dropped before the
 *             recording started; not a gap of this recording)
 * @dropped:   the source's drop count (from the summary, after close)
 * @not_recorded: buffers handed to the sink whose data was not written, and
 *             those a cut drain left in the ring (summary @not_taken)
 * @first_seq, @last_seq: sequence numbers of the first and last entry
 * @empty, @truncated, @dma_errors: entries published empty (len 0), short
 *             (0 < len < bufsize), flagged DMAKIT_DESC_F_DMA_ERR
 * @checkpoints: checkpoints made durable
 * @checkpoint_buffers: entries durable at the last checkpoint
 * @seconds:   from open to the last write (close)
 * @engine:    the engine actually used (after any fallback)
 * @direct:    the target is written with O_DIRECT
 * @registered: io_uring writes use registered (fixed) buffers
 * @result:    how it ended (after close)
 * @error:     first write error, -errno, or 0
 * @message:   what ended the recording if not a limit ("write x: No space
 *             left on device", "stopped by request"), "" otherwise
 * @close_error: 0 if close made data, index and final metadata durable;
 *             else the first failure (-errno), whatever the result
 * @close_message: what close could not do ("could not write the final
 *             x.json (it still says "recording"): ..."), "" if nothing
 */
struct dmakit_sink_stats {
	uint64_t buffers;
	uint64_t bytes;
	uint64_t gaps;
	uint64_t lost;
	uint64_t lost_before;
	uint64_t dropped;
	uint64_t not_recorded;
	uint64_t first_seq, last_seq;
	uint64_t empty, truncated, dma_errors;
	uint64_t checkpoints;
	uint64_t checkpoint_buffers;
	double seconds;
	enum dmakit_engine engine;
	bool direct;
	bool registered;
	enum dmakit_result result;
	int error;
	char message[256];
	int close_error;
	char close_message[320];
};
int dmakit_sink_stats(struct dmakit_sink *sink, struct dmakit_sink_stats *st);

/*
 * Finish: wait for writes in flight, make data, index and metadata
 * durable (fsync, directory fsync), trim preallocation, free.  The
 * recording is consistent and verifiable whatever the result.
 * @out, if not NULL, receives the final counters.  Return 0, or -errno if
 * the sidecars could not be made durable (the data index may then be
 * incomplete; the message is in the metadata if it could be written).
 */
int dmakit_sink_close(struct dmakit_sink *sink,
		      const struct dmakit_sink_summary *summary,
		      struct dmakit_sink_stats *out);

/**
 * struct dmakit_record_progress - passed to the progress callback.
 * @seconds:   since recording started
 * @bytes, @buffers: recorded (indexed) so far
 * @dropped:   buffers the source dropped since the start
 * @lost:      of those, the ones already marked as gaps in the index
 * @ring_fill: buffers produced, not yet released by the recorder
 * @nbufs:     buffers in the ring
 * @inflight:  writes in flight
 * @producer_cpu_ns: CPU time of a software producer (see dmakit_stats)
 * @final:     the last call, after the device stopped and every write
 *             ended (the counters are final except for index entries of
 *             writes still being written back)
 */
struct dmakit_record_progress {
	double seconds;
	uint64_t bytes;
	uint64_t buffers;
	uint64_t dropped;
	uint64_t lost;
	uint32_t ring_fill;
	uint32_t nbufs;
	uint32_t inflight;
	bool final;
	uint64_t producer_cpu_ns;
};

/**
 * struct dmakit_record_opts - dmakit_record(): a reliable consumer feeding
 * a sink.
 * @sink:       sink options (pool/nbufs/source/stream_id and, from
 *              @max_bytes, expected_bytes are filled in by dmakit_record)
 * @max_bytes:  stop once this many bytes of payload (the buffers' len,
 *              not their slots) are recorded; buffers are recorded whole,
 *              so the last may pass it by less than a buffer (0: no
 *              limit)
 * @max_seconds: stop after this long (0: no limit)
 * @stop:       set nonzero (e.g. from a signal handler) to stop cleanly
 * @progress:   called about every @progress_ms (0: 500) with counters,
 *              and once more at the end (progress->final)
 */
struct dmakit_record_opts {
	struct dmakit_sink_opts sink;
	uint64_t max_bytes;
	double max_seconds;
	volatile sig_atomic_t *stop;
	void (*progress)(void *ctx, const struct dmakit_record_progress *p);
	void *progress_ctx;
	unsigned int progress_ms;
};

/*
 * Record from @dev until a limit, a stop request, the end of the stream
 * or an error.  Starts the device if it is idle (and then stops it at the
 * end).  A buffer goes back to the producer only once its write is
 * complete.  Always leaves a consistent recording; @out describes it.
 * Return 0 if the recording is complete (limit reached) and durable;
 * if it could not be made durable (out->close_error), that error whatever
 * the result; else a negative errno matching out->result (-EINTR
 * interrupted, -ENOSPC disk full, -EIO i/o error, -ENODEV device error,
 * -ENODATA source ended), with @err explaining; or an error from
 * dmakit_sink_open() (nothing recorded, nothing already there touched).
 */
int dmakit_record(struct dmakit_dev *dev, const struct dmakit_record_opts *opts,
		  struct dmakit_sink_stats *out, char *err, size_t errlen);

/*
 * The same consumer writing each buffer's valid bytes, in order, to @fd (a
 * pipe, socket or stdout) with plain blocking write()s; @opts->sink is not
 * used.  No index, no metadata: the stream cannot show a gap, so @out
 * counts gaps, lost and dropped buffers for the caller to report (engine,
 * checkpoint and sidecar fields stay 0).  A buffer is released once
 * written; a stop request finishes the buffer being written (a second one
 * gives up on a blocked write).  Return as dmakit_record(); a failed
 * write (-EPIPE: the reader went away) ends it with result io-error.
 */
int dmakit_record_fd(struct dmakit_dev *dev, int fd,
		     const struct dmakit_record_opts *opts,
		     struct dmakit_sink_stats *out, char *err, size_t errlen);

/**
 * struct dmakit_verify_report - what dmakit_verify() found.
 * @buffers, @bytes: entries checked and their valid bytes
 * @dropped:   buffers the metadata says the source dropped
 * @gaps:      gap entries (lost > 0, after the first), accounted for
 * @lost:      sum of lost over those entries
 * @dropped_after_last: of @dropped, those no entry carries as lost: they
 *             came after the last recorded buffer (before the stop), so
 *             they are no hole in the recording
 * @not_recorded: buffers the metadata says were not written
 * @empty, @truncated, @dma_errors: entries published empty, short, or
 *             flagged as a DMA error (a DMA error fails verification
 *             unless dmakit_verify_opts.allow_dma_errors)
 * @crc_errors: data CRC mismatches or unreadable data (buffers)
 * @payload_errors: sim payload mismatches (buffers)
 * @index_errors: corrupt index entries / header / metadata problems
 * @unaccounted: buffers missing without an account: sequence jumps not
 *             explained by a lost count, or index totals that do not
 *             match the metadata
 * @first_bad_seq, @first_bad_entry: the first bad buffer (if any)
 * @payload_checked: the source was sim and every payload word was checked
 * @finished:  the metadata was finalised (the recorder ended cleanly, or
 *             dmakit_recover() finished it)
 * @version:   the index format version (1: older format, checksums not
 *             bound to their slot and no trailer: @bound_checked false)
 * @bound_checked: checksums bound to sequence and slot, and the trailer,
 *             were checked (format 2)
 * @checkpoint_buffers: entries durable at the last checkpoint (metadata)
 * @ok:        no corruption, no unaccounted loss, metadata finalised,
 *             and no DMA error unless allowed
 * @result:    the recording's result from the metadata
 * @message:   first problem, human readable ("" if ok)
 * @meta_bound: the metadata file is byte for byte the one the recorder
 *             (or recovery) finished: its CRC32C matches the one in the
 *             index trailer.  False for an older recorder's recording
 *             (no such CRC: the metadata's own claims are unchecked) and
 *             when the metadata was changed (then @ok is false too).
 * @data_beyond: bytes of the data file after the recording's last slot
 *             (a file target is trimmed to its slots when finished:
 *             more is data that is not part of the recording; not ok)
 */
struct dmakit_verify_report {
	uint64_t buffers;
	uint64_t bytes;
	uint64_t dropped;
	uint64_t gaps;
	uint64_t lost;
	uint64_t dropped_after_last;
	uint64_t not_recorded;
	uint64_t empty;
	uint64_t truncated;
	uint64_t dma_errors;
	uint64_t crc_errors;
	uint64_t payload_errors;
	uint64_t index_errors;
	uint64_t unaccounted;
	uint64_t first_bad_seq;
	uint64_t first_bad_entry;
	uint64_t checkpoint_buffers;
	uint32_t version;
	bool payload_checked;
	bool bound_checked;
	bool finished;
	bool ok;
	char result[32];
	char message[256];
	bool meta_bound;
	uint64_t data_beyond;
};

/**
 * struct dmakit_verify_opts - how to verify.
 * @sidecar:   prefix of the index and metadata (NULL: the data path)
 * @allow_dma_errors: buffers the source flagged as DMA errors are
 *             reported but do not fail verification
 */
struct dmakit_verify_opts {
	const char *sidecar;
	bool allow_dma_errors;
};

/*
 * Verify a recording: @path is the data file or device; @opts may be NULL
 * (defaults).  Reads everything once, sequentially.  Return 0 if it was
 * read (see report->ok), or a negative errno if it could not be read at
 * all (no index, unreadable data), with @err explaining.
 */
int dmakit_verify(const char *path, const struct dmakit_verify_opts *opts,
		  struct dmakit_verify_report *report, char *err,
		  size_t errlen);

/**
 * struct dmakit_recover_report - what dmakit_recover() did.
 * @was_finished: the recording was already finished: nothing changed
 * @previous_result: the metadata's result before ("recording" after a
 *             crash)
 * @buffers, @bytes: entries kept (the recording now holds these)
 * @first_seq, @last_seq: of the entries kept
 * @checkpoint_buffers: entries the last checkpoint made durable
 * @dropped_entries: index entries after the kept prefix that did not
 *             check out (torn, not matching their data, or unverifiable
 *             beyond the checkpoint) and were trimmed
 * @trimmed_bytes: data bytes trimmed from a file target
 * @message:   what ended the kept prefix ("" if the whole index was kept)
 * @damaged_kept: entries up to the last checkpoint whose index entry does
 *             not check out (entry CRC, slot); kept as they are, since the
 *             checkpoint made them durable: damage after the fact, which
 *             dmakit_verify() reports.  Their data is not read here.
 * @damaged_note: the first of them and why ("" if none)
 */
struct dmakit_recover_report {
	bool was_finished;
	char previous_result[32];
	uint64_t buffers, bytes;
	uint64_t first_seq, last_seq;
	uint64_t checkpoint_buffers;
	uint64_t dropped_entries;
	uint64_t trimmed_bytes;
	char message[256];
	uint64_t damaged_kept;
	char damaged_note[256];
};

/*
 * Finish a recording its recorder never closed (killed, crashed, power
 * lost): keep the longest prefix of index entries whose entry CRC, slot,
 * sequence and data check out, trim the rest (index, and the data file's
 * tail), write the trailer and the final metadata with result
 * "recovered" and what was lost, all durably.  A finished recording is
 * left untouched (report->was_finished), so running it twice is
 * harmless.  The trailer binds the metadata written (its CRC32C).
 * Return 0, or -errno with @err explaining (no index, a corrupt index
 * header, a version 1 index, an unwritable target; -EINVAL, nothing
 * changed: the index ends with the trailer its recorder wrote when it
 * finished but a final metadata says "recording" (it was edited);
 * -EBUSY: a recorder still holds the index or data file's flock, nothing
 * changed).
 */
int dmakit_recover(const char *path, const char *sidecar,
		   struct dmakit_recover_report *report, char *err,
		   size_t errlen);

/**
 * struct dmakit_export_opts - how dmakit_export_sigmf() writes.
 * @sidecar: prefix of the index and metadata (NULL: the data path)
 * @output:  the file to write (NULL: beside the data, "DATA.sigmf-meta",
 *           or "NAME.sigmf-meta" for a data file "NAME.sigmf-data")
 * @force:   replace @output if it exists (else -EEXIST, nothing written)
 */
struct dmakit_export_opts {
	const char *sidecar;
	const char *output;
	bool force;
};

/**
 * struct dmakit_export_report - what dmakit_export_sigmf() wrote.
 * @output:      the file
 * @captures:    capture segments (the first buffer, after every gap and
 *               after every short buffer)
 * @annotations: buffers flagged as DMA errors
 * @samples:     samples the dataset holds
 */
struct dmakit_export_report {
	char output[4096];
	uint64_t captures, annotations, samples;
};

/*
 * Describe the finished recording at @path (its metadata names a sample
 * format: dmakit_sink_opts.samples) in a SigMF 1.2 metadata file that
 * names the data file as its dataset (core:dataset), written durably
 * (temporary file, rename).  Return 0; -ENODATA if the recording has no
 * sample format (SigMF needs one, none is guessed); -EEXIST if the output
 * exists without @opts->force; -EINVAL for an unfinished or corrupt
 * recording, or metadata dmakit_verify() would refuse (its index and
 * metadata checks are made first, not the data's CRCs: another
 * recording's metadata, an edited one); another -errno; with @err
 * explaining.
 */
int dmakit_export_sigmf(const char *path,
			const struct dmakit_export_opts *opts,
			struct dmakit_export_report *rep, char *err,
			size_t errlen);

/**
 * enum dmakit_play_result - how dmakit_play() ended.
 * @DMAKIT_PLAY_COMPLETE:    every buffer of every pass was written
 * @DMAKIT_PLAY_INTERRUPTED: a stop request ended it early
 * @DMAKIT_PLAY_TARGET_ERROR: the target failed a write (EIO, ENOSPC,
 *                           EPIPE: its reader went away, ...) or kept
 *                           refusing it (EINTR/EAGAIN past the bound)
 * @DMAKIT_PLAY_CORRUPT:     a buffer's data did not match its CRC, or the
 *                           data file ended early, while playing (the
 *                           bad buffer was not written)
 * @DMAKIT_PLAY_REFUSED:     nothing was written: the recording or the
 *                           target was refused, or could not be opened
 */
enum dmakit_play_result {
	DMAKIT_PLAY_COMPLETE = 0,
	DMAKIT_PLAY_INTERRUPTED,
	DMAKIT_PLAY_TARGET_ERROR,
	DMAKIT_PLAY_CORRUPT,
	DMAKIT_PLAY_REFUSED,
};
/* "complete", "interrupted", "target-error", "corrupt", "refused". */
const char *dmakit_play_result_name(enum dmakit_play_result r);

/**
 * struct dmakit_play_progress - passed to the progress callback.
 * @seconds:   since the first write
 * @bytes:     written so far (whole and partly written buffers)
 * @buffers:   buffers written completely
 * @total_bytes: what a complete play writes (every pass)
 * @inflight:  writes in flight
 * @final:     the last call, every write ended
 */
struct dmakit_play_progress {
	double seconds;
	uint64_t bytes;
	uint64_t buffers;
	uint64_t total_bytes;
	uint32_t inflight;
	bool final;
};

/**
 * struct dmakit_play_opts - how dmakit_play() plays (NULL: defaults).
 * @sidecar:   prefix of the recording's index and metadata (NULL: the
 *             data path)
 * @rate:      pace the writes to at most this many bytes per second,
 *             averaged from the start (0: as fast as the target takes)
 * @loops:     play the recording this many times in a row (0: once)
 * @force:     a regular file target that holds data (or an earlier
 *             recording) is emptied and written; without it -EEXIST and
 *             the file is untouched
 * @skip_dma_errors: buffers the recorder flagged as DMA errors (their
 *             bytes are whatever the card left) are skipped and counted;
 *             without it a recording that has any is refused (-EBADMSG)
 *             before anything is written
 * @stop:      set nonzero (e.g. from a signal handler) to stop: no new
 *             write starts, writes in flight are cancelled, and what they
 *             wrote before is counted
 * @progress:  called about every @progress_ms (0: 500) and once at the
 *             end (progress->final); may be NULL
 */
struct dmakit_play_opts {
	const char *sidecar;
	uint64_t rate;
	uint32_t loops;
	bool force;
	bool skip_dma_errors;
	volatile sig_atomic_t *stop;
	void (*progress)(void *ctx, const struct dmakit_play_progress *p);
	void *progress_ctx;
	unsigned int progress_ms;
};

/**
 * struct dmakit_play_report - what dmakit_play() did.
 * @target:    the target's path (the device string without "chardev:")
 * @depth:     writes in flight used
 * @bufsize:   the recording's slot size
 * @buffers, @bytes: written completely, over every pass (a buffer whose
 *             write was cut short counts in @partial_bytes only)
 * @partial_bytes: bytes of buffers written in part when it ended
 * @passes:    passes played completely
 * @total_buffers, @total_bytes: what a complete play writes
 * @rec_buffers: entries in the recording
 * @gaps, @lost: gaps in the recording (buffers the source lost while
 *             recording): nothing stands in for them, the next buffer
 *             follows directly; counted once per recording
 * @empty:     entries with no bytes (nothing to write)
 * @truncated: short entries: their valid bytes are written, not the slot
 * @dma_errors: entries flagged as DMA errors (skipped with
 *             @skip_dma_errors, else the play was refused)
 * @unchecked: entries without a CRC (recorded without one): written
 *             unchecked
 * @short_writes: writes the target took in part (the rest was written
 *             next, from where it stopped)
 * @retries:   writes the target refused for now (EINTR, EAGAIN) and that
 *             were issued again
 * @seconds:   from the first write to the last completion
 * @result:    how it ended
 * @error:     the error that ended it (-errno), 0 if complete
 * @message:   what ended it, "" if complete
 * @rate:      the pace it kept, bytes/s (0: none, as fast as taken)
 * @rate_source: "option" (@opts->rate), "recording" (a card's TX ring by
 *             default: the recording's own rate, from its timestamps) or
 *             "none"
 * @card:      the target is a dmakit.ko card's TX ring; then @buffers and
 *             @bytes are what the card confirmed taking, and:
 * @underruns: times the card ran dry while the play ran (the card's count)
 * @cut:       buffers a stop cut before the card confirmed them
 * @card_errors: buffers the card reported an error for or took in part
 * @card_crc_checked, @card_crc_mismatches: buffers whose CRC32C as the
 *             card computed it was compared with the recording's bytes',
 *             and those that differed (an error: result target-error)
 */
struct dmakit_play_report {
	char target[4096];
	uint32_t depth;
	uint32_t bufsize;
	uint64_t buffers, bytes, partial_bytes;
	uint64_t passes;
	uint64_t total_buffers, total_bytes;
	uint64_t rec_buffers;
	uint64_t gaps, lost, empty, truncated, dma_errors, unchecked;
	uint64_t short_writes, retries;
	double seconds;
	enum dmakit_play_result result;
	int error;
	char message[256];
	uint64_t rate;
	char rate_source[16];
	bool card;
	uint64_t underruns, cut, card_errors;
	uint64_t card_crc_checked, card_crc_mismatches;
};

/*
 * Play the recording at @path into @target: each recorded buffer's valid
 * bytes, in recording order, written with io_uring from page-aligned
 * buffers (a driver that DMAs from the caller's pages, as XDMA's H2C
 * channels do, reads them with no copy).
 *
 * @target is "chardev:PATH[,depth=N]" (an existing character device,
 * FIFO or file; a missing one is an error, never created), a dmakit.ko
 * card such as "/dev/dmakit0" (its ring set up host to card: see below)
 * or a plain PATH (may be created as a regular file, never under /dev).  depth: 1..64
 * writes in flight (default 8).  A stream (character device, FIFO,
 * socket) has no offsets: its writes are linked so the kernel issues
 * them one after the other in order (a FIFO's pipe is grown to the
 * buffer size where the limit allows); a regular file or block device is
 * written at explicit offsets from 0.  A regular file or block device
 * that holds data is refused without @opts->force; the recording itself
 * is refused as a target.
 *
 * Before anything is written the whole index is checked (header, every
 * entry's CRC and slot, sequence continuity, the trailer of a finished
 * recording) and the data file's size: a corrupt or unfinished recording
 * is refused (-EBADMSG; "dmakit recover" finishes one), as is one with
 * DMA-error buffers unless @opts->skip_dma_errors.  Each buffer's data is
 * checked against its CRC after it is read and before it is written; a
 * mismatch ends the play (result corrupt) with the buffers before it
 * written and that one not.
 *
 * Write outcomes: a short write goes on from where it stopped; EINTR and
 * EAGAIN are issued again (up to 100 times in a row without progress);
 * any other error (EIO, ENOSPC, EPIPE, ...) ends the play with result
 * target-error.  A pipe without a reader raises SIGPIPE, which kills a
 * process by default: a program that wants the EPIPE ending ignores
 * SIGPIPE.  Opening a FIFO waits for its reader (a signal interrupts it:
 * -EINTR, nothing written).
 *
 * A dmakit.ko card (include/dmakit/tx.h): each buffer is read and checked
 * straight into a free buffer of the card's TX ring and published; the
 * pace is the recording's own rate unless @opts->rate says otherwise (the
 * bytes after the first buffer over the time from its timestamp to the
 * last one's, device clock where the recording has one; a recording of
 * one buffer has none).  The card's ring buffers must hold the
 * recording's (its sysfs ring_bufsize).  At the end, or when stopped, it
 * waits for the card to take what was published (up to 10 s plus the
 * time the card's rate needs), then stops the card's stream, cutting what
 * is left.  Underruns are reported; a card error or a CRC the card
 * computed that differs from the recording's ends it as target-error.
 *
 * @report is filled in whatever happens.  Return 0 if every buffer of
 * every pass was written; -EINTR if stopped; the target's -errno; or
 * -EBADMSG for a corrupt buffer; with @err explaining.  Errors before the
 * first write (a bad @target or option: -EINVAL; a refused target:
 * -EEXIST; a refused recording: -EBADMSG; an unreadable one) leave the
 * target untouched.
 */
int dmakit_play(const char *path, const char *target,
		const struct dmakit_play_opts *opts,
		struct dmakit_play_report *report, char *err, size_t errlen);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMAKIT_RECORDING_H */
