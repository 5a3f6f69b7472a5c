// SPDX-License-Identifier: MIT
/*
 * Transactions as JSON lines, and as a Chrome trace-event file that opens
 * in Perfetto UI: each transaction an async slice ("b"/"e" with its own
 * id) named after its channel, so overlapping transfers stack on their
 * channel's track; throughput and rate as counters ("C"); gaps from lost
 * events as global instant events ("i").  Timestamps are microseconds
 * with nanosecond decimals, printed from integers so nothing is rounded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "json.h"
#include "dmakit/trace.h"

struct dmakit_trace_timeline {
	FILE *f;
	uint64_t next_id;
	bool first;
};

void dmakit_trace_xact_write_json(FILE *f, const struct dmakit_trace_xact *x)
{
	struct dmakit_json j;

	dmakit_json_init(&j, f, false);
	dmakit_json_obj_begin(&j, NULL);
	dmakit_json_u64(&j, "start_ns", x->start_ns);
	dmakit_json_u64(&j, "end_ns", x->end_ns);
	dmakit_json_u64(&j, "latency_ns", x->latency_ns);
	dmakit_json_i64(&j, "cpu", x->end_cpu);
	dmakit_json_i64(&j, "tid", x->start_tid);
	dmakit_json_i64(&j, "start_cpu", x->start_cpu);
	dmakit_json_i64(&j, "end_tid", x->end_tid);
	if (x->vector >= 0)
		dmakit_json_i64(&j, "vector", x->vector);
	else
		dmakit_json_str(&j, "vector", NULL);
	if (x->flags & DMAKIT_TRACE_F_BYTES)
		dmakit_json_u64(&j, "bytes", x->bytes);
	else
		dmakit_json_str(&j, "bytes", NULL);
	if (x->flags & DMAKIT_TRACE_F_ID)
		dmakit_json_u64(&j, "id", x->id);
	if (x->flags & DMAKIT_TRACE_F_STATUS)
		dmakit_json_i64(&j, "status", x->status);
	dmakit_json_u64(&j, "chan", x->chan);
	dmakit_json_u64(&j, "batch", x->batch);
	dmakit_json_u64(&j, "start_site", x->start_site);
	dmakit_json_u64(&j, "end_site", x->end_site);
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

/* ns -> "123.456" microseconds */
static void put_us(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

static void sep(struct dmakit_trace_timeline *tl)
{
	fputs(tl->first ? "\n" : ",\n", tl->f);
	tl->first = false;
}

int dmakit_trace_timeline_open(struct dmakit_trace_timeline **tlp,
			       const char *path, char *errmsg, size_t errlen)
{
	struct dmakit_trace_timeline *tl = calloc(1, sizeof(*tl));

	if (!tl)
		return dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
	tl->f = fopen(path, "w");
	if (!tl->f) {
		int ret = -errno;

		free(tl);
		return dmakit_errf(errmsg, errlen, ret, "%s: %s", path,
				   strerror(-ret));
	}
	tl->first = true;
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", tl->f);
	sep(tl);
	fputs("{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_name\","
	      "\"args\":{\"name\":\"dmakit trace\"}}", tl->f);
	*tlp = tl;
	return 0;
}

void dmakit_trace_timeline_xact(struct dmakit_trace_timeline *tl,
				const struct dmakit_trace_xact *x)
{
	char name[64];
	uint64_t id = ++tl->next_id;
	int k;

	if (x->chan)
		snprintf(name, sizeof(name), "channel %#" PRIx64, x->chan);
	else if (x->vector >= 0)
		snprintf(name, sizeof(name), "DMA (irq %d)", x->vector);
	else
		snprintf(name, sizeof(name), "DMA");
	for (k = 0; k < 2; k++) {
		sep(tl);
		fprintf(tl->f, "{\"ph\":\"%c\",\"cat\":\"dma\",\"name\":\"%s\","
			"\"id\":\"0x%" PRIx64 "\",\"pid\":1,\"tid\":%d,\"ts\":",
			k ? 'e' : 'b', name, id, k ? x->end_tid : x->start_tid);
		put_us(tl->f, k ? x->end_ns : x->start_ns);
		if (!k) {
			fprintf(tl->f, ",\"args\":{\"latency_ns\":%" PRIu64
				",\"batch\":%u", x->latency_ns, x->batch);
			if (x->flags & DMAKIT_TRACE_F_BYTES)
				fprintf(tl->f, ",\"bytes\":%" PRIu64, x->bytes);
			if (x->flags & DMAKIT_TRACE_F_ID)
				fprintf(tl->f, ",\"id\":%" PRIu64, x->id);
			if (x->vector >= 0)
				fprintf(tl->f, ",\"vector\":%d", x->vector);
			fputc('}', tl->f);
		}
		fputc('}', tl->f);
	}
}

void dmakit_trace_timeline_counter(struct dmakit_trace_timeline *tl,
				   uint64_t ts_ns, double bytes_per_s,
				   double xacts_per_s)
{
	sep(tl);
	fputs("{\"ph\":\"C\",\"pid\":1,\"name\":\"throughput\",\"ts\":", tl->f);
	put_us(tl->f, ts_ns);
	if (bytes_per_s >= 0)
		fprintf(tl->f, ",\"args\":{\"MB/s\":%.3f}}", bytes_per_s / 1e6);
	else
		fprintf(tl->f, ",\"args\":{\"MB/s\":0}}");
	sep(tl);
	fputs("{\"ph\":\"C\",\"pid\":1,\"name\":\"transactions/s\",\"ts\":",
	      tl->f);
	put_us(tl->f, ts_ns);
	fprintf(tl->f, ",\"args\":{\"xact/s\":%.1f}}", xacts_per_s);
}

void dmakit_trace_timeline_loss(struct dmakit_trace_timeline *tl, int cpu,
				uint64_t from_ns, uint64_t to_ns,
				uint64_t count)
{
	sep(tl);
	fputs("{\"ph\":\"i\",\"s\":\"g\",\"pid\":1,\"tid\":0,"
	      "\"name\":\"lost events\",\"ts\":", tl->f);
	put_us(tl->f, from_ns);
	fprintf(tl->f, ",\"args\":{\"cpu\":%d,\"until_ns\":%" PRIu64
		",\"count\":%" PRIu64 "}}", cpu, to_ns, count);
}

int dmakit_trace_timeline_close(struct dmakit_trace_timeline *tl)
{
	int ret = 0;

	if (!tl)
		return 0;
	fputs("\n]}\n", tl->f);
	if (ferror(tl->f))
		ret = -EIO;
	if (fclose(tl->f) && !ret)
		ret = -errno;
	free(tl);
	return ret;
}
