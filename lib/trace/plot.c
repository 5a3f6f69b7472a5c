// SPDX-License-Identifier: MIT
/*
 * A picture of a trace: the latency histogram (log2 bins, like the
 * terminal one) and throughput over time, drawn as inline SVG.  The HTML
 * page has no scripts and fetches nothing, so it can be mailed or
 * attached to a report as is.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "dmakit/trace.h"

#define SERIES_MAX_BINS 2048

struct bin {
	uint64_t xacts, bytes;
};

struct dmakit_trace_series {
	uint64_t t0, bin_ns;
	struct bin *bins;
	size_t n;
};

int dmakit_trace_series_alloc(struct dmakit_trace_series **seriesp,
			      uint64_t t0_ns, uint64_t bin_ns)
{
	struct dmakit_trace_series *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->bins = calloc(SERIES_MAX_BINS, sizeof(*s->bins));
	if (!s->bins) {
		free(s);
		return -ENOMEM;
	}
	s->t0 = t0_ns;
	s->bin_ns = bin_ns ? bin_ns : 10000000ULL;
	*seriesp = s;
	return 0;
}

void dmakit_trace_series_free(struct dmakit_trace_series *s)
{
	if (!s)
		return;
	free(s->bins);
	free(s);
}

void dmakit_trace_series_add(struct dmakit_trace_series *s, uint64_t ts,
			     uint64_t bytes)
{
	uint64_t idx = ts > s->t0 ? (ts - s->t0) / s->bin_ns : 0;

	/* past the last bin: halve the resolution until it fits */
	while (idx >= SERIES_MAX_BINS) {
		size_t i;

		for (i = 0; i < SERIES_MAX_BINS / 2; i++) {
			s->bins[i].xacts = s->bins[2 * i].xacts +
					   s->bins[2 * i + 1].xacts;
			s->bins[i].bytes = s->bins[2 * i].bytes +
					   s->bins[2 * i + 1].bytes;
		}
		memset(&s->bins[SERIES_MAX_BINS / 2], 0,
		       SERIES_MAX_BINS / 2 * sizeof(*s->bins));
		s->n = (s->n + 1) / 2;
		s->bin_ns *= 2;
		idx = (ts - s->t0) / s->bin_ns;
	}
	s->bins[idx].xacts++;
	s->bins[idx].bytes += bytes;
	if (idx + 1 > s->n)
		s->n = (size_t)idx + 1;
}

size_t dmakit_trace_series_bins(const struct dmakit_trace_series *s,
				uint64_t *bin_ns)
{
	if (bin_ns)
		*bin_ns = s->bin_ns;
	return s->n;
}

void dmakit_trace_series_bin(const struct dmakit_trace_series *s, size_t i,
			     uint64_t *xacts, uint64_t *bytes)
{
	*xacts = i < s->n ? s->bins[i].xacts : 0;
	*bytes = i < s->n ? s->bins[i].bytes : 0;
}

/* --- drawing --- */

#define W 760
#define H 330
#define ML 70		/* margins: left, right, top, bottom */
#define MR 20
#define MT 30
#define MB 90		/* room for the slanted slot labels */

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

/* A round axis maximum at or above @v: 1, 2, 5 times a power of ten. */
static double nice_max(double v)
{
	double p, m;

	if (v <= 0)
		return 1;
	p = pow(10, floor(log10(v)));
	m = v / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 1000000000ULL)
		snprintf(buf, len, "%.3g s", (double)ns / 1e9);
	else if (ns >= 1000000ULL)
		snprintf(buf, len, "%.3g ms", (double)ns / 1e6);
	else if (ns >= 1000ULL)
		snprintf(buf, len, "%.3g us", (double)ns / 1e3);
	else
		snprintf(buf, len, "%" PRIu64 " ns", ns);
}

static void svg_open(FILE *f, int y, const char *title, bool standalone)
{
	if (standalone)
		fprintf(f, "<g transform=\"translate(0,%d)\">\n", y);
	else
		fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
			"font-family=\"sans-serif\" font-size=\"11\">\n", W, H);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
		"<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">", W, H,
		ML);
	esc(f, title);
	fputs("</text>\n", f);
}

static void svg_close(FILE *f, bool standalone)
{
	fputs(standalone ? "</g>\n" : "</svg>\n", f);
}

static void axes(FILE *f, double ymax, const char *ylabel)
{
	int i;

	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n",
		ML, H - MB, W - MR, H - MB);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n",
		ML, MT, ML, H - MB);
	for (i = 0; i <= 4; i++) {
		int y = H - MB - (H - MB - MT) * i / 4;

		double v = ymax * i / 4;

		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n"
			"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			ML, y, W - MR, y, ML - 4, y + 4);
		fprintf(f, v >= 10 ? "%.0f" : "%.3g", v);
		fputs("</text>\n", f);
	}
	fprintf(f, "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
		"text-anchor=\"middle\">", (H - MB + MT) / 2, (H - MB + MT) / 2);
	esc(f, ylabel);
	fputs("</text>\n", f);
}

/* A log10 y axis from 0.5 (so a count of 1 still shows) to @top. */
static double log_y(double v, double top)
{
	double lo = log10(0.5), hi = log10(top);

	return (double)(H - MB) - (double)(H - MB - MT) * (log10(v) - lo) / (hi - lo);
}

static void log_axes(FILE *f, double top, const char *ylabel)
{
	double v;

	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n",
		ML, H - MB, W - MR, H - MB);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n",
		ML, MT, ML, H - MB);
	for (v = 1; v <= top; v *= 10) {
		double y = log_y(v, top);

		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
			ML, y, W - MR, y, ML - 4, y + 4, v);
	}
	fprintf(f, "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
		"text-anchor=\"middle\">", (H - MB + MT) / 2, (H - MB + MT) / 2);
	esc(f, ylabel);
	fputs("</text>\n", f);
}

/*
 * The terminal's histogram drawn: the same log2 microsecond slots and
 * labels ("32 -> 63"), counts on a log scale so a tail of a few slow
 * transactions is as visible as the bulk.
 */
static void draw_hist(FILE *f, const struct dmakit_trace_hist *h, int y,
		      bool standalone)
{
	uint64_t slots[64], max = 0;
	int first = -1, last = -1, i, n;
	double bw, top = 10;

	svg_open(f, y, "Latency histogram (usecs, log2 slots as in the terminal; "
		 "counts on a log scale)", standalone);
	dmakit_trace_hist_log2(h, 1000, slots, 64);
	for (i = 0; i < 64; i++) {
		if (!slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	while (top < (double)max)
		top *= 10;
	log_axes(f, top, "transactions");
	if (first < 0) {
		fprintf(f, "<text x=\"%d\" y=\"%d\">no transactions</text>\n",
			W / 2, H / 2);
		svg_close(f, standalone);
		return;
	}
	n = last - first + 1;
	bw = (double)(W - ML - MR) / n;
	for (i = first; i <= last; i++) {
		double x = ML + bw * (i - first);
		uint64_t lo = i ? 1ULL << (i - 1) : 0, hi = i ? (1ULL << i) - 1 : 0;
		char label[48];

		snprintf(label, sizeof(label), "%" PRIu64 " -> %" PRIu64, lo, hi);
		if (slots[i]) {
			double yt = log_y((double)slots[i], top);

			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"#4477aa\"><title>%s usecs: %" PRIu64 "</title></rect>\n",
				x + 1, yt, bw - 2, (double)(H - MB) - yt, label, slots[i]);
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" "
			"transform=\"rotate(-45 %.1f %d)\">%s</text>\n",
			x + bw / 2, H - MB + 12, x + bw / 2, H - MB + 12, label);
	}
	svg_close(f, standalone);
}

/*
 * Bins for the picture: whole multiples of the series' bins holding about
 * 100 transactions each on average, so counting noise is ~10 % and a
 * steady load draws as a steady line; between 10 and 150 bins across
 * the run.
 */
static uint64_t display_bin(const struct dmakit_trace_series *s,
			    uint64_t span_ns, uint64_t xacts)
{
	uint64_t bin_ns, want, k, target = xacts / 100;

	dmakit_trace_series_bins(s, &bin_ns);
	if (target < 10)
		target = 10;
	if (target > 150)
		target = 150;
	want = span_ns / target;
	k = want > bin_ns ? (want + bin_ns - 1) / bin_ns : 1;
	return k * bin_ns;
}

static void draw_series(FILE *f, const struct dmakit_trace_plot *p, int y,
			bool standalone)
{
	const struct dmakit_trace_series *s = p->series;
	uint64_t bin_ns, xa, by, span, dbin, total = 0, t;
	size_t n = dmakit_trace_series_bins(s, &bin_ns), i, k, nd;
	double max = 0, ymax, *v;
	bool bytes_known = p->bytes_known;
	char title[160], w[32];

	for (i = 0; i < n; i++) {
		dmakit_trace_series_bin(s, i, &xa, &by);
		total += xa;
	}
	/* the whole run, also its quiet end, not just up to the last end */
	span = (uint64_t)n * bin_ns;
	if (p->stats && p->stats->stop_ns > p->stats->start_ns)
		span = p->stats->stop_ns - p->stats->start_ns;
	if (!span)
		span = 1;
	dbin = display_bin(s, span, total);
	nd = (size_t)((span + dbin - 1) / dbin);
	fmt_ns(w, sizeof(w), dbin);
	snprintf(title, sizeof(title), "%s over the run (%s bins)",
		 bytes_known ? "Throughput" : "Transaction rate (sizes unknown)", w);
	svg_open(f, y, title, standalone);
	v = calloc(nd ? nd : 1, sizeof(*v));
	if (!v) {
		svg_close(f, standalone);
		return;
	}
	for (k = 0, i = 0; k < nd; k++) {
		uint64_t from = k * dbin, to = from + dbin, sum = 0;

		for (; i < n && (uint64_t)i * bin_ns < to; i++) {
			dmakit_trace_series_bin(s, i, &xa, &by);
			sum += bytes_known ? by : xa;
		}
		/* the last bin may be cut short by the end of the run */
		t = (to < span ? to : span) - from;
		v[k] = (double)sum * 1e9 / (double)(t ? t : 1);
		if (bytes_known)
			v[k] /= 1e6;
		if (v[k] > max)
			max = v[k];
	}
	ymax = nice_max(max);
	axes(f, ymax, bytes_known ? "MB/s" : "transactions/s");
	/* under the line: where events were lost, what it shows is short */
	for (k = 0; k < p->nlost; k++) {
		uint64_t t0 = s->t0;
		const struct dmakit_trace_span *g = &p->lost[k];
		double x0, x1;

		if (g->to_ns < t0 || g->from_ns > t0 + span)
			continue;
		x0 = ML + (double)(W - ML - MR) *
			  (double)(g->from_ns > t0 ? g->from_ns - t0 : 0) / (double)span;
		x1 = ML + (double)(W - ML - MR) *
			  (double)(g->to_ns < t0 + span ? g->to_ns - t0 : span) / (double)span;
		fprintf(f, "<rect class=\"lost\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
			"fill=\"#f4b6b6\"><title>events lost</title></rect>\n",
			x0, MT, x1 - x0 < 1 ? 1 : x1 - x0, H - MB - MT);
	}
	if (p->nlost)
		fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#b33\">shaded: events were lost "
			"there, so transactions are missing</text>\n", ML, H - MB + 34);
	for (i = 0; i <= 4; i++)
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.3g s</text>\n",
			ML + (W - ML - MR) * (int)i / 4, H - MB + 16,
			(double)span / 1e9 * (double)i / 4);
	fprintf(f, "<polyline fill=\"none\" stroke=\"#cc6677\" stroke-width=\"1.5\" points=\"");
	for (k = 0; k < nd; k++) {
		/* each bin drawn over the time it covers: a step line */
		uint64_t from = k * dbin, to = from + dbin < span ? from + dbin : span;
		double yv = H - MB - (double)(H - MB - MT) * v[k] / ymax;

		fprintf(f, "%.1f,%.1f %.1f,%.1f ",
			ML + (double)(W - ML - MR) * (double)from / (double)span, yv,
			ML + (double)(W - ML - MR) * (double)to / (double)span, yv);
	}
	fputs("\"/>\n", f);
	free(v);
	svg_close(f, standalone);
}

static void summary_line(FILE *f, const struct dmakit_trace_plot *p)
{
	const struct dmakit_trace_hist *h = p->latency;
	char a[32], b[32], c[32];

	fmt_ns(a, sizeof(a), dmakit_trace_hist_percentile(h, 50));
	fmt_ns(b, sizeof(b), dmakit_trace_hist_percentile(h, 99));
	fmt_ns(c, sizeof(c), dmakit_trace_hist_max(h));
	fprintf(f, "%" PRIu64 " transactions, latency p50 %s, p99 %s, max %s",
		dmakit_trace_hist_count(h), a, b, c);
	if (p->stats) {
		fprintf(f, "; %" PRIu64 " orphan ends, %" PRIu64 " unmatched starts, ",
			p->stats->pair.orphans, p->stats->pair.unmatched_starts);
		if (p->stats->lost_known)
			fprintf(f, "%" PRIu64 " lost events", p->stats->lost_events);
		else
			fputs("lost events unknown", f);
		if (p->stats->pair.coalesced_xacts)
			fprintf(f, "; %" PRIu64 " batched (an end that closed several starts)",
				p->stats->pair.coalesced_xacts);
	}
}

int dmakit_trace_plot_write(const char *path, const struct dmakit_trace_plot *p,
			    char *errmsg, size_t errlen)
{
	size_t len = strlen(path);
	bool svg = len > 4 && !strcmp(path + len - 4, ".svg");
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f)
		return dmakit_errf(errmsg, errlen, -errno, "%s: %s", path,
				   strerror(errno));
	if (svg) {
		fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
			"font-family=\"sans-serif\" font-size=\"11\">\n"
			"<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n"
			"<text x=\"%d\" y=\"20\" font-size=\"15\" font-weight=\"bold\">",
			W, 2 * H + 60, ML);
		esc(f, p->title ? p->title : "dmakit trace");
		fprintf(f, "</text>\n<text x=\"%d\" y=\"40\">", ML);
		summary_line(f, p);
		fputs("</text>\n", f);
		draw_hist(f, p->latency, 50, true);
		draw_series(f, p, 50 + H, true);
		fputs("</svg>\n", f);
	} else {
		fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		      "<title>dmakit trace</title></head>\n"
		      "<body style=\"font-family:sans-serif\">\n<h2>", f);
		esc(f, p->title ? p->title : "dmakit trace");
		fputs("</h2>\n<p>", f);
		summary_line(f, p);
		fputs("</p>\n", f);
		draw_hist(f, p->latency, 0, false);
		fputs("<br>\n", f);
		draw_series(f, p, 0, false);
		fputs("</body></html>\n", f);
	}
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	if (ret)
		return dmakit_errf(errmsg, errlen, ret, "%s: %s", path,
				   strerror(-ret));
	return 0;
}
