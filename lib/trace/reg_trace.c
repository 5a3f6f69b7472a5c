// SPDX-License-Identifier: MIT
/*
 * `dmakit trace --start reg:... --end reg:...`: the two SPECs name one
 * register and its two edges; the BAR is mapped read-only and the poller
 * turns the edges into transactions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "trace_internal.h"
#include "dmakit/reg.h"

struct dmakit_reg_trace {
	struct dmakit_reg *reg;
	struct dmakit_reg_poll_bar bar;
	struct dmakit_reg_poller *poller;
	char describe[160];
};

bool dmakit_reg_spec_is(const char *spec)
{
	return spec && !strncmp(spec, "reg:", 4);
}

int dmakit_reg_trace_alloc_at(struct dmakit_reg_trace **tracep,
			      const char *root,
			      const struct dmakit_reg_trace_opts *o,
			      char *errmsg, size_t errlen)
{
	struct dmakit_reg_spec s, e;
	struct dmakit_reg_poll_opts po = { 0 };
	struct dmakit_reg_trace *t;
	int start_edge, end_edge, ret;

	*tracep = NULL;
	if (!dmakit_reg_spec_is(o->start_spec) || !dmakit_reg_spec_is(o->end_spec))
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "a reg: SPEC pairs only with a reg: SPEC on the same register (start and end are two edges of its value)");
	ret = dmakit_reg_spec_parse(&s, o->start_spec, errmsg, errlen);
	if (!ret)
		ret = dmakit_reg_spec_parse(&e, o->end_spec, errmsg, errlen);
	if (ret)
		return ret;
	if (strcmp(s.bdf, e.bdf) || s.bar != e.bar || s.offset != e.offset ||
	    s.width != e.width || s.mask != e.mask)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "--start and --end must name the same register, width and mask (%s, %s)",
				   o->start_spec, o->end_spec);
	start_edge = s.edge ? s.edge : 1;
	end_edge = e.edge ? e.edge : -1;
	if (start_edge == end_edge)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "start and end are the same edge: one must rise and the other fall");
	t = calloc(1, sizeof(*t));
	if (!t)
		return dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
	/* a bad register is refused the same way whether or not BARs map */
	ret = dmakit_reg_check_access_at(root, s.bdf, s.bar, s.offset, s.width,
					 0, errmsg, errlen);
	if (!ret)
		ret = dmakit_reg_open_at(&t->reg, root, s.bdf, s.bar, 0, errmsg,
					 errlen);
	if (ret) {
		dmakit_reg_trace_free(t);
		return ret;
	}
	t->bar.reg = t->reg;
	t->bar.offset = s.offset;
	t->bar.width = s.width;
	po.read = dmakit_reg_poll_read_bar;
	po.src = &t->bar;
	po.mask = s.mask;
	po.active_low = start_edge < 0;
	po.period_ns = o->period_ns;
	po.cpu = o->cpu;
	po.on_xact = o->on_xact;
	po.ctx = o->ctx;
	ret = dmakit_reg_poller_alloc(&t->poller, &po, errmsg, errlen);
	if (ret) {
		dmakit_reg_trace_free(t);
		return ret;
	}
	snprintf(t->describe, sizeof(t->describe),
		 "%s BAR%u+0x%llx (%u-bit) & 0x%llx, %s edge starts, %s edge ends",
		 s.bdf, s.bar, (unsigned long long)s.offset, s.width * 8,
		 (unsigned long long)s.mask, start_edge > 0 ? "rising" : "falling",
		 end_edge > 0 ? "rising" : "falling");
	*tracep = t;
	return 0;
}

int dmakit_reg_trace_alloc(struct dmakit_reg_trace **tracep,
			   const struct dmakit_reg_trace_opts *opts,
			   char *errmsg, size_t errlen)
{
	return dmakit_reg_trace_alloc_at(tracep, "", opts, errmsg, errlen);
}

void dmakit_reg_trace_free(struct dmakit_reg_trace *t)
{
	if (!t)
		return;
	dmakit_reg_poller_free(t->poller);
	dmakit_reg_close(t->reg);
	free(t);
}

int dmakit_reg_trace_start(struct dmakit_reg_trace *t, char *errmsg,
			   size_t errlen)
{
	return dmakit_reg_poller_start(t->poller, errmsg, errlen);
}

void dmakit_reg_trace_stop(struct dmakit_reg_trace *t)
{
	dmakit_reg_poller_stop(t->poller);
}

void dmakit_reg_trace_stats(struct dmakit_reg_trace *t,
			    struct dmakit_reg_poll_stats *stats)
{
	dmakit_reg_poller_stats(t->poller, stats);
}

const char *dmakit_reg_trace_describe(const struct dmakit_reg_trace *t)
{
	return t->describe;
}
