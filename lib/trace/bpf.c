// SPDX-License-Identifier: MIT
/*
 * The BPF backend of a tracing session: bpf/trace.bpf.c (compiled at
 * build time against the running kernel's BTF, embedded as a bpftool
 * skeleton, relocated by libbpf CO-RE on the machine it runs on) pairs
 * starts and ends in the kernel and hands completed transactions over a
 * BPF ring buffer; this file configures it from what session.c resolved,
 * attaches it, and turns its records and counters into the session's
 * transactions and statistics.
 *
 * What it pairs is what pair.c pairs for the same SPECs: by (channel,
 * id), or first-in first-out per thread when every event is
 * thread-synchronous.  The shapes the kernel side does not pair
 * (interrupt batches, FIFO across threads, tracepoint filters) are
 * streamed: the program hands every event over the ring buffer, this file
 * puts them in time order, applies the SPECs' filters with libtraceevent
 * (a tracefs "filter" file does not filter what a BPF program attached to
 * the tracepoint sees) and feeds them to pair.c through feed.c, as the
 * tracefs backend does.
 *
 * The uprobes session.c defined in tracefs (for their formats) are
 * never enabled here; the BPF program attaches to the same file offsets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <elf.h>
#include <linux/capability.h>
#include <linux/types.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "session.h"
#include "bpf/trace_bpf.h"

#ifndef CAP_BPF			/* Linux 5.8 */
#define CAP_PERFMON	38
#define CAP_BPF		39
#endif
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "trace.skel.h"
#pragma GCC diagnostic pop

#define SWEEP_PERIOD_NS	1000000000ULL
/*
 * Streaming: read every 10 ms (a few hundred KiB at a million events a
 * second, against a ring of --buffer-kb x CPUs).
 */
#define STREAM_POLL_PERIOD_MS 10

_Static_assert(DTB_HIST_SLOTS == DMAKIT_TRACE_KHIST_SLOTS,
	       "the kernel's histogram is the public one");

/* A streamed event (or gap) waiting for its turn, in time order. */
struct queued {
	struct pending p;
};

struct dmakit_trace_bpf {
	struct trace_bpf *skel;
	bool stream;			/* every event to user space */
	struct tep_event_filter *filter[DTB_MAX_TYPES]; /* NULL: none */
	struct queued *q;		/* streamed, not yet fed */
	size_t qlen, qcap;
	uint64_t events;		/* streamed events fed (after filters) */
	uint64_t unreadable;		/* records a filter could not be run on */
	uint64_t missed_seen;		/* @missed already reported as a gap */
	uint64_t missed_at;		/* when it was last looked at */
	struct bpf_link *links[DTB_MAX_TYPES];
	int nlinks;
	struct ring_buffer *rb;
	int ncpus;			/* possible CPUs: per-CPU value count */
	uint64_t delivered;		/* transactions read from the ring */
	uint64_t unmatched, inflight, discarded; /* found in user space */
	uint64_t last_sweep;
	uint64_t c[DTB_NCOUNTERS];	/* the kernel's counters, summed */
	uint64_t missed;		/* events the programs were not run for */
};

/* libbpf prints to stderr by default; a library must not. */
static int quiet_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/*
 * libbpf's print callback is process-wide and the application's own may
 * be installed: ours is set only while a session opens (loads, attaches)
 * or closes its program, and the previous one put back.  A session that
 * finds ours already set (another session's window, in another thread)
 * leaves putting back to that one, so the application's callback is never
 * lost; it may then get libbpf's messages for the rest of this window.
 */
static libbpf_print_fn_t quiet_begin(void)
{
	return libbpf_set_print(quiet_libbpf);
}

static void quiet_end(libbpf_print_fn_t prev)
{
	if (prev != quiet_libbpf)
		libbpf_set_print(prev);
}

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#else
#define HOST_MACHINE EM_NONE
#endif

static bool is_probe(const struct side *sd)
{
	return sd->spec.kind == DMAKIT_SPEC_UPROBE ||
	       sd->spec.kind == DMAKIT_SPEC_URETPROBE;
}

/*
 * Which argument of the call or USDT probe a field of a probe event is:
 * one of the SPEC's named arguments, or USDT's own argN; 0: the return
 * value, -1: neither.
 */
static int probe_argn(const struct side *sd, const struct trace_field *f)
{
	unsigned int a;

	for (a = 0; a < sd->spec.nargs; a++)
		if (!strcmp(sd->spec.arg[a].name, f->name))
			return (int)sd->spec.arg[a].argn;
	if (sd->spec.kind == DMAKIT_SPEC_USDT && !strncmp(f->name, "arg", 3) &&
	    atoi(f->name + 3) > 0)
		return atoi(f->name + 3);
	return -1;
}

/* The register index (trace_bpf.h's order) of a uprobe fetch's "%di". */
static int reg_index(const char *name, size_t len)
{
	static const char *const x86[DTB_NREGS] = {
		"ax", "bx", "cx", "dx", "si", "di", "bp", "sp", "ip",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	int i;

	for (i = 0; i < DTB_NREGS; i++)
		if (strlen(x86[i]) == len && !strncmp(x86[i], name, len))
			return i;
	return -1;
}

/* Where argument @argn of a call is at its entry: a register index. */
static int call_arg_reg(unsigned int argn)
{
#if defined(__aarch64__)
	return argn >= 1 && argn <= 8 ? (int)argn - 1 : -1;
#else
	static const char *const abi[] = { "di", "si", "dx", "cx", "r8", "r9" };

	return argn >= 1 && argn <= 6 ?
	       reg_index(abi[argn - 1], strlen(abi[argn - 1])) : -1;
#endif
}

/* A USDT argument's "%di" or "-16(%bp)" as a register (and displacement). */
static int usdt_fetch(const struct dmakit_usdt_arg *a, struct dtb_field *out)
{
	const char *p = a->fetch, *lp = strchr(p, '(');
	int reg;

	out->size = (uint8_t)a->size;
	out->is_signed = a->is_signed;
	if (p[0] == '%') {
		reg = reg_index(p + 1, strlen(p + 1));
		if (reg < 0)
			return -EINVAL;
		out->src = DTB_SRC_REG;
		out->reg = (uint8_t)reg;
		return 0;
	}
	if (!lp || lp[1] != '%' || !strchr(lp, ')'))
		return -EINVAL;
	reg = reg_index(lp + 2, (size_t)(strchr(lp, ')') - lp - 2));
	if (reg < 0)
		return -EINVAL;
	out->src = DTB_SRC_UMEM;
	out->reg = (uint8_t)reg;
	out->disp = (int32_t)strtol(p, NULL, 10);
	return 0;
}

/*
 * The program's description of one field; -EINVAL if it cannot fetch it
 * (then bpf_unsupported() says so).
 */
static int config_field(const struct evtype *t, const struct trace_field *f,
			struct dtb_field *out)
{
	const struct side *sd = t->side;
	int argn, reg;

	memset(out, 0, sizeof(*out));
	if (f->kind == TRACE_FIELD_NONE)
		return 0;
	if (f->kind == TRACE_FIELD_CONST) {
		out->src = DTB_SRC_CONST;
		out->value = f->value;
		return 0;
	}
	/* array elements and sums are read by tracefs only (for now) */
	if (f->kind == TRACE_FIELD_ELEM || f->kind == TRACE_FIELD_SUM ||
	    (f->kind == TRACE_FIELD_DYN_STR && f->loc_base))
		return -EINVAL;
	if (sd->spec.kind == DMAKIT_SPEC_USDT) {
		argn = probe_argn(sd, f);
		if (argn < 1 || !t->usdt || (unsigned int)argn > t->usdt->nargs ||
		    t->usdt->arg[argn - 1].kind != DMAKIT_USDT_ARG_FETCH)
			return -EINVAL;
		return usdt_fetch(&t->usdt->arg[argn - 1], out);
	}
	if (is_probe(sd)) {
		const struct dmakit_spec_arg *a = NULL;
		unsigned int k;
		int bits;

		for (k = 0; k < sd->spec.nargs; k++)
			if (!strcmp(sd->spec.arg[k].name, f->name))
				a = &sd->spec.arg[k];
		if (!a)
			return -EINVAL;
		bits = atoi(a->type + 1);
		out->is_signed = a->type[0] == 's';
		out->size = (uint8_t)(bits >= 8 && bits <= 64 ? bits / 8 : 8);
		if (!a->argn) {
			out->src = DTB_SRC_RETVAL;
			return 0;
		}
		reg = call_arg_reg(a->argn);
		if (reg < 0)
			return -EINVAL;
		out->src = DTB_SRC_REG;
		out->reg = (uint8_t)reg;
		return 0;
	}
	out->offset = (uint16_t)f->offset;
	out->size = (uint8_t)f->size;
	out->is_signed = f->is_signed;
	if (f->kind == TRACE_FIELD_STR)
		out->src = DTB_SRC_STR;
	else if (f->kind == TRACE_FIELD_DYN_STR)
		out->src = DTB_SRC_DYNSTR;
	else
		out->src = DTB_SRC_FIELD;
	return 0;
}

/*
 * Why the kernel does not pair this shape (NULL: it does).  By id, and
 * FIFO per thread of synchronous calls, it does; batches, FIFO across
 * threads (one order over all CPUs) and filtered events are streamed to
 * user space.
 */
static const char *stream_reason(const struct dmakit_trace_session *s)
{
	int i;

	for (i = 0; i < s->nsides; i++)
		if (s->side[i].spec.kind == DMAKIT_SPEC_IRQ)
			return "interrupts";
	if (s->close == DMAKIT_TRACE_CLOSE_ALL)
		return "batches";
	if (s->close == DMAKIT_TRACE_CLOSE_ONE && !s->one_open)
		return "fifo across threads";
	for (i = 0; i < s->nsides; i++)
		if (s->side[i].filter[0])
			return "a filter";
	return NULL;
}

static bool must_stream(const struct dmakit_trace_session *s)
{
	return stream_reason(s) != NULL;
}

static void bpf_describe(const struct dmakit_trace_session *s, char *buf,
			 size_t len)
{
	const char *why = stream_reason(s);

	if (why)
		snprintf(buf, len,
			 "the events are streamed and paired here (%s: the kernel side pairs by id or per thread only)",
			 why);
	else
		snprintf(buf, len, "the events pair in the kernel");
}

/*
 * The filter of @t's SPEC (an irq SPEC's vectors, a tracepoint's "if
 * (...)") as libtraceevent evaluates it on the record the program copies;
 * *@filterp stays NULL without one.  Returns non-zero with a sentence in
 * @buf if it cannot be evaluated so: then tracefs applies it.
 */
static int compile_filter(const struct dmakit_trace_session *s,
			  const struct evtype *t,
			  struct tep_event_filter **filterp, char *buf,
			  size_t len, uint8_t *rec_class)
{
	const struct side *sd = t->side;
	struct tep_format_field *f;
	char *text, msg[160];
	size_t end = 0;
	int ret;

	*filterp = NULL;
	if (!sd->filter[0])
		return 0;
	/* the kernel overwrites them for BPF programs (on_event()) */
	if (strstr(sd->filter, "common_flags") ||
	    strstr(sd->filter, "common_preempt_count")) {
		snprintf(buf, len,
			 "%.100s: the filter reads common_flags or common_preempt_count, which BPF programs are not given",
			 sd->spec.text);
		return -EINVAL;
	}
	for (f = t->format->format.fields; f; f = f->next) {
		if ((size_t)f->offset + (size_t)f->size > end)
			end = (size_t)f->offset + (size_t)f->size;
		/* its bytes follow the record's fixed part: maybe not copied */
		if ((f->flags & TEP_FIELD_IS_DYNAMIC) && strstr(sd->filter, f->name)) {
			snprintf(buf, len,
				 "%.100s: the filter reads the variable-length field '%s', which the BPF program does not copy",
				 sd->spec.text, f->name);
			return -EINVAL;
		}
	}
	if (end > DTB_REC_MAX) {
		snprintf(buf, len,
			 "%.100s: a filtered event's record is longer than %d bytes",
			 sd->spec.text, DTB_REC_MAX);
		return -EINVAL;
	}
	/* the smallest copy that holds the fixed part (all a filter reads) */
	for (*rec_class = 1; DTB_REC_CLASS(*rec_class) < end; (*rec_class)++)
		;
	*filterp = tep_filter_alloc(s->tep);
	if (!*filterp || asprintf(&text, "%s/%s:%s", sd->system,
				  t->format->name, sd->filter) < 0) {
		if (*filterp)
			tep_filter_free(*filterp);
		*filterp = NULL;
		snprintf(buf, len, "out of memory");
		return -ENOMEM;
	}
	ret = tep_filter_add_filter_str(*filterp, text);
	free(text);
	if (ret) {
		tep_filter_strerror(*filterp, ret, msg, sizeof(msg));
		tep_filter_free(*filterp);
		*filterp = NULL;
		snprintf(buf, len,
			 "%.100s: libtraceevent cannot evaluate the filter '%.100s' (%.100s)",
			 sd->spec.text, sd->filter, msg);
		return -EINVAL;
	}
	return 0;
}

/*
 * The kernel's verdict on the filter, as on tracefs: written to the
 * event's filter file in the session's instance (where the event is
 * never enabled).  libtraceevent alone would take a field the event does
 * not have as a filter that never matches.
 */
static int kernel_checks_filter(struct dmakit_trace_session *s,
				const struct evtype *t, char *err,
				size_t errlen)
{
	const struct side *sd = t->side;
	char file[256];

	if (!sd->filter[0])
		return 0;
	if (!s->inst)		/* set up before any backend opens */
		return dmakit_errf(err, errlen, -EINVAL, "no tracefs instance");
	snprintf(file, sizeof(file), "events/%s/%s/filter", sd->system,
		 t->format->name);
	if (tracefs_instance_file_write(s->inst, file, sd->filter) < 0)
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s:%s: the kernel rejected the filter '%s'",
				   sd->system, t->format->name, sd->filter);
	return 0;
}

static const char *bpf_unsupported(const struct dmakit_trace_session *s,
				   char *buf, size_t len)
{
	int i;

	for (i = 0; i < s->nsides; i++) {
		const struct side *sd = &s->side[i];

		switch (sd->spec.kind) {
		case DMAKIT_SPEC_UPROBE:
		case DMAKIT_SPEC_URETPROBE:
		case DMAKIT_SPEC_USDT: {
			unsigned int machine = EM_NONE;
			char e[128];

			if (dmakit_elf_machine(sd->spec.path, &machine, e, sizeof(e)) ||
			    machine != HOST_MACHINE) {
				snprintf(buf, len,
					 "%.100s is not a program of this machine's architecture",
					 sd->spec.path);
				return buf;
			}
			if (sd->spec.kind == DMAKIT_SPEC_USDT && HOST_MACHINE != EM_X86_64)
				return "USDT arguments are translated for x86-64 only";
			break;
		}
		default:
			break;
		}
	}
	if (s->ntypes > DTB_MAX_TYPES)
		return "too many events for the BPF program";
	if (s->nvecs > DTB_MAX_VECS)
		return "more interrupt vectors than the BPF program compares";
	for (i = 0; i < s->ntypes; i++) {
		const struct evtype *t = &s->types[i];
		const struct trace_field *fs[] = { &t->f_id, &t->f_bytes,
					     &t->f_status, &t->f_chan,
					     &t->f_chan2, &t->f_irq };
		struct tep_event_filter *filter = NULL;
		uint8_t rec_class;
		size_t k;

		if (!t->irq && compile_filter(s, t, &filter, buf, len, &rec_class))
			return buf;
		if (filter)
			tep_filter_free(filter);

		for (k = 0; k < sizeof(fs) / sizeof(fs[0]); k++) {
			const struct trace_field *f = fs[k];
			struct dtb_field c;

			if (config_field(t, f, &c)) {
				snprintf(buf, len,
					 "%.100s: field '%s' cannot be fetched by the BPF program",
					 t->side->spec.text, f->name);
				return buf;
			}
			if (f->kind == TRACE_FIELD_STR && f->size > DTB_STR_MAX) {
				snprintf(buf, len,
					 "%.100s: string field '%s' is longer than %d bytes",
					 t->side->spec.text, f->name, DTB_STR_MAX);
				return buf;
			}
		}
	}
	return NULL;
}

/*
 * The ring buffer: --buffer-kb per CPU (tracefs' meaning), a power of two;
 * by default at most RING_DEFAULT_MAX (a 4 MiB per CPU default would
 * take half a GiB on a 128-CPU machine; 64 MiB hold 50 ms of 10 million
 * transactions per second).
 */
#define RING_DEFAULT_MAX (64ULL << 20)

static uint32_t ring_size(const struct dmakit_trace_session *s, int ncpus)
{
	uint64_t want = (uint64_t)(s->opts.buffer_kb ? s->opts.buffer_kb :
				   DEFAULT_BUFFER_KB) * 1024 * (uint64_t)ncpus;
	uint64_t size = (uint64_t)getpagesize();

	if (!s->opts.buffer_kb && want > RING_DEFAULT_MAX)
		want = RING_DEFAULT_MAX;
	while (size < want && size < (1ULL << 30))
		size <<= 1;
	return (uint32_t)size;
}

/* --- streaming --- */

/*
 * A slot for an event or gap at @ts, in time order (ties in arrival
 * order): the ring buffer is nearly in time order, so it is nearly
 * always the last.  The caller fills it.
 */
static struct pending *enqueue(struct dmakit_trace_bpf *b, uint64_t ts)
{
	struct queued *e;
	size_t at;

	if (b->qlen == b->qcap) {
		size_t cap = b->qcap ? b->qcap * 2 : 1024;
		struct queued *q = realloc(b->q, cap * sizeof(*q));

		if (!q)
			return NULL;
		b->q = q;
		b->qcap = cap;
	}
	for (at = b->qlen; at && b->q[at - 1].p.ev.ts > ts; at--)
		;
	if (at < b->qlen)
		memmove(&b->q[at + 1], &b->q[at], (b->qlen - at) * sizeof(*b->q));
	b->qlen++;
	e = &b->q[at];
	memset(e, 0, sizeof(*e));
	e->p.ev.ts = ts;
	return &e->p;
}

/* A gap: @count events (of @cpu) between @from and @to were lost. */
static int enqueue_loss(struct dmakit_trace_bpf *b, int cpu, uint64_t from,
			uint64_t to, uint64_t count)
{
	struct pending *p = enqueue(b, from);

	if (!p)
		return -ENOMEM;
	p->loss = true;
	p->ev.ts = from;
	p->ev.cpu = cpu;
	p->loss_to = to;
	p->loss_count = count;
	return 0;
}

/* Write common field @name of a record of @ev (little or host endian). */
static void put_common(unsigned char *data, struct tep_event *ev,
		       const char *name, uint64_t v)
{
	struct tep_format_field *f = tep_find_common_field(ev, name);

	if (!f || f->offset < 0 || f->offset + f->size > DTB_REC_MAX)
		return;
	switch (f->size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(data + f->offset, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(data + f->offset, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(data + f->offset, &x, 4); break; }
	case 8: memcpy(data + f->offset, &v, 8); break;
	default: break;
	}
}

static int on_event(struct dmakit_trace_session *s, const struct dtb_event *e,
		    size_t len)
{
	struct dmakit_trace_bpf *b = s->bpf;
	const struct evtype *t;
	struct pending *p;
	int ret;

	if (len < sizeof(*e) || e->type >= (uint32_t)s->ntypes)
		return 0;
	t = &s->types[e->type];
	if (e->lost) {
		ret = enqueue_loss(b, (int)e->cpu, e->lost_from, e->ts, e->lost);
		if (ret)
			return ret;
	}
	if (b->filter[e->type]) {
		unsigned char data[DTB_REC_MAX];
		struct tep_record rec = {
			.ts = e->ts,
			.size = (int)e->rec_len,
			.cpu = (int)e->cpu,
			.data = data,
		};

		if (!e->rec_len || e->rec_len > DTB_REC_MAX ||
		    len < sizeof(*e) + e->rec_len) {
			/* not known to pass or fail: as good as lost */
			b->unreadable++;
			return enqueue_loss(b, (int)e->cpu, e->ts, e->ts, 1);
		}
		/*
		 * The kernel hands a BPF program the record with its first 8
		 * bytes (the common fields) overwritten by a pt_regs pointer:
		 * the type and the thread are put back, the filter reads
		 * no other common field (compile_filter()).
		 */
		memset(data, 0, sizeof(data));
		memcpy(data, e->rec, e->rec_len);
		put_common(data, t->format, "common_type", (uint64_t)t->format->id);
		put_common(data, t->format, "common_pid", (uint64_t)(uint32_t)e->tid);
		ret = tep_filter_match(b->filter[e->type], &rec);
		if (ret == TEP_ERRNO__FILTER_MISS)
			return 0;
		if (ret != TEP_ERRNO__FILTER_MATCH) {	/* could not evaluate */
			b->unreadable++;
			return enqueue_loss(b, (int)e->cpu, e->ts, e->ts, 1);
		}
	}
	p = enqueue(b, e->ts);
	if (!p)
		return -ENOMEM;
	p->ev.ts = e->ts;
	p->ev.role = t->role;
	p->ev.cpu = (int)e->cpu;
	p->ev.tid = e->tid;
	p->ev.vector = e->vector;
	p->ev.site = t->side->site;
	p->ev.flags = e->flags;
	p->ev.id = e->id;
	p->ev.bytes = e->bytes;
	p->ev.status = e->status;
	p->ev.chan = e->chan;
	t->side->seen++;
	b->events++;
	return 0;
}

/*
 * Feed what is queued up to @upto in time order.  The ring buffer holds
 * the CPUs' events in the order they were reserved, a few microseconds
 * from their timestamps: whatever is older than COMMIT_SLACK_NS has all
 * arrived.  Returns the events fed or -errno.
 */
static int feed_upto(struct dmakit_trace_session *s, uint64_t upto)
{
	struct dmakit_trace_bpf *b = s->bpf;
	size_t n = 0;
	int ret, fed = 0;

	while (n < b->qlen && b->q[n].p.ev.ts <= upto) {
		ret = trace_feed(s, &b->q[n].p);
		if (ret)
			return ret;
		fed += !b->q[n].p.loss;
		n++;
	}
	if (n && n < b->qlen)
		memmove(b->q, b->q + n, (b->qlen - n) * sizeof(*b->q));
	b->qlen -= n;
	if (upto != UINT64_MAX && upto > s->processed_to) {
		s->processed_to = upto;
		dmakit_trace_pairer_advance(s->pairer, upto);
	}
	return fed;
}

/*
 * Events no program ran for (one already ran on that CPU) leave no
 * trace of when or where: a gap over everything since the last look, of
 * CPU -1 (unknown).
 */
static int missed_gap(struct dmakit_trace_session *s, uint64_t now)
{
	struct dmakit_trace_bpf *b = s->bpf;
	int ret = 0;

	if (b->missed > b->missed_seen)
		ret = enqueue_loss(b, -1, b->missed_at, now,
				   b->missed - b->missed_seen);
	b->missed_seen = b->missed;
	b->missed_at = now;
	return ret;
}

/* At the end: each CPU's events lost after its last one delivered. */
static int final_loss(struct dmakit_trace_session *s)
{
	struct dmakit_trace_bpf *b = s->bpf;
	struct dtb_loss *v = calloc((size_t)b->ncpus, sizeof(*v));
	uint32_t slot;
	int cpu, ret = 0;

	if (!v)
		return -ENOMEM;
	for (slot = 0; !ret && slot < 2; slot++) {
		if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.stream_loss),
					&slot, v))
			ret = -errno;
		for (cpu = 0; !ret && cpu < b->ncpus; cpu++)
			if (v[cpu].count)
				ret = enqueue_loss(b, cpu, v[cpu].from,
						   s->st.stop_ns, v[cpu].count);
	}
	free(v);
	return ret;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct dmakit_trace_session *s = ctx;
	const struct dtb_xact *r = data;
	struct dmakit_trace_xact x;

	if (s->bpf->stream)
		return on_event(s, data, len);
	if (len < sizeof(*r))
		return 0;
	memset(&x, 0, sizeof(x));
	x.start_ns = r->start_ns;
	x.end_ns = r->end_ns;
	x.latency_ns = r->end_ns - r->start_ns;
	x.start_cpu = r->start_cpu;
	x.end_cpu = r->end_cpu;
	x.start_tid = r->start_tid;
	x.end_tid = r->end_tid;
	x.vector = -1;
	x.flags = r->flags;
	x.chan = r->chan;
	x.id = r->id;
	x.bytes = r->bytes;
	x.status = r->status;
	x.batch = 1;
	x.start_site = r->start_site;
	x.end_site = r->end_site;
	s->bpf->delivered++;
	if (s->opts.on_xact)
		s->opts.on_xact(s->opts.ctx, &x);
	return 0;
}

static int attach(struct dmakit_trace_session *s, char *err, size_t errlen)
{
	struct dmakit_trace_bpf *b = s->bpf;
	int i;

	for (i = 0; i < s->ntypes; i++) {
		const struct evtype *t = &s->types[i];
		const struct side *sd = t->side;
		struct bpf_link *link;

		if (is_probe(sd) || sd->spec.kind == DMAKIT_SPEC_USDT) {
			/* a USDT site is a uprobe that also counts its semaphore */
			LIBBPF_OPTS(bpf_uprobe_opts, uo,
				    .retprobe = sd->spec.kind == DMAKIT_SPEC_URETPROBE,
				    .ref_ctr_offset = t->usdt ? t->usdt->sem_offset : 0,
				    .bpf_cookie = (uint64_t)i);

			link = bpf_program__attach_uprobe_opts(b->skel->progs.dtb_probe,
							       -1, sd->spec.path,
							       t->usdt ? t->usdt->pc_offset :
									 sd->offset, &uo);
		} else if (t->irq) {
			link = bpf_program__attach_raw_tracepoint(b->skel->progs.dtb_irq,
								  sd->events[0]);
		} else {
			LIBBPF_OPTS(bpf_tracepoint_opts, to,
				    .bpf_cookie = (uint64_t)i);

			link = bpf_program__attach_tracepoint_opts(b->skel->progs.dtb_tracepoint,
								   sd->system,
								   sd->events[0], &to);
		}
		if (!link)
			return dmakit_errf(err, errlen, -errno,
					   "cannot attach the BPF program to %s: %s",
					   sd->spec.text, strerror(errno));
		b->links[b->nlinks++] = link;
	}
	return 0;
}

/* Has the process CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN (Linux < 5.8)? */
static bool may_load_tracing_bpf(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { { 0 } };
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data))
		return true;	/* cannot tell: the kernel's message stands */
	eff = data[0].effective | (uint64_t)data[1].effective << 32;
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ULL << CAP_BPF)) && (eff & (1ULL << CAP_PERFMON));
}

static int open_program(struct dmakit_trace_session *s, char *err,
			size_t errlen)
{
	struct dmakit_trace_bpf *b;
	struct trace_bpf *skel;
	int i, ret;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return dmakit_errf(err, errlen, -ENOTSUP,
				   "the kernel has no BTF (/sys/kernel/btf/vmlinux: CONFIG_DEBUG_INFO_BTF) for the BPF program's relocations");
	b = calloc(1, sizeof(*b));
	if (!b)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	s->bpf = b;
	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0)
		return dmakit_errf(err, errlen, -ENODEV,
				   "cannot count the possible CPUs");
	skel = trace_bpf__open();
	if (!skel)
		return dmakit_errf(err, errlen, -errno,
				   "cannot open the BPF program: %s",
				   strerror(errno));
	b->skel = skel;
	for (i = 0; i < s->ntypes; i++) {
		const struct evtype *t = &s->types[i];
		struct dtb_type *c = (struct dtb_type *)&skel->rodata->types[i];

		c->role = t->role == DMAKIT_TRACE_END;
		c->site = (uint8_t)t->side->site;
		c->user = t->user;
		c->chan_tid = t->chan_tid;
		/* each checked by bpf_unsupported() */
		config_field(t, &t->f_id, &c->id);
		config_field(t, &t->f_bytes, &c->bytes);
		config_field(t, &t->f_status, &c->status);
		config_field(t, &t->f_chan, &c->chan);
		config_field(t, &t->f_chan2, &c->chan2);
		config_field(t, &t->f_irq, &c->irq);
		if (t->irq) {	/* its vectors are compared by dtb_irq */
			unsigned int v;

			skel->rodata->irq_type = (uint32_t)i;
			skel->rodata->nvecs = s->nvecs;
			for (v = 0; v < s->nvecs; v++)
				skel->rodata->vecs[v] = (int32_t)s->vecs[v].irq;
			continue;
		}
		ret = kernel_checks_filter(s, t, err, errlen);
		if (ret)
			return ret;
		if (compile_filter(s, t, &b->filter[i], err, errlen,
				   &c->copy_rec))
			return -EINVAL;
		if (!b->filter[i])
			c->copy_rec = 0;
	}
	b->stream = must_stream(s);
	if (b->stream) {
		ret = trace_feed_open(s);
		if (ret)
			return dmakit_errf(err, errlen, ret, "out of memory");
	}
	skel->rodata->stream = b->stream;
	skel->rodata->ntypes = (uint32_t)s->ntypes;
	skel->rodata->by_id = s->close == DMAKIT_TRACE_CLOSE_ID;
	skel->rodata->tgid_filter = s->opts.pid > 0 ? (uint32_t)s->opts.pid : 0;
	skel->rodata->timeout_ns = s->opts.timeout_ns;
	/* the pairing maps not used get no memory */
	if (b->stream || s->close != DMAKIT_TRACE_CLOSE_ID)
		bpf_map__set_max_entries(skel->maps.open_ids, 1);
	if (b->stream || s->close == DMAKIT_TRACE_CLOSE_ID)
		bpf_map__set_max_entries(skel->maps.open_fifo, 1);
	bpf_map__set_max_entries(skel->maps.xacts, ring_size(s, b->ncpus));
	ret = trace_bpf__load(skel);
	/* EACCES is also the verifier's refusal: only without rights is it theirs */
	if (ret && (ret == -EPERM || ret == -EACCES) && !may_load_tracing_bpf())
		return dmakit_errf(err, errlen, ret,
				   "loading BPF programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), which this process lacks: %s",
				   strerror(-ret));
	if (ret)
		return dmakit_errf(err, errlen, ret,
				   "the kernel refused the BPF program: %s",
				   strerror(-ret));
	ret = attach(s, err, errlen);
	if (ret)
		return ret;
	b->rb = ring_buffer__new(bpf_map__fd(skel->maps.xacts), on_record, s,
				 NULL);
	if (!b->rb)
		return dmakit_errf(err, errlen, -errno,
				   "cannot map the BPF ring buffer: %s",
				   strerror(errno));
	return 0;
}

static int bpf_open(struct dmakit_trace_session *s, char *err, size_t errlen)
{
	libbpf_print_fn_t prev = quiet_begin();
	int ret = open_program(s, err, errlen);

	quiet_end(prev);
	return ret;
}

static void bpf_close(struct dmakit_trace_session *s)
{
	struct dmakit_trace_bpf *b = s->bpf;
	libbpf_print_fn_t prev;
	int i;

	if (!b)
		return;
	prev = quiet_begin();
	for (i = 0; i < b->nlinks; i++)
		bpf_link__destroy(b->links[i]);
	ring_buffer__free(b->rb);
	trace_bpf__destroy(b->skel);
	quiet_end(prev);
	for (i = 0; i < DTB_MAX_TYPES; i++)
		if (b->filter[i])	/* libtraceevent's free takes no NULL */
			tep_filter_free(b->filter[i]);
	free(b->q);
	dmakit_trace_pairer_free(s->pairer);
	s->pairer = NULL;
	free(b);
	s->bpf = NULL;
}

/*
 * Events the kernel did not run a program for because a BPF program was
 * already running on that CPU (an interrupt's tracepoint during another
 * program, say): lost events, counted by the kernel (Linux 5.12+).
 */
static uint64_t programs_missed(const struct dmakit_trace_bpf *b)
{
	const struct bpf_program *progs[] = { b->skel->progs.dtb_probe,
					      b->skel->progs.dtb_tracepoint,
					      b->skel->progs.dtb_irq };
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len))
			n += info.recursion_misses;
	}
	return n;
}

/* The kernel's counters summed over CPUs into b->c; sites' event counts. */
static int read_counters(struct dmakit_trace_session *s)
{
	struct dmakit_trace_bpf *b = s->bpf;
	int fd = bpf_map__fd(b->skel->maps.counters);
	uint64_t *v = calloc((size_t)b->ncpus, sizeof(*v));
	uint32_t k;
	int cpu, i;

	if (!v)
		return -ENOMEM;
	for (k = 0; k < DTB_NCOUNTERS; k++) {
		if (bpf_map_lookup_elem(fd, &k, v)) {
			free(v);
			return -errno;
		}
		b->c[k] = 0;
		for (cpu = 0; cpu < b->ncpus; cpu++)
			b->c[k] += v[cpu];
	}
	free(v);
	b->missed = programs_missed(b);
	if (b->stream)
		return 0;	/* sites counted as fed, after the filters */
	/* the program counts per site only: one map update less per event */
	b->c[DTB_C_STARTS] = b->c[DTB_C_ENDS] = 0;
	for (i = 0; i < s->nsides; i++) {
		struct side *sd = &s->side[i];
		bool end = sd->role == DMAKIT_TRACE_END;

		sd->seen = b->c[DTB_C_SITE0 + (end ? DTB_MAX_SITES : 0) + sd->site];
		b->c[end ? DTB_C_ENDS : DTB_C_STARTS] += sd->seen;
	}
	return 0;
}

/*
 * Open starts the kernel will not close any more: by id, those older
 * than the timeout (an end coming later counts them itself, as pair.c
 * would have); per thread, those of threads that have exited.  At the
 * end (@final) all: older than the timeout unmatched, else in flight.
 */
static void sweep(struct dmakit_trace_session *s, uint64_t now, bool final)
{
	struct dmakit_trace_bpf *b = s->bpf;
	uint64_t to = s->opts.timeout_ns;

	if (s->close == DMAKIT_TRACE_CLOSE_ID) {
		int fd = bpf_map__fd(b->skel->maps.open_ids);
		struct dtb_id_key key, next;
		struct dtb_start st;
		bool have = false;

		while (!bpf_map_get_next_key(fd, have ? &key : NULL, &next)) {
			key = next;
			have = true;
			if (bpf_map_lookup_elem(fd, &key, &st))
				continue;
			if (st.ts + to <= now) {
				if (!bpf_map_delete_elem(fd, &key))
					b->unmatched++;
			} else if (final) {
				b->inflight++;
			}
		}
		return;
	}
	{
		int fd = bpf_map__fd(b->skel->maps.open_fifo);
		uint64_t key, next;
		struct dtb_fifo f;
		bool have = false;

		while (!bpf_map_get_next_key(fd, have ? &key : NULL, &next)) {
			char path[32];
			uint32_t j;

			key = next;
			have = true;
			snprintf(path, sizeof(path), "/proc/%llu",
				 (unsigned long long)key);
			if (!final && !access(path, F_OK))
				continue;	/* its thread may still end a call */
			if (bpf_map_lookup_elem(fd, &key, &f))
				continue;
			for (j = 0; j < f.len && j < DTB_FIFO; j++) {
				const struct dtb_start *st =
					&f.s[(f.head + j) & (DTB_FIFO - 1)];

				if (f.resync)
					b->discarded++;
				else if (st->ts + to <= now)
					b->unmatched++;
				else
					b->inflight++;
			}
			if (!final)
				bpf_map_delete_elem(fd, &key);
		}
	}
}

static int bpf_start(struct dmakit_trace_session *s)
{
	if (s->started)
		return -EINVAL;
	s->started = true;
	s->st.start_ns = dmakit_now_ns();
	s->bpf->last_sweep = s->st.start_ns;
	s->bpf->missed_at = s->st.start_ns;
	s->processed_to = s->st.start_ns;
	s->bpf->skel->bss->enabled = 1;
	/* counts read now open the window the vectors are compared in */
	return s->bpf->stream ? trace_feed_counts_begin(s) : 0;
}

static int bpf_poll(struct dmakit_trace_session *s, int timeout_ms)
{
	struct dmakit_trace_bpf *b = s->bpf;
	struct timespec ts;
	uint64_t now;
	int before = (int)b->delivered, ret;

	if (!s->started || s->stopped)
		return -EINVAL;
	if (timeout_ms > 0) {
		/* streamed events fill the ring faster than transactions */
		int period = b->stream ? STREAM_POLL_PERIOD_MS : POLL_PERIOD_MS;
		int ms = timeout_ms < period ? timeout_ms : period;

		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		if (nanosleep(&ts, NULL) && errno == EINTR)
			return -EINTR;
	}
	ret = ring_buffer__consume(b->rb);
	if (ret < 0)
		return ret;
	now = dmakit_now_ns();
	if (b->stream) {
		ret = read_counters(s);
		if (!ret)
			ret = missed_gap(s, now);
		if (ret)
			return ret;
		return feed_upto(s, now > COMMIT_SLACK_NS ?
				    now - COMMIT_SLACK_NS : 0);
	}
	if (now - b->last_sweep >= SWEEP_PERIOD_NS) {
		b->last_sweep = now;
		sweep(s, now, false);
	}
	ret = read_counters(s);
	if (ret)
		return ret;
	return (int)b->delivered - before;
}

static int bpf_stop(struct dmakit_trace_session *s)
{
	struct dmakit_trace_bpf *b = s->bpf;
	int ret, r2;

	if (!s->started)
		return -EINVAL;
	if (s->stopped)
		return 0;
	r2 = b->stream ? trace_feed_counts_end(s) : 0;
	b->skel->bss->enabled = 0;
	s->stopped = true;
	s->st.stop_ns = dmakit_now_ns();
	/* a program that was running when enabled went to 0 may still submit */
	for (ret = 1; ret > 0;)
		ret = ring_buffer__consume(b->rb);
	if (ret < 0)
		return ret;
	ret = read_counters(s);
	if (ret)
		return ret;
	if (b->stream) {
		ret = missed_gap(s, s->st.stop_ns);
		if (!ret)
			ret = final_loss(s);
		if (!ret)
			ret = feed_upto(s, UINT64_MAX);
		if (ret < 0)
			return ret;
		dmakit_trace_pairer_finish(s->pairer, s->st.stop_ns);
		return r2;
	}
	sweep(s, s->st.stop_ns, true);
	return 0;
}

/* Loss here: transactions the ring buffer had no room for, starts the
 * pairing map had none for, events no program ran for.  All counted
 * exactly by the kernel. */
static int bpf_read_loss(struct dmakit_trace_session *s)
{
	int ret = read_counters(s);

	s->st.lost_known = !ret;
	if (!ret)
		s->st.lost_events = s->bpf->c[DTB_C_RB_LOST] +
				    s->bpf->c[DTB_C_MAP_FULL] + s->bpf->missed +
				    s->bpf->unreadable;
	return ret;
}

static void bpf_stats(const struct dmakit_trace_session *s,
		      struct dmakit_trace_stats *st)
{
	const struct dmakit_trace_bpf *b = s->bpf;
	struct dmakit_trace_pair_stats *p = &st->pair;

	if (b->stream) {
		/* as tracefs: paired by pair.c, events lost before it */
		dmakit_trace_pairer_stats(s->pairer, p);
		st->events = b->events + b->c[DTB_C_PID_FILTERED];
		st->pid_filtered = b->c[DTB_C_PID_FILTERED];
		st->lost_xacts = st->lost_starts = 0;
		st->lost_missed = b->missed;
		st->lost_events = b->c[DTB_C_RB_LOST] + b->missed + b->unreadable;
		if (p->lost_events > st->lost_events)
			st->lost_events = p->lost_events;
		st->lost_known = true;
		return;
	}
	memset(p, 0, sizeof(*p));
	p->starts = b->c[DTB_C_STARTS];
	p->end_events = b->c[DTB_C_ENDS];
	p->transactions = b->delivered;
	p->orphans = b->c[DTB_C_ORPHANS];
	p->unmatched_starts = b->c[DTB_C_UNMATCHED] + b->unmatched;
	p->inflight_starts = b->inflight;
	p->discarded_starts = b->c[DTB_C_DISCARDED_STARTS] + b->discarded;
	p->discarded_ends = b->c[DTB_C_DISCARDED_ENDS];
	p->nested_starts = b->c[DTB_C_NESTED];
	st->events = p->starts + p->end_events + b->c[DTB_C_PID_FILTERED];
	st->pid_filtered = b->c[DTB_C_PID_FILTERED];
	st->lost_xacts = b->c[DTB_C_RB_LOST];
	st->lost_starts = b->c[DTB_C_MAP_FULL];
	st->lost_missed = b->missed;
	st->lost_events = st->lost_xacts + st->lost_starts + st->lost_missed;
	st->lost_known = true;
}

static int bpf_kernel_hist(const struct dmakit_trace_session *s,
			   uint64_t *counts)
{
	const struct dmakit_trace_bpf *b = s->bpf;
	int fd = bpf_map__fd(b->skel->maps.hist);
	uint64_t *v = calloc((size_t)b->ncpus, sizeof(*v));
	uint32_t k;
	int cpu;

	if (b->stream) {
		free(v);
		return -EOPNOTSUPP;	/* paired in user space: no histogram */
	}
	if (!v)
		return -ENOMEM;
	memset(counts, 0, DMAKIT_TRACE_KHIST_SLOTS * sizeof(*counts));
	for (k = 0; k < DTB_MAX_SITES * DTB_HIST_SLOTS; k++) {
		if (bpf_map_lookup_elem(fd, &k, v)) {
			free(v);
			return -errno;
		}
		for (cpu = 0; cpu < b->ncpus; cpu++)
			counts[k % DTB_HIST_SLOTS] += v[cpu];
	}
	free(v);
	return 0;
}

const struct dmakit_trace_backend dmakit_trace_bpf_backend = {
	.name = "bpf",
	.unsupported = bpf_unsupported,
	.describe = bpf_describe,
	.open = bpf_open,
	.close = bpf_close,
	.start = bpf_start,
	.poll = bpf_poll,
	.stop = bpf_stop,
	.read_loss = bpf_read_loss,
	.stats = bpf_stats,
	.kernel_hist = bpf_kernel_hist,
};
