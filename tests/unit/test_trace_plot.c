// SPDX-License-Identifier: MIT
/*
 * The picture a user wants: the time axis spans the whole run (also a
 * quiet end), a steady random load draws as a steady line, the histogram
 * has the terminal's slots and a log count axis, unknown sizes draw a
 * transaction rate rather than a zero throughput, gaps of lost events are
 * shaded where they were.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dmakit/trace.h"
#include "t.h"

#define T0 1000000000ULL
#define SEC 1000000000ULL

static char path[512];
static char *svg;

/* Exponential gaps from a fixed LCG: random-looking, same every run. */
static uint64_t next_gap(uint64_t *state, double rate)
{
	double u;

	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	u = ((double)(*state >> 11) + 0.5) / 9007199254740992.0;
	return (uint64_t)(-log(u) / rate * 1e9);
}

/* 2000 xact/s of 64 KiB for 3 s of a 4 s run; latencies 30 us..2 ms. */
static int draw(bool bytes_known, const struct dmakit_trace_span *lost,
		size_t nlost)
{
	struct dmakit_trace_series *series;
	struct dmakit_trace_hist *hist;
	struct dmakit_trace_stats st;
	struct dmakit_trace_plot p;
	uint64_t t = T0, seed = 42;
	char err[256];
	FILE *f;
	long len;
	int ret;

	if (dmakit_trace_series_alloc(&series, T0, 10000000ULL) ||
	    dmakit_trace_hist_alloc(&hist))
		return -1;
	while ((t += next_gap(&seed, 2000)) < T0 + 3 * SEC) {
		dmakit_trace_series_add(series, t, bytes_known ? 65536 : 0);
		dmakit_trace_hist_add(hist, 30000 + t % 2000000);
	}
	memset(&st, 0, sizeof(st));
	st.start_ns = T0;
	st.stop_ns = T0 + 4 * SEC;
	st.lost_known = true;
	memset(&p, 0, sizeof(p));
	p.title = "test";
	p.latency = hist;
	p.series = series;
	p.bytes_known = bytes_known;
	p.stats = &st;
	p.lost = lost;
	p.nlost = nlost;
	snprintf(path, sizeof(path), "%s/dmakit-plot-%d.svg",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	ret = dmakit_trace_plot_write(path, &p, err, sizeof(err));
	dmakit_trace_series_free(series);
	dmakit_trace_hist_free(hist);
	if (ret)
		return ret;
	free(svg);
	svg = NULL;
	f = fopen(path, "r");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	svg = calloc(1, (size_t)len + 1);
	if (!svg || fread(svg, 1, (size_t)len, f) != (size_t)len)
		ret = -1;
	fclose(f);
	unlink(path);
	return ret;
}

static void whole_run_and_steady(void)
{
	static double px[400], py[400];
	const char *pts;
	double sum = 0, mean, dev = 0;
	int n = 0, k, nload = 0, used;

	T_EQ(draw(true, NULL, 0), 0);
	pts = strstr(svg, "<polyline");
	T_ASSERT(pts && (pts = strstr(pts, "points=\"")));
	pts += 8;
	/* a step line: two points per bin, its left and right edge */
	while (n < 400 && sscanf(pts, "%lf,%lf %n", &px[n], &py[n], &used) == 2) {
		n++;
		pts += used;
	}
	T_ASSERT(n % 2 == 0 && n / 2 >= 10 && n / 2 <= 150);
	T_ASSERT(fabs(px[0] - 70) < 0.5);
	T_ASSERT(fabs(px[n - 1] - 740) < 0.5);	/* the axis ends with the run */
	/* the quiet last second draws zero (y = 240, the axis) */
	T_ASSERT(fabs(py[n - 1] - 240) < 0.5);
	/* bins wholly inside the load (the first 3 s of 4): steady */
	for (k = 0; k < n / 2; k++) {
		if (px[2 * k + 1] > 70 + 670 * 0.75 + 0.5)
			break;
		sum += 240 - py[2 * k];
		nload++;
	}
	T_ASSERT(nload >= 5);
	mean = sum / nload;
	for (k = 0; k < nload; k++)
		dev += (240 - py[2 * k] - mean) * (240 - py[2 * k] - mean);
	T_ASSERT(sqrt(dev / nload) / mean < 0.15);
	T_ASSERT(strstr(svg, "Throughput over the run"));
	T_ASSERT(strstr(svg, ">4 s<"));
}

static void histogram_as_terminal(void)
{
	T_EQ(draw(true, NULL, 0), 0);
	T_ASSERT(strstr(svg, "usecs"));
	T_ASSERT(strstr(svg, ">32 -> 63<"));
	T_ASSERT(strstr(svg, ">1024 -> 2047<"));
	/* a log count axis: ticks at powers of ten */
	T_ASSERT(strstr(svg, ">1</text>"));
	T_ASSERT(strstr(svg, ">10</text>"));
	T_ASSERT(strstr(svg, ">100</text>"));
}

static void unknown_sizes(void)
{
	T_EQ(draw(false, NULL, 0), 0);
	T_ASSERT(strstr(svg, "Transaction rate (sizes unknown)"));
	T_ASSERT(!strstr(svg, "MB/s"));
}

/* Gaps of lost events shaded where they were, clipped to the run. */
static void lost_shaded(void)
{
	static const struct dmakit_trace_span lost[] = {
		{ T0 + SEC, T0 + SEC + SEC / 10 },	/* 1.0..1.1 s */
		{ T0 + 2 * SEC, T0 + 2 * SEC },		/* an instant: 1 px */
		{ T0 + 5 * SEC, T0 + 6 * SEC },		/* after the run */
	};
	double x, w;
	const char *r;

	T_EQ(draw(true, lost, 3), 0);
	r = strstr(svg, "class=\"lost\"");
	T_ASSERT(r && sscanf(r, "class=\"lost\" x=\"%lf\" y=\"%*d\" width=\"%lf\"", &x, &w) == 2);
	/* 1 s of 4 along 670 px from x = 70 */
	T_ASSERT(fabs(x - (70 + 670 * 0.25)) < 0.2);
	T_ASSERT(fabs(w - 670 * 0.025) < 0.2);
	r = strstr(r + 1, "class=\"lost\"");
	T_ASSERT(r && sscanf(r, "class=\"lost\" x=\"%lf\" y=\"%*d\" width=\"%lf\"", &x, &w) == 2);
	T_ASSERT(fabs(x - (70 + 670 * 0.5)) < 0.2 && w == 1);
	T_ASSERT(!strstr(r + 1, "class=\"lost\""));
	T_ASSERT(strstr(svg, "events were lost"));
	T_EQ(draw(true, NULL, 0), 0);
	T_ASSERT(!strstr(svg, "events were lost"));
}

/* Nothing traced, a run of no length: a picture saying so, no NaN. */
static void empty_run(void)
{
	struct dmakit_trace_series *series;
	struct dmakit_trace_hist *hist;
	struct dmakit_trace_stats st;
	struct dmakit_trace_plot p;
	char err[256], out[512];
	FILE *f;
	char buf[16384];
	size_t n;

	T_EQ(dmakit_trace_series_alloc(&series, T0, 0), 0);
	T_EQ(dmakit_trace_hist_alloc(&hist), 0);
	memset(&st, 0, sizeof(st));
	st.start_ns = st.stop_ns = T0;
	memset(&p, 0, sizeof(p));
	p.latency = hist;
	p.series = series;
	p.stats = &st;
	snprintf(out, sizeof(out), "%s/dmakit-plot-empty-%d.html",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	T_EQ(dmakit_trace_plot_write(out, &p, err, sizeof(err)), 0);
	dmakit_trace_series_free(series);
	dmakit_trace_hist_free(hist);
	f = fopen(out, "r");
	T_ASSERT(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	unlink(out);
	buf[n] = '\0';
	T_ASSERT(strstr(buf, "no transactions"));
	T_ASSERT(!strstr(buf, "nan") && !strstr(buf, "inf"));
	T_ASSERT(strstr(buf, "lost events unknown"));	/* lost_known false */
}

int main(void)
{
	T_RUN(whole_run_and_steady);
	T_RUN(histogram_as_terminal);
	T_RUN(unknown_sizes);
	T_RUN(lost_shaded);
	T_RUN(empty_run);
	free(svg);
	return t_exit();
}
