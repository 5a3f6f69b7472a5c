// SPDX-License-Identifier: MIT
/*
 * What a backend that pairs in user space (tracefs.c always, bpf.c when
 * the kernel cannot pair the session's shape) does with its events once
 * they are in time order: each goes to the pairer (pair.c) and the
 * callbacks, interrupts are counted against /proc/interrupts, gaps are
 * reported.  One implementation for both backends, so both give the same
 * pairs and counts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "session.h"

static int read_counts(struct dmakit_trace_session *s, bool at_end)
{
	unsigned int *irqs, i;
	uint64_t *counts;
	char *text, (*names)[64];
	int ret;

	if (!s->nvecs)
		return 0;
	ret = dmakit_read_text("/proc/interrupts", &text, NULL);
	if (ret)
		return ret;
	irqs = calloc(s->nvecs, sizeof(*irqs));
	counts = calloc(s->nvecs, sizeof(*counts));
	names = calloc(s->nvecs, sizeof(*names));
	if (!irqs || !counts || !names) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->nvecs; i++)
		irqs[i] = s->vecs[i].irq;
	ret = dmakit_parse_proc_interrupts(text, irqs, s->nvecs, counts, names);
	for (i = 0; !ret && i < s->nvecs; i++) {
		if (at_end)
			s->vecs[i].proc_end = counts[i];
		else
			s->vecs[i].proc_start = counts[i];
		if (!s->vecs[i].name[0])
			memcpy(s->vecs[i].name, names[i], sizeof(names[i]));
	}
out:
	free(text);
	free(irqs);
	free(counts);
	free(names);
	return ret;
}

/* The counts that open the window the vectors' events are compared in. */
int trace_feed_counts_begin(struct dmakit_trace_session *s)
{
	int ret;

	s->t0a = dmakit_now_ns();
	ret = read_counts(s, false);
	s->t0b = dmakit_now_ns();
	return ret;
}

/* ... and those that close it (before tracing stops). */
int trace_feed_counts_end(struct dmakit_trace_session *s)
{
	int ret;

	s->t1a = dmakit_now_ns();
	ret = read_counts(s, true);
	s->t1b = dmakit_now_ns();
	return ret;
}

static void count_irq(struct dmakit_trace_session *s,
		      const struct dmakit_trace_event *ev)
{
	unsigned int i;

	for (i = 0; i < s->nvecs; i++) {
		struct vec *v = &s->vecs[i];

		if (v->irq != (unsigned int)ev->vector)
			continue;
		v->total++;
		if (!s->t0b)
			return;		/* before the first count was read */
		if (ev->ts < s->t0a)
			return;
		if (ev->ts <= s->t0b + COUNT_MARGIN_NS ||
		    (s->t1a && ev->ts > s->t1a &&
		     ev->ts <= s->t1b + COUNT_MARGIN_NS))
			v->ambiguous++;
		else if (!s->t1a || ev->ts <= s->t1a)
			v->traced++;
		return;
	}
}

/* One event or gap, the next in time order. */
int trace_feed(struct dmakit_trace_session *s, const struct pending *p)
{
	if (p->loss) {
		dmakit_trace_pairer_loss(s->pairer, p->ev.ts, p->loss_to,
					 p->loss_count == DMAKIT_TRACE_COUNT_UNKNOWN ?
					 0 : p->loss_count);
		if (s->opts.on_loss)
			s->opts.on_loss(s->opts.ctx, p->ev.cpu, p->ev.ts,
					p->loss_to, p->loss_count);
		return 0;
	}
	if (p->ev.vector >= 0)
		count_irq(s, &p->ev);
	if (p->ev.role == DMAKIT_TRACE_END && s->opts.on_end)
		s->opts.on_end(s->opts.ctx, &p->ev);
	return dmakit_trace_pairer_feed(s->pairer, &p->ev);
}

/* The pairer of a session that pairs in user space. */
int trace_feed_open(struct dmakit_trace_session *s)
{
	struct dmakit_trace_pair_opts po = {
		.close = s->close,
		.timeout_ns = s->opts.timeout_ns,
		.one_open = s->one_open,
		.on_xact = s->opts.on_xact,
		.ctx = s->opts.ctx,
	};

	return dmakit_trace_pairer_alloc(&s->pairer, &po);
}
