// SPDX-License-Identifier: MIT
/*
 * dmakit trace with reg: SPECs: the register poller instead of tracefs.
 * Transactions arrive on the polling thread; the main thread only waits
 * for the end of the run and prints.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dmakit.h>
#include <dmakit/reg.h>
#include <dmakit/trace.h>
#include "cli.h"
#include "json.h"
#include "trace_reg.h"

#define CMD "trace"

struct reg_run {
	struct dmakit_trace_hist *latency;	/* written by the poller only */
	FILE *events;
};

static void on_xact(void *ctx, const struct dmakit_trace_xact *x)
{
	struct reg_run *r = ctx;

	dmakit_trace_hist_add(r->latency, x->latency_ns);
	if (r->events)
		dmakit_trace_xact_write_json(r->events, x);
}

static void print_stats(FILE *out, const struct dmakit_reg_poll_stats *s,
			const struct dmakit_trace_hist *h)
{
	uint64_t slots[CLI_HIST_SLOTS];

	fprintf(stderr,
		"dmakit trace: %" PRIu64 " polls in %.3f s: period %.0f ns achieved (longest gap %" PRIu64 " ns)\n",
		s->polls, (double)(s->stop_ns - s->start_ns) / 1e9, s->period_ns,
		s->max_gap_ns);
	fprintf(out, "transactions: %" PRIu64 "\n", s->transactions);
	if (s->transactions) {
		fprintf(out, "latency: min %" PRIu64 " ns, p50 %" PRIu64 " ns, p99 %" PRIu64 " ns, max %" PRIu64 " ns\n",
			dmakit_trace_hist_min(h),
			dmakit_trace_hist_percentile(h, 50),
			dmakit_trace_hist_percentile(h, 99),
			dmakit_trace_hist_max(h));
		dmakit_trace_hist_log2(h, 1000, slots, CLI_HIST_SLOTS);
		cli_print_log2_hist(out, slots, CLI_HIST_SLOTS, "usecs");
	}
	fprintf(out, "precision: each edge is at most one gap between reads late (period %.0f ns, longest %" PRIu64 " ns)\n",
		s->period_ns, s->max_gap_ns);
	fprintf(out, "maybe missed: %" PRIu64 " (gaps between reads long enough to hide a whole transaction)\n",
		s->maybe_missed);
	if (s->short_xacts)
		fprintf(out, "short: %" PRIu64 " transactions lasted under two reads: the poller is at its limit\n",
			s->short_xacts);
	if (s->active_at_start)
		fprintf(out, "note: already active at the first read (that one is not counted)\n");
	if (s->active_at_stop)
		fprintf(out, "note: still active at the last read (not counted)\n");
}

/* The summary's members: --summary-json FILE and --json write them. */
static void summary_members(struct dmakit_json *j,
			    const struct trace_reg_args *a,
			    const struct dmakit_reg_poll_stats *s,
			    const struct dmakit_trace_hist *h)
{
	dmakit_json_str(j, "backend", "poller");
	dmakit_json_str(j, "start", a->start_spec);
	dmakit_json_str(j, "end", a->end_spec);
	dmakit_json_u64(j, "transactions", s->transactions);
	dmakit_json_u64(j, "polls", s->polls);
	dmakit_json_u64(j, "start_ns", s->start_ns);
	dmakit_json_u64(j, "stop_ns", s->stop_ns);
	dmakit_json_double(j, "poll_period_ns", s->period_ns);
	dmakit_json_u64(j, "max_gap_ns", s->max_gap_ns);
	dmakit_json_u64(j, "maybe_missed", s->maybe_missed);
	dmakit_json_u64(j, "short_transactions", s->short_xacts);
	dmakit_json_bool(j, "active_at_start", s->active_at_start);
	dmakit_json_bool(j, "active_at_stop", s->active_at_stop);
	dmakit_json_obj_begin(j, "latency_ns");
	dmakit_json_u64(j, "min", dmakit_trace_hist_min(h));
	dmakit_json_u64(j, "p50", dmakit_trace_hist_percentile(h, 50));
	dmakit_json_u64(j, "p99", dmakit_trace_hist_percentile(h, 99));
	dmakit_json_u64(j, "max", dmakit_trace_hist_max(h));
	dmakit_json_obj_end(j);
}

static void write_summary(FILE *f, const struct trace_reg_args *a,
			  const struct dmakit_reg_poll_stats *s,
			  const struct dmakit_trace_hist *h)
{
	struct dmakit_json j;

	dmakit_json_init(&j, f, true);
	dmakit_json_obj_begin(&j, NULL);
	dmakit_json_bool(&j, "ok", true);
	summary_members(&j, a, s, h);
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

int trace_reg_run(const struct trace_reg_args *a)
{
	struct dmakit_reg_trace_opts o = {
		.start_spec = a->start_spec, .end_spec = a->end_spec,
		.period_ns = a->period_ns, .cpu = a->cpu, .on_xact = on_xact,
	};
	struct dmakit_reg_poll_stats s;
	struct dmakit_reg_trace *t = NULL;
	struct reg_run r = { 0 };
	char err[768];
	uint64_t deadline = 0;
	bool have_stats = false;
	int ret, rc = CLI_EXIT_FAIL;

	o.ctx = &r;
	if (dmakit_trace_hist_alloc(&r.latency))
		return cli_error(CMD, "out of memory");
	if (cli_is_stdout_path(a->events_path)) {
		r.events = stdout;
	} else if (a->events_path && !(r.events = fopen(a->events_path, "w"))) {
		cli_error(CMD, "--events %s: %s", a->events_path, strerror(errno));
		goto out;
	}
	cli_catch_stop_signals();
	ret = dmakit_reg_trace_alloc(&t, &o, err, sizeof(err));
	/* a bad SPEC, or a register beyond its BAR: as in 'dmakit reg' */
	if (ret == -EINVAL || ret == -ERANGE) {
		rc = cli_usage_error(CMD, "%s", err);
		goto out;
	}
	if (ret || dmakit_reg_trace_start(t, err, sizeof(err))) {
		cli_error(CMD, "%s", err);
		goto out;
	}
	if (!a->quiet) {
		fprintf(stderr, "dmakit trace: polling %s%s\n",
			dmakit_reg_trace_describe(t),
			a->cpu >= 0 ? " on a pinned thread" : "");
		/* tests wait for this line: polling is on once it is printed */
		fprintf(stderr, "dmakit trace: pairing edges; tracing... %s\n",
			a->duration_s > 0 ? "" : "Ctrl-C to end");
	}
	if (a->duration_s > 0)
		deadline = cli_now_ns() + (uint64_t)(a->duration_s * 1e9);
	/* the poller does the work; wake for a signal or the deadline */
	while (!cli_stop_requested && (!deadline || cli_now_ns() < deadline)) {
		struct timespec ts = { 0, 20000000 };

		nanosleep(&ts, NULL);
	}
	dmakit_reg_trace_stop(t);
	dmakit_reg_trace_stats(t, &s);
	have_stats = true;
	if (a->report)
		print_stats(a->report, &s, r.latency);
	rc = CLI_EXIT_OK;
	if (a->summary_path) {
		FILE *f = fopen(a->summary_path, "w");

		if (!f)
			rc = cli_error(CMD, "--summary-json %s: %s",
				       a->summary_path, strerror(errno));
		else {
			write_summary(f, a, &s, r.latency);
			if (ferror(f) | fclose(f))
				rc = cli_error(CMD, "--summary-json %s: write error",
					       a->summary_path);
		}
	}
out:
	dmakit_reg_trace_free(t);
	if (r.events) {
		bool bad = ferror(r.events);

		bad |= r.events == stdout ? fflush(stdout) != 0 :
					     fclose(r.events) != 0;
		if (bad && rc == CLI_EXIT_OK)
			rc = cli_error(CMD, "--events %s: write error",
				       a->events_path);
	}
	if (a->json && have_stats) {
		struct dmakit_json j;

		cli_json_begin(&j, rc == CLI_EXIT_OK, true);
		dmakit_json_str(&j, "error", rc == CLI_EXIT_OK ? "" :
				cli_first_error());
		summary_members(&j, a, &s, r.latency);
		dmakit_json_obj_end(&j);
		dmakit_json_end(&j);
	}
	dmakit_trace_hist_free(r.latency);
	return rc;
}
