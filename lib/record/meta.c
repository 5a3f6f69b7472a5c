// SPDX-License-Identifier: MIT
/*
 * The recording's metadata document: written from a struct rec_meta by
 * the sink and by recovery, parsed back by recovery (see meta.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "json.h"
#include "meta.h"
#include "dmakit/recording.h"

void rec_iso_time(char *buf, size_t len, uint64_t realtime_ns)
{
	time_t t = (time_t)(realtime_ns / 1000000000ULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec,
		 (unsigned int)(realtime_ns % 1000000000ULL / 1000000));
}

char *rec_meta_text(const struct rec_meta *m, size_t *lenp)
{
	struct dmakit_json j;
	char tbuf[80], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	dmakit_json_init(&j, f, true);
	dmakit_json_obj_begin(&j, NULL);
	dmakit_json_str(&j, "format", "dmakit-recording");
	dmakit_json_u64(&j, "version", DMAKIT_IDX_VERSION);
	dmakit_json_str(&j, "data", m->data);
	dmakit_json_str(&j, "index", m->index);
	dmakit_json_str(&j, "target", m->target);
	dmakit_json_str(&j, "device", m->device);
	dmakit_json_str(&j, "device_kind", m->device_kind);
	dmakit_json_u64(&j, "bufsize", m->bufsize);
	dmakit_json_u64(&j, "nbufs", m->nbufs);
	dmakit_json_str(&j, "policy", m->policy);
	dmakit_json_str(&j, "payload", m->payload);
	dmakit_json_u64(&j, "source_rate", m->source_rate);
	dmakit_json_u64(&j, "dev_clock_hz", m->dev_clock_hz);
	dmakit_json_u64(&j, "stream_id", m->stream_id);
	dmakit_json_str(&j, "engine", m->engine);
	dmakit_json_str(&j, "engine_requested", m->engine_requested);
	dmakit_json_bool(&j, "direct", m->direct);
	dmakit_json_bool(&j, "registered", m->registered);
	dmakit_json_u64(&j, "queue_depth", m->queue_depth);
	dmakit_json_u64(&j, "preallocated", m->preallocated);
	if (m->samples.format[0]) {
		dmakit_json_str(&j, "sample_format", m->samples.format);
		dmakit_json_double_exact(&j, "sample_rate", m->samples.rate);
		if (m->samples.has_center_freq)
			dmakit_json_double_exact(&j, "center_freq",
					   m->samples.center_freq);
	}
	rec_iso_time(tbuf, sizeof(tbuf), m->start_realtime_ns);
	dmakit_json_str(&j, "start_time", tbuf);
	dmakit_json_u64(&j, "start_realtime_ns", m->start_realtime_ns);
	dmakit_json_u64(&j, "start_mono_ns", m->start_mono_ns);
	if (m->end_realtime_ns) {
		rec_iso_time(tbuf, sizeof(tbuf), m->end_realtime_ns);
		dmakit_json_str(&j, "end_time", tbuf);
		dmakit_json_u64(&j, "end_realtime_ns", m->end_realtime_ns);
	}
	dmakit_json_double(&j, "seconds", m->seconds);
	dmakit_json_bool(&j, "finished", m->finished);
	dmakit_json_u64(&j, "buffers", m->buffers);
	dmakit_json_u64(&j, "bytes", m->bytes);
	dmakit_json_u64(&j, "first_seq", m->first_seq);
	dmakit_json_u64(&j, "last_seq", m->last_seq);
	dmakit_json_u64(&j, "gaps", m->gaps);
	dmakit_json_u64(&j, "lost", m->lost);
	dmakit_json_u64(&j, "lost_before", m->lost_before);
	dmakit_json_u64(&j, "empty", m->empty);
	dmakit_json_u64(&j, "truncated", m->truncated);
	dmakit_json_u64(&j, "dma_errors", m->dma_errors);
	dmakit_json_u64(&j, "dropped", m->dropped);
	dmakit_json_u64(&j, "not_recorded", m->not_recorded);
	dmakit_json_double(&j, "bytes_per_s", m->seconds > 0 ?
			   (double)m->bytes / m->seconds : 0);
	dmakit_json_u64(&j, "write_us_max", m->write_us_max);
	dmakit_json_u64(&j, "write_us_mean", m->write_us_mean);
	dmakit_json_i64(&j, "checkpoint_ms", m->checkpoint_ms);
	dmakit_json_u64(&j, "checkpoints", m->checkpoints);
	dmakit_json_u64(&j, "checkpoint_buffers", m->checkpoint_buffers);
	dmakit_json_u64(&j, "checkpoint_last_seq", m->checkpoint_last_seq);
	dmakit_json_double(&j, "checkpoint_seconds", m->checkpoint_seconds);
	dmakit_json_str(&j, "result", m->result);
	dmakit_json_str(&j, "error", m->error);
	if (m->recovered) {
		dmakit_json_str(&j, "previous_result", m->previous_result);
		dmakit_json_u64(&j, "recovered_dropped_entries",
				m->recovered_dropped_entries);
		dmakit_json_u64(&j, "recovered_trimmed_bytes",
				m->recovered_trimmed_bytes);
		dmakit_json_str(&j, "recovered_note", m->recovered_note);
	}
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	*lenp = len;
	return text;
}

uint32_t rec_meta_crc(const char *text, size_t len)
{
	return dmakit_crc32c(0, text, len);
}

uint8_t rec_meta_field_fp(const char *key, size_t klen, const char *val,
			  size_t vlen)
{
	uint32_t crc = dmakit_crc32c(0, key, klen);

	crc = dmakit_crc32c(crc, ":", 1);
	return (uint8_t)dmakit_crc32c(crc, val, vlen);
}

struct fields_fill {
	uint8_t *out;
	size_t n, i;
};

static void fields_fill_one(void *ctx, const char *key, size_t klen,
			    const char *val, size_t vlen)
{
	struct fields_fill *f = ctx;

	if (f->i < f->n)
		f->out[f->i] = rec_meta_field_fp(key, klen, val, vlen);
	f->i++;
}

void rec_meta_fields(const char *text, uint8_t *out, size_t n)
{
	struct fields_fill f = { .out = out, .n = n };

	memset(out, 0, n);
	dmakit_json_each(text, fields_fill_one, &f);
}

#define GET_STR(key, field) \
	dmakit_json_get_str(text, key, m->field, sizeof(m->field))
#define GET_U64(key, field) dmakit_json_get_u64(text, key, &m->field)

int rec_meta_parse(struct rec_meta *m, const char *text)
{
	double d;
	uint64_t u;
	char fmt[32];

	if (dmakit_json_get_str(text, "format", fmt, sizeof(fmt)) ||
	    strcmp(fmt, "dmakit-recording") || GET_STR("result", result))
		return -EINVAL;
	GET_STR("data", data);
	GET_STR("index", index);
	GET_STR("target", target);
	GET_STR("device", device);
	GET_STR("device_kind", device_kind);
	GET_STR("policy", policy);
	GET_STR("payload", payload);
	GET_STR("engine", engine);
	GET_STR("engine_requested", engine_requested);
	GET_STR("error", error);
	GET_U64("bufsize", bufsize);
	GET_U64("nbufs", nbufs);
	GET_U64("source_rate", source_rate);
	GET_U64("dev_clock_hz", dev_clock_hz);
	GET_U64("stream_id", stream_id);
	GET_U64("queue_depth", queue_depth);
	GET_U64("preallocated", preallocated);
	GET_U64("start_realtime_ns", start_realtime_ns);
	GET_U64("start_mono_ns", start_mono_ns);
	GET_U64("end_realtime_ns", end_realtime_ns);
	GET_U64("buffers", buffers);
	GET_U64("bytes", bytes);
	GET_U64("first_seq", first_seq);
	GET_U64("last_seq", last_seq);
	GET_U64("gaps", gaps);
	GET_U64("lost", lost);
	GET_U64("lost_before", lost_before);
	GET_U64("empty", empty);
	GET_U64("truncated", truncated);
	GET_U64("dma_errors", dma_errors);
	GET_U64("dropped", dropped);
	GET_U64("not_recorded", not_recorded);
	GET_U64("write_us_max", write_us_max);
	GET_U64("write_us_mean", write_us_mean);
	GET_U64("checkpoints", checkpoints);
	GET_U64("checkpoint_buffers", checkpoint_buffers);
	GET_U64("checkpoint_last_seq", checkpoint_last_seq);
	if (!dmakit_json_get_u64(text, "checkpoint_ms", &u))
		m->checkpoint_ms = (int64_t)u;
	else if (!dmakit_json_get_double(text, "checkpoint_ms", &d))
		m->checkpoint_ms = (int64_t)d;	/* negative */
	dmakit_json_get_double(text, "checkpoint_seconds",
			       &m->checkpoint_seconds);
	dmakit_json_get_double(text, "seconds", &m->seconds);
	dmakit_json_get_bool(text, "direct", &m->direct);
	dmakit_json_get_bool(text, "registered", &m->registered);
	dmakit_json_get_bool(text, "finished", &m->finished);
	GET_STR("sample_format", samples.format);
	dmakit_json_get_double(text, "sample_rate", &m->samples.rate);
	m->samples.has_center_freq =
		!dmakit_json_get_double(text, "center_freq",
					&m->samples.center_freq);
	return 0;
}

int rec_write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENOSPC;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int rec_fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) && errno != EINVAL)
		ret = -errno;
	close(fd);
	return ret;
}

/* rec_meta_commit(), the directory's fsync only if @sync_dir */
static int meta_commit(int tmp_fd, const char *tmp_path, const char *path,
		       const char *text, size_t len, bool sync_dir)
{
	int ret = rec_write_all(tmp_fd, text, len, 0);

	if (!ret && ftruncate(tmp_fd, (off_t)len))
		ret = -errno;
	if (!ret && fsync(tmp_fd))
		ret = -errno;
	close(tmp_fd);
	if (!ret && rename(tmp_path, path))
		ret = -errno;
	if (!ret && sync_dir)
		ret = rec_fsync_dir_of(path);
	return ret;
}

int rec_meta_commit(int tmp_fd, const char *tmp_path, const char *path,
		    const char *text, size_t len)
{
	return meta_commit(tmp_fd, tmp_path, path, text, len, true);
}

/* rec_meta_replace() and rec_meta_publish(): "<path>.<suffix>" made here */
static int meta_replace(const char *path, const char *suffix,
			const char *text, size_t len, bool sync_dir)
{
	char *tmp;
	int fd, ret;

	if (asprintf(&tmp, "%s.%s", path, suffix) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		free(tmp);
		return ret;
	}
	ret = meta_commit(fd, tmp, path, text, len, sync_dir);
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

int rec_meta_publish(const char *path, const char *suffix, const char *text,
		     size_t len)
{
	return meta_replace(path, suffix, text, len, false);
}

int rec_meta_replace(const char *path, const char *suffix, const char *text,
		     size_t len)
{
	return meta_replace(path, suffix, text, len, true);
}
