// SPDX-License-Identifier: MIT
/*
 * dmakit_export_sigmf(): a SigMF metadata file (.sigmf-meta, SigMF 1.2)
 * describing a finished recording's data file as a Non-Conforming Dataset
 * (core:dataset names it), so SigMF tools read the samples in place.
 *
 * The data file holds buffer k in slot k (bufsize bytes, len of them
 * valid).  Samples are numbered over the valid bytes only: a capture
 * starts at the first buffer, after every gap (buffers the source lost:
 * core:global_index jumps by their samples) and after every short buffer
 * (the rest of its slot is not samples: the next capture's
 * core:header_bytes skips it; after the last buffer, core:trailing_bytes).
 * core:datetime is the host's clock at the capture's first sample: the
 * time its buffer completed, less the buffer's duration at the sample
 * rate.  Buffers the source flagged as DMA errors become annotations.
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
#include "json.h"
#include "meta.h"
#include "sink.h"

#define SIGMF_VERSION	"1.2.0"
#define META_MAX	(1 << 20)

struct capture {
	uint64_t sample_start, global_index, header_bytes;
	int64_t realtime_ns;
};

struct annotation {
	uint64_t sample_start, count, seq, entry;
};

struct exporter {
	struct rec_meta *m;
	struct dmakit_idx_header hdr;
	unsigned int sample_size;
	struct capture *caps;
	size_t ncaps, caps_cap;
	struct annotation *anns;
	size_t nanns, anns_cap;
	uint64_t samples;		/* valid samples in the data file */
	uint64_t trailing_bytes;	/* bytes after the last valid sample */
};

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t want;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : 64;
	p = realloc(*arr, want * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = want;
	return 0;
}

static char *read_text(const char *path, int *err)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f) {
		*err = -errno;
		return NULL;
	}
	buf = malloc(META_MAX + 1);
	if (!buf) {
		fclose(f);
		*err = -ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, META_MAX, f);
	*err = ferror(f) ? -EIO : 0;
	fclose(f);
	if (*err) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Size of the data file or device at @path, or -errno. */
static int64_t data_size(const char *path)
{
	struct stat sb;
	int fd;
	off_t end;

	if (stat(path, &sb))
		return -errno;
	if (S_ISREG(sb.st_mode))
		return (int64_t)sb.st_size;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	end = lseek(fd, 0, SEEK_END);
	close(fd);
	return end < 0 ? -errno : (int64_t)end;
}

/* Walk the index: captures and annotations. */
static int scan_index(struct exporter *x, FILE *idx, const char *idx_path,
		      int64_t size, char *err, size_t errlen)
{
	const struct dmakit_idx_header *h = &x->hdr;
	const uint64_t per_buf = h->bufsize / x->sample_size;
	uint64_t k = 0, first_seq = 0, pad = 0, end = 0;
	bool need_capture = true;
	struct dmakit_idx_entry e;

	while (fread(&e, sizeof(e), 1, idx) == 1) {
		uint64_t n;

		if (dmakit_idx_is_trailer(&e))
			break;
		if (!dmakit_idx_entry_ok(&e, k, h->bufsize))
			return dmakit_errf(err, errlen, -EINVAL,
					   "%s: entry %llu is corrupt: 'dmakit verify' tells more",
					   idx_path, (unsigned long long)k);
		if (k == 0)
			first_seq = e.seq;
		else if (e.lost)
			need_capture = true;	/* a gap */
		if (pad)
			need_capture = true;	/* after a short slot */
		n = e.len / x->sample_size;
		if (n && need_capture) {
			struct capture *c;
			double dur = x->m->samples.rate > 0 ?
				     (double)n / x->m->samples.rate : 0;

			if (grow((void **)&x->caps, &x->caps_cap, x->ncaps,
				 sizeof(*c)))
				return dmakit_errf(err, errlen, -ENOMEM,
						   "out of memory");
			c = &x->caps[x->ncaps++];
			c->sample_start = x->samples;
			c->global_index = (e.seq - first_seq) * per_buf;
			c->header_bytes = pad;
			c->realtime_ns = (int64_t)h->start_realtime_ns +
					 ((int64_t)e.host_ts -
					  (int64_t)h->start_mono_ns) -
					 (int64_t)(dur * 1e9);
			need_capture = false;
			pad = 0;
		}
		if (e.flags & DMAKIT_DESC_F_DMA_ERR) {
			struct annotation *a;

			if (grow((void **)&x->anns, &x->anns_cap, x->nanns,
				 sizeof(*a)))
				return dmakit_errf(err, errlen, -ENOMEM,
						   "out of memory");
			a = &x->anns[x->nanns++];
			a->sample_start = x->samples;
			a->count = n;
			a->seq = e.seq;
			a->entry = k;
		}
		x->samples += n;
		pad += h->bufsize - n * x->sample_size;
		end = e.offset + h->bufsize;
		k++;
	}
	if (ferror(idx))
		return dmakit_errf(err, errlen, -EIO, "read %s: %s", idx_path,
				   strerror(errno));
	if ((uint64_t)size < end)
		return dmakit_errf(err, errlen, -EINVAL,
				   "the data holds %lld bytes, the index %llu slots of %u: 'dmakit verify' tells more",
				   (long long)size, (unsigned long long)k,
				   h->bufsize);
	x->trailing_bytes = pad + ((uint64_t)size - end);
	return 0;
}

static void iso_time_ns(char *buf, size_t len, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000LL);
	long frac = (long)(ns % 1000000000LL);
	struct tm tm;

	if (frac < 0) {
		frac += 1000000000L;
		t--;
	}
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, frac);
}

static char *sigmf_text(const struct exporter *x, const char *data_path,
			size_t *lenp)
{
	const struct rec_meta *m = x->m;
	struct dmakit_json j;
	char *text = NULL, *copy, tbuf[64], desc[512];
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	copy = strdup(data_path);
	if (!copy) {
		fclose(f);
		free(text);
		return NULL;
	}
	dmakit_json_init(&j, f, true);
	dmakit_json_obj_begin(&j, NULL);
	dmakit_json_obj_begin(&j, "global");
	dmakit_json_str(&j, "core:datatype", m->samples.format);
	dmakit_json_str(&j, "core:version", SIGMF_VERSION);
	if (m->samples.rate > 0)
		dmakit_json_double_exact(&j, "core:sample_rate",
					 m->samples.rate);
	dmakit_json_str(&j, "core:dataset", basename(copy));
	dmakit_json_u64(&j, "core:trailing_bytes", x->trailing_bytes);
	dmakit_json_str(&j, "core:recorder", "dmakit " DMAKIT_VERSION);
	dmakit_json_str(&j, "core:hw", m->device);
	snprintf(desc, sizeof(desc),
		 "dmakit recording: %llu buffers of %llu bytes, %llu gaps (%llu buffers lost), %llu DMA errors, result %s",
		 (unsigned long long)m->buffers,
		 (unsigned long long)m->bufsize, (unsigned long long)m->gaps,
		 (unsigned long long)m->lost,
		 (unsigned long long)m->dma_errors, m->result);
	dmakit_json_str(&j, "core:description", desc);
	dmakit_json_obj_end(&j);
	dmakit_json_arr_begin(&j, "captures");
	for (i = 0; i < x->ncaps; i++) {
		const struct capture *c = &x->caps[i];

		dmakit_json_obj_begin(&j, NULL);
		dmakit_json_u64(&j, "core:sample_start", c->sample_start);
		dmakit_json_u64(&j, "core:global_index", c->global_index);
		if (c->header_bytes)
			dmakit_json_u64(&j, "core:header_bytes",
					c->header_bytes);
		iso_time_ns(tbuf, sizeof(tbuf), c->realtime_ns);
		dmakit_json_str(&j, "core:datetime", tbuf);
		if (m->samples.has_center_freq)
			dmakit_json_double_exact(&j, "core:frequency",
						 m->samples.center_freq);
		dmakit_json_obj_end(&j);
	}
	dmakit_json_arr_end(&j);
	dmakit_json_arr_begin(&j, "annotations");
	for (i = 0; i < x->nanns; i++) {
		const struct annotation *a = &x->anns[i];

		dmakit_json_obj_begin(&j, NULL);
		dmakit_json_u64(&j, "core:sample_start", a->sample_start);
		dmakit_json_u64(&j, "core:sample_count", a->count);
		dmakit_json_str(&j, "core:label", "DMA error");
		snprintf(desc, sizeof(desc),
			 "buffer seq %llu (index entry %llu) was flagged as a DMA error by the source",
			 (unsigned long long)a->seq,
			 (unsigned long long)a->entry);
		dmakit_json_str(&j, "core:comment", desc);
		dmakit_json_obj_end(&j);
	}
	dmakit_json_arr_end(&j);
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
	free(copy);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	*lenp = len;
	return text;
}

/* DATA.sigmf-data -> DATA.sigmf-meta; anything else: DATA.sigmf-meta. */
static char *default_output(const char *path)
{
	static const char ext[] = ".sigmf-data";
	size_t n = strlen(path), e = sizeof(ext) - 1;
	char *out;

	if (n > e && !strcmp(path + n - e, ext)) {
		if (asprintf(&out, "%.*s.sigmf-meta", (int)(n - e), path) < 0)
			return NULL;
		return out;
	}
	return dmakit_sidecar_name(path, ".sigmf-meta");
}

int dmakit_export_sigmf(const char *path,
			const struct dmakit_export_opts *opts,
			struct dmakit_export_report *rep, char *err,
			size_t errlen)
{
	const char *prefix = opts && opts->sidecar ? opts->sidecar : path;
	struct exporter x = { 0 };
	struct dmakit_verify_report vrep;
	char *meta_path = NULL, *idx_path = NULL, *text = NULL, *out = NULL;
	char *sigmf = NULL;
	FILE *idx = NULL;
	size_t len;
	int64_t size;
	int ret, size_ret;

	if (err && errlen)
		err[0] = '\0';
	memset(rep, 0, sizeof(*rep));
	meta_path = dmakit_sidecar_name(prefix, ".json");
	idx_path = dmakit_sidecar_name(prefix, ".idx");
	out = opts && opts->output ? strdup(opts->output) :
	      default_output(path);
	x.m = calloc(1, sizeof(*x.m));
	if (!meta_path || !idx_path || !out || !x.m) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto done;
	}
	text = read_text(meta_path, &ret);
	if (!text) {
		ret = dmakit_errf(err, errlen, ret, "read %s: %s", meta_path,
				  dmakit_strerror(ret));
		goto done;
	}
	if (rec_meta_parse(x.m, text)) {
		ret = dmakit_errf(err, errlen, -EINVAL,
				  "%s is not a dmakit recording's metadata",
				  meta_path);
		goto done;
	}
	if (!strcmp(x.m->result, "recording")) {
		ret = dmakit_errf(err, errlen, -EINVAL,
				  "%s was not finished: 'dmakit recover' finishes it",
				  path);
		goto done;
	}
	/* the metadata is trusted only as far as verify would trust it */
	ret = rec_verify_index(path, opts ? opts->sidecar : NULL, &vrep, err,
			       errlen);
	if (ret)
		goto done;
	if (!vrep.ok) {
		ret = dmakit_errf(err, errlen, -EINVAL,
				  "%s: %s ('dmakit verify' tells more)", path,
				  vrep.message);
		goto done;
	}
	if (!x.m->samples.format[0]) {
		ret = dmakit_errf(err, errlen, -ENODATA,
				  "%s has no sample format (it was recorded without --sample-format): SigMF needs the sample type and it is not guessed; record with --sample-format (cf32_le, ci16_le, ...)",
				  path);
		goto done;
	}
	ret = dmakit_sample_size(x.m->samples.format);
	if (ret < 0) {
		ret = dmakit_errf(err, errlen, -EINVAL,
				  "%s: sample format '%s' is not a SigMF format",
				  meta_path, x.m->samples.format);
		goto done;
	}
	x.sample_size = (unsigned int)ret;
	idx = fopen(idx_path, "re");
	if (!idx) {
		ret = -errno;
		ret = dmakit_errf(err, errlen, ret, "open %s: %s", idx_path,
				  dmakit_strerror(ret));
		goto done;
	}
	if (fread(&x.hdr, sizeof(x.hdr), 1, idx) != 1 ||
	    memcmp(x.hdr.magic, DMAKIT_IDX_MAGIC, sizeof(x.hdr.magic)) ||
	    x.hdr.version != DMAKIT_IDX_VERSION ||
	    dmakit_idx_header_crc(&x.hdr) != x.hdr.header_crc32c ||
	    x.hdr.bufsize != x.m->bufsize) {
		ret = dmakit_errf(err, errlen, -EINVAL,
				  "%s is not a format %d dmakit index matching %s",
				  idx_path, DMAKIT_IDX_VERSION, meta_path);
		goto done;
	}
	size = data_size(path);
	if (size < 0) {
		size_ret = (int)size;
		ret = dmakit_errf(err, errlen, size_ret, "%s: %s", path,
				  dmakit_strerror(size_ret));
		goto done;
	}
	ret = scan_index(&x, idx, idx_path, size, err, errlen);
	if (ret)
		goto done;
	if (!(opts && opts->force) && !access(out, F_OK)) {
		ret = dmakit_errf(err, errlen, -EEXIST,
				  "%s exists (--force replaces it)", out);
		goto done;
	}
	sigmf = sigmf_text(&x, path, &len);
	if (!sigmf) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto done;
	}
	ret = rec_meta_replace(out, "tmp", sigmf, len);
	if (ret) {
		ret = dmakit_errf(err, errlen, ret, "write %s: %s", out,
				  dmakit_strerror(ret));
		goto done;
	}
	snprintf(rep->output, sizeof(rep->output), "%s", out);
	rep->captures = x.ncaps;
	rep->annotations = x.nanns;
	rep->samples = x.samples;
done:
	if (idx)
		fclose(idx);
	free(sigmf);
	free(text);
	free(out);
	free(meta_path);
	free(idx_path);
	free(x.caps);
	free(x.anns);
	free(x.m);
	return ret;
}
