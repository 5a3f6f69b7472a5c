/* SPDX-License-Identifier: MIT */
/*
 * A recording's metadata (SIDECAR.json): one description written by the
 * sink (at open, at each checkpoint, at close) and by recovery, read back
 * by recovery and the verifier.  Every version on disk is complete: it is
 * written to a temporary file, made durable and renamed into place, then
 * the directory is made durable.
 */
#ifndef DMAKIT_RECORD_META_H
#define DMAKIT_RECORD_META_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "dmakit/recording.h"

#define REC_META_PATH	4096
#define REC_META_STR	256

struct rec_meta {
	char data[REC_META_PATH], index[REC_META_PATH];
	char target[32];		/* "file" / "block-device" */
	char device[REC_META_STR], device_kind[32];
	char policy[16], payload[16];
	char engine[16], engine_requested[16];
	uint64_t bufsize, nbufs, source_rate, dev_clock_hz, stream_id;
	bool direct, registered;
	uint64_t queue_depth, preallocated;
	uint64_t start_realtime_ns, start_mono_ns;
	uint64_t end_realtime_ns;	/* 0: not finished */
	double seconds;
	bool finished;
	/* what the index holds (at this version of the file) */
	uint64_t buffers, bytes, first_seq, last_seq, gaps, lost, lost_before;
	uint64_t empty, truncated, dma_errors;
	uint64_t dropped, not_recorded;
	uint64_t write_us_max, write_us_mean;
	/* the last checkpoint: entries whose data and index are durable */
	int64_t checkpoint_ms;		/* interval; < 0: only at the end */
	uint64_t checkpoints, checkpoint_buffers, checkpoint_last_seq;
	double checkpoint_seconds;
	char result[32];
	char error[REC_META_STR];
	/* set by dmakit_recover() */
	bool recovered;
	char previous_result[32];
	uint64_t recovered_dropped_entries, recovered_trimmed_bytes;
	char recovered_note[REC_META_STR];
	/* what the bytes are (format "": not described) */
	struct dmakit_samples samples;
};

/* 0, or -EINVAL with @err if @smp is not a valid sample description. */
int rec_samples_check(const struct dmakit_samples *smp, char *err,
		      size_t errlen);

/* @realtime_ns as the metadata's "start_time" / "end_time" say it. */
void rec_iso_time(char *buf, size_t len, uint64_t realtime_ns);

/* The JSON text (malloc'd, *@lenp bytes), or NULL (out of memory). */
char *rec_meta_text(const struct rec_meta *m, size_t *lenp);

/*
 * What the index trailer's meta_crc32c holds: the CRC32C of the metadata
 * file's @len bytes exactly as written (one rule for the recorder and
 * recovery, which write it, and verify, which checks it).
 */
uint32_t rec_meta_crc(const char *text, size_t len);

/*
 * The index header's meta_fields: a byte per top-level member of @text
 * (its key and raw value), in order, the rest 0.  Only to name what was
 * edited once rec_meta_crc() says something was.
 */
uint8_t rec_meta_field_fp(const char *key, size_t klen, const char *val,
			  size_t vlen);
void rec_meta_fields(const char *text, uint8_t *out, size_t n);

/* Parse @text (what rec_meta_text wrote); fields it lacks stay as they
 * were.  Return 0 or -EINVAL if it is not a recording's metadata. */
int rec_meta_parse(struct rec_meta *m, const char *text);

/*
 * Replace @path durably with @text through @tmp_fd (a file at @tmp_path,
 * written from offset 0, truncated to @len): fsync, rename, fsync the
 * directory.  Closes @tmp_fd.  Return 0 or -errno.
 */
int rec_meta_commit(int tmp_fd, const char *tmp_path, const char *path,
		    const char *text, size_t len);

/* Same, creating @path's temporary file "<path>.<suffix>" itself. */
int rec_meta_replace(const char *path, const char *suffix, const char *text,
		     size_t len);

/*
 * A checkpoint's version: the same without the directory's fsync, so the
 * new name becomes durable with the file system's next commit (the next
 * checkpoint's, or the close's).  Until then a crash leaves the previous
 * version, whose claims are as true; the contents are durable before the
 * rename either way.
 */
int rec_meta_publish(const char *path, const char *suffix, const char *text,
		     size_t len);

/* fsync the directory holding @path. */
int rec_fsync_dir_of(const char *path);

/* pwrite all of @buf at @off; -errno, or -ENOSPC for a zero write. */
int rec_write_all(int fd, const void *buf, size_t len, uint64_t off);

#endif /* DMAKIT_RECORD_META_H */
