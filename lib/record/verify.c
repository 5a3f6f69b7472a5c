// SPDX-License-Identifier: MIT
/*
 * dmakit_verify(): prove a recording is what the index and metadata say.
 *
 * Reader threads stream the index and the data in large reads (O_DIRECT
 * where the target allows it, 16 MiB at a time, two in flight: chunk c is
 * entries [c * per_chunk, (c + 1) * per_chunk), so readers need no
 * coordination) while the calling thread checks the chunks in order:
 * entry CRCs, data CRCs (format 2: bound to sequence and slot), the sim
 * payload, sequence continuity (seq[k] == seq[k-1] + 1 + lost[k]), the
 * kinds of buffers (empty, truncated, DMA error), then the trailer (format
 * 2) and the metadata against the index: identity (stream id, start time,
 * device, engine, geometry) and every total.  Disk and CPU work overlap,
 * so verifying runs at about the slower of the two.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "json.h"
#include "meta.h"
#include "sink.h"

#define CHUNK_BYTES	(16U << 20)
#define NREADERS	2		/* reads in flight: disks like several */
#define NCHUNKS		(2 * NREADERS)	/* each reader double-buffers */
#define META_MAX	(1U << 20)

struct chunk {
	struct dmakit_idx_entry *ents;
	int32_t *got;			/* data bytes read per entry, -errno */
	bool *ent_ok;
	unsigned char *data;		/* entry i's slot at i * bufsize */
	uint64_t no;			/* chunk number */
	size_t n;			/* entries; 0 with last: the end */
	bool full;			/* filled by a reader */
	bool last;
};

struct verifier {
	int idx_fd, data_fd;
	const char *idx_path, *data_path;
	uint32_t bufsize;
	uint32_t per_chunk;		/* entries per chunk */
	struct chunk chunks[NCHUNKS];
	pthread_mutex_t lock;
	pthread_cond_t cv;
	bool quit;			/* under lock: the checker is done */
	int read_error;			/* under lock: index unreadable */
	bool partial_entry;		/* the index ends mid-entry */
	uint64_t first_lost;		/* the first entry's lost: may predate it */
	uint64_t nentries;		/* entries before the trailer/end */
	bool have_trailer;
	bool trailer_corrupt;		/* the last record is a damaged trailer */
	struct dmakit_idx_trailer trailer;
	bool allow_dma_errors;
	bool index_only;		/* no data read: rec_verify_index() */

	/* checker state */
	struct dmakit_verify_report *rep;
	struct dmakit_idx_header hdr;
	uint64_t entry_no;
	uint64_t prev_seq;
	bool have_prev;
	uint64_t first_seq, last_seq;
	uint32_t entries_crc;
	bool meta_changed;		/* its CRC is not the trailer's */
};

static void problem(struct verifier *v, uint64_t entry, uint64_t seq,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Remember the first problem (the one a user looks at first). */
static void problem(struct verifier *v, uint64_t entry, uint64_t seq,
		    const char *fmt, ...)
{
	struct dmakit_verify_report *rep = v->rep;
	va_list ap;

	if (rep->message[0])
		return;
	rep->first_bad_entry = entry;
	rep->first_bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
	va_end(ap);
}

/* --- reader thread --- */

/* Read the data of a run of entries [i, j) in consecutive slots. */
static void read_run(struct verifier *v, struct chunk *c, size_t i, size_t j)
{
	size_t len = (j - i) * v->bufsize, k;
	ssize_t n = dmakit_pread_full(v->data_fd, c->data + i * v->bufsize,
				      len, c->ents[i].offset, NULL);

	for (k = i; k < j; k++) {
		ssize_t at = (ssize_t)((k - i) * v->bufsize);

		if (n < 0)
			c->got[k] = (int32_t)n;
		else if (n <= at)
			c->got[k] = 0;
		else
			c->got[k] = (int32_t)(n - at < (ssize_t)v->bufsize ?
					      n - at : (ssize_t)v->bufsize);
	}
}

static bool slot_ok(struct verifier *v, const struct dmakit_idx_entry *e)
{
	return e->offset % v->bufsize == 0 && e->len <= v->bufsize;
}

/* Read chunk @no: its index entries, then their data. */
static void fill_chunk(struct verifier *v, struct chunk *c, uint64_t no,
		       int *read_error)
{
	uint64_t first = no * v->per_chunk;
	size_t want = first >= v->nentries ? 0 :
		      v->nentries - first < v->per_chunk ?
		      (size_t)(v->nentries - first) : v->per_chunk;
	ssize_t n = dmakit_pread_full(v->idx_fd, c->ents,
				      want * sizeof(struct dmakit_idx_entry),
				      sizeof(struct dmakit_idx_header) +
				      first * sizeof(struct dmakit_idx_entry),
				      NULL);
	size_t i, run;

	c->no = no;
	if (n < 0) {
		*read_error = (int)n;
		c->n = 0;
		c->last = true;
		return;
	}
	c->n = (size_t)n / sizeof(struct dmakit_idx_entry);
	c->last = first + want >= v->nentries || c->n < want;
	for (i = 0; i < c->n; i++) {
		c->ent_ok[i] = dmakit_idx_entry_crc(&c->ents[i]) ==
			       c->ents[i].entry_crc32c;
		c->got[i] = 0;
	}
	/* one read per run of consecutive slots */
	for (i = 0; i < c->n && !v->index_only; i = run) {
		run = i + 1;
		if (!c->ent_ok[i] || !slot_ok(v, &c->ents[i]))
			continue;
		while (run < c->n && c->ent_ok[run] &&
		       slot_ok(v, &c->ents[run]) &&
		       c->ents[run].offset ==
		       c->ents[run - 1].offset + v->bufsize)
			run++;
		read_run(v, c, i, run);
	}
}

struct reader_arg {
	struct verifier *v;
	unsigned int first;
};

/* Reader @first: chunks first, first + NREADERS, ... until the end. */
static void *reader(void *arg)
{
	struct reader_arg *ra = arg;
	struct verifier *v = ra->v;
	uint64_t no;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (no = ra->first;; no += NREADERS) {
		struct chunk *c = &v->chunks[no % NCHUNKS];
		int err = 0;
		bool last;

		pthread_mutex_lock(&v->lock);
		while (c->full && !v->quit)
			pthread_cond_wait(&v->cv, &v->lock);
		if (v->quit) {
			pthread_mutex_unlock(&v->lock);
			break;
		}
		pthread_mutex_unlock(&v->lock);
		fill_chunk(v, c, no, &err);
		last = c->last;
		pthread_mutex_lock(&v->lock);
		if (err && !v->read_error)
			v->read_error = err;
		c->full = true;
		pthread_cond_broadcast(&v->cv);
		pthread_mutex_unlock(&v->lock);
		if (last)
			break;
	}
	return NULL;
}

/* --- checks --- */

/* Index of the first word that differs from the sim payload, or -1. */
static long payload_mismatch(const unsigned char *data, uint32_t len,
			     uint64_t seq)
{
	const uint64_t *w = (const uint64_t *)data;
	uint64_t base = seq * DMAKIT_PAYLOAD_K1, k = DMAKIT_PAYLOAD_K2;
	size_t n = len / 8, i;
	uint64_t diff = 0;

	/* branch-free over the buffer, then find the word if any differ */
	for (i = 0; i < n; i++) {
		diff |= w[i] ^ (base ^ k);
		k += DMAKIT_PAYLOAD_K2;
	}
	if (!diff)
		return -1;
	for (i = 0; i < n; i++)
		if (w[i] != dmakit_payload_word(seq, i))
			return (long)i;
	return -1;
}

static void check_sequence(struct verifier *v,
			   const struct dmakit_idx_entry *e)
{
	struct dmakit_verify_report *rep = v->rep;

	if (!v->have_prev) {
		v->have_prev = true;
		v->prev_seq = e->seq;
		return;
	}
	if (e->seq == v->prev_seq + 1 + e->lost) {
		if (e->lost) {
			rep->gaps++;
			rep->lost += e->lost;
		}
	} else if (e->seq > v->prev_seq + 1 + e->lost) {
		uint64_t missing = e->seq - v->prev_seq - 1 - e->lost;

		rep->unaccounted += missing;
		problem(v, v->entry_no, e->seq,
			"entry %llu: sequence jumps from %llu to %llu with %llu marked lost: %llu buffers unaccounted for",
			(unsigned long long)v->entry_no,
			(unsigned long long)v->prev_seq,
			(unsigned long long)e->seq,
			(unsigned long long)e->lost,
			(unsigned long long)missing);
	} else {
		rep->index_errors++;
		problem(v, v->entry_no, e->seq,
			"entry %llu: sequence %llu after %llu (lost %llu) goes backwards",
			(unsigned long long)v->entry_no,
			(unsigned long long)e->seq,
			(unsigned long long)v->prev_seq,
			(unsigned long long)e->lost);
	}
	v->prev_seq = e->seq;
}

static void check_entry(struct verifier *v, const struct chunk *c, size_t i)
{
	struct dmakit_verify_report *rep = v->rep;
	const struct dmakit_idx_entry *e = &c->ents[i];
	const unsigned char *data = c->data + i * v->bufsize;
	uint64_t k = v->entry_no;
	long bad;

	if (!c->ent_ok[i]) {
		rep->index_errors++;
		problem(v, k, e->seq, "index entry %llu is corrupt (entry CRC mismatch)",
			(unsigned long long)k);
		v->have_prev = false;	/* cannot tell what is missing */
		return;
	}
	if (e->offset != k * v->bufsize || !slot_ok(v, e)) {
		rep->index_errors++;
		problem(v, k, e->seq,
			"index entry %llu (seq %llu): offset %llu / length %u do not fit slot %llu",
			(unsigned long long)k, (unsigned long long)e->seq,
			(unsigned long long)e->offset, e->len,
			(unsigned long long)k);
		v->have_prev = false;
		return;
	}
	check_sequence(v, e);
	if (rep->buffers == 0) {
		v->first_seq = e->seq;
		v->first_lost = e->lost;
	}
	v->last_seq = e->seq;
	v->entries_crc = dmakit_crc32c(v->entries_crc, e, sizeof(*e));
	rep->bytes += e->len;
	if (e->len == 0)
		rep->empty++;
	else if (e->len < v->bufsize)
		rep->truncated++;
	if (e->flags & DMAKIT_DESC_F_DMA_ERR) {
		rep->dma_errors++;
		if (!v->allow_dma_errors)
			problem(v, k, e->seq, "buffer seq %llu (entry %llu) is flagged as a DMA error by the source",
				(unsigned long long)e->seq,
				(unsigned long long)k);
	}
	if (v->index_only)
		return;
	if (c->got[i] < (int32_t)e->len) {
		rep->crc_errors++;
		if (c->got[i] < 0)
			problem(v, k, e->seq, "buffer seq %llu (entry %llu, offset %llu): read %s: %s",
				(unsigned long long)e->seq,
				(unsigned long long)k,
				(unsigned long long)e->offset, v->data_path,
				dmakit_strerror(c->got[i]));
		else
			problem(v, k, e->seq, "buffer seq %llu (entry %llu, offset %llu): data missing (%s ends early)",
				(unsigned long long)e->seq,
				(unsigned long long)k,
				(unsigned long long)e->offset, v->data_path);
		return;
	}
	if (!dmakit_idx_data_ok(v->hdr.version, e, data)) {
		rep->crc_errors++;
		problem(v, k, e->seq, "buffer seq %llu (entry %llu, offset %llu): data CRC mismatch%s",
			(unsigned long long)e->seq, (unsigned long long)k,
			(unsigned long long)e->offset, v->hdr.version >= 2 ?
			" (the checksum covers sequence, slot and data)" : "");
	}
	/* a DMA error's data is whatever the card left: no payload to expect */
	if (v->hdr.payload == DMAKIT_PAYLOAD_SIM &&
	    !(e->flags & DMAKIT_DESC_F_DMA_ERR) &&
	    (bad = payload_mismatch(data, e->len, e->seq)) >= 0) {
		rep->payload_errors++;
		problem(v, k, e->seq, "buffer seq %llu (entry %llu): payload differs at byte %llu (file offset %llu)",
			(unsigned long long)e->seq, (unsigned long long)k,
			(unsigned long long)bad * 8,
			(unsigned long long)(e->offset + (uint64_t)bad * 8));
	}
}

static void check_chunks(struct verifier *v)
{
	uint64_t no;

	for (no = 0;; no++) {
		struct chunk *c = &v->chunks[no % NCHUNKS];
		size_t i;
		bool last;

		pthread_mutex_lock(&v->lock);
		while (!c->full || c->no != no)
			pthread_cond_wait(&v->cv, &v->lock);
		pthread_mutex_unlock(&v->lock);
		for (i = 0; i < c->n; i++) {
			check_entry(v, c, i);
			v->rep->buffers++;
			v->entry_no++;
		}
		last = c->last;
		pthread_mutex_lock(&v->lock);
		c->full = false;
		if (last)
			v->quit = true;	/* readers ahead of the end stop */
		pthread_cond_broadcast(&v->cv);
		pthread_mutex_unlock(&v->lock);
		if (last)
			break;
	}
}

/* --- metadata --- */

static char *read_text(const char *path, size_t *lenp, int *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	ssize_t n;

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	buf = malloc(META_MAX + 1);
	if (!buf) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	n = dmakit_pread_full(fd, buf, META_MAX, 0, NULL);
	close(fd);
	if (n < 0) {
		*err = (int)n;
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*lenp = (size_t)n;
	return buf;
}

/* Compare a metadata total with what the index holds. */
static void check_total(struct verifier *v, const char *meta,
			const char *key, uint64_t have, bool loss)
{
	struct dmakit_verify_report *rep = v->rep;
	uint64_t want;

	if (dmakit_json_get_u64(meta, key, &want)) {
		rep->index_errors++;
		problem(v, 0, 0, "metadata has no valid \"%s\"", key);
		return;
	}
	if (want == have)
		return;
	if (loss && want > have)
		rep->unaccounted += want - have;
	else
		rep->index_errors++;
	problem(v, 0, 0, "metadata says %s=%llu, the index has %llu", key,
		(unsigned long long)want, (unsigned long long)have);
}

/* The metadata's @key equals what the index says (identity fields). */
static void check_same_u64(struct verifier *v, const char *meta,
			   const char *key, uint64_t have)
{
	uint64_t want;

	if (!dmakit_json_get_u64(meta, key, &want) && want == have)
		return;
	v->rep->index_errors++;
	problem(v, 0, 0, "metadata and index disagree on %s (%llu in the index): the metadata belongs to another recording or was edited",
		key, (unsigned long long)have);
}

static void check_same_str(struct verifier *v, const char *meta,
			   const char *key, const char *have, size_t cmp_len)
{
	char want[512];

	if (!dmakit_json_get_str(meta, key, want, sizeof(want)) &&
	    !strncmp(want, have, cmp_len))
		return;
	v->rep->index_errors++;
	problem(v, 0, 0, "metadata and index disagree on %s (\"%s\" in the index): the metadata belongs to another recording or was edited",
		key, have);
}

/*
 * The header's device (cut at @size - 1 bytes) against the metadata's,
 * which the JSON writer made valid UTF-8: compare the header's as the
 * writer would have written it, without a sequence the cut split.
 */
static void check_same_device(struct verifier *v, const char *meta,
			      const char *hdr_device, size_t size)
{
	char raw[256], clean[512];
	size_t len = strnlen(hdr_device, size - 1), k;
	bool cut = len == size - 1;

	memcpy(raw, hdr_device, len);
	if (cut) {
		/* drop a trailing sequence the cut left incomplete */
		for (k = 1; k <= 3 && k <= len; k++) {
			unsigned char c = (unsigned char)raw[len - k];
			size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 :
				      c >= 0xc0 ? 2 : 1;

			if ((c & 0xc0) == 0x80)
				continue;	/* a continuation byte */
			if (need > k)
				len -= k;
			break;
		}
	}
	raw[len] = '\0';
	dmakit_utf8_clean(clean, sizeof(clean), raw);
	check_same_str(v, meta, "device", clean,
		       cut ? strlen(clean) : strlen(clean) + 1);
}

/* The trailer (format 2) against what the entries added up to. */
static void check_trailer(struct verifier *v)
{
	struct dmakit_verify_report *rep = v->rep;
	const struct dmakit_idx_trailer *t = &v->trailer;

	if (v->trailer_corrupt) {
		rep->index_errors++;
		problem(v, v->nentries, 0, "the trailer of %s (after entry %llu) is corrupt (trailer CRC mismatch)",
			v->idx_path, (unsigned long long)v->nentries);
		return;
	}
	if (!v->have_trailer) {
		rep->index_errors++;
		problem(v, v->nentries, 0, "%s has no trailer after entry %llu: the index was cut short",
			v->idx_path, (unsigned long long)v->nentries);
		return;
	}
	if (t->buffers != rep->buffers || t->bytes != rep->bytes ||
	    (rep->buffers && (t->first_seq != v->first_seq ||
			      t->last_seq != v->last_seq)) ||
	    t->entries_crc32c != v->entries_crc ||
	    t->stream_id != v->hdr.stream_id) {
		rep->index_errors++;
		problem(v, v->nentries, 0, "the trailer of %s (%llu buffers, %llu bytes, seq %llu..%llu) does not match its entries (%llu buffers, %llu bytes, seq %llu..%llu)",
			v->idx_path, (unsigned long long)t->buffers,
			(unsigned long long)t->bytes,
			(unsigned long long)t->first_seq,
			(unsigned long long)t->last_seq,
			(unsigned long long)rep->buffers,
			(unsigned long long)rep->bytes,
			(unsigned long long)v->first_seq,
			(unsigned long long)v->last_seq);
	}
	if (strcmp(dmakit_result_name((enum dmakit_result)t->result),
		   rep->result)) {
		rep->index_errors++;
		problem(v, 0, 0, "metadata says result %s, the index trailer %s",
			rep->result,
			dmakit_result_name((enum dmakit_result)t->result));
	}
}

/* A count only the metadata holds: present and an integer. */
static void meta_count(struct verifier *v, const char *meta, const char *key,
		       uint64_t *val)
{
	if (!dmakit_json_get_u64(meta, key, val))
		return;
	v->rep->index_errors++;
	problem(v, 0, 0, "metadata has no valid \"%s\"", key);
}

/* The metadata's time string @key says @ns (rec_iso_time). */
static void check_time(struct verifier *v, const char *meta, const char *key,
		       uint64_t ns)
{
	char want[80], have[80];

	rec_iso_time(have, sizeof(have), ns);
	if (!dmakit_json_get_str(meta, key, want, sizeof(want)) &&
	    !strcmp(want, have))
		return;
	v->rep->index_errors++;
	problem(v, 0, 0, "metadata's %s is not the time it records (%s)", key,
		have);
}

/*
 * The form of a finished recording's metadata and what it says that the
 * index header and entries can check directly (each problem names the
 * field): the rest is bound by the CRC in the trailer (check_meta_crc).
 */
static void check_meta_fields(struct verifier *v, const char *meta)
{
	struct dmakit_verify_report *rep = v->rep;
	const struct dmakit_idx_header *h = &v->hdr;
	char str[64];
	uint64_t u, start = 0, end = 0;
	bool finished;

	if (dmakit_json_dup_key(meta, str, sizeof(str))) {
		rep->index_errors++;
		problem(v, 0, 0, "metadata has \"%s\" more than once: which one holds is not clear",
			str);
	}
	if (dmakit_json_get_u64(meta, "version", &u) || u != h->version) {
		rep->index_errors++;
		problem(v, 0, 0, "metadata's version is not the index's (%u)",
			h->version);
	}
	if (dmakit_json_get_bool(meta, "finished", &finished) || !finished) {
		rep->index_errors++;
		problem(v, 0, 0, "metadata says result %s but not finished true",
			rep->result);
	}
	check_same_u64(v, meta, "dev_clock_hz", h->dev_clock_hz);
	check_same_u64(v, meta, "start_mono_ns", h->start_mono_ns);
	check_same_str(v, meta, "payload", h->payload == DMAKIT_PAYLOAD_SIM ?
		       "sim" : "none", 16);
	meta_count(v, meta, "dropped", &rep->dropped);
	meta_count(v, meta, "not_recorded", &rep->not_recorded);
	/* format 1 recorders wrote no checkpoint and no end_realtime_ns */
	if (h->version >= 2)
		meta_count(v, meta, "checkpoint_buffers",
			   &rep->checkpoint_buffers);
	if (rep->checkpoint_buffers > rep->buffers) {
		rep->index_errors++;
		problem(v, 0, 0, "metadata says checkpoint_buffers=%llu, more than the %llu buffers of the index",
			(unsigned long long)rep->checkpoint_buffers,
			(unsigned long long)rep->buffers);
	}
	if (!dmakit_json_get_u64(meta, "start_realtime_ns", &start))
		check_time(v, meta, "start_time", start);
	if (h->version >= 2 &&
	    (dmakit_json_get_u64(meta, "end_realtime_ns", &end) || end < start)) {
		rep->index_errors++;
		problem(v, 0, 0, "metadata has no valid \"end_realtime_ns\" (the end, after the start)");
	} else if (h->version >= 2) {
		check_time(v, meta, "end_time", end);
	}
	if (!dmakit_json_get_str(meta, "sample_format", str, sizeof(str)) &&
	    dmakit_sample_size(str) < 0) {
		rep->index_errors++;
		problem(v, 0, 0, "metadata's sample_format \"%s\" is not a SigMF format",
			str);
	}
}

/* Members whose fingerprint is not the one the recorder wrote. */
struct field_cmp {
	const uint8_t *want;
	size_t n, i, changed;
	char first[64];
};

static void field_cmp_one(void *ctx, const char *key, size_t klen,
			  const char *val, size_t vlen)
{
	struct field_cmp *fc = ctx;

	/* members past the header's room are bound by the CRC only */
	if (fc->i < fc->n &&
	    rec_meta_field_fp(key, klen, val, vlen) != fc->want[fc->i] &&
	    !fc->changed++)
		snprintf(fc->first, sizeof(fc->first), "%.*s",
			 (int)(klen < 60 ? klen : 60), key);
	fc->i++;
}

/*
 * The metadata file is the one its recorder (or recovery) finished: the
 * trailer holds the CRC32C of its bytes.  This binds what nothing else
 * can check (drops after the last buffer, buffers not recorded, policy,
 * rates, sample format, times, messages).
 */
static void check_meta_crc(struct verifier *v, const char *meta, size_t len,
			   const char *meta_path)
{
	struct dmakit_verify_report *rep = v->rep;
	struct field_cmp fc;
	uint32_t crc;

	if (!(v->hdr.flags & DMAKIT_IDX_HDR_F_META_CRC) || !v->have_trailer)
		return;		/* an older recorder: nothing binds it */
	crc = rec_meta_crc(meta, len);
	if (crc == v->trailer.meta_crc32c) {
		rep->meta_bound = true;
		return;
	}
	v->meta_changed = true;
	rep->index_errors++;
	memset(&fc, 0, sizeof(fc));
	fc.want = v->hdr.meta_fields;
	fc.n = sizeof(v->hdr.meta_fields);
	dmakit_json_each(meta, field_cmp_one, &fc);
	if (fc.changed)
		problem(v, 0, 0, "the metadata %s is not the one its recorder finished: its \"%s\"%s was edited (CRC32C %08x, the index trailer's %08x); none of its claims can be trusted",
			meta_path, fc.first,
			fc.changed > 1 ? " and more" : "", crc,
			v->trailer.meta_crc32c);
	else
		problem(v, 0, 0, "the metadata %s is not the one its recorder finished (its CRC32C %08x, the index trailer's %08x): it was edited, none of its claims can be trusted",
			meta_path, crc, v->trailer.meta_crc32c);
}

static void check_metadata(struct verifier *v, const char *meta_path)
{
	struct dmakit_verify_report *rep = v->rep;
	const struct dmakit_idx_header *h = &v->hdr;
	int err = 0;
	size_t len = 0;
	char *meta = read_text(meta_path, &len, &err);
	uint64_t bufsize, end;
	bool finished;
	char fmt[32];

	if (!meta) {
		rep->index_errors++;
		problem(v, 0, 0, "cannot read the metadata %s: %s", meta_path,
			dmakit_strerror(err));
		return;
	}
	if (dmakit_json_get_str(meta, "format", fmt, sizeof(fmt)) ||
	    strcmp(fmt, "dmakit-recording") ||
	    dmakit_json_get_str(meta, "result", rep->result,
				sizeof(rep->result))) {
		rep->index_errors++;
		problem(v, 0, 0, "metadata %s is not a dmakit recording's (its format or result is missing or wrong)",
			meta_path);
		free(meta);
		return;
	}
	if (!strcmp(rep->result, "recording") && v->have_trailer &&
	    v->trailer.result != DMAKIT_RESULT_RECOVERED &&
	    (!dmakit_json_get_u64(meta, "end_realtime_ns", &end) ||
	     (!dmakit_json_get_bool(meta, "finished", &finished) &&
	      finished))) {
		/*
		 * Only a finished recorder writes its trailer, and then a
		 * final metadata (with the end time): one that says
		 * "recording" was edited, and the trailer wins.  (Killed in
		 * between, it leaves a checkpoint's version: recover.)
		 */
		rep->index_errors++;
		problem(v, 0, 0, "metadata says the recording was not finished (result recording), but %s ends with the trailer its recorder wrote when it finished (result %s): the metadata contradicts the index (it was edited)",
			v->idx_path,
			dmakit_result_name((enum dmakit_result)v->trailer.result));
		free(meta);
		return;
	}
	if (!strcmp(rep->result, "recording")) {
		char writer[DMAKIT_ERRMSG_MAX];

		dmakit_json_get_u64(meta, "dropped", &rep->dropped);
		dmakit_json_get_u64(meta, "not_recorded", &rep->not_recorded);
		dmakit_json_get_u64(meta, "checkpoint_buffers",
				    &rep->checkpoint_buffers);
		/* no totals to compare: the recorder is still at it, or died */
		if (dmakit_sink_writer(v->idx_path, writer, sizeof(writer)))
			problem(v, 0, 0, "the recording is still being made: %s; %llu buffers indexed so far: verify it once the recorder has ended",
				writer, (unsigned long long)rep->buffers);
		else
			problem(v, 0, 0, "the recording was not finished (the recorder stopped without closing it): %llu buffers indexed; 'dmakit recover' finishes it",
				(unsigned long long)rep->buffers);
		free(meta);
		return;
	}
	rep->finished = true;
	if (dmakit_json_get_u64(meta, "bufsize", &bufsize) ||
	    bufsize != v->bufsize) {
		rep->index_errors++;
		problem(v, 0, 0, "metadata and index disagree on the buffer size");
	}
	/* whose recording: a copied-over metadata file names another */
	check_same_u64(v, meta, "stream_id", h->stream_id);
	check_same_u64(v, meta, "start_realtime_ns", h->start_realtime_ns);
	check_same_device(v, meta, h->device, sizeof(h->device));
	if (h->version >= 2) {
		check_same_u64(v, meta, "nbufs", h->nbufs);
		check_same_str(v, meta, "engine",
			       dmakit_engine_name((enum dmakit_engine)h->engine),
			       32);
	}
	check_total(v, meta, "buffers", rep->buffers, true);
	check_total(v, meta, "bytes", rep->bytes, false);
	check_total(v, meta, "gaps", rep->gaps, false);
	check_total(v, meta, "lost", rep->lost, false);
	if (rep->buffers) {
		check_total(v, meta, "first_seq", v->first_seq, false);
		check_total(v, meta, "last_seq", v->last_seq, false);
	}
	if (h->version >= 2) {
		check_total(v, meta, "empty", rep->empty, false);
		check_total(v, meta, "truncated", rep->truncated, false);
		check_total(v, meta, "dma_errors", rep->dma_errors, false);
		check_trailer(v);
	}
	check_meta_fields(v, meta);
	check_meta_crc(v, meta, len, meta_path);
	free(meta);
}

/*
 * A finished recording's data file holds its slots and nothing more (the
 * recorder and recovery trim it): bytes after them are not part of it.
 */
static void check_data_end(struct verifier *v)
{
	struct dmakit_verify_report *rep = v->rep;
	uint64_t end = v->nentries * v->bufsize;
	struct stat st;

	if (!rep->finished || !v->have_trailer || fstat(v->data_fd, &st) ||
	    !S_ISREG(st.st_mode) || (uint64_t)st.st_size <= end)
		return;
	rep->data_beyond = (uint64_t)st.st_size - end;
	rep->index_errors++;
	problem(v, 0, 0, "%s holds %llu bytes after the recording's last slot (byte %llu on): data beyond the recording, not part of it",
		v->data_path, (unsigned long long)rep->data_beyond,
		(unsigned long long)end);
}

/* --- setup --- */

static int read_header(struct verifier *v, char *err, size_t errlen)
{
	struct dmakit_idx_header *h = &v->hdr;
	ssize_t n = dmakit_pread_full(v->idx_fd, h, sizeof(*h), 0, NULL);

	if (n < 0)
		return dmakit_errf(err, errlen, (int)n, "read %s: %s",
				   v->idx_path, dmakit_strerror((int)n));
	if ((size_t)n < sizeof(*h) ||
	    memcmp(h->magic, DMAKIT_IDX_MAGIC, sizeof(h->magic)))
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s is not a dmakit index", v->idx_path);
	if (h->version < 1 || h->version > DMAKIT_IDX_VERSION ||
	    h->header_size != sizeof(*h) ||
	    h->entry_size != sizeof(struct dmakit_idx_entry))
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s: unsupported index version %u (this dmakit reads 1..%d)",
				   v->idx_path, h->version, DMAKIT_IDX_VERSION);
	if (h->version < 2) {
		/* older format: these fields were part of the device string */
		h->nbufs = 0;
		h->engine = 0;
	}
	return 0;
}

/*
 * The 64-byte record @rec is a trailer with a flipped bit or byte: not a
 * valid entry, and its magic is the trailer's but for a byte at most.
 * (An entry never starts with it: that would be seq 0x3230444e454b4d44.)
 */
static bool damaged_trailer(const void *rec)
{
	const struct dmakit_idx_entry *e = rec;
	const char *magic = rec;
	int i, differ = 0;

	if (dmakit_idx_entry_crc(e) == e->entry_crc32c)
		return false;
	for (i = 0; i < 8; i++)
		differ += magic[i] != DMAKIT_IDX_TRAILER_MAGIC[i];
	return differ <= 1;
}

/* How many entries, and the trailer if the index ends with one. */
static int find_entries(struct verifier *v)
{
	const uint64_t hs = sizeof(struct dmakit_idx_header);
	const uint64_t es = sizeof(struct dmakit_idx_entry);
	struct stat st;
	uint64_t recs;

	if (fstat(v->idx_fd, &st))
		return -errno;
	recs = (uint64_t)st.st_size > hs ? ((uint64_t)st.st_size - hs) / es : 0;
	v->partial_entry = (uint64_t)st.st_size > hs &&
			   ((uint64_t)st.st_size - hs) % es;
	v->nentries = recs;
	if (v->hdr.version >= 2 && recs &&
	    dmakit_pread_full(v->idx_fd, &v->trailer, sizeof(v->trailer),
			      hs + (recs - 1) * es, NULL) ==
	    (ssize_t)sizeof(v->trailer)) {
		if (dmakit_idx_is_trailer(&v->trailer))
			v->have_trailer = true;
		else if (damaged_trailer(&v->trailer))
			v->trailer_corrupt = true;
		if (v->have_trailer || v->trailer_corrupt)
			v->nentries = recs - 1;
	}
	return 0;
}

static int alloc_chunks(struct verifier *v)
{
	uint64_t entries = 1, spread;
	unsigned int i;

	v->per_chunk = CHUNK_BYTES / v->bufsize;
	/*
	 * A small recording gets small chunks: all of them in flight hold
	 * about the recording, not NCHUNKS * CHUNK_BYTES (small VMs).
	 */
	if (v->nentries)
		entries = v->nentries;
	spread = (entries + NCHUNKS - 1) / NCHUNKS;
	if (v->per_chunk > spread)
		v->per_chunk = (uint32_t)spread;
	if (!v->per_chunk)
		v->per_chunk = 1;
	for (i = 0; i < NCHUNKS; i++) {
		struct chunk *c = &v->chunks[i];

		c->ents = calloc(v->per_chunk, sizeof(*c->ents));
		c->got = calloc(v->per_chunk, sizeof(*c->got));
		c->ent_ok = calloc(v->per_chunk, sizeof(*c->ent_ok));
		if (!c->ents || !c->got || !c->ent_ok ||
		    (!v->index_only &&
		     posix_memalign((void **)&c->data, 4096,
				    (size_t)v->per_chunk * v->bufsize)))
			return -ENOMEM;
	}
	return 0;
}

static void free_chunks(struct verifier *v)
{
	unsigned int i;

	for (i = 0; i < NCHUNKS; i++) {
		free(v->chunks[i].ents);
		free(v->chunks[i].got);
		free(v->chunks[i].ent_ok);
		free(v->chunks[i].data);
	}
}

static int open_data(struct verifier *v, char *err, size_t errlen)
{
	/* O_DIRECT: a just-written recording is not read from the cache */
	v->data_fd = open(v->data_path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (v->data_fd < 0 && errno == EINVAL)
		v->data_fd = open(v->data_path, O_RDONLY | O_CLOEXEC);
	if (v->data_fd < 0)
		return dmakit_errf(err, errlen, -errno, "open %s: %s",
				   v->data_path, strerror(errno));
	posix_fadvise(v->data_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

static void summarize(struct verifier *v)
{
	struct dmakit_verify_report *rep = v->rep;

	if (v->read_error) {
		rep->index_errors++;
		problem(v, v->entry_no, 0, "read %s: %s", v->idx_path,
			dmakit_strerror(v->read_error));
	}
	if (v->partial_entry) {
		rep->index_errors++;
		problem(v, v->entry_no, 0, "%s ends in the middle of an entry",
			v->idx_path);
	}
	rep->payload_checked = v->hdr.payload == DMAKIT_PAYLOAD_SIM &&
			       !v->index_only;
	rep->version = v->hdr.version;
	rep->bound_checked = v->hdr.version >= 2;
	/* what no entry carries; the first entry's lost counts as carried,
	 * so this never claims more than it knows (as 'dmakit record') */
	if (rep->dropped > rep->lost + v->first_lost && !v->meta_changed)
		rep->dropped_after_last = rep->dropped - rep->lost -
					  v->first_lost;
	rep->ok = rep->finished && !rep->crc_errors && !rep->payload_errors &&
		  !rep->index_errors && !rep->unaccounted &&
		  (v->allow_dma_errors || !rep->dma_errors);
}

static int verify(const char *path, const struct dmakit_verify_opts *opts,
		  bool index_only, struct dmakit_verify_report *rep, char *err,
		  size_t errlen)
{
	struct verifier v;
	const char *prefix = opts && opts->sidecar ? opts->sidecar : path;
	char *idx_path = NULL, *meta_path = NULL;
	pthread_t threads[NREADERS];
	struct reader_arg ra[NREADERS];
	unsigned int i, started = 0;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !*path || !rep)
		return dmakit_errf(err, errlen, -EINVAL, "no recording given");
	memset(rep, 0, sizeof(*rep));
	memset(&v, 0, sizeof(v));
	v.idx_fd = v.data_fd = -1;
	v.rep = rep;
	v.data_path = path;
	v.allow_dma_errors = opts && opts->allow_dma_errors;
	v.index_only = index_only;
	idx_path = dmakit_sidecar_name(prefix, ".idx");
	meta_path = dmakit_sidecar_name(prefix, ".json");
	if (!idx_path || !meta_path) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	v.idx_path = idx_path;
	v.idx_fd = open(idx_path, O_RDONLY | O_CLOEXEC);
	if (v.idx_fd < 0) {
		ret = dmakit_errf(err, errlen, -errno, "open %s: %s",
				  idx_path, strerror(errno));
		goto out;
	}
	ret = read_header(&v, err, errlen);
	if (!ret)
		ret = find_entries(&v);
	if (ret < 0 && !(err && err[0]))
		ret = dmakit_errf(err, errlen, ret, "stat %s: %s", idx_path,
				  dmakit_strerror(ret));
	if (ret)
		goto out;
	ret = open_data(&v, err, errlen);
	if (ret)
		goto out;
	if (dmakit_idx_header_crc(&v.hdr) != v.hdr.header_crc32c ||
	    v.hdr.bufsize < DMAKIT_RING_MIN_BUFSIZE ||
	    v.hdr.bufsize > DMAKIT_RING_MAX_BUFSIZE ||
	    v.hdr.bufsize % DMAKIT_RING_MIN_BUFSIZE) {
		rep->index_errors++;
		problem(&v, 0, 0, "the header of %s is corrupt", idx_path);
		summarize(&v);
		goto out;
	}
	v.bufsize = v.hdr.bufsize;
	if (alloc_chunks(&v)) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto out_chunks;
	}
	pthread_mutex_init(&v.lock, NULL);
	pthread_cond_init(&v.cv, NULL);
	for (i = 0; i < NREADERS; i++) {
		ra[i].v = &v;
		ra[i].first = i;
		ret = pthread_create(&threads[i], NULL, reader, &ra[i]);
		if (ret)
			break;
		started++;
	}
	if (ret) {
		pthread_mutex_lock(&v.lock);
		v.quit = true;
		pthread_cond_broadcast(&v.cv);
		pthread_mutex_unlock(&v.lock);
		ret = dmakit_errf(err, errlen, -ret, "cannot start a reader: %s",
				  strerror(ret));
	} else {
		check_chunks(&v);
	}
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (!ret) {
		check_metadata(&v, meta_path);
		check_data_end(&v);
		summarize(&v);
	}
	pthread_cond_destroy(&v.cv);
	pthread_mutex_destroy(&v.lock);
out_chunks:
	free_chunks(&v);
out:
	if (v.idx_fd >= 0)
		close(v.idx_fd);
	if (v.data_fd >= 0)
		close(v.data_fd);
	free(idx_path);
	free(meta_path);
	return ret;
}

int dmakit_verify(const char *path, const struct dmakit_verify_opts *opts,
		  struct dmakit_verify_report *rep, char *err, size_t errlen)
{
	return verify(path, opts, false, rep, err, errlen);
}

int rec_verify_index(const char *path, const char *sidecar,
		     struct dmakit_verify_report *rep, char *err,
		     size_t errlen)
{
	struct dmakit_verify_opts o = {
		.sidecar = sidecar,
		.allow_dma_errors = true,
	};

	return verify(path, &o, true, rep, err, errlen);
}
