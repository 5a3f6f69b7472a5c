// SPDX-License-Identifier: MIT
/*
 * dmakit trace: pair the start and end events of DMA transactions and
 * report latency, rate and throughput, live and at the end.  The library
 * (include/dmakit/trace.h) does the tracing and pairing; this file parses
 * options, keeps the counters and writes the outputs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dmakit.h>
#include <dmakit/trace.h>
#include <dmakit/reg.h>
#include "cli.h"
#include "json.h"
#include "pmu_sample.h"
#include "trace_reg.h"

#define CMD "trace"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dmakit trace --start SPEC... --end SPEC... [--pci BDF] [options]\n"
		"       dmakit trace --cleanup\n"
		"\n"
		"Pairs start and end events into DMA transactions: latency, rate and\n"
		"throughput every interval, log2 histograms at the end.  --start and\n"
		"--end may be given several times: any of a side's events starts (ends)\n"
		"a transaction.  Ctrl-C ends the run cleanly, with every output\n"
		"written.  Needs root.\n"
		"\n"
		"SPEC:\n"
		"  irq[:SEL]                the --pci device's interrupt vectors (SEL:\n"
		"                           IRQ numbers '36,37' or a name pattern '*req*';\n"
		"                           with IRQ numbers --pci is optional)\n"
		"  tp:SYSTEM:EVENT[:FILTER] a tracepoint, e.g. tp:block:block_rq_issue\n"
		"  uprobe:PATH:FUNC[+OFF][(ARGS)]   entry of a function in an executable\n"
		"                           or library\n"
		"  uretprobe:PATH:FUNC[(ARGS)]      return of a function\n"
		"  usdt:PATH:PROVIDER:NAME[(ARGS)]  a sys/sdt.h probe (args: arg1..argN)\n"
		"  ARGS: NAME=argN[:TYPE],... or NAME=retval[:TYPE] (TYPE u8..u64,\n"
		"        s8..s64; default u64); fields named id, bytes, status or ret\n"
		"        are used as such, e.g. (chan=arg1:u32,bytes=arg3)\n"
		"  dmakit                   the dmakit driver's dma_submit/dma_complete\n"
		"  reg:BDF:BARn:OFF[/W][:MASK][:rise|:fall]  a register polled by a\n"
		"                           thread (both specs: one register, its two edges)\n"
		"\n"
		"options:\n"
		"  --pci BDF           the device whose vectors 'irq' means\n"
		"  -t, --duration TIME stop after TIME (e.g. 10s, 500ms, 2m)\n"
		"  --interval TIME     live summary period (default 1s; 0: none)\n"
		"  --pid PID           only u(ret)probe/usdt events of this process;\n"
		"                      stops when it exits\n"
		"  --timeout TIME      a start with no end after TIME is unmatched\n"
		"                      (default 1s; a unit is required: 500ms, 2s)\n"
		"  --buffer-kb N       trace buffer per CPU in KiB (4096)\n"
		"  --pair-by F[,G]     pair by id: field F of the starts, G (or F) of the ends;\n"
		"                      NAME[N] is element N of an array field\n"
		"  --bytes FIELD       a transaction's size (default: a field named bytes);\n"
		"                      an array field counts as the sum of its elements\n"
		"  --status FIELD      its end status (default: a field status or ret)\n"
		"  --channel KEY       pair within channels: tid, none or a FIELD; default:\n"
		"                      tid when every event is thread-synchronous (uprobe,\n"
		"                      uretprobe, usdt, syscalls) and no id pairs them\n"
		"  --close MODE        fifo (an end closes the oldest start), batch (an\n"
		"                      end closes all open starts), id; default: id when\n"
		"                      both events carry one, batch for irq ends, else fifo\n"
		"  --per-site          a latency histogram per start SPEC at the end\n"
		"  --pmu EVENTS        perf counters (as 'dmakit pmu' takes them, e.g. a PCIe\n"
		"                      PMU's bandwidth) as columns of each interval, totals\n"
		"                      at the end, counter tracks in --timeline\n"
		"  --cleanup           remove what killed dmakit sessions left in tracefs\n"
		"  --backend B         auto (default), bpf (paired in the kernel by a BPF\n"
		"                      program) or tracefs (trace buffers paired here);\n"
		"                      auto: bpf where it can trace the SPECs, else (and\n"
		"                      for irq SPECs: see docs/trace.md) tracefs\n"
		"                      (default: $DMAKIT_TRACE_BACKEND, else auto)\n"
		"  --events FILE       one JSON line per transaction ('-': stdout; the\n"
		"                      text report then goes to stderr)\n"
		"  --summary-json FILE counters, percentiles, per-vector interrupts\n"
		"  --timeline FILE     Chrome trace-event JSON (opens in ui.perfetto.dev)\n"
		"  --plot FILE         latency histogram + throughput: FILE.svg or .html\n"
		"  --poll-period TIME  reg: time between reads (default 0: as fast as\n"
		"                      reads go, a whole core)\n"
		"  --poll-cpu N        reg: pin the polling thread to CPU N\n"
		"  --json              the summary (what --summary-json writes) as one\n"
		"                      JSON object on stdout, also on failure\n"
		"  -f, --force         replace an output FILE that already holds data\n"
		"  -q, --quiet         print only errors\n"
		"  -h, --help\n"
		"\n"
		"examples:\n"
		"  dmakit trace --pci 0000:00:02.0 --start tp:block:block_rq_issue --end irq\n"
		"  dmakit trace --start 'uprobe:/opt/card/libcard.so:dma_to_host(bytes=arg3)' \\\n"
		"               --start 'uprobe:/opt/card/libcard.so:dma_from_host(bytes=arg3)' \\\n"
		"               --end uretprobe:/opt/card/libcard.so:dma_wait --pid 1234\n"
		"  dmakit trace --start 'tp:dma:dma_map_phys:device == \"0000:00:04.0\"' \\\n"
		"               --end tp:dma:dma_unmap_phys --pair-by dma_addr,addr --bytes size\n"
		"  dmakit trace --start tp:dma:dma_map_sg --end tp:dma:dma_unmap_sg \\\n"
		"               --pair-by 'phys_addrs[0],addrs[0]' --bytes lengths --channel device\n"
		"  dmakit trace --start usdt:/usr/lib/libdmakit.so.0:dmakit:dma_start \\\n"
		"               --end usdt:/usr/lib/libdmakit.so.0:dmakit:dma_done --duration 10\n"
		"  dmakit trace --start dmakit --end dmakit --timeline t.json --plot t.html\n");
}

struct run {
	struct dmakit_trace_session *session;
	struct dmakit_trace_hist *total, *interval;
	/* per start SPEC (with --per-site), transactions per site */
	struct dmakit_trace_hist *site_hist[DMAKIT_TRACE_MAX_SPECS];
	uint64_t site_xacts[2][DMAKIT_TRACE_MAX_SPECS];
	struct dmakit_trace_series *series;
	struct dmakit_trace_timeline *timeline;
	FILE *events;
	FILE *report;	/* interval lines and the final report; NULL: none */
	uint64_t bytes, interval_bytes, interval_xacts, interval_batched;
	struct dmakit_trace_span *lost;	/* gaps, for the plot */
	size_t nlost, lost_cap;
	bool bytes_known;
	int write_error;
	/* --pmu: counters sampled at each interval, totals over the run */
	struct pmu_sample pmu;
	bool have_pmu;
};

static void on_xact(void *ctx, const struct dmakit_trace_xact *x)
{
	struct run *r = ctx;

	dmakit_trace_hist_add(r->total, x->latency_ns);
	dmakit_trace_hist_add(r->interval, x->latency_ns);
	r->interval_xacts++;
	if (x->batch > 1)
		r->interval_batched++;
	if (x->start_site < DMAKIT_TRACE_MAX_SPECS) {
		r->site_xacts[0][x->start_site]++;
		if (r->site_hist[x->start_site])
			dmakit_trace_hist_add(r->site_hist[x->start_site],
					      x->latency_ns);
	}
	if (x->end_site < DMAKIT_TRACE_MAX_SPECS)
		r->site_xacts[1][x->end_site]++;
	if (x->flags & DMAKIT_TRACE_F_BYTES) {
		r->bytes_known = true;
		r->bytes += x->bytes;
		r->interval_bytes += x->bytes;
	}
	dmakit_trace_series_add(r->series, x->end_ns,
				(x->flags & DMAKIT_TRACE_F_BYTES) ? x->bytes : 0);
	if (r->events) {
		dmakit_trace_xact_write_json(r->events, x);
		if (ferror(r->events))
			r->write_error = EIO;
	}
	if (r->timeline)
		dmakit_trace_timeline_xact(r->timeline, x);
}

/* Interrupt ends on their vector's timeline track. */
static void on_end(void *ctx, const struct dmakit_trace_event *ev)
{
	struct run *r = ctx;
	struct dmakit_trace_vector_stats v;
	const char *name = NULL;
	unsigned int i;

	if (!r->timeline || ev->vector < 0)
		return;
	for (i = 0; !dmakit_trace_session_vector(r->session, i, &v); i++)
		if (v.irq == (unsigned int)ev->vector) {
			name = v.name;
			break;
		}
	dmakit_trace_timeline_irq(r->timeline, ev->ts, ev->cpu,
				  (unsigned int)ev->vector, name);
}

/*
 * Keep a gap for the plot.  Bounded: past LOST_SPANS_MAX (or out of
 * memory) a gap widens the last span, so the shading still covers it.
 */
#define LOST_SPANS_MAX 65536

static void add_lost_span(struct run *r, uint64_t from_ns, uint64_t to_ns)
{
	struct dmakit_trace_span *grown;

	if (r->nlost == r->lost_cap && r->lost_cap < LOST_SPANS_MAX &&
	    (grown = realloc(r->lost, (r->lost_cap ? r->lost_cap * 2 : 64) *
					   sizeof(*grown)))) {
		r->lost = grown;
		r->lost_cap = r->lost_cap ? r->lost_cap * 2 : 64;
	}
	if (r->nlost < r->lost_cap) {
		r->lost[r->nlost++] = (struct dmakit_trace_span){ from_ns, to_ns };
	} else if (r->nlost) {
		struct dmakit_trace_span *last = &r->lost[r->nlost - 1];

		if (from_ns < last->from_ns)
			last->from_ns = from_ns;
		if (to_ns > last->to_ns)
			last->to_ns = to_ns;
	}
}

static void on_loss(void *ctx, int cpu, uint64_t from_ns, uint64_t to_ns,
		    uint64_t count)
{
	struct run *r = ctx;

	if (r->timeline)
		dmakit_trace_timeline_loss(r->timeline, cpu, from_ns, to_ns, count);
	add_lost_span(r, from_ns, to_ns);
}

/* The counter tracks, from the throughput series (up to 2048 samples). */
static void timeline_counters(struct run *r, uint64_t t0)
{
	uint64_t bin_ns, xacts, bytes;
	size_t n = dmakit_trace_series_bins(r->series, &bin_ns), i;

	for (i = 0; i < n; i++) {
		double per_s = 1e9 / (double)bin_ns;

		dmakit_trace_series_bin(r->series, i, &xacts, &bytes);
		dmakit_trace_timeline_counter(r->timeline, t0 + i * bin_ns,
					      r->bytes_known ? (double)bytes * per_s : -1,
					      (double)xacts * per_s);
	}
}

static void fmt_lat(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 10000000ULL)
		snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
	else if (ns >= 10000ULL)
		snprintf(buf, len, "%.1f us", (double)ns / 1e3);
	else
		snprintf(buf, len, "%" PRIu64 " ns", ns);
}

/* A count the kernel may not have given: "?" rather than a made-up 0. */
static void fmt_count(char *buf, size_t len, uint64_t n, bool known)
{
	if (known)
		snprintf(buf, len, "%" PRIu64, n);
	else if (n)		/* at least what gaps in the stream showed */
		snprintf(buf, len, ">=%" PRIu64 "?", n);
	else
		snprintf(buf, len, "?");
}

static void interval_line(struct run *r, double t, double secs,
			  const struct dmakit_trace_stats *st, bool header)
{
	char rate[32], p50[24], p99[24], max[24], lost[24];
	unsigned int i;

	if (header) {
		fprintf(r->report, "%8s %10s %12s %10s %10s %10s %8s %8s %8s", "TIME(s)",
			"XACT/s", "BYTES/s", "p50", "p99", "max", "BATCHED",
			"ORPHANS", "LOST");
		for (i = 0; r->have_pmu && i < r->pmu.n; i++)
			fprintf(r->report, " %18.18s",
				dmakit_pmu_counter_name(r->pmu.counter, i));
		fprintf(r->report, "\n");
	}
	if (dmakit_trace_hist_count(r->interval)) {
		fmt_lat(p50, sizeof(p50), dmakit_trace_hist_percentile(r->interval, 50));
		fmt_lat(p99, sizeof(p99), dmakit_trace_hist_percentile(r->interval, 99));
		fmt_lat(max, sizeof(max), dmakit_trace_hist_max(r->interval));
	} else {	/* no latency this interval, not a latency of 0 */
		snprintf(p50, sizeof(p50), "-");
		snprintf(p99, sizeof(p99), "-");
		snprintf(max, sizeof(max), "-");
	}
	if (r->bytes_known)
		cli_fmt_rate(rate, sizeof(rate), (double)r->interval_bytes / secs);
	else
		snprintf(rate, sizeof(rate), "-");
	fmt_count(lost, sizeof(lost), st->lost_events, st->lost_known);
	fprintf(r->report, "%8.1f %10.1f %12s %10s %10s %10s %8" PRIu64 " %8" PRIu64 " %8s",
		t, (double)r->interval_xacts / secs, rate, p50, p99, max,
		r->interval_batched, st->pair.orphans, lost);
	for (i = 0; r->have_pmu && i < r->pmu.n; i++)
		fprintf(r->report, " %18s", pmu_sample_fmt_rate(&r->pmu, i,
			pmu_sample_per_s(&r->pmu, i), rate, sizeof(rate)));
	fprintf(r->report, "\n");
	fflush(r->report);
}

/*
 * "kernel_hist_log2_ns": the BPF backend's in-kernel latency histogram
 * (slot k: [2^k, 2^(k+1)) ns, every transaction paired, also those lost
 * on the way here); null on tracefs.
 */
static void kernel_hist_json(struct dmakit_json *j,
			     const struct dmakit_trace_session *s)
{
	uint64_t counts[DMAKIT_TRACE_KHIST_SLOTS];
	unsigned int k, last = 0;

	if (dmakit_trace_session_kernel_hist(s, counts)) {
		dmakit_json_str(j, "kernel_hist_log2_ns", NULL);
		return;
	}
	for (k = 0; k < DMAKIT_TRACE_KHIST_SLOTS; k++)
		if (counts[k])
			last = k + 1;
	dmakit_json_arr_begin(j, "kernel_hist_log2_ns");
	for (k = 0; k < last; k++)
		dmakit_json_u64(j, NULL, counts[k]);
	dmakit_json_arr_end(j);
}

/* "start_sites": [{"spec", "desc", "events", "transactions"}, ...] */
static void sites_json(struct dmakit_json *j, struct dmakit_trace_session *s,
		       const struct run *r, enum dmakit_trace_role role)
{
	unsigned int i, n = dmakit_trace_session_nsites(s, role);
	struct dmakit_trace_site site;

	dmakit_json_arr_begin(j, role == DMAKIT_TRACE_START ? "start_sites" :
			      "end_sites");
	for (i = 0; i < n && !dmakit_trace_session_site(s, role, i, &site); i++) {
		dmakit_json_obj_begin(j, NULL);
		dmakit_json_str(j, "spec", site.spec);
		dmakit_json_str(j, "desc", site.desc);
		dmakit_json_u64(j, "events", site.events);
		dmakit_json_u64(j, "transactions", r->site_xacts[role][i]);
		dmakit_json_obj_end(j);
	}
	dmakit_json_arr_end(j);
}

/* The summary's members: --summary-json FILE and --json write them. */
static void summary_members(struct dmakit_json *j,
			    struct dmakit_trace_session *s,
			    const struct dmakit_trace_stats *st, struct run *r)
{
	double secs = (double)(st->stop_ns - st->start_ns) / 1e9;
	struct dmakit_trace_vector_stats v;
	const char *why;
	unsigned int i;

	sites_json(j, s, r, DMAKIT_TRACE_START);
	sites_json(j, s, r, DMAKIT_TRACE_END);
	dmakit_json_str(j, "start", dmakit_trace_session_describe(s, DMAKIT_TRACE_START));
	dmakit_json_str(j, "end", dmakit_trace_session_describe(s, DMAKIT_TRACE_END));
	dmakit_json_str(j, "pairing", dmakit_trace_close_name(st->close));
	dmakit_json_str(j, "pairing_reason", dmakit_trace_session_pairing(s));
	dmakit_json_str(j, "unused_fields", dmakit_trace_session_unused_fields(s));
	dmakit_json_str(j, "backend", dmakit_trace_session_backend(s, &why));
	dmakit_json_str(j, "backend_reason", why);
	dmakit_json_str(j, "instance", dmakit_trace_session_name(s));
	dmakit_json_u64(j, "start_ns", st->start_ns);
	dmakit_json_u64(j, "stop_ns", st->stop_ns);
	dmakit_json_double(j, "duration_s", secs);
	dmakit_json_u64(j, "transactions", st->pair.transactions);
	dmakit_json_u64(j, "start_events", st->pair.starts);
	dmakit_json_u64(j, "end_events", st->pair.end_events);
	dmakit_json_u64(j, "orphans", st->pair.orphans);
	dmakit_json_u64(j, "unmatched_starts", st->pair.unmatched_starts);
	dmakit_json_u64(j, "inflight_starts", st->pair.inflight_starts);
	if (st->lost_known)
		dmakit_json_u64(j, "lost_events", st->lost_events);
	else
		dmakit_json_str(j, "lost_events", NULL);
	dmakit_json_u64(j, "lost_events_in_stream", st->pair.lost_events);
	dmakit_json_u64(j, "lost_transactions", st->lost_xacts);
	dmakit_json_u64(j, "lost_starts", st->lost_starts);
	dmakit_json_u64(j, "lost_missed_events", st->lost_missed);
	dmakit_json_u64(j, "lost_interrupts", st->lost_interrupts);
	kernel_hist_json(j, s);
	dmakit_json_u64(j, "loss_holes", st->pair.loss_holes);
	dmakit_json_u64(j, "discarded_starts", st->pair.discarded_starts);
	dmakit_json_u64(j, "nested_starts", st->pair.nested_starts);
	dmakit_json_u64(j, "discarded_ends", st->pair.discarded_ends);
	dmakit_json_u64(j, "late_events", st->pair.late_events);
	dmakit_json_u64(j, "events_read", st->events);
	/* what pairing here holds: tracefs only (BPF pairs in the kernel) */
	if (strcmp(dmakit_trace_session_backend(s, NULL), "tracefs")) {
		dmakit_json_str(j, "queued_events_max", NULL);
		dmakit_json_str(j, "channels_held", NULL);
	} else {
		dmakit_json_u64(j, "queued_events_max", st->queued_max);
		dmakit_json_u64(j, "channels_held", st->pair.channels);
	}
	dmakit_json_u64(j, "pid_filtered", st->pid_filtered);
	dmakit_json_obj_begin(j, "coalesced");
	dmakit_json_u64(j, "ends", st->pair.coalesced_ends);
	dmakit_json_u64(j, "transactions", st->pair.coalesced_xacts);
	dmakit_json_u64(j, "max_batch", st->pair.max_batch);
	dmakit_json_obj_end(j);
	if (r->bytes_known) {
		dmakit_json_u64(j, "bytes", r->bytes);
		dmakit_json_double(j, "bytes_per_s", secs > 0 ? (double)r->bytes / secs : 0);
	} else {
		dmakit_json_str(j, "bytes", NULL);
		dmakit_json_str(j, "bytes_per_s", NULL);
	}
	dmakit_json_double(j, "transactions_per_s",
			   secs > 0 ? (double)st->pair.transactions / secs : 0);
	dmakit_json_obj_begin(j, "latency_ns");
	dmakit_json_u64(j, "count", dmakit_trace_hist_count(r->total));
	if (dmakit_trace_hist_count(r->total)) {
		dmakit_json_u64(j, "min", dmakit_trace_hist_min(r->total));
		dmakit_json_double(j, "mean", dmakit_trace_hist_mean(r->total));
		dmakit_json_u64(j, "p50", dmakit_trace_hist_percentile(r->total, 50));
		dmakit_json_u64(j, "p90", dmakit_trace_hist_percentile(r->total, 90));
		dmakit_json_u64(j, "p99", dmakit_trace_hist_percentile(r->total, 99));
		dmakit_json_u64(j, "max", dmakit_trace_hist_max(r->total));
	} else {
		/* no transaction: no latency, not a latency of 0 */
		static const char *const none[] = { "min", "mean", "p50", "p90", "p99", "max" };

		for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
			dmakit_json_str(j, none[i], NULL);
	}
	dmakit_json_obj_end(j);
	dmakit_json_arr_begin(j, "vectors");
	for (i = 0; i < st->nvectors; i++) {
		dmakit_trace_session_vector(s, i, &v);
		dmakit_json_obj_begin(j, NULL);
		dmakit_json_u64(j, "irq", v.irq);
		dmakit_json_str(j, "name", v.name);
		dmakit_json_u64(j, "interrupts", v.traced);
		dmakit_json_u64(j, "traced_total", v.traced_total);
		dmakit_json_u64(j, "proc_start", v.proc_start);
		dmakit_json_u64(j, "proc_end", v.proc_end);
		dmakit_json_u64(j, "proc_delta", v.proc_end - v.proc_start);
		dmakit_json_u64(j, "ambiguous", v.ambiguous);
		dmakit_json_u64(j, "untraced", v.untraced);
		dmakit_json_obj_end(j);
	}
	dmakit_json_arr_end(j);
	dmakit_json_u64(j, "leftovers_removed", st->leftovers_removed);
	if (r->have_pmu)	/* totals and rates over the whole run */
		pmu_sample_json(&r->pmu, j, "pmu", true);
}

static void write_summary_json(FILE *f, struct dmakit_trace_session *s,
			       const struct dmakit_trace_stats *st,
			       struct run *r)
{
	struct dmakit_json j;

	dmakit_json_init(&j, f, true);
	dmakit_json_obj_begin(&j, NULL);
	dmakit_json_bool(&j, "ok", true);
	summary_members(&j, s, st, r);
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

/* Per-site counts when a side has several SPECs (and histograms). */
static void print_sites(struct dmakit_trace_session *s, const struct run *r,
			enum dmakit_trace_role role)
{
	unsigned int i, n = dmakit_trace_session_nsites(s, role);
	uint64_t slots[CLI_HIST_SLOTS];
	struct dmakit_trace_site site;
	char a[24], b[24];

	if (n < 2 && !r->site_hist[0])
		return;
	for (i = 0; i < n && !dmakit_trace_session_site(s, role, i, &site); i++) {
		fprintf(r->report, "%s %u %s: %" PRIu64 " events, %" PRIu64 " transactions\n",
			role == DMAKIT_TRACE_START ? "start" : "end", i, site.spec,
			site.events, r->site_xacts[role][i]);
		if (role != DMAKIT_TRACE_START || !r->site_hist[i] ||
		    !dmakit_trace_hist_count(r->site_hist[i]))
			continue;
		fmt_lat(a, sizeof(a), dmakit_trace_hist_percentile(r->site_hist[i], 50));
		fmt_lat(b, sizeof(b), dmakit_trace_hist_percentile(r->site_hist[i], 99));
		fprintf(r->report, "  latency p50 %s, p99 %s\n", a, b);
		dmakit_trace_hist_log2(r->site_hist[i], 1000, slots, CLI_HIST_SLOTS);
		cli_print_log2_hist(r->report, slots, CLI_HIST_SLOTS, "usecs");
	}
}

/* --pmu: each counter's total over the run and its mean rate */
static void print_pmu_totals(struct run *r)
{
	double secs = (double)(r->pmu.t_now_ns - r->pmu.t_open_ns) / 1e9;
	char rate[32];
	unsigned int i;

	for (i = 0; r->have_pmu && i < r->pmu.n; i++)
		fprintf(r->report, "pmu %s: %.6g%s%s in %.2f s, %s\n",
		       dmakit_pmu_counter_name(r->pmu.counter, i), r->pmu.now[i],
		       *dmakit_pmu_counter_unit(r->pmu.counter, i) ? " " : "",
		       dmakit_pmu_counter_unit(r->pmu.counter, i), secs,
		       pmu_sample_fmt_rate(&r->pmu, i,
					   secs > 0 ? r->pmu.now[i] / secs : 0,
					   rate, sizeof(rate)));
}

/* --pmu: one sample at @t_ns, on the timeline's counter tracks too */
static int pmu_tick(struct run *r, uint64_t t_ns)
{
	char track[160], unit[48];
	unsigned int i;
	int ret;

	if (!r->have_pmu)
		return 0;
	ret = pmu_sample_read(&r->pmu, t_ns);
	if (ret)
		return ret;
	for (i = 0; r->timeline && i < r->pmu.n; i++) {
		snprintf(track, sizeof(track), "pmu %s",
			 dmakit_pmu_counter_name(r->pmu.counter, i));
		snprintf(unit, sizeof(unit), "%s/s",
			 dmakit_pmu_counter_unit(r->pmu.counter, i));
		dmakit_trace_timeline_value(r->timeline, t_ns, track, unit,
					    pmu_sample_per_s(&r->pmu, i));
	}
	return 0;
}

static void print_final(struct dmakit_trace_session *s,
			const struct dmakit_trace_stats *st, struct run *r)
{
	struct dmakit_trace_vector_stats v;
	uint64_t slots[CLI_HIST_SLOTS];
	char a[24], b[24], c[24], rate[32], tot[32];
	double secs = (double)(st->stop_ns - st->start_ns) / 1e9;
	unsigned int i;

	fprintf(r->report, "\n");
	if (dmakit_trace_hist_count(r->total)) {
		dmakit_trace_hist_log2(r->total, 1000, slots, CLI_HIST_SLOTS);
		cli_print_log2_hist(r->report, slots, CLI_HIST_SLOTS, "usecs");
		fprintf(r->report, "\n");
	}
	fmt_lat(a, sizeof(a), dmakit_trace_hist_percentile(r->total, 50));
	fmt_lat(b, sizeof(b), dmakit_trace_hist_percentile(r->total, 99));
	fmt_lat(c, sizeof(c), dmakit_trace_hist_max(r->total));
	if (!dmakit_trace_hist_count(r->total)) {
		snprintf(a, sizeof(a), "-");
		snprintf(b, sizeof(b), "-");
		snprintf(c, sizeof(c), "-");
	}
	fprintf(r->report, "%" PRIu64 " transactions in %.2f s (%.1f/s), latency p50 %s, p99 %s, max %s\n",
		st->pair.transactions, secs,
		secs > 0 ? (double)st->pair.transactions / secs : 0, a, b, c);
	if (r->bytes_known)
		fprintf(r->report, "%s transferred, %s\n",
			cli_fmt_bytes(tot, sizeof(tot), (double)r->bytes),
			cli_fmt_rate(rate, sizeof(rate),
				     secs > 0 ? (double)r->bytes / secs : 0));
	fprintf(r->report, "pairing %s: %" PRIu64 " start events, %" PRIu64
		" end events, %" PRIu64 " orphan ends, %" PRIu64
		" unmatched starts, %" PRIu64 " in flight at stop\n",
		dmakit_trace_close_name(st->close), st->pair.starts,
		st->pair.end_events, st->pair.orphans,
		st->pair.unmatched_starts, st->pair.inflight_starts);
	if (st->pair.nested_starts)
		fprintf(r->report, "NESTED: %" PRIu64 " starts came while their thread already had a "
			"call open; per-thread pairing ended its calls in the order they started, "
			"which is right only if the thread waits for them in that order (else pair "
			"by an id: --pair-by)\n", st->pair.nested_starts);
	if (st->pair.coalesced_xacts)
		fprintf(r->report, "BATCHED: %" PRIu64 " of %" PRIu64 " transactions ended at an end event "
			"that also ended other starts (%" PRIu64 " such ends, largest batch %"
			PRIu64 "): their latency runs to that event, which may not be their "
			"own completion\n",
			st->pair.coalesced_xacts, st->pair.transactions,
			st->pair.coalesced_ends, st->pair.max_batch);
	if (!st->lost_known)
		fprintf(r->report, "lost events: unknown (the kernel's per-CPU counts could not be read)\n");
	/* paired in the kernel (no gaps) or streamed and paired here */
	if ((st->lost_xacts || st->lost_starts || st->lost_missed) &&
	    !st->pair.loss_holes)
		fprintf(r->report, "LOST %" PRIu64 " transactions (paired in the kernel, no room in the BPF ring buffer; "
			"the summary JSON's kernel_hist_log2_ns counts them), %" PRIu64
			" starts (no room in the pairing map) and %" PRIu64
			" events (the kernel ran no BPF program for them: one was already running on that CPU)\n",
			st->lost_xacts, st->lost_starts, st->lost_missed);
	else if (st->lost_events || st->pair.loss_holes || st->pair.late_events) {
		char lost[24];

		fmt_count(lost, sizeof(lost), st->lost_events, st->lost_known);
		fprintf(r->report, "LOST %s events in %" PRIu64
			" gaps: %" PRIu64 " starts and %" PRIu64
			" ends set aside instead of pairing across them",
			lost, st->pair.loss_holes,
			st->pair.discarded_starts, st->pair.discarded_ends);
		if (st->lost_missed)
			fprintf(r->report, " (%" PRIu64 " of them events the kernel ran no BPF program for: one was already running on that CPU)",
				st->lost_missed);
		if (st->lost_interrupts)
			fprintf(r->report, " (%" PRIu64 " of them interrupts /proc/interrupts counted that no event was read for: see the vectors)",
				st->lost_interrupts);
		fputc('\n', r->report);
	}
	for (i = 0; i < st->nvectors; i++) {
		dmakit_trace_session_vector(s, i, &v);
		fprintf(r->report, "irq %u %s: %" PRIu64 " interrupts traced, /proc/interrupts +%" PRIu64
			"%s", v.irq, v.name, v.traced, v.proc_end - v.proc_start,
			v.ambiguous ? " (some at the window's edges)" : "");
		if (v.untraced)
			fprintf(r->report, ", LOST %" PRIu64 " the kernel handled without the tracer seeing them (a batch around each ended at a later interrupt)",
				v.untraced);
		fputc('\n', r->report);
	}
	print_sites(s, r, DMAKIT_TRACE_START);
	print_sites(s, r, DMAKIT_TRACE_END);
	print_pmu_totals(r);
}

/* "dmakit trace: A + B -> C", cut to fit */
static void plot_title(char *buf, size_t len, const struct dmakit_trace_opts *o)
{
	size_t used = (size_t)snprintf(buf, len, "dmakit trace:");
	unsigned int r, i;

	for (r = 0; r < 2 && used < len; r++) {
		unsigned int n = r ? o->nend_specs : o->nstart_specs;

		for (i = 0; i < n && used < len; i++)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 i ? " + " : r ? " -> " : " ",
						 r ? o->end_specs[i] :
						     o->start_specs[i]);
	}
}

static int parse_backend(const char *name, enum dmakit_trace_backend_kind *kind)
{
	if (!strcmp(name, "auto"))
		*kind = DMAKIT_TRACE_BACKEND_AUTO;
	else if (!strcmp(name, "tracefs"))
		*kind = DMAKIT_TRACE_BACKEND_TRACEFS;
	else if (!strcmp(name, "bpf"))
		*kind = DMAKIT_TRACE_BACKEND_BPF;
	else
		return -EINVAL;
	return 0;
}

/* What is traced and how it pairs, before tracing starts. */
static void print_header(struct dmakit_trace_session *s)
{
	const char *backend, *why;
	struct dmakit_trace_site site;
	unsigned int r, i;

	for (r = 0; r < 2; r++) {
		unsigned int n = dmakit_trace_session_nsites(s, r);

		for (i = 0; i < n && !dmakit_trace_session_site(s, r, i, &site); i++) {
			char label[24];

			if (n > 1)
				snprintf(label, sizeof(label), "%s %u:",
					 r ? "end" : "start", i);
			else
				snprintf(label, sizeof(label), "%s:",
					 r ? "end" : "start");
			fprintf(stderr, "dmakit trace: %-8s %s\n", label, site.desc);
		}
	}
	fprintf(stderr, "dmakit trace: pairing %s\n", dmakit_trace_session_pairing(s));
	if (*dmakit_trace_session_unused_fields(s))
		fprintf(stderr, "dmakit trace: note: fetched but used for nothing: %s (only fields named id, bytes, status or ret are used as such; name others with --channel, --pair-by, --bytes or --status)\n",
			dmakit_trace_session_unused_fields(s));
	backend = dmakit_trace_session_backend(s, &why);
	fprintf(stderr, "dmakit trace: backend %s (%s)\n", backend, why);
}

/*
 * An interrupt of a disk completes whatever requests are done by then, so
 * batch pairing ends several requests at one interrupt and the real
 * completion of an earlier one may be missed.  The block layer says
 * exactly which request completed: point to its tracepoint, paired by
 * sector within the disk.
 */
static void block_device_hint(const char *bdf, const char *end_spec)
{
	struct dmakit_trace_pci *pci;
	struct dmakit_trace_pci_info in;
	struct dmakit_trace_pci_child ch;
	unsigned int i;

	if (!bdf || strncmp(end_spec, "irq", 3) ||
	    (end_spec[3] && end_spec[3] != ':') ||
	    dmakit_trace_pci_alloc(&pci, bdf, NULL, 0))
		return;
	dmakit_trace_pci_info(pci, &in);
	for (i = 0; i < in.nchildren; i++) {
		uint64_t dev;

		dmakit_trace_pci_child(pci, i, &ch);
		if (ch.kind != DMAKIT_TRACE_CHILD_BLOCK)
			continue;
		dev = (uint64_t)ch.major << 20 | ch.minor;
		cli_notice(CMD, "%s is the disk %s (%u:%u): its interrupts end requests in batches "
			   "(flagged BATCHED), so their latency may run past their own completion.  "
			   "Per request, use the block layer's completion paired by sector:\n"
			   "  dmakit trace --start 'tp:block:block_rq_issue:dev == %" PRIu64 "' "
			   "--end 'tp:block:block_rq_complete:dev == %" PRIu64 "' "
			   "--pair-by sector --channel dev",
			   in.bdf, ch.name, ch.major, ch.minor, dev, dev);
	}
	dmakit_trace_pci_free(pci);
}

static FILE *open_out(const char *path, const char *what)
{
	FILE *f = fopen(path, "w");

	if (!f)
		cli_error(CMD, "%s %s: %s", what, path, strerror(errno));
	return f;
}

int cmd_trace(int argc, char **argv)
{
	enum {
		O_PCI = 256, O_START, O_END, O_PID, O_INTERVAL,
		O_EVENTS, O_SUMMARY, O_TIMELINE, O_PLOT, O_TIMEOUT, O_BUFKB,
		O_POLL_PERIOD, O_POLL_CPU,
		O_PAIRBY, O_CHANNEL, O_CLOSE, O_BYTES, O_STATUS, O_PERSITE,
		O_CLEANUP, O_PMU, O_BACKEND,
	};
	static const struct option lopts[] = {
		{ "pci", required_argument, NULL, O_PCI },
		{ "start", required_argument, NULL, O_START },
		{ "end", required_argument, NULL, O_END },
		{ "duration", required_argument, NULL, 't' },
		{ "pid", required_argument, NULL, O_PID },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "events", required_argument, NULL, O_EVENTS },
		{ "summary-json", required_argument, NULL, O_SUMMARY },
		{ "timeline", required_argument, NULL, O_TIMELINE },
		{ "plot", required_argument, NULL, O_PLOT },
		{ "poll-period", required_argument, NULL, O_POLL_PERIOD },
		{ "poll-cpu", required_argument, NULL, O_POLL_CPU },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "buffer-kb", required_argument, NULL, O_BUFKB },
		{ "pair-by", required_argument, NULL, O_PAIRBY },
		{ "channel", required_argument, NULL, O_CHANNEL },
		{ "close", required_argument, NULL, O_CLOSE },
		{ "bytes", required_argument, NULL, O_BYTES },
		{ "status", required_argument, NULL, O_STATUS },
		{ "per-site", no_argument, NULL, O_PERSITE },
		{ "cleanup", no_argument, NULL, O_CLEANUP },
		{ "pmu", required_argument, NULL, O_PMU },
		CLI_COMMON_OPTIONS,
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dmakit_trace_opts o = { .close = -1 };
	const char *starts[DMAKIT_TRACE_MAX_SPECS], *ends[DMAKIT_TRACE_MAX_SPECS];
	bool per_site = false, cleanup = false, backend_given = false;
	const char *events_path = NULL, *summary_path = NULL;
	const char *timeline_path = NULL, *plot_path = NULL, *pmu_events = NULL;
	double duration = 0, interval = 1, poll_period = 0;
	int poll_cpu = -1;
	struct dmakit_trace_session *s = NULL;
	struct dmakit_trace_stats st;
	struct run r = { 0 };
	char err[DMAKIT_ERRMSG_MAX], *end;
	bool quiet = false, force = false, json = false, header = true, have_stats = false;
	bool read_failed = false;
	uint64_t t0, next_tick, deadline = 0, last_tick;
	int c, ret, rc = CLI_EXIT_FAIL, pmu_err = 0;
	unsigned int i;
	unsigned long long v;

	while ((c = getopt_long(argc, argv, ":t:qfh", lopts, NULL)) != -1) {
		switch (c) {
		case O_PCI:
			o.pci = optarg;
			break;
		case O_START:
		case O_END: {
			const char **side = c == O_START ? starts : ends;
			unsigned int *n = c == O_START ? &o.nstart_specs :
					  &o.nend_specs;

			if (*n == DMAKIT_TRACE_MAX_SPECS)
				return cli_usage_error(CMD, "at most %d --%s SPECs",
						       DMAKIT_TRACE_MAX_SPECS,
						       c == O_START ? "start" : "end");
			/* reg: specs are the poller's (checked when it starts) */
			if (!dmakit_reg_spec_is(optarg) &&
			    dmakit_trace_spec_check(optarg, err, sizeof(err)))
				return cli_usage_error(CMD, "--%s: %s",
						       c == O_START ? "start" : "end",
						       err);
			side[(*n)++] = optarg;
			break;
		}
		case O_BYTES:
			o.bytes_by = optarg;
			break;
		case O_STATUS:
			o.status_by = optarg;
			break;
		case O_PERSITE:
			per_site = true;
			break;
		case O_BACKEND:
			if (parse_backend(optarg, &o.backend))
				return cli_usage_error(CMD, "bad --backend '%s' (auto, bpf or tracefs)",
						       optarg);
			backend_given = true;
			break;
		case O_CLEANUP:
			cleanup = true;
			break;
		case 't':
			if (cli_parse_seconds(optarg, CLI_MIN_SECONDS,
					      DMAKIT_MAX_SECONDS, &duration))
				return cli_usage_error(CMD, "bad --duration '%s' (1ms..1e9s)", optarg);
			break;
		case O_INTERVAL:
			/* 0: no live summary */
			if (cli_parse_seconds(optarg, 0, DMAKIT_MAX_SECONDS,
					      &interval) ||
			    (interval > 0 && interval < CLI_MIN_SECONDS))
				return cli_usage_error(CMD, "bad --interval '%s' (0, or 1ms..1e9s)", optarg);
			break;
		case O_PID:
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || *end || !v || v > INT32_MAX)
				return cli_usage_error(CMD, "bad --pid '%s'", optarg);
			o.pid = (pid_t)v;
			break;
		case O_TIMEOUT: {
			double secs;

			/* it was milliseconds: the same digits must not now mean seconds */
			if (cli_duration_is_bare(optarg) && strtod(optarg, NULL) > 0)
				return cli_usage_error(CMD, "--timeout '%s' needs a unit: %sms or %ss (a bare number used to mean milliseconds)",
						       optarg, optarg, optarg);
			if (cli_parse_seconds(optarg, CLI_MIN_SECONDS, 3600, &secs))
				return cli_usage_error(CMD, "bad --timeout '%s' (1ms..1h, e.g. 500ms)",
						       optarg);
			o.timeout_ns = (uint64_t)(secs * 1e9 + 0.5);
			break;
		}
		case O_BUFKB:
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || *end || v < 4 || v > 4194304)
				return cli_usage_error(CMD, "bad --buffer-kb '%s' (4..4194304)",
						       optarg);
			o.buffer_kb = (unsigned int)v;
			break;
		case O_EVENTS:
			events_path = optarg;
			break;
		case O_SUMMARY:
			summary_path = optarg;
			break;
		case O_TIMELINE:
			timeline_path = optarg;
			break;
		case O_PLOT: {
			size_t n = strlen(optarg);

			/* the name says the format: an HTML file named .png misleads */
			if (n <= 4 || (strcmp(optarg + n - 4, ".svg") &&
				       (n <= 5 || strcmp(optarg + n - 5, ".html"))))
				return cli_usage_error(CMD, "--plot '%s': name it FILE.svg (a picture) or FILE.html (a page)",
						       optarg);
			plot_path = optarg;
			break;
		}
		case O_POLL_PERIOD:
			if (cli_parse_duration(optarg, &poll_period) ||
			    poll_period < 0 || poll_period > 60)
				return cli_usage_error(CMD, "bad --poll-period '%s' (seconds: e.g. 0, 0.00002, 1ms)",
						       optarg);
			break;
		case O_POLL_CPU:
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || *end || v > 65535)
				return cli_usage_error(CMD, "bad --poll-cpu '%s'", optarg);
			poll_cpu = (int)v;
			break;
		case O_PAIRBY:
			o.pair_by = optarg;
			break;
		case O_PMU:
			pmu_events = optarg;
			break;
		case O_CHANNEL:
			o.channel_by = optarg;
			break;
		case O_CLOSE:
			if (!strcmp(optarg, "fifo"))
				o.close = DMAKIT_TRACE_CLOSE_ONE;
			else if (!strcmp(optarg, "batch"))
				o.close = DMAKIT_TRACE_CLOSE_ALL;
			else if (!strcmp(optarg, "id"))
				o.close = DMAKIT_TRACE_CLOSE_ID;
			else
				return cli_usage_error(CMD, "bad --close '%s' (fifo, batch or id)",
						       optarg);
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			ret = cli_other_opt(CMD, c, optarg, argv,
					    &json, &quiet,
					    NULL, NULL);
			if (ret)
				return ret;
			break;
		}
	}
	if (cli_no_operands(CMD, argc, argv))
		return CLI_EXIT_USAGE;
	/* only --events streams to stdout ("-"); stdout holds one of it, --json */
	if (cli_refuse_stdout_path(CMD, "--summary-json", summary_path) ||
	    cli_refuse_stdout_path(CMD, "--timeline", timeline_path) ||
	    cli_refuse_stdout_path(CMD, "--plot", plot_path))
		return CLI_EXIT_USAGE;
	if (json && cli_is_stdout_path(events_path))
		return cli_usage_error(CMD, "--events - and --json both want stdout: give --events a file");
	/* the text report: on stdout, on stderr when events stream there */
	r.report = quiet || json ? NULL :
		   cli_is_stdout_path(events_path) ? stderr : stdout;
	if (cleanup) {
		if (o.nstart_specs || o.nend_specs)
			return cli_usage_error(CMD, "--cleanup traces nothing: give no --start or --end");
		ret = dmakit_trace_cleanup(err, sizeof(err));
		if (ret < 0)
			return cli_error(CMD, "%s", err);
		if (json) {
			struct dmakit_json j;

			cli_json_begin(&j, true, false);
			dmakit_json_u64(&j, "removed", (uint64_t)ret);
			dmakit_json_obj_end(&j);
			dmakit_json_end(&j);
		} else if (!quiet) {
			printf("removed %d leftover tracefs object(s) of dmakit sessions that are gone\n",
			       ret);
		}
		return CLI_EXIT_OK;
	}
	if (!o.nstart_specs || !o.nend_specs)
		return cli_usage_error(CMD, "both --start SPEC and --end SPEC are needed");
	/* before any tracing: a run never truncates a user's earlier results */
	if (cli_refuse_existing_output(CMD, "--events", events_path, force) ||
	    cli_refuse_existing_output(CMD, "--summary-json", summary_path, force) ||
	    cli_refuse_existing_output(CMD, "--timeline", timeline_path, force) ||
	    cli_refuse_existing_output(CMD, "--plot", plot_path, force))
		return CLI_EXIT_FAIL;
	/* the environment's default, for running a test suite on each backend */
	if (!backend_given && getenv("DMAKIT_TRACE_BACKEND") &&
	    parse_backend(getenv("DMAKIT_TRACE_BACKEND"), &o.backend))
		return cli_usage_error(CMD, "bad DMAKIT_TRACE_BACKEND '%s' (auto, bpf or tracefs)",
				       getenv("DMAKIT_TRACE_BACKEND"));
	if (dmakit_reg_spec_is(starts[0]) || dmakit_reg_spec_is(ends[0])) {
		struct trace_reg_args ra = {
			.start_spec = starts[0], .end_spec = ends[0],
			.duration_s = duration, .cpu = poll_cpu,
			.period_ns = (uint64_t)(poll_period * 1e9 + 0.5),
			.events_path = events_path, .summary_path = summary_path,
			.quiet = quiet, .json = json, .report = r.report,
		};

		/* what the poller does not have yet is refused, not ignored */
		if (o.nstart_specs > 1 || o.nend_specs > 1)
			return cli_usage_error(CMD, "reg: specs trace one register: one --start and one --end");
		if (timeline_path || plot_path || o.pid || o.pci || o.pair_by || pmu_events ||
		    o.channel_by || o.close >= 0 || o.buffer_kb || o.timeout_ns ||
		    o.bytes_by || o.status_by || per_site)
			return cli_usage_error(CMD, "with reg: specs only --duration, --poll-period, --poll-cpu, --events, --summary-json, --json and -q apply");
		return trace_reg_run(&ra);
	}
	if (poll_period > 0 || poll_cpu >= 0)
		return cli_usage_error(CMD, "--poll-period and --poll-cpu are for reg: specs");
	o.start_specs = starts;
	o.end_specs = ends;
	if (o.pid && kill(o.pid, 0) && errno == ESRCH)
		return cli_error(CMD, "--pid %d: no such process", (int)o.pid);
	if (o.pci) {
		struct dmakit_trace_pci *pci;

		/* a malformed address is bad usage, an absent device a failure */
		ret = dmakit_trace_pci_alloc(&pci, o.pci, err, sizeof(err));
		if (ret == -EINVAL)
			return cli_usage_error(CMD, "--pci: %s", err);
		if (ret)
			return cli_error(CMD, "--pci: %s", err);
		dmakit_trace_pci_free(pci);
	}

	if (pmu_events) {
		/* a bad event is a usage error before any tracing is set up */
		ret = pmu_sample_open(&r.pmu, pmu_events, cli_now_ns(), err, sizeof(err));
		if (ret == -EINVAL)
			return cli_usage_error(CMD, "--pmu: %s", err);
		if (ret)
			return cli_error(CMD, "--pmu: %s", err);
		pmu_sample_close(&r.pmu);
	}
	if (dmakit_trace_hist_alloc(&r.total) || dmakit_trace_hist_alloc(&r.interval))
		goto out_nomem;
	for (c = 0; per_site && c < (int)o.nstart_specs; c++)
		if (dmakit_trace_hist_alloc(&r.site_hist[c]))
			goto out_nomem;
	if (cli_is_stdout_path(events_path))
		r.events = stdout;
	else if (events_path && !(r.events = open_out(events_path, "--events")))
		goto out;
	if (timeline_path &&
	    dmakit_trace_timeline_open(&r.timeline, timeline_path, err, sizeof(err))) {
		cli_error(CMD, "--timeline %s", err);
		goto out;
	}
	o.on_xact = on_xact;
	o.on_loss = on_loss;
	if (r.timeline)
		o.on_end = on_end;
	o.ctx = &r;
	/*
	 * Before setting up: a Ctrl-C while the session is being set up
	 * (which can take seconds on a busy machine) then ends it cleanly
	 * after setup, and is not lost to an inherited SIG_IGN.
	 */
	cli_catch_stop_signals();
	ret = dmakit_trace_session_alloc(&s, &o, err, sizeof(err));
	if (ret) {
		cli_error(CMD, "%s", err);
		/* what was asked for cannot be done this way: a usage error */
		if (ret == -EOPNOTSUPP && o.backend == DMAKIT_TRACE_BACKEND_BPF)
			rc = CLI_EXIT_USAGE;
		goto out;
	}
	r.session = s;

	dmakit_trace_session_stats(s, &st);
	if (st.leftovers_removed && !quiet)
		cli_notice(CMD, "removed %u leftover tracefs object(s) of crashed dmakit sessions",
			   st.leftovers_removed);
	for (i = 0; i < o.nend_specs && !quiet; i++)
		block_device_hint(o.pci, o.end_specs[i]);
	if (!quiet)
		print_header(s);
	ret = dmakit_trace_session_start(s);
	if (ret) {
		cli_error(CMD, "cannot start tracing: %s", dmakit_strerror(ret));
		goto out;
	}
	/* tests wait for this line: tracing is on once it is printed */
	if (!quiet)
		fprintf(stderr, "dmakit trace: tracing... %s\n",
			duration > 0 ? "" : "Ctrl-C to end");
	dmakit_trace_session_stats(s, &st);
	t0 = st.start_ns;
	if (dmakit_trace_series_alloc(&r.series, t0, 10000000ULL))
		goto out_nomem;
	if (pmu_events) {
		/* counted from when tracing is on: the same window */
		ret = pmu_sample_open(&r.pmu, pmu_events, t0, err, sizeof(err));
		if (ret) {
			cli_error(CMD, "--pmu: %s", err);
			goto out;
		}
		r.have_pmu = true;
	}
	last_tick = t0;
	next_tick = interval > 0 ? t0 + (uint64_t)(interval * 1e9) : UINT64_MAX;
	if (duration > 0)
		deadline = t0 + (uint64_t)(duration * 1e9);

	while (!cli_stop_requested) {
		struct timespec now_ts;
		uint64_t now, wake;
		int wait_ms;

		clock_gettime(CLOCK_MONOTONIC, &now_ts);
		now = (uint64_t)now_ts.tv_sec * 1000000000ULL + (uint64_t)now_ts.tv_nsec;
		if (deadline && now >= deadline)
			break;
		if (o.pid && kill(o.pid, 0) && errno == ESRCH)
			break;
		if (now >= next_tick) {
			double secs = (double)(now - last_tick) / 1e9;

			/* the kernel's count, so loss shows when it happens */
			dmakit_trace_session_read_loss(s);
			dmakit_trace_session_stats(s, &st);
			pmu_err = pmu_tick(&r, now);
			if (pmu_err) {
				cli_error(CMD, "--pmu: reading the counters: %s",
					  dmakit_strerror(pmu_err));
				break;
			}
			if (r.report)
				interval_line(&r, (double)(now - t0) / 1e9, secs, &st, header);
			header = false;
			dmakit_trace_hist_reset(r.interval);
			r.interval_bytes = r.interval_xacts = 0;
			r.interval_batched = 0;
			last_tick = now;
			next_tick += (uint64_t)(interval * 1e9);
			if (next_tick <= now)
				next_tick = now + (uint64_t)(interval * 1e9);
		}
		wake = next_tick;
		if (deadline && deadline < wake)
			wake = deadline;
		/* at most a second, so --pid exits are noticed */
		wait_ms = wake - now >= 1000000000ULL ? 1000 :
			  (int)((wake - now) / 1000000ULL) + 1;
		ret = dmakit_trace_session_poll(s, wait_ms);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			cli_error(CMD, "reading events: %s", dmakit_strerror(ret));
			read_failed = true;
			break;
		}
	}

	ret = dmakit_trace_session_stop(s);
	if (ret && !quiet)
		cli_notice(CMD, "reading /proc/interrupts at the end: %s",
			   dmakit_strerror(ret));
	dmakit_trace_session_stats(s, &st);
	if (!pmu_err) {
		pmu_err = pmu_tick(&r, st.stop_ns);
		if (pmu_err)
			cli_error(CMD, "--pmu: reading the counters: %s",
				  dmakit_strerror(pmu_err));
	}
	have_stats = true;
	if (r.report)
		print_final(s, &st, &r);
	/* counters that could not be read: the run did not do what was asked */
	rc = read_failed || pmu_err ? CLI_EXIT_FAIL : CLI_EXIT_OK;

	if (summary_path) {
		FILE *f = open_out(summary_path, "--summary-json");

		if (!f) {
			rc = CLI_EXIT_FAIL;
		} else {
			write_summary_json(f, s, &st, &r);
			if (ferror(f) | fclose(f))
				rc = cli_error(CMD, "--summary-json %s: write error",
					       summary_path);
		}
	}
	if (plot_path) {
		char title[1100];
		struct dmakit_trace_plot p = {
			.title = title,
			.latency = r.total,
			.series = r.series,
			.bytes_known = r.bytes_known,
			.stats = &st,
			.lost = r.lost,
			.nlost = r.nlost,
		};

		plot_title(title, sizeof(title), &o);
		if (dmakit_trace_plot_write(plot_path, &p, err, sizeof(err)))
			rc = cli_error(CMD, "--plot %s", err);
	}
	if (r.timeline)
		timeline_counters(&r, t0);
out:
	if (r.timeline) {
		if (dmakit_trace_timeline_close(r.timeline) && rc == CLI_EXIT_OK)
			rc = cli_error(CMD, "--timeline %s: write error", timeline_path);
	}
	if (r.events) {
		bool bad = r.write_error || ferror(r.events);

		bad |= r.events == stdout ? fflush(stdout) != 0 :
					     fclose(r.events) != 0;
		if (bad && rc == CLI_EXIT_OK)
			rc = cli_error(CMD, "--events %s: write error", events_path);
	}
	if (json && have_stats) {
		struct dmakit_json j;

		cli_json_begin(&j, rc == CLI_EXIT_OK, true);
		dmakit_json_str(&j, "error", rc == CLI_EXIT_OK ? "" :
				cli_first_error());
		summary_members(&j, s, &st, &r);
		dmakit_json_obj_end(&j);
		dmakit_json_end(&j);
	}
	dmakit_trace_session_free(s);
	if (r.have_pmu)
		pmu_sample_close(&r.pmu);
	dmakit_trace_series_free(r.series);
	dmakit_trace_hist_free(r.total);
	dmakit_trace_hist_free(r.interval);
	free(r.lost);
	for (c = 0; c < DMAKIT_TRACE_MAX_SPECS; c++)
		dmakit_trace_hist_free(r.site_hist[c]);
	return rc;
out_nomem:
	cli_error(CMD, "out of memory");
	goto out;
}
