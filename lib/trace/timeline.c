// SPDX-License-Identifier: MIT
/*
 * Transactions as JSON lines, and as a Chrome trace-event file that opens
 * in Perfetto UI: each transaction an async slice ("b"/"e" with its own
 * id) named after its channel (a thread's channel by the thread's name),
 * so overlapping transfers stack on their channel's track; a transaction
 * closed by an end that closed several starts is named so ("batch of N");
 * interrupts as instant events on one track per vector; throughput (only
 * when sizes are known) and rate as counters ("C"); gaps from lost events
 * as slices spanning the gap on a "lost events" track.  Timestamps are
 * microseconds with nanosecond decimals, printed from integers so nothing
 * is rounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "json.h"
#include "dmakit/trace.h"
#include "trace_internal.h"

/* Track ids (the "tid" of Chrome's format) beyond any real thread id. */
#define TRACK_LOST	0x40000000
#define TRACK_IRQ	0x40000001	/* + IRQ number */

/* A thread seen as a channel, named once from /proc while it lives. */
struct thread_name {
	int32_t tid;
	char comm[20];
};

struct dmakit_trace_timeline {
	FILE *f;
	uint64_t next_id;
	bool first;
	struct thread_name *threads;
	size_t nthreads;
	unsigned int *irqs;		/* vectors whose track is named */
	size_t nirqs;
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
	/* its end closed other starts too: the end may not be its own */
	dmakit_json_bool(&j, "batched", x->batch > 1);
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
	sep(tl);
	fprintf(tl->f, "{\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"name\":\"thread_name\","
		"\"args\":{\"name\":\"lost events\"}}", TRACK_LOST);
	*tlp = tl;
	return 0;
}

/*
 * The name of a thread gone already: tracing keeps the names of tasks
 * that ran while events were on (the record-cmd option) in
 * saved_cmdlines, "PID COMM" lines.
 */
static bool saved_comm(int32_t tid, char **comm)
{
	static const char *const files[] = {
		"/sys/kernel/tracing/saved_cmdlines",
		"/sys/kernel/debug/tracing/saved_cmdlines",
	};
	char *text, *line;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (dmakit_read_text(files[i], &text, NULL))
			continue;
		for (line = text; line && *line;
		     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			char *end;
			long pid = strtol(line, &end, 10);

			if (end != line && pid == tid && *end == ' ') {
				size_t len = strcspn(++end, "\n");

				memmove(text, end, len);
				text[len] = '\0';
				*comm = text;
				return true;
			}
		}
		free(text);
	}
	return false;
}

/* A thread's name, looked up the first time it is seen ("" if unknown). */
static const char *thread_comm(struct dmakit_trace_timeline *tl, int32_t tid)
{
	struct thread_name *grown, *t;
	char path[64], *text;
	size_t i;

	for (i = 0; i < tl->nthreads; i++)
		if (tl->threads[i].tid == tid)
			return tl->threads[i].comm;
	grown = realloc(tl->threads, (tl->nthreads + 1) * sizeof(*grown));
	if (!grown)
		return "";
	tl->threads = grown;
	t = &tl->threads[tl->nthreads++];
	t->tid = tid;
	t->comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)tid);
	if (!dmakit_read_text(path, &text, NULL) || saved_comm(tid, &text)) {
		text[strcspn(text, "\n")] = '\0';
		/* a JSON string: keep printable characters other than quotes */
		for (i = 0; text[i] && i + 1 < sizeof(t->comm); i++)
			t->comm[i] = (text[i] >= 0x20 && text[i] < 0x7f &&
				      text[i] != '"' && text[i] != '\\') ?
				     text[i] : '_';
		t->comm[i] = '\0';
		free(text);
	}
	return t->comm;
}

void dmakit_trace_timeline_xact(struct dmakit_trace_timeline *tl,
				const struct dmakit_trace_xact *x)
{
	char name[64];
	uint64_t id = ++tl->next_id;
	int k;

	/* per-thread pairing: the channel key is the thread id */
	if (x->chan && x->start_tid > 0 && x->chan == (uint64_t)x->start_tid) {
		const char *comm = thread_comm(tl, x->start_tid);

		snprintf(name, sizeof(name), "thread %s%s%d%s", comm,
			 *comm ? " (" : "", x->start_tid, *comm ? ")" : "");
	} else if (x->chan) {
		snprintf(name, sizeof(name), "channel %" PRIu64, x->chan);
	} else if (x->vector >= 0) {
		snprintf(name, sizeof(name), "DMA (irq %d)", x->vector);
	} else {
		snprintf(name, sizeof(name), "DMA");
	}
	/* its end may belong to another start: say so where it is drawn */
	if (x->batch > 1) {
		size_t n = strlen(name);

		snprintf(name + n, sizeof(name) - n, ", batch of %u", x->batch);
	}
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
	/* unknown sizes draw no throughput at all, not a false zero */
	if (bytes_per_s >= 0) {
		sep(tl);
		fputs("{\"ph\":\"C\",\"pid\":1,\"name\":\"throughput\",\"ts\":",
		      tl->f);
		put_us(tl->f, ts_ns);
		fprintf(tl->f, ",\"args\":{\"MB/s\":%.3f}}", bytes_per_s / 1e6);
	}
	sep(tl);
	fputs("{\"ph\":\"C\",\"pid\":1,\"name\":\"transactions/s\",\"ts\":",
	      tl->f);
	put_us(tl->f, ts_ns);
	fprintf(tl->f, ",\"args\":{\"xact/s\":%.1f}}", xacts_per_s);
}

/* a name inside a JSON string: quotes, backslashes and controls left out */
static void put_plain(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
			fputc(*s, f);
}

void dmakit_trace_timeline_value(struct dmakit_trace_timeline *tl,
				 uint64_t ts_ns, const char *track,
				 const char *unit, double value)
{
	sep(tl);
	fputs("{\"ph\":\"C\",\"pid\":1,\"name\":\"", tl->f);
	put_plain(tl->f, track);
	fputs("\",\"ts\":", tl->f);
	put_us(tl->f, ts_ns);
	fputs(",\"args\":{\"", tl->f);
	put_plain(tl->f, unit && *unit ? unit : "value");
	fprintf(tl->f, "\":%.6g}}", value);
}

void dmakit_trace_timeline_loss(struct dmakit_trace_timeline *tl, int cpu,
				uint64_t from_ns, uint64_t to_ns,
				uint64_t count)
{
	sep(tl);
	fprintf(tl->f, "{\"ph\":\"X\",\"pid\":1,\"tid\":%d,"
		"\"name\":\"lost events (cpu %d)\",\"ts\":", TRACK_LOST, cpu);
	put_us(tl->f, from_ns);
	fputs(",\"dur\":", tl->f);
	put_us(tl->f, to_ns > from_ns ? to_ns - from_ns : 0);
	fprintf(tl->f, ",\"args\":{\"cpu\":%d,\"from_ns\":%" PRIu64
		",\"until_ns\":%" PRIu64 ",\"count\":", cpu, from_ns, to_ns);
	if (count == DMAKIT_TRACE_COUNT_UNKNOWN)
		fputs("null}}", tl->f);
	else
		fprintf(tl->f, "%" PRIu64 "}}", count);
}

void dmakit_trace_timeline_irq(struct dmakit_trace_timeline *tl,
			       uint64_t ts_ns, int cpu, unsigned int irq,
			       const char *name)
{
	unsigned int *grown;
	size_t i;

	for (i = 0; i < tl->nirqs && tl->irqs[i] != irq; i++)
		;
	if (i == tl->nirqs &&
	    (grown = realloc(tl->irqs, (tl->nirqs + 1) * sizeof(*grown)))) {
		tl->irqs = grown;
		tl->irqs[tl->nirqs++] = irq;
		sep(tl);
		fprintf(tl->f, "{\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
			"\"name\":\"thread_name\",\"args\":{\"name\":\"irq %u",
			TRACK_IRQ + irq, irq);
		if (name && *name) {
			fputc(' ', tl->f);
			put_plain(tl->f, name);
		}
		fputs("\"}}", tl->f);
	}
	sep(tl);
	fprintf(tl->f, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%u,"
		"\"name\":\"irq %u\",\"ts\":", TRACK_IRQ + irq, irq);
	put_us(tl->f, ts_ns);
	fprintf(tl->f, ",\"args\":{\"cpu\":%d}}", cpu);
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
	free(tl->threads);
	free(tl->irqs);
	free(tl);
	return ret;
}
