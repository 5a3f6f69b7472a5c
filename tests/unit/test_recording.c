// SPDX-License-Identifier: MIT
/*
 * Recordings: the index format, engine and result names, the sink API on
 * every engine (ordering, gaps, refusals, a full target through
 * RLIMIT_FSIZE), dmakit_record() endings, and dmakit_verify() on synthetic
 * recordings with each kind of damage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dmakit.h>
#include <dmakit/recording.h>
#include "json.h"			/* metadata members */
#include "record/sink.h"		/* index CRC helpers */
#include "t.h"

#define BUFSIZE		(64 * 1024)
#define NBUFS		8

static const enum dmakit_engine all_engines[] = {
	DMAKIT_ENGINE_URING, DMAKIT_ENGINE_PWRITE, DMAKIT_ENGINE_BUFFERED,
	DMAKIT_ENGINE_MMAP,
};

static char dir[256];

static const char *tmp_path(const char *name)
{
	static char path[4][512];
	static int n;
	char *p = path[n++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

static int verify(const char *path, struct dmakit_verify_report *rep);

/* A pool of sim-payload buffers standing in for a ring. */
struct pool {
	unsigned char *mem;
	struct dmakit_geometry geo;
};

static int pool_init(struct pool *p)
{
	memset(p, 0, sizeof(*p));
	if (posix_memalign((void **)&p->mem, 4096, (size_t)NBUFS * BUFSIZE))
		return -1;
	snprintf(p->geo.kind, sizeof(p->geo.kind), "sim");
	snprintf(p->geo.name, sizeof(p->geo.name), "synthetic");
	p->geo.bufsize = BUFSIZE;
	p->geo.nbufs = NBUFS;
	p->geo.payload = DMAKIT_PAYLOAD_SIM;
	p->geo.dev_clock_hz = 1000000000;
	p->geo.data = p->mem;
	p->geo.data_len = (size_t)NBUFS * BUFSIZE;
	return 0;
}

static void fill(struct pool *p, int slot, uint64_t seq, struct dmakit_desc *d)
{
	uint64_t *w = (uint64_t *)(p->mem + (size_t)slot * BUFSIZE);
	size_t i;

	for (i = 0; i < BUFSIZE / 8; i++)
		w[i] = dmakit_payload_word(seq, i);
	memset(d, 0, sizeof(*d));
	d->seq = seq;
	d->len = BUFSIZE;
	d->host_ts = seq * 1000;
	/* half the buffers without a device CRC: the sink computes one */
	if (seq % 2) {
		d->flags = DMAKIT_DESC_F_CRC;
		d->crc32c = dmakit_crc32c(0, w, BUFSIZE);
	}
}

static void sink_opts(struct dmakit_sink_opts *o, struct pool *p,
		      const char *path, enum dmakit_engine e)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	o->engine = e;
	o->bufsize = BUFSIZE;
	o->pool = p->mem;
	o->pool_len = (size_t)NBUFS * BUFSIZE;
	o->nbufs = NBUFS;
	o->source = &p->geo;
	o->stream_id = 42;
	/* the cases rewrite their files (refusals: test_sink_target.c) */
	o->force = true;
}

/*
 * Write @n buffers with sequence numbers from @seqs (NULL: 0..n-1) and
 * lost counts from @lost (NULL: none); returns the submit error if the
 * sink refused one, else 0.  Checks that cookies come back in order.
 */
static int write_buffers(struct dmakit_sink *s, struct pool *p, int n,
			 const uint64_t *seqs, const uint64_t *lost,
			 int *bad_order)
{
	uint64_t next_cookie = 0, cookies[SINK_MAX_DEPTH];
	int i, k, got, ret = 0;

	for (i = 0; i < n; i++) {
		struct dmakit_desc d;
		int slot = i % NBUFS;

		/* a slot is reused only after its cookie came back */
		while (dmakit_sink_inflight(s) >= NBUFS ||
		       (uint64_t)i - next_cookie >= NBUFS) {
			got = dmakit_sink_reap(s, cookies, SINK_MAX_DEPTH, 1);
			for (k = 0; k < got; k++)
				if (cookies[k] != next_cookie++)
					(*bad_order)++;
		}
		fill(p, slot, seqs ? seqs[i] : (uint64_t)i, &d);
		d.lost = lost ? lost[i] : 0;
		for (;;) {
			ret = dmakit_sink_submit(s, &d, p->mem +
						 (size_t)slot * BUFSIZE, slot,
						 (uint64_t)i);
			if (ret != -EAGAIN)
				break;
			got = dmakit_sink_reap(s, cookies, SINK_MAX_DEPTH, 1);
			for (k = 0; k < got; k++)
				if (cookies[k] != next_cookie++)
					(*bad_order)++;
		}
		if (ret)
			return ret;
	}
	while (dmakit_sink_inflight(s)) {
		got = dmakit_sink_reap(s, cookies, SINK_MAX_DEPTH, 1);
		for (k = 0; k < got; k++)
			if (cookies[k] != next_cookie++)
				(*bad_order)++;
	}
	return 0;
}

/* A finished 20-buffer recording with one gap of 3 at entry 10. */
static int make_recording(const char *path, enum dmakit_engine e,
			  struct dmakit_sink_stats *st)
{
	struct dmakit_sink_opts o;
	struct dmakit_sink_summary sum;
	struct dmakit_sink *s;
	struct pool p;
	uint64_t seqs[20], lost[20];
	char err[256];
	int i, bad = 0, ret;

	if (pool_init(&p))
		return -ENOMEM;
	for (i = 0; i < 20; i++) {
		seqs[i] = (uint64_t)i + (i >= 10 ? 3 : 0);
		lost[i] = i == 10 ? 3 : 0;
	}
	sink_opts(&o, &p, path, e);
	o.queue_depth = 4;
	ret = dmakit_sink_open(&s, &o, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "sink open: %s\n", err);
		free(p.mem);
		return ret;
	}
	ret = write_buffers(s, &p, 20, seqs, lost, &bad);
	memset(&sum, 0, sizeof(sum));
	sum.dropped = 3;
	sum.result = DMAKIT_RESULT_COMPLETE;
	if (dmakit_sink_close(s, &sum, st) && !ret)
		ret = -EIO;
	free(p.mem);
	return ret ? ret : bad ? -EPROTO : 0;
}

static void format_sizes(void)
{
	T_EQ(sizeof(struct dmakit_idx_header), 256);
	T_EQ(sizeof(struct dmakit_idx_entry), 64);
	T_EQ(offsetof(struct dmakit_idx_header, header_crc32c), 192);
	T_EQ(offsetof(struct dmakit_idx_header, nbufs), 176);
	T_EQ(sizeof(struct dmakit_idx_trailer), 64);
	T_EQ(offsetof(struct dmakit_idx_trailer, trailer_crc32c), 60);
	T_EQ(strlen(DMAKIT_IDX_TRAILER_MAGIC), 8);
	T_EQ(offsetof(struct dmakit_idx_entry, offset), 32);
	T_EQ(offsetof(struct dmakit_idx_entry, entry_crc32c), 60);
	T_EQ(strlen(DMAKIT_IDX_MAGIC), 8);
	/* descriptor flags and the index's own flag do not collide */
	T_EQ(DMAKIT_IDX_F_HOST_CRC & (DMAKIT_DESC_F_GAP | DMAKIT_DESC_F_DMA_ERR |
				       DMAKIT_DESC_F_TRUNC | DMAKIT_DESC_F_CRC), 0);
}

static void engine_names(void)
{
	static const char *const bad[] = { "", "URING", "io_uring", "mmap2",
					   "direct" };
	enum dmakit_engine e;
	enum dmakit_result r;
	size_t i;

	for (i = 0; i < sizeof(all_engines) / sizeof(all_engines[0]); i++) {
		T_EQ(dmakit_engine_parse(dmakit_engine_name(all_engines[i]), &e), 0);
		T_EQ(e, all_engines[i]);
	}
	T_STREQ(dmakit_engine_name(DMAKIT_ENGINE_URING), "uring");
	T_STREQ(dmakit_engine_name(DMAKIT_ENGINE_MMAP), "mmap");
	T_STREQ(dmakit_engine_name((enum dmakit_engine)99), "?");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ(dmakit_engine_parse(bad[i], &e), -EINVAL);
	T_EQ(dmakit_engine_parse(NULL, &e), -EINVAL);
	for (r = DMAKIT_RESULT_COMPLETE; r <= DMAKIT_RESULT_SOURCE_ENDED; r++) {
		enum dmakit_result back;

		T_EQ(dmakit_result_parse(dmakit_result_name(r), &back), 0);
		T_EQ(back, r);
	}
	T_STREQ(dmakit_result_name(DMAKIT_RESULT_DISK_FULL), "disk-full");
	T_EQ(dmakit_result_parse("recording", &r), -EINVAL);
}

/* Every engine: buffers in order, gaps counted, verify agrees. */
static void sink_every_engine(void)
{
	size_t i;

	for (i = 0; i < sizeof(all_engines) / sizeof(all_engines[0]); i++) {
		struct dmakit_verify_report rep;
		struct dmakit_sink_stats st;
		const char *path = tmp_path("engine.dat");
		char err[256];
		struct stat sb;

		T_EQ(make_recording(path, all_engines[i], &st), 0);
		T_EQ(st.engine, all_engines[i]);
		T_EQ(st.buffers, 20);
		T_EQ(st.bytes, 20 * BUFSIZE);
		T_EQ(st.gaps, 1);
		T_EQ(st.lost, 3);
		T_EQ(st.first_seq, 0);
		T_EQ(st.last_seq, 22);
		T_EQ(st.not_recorded, 0);
		T_EQ(st.result, DMAKIT_RESULT_COMPLETE);
		/* the data file holds exactly the recorded slots */
		T_EQ(stat(path, &sb), 0);
		T_EQ(sb.st_size, 20 * BUFSIZE);
		T_EQ(dmakit_verify(path, NULL, &rep, err, sizeof(err)), 0);
		if (!rep.ok)
			T_FAIL("%s: %s", dmakit_engine_name(all_engines[i]),
			       rep.message);
		T_EQ(rep.buffers, 20);
		T_EQ(rep.gaps, 1);
		T_EQ(rep.lost, 3);
		T_EQ(rep.dropped, 3);
		T_ASSERT(rep.payload_checked);
		T_STREQ(rep.result, "complete");
	}
}

static void sink_refusals(void)
{
	struct dmakit_sink_opts o;
	struct dmakit_sink *s;
	struct dmakit_desc d;
	struct pool p;
	char err[256];

	T_EQ(pool_init(&p), 0);
	sink_opts(&o, &p, tmp_path("refuse.dat"), DMAKIT_ENGINE_URING);
	o.bufsize = 1000;
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "4096"));
	o.bufsize = BUFSIZE;
	o.queue_depth = 1000;
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), -EINVAL);
	o.queue_depth = 2;
	o.path = dir;
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), -EISDIR);
	T_ASSERT(strstr(err, "directory"));
	o.path = tmp_path("no/such/dir.dat");
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), -ENOENT);
	T_ASSERT(strstr(err, "No such file"));
	o.path = "/dev/null";	/* a character device */
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), -EINVAL);

	o.path = tmp_path("refuse.dat");
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), 0);
	fill(&p, 0, 0, &d);
	d.len = BUFSIZE + 1;
	T_EQ(dmakit_sink_submit(s, &d, p.mem, 0, 0), -EINVAL);
	d.len = BUFSIZE;
	/* depth 2: the third submit without a reap is refused, not queued */
	T_EQ(dmakit_sink_submit(s, &d, p.mem, 0, 0), 0);
	d.seq = 1;
	T_EQ(dmakit_sink_submit(s, &d, p.mem + BUFSIZE, 1, 1), 0);
	d.seq = 2;
	T_EQ(dmakit_sink_submit(s, &d, p.mem + 2 * BUFSIZE, 2, 2), -EAGAIN);
	T_EQ(dmakit_sink_inflight(s), 2);
	T_EQ(dmakit_sink_close(s, NULL, NULL), 0);
	free(p.mem);
}

/* The sink keeps copies: the caller may free its options after open. */
static void sink_copies_options(void)
{
	struct dmakit_verify_report rep;
	struct dmakit_sink_opts o;
	struct dmakit_geometry *geo;
	struct dmakit_sink *s;
	struct pool p;
	char *path, err[256], meta[8192];
	int bad = 0;
	FILE *f;
	size_t n;

	T_EQ(pool_init(&p), 0);
	geo = malloc(sizeof(*geo));
	path = strdup(tmp_path("copies.dat"));
	T_ASSERT(geo && path);
	*geo = p.geo;
	snprintf(geo->name, sizeof(geo->name), "sim:copied");
	sink_opts(&o, &p, path, DMAKIT_ENGINE_PWRITE);
	o.source = geo;
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), 0);
	memset(geo, 0xa5, sizeof(*geo));	/* ASan: freed below */
	free(geo);
	free(path);
	T_EQ(write_buffers(s, &p, 4, NULL, NULL, &bad), 0);
	T_EQ(dmakit_sink_close(s, NULL, NULL), 0);
	free(p.mem);
	f = fopen(tmp_path("copies.dat.json"), "r");
	T_ASSERT(f);
	n = fread(meta, 1, sizeof(meta) - 1, f);
	fclose(f);
	meta[n] = '\0';
	T_ASSERT(strstr(meta, "\"device\": \"sim:copied\""));
	T_EQ(verify(tmp_path("copies.dat"), &rep), 0);
	T_ASSERT(rep.ok);
}

static int notices;

static void count_notice(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
	notices++;
}

/*
 * RLIMIT_FSIZE below the requested size: no preallocation (a notice),
 * EFBIG at the limit, result disk-full, everything before it verifiable.
 */
static void sink_disk_full(void)
{
	struct rlimit old, lim;
	size_t i;

	signal(SIGXFSZ, SIG_IGN);
	T_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1 << 20;		/* 16 buffers */
	for (i = 0; i < sizeof(all_engines) / sizeof(all_engines[0]); i++) {
		struct dmakit_verify_report rep;
		struct dmakit_sink_summary sum;
		struct dmakit_sink_stats st;
		struct dmakit_sink_opts o;
		struct dmakit_sink *s;
		const char *path = tmp_path("full.dat");
		struct pool p;
		char err[256];
		int ret, bad = 0;

		T_EQ(pool_init(&p), 0);
		sink_opts(&o, &p, path, all_engines[i]);
		o.expected_bytes = 4 << 20;
		o.notice = count_notice;
		notices = 0;
		T_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
		T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), 0);
		ret = write_buffers(s, &p, 64, NULL, NULL, &bad);
		memset(&sum, 0, sizeof(sum));
		sum.result = DMAKIT_RESULT_COMPLETE;
		T_EQ(dmakit_sink_close(s, &sum, &st), 0);
		T_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
		free(p.mem);
		T_EQ(ret, -EFBIG);
		T_EQ(bad, 0);
		T_ASSERT(notices >= 1);
		T_EQ(st.result, DMAKIT_RESULT_DISK_FULL);
		T_EQ(st.error, -EFBIG);
		T_ASSERT(strstr(st.message, "too large"));
		T_EQ(st.buffers, 16);
		/* a write's failure names where the recording ends */
		if (strstr(st.message, " at offset ") &&
		    !strstr(st.message, " at offset 1048576:"))
			T_FAIL("%s: %s", dmakit_engine_name(all_engines[i]),
			       st.message);
		T_ASSERT(st.not_recorded >= 1);
		T_EQ(dmakit_verify(path, NULL, &rep, err, sizeof(err)), 0);
		if (!rep.ok)
			T_FAIL("%s: %s", dmakit_engine_name(all_engines[i]),
			       rep.message);
		T_EQ(rep.buffers, 16);
		T_STREQ(rep.result, "disk-full");
		T_EQ(rep.not_recorded, st.not_recorded);
	}
}

/* --- verify on damaged recordings --- */

static int patch(const char *path, off_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pwrite(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int peek(const char *path, off_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static off_t entry_off(int k)
{
	return (off_t)(sizeof(struct dmakit_idx_header) +
		       (size_t)k * sizeof(struct dmakit_idx_entry));
}

static int verify_with(const char *path, const struct dmakit_verify_opts *o,
		       struct dmakit_verify_report *rep)
{
	char err[256];
	int ret = dmakit_verify(path, o, rep, err, sizeof(err));

	if (ret)
		fprintf(stderr, "verify: %s\n", err);
	return ret;
}

static int verify(const char *path, struct dmakit_verify_report *rep)
{
	char err[256];
	int ret = dmakit_verify(path, NULL, rep, err, sizeof(err));

	if (ret)
		fprintf(stderr, "verify: %s\n", err);
	return ret;
}

static void verify_data_corruption(void)
{
	const char *path = tmp_path("corrupt.dat");
	struct dmakit_verify_report rep;
	struct dmakit_sink_stats st;
	unsigned char b, x;

	T_EQ(make_recording(path, DMAKIT_ENGINE_URING, &st), 0);
	/* entry 12 holds seq 15 (three lost at entry 10) */
	T_EQ(peek(path, 12 * BUFSIZE + 777, &b, 1), 0);
	x = (unsigned char)(b ^ 0x10);
	T_EQ(patch(path, 12 * BUFSIZE + 777, &x, 1), 0);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_EQ(rep.payload_errors, 1);
	T_EQ(rep.first_bad_entry, 12);
	T_EQ(rep.first_bad_seq, 15);
	T_ASSERT(strstr(rep.message, "seq 15"));
	/* seq 15 has a device CRC, seq 14 a recorder CRC: both checked */
	T_EQ(rep.crc_errors, 1);
	T_EQ(patch(path, 12 * BUFSIZE + 777, &b, 1), 0);
	T_EQ(peek(path, 11 * BUFSIZE + 5, &b, 1), 0);
	x = (unsigned char)~b;
	T_EQ(patch(path, 11 * BUFSIZE + 5, &x, 1), 0);
	T_EQ(verify(path, &rep), 0);
	T_EQ(rep.crc_errors, 1);
	T_EQ(rep.first_bad_seq, 14);
	T_EQ(patch(path, 11 * BUFSIZE + 5, &b, 1), 0);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(rep.ok);
}

static void verify_index_corruption(void)
{
	const char *path = tmp_path("idx.dat");
	const char *idx = tmp_path("idx.dat.idx");
	struct dmakit_verify_report rep;
	struct dmakit_sink_stats st;
	struct dmakit_idx_entry e, saved;
	struct dmakit_idx_header h;

	T_EQ(make_recording(path, DMAKIT_ENGINE_PWRITE, &st), 0);

	/* a flipped bit in an entry: its CRC catches it */
	T_EQ(peek(idx, entry_off(5), &e, sizeof(e)), 0);
	saved = e;
	e.len ^= 1;
	T_EQ(patch(idx, entry_off(5), &e, sizeof(e)), 0);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_ASSERT(rep.index_errors >= 1);
	T_EQ(rep.first_bad_entry, 5);
	T_ASSERT(strstr(rep.message, "entry 5"));

	/* a consistent-looking entry whose sequence skips: unaccounted */
	e = saved;
	e.seq += 2;
	e.entry_crc32c = dmakit_idx_entry_crc(&e);
	T_EQ(patch(idx, entry_off(5), &e, sizeof(e)), 0);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_EQ(rep.unaccounted, 2);
	T_ASSERT(strstr(rep.message, "unaccounted"));

	/* restored: intact again */
	T_EQ(patch(idx, entry_off(5), &saved, sizeof(saved)), 0);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(rep.ok);

	/* the header */
	T_EQ(peek(idx, 0, &h, sizeof(h)), 0);
	h.bufsize = 8192;
	T_EQ(patch(idx, 0, &h, sizeof(h)), 0);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_ASSERT(strstr(rep.message, "header"));
	h.bufsize = BUFSIZE;
	T_EQ(patch(idx, 0, &h, sizeof(h)), 0);

	/* an index that lost its tail: the metadata knows */
	T_EQ(truncate(idx, entry_off(18)), 0);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_EQ(rep.buffers, 18);
	T_EQ(rep.unaccounted, 2);

	/* half an entry at the end */
	T_EQ(truncate(idx, entry_off(17) + 10), 0);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(rep.index_errors >= 1);
}

static void verify_metadata(void)
{
	const char *path = tmp_path("meta.dat");
	const char *meta = tmp_path("meta.dat.json");
	struct dmakit_verify_report rep;
	struct dmakit_sink_stats st;
	char err[256];
	FILE *f;

	T_EQ(make_recording(path, DMAKIT_ENGINE_BUFFERED, &st), 0);
	/* a recorder that died: metadata never finalised */
	f = fopen(meta, "w");
	T_ASSERT(f);
	fputs("{\"format\":\"dmakit-recording\",\"bufsize\":65536,\"result\":\"recording\",\"finished\":false}\n", f);
	fclose(f);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_ASSERT(!rep.finished);
	T_EQ(rep.buffers, 20);
	T_EQ(rep.crc_errors + rep.payload_errors + rep.index_errors, 0);
	T_ASSERT(strstr(rep.message, "not finished"));

	T_EQ(unlink(meta), 0);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_ASSERT(strstr(rep.message, "metadata"));

	/* no index at all: nothing to verify */
	T_EQ(dmakit_verify(tmp_path("nothing.dat"), NULL, &rep, err,
			   sizeof(err)), -ENOENT);
	T_ASSERT(strstr(err, "nothing.dat.idx"));
}

/* Recompute what an editor would: entry CRCs and the trailer's chain. */
static void reseal_index(const char *idx, int nentries)
{
	struct dmakit_idx_trailer t;
	struct dmakit_idx_entry e;
	uint32_t chain = 0;
	int k;

	for (k = 0; k < nentries; k++) {
		T_EQ(peek(idx, entry_off(k), &e, sizeof(e)), 0);
		e.entry_crc32c = dmakit_idx_entry_crc(&e);
		T_EQ(patch(idx, entry_off(k), &e, sizeof(e)), 0);
		chain = dmakit_crc32c(chain, &e, sizeof(e));
	}
	T_EQ(peek(idx, entry_off(nentries), &t, sizeof(t)), 0);
	T_ASSERT(dmakit_idx_is_trailer(&t));
	t.entries_crc32c = chain;
	t.trailer_crc32c = dmakit_idx_trailer_crc(&t);
	T_EQ(patch(idx, entry_off(nentries), &t, sizeof(t)), 0);
}

/*
 * Bind the metadata file @meta as it is now, as the recorder would have:
 * its CRC32C into the trailer after @nentries entries.
 */
static void reseal_meta(const char *idx, const char *meta, int nentries)
{
	struct dmakit_idx_trailer t;
	char text[16384];
	FILE *f = fopen(meta, "r");
	size_t n;

	T_ASSERT(f);
	if (!f)
		return;
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	T_EQ(peek(idx, entry_off(nentries), &t, sizeof(t)), 0);
	T_ASSERT(dmakit_idx_is_trailer(&t));
	t.meta_crc32c = dmakit_crc32c(0, text, n);
	t.trailer_crc32c = dmakit_idx_trailer_crc(&t);
	T_EQ(patch(idx, entry_off(nentries), &t, sizeof(t)), 0);
}

static void replace_in_file(const char *path, const char *from,
			    const char *to);

/*
 * Two slots swapped together with their checksums (entry CRCs and the
 * trailer recomputed): the checksum is bound to sequence and slot.  The
 * payload check is taken out of the picture (header says no payload) so
 * the binding alone must catch it.
 */
static void verify_swapped_slots(void)
{
	const char *path = tmp_path("swap.dat");
	const char *idx = tmp_path("swap.dat.idx");
	struct dmakit_verify_report rep;
	struct dmakit_sink_stats st;
	struct dmakit_idx_header h;
	struct dmakit_idx_entry e3, e4;
	unsigned char *a = malloc(BUFSIZE), *b = malloc(BUFSIZE);
	uint32_t crc;

	T_ASSERT(a && b);
	T_EQ(make_recording(path, DMAKIT_ENGINE_PWRITE, &st), 0);
	T_EQ(peek(idx, 0, &h, sizeof(h)), 0);
	h.payload = DMAKIT_PAYLOAD_NONE;
	h.header_crc32c = dmakit_idx_header_crc(&h);
	T_EQ(patch(idx, 0, &h, sizeof(h)), 0);
	replace_in_file(tmp_path("swap.dat.json"), "\"payload\": \"sim\"",
			"\"payload\": \"none\"");
	reseal_meta(idx, tmp_path("swap.dat.json"), 20);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(rep.ok);
	T_ASSERT(!rep.payload_checked);
	T_ASSERT(rep.bound_checked);

	T_EQ(peek(path, 3 * BUFSIZE, a, BUFSIZE), 0);
	T_EQ(peek(path, 4 * BUFSIZE, b, BUFSIZE), 0);
	T_EQ(patch(path, 3 * BUFSIZE, b, BUFSIZE), 0);
	T_EQ(patch(path, 4 * BUFSIZE, a, BUFSIZE), 0);
	T_EQ(peek(idx, entry_off(3), &e3, sizeof(e3)), 0);
	T_EQ(peek(idx, entry_off(4), &e4, sizeof(e4)), 0);
	crc = e3.crc32c;
	e3.crc32c = e4.crc32c;
	e4.crc32c = crc;
	T_EQ(patch(idx, entry_off(3), &e3, sizeof(e3)), 0);
	T_EQ(patch(idx, entry_off(4), &e4, sizeof(e4)), 0);
	reseal_index(idx, 20);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_EQ(rep.crc_errors, 2);
	T_EQ(rep.index_errors, 0);
	T_EQ(rep.first_bad_entry, 3);
	T_ASSERT(strstr(rep.message, "sequence, slot and data"));
	free(a);
	free(b);
}

static void replace_in_file(const char *path, const char *from,
			    const char *to)
{
	char text[16384], out[16384], *p;
	FILE *f = fopen(path, "r");
	size_t n;

	T_ASSERT(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strstr(text, from);
	T_ASSERT(p);
	if (!p)
		return;
	*p = '\0';
	snprintf(out, sizeof(out), "%s%s%s", text, to, p + strlen(from));
	f = fopen(path, "w");
	T_ASSERT(f);
	fputs(out, f);
	fclose(f);
}

/*
 * Data and index cut at a buffer boundary, the metadata's totals edited
 * to match: the trailer is gone (or, moved along, no longer matches).
 */
static void verify_cut_with_edited_totals(void)
{
	const char *path = tmp_path("cut.dat");
	const char *idx = tmp_path("cut.dat.idx");
	const char *meta = tmp_path("cut.dat.json");
	struct dmakit_verify_report rep;
	struct dmakit_sink_stats st;
	struct dmakit_idx_trailer t;

	T_EQ(make_recording(path, DMAKIT_ENGINE_URING, &st), 0);
	T_EQ(peek(idx, entry_off(20), &t, sizeof(t)), 0);
	T_ASSERT(dmakit_idx_is_trailer(&t));
	/* 15 entries left: seq 0..9, 13..17 */
	T_EQ(truncate(idx, entry_off(15)), 0);
	T_EQ(truncate(path, 15 * BUFSIZE), 0);
	replace_in_file(meta, "\"buffers\": 20", "\"buffers\": 15");
	replace_in_file(meta, "\"bytes\": 1310720", "\"bytes\": 983040");
	replace_in_file(meta, "\"last_seq\": 22", "\"last_seq\": 17");
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_EQ(rep.buffers, 15);
	T_EQ(rep.unaccounted, 0);
	T_ASSERT(strstr(rep.message, "no trailer"));

	/* the old trailer moved to the new end: its totals and chain differ */
	T_EQ(patch(idx, entry_off(15), &t, sizeof(t)), 0);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_ASSERT(strstr(rep.message, "trailer"));
}

/* Another recording's metadata copied over this one's. */
static void verify_foreign_metadata(void)
{
	struct dmakit_verify_report rep;
	struct dmakit_sink_stats st;
	char cmd[1024];

	T_EQ(make_recording(tmp_path("one.dat"), DMAKIT_ENGINE_PWRITE, &st), 0);
	T_EQ(make_recording(tmp_path("two.dat"), DMAKIT_ENGINE_PWRITE, &st), 0);
	T_EQ(verify(tmp_path("two.dat"), &rep), 0);
	T_ASSERT(rep.ok);
	/* same totals, same stream id (42), same engine: only whose it is
	 * differs */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", tmp_path("one.dat.json"),
		 tmp_path("two.dat.json"));
	T_EQ(system(cmd), 0);
	T_EQ(verify(tmp_path("two.dat"), &rep), 0);
	T_ASSERT(!rep.ok);
	T_ASSERT(strstr(rep.message, "another recording"));
}

/*
 * Empty, truncated and DMA-error buffers are recorded with their flags,
 * counted in the metadata and by verify; a DMA error fails verify unless
 * allowed.
 */
static void flagged_buffers(void)
{
	const char *path = tmp_path("flags.dat");
	struct dmakit_verify_opts vo = { .allow_dma_errors = true };
	struct dmakit_verify_report rep;
	struct dmakit_sink_summary sum;
	struct dmakit_sink_stats st;
	struct dmakit_sink_opts o;
	struct dmakit_sink *s;
	struct pool p;
	uint64_t cookies[SINK_MAX_DEPTH];
	char err[256];
	int i;

	T_EQ(pool_init(&p), 0);
	sink_opts(&o, &p, path, DMAKIT_ENGINE_URING);
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), 0);
	for (i = 0; i < 6; i++) {
		struct dmakit_desc d;

		fill(&p, i, (uint64_t)i, &d);
		if (i == 1)
			d.len = 0;
		if (i == 2 || i == 4)
			d.len = BUFSIZE / 4;
		if (i == 4)
			d.flags |= DMAKIT_DESC_F_DMA_ERR;
		if (d.flags & DMAKIT_DESC_F_CRC)
			d.crc32c = dmakit_crc32c(0, p.mem + (size_t)i * BUFSIZE,
						 d.len);
		if (d.len < BUFSIZE)
			d.flags |= DMAKIT_DESC_F_TRUNC;
		T_EQ(dmakit_sink_submit(s, &d, p.mem + (size_t)i * BUFSIZE, i,
					(uint64_t)i), 0);
		while (dmakit_sink_inflight(s))
			dmakit_sink_reap(s, cookies, SINK_MAX_DEPTH, 1);
	}
	memset(&sum, 0, sizeof(sum));
	T_EQ(dmakit_sink_close(s, &sum, &st), 0);
	free(p.mem);
	T_EQ(st.buffers, 6);
	T_EQ(st.empty, 1);
	T_EQ(st.truncated, 2);
	T_EQ(st.dma_errors, 1);

	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_EQ(rep.buffers, 6);
	T_EQ(rep.empty, 1);
	T_EQ(rep.truncated, 2);
	T_EQ(rep.dma_errors, 1);
	T_EQ(rep.crc_errors + rep.payload_errors + rep.index_errors +
	     rep.unaccounted, 0);
	T_EQ(rep.first_bad_seq, 4);
	T_ASSERT(strstr(rep.message, "DMA error"));
	T_EQ(verify_with(path, &vo, &rep), 0);
	T_ASSERT(rep.ok);

	/* the flag and the counts are bound: clearing it in the index fails */
	{
		const char *idx = tmp_path("flags.dat.idx");
		struct dmakit_idx_entry e;

		T_EQ(peek(idx, entry_off(4), &e, sizeof(e)), 0);
		e.flags &= ~DMAKIT_DESC_F_DMA_ERR;
		T_EQ(patch(idx, entry_off(4), &e, sizeof(e)), 0);
		reseal_index(idx, 6);
		T_EQ(verify(path, &rep), 0);
		T_ASSERT(!rep.ok);
		T_EQ(rep.dma_errors, 0);
		T_ASSERT(strstr(rep.message, "dma_errors"));
	}
}

/*
 * A version 1 recording (plain data CRCs, no trailer, 128-byte device
 * string) still verifies, and says it is the older format.
 */
static void verify_version1(void)
{
	const char *path = tmp_path("v1.dat");
	const char *idx = tmp_path("v1.dat.idx");
	struct dmakit_verify_report rep;
	struct dmakit_sink_stats st;
	struct dmakit_idx_header h;
	unsigned char *buf = malloc(BUFSIZE);
	int k;

	T_ASSERT(buf);
	T_EQ(make_recording(path, DMAKIT_ENGINE_BUFFERED, &st), 0);
	T_EQ(peek(idx, 0, &h, sizeof(h)), 0);
	h.version = 1;
	h.nbufs = 0;
	h.engine = 0;
	h.header_crc32c = dmakit_idx_header_crc(&h);
	T_EQ(patch(idx, 0, &h, sizeof(h)), 0);
	for (k = 0; k < 20; k++) {
		struct dmakit_idx_entry e;

		T_EQ(peek(idx, entry_off(k), &e, sizeof(e)), 0);
		T_EQ(peek(path, (off_t)e.offset, buf, e.len), 0);
		e.crc32c = dmakit_crc32c(0, buf, e.len);
		e.entry_crc32c = dmakit_idx_entry_crc(&e);
		T_EQ(patch(idx, entry_off(k), &e, sizeof(e)), 0);
	}
	T_EQ(truncate(idx, entry_off(20)), 0);
	/* a format 1 recorder wrote its own version and no checkpoint */
	replace_in_file(tmp_path("v1.dat.json"), "\"version\": 2",
			"\"version\": 1");
	replace_in_file(tmp_path("v1.dat.json"),
			"\"checkpoint_buffers\": 20,", "");
	T_EQ(verify(path, &rep), 0);
	if (!rep.ok)
		T_FAIL("v1: %s", rep.message);
	T_EQ(rep.version, 1);
	T_ASSERT(!rep.bound_checked);
	T_EQ(rep.buffers, 20);
	/* finished in the older format: recover has nothing to do */
	{
		struct dmakit_recover_report rr;
		char err[256];

		T_EQ(dmakit_recover(path, NULL, &rr, err, sizeof(err)), 0);
		T_ASSERT(rr.was_finished);
		T_EQ(rr.buffers, 20);
	}
	free(buf);
}

/* A child records 70 buffers to @path and _exit()s without closing. */
static void record_and_die(const char *path)
{
	char err[256];
	pid_t pid;
	int status;

	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		struct dmakit_sink_opts o;
		struct dmakit_sink *s;
		struct pool p;
		int bad = 0;

		if (pool_init(&p))
			_exit(2);
		sink_opts(&o, &p, path, DMAKIT_ENGINE_PWRITE);
		o.expected_bytes = 64 * BUFSIZE;	/* a preallocated tail */
		o.checkpoint_ms = -1;			/* no checkpoint at all */
		if (dmakit_sink_open(&s, &o, err, sizeof(err)))
			_exit(3);
		/* 70 entries: more than one index batch reaches the file */
		if (write_buffers(s, &p, 70, NULL, NULL, &bad) || bad)
			_exit(4);
		dmakit_sink_flush_index(s);
		_exit(0);	/* dies without dmakit_sink_close() */
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * What the recorder left: entry @k's buffer completed @after_ns past the
 * recording's start (host_ts, CLOCK_MONOTONIC; its entry CRC resealed),
 * and the index was last written @mtime_after_ns past it (realtime).
 */
static void set_times(const char *idx, int k, uint64_t after_ns,
		      uint64_t mtime_after_ns)
{
	struct dmakit_idx_header h;
	struct dmakit_idx_entry e;
	struct timespec ts[2];
	uint64_t t;

	T_EQ(peek(idx, 0, &h, sizeof(h)), 0);
	T_EQ(peek(idx, entry_off(k), &e, sizeof(e)), 0);
	e.host_ts = h.start_mono_ns + after_ns;
	e.entry_crc32c = dmakit_idx_entry_crc(&e);
	T_EQ(patch(idx, entry_off(k), &e, sizeof(e)), 0);
	t = h.start_realtime_ns + mtime_after_ns;
	ts[0].tv_sec = ts[1].tv_sec = (time_t)(t / 1000000000ULL);
	ts[0].tv_nsec = ts[1].tv_nsec = (long)(t % 1000000000ULL);
	T_EQ(utimensat(AT_FDCWD, idx, ts, 0), 0);
}

/* The metadata's double @key, or -1 if it has none. */
static double meta_double(const char *meta, const char *key)
{
	char text[16384];
	FILE *f = fopen(meta, "r");
	double v = -1;
	size_t n;

	if (!f)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (dmakit_json_get_double(text, key, &v))
		return -1;
	return v;
}

/*
 * A recorder that dies without closing (a child that _exit()s mid-way):
 * recover keeps every buffer whose entry and data check out, trims a torn
 * entry, finishes the metadata; a second recover changes nothing.  A
 * finished recording whose index lost its trailer is damage, not a
 * crash: recover refuses and leaves it alone.
 */
static void recover_after_death(void)
{
	const char *path = tmp_path("dead.dat");
	const char *idx = tmp_path("dead.dat.idx");
	struct dmakit_recover_report rr;
	struct dmakit_verify_report rep;
	struct dmakit_idx_entry junk;
	struct stat sb, sb2;
	char err[256];
	double secs;

	record_and_die(path);
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_ASSERT(strstr(rep.message, "dmakit recover"));

	/* a torn entry after the last whole one, as after a power cut */
	memset(&junk, 0x5a, sizeof(junk));
	T_EQ(patch(idx, entry_off(70), &junk, sizeof(junk)), 0);
	/* its last buffer 2.5 s after its start, the index written at 3 s */
	set_times(idx, 69, 2500000000ULL, 3000000000ULL);
	T_EQ(dmakit_recover(path, NULL, &rr, err, sizeof(err)), 0);
	T_ASSERT(!rr.was_finished);
	T_STREQ(rr.previous_result, "recording");
	T_EQ(rr.buffers, 70);
	T_EQ(rr.dropped_entries, 1);
	T_EQ(rr.checkpoint_buffers, 0);
	T_ASSERT(strstr(rr.message, "entry 70"));
	T_EQ(rr.damaged_kept, 0);
	T_STREQ(rr.damaged_note, "");
	/*
	 * Its run time is up to its last buffer, not the open's metadata's
	 * 0 (no checkpoint), so bytes_per_s is a rate.
	 */
	secs = meta_double(tmp_path("dead.dat.json"), "seconds");
	T_ASSERT(secs > 2.499 && secs < 2.501);
	T_ASSERT(meta_double(tmp_path("dead.dat.json"), "bytes_per_s") >
		 70.0 * BUFSIZE / 2.501);
	T_EQ(stat(path, &sb), 0);
	T_EQ(sb.st_size, 70 * BUFSIZE);		/* the preallocation trimmed */
	T_EQ(verify(path, &rep), 0);
	if (!rep.ok)
		T_FAIL("after recover: %s", rep.message);
	T_STREQ(rep.result, "recovered");
	T_EQ(rep.buffers, 70);

	T_EQ(stat(idx, &sb), 0);
	T_EQ(dmakit_recover(path, NULL, &rr, err, sizeof(err)), 0);
	T_ASSERT(rr.was_finished);
	T_STREQ(rr.previous_result, "recovered");
	T_EQ(rr.buffers, 70);
	T_EQ(stat(idx, &sb2), 0);
	T_EQ(sb2.st_size, sb.st_size);
	T_EQ(sb2.st_mtime, sb.st_mtime);

	/* finished, trailer cut off: refused, nothing changed */
	T_EQ(truncate(idx, entry_off(70)), 0);
	T_EQ(dmakit_recover(path, NULL, &rr, err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "damaged, not interrupted"));
	T_EQ(stat(idx, &sb2), 0);
	T_EQ(sb2.st_size, entry_off(70));

	/* nothing to recover from */
	T_EQ(dmakit_recover(tmp_path("none.dat"), NULL, &rr, err, sizeof(err)),
	     -ENOENT);
}

/*
 * Entries up to the last checkpoint are kept whatever they hold (the
 * checkpoint made them durable), but one that does not check out is
 * reported: the recording will not verify, and recover says so.
 */
static void recover_reports_damage_before_checkpoint(void)
{
	const char *path = tmp_path("hurt.dat");
	const char *idx = tmp_path("hurt.dat.idx");
	struct dmakit_recover_report rr;
	struct dmakit_verify_report rep;
	struct dmakit_idx_entry e;
	char err[256];

	record_and_die(path);
	/* a checkpoint of 60 buffers, as its metadata would have said */
	replace_in_file(tmp_path("hurt.dat.json"), "\"checkpoint_buffers\": 0",
			"\"checkpoint_buffers\": 60");
	T_EQ(peek(idx, entry_off(10), &e, sizeof(e)), 0);
	e.write_us ^= 0x100;			/* entry CRC no longer matches */
	T_EQ(patch(idx, entry_off(10), &e, sizeof(e)), 0);
	T_EQ(peek(idx, entry_off(12), &e, sizeof(e)), 0);
	e.dev_ts ^= 1;
	T_EQ(patch(idx, entry_off(12), &e, sizeof(e)), 0);
	/*
	 * host_ts on another clock (a recv recording's is the sender's): 100 s
	 * after the start, but the index was last written at 3 s: not taken
	 */
	set_times(idx, 69, 100000000000ULL, 3000000000ULL);

	T_EQ(dmakit_recover(path, NULL, &rr, err, sizeof(err)), 0);
	T_EQ(rr.checkpoint_buffers, 60);
	T_EQ(rr.buffers, 70);			/* kept, damage and all */
	T_EQ(rr.damaged_kept, 2);
	T_ASSERT(strstr(rr.damaged_note, "entry 10: entry CRC mismatch"));
	T_ASSERT(strstr(rr.damaged_note, "dmakit verify"));
	T_EQ(verify(path, &rep), 0);
	T_ASSERT(!rep.ok);
	T_EQ(rep.first_bad_entry, 10);
	T_ASSERT(meta_double(tmp_path("hurt.dat.json"), "seconds") < 3);
}

/* --- dmakit_record endings --- */

struct stop_after {
	volatile sig_atomic_t stop;
	uint64_t after_bytes;
	int finals;
	uint64_t final_cpu;
};

static void stop_cb(void *ctx, const struct dmakit_record_progress *p)
{
	struct stop_after *sa = ctx;

	if (p->bytes >= sa->after_bytes)
		sa->stop = 1;
	if (p->final) {
		sa->finals++;
		sa->final_cpu = p->producer_cpu_ns;
	}
}

static void record_endings(void)
{
	struct dmakit_record_opts ro;
	struct dmakit_verify_report rep;
	struct dmakit_sink_stats st;
	struct dmakit_dev *dev;
	struct stop_after sa;
	char err[256];

	/* the source ends before the limit */
	T_EQ(dmakit_open(&dev, "sim:bufsize=64K,nbufs=16,count=50,policy=block",
			 err, sizeof(err)), 0);
	memset(&ro, 0, sizeof(ro));
	ro.sink.path = tmp_path("rec1.dat");
	ro.max_bytes = 100 * BUFSIZE;
	T_EQ(dmakit_record(dev, &ro, &st, err, sizeof(err)), -ENODATA);
	dmakit_close(dev);
	T_EQ(st.result, DMAKIT_RESULT_SOURCE_ENDED);
	T_EQ(st.buffers, 50);
	T_EQ(verify(tmp_path("rec1.dat"), &rep), 0);
	T_ASSERT(rep.ok);
	T_STREQ(rep.result, "source-ended");

	/* the size limit, rounded up to whole buffers */
	T_EQ(dmakit_open(&dev, "sim:bufsize=64K,nbufs=16,policy=block",
			 err, sizeof(err)), 0);
	ro.max_bytes = 10 * BUFSIZE + 1;
	ro.sink.engine = DMAKIT_ENGINE_MMAP;
	ro.sink.force = true;		/* over rec1.dat */
	T_EQ(dmakit_record(dev, &ro, &st, err, sizeof(err)), 0);
	dmakit_close(dev);
	T_EQ(st.buffers, 11);
	T_EQ(st.first_seq, 0);
	T_EQ(st.last_seq, 10);

	/* a stop request (as from a signal handler) */
	T_EQ(dmakit_open(&dev, "sim:bufsize=64K,nbufs=16,rate=50M,policy=block",
			 err, sizeof(err)), 0);
	memset(&sa, 0, sizeof(sa));
	sa.after_bytes = 20 * BUFSIZE;
	memset(&ro, 0, sizeof(ro));
	ro.sink.path = tmp_path("rec2.dat");
	ro.max_seconds = 30;
	ro.stop = &sa.stop;
	ro.progress = stop_cb;
	ro.progress_ctx = &sa;
	ro.progress_ms = 20;
	T_EQ(dmakit_record(dev, &ro, &st, err, sizeof(err)), -EINTR);
	dmakit_close(dev);
	T_EQ(st.result, DMAKIT_RESULT_INTERRUPTED);
	T_ASSERT(st.buffers >= 20);
	T_ASSERT(st.seconds < 20);
	T_EQ(sa.finals, 1);
	T_ASSERT(sa.final_cpu > 0);	/* the sim producer's CPU time */
	T_EQ(verify(tmp_path("rec2.dat"), &rep), 0);
	T_ASSERT(rep.ok);
	T_STREQ(rep.result, "interrupted");
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_recording.XXXXXX", t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(format_sizes);
	T_RUN(engine_names);
	T_RUN(sink_every_engine);
	T_RUN(sink_refusals);
	T_RUN(sink_copies_options);
	T_RUN(sink_disk_full);
	T_RUN(verify_data_corruption);
	T_RUN(verify_index_corruption);
	T_RUN(verify_metadata);
	T_RUN(verify_swapped_slots);
	T_RUN(verify_cut_with_edited_totals);
	T_RUN(verify_foreign_metadata);
	T_RUN(flagged_buffers);
	T_RUN(verify_version1);
	T_RUN(recover_after_death);
	T_RUN(recover_reports_damage_before_checkpoint);
	T_RUN(record_endings);
	if (!t_failed) {
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd)) {
			/* best effort: the runner removes TMPDIR anyway */
		}
	}
	return t_exit();
}
