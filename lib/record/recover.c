// SPDX-License-Identifier: MIT
/*
 * dmakit_recover(): finish a recording whose recorder never closed it.
 *
 * What survives a crash: the index header (written at open), entries up
 * to the last checkpoint (their data and index were made durable before
 * the metadata named them), and whatever later entries and data happened
 * to reach the disk, in any order.  So the entries up to the checkpoint
 * are kept as they are (damage there is verify's to report, not a reason
 * to throw data away), and after it the longest run of entries whose
 * entry CRC, slot, sequence and data (bound CRC, else the sim payload)
 * check out; the first one that does not ends the recording.  Then the
 * index and data file are trimmed to what was kept, the trailer written
 * and the metadata finalised with result "recovered", each step durable
 * before the next, so an interrupted recovery can simply be run again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "meta.h"
#include "sink.h"

#define META_MAX	(1U << 20)

struct recovery {
	const char *idx_path, *data_path;
	int idx_fd, data_fd;
	struct dmakit_idx_header hdr;
	struct dmakit_sink_stats st;	/* totals of the entries kept */
	uint32_t entries_crc;
	uint64_t last_host_ts;		/* of the last entry kept */
	uint64_t damaged_kept;		/* entries before the checkpoint that
					 * do not check out, kept as they are */
	char damaged_first[96];		/* the first of them, and why */
	unsigned char *buf;		/* one slot */
};

static char *read_meta_text(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text;
	ssize_t n;

	if (fd < 0)
		return NULL;
	text = malloc(META_MAX + 1);
	n = text ? read(fd, text, META_MAX) : -1;
	close(fd);
	if (n < 0) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

static bool payload_ok(const unsigned char *data, uint32_t len, uint64_t seq)
{
	const uint64_t *w = (const uint64_t *)data;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != dmakit_payload_word(seq, i))
			return false;
	return true;
}

/* Does entry @k's data check out?  @why says what did not. */
static bool data_ok(struct recovery *r, const struct dmakit_idx_entry *e,
		    uint64_t k, char *why, size_t whylen)
{
	ssize_t n = pread(r->data_fd, r->buf, e->len, (off_t)e->offset);

	if (n != (ssize_t)e->len) {
		snprintf(why, whylen, "entry %llu (seq %llu): its data is not on the target",
			 (unsigned long long)k, (unsigned long long)e->seq);
		return false;
	}
	if (e->flags & DMAKIT_DESC_F_CRC) {
		if (dmakit_idx_bound_crc(e->seq, e->offset,
					 dmakit_crc32c(0, r->buf, e->len),
					 e->len) == e->crc32c)
			return true;
		snprintf(why, whylen, "entry %llu (seq %llu): data CRC mismatch (not written before the crash)",
			 (unsigned long long)k, (unsigned long long)e->seq);
		return false;
	}
	if (r->hdr.payload == DMAKIT_PAYLOAD_SIM &&
	    !(e->flags & DMAKIT_DESC_F_DMA_ERR)) {
		if (payload_ok(r->buf, e->len, e->seq))
			return true;
		snprintf(why, whylen, "entry %llu (seq %llu): payload mismatch (not written before the crash)",
			 (unsigned long long)k, (unsigned long long)e->seq);
		return false;
	}
	snprintf(why, whylen, "entry %llu (seq %llu): no checksum to prove its data after the last checkpoint",
		 (unsigned long long)k, (unsigned long long)e->seq);
	return false;
}

/*
 * Walk the index: entries below @trusted are kept as they are; after
 * that, entries are kept while they check out.  @why: what ended it.
 */
static int scan(struct recovery *r, uint64_t nrecs, uint64_t trusted,
		char *why, size_t whylen)
{
	const uint64_t hs = sizeof(struct dmakit_idx_header);
	struct dmakit_idx_entry e;
	uint64_t k, prev_seq = 0;

	for (k = 0; k < nrecs; k++) {
		ssize_t n = pread(r->idx_fd, &e, sizeof(e),
				  (off_t)(hs + k * sizeof(e)));

		if (n < 0)
			return -errno;
		if (n != (ssize_t)sizeof(e))
			break;
		if (k < trusted) {
			/*
			 * Kept whatever it holds (the checkpoint made it
			 * durable); its entry is checked, cheaply, so the
			 * report can say that verify will fail.  Its data is
			 * not read: that is verify's full pass.
			 */
			const char *bad = NULL;

			if (dmakit_idx_entry_crc(&e) != e.entry_crc32c)
				bad = "entry CRC mismatch";
			else if (e.offset != k * r->hdr.bufsize ||
				 e.len > r->hdr.bufsize)
				bad = "does not fit its slot";
			if (bad && !r->damaged_kept++)
				snprintf(r->damaged_first,
					 sizeof(r->damaged_first),
					 "entry %llu: %s",
					 (unsigned long long)k, bad);
		} else {
			if (dmakit_idx_entry_crc(&e) != e.entry_crc32c) {
				snprintf(why, whylen, "entry %llu is torn (entry CRC mismatch)",
					 (unsigned long long)k);
				break;
			}
			if (e.offset != k * r->hdr.bufsize ||
			    e.len > r->hdr.bufsize) {
				snprintf(why, whylen, "entry %llu does not fit slot %llu",
					 (unsigned long long)k,
					 (unsigned long long)k);
				break;
			}
			if (k && e.seq != prev_seq + 1 + e.lost) {
				snprintf(why, whylen, "entry %llu: sequence %llu does not follow %llu",
					 (unsigned long long)k,
					 (unsigned long long)e.seq,
					 (unsigned long long)prev_seq);
				break;
			}
			if (!data_ok(r, &e, k, why, whylen))
				break;
		}
		prev_seq = e.seq;
		r->last_host_ts = e.host_ts;
		dmakit_idx_account(&r->st, &r->entries_crc, r->hdr.bufsize,
				   &e);
	}
	return 0;
}

/*
 * Trim the index to the entries kept and end it with the trailer, which
 * binds the final metadata @text (the header gets its members'
 * fingerprints, and an older recorder's header the flag that says so).
 */
static int finish_index(struct recovery *r, const char *text, size_t len)
{
	const uint64_t end = sizeof(struct dmakit_idx_header) +
			     r->st.buffers * sizeof(struct dmakit_idx_entry);
	struct dmakit_idx_trailer t;
	int ret;

	r->hdr.flags |= DMAKIT_IDX_HDR_F_META_CRC;
	r->hdr.header_crc32c = dmakit_idx_header_crc(&r->hdr);
	rec_meta_fields(text, r->hdr.meta_fields, sizeof(r->hdr.meta_fields));
	ret = rec_write_all(r->idx_fd, &r->hdr, sizeof(r->hdr), 0);
	if (ret)
		return ret;
	dmakit_idx_trailer_fill(&t, &r->st, r->hdr.stream_id, r->entries_crc,
				DMAKIT_RESULT_RECOVERED,
				rec_meta_crc(text, len));
	if (ftruncate(r->idx_fd, (off_t)end))
		return -errno;
	ret = rec_write_all(r->idx_fd, &t, sizeof(t), end);
	if (!ret && fsync(r->idx_fd))
		ret = -errno;
	return ret;
}

/* Metadata from the header (authoritative) over what the JSON said. */
static void header_into_meta(const struct recovery *r, struct rec_meta *m)
{
	const struct dmakit_idx_header *h = &r->hdr;

	snprintf(m->data, sizeof(m->data), "%s", r->data_path);
	snprintf(m->index, sizeof(m->index), "%s", r->idx_path);
	if (strncmp(m->device, h->device, sizeof(h->device) - 1))
		snprintf(m->device, sizeof(m->device), "%.*s",
			 (int)sizeof(h->device) - 1, h->device);
	m->bufsize = h->bufsize;
	m->nbufs = h->nbufs;
	m->stream_id = h->stream_id;
	m->dev_clock_hz = h->dev_clock_hz;
	m->start_realtime_ns = h->start_realtime_ns;
	m->start_mono_ns = h->start_mono_ns;
	snprintf(m->engine, sizeof(m->engine), "%s",
		 dmakit_engine_name((enum dmakit_engine)h->engine));
	snprintf(m->payload, sizeof(m->payload), "%s",
		 h->payload == DMAKIT_PAYLOAD_SIM ? "sim" : "none");
	if (!m->target[0])
		snprintf(m->target, sizeof(m->target), "file");
}

/*
 * The recorder's run time as far as the files tell, so that bytes_per_s
 * counts the buffers kept after the last checkpoint in the time they
 * took (the metadata's own value is that checkpoint's): from its start
 * to the last kept buffer's completion, both CLOCK_MONOTONIC as the
 * recorder's own count.  A recv recording's host_ts is the sender's
 * clock, so the value is taken only if it lies below the index's last
 * write (its mtime, a realtime upper bound, +2 s for a coarse clock);
 * else, and never below it, the checkpoint's.
 */
static double recorder_seconds(const struct recovery *r,
			       const struct rec_meta *m,
			       const struct stat *ist)
{
	const struct dmakit_idx_header *h = &r->hdr;
	double s, upper = -1;

	if (!r->st.buffers || r->last_host_ts <= h->start_mono_ns)
		return m->seconds;
	s = (double)(r->last_host_ts - h->start_mono_ns) / 1e9;
	if (ist->st_mtim.tv_sec > 0 && h->start_realtime_ns) {
		uint64_t mtime_ns = (uint64_t)ist->st_mtim.tv_sec *
				    1000000000ULL +
				    (uint64_t)ist->st_mtim.tv_nsec;

		if (mtime_ns > h->start_realtime_ns)
			upper = (double)(mtime_ns - h->start_realtime_ns) / 1e9;
	}
	if (upper < 0 || s > upper + 2)
		return m->seconds;
	return s > m->seconds ? s : m->seconds;
}

/* The final metadata's text (malloc'd), or NULL: out of memory. */
static char *final_meta_text(struct recovery *r, struct rec_meta *m,
			     uint64_t dropped_entries, uint64_t trimmed,
			     const char *why, size_t *lenp)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(m->previous_result, sizeof(m->previous_result), "%s",
		 m->result);
	snprintf(m->result, sizeof(m->result), "recovered");
	header_into_meta(r, m);
	m->finished = true;
	m->end_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ULL +
			     (uint64_t)ts.tv_nsec;
	m->buffers = r->st.buffers;
	m->bytes = r->st.bytes;
	m->first_seq = r->st.first_seq;
	m->last_seq = r->st.last_seq;
	m->gaps = r->st.gaps;
	m->lost = r->st.lost;
	m->lost_before = r->st.lost_before;
	m->empty = r->st.empty;
	m->truncated = r->st.truncated;
	m->dma_errors = r->st.dma_errors;
	m->recovered = true;
	m->recovered_dropped_entries = dropped_entries;
	m->recovered_trimmed_bytes = trimmed;
	snprintf(m->recovered_note, sizeof(m->recovered_note), "%s", why);
	snprintf(m->error, sizeof(m->error),
		 "recovered after the recorder stopped without finishing: %llu buffers kept, %llu index entries after them dropped; buffers the source produced after those are not in this recording",
		 (unsigned long long)r->st.buffers,
		 (unsigned long long)dropped_entries);
	return rec_meta_text(m, lenp);
}

/* The recorder's temporary metadata files, left by the crash. */
static void remove_leftovers(const char *meta_path)
{
	static const char *const suffixes[] = { ".tmp", ".ckpt" };
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *p;

		if (asprintf(&p, "%s%s", meta_path, suffixes[i]) < 0)
			continue;
		unlink(p);	/* usually absent */
		free(p);
	}
}

/*
 * A recorder still writing the recording holds the flock of its data and
 * index: recovering under it would trim and finish files it goes on
 * writing.  Without flock on this file system there is nothing to check.
 */
static int lock_recording_file(int fd, const char *path, char *err,
			       size_t errlen)
{
	char why[512] = "";
	int ret = dmakit_sink_lock(fd, path, why, sizeof(why));

	if (ret == -EOPNOTSUPP)
		return 0;
	if (ret == -EBUSY)
		return dmakit_errf(err, errlen, ret,
				   "%s; nothing changed: recover a recording once its recorder has ended",
				   why);
	if (ret)
		return dmakit_errf(err, errlen, ret, "%s", why);
	return 0;
}

int dmakit_recover(const char *path, const char *sidecar,
		   struct dmakit_recover_report *rep, char *err, size_t errlen)
{
	const char *prefix = sidecar ? sidecar : path;
	struct recovery r;
	struct rec_meta *m = NULL;
	char *idx_path = NULL, *meta_path = NULL, *text = NULL;
	char *meta_text = NULL;
	size_t meta_len = 0;
	char why[256] = "";
	struct stat ist, dst;
	uint64_t nrecs, trusted, data_end;
	struct dmakit_idx_trailer t;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !*path || !rep)
		return dmakit_errf(err, errlen, -EINVAL, "no recording given");
	memset(rep, 0, sizeof(*rep));
	memset(&r, 0, sizeof(r));
	r.idx_fd = r.data_fd = -1;
	r.data_path = path;
	idx_path = dmakit_sidecar_name(prefix, ".idx");
	meta_path = dmakit_sidecar_name(prefix, ".json");
	m = calloc(1, sizeof(*m));
	if (!idx_path || !meta_path || !m) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	r.idx_path = idx_path;
	r.idx_fd = open(idx_path, O_RDWR | O_CLOEXEC);
	if (r.idx_fd < 0) {
		ret = dmakit_errf(err, errlen, -errno, "open %s: %s", idx_path,
				  strerror(errno));
		goto out;
	}
	ret = lock_recording_file(r.idx_fd, idx_path, err, errlen);
	if (ret)
		goto out;
	if (pread(r.idx_fd, &r.hdr, sizeof(r.hdr), 0) != sizeof(r.hdr) ||
	    memcmp(r.hdr.magic, DMAKIT_IDX_MAGIC, sizeof(r.hdr.magic)) ||
	    dmakit_idx_header_crc(&r.hdr) != r.hdr.header_crc32c ||
	    r.hdr.bufsize < DMAKIT_RING_MIN_BUFSIZE ||
	    r.hdr.bufsize > DMAKIT_RING_MAX_BUFSIZE) {
		ret = dmakit_errf(err, errlen, -EINVAL,
				  "%s has no valid dmakit index header: nothing to recover from",
				  idx_path);
		goto out;
	}
	text = read_meta_text(meta_path);
	if (text && !rec_meta_parse(m, text) && strcmp(m->result, "recording") &&
	    r.hdr.version < DMAKIT_IDX_VERSION) {
		/* an older format's finished recording: nothing to do */
		rep->was_finished = true;
		snprintf(rep->previous_result, sizeof(rep->previous_result),
			 "%s", m->result);
		rep->buffers = m->buffers;
		rep->bytes = m->bytes;
		rep->first_seq = m->first_seq;
		rep->last_seq = m->last_seq;
		ret = 0;
		goto out;
	}
	if (r.hdr.version != DMAKIT_IDX_VERSION) {
		ret = dmakit_errf(err, errlen, -EPROTONOSUPPORT,
				  "%s is index format %u: only format %d recordings can be recovered",
				  idx_path, r.hdr.version, DMAKIT_IDX_VERSION);
		goto out;
	}
	if (fstat(r.idx_fd, &ist)) {
		ret = dmakit_errf(err, errlen, -errno, "stat %s: %s", idx_path,
				  strerror(errno));
		goto out;
	}
	nrecs = (uint64_t)ist.st_size > sizeof(r.hdr) ?
		((uint64_t)ist.st_size - sizeof(r.hdr)) / sizeof(t) : 0;
	if (nrecs && pread(r.idx_fd, &t, sizeof(t), (off_t)(sizeof(r.hdr) +
			   (nrecs - 1) * sizeof(t))) == sizeof(t) &&
	    dmakit_idx_is_trailer(&t))
		nrecs--;	/* rewritten below */
	else
		memset(&t, 0, sizeof(t));

	if (text && !rec_meta_parse(m, text) && strcmp(m->result, "recording")) {
		if (t.magic[0]) {
			rep->was_finished = true;
			snprintf(rep->previous_result,
				 sizeof(rep->previous_result), "%s", m->result);
			rep->buffers = t.buffers;
			rep->bytes = t.bytes;
			rep->first_seq = t.first_seq;
			rep->last_seq = t.last_seq;
			rep->checkpoint_buffers = m->checkpoint_buffers;
			ret = 0;
			goto out;
		}
		ret = dmakit_errf(err, errlen, -EINVAL,
				  "%s says the recording finished (%s) but %s has no trailer: it was damaged, not interrupted; nothing changed ('dmakit verify' tells more)",
				  meta_path, m->result, idx_path);
		goto out;
	}
	/*
	 * The recorder writes its trailer as it finishes, just before the
	 * final metadata: a kill in between leaves a checkpoint's version
	 * (no end time), finished here from the index as after any crash.
	 * A final version (it has the end time) that says "recording" was
	 * edited: the trailer wins.  A trailer of our own ("recovered") is
	 * an interrupted recovery: run it again.
	 */
	if (text && t.magic[0] && t.result != DMAKIT_RESULT_RECOVERED &&
	    (m->end_realtime_ns || m->finished)) {
		ret = dmakit_errf(err, errlen, -EINVAL,
				  "%s ends with the trailer its recorder wrote when it finished (result %s, %llu buffers), but %s, a finished recording's, says it is not: it was edited; nothing changed ('dmakit verify' tells more)",
				  idx_path,
				  dmakit_result_name((enum dmakit_result)t.result),
				  (unsigned long long)t.buffers, meta_path);
		goto out;
	}
	if (!text || !m->result[0])
		snprintf(m->result, sizeof(m->result), "recording");
	snprintf(rep->previous_result, sizeof(rep->previous_result), "%s",
		 m->result);

	r.data_fd = open(path, O_RDWR | O_CLOEXEC);
	if (r.data_fd < 0 || fstat(r.data_fd, &dst)) {
		ret = dmakit_errf(err, errlen, -errno, "open %s: %s", path,
				  strerror(errno));
		goto out;
	}
	ret = lock_recording_file(r.data_fd, path, err, errlen);
	if (ret)
		goto out;
	r.buf = malloc(r.hdr.bufsize);
	if (!r.buf) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	trusted = m->checkpoint_buffers < nrecs ? m->checkpoint_buffers : nrecs;
	ret = scan(&r, nrecs, trusted, why, sizeof(why));
	if (ret) {
		dmakit_errf(err, errlen, ret, "read %s: %s", idx_path,
			    dmakit_strerror(ret));
		goto out;
	}
	if (m->checkpoint_buffers > nrecs)
		snprintf(why, sizeof(why), "the index holds %llu entries, fewer than the %llu its last checkpoint made durable",
			 (unsigned long long)nrecs,
			 (unsigned long long)m->checkpoint_buffers);

	m->seconds = recorder_seconds(&r, m, &ist);
	data_end = r.st.buffers * r.hdr.bufsize;
	if (S_ISREG(dst.st_mode) && (uint64_t)dst.st_size > data_end)
		rep->trimmed_bytes = (uint64_t)dst.st_size - data_end;
	rep->dropped_entries = nrecs - r.st.buffers;
	/* made first: the trailer binds its bytes */
	meta_text = final_meta_text(&r, m, rep->dropped_entries,
				    rep->trimmed_bytes, why, &meta_len);
	if (!meta_text) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	/* index first: a data file longer than its index is harmless */
	ret = finish_index(&r, meta_text, meta_len);
	if (ret) {
		dmakit_errf(err, errlen, ret, "write %s: %s", idx_path,
			    dmakit_strerror(ret));
		goto out;
	}
	if (rep->trimmed_bytes && ftruncate(r.data_fd, (off_t)data_end)) {
		ret = dmakit_errf(err, errlen, -errno, "truncate %s: %s", path,
				  strerror(errno));
		goto out;
	}
	if (fsync(r.data_fd)) {
		ret = dmakit_errf(err, errlen, -errno, "fsync %s: %s", path,
				  strerror(errno));
		goto out;
	}
	ret = rec_meta_replace(meta_path, "tmp", meta_text, meta_len);
	if (ret) {
		dmakit_errf(err, errlen, ret, "write %s: %s", meta_path,
			    dmakit_strerror(ret));
		goto out;
	}
	remove_leftovers(meta_path);
	rep->buffers = r.st.buffers;
	rep->bytes = r.st.bytes;
	rep->first_seq = r.st.first_seq;
	rep->last_seq = r.st.last_seq;
	rep->checkpoint_buffers = m->checkpoint_buffers;
	rep->damaged_kept = r.damaged_kept;
	snprintf(rep->message, sizeof(rep->message), "%s", why);
	if (r.damaged_kept)
		snprintf(rep->damaged_note, sizeof(rep->damaged_note),
			 "%llu %s before the last checkpoint %s not check out (the first: %s); kept as they are: 'dmakit verify' reports them",
			 (unsigned long long)r.damaged_kept,
			 r.damaged_kept == 1 ? "entry" : "entries",
			 r.damaged_kept == 1 ? "does" : "do", r.damaged_first);
out:
	if (r.idx_fd >= 0)
		close(r.idx_fd);
	if (r.data_fd >= 0)
		close(r.data_fd);
	free(r.buf);
	free(text);
	free(meta_text);
	free(m);
	free(idx_path);
	free(meta_path);
	return ret;
}
