// SPDX-License-Identifier: MIT
/*
 * Latency histogram: percentiles within the promised error of the exact
 * (sorted) values on several distributions, exact min/max/count/mean,
 * log2 slots as cli_print_log2_hist() expects them, merge and reset;
 * and the throughput series that halves its resolution to stay bounded.
 */
#include <errno.h>
#include <math.h>
#include <dmakit/trace.h>
#include "t.h"

#define N 100000

static uint64_t vals[N];
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* exact nearest-rank percentile */
static uint64_t exact(const uint64_t *sorted, size_t n, double pct)
{
	size_t rank = (size_t)ceil(pct / 100.0 * (double)n);

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static void check_distribution(int kind)
{
	static const double pcts[] = { 1, 10, 50, 90, 99, 99.9 };
	struct dmakit_trace_hist *h;
	long double sum = 0;
	size_t i;

	T_EQ(dmakit_trace_hist_alloc(&h), 0);
	for (i = 0; i < N; i++) {
		uint64_t v;

		switch (kind) {
		case 0:		/* uniform 0..1 ms */
			v = rnd() % 1000000;
			break;
		case 1:		/* log-uniform 1 ns .. 1 s */
			v = (uint64_t)exp((double)(rnd() % 1000000) / 1e6 * log(1e9));
			break;
		default:	/* two narrow modes, like cached/uncached */
			v = (rnd() & 1) ? 2000 + rnd() % 50 : 3000000 + rnd() % 5000;
			break;
		}
		vals[i] = v;
		sum += v;
		dmakit_trace_hist_add(h, v);
	}
	qsort(vals, N, sizeof(vals[0]), cmp_u64);
	T_EQ_U64(dmakit_trace_hist_count(h), N);
	T_EQ_U64(dmakit_trace_hist_min(h), vals[0]);
	T_EQ_U64(dmakit_trace_hist_max(h), vals[N - 1]);
	T_ASSERT(fabs(dmakit_trace_hist_mean(h) - (double)(sum / N)) < 1);
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		double want = (double)exact(vals, N, pcts[i]);
		double got = (double)dmakit_trace_hist_percentile(h, pcts[i]);

		/* half a bucket: 1/128 relative, or 1 for small values */
		if (fabs(got - want) > want / 128 + 1)
			T_FAIL("kind %d p%g: got %.0f, exact %.0f", kind,
			       pcts[i], got, want);
	}
	T_EQ_U64(dmakit_trace_hist_percentile(h, 100), vals[N - 1]);
	T_EQ_U64(dmakit_trace_hist_percentile(h, 0), vals[0]);
	dmakit_trace_hist_free(h);
}

static void uniform(void) { check_distribution(0); }
static void log_uniform(void) { check_distribution(1); }
static void bimodal(void) { check_distribution(2); }

static void small_exact(void)
{
	struct dmakit_trace_hist *h;
	uint64_t v;

	T_EQ(dmakit_trace_hist_alloc(&h), 0);
	T_EQ_U64(dmakit_trace_hist_percentile(h, 50), 0);	/* empty */
	T_EQ_U64(dmakit_trace_hist_min(h), 0);
	for (v = 1; v <= 10; v++)
		dmakit_trace_hist_add(h, v);
	/* values below 64 have a bucket each: exact */
	T_EQ_U64(dmakit_trace_hist_percentile(h, 50), 5);
	T_EQ_U64(dmakit_trace_hist_percentile(h, 90), 9);
	T_EQ_U64(dmakit_trace_hist_percentile(h, 99), 10);
	dmakit_trace_hist_reset(h);
	T_EQ_U64(dmakit_trace_hist_count(h), 0);
	T_EQ_U64(dmakit_trace_hist_max(h), 0);
	dmakit_trace_hist_free(h);
}

static void log2_slots(void)
{
	struct dmakit_trace_hist *h;
	uint64_t slots[64];

	T_EQ(dmakit_trace_hist_alloc(&h), 0);
	dmakit_trace_hist_add(h, 0);
	dmakit_trace_hist_add(h, 1);
	dmakit_trace_hist_add(h, 3);
	dmakit_trace_hist_add(h, 1000);		/* 512..1023 */
	dmakit_trace_hist_add(h, 1024);		/* 1024..2047 */
	dmakit_trace_hist_add(h, 2047);
	dmakit_trace_hist_add(h, 5000000);	/* 5000 us: 4096..8191 */
	dmakit_trace_hist_log2(h, 1, slots, 64);
	T_EQ_U64(slots[0], 1);
	T_EQ_U64(slots[1], 1);
	T_EQ_U64(slots[2], 1);
	T_EQ_U64(slots[10], 1);
	T_EQ_U64(slots[11], 2);
	dmakit_trace_hist_log2(h, 1000, slots, 64);	/* microseconds */
	T_EQ_U64(slots[0], 3);		/* 0, 1, 3 ns: 0 us */
	T_EQ_U64(slots[1], 2);		/* 1000, 1024 ns: 1 us */
	T_EQ_U64(slots[2], 1);		/* 2047 ns: 2 us */
	T_EQ_U64(slots[13], 1);		/* 5000 us */
	dmakit_trace_hist_free(h);
}

static void merge(void)
{
	struct dmakit_trace_hist *a, *b;

	T_EQ(dmakit_trace_hist_alloc(&a), 0);
	T_EQ(dmakit_trace_hist_alloc(&b), 0);
	dmakit_trace_hist_add(a, 10);
	dmakit_trace_hist_add(b, 20);
	dmakit_trace_hist_add(b, 5);
	dmakit_trace_hist_merge(a, b);
	T_EQ_U64(dmakit_trace_hist_count(a), 3);
	T_EQ_U64(dmakit_trace_hist_min(a), 5);
	T_EQ_U64(dmakit_trace_hist_max(a), 20);
	T_EQ_U64(dmakit_trace_hist_percentile(a, 50), 10);
	dmakit_trace_hist_free(a);
	dmakit_trace_hist_free(b);
}

static void series_bounded(void)
{
	struct dmakit_trace_series *s;
	uint64_t bin, xa, by, total_x = 0, total_b = 0, t;
	size_t n, i;

	T_EQ(dmakit_trace_series_alloc(&s, 1000, 10), 0);
	/* one transaction of 100 bytes every 3 ns for 100000 ns */
	for (t = 1000; t < 101000; t += 3)
		dmakit_trace_series_add(s, t, 100);
	n = dmakit_trace_series_bins(s, &bin);
	T_ASSERT(n <= 2048);
	T_ASSERT(bin > 10);		/* resolution was halved */
	T_EQ(bin % 10, 0);
	for (i = 0; i < n; i++) {
		dmakit_trace_series_bin(s, i, &xa, &by);
		total_x += xa;
		total_b += by;
	}
	T_EQ_U64(total_x, (101000 - 1000 + 2) / 3);
	T_EQ_U64(total_b, total_x * 100);
	dmakit_trace_series_free(s);
}

int main(void)
{
	T_RUN(uniform);
	T_RUN(log_uniform);
	T_RUN(bimodal);
	T_RUN(small_exact);
	T_RUN(log2_slots);
	T_RUN(merge);
	T_RUN(series_bounded);
	return t_exit();
}
