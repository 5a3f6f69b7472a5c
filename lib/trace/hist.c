// SPDX-License-Identifier: MIT
/*
 * Latency histogram with bounded relative error: values below 64 have a
 * bucket each; above, every power of two [2^e, 2^(e+1)) is split into 64
 * equal sub-buckets, so a bucket's width is at most 1/64 of its values.
 * Percentiles report the bucket's midpoint clamped to the exact min/max.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dmakit/trace.h"

#define SUB_BITS	6
#define SUB		(1u << SUB_BITS)		/* 64 */
/* exponents SUB_BITS..63 each get SUB buckets, plus SUB linear ones */
#define NBUCKETS	(SUB + (64 - SUB_BITS) * SUB)

struct dmakit_trace_hist {
	uint64_t count;
	uint64_t min, max;
	uint64_t sum;			/* ns: overflows after 584 years */
	uint64_t bucket[NBUCKETS];
};

static unsigned int bucket_of(uint64_t v)
{
	unsigned int e;

	if (v < SUB)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);	/* >= SUB_BITS */
	return SUB + (e - SUB_BITS) * SUB +
	       (unsigned int)((v >> (e - SUB_BITS)) - SUB);
}

/* Lowest value of bucket @b and its width. */
static void bucket_range(unsigned int b, uint64_t *lo, uint64_t *width)
{
	unsigned int e, sub;

	if (b < SUB) {
		*lo = b;
		*width = 1;
		return;
	}
	e = (b - SUB) / SUB + SUB_BITS;
	sub = (b - SUB) % SUB;
	*width = 1ULL << (e - SUB_BITS);
	*lo = (1ULL << e) + (uint64_t)sub * *width;
}

int dmakit_trace_hist_alloc(struct dmakit_trace_hist **histp)
{
	struct dmakit_trace_hist *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->min = UINT64_MAX;
	*histp = h;
	return 0;
}

void dmakit_trace_hist_free(struct dmakit_trace_hist *hist)
{
	free(hist);
}

void dmakit_trace_hist_reset(struct dmakit_trace_hist *hist)
{
	memset(hist, 0, sizeof(*hist));
	hist->min = UINT64_MAX;
}

void dmakit_trace_hist_add(struct dmakit_trace_hist *hist, uint64_t value)
{
	hist->bucket[bucket_of(value)]++;
	hist->count++;
	hist->sum += value;
	if (value < hist->min)
		hist->min = value;
	if (value > hist->max)
		hist->max = value;
}

void dmakit_trace_hist_merge(struct dmakit_trace_hist *dst,
			     const struct dmakit_trace_hist *src)
{
	unsigned int i;

	if (!src->count)
		return;
	for (i = 0; i < NBUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t dmakit_trace_hist_count(const struct dmakit_trace_hist *hist)
{
	return hist->count;
}

uint64_t dmakit_trace_hist_min(const struct dmakit_trace_hist *hist)
{
	return hist->count ? hist->min : 0;
}

uint64_t dmakit_trace_hist_max(const struct dmakit_trace_hist *hist)
{
	return hist->max;
}

double dmakit_trace_hist_mean(const struct dmakit_trace_hist *hist)
{
	return hist->count ? (double)hist->sum / (double)hist->count : 0;
}

uint64_t dmakit_trace_hist_percentile(const struct dmakit_trace_hist *hist,
				      double pct)
{
	uint64_t rank, seen = 0, lo, width, v;
	unsigned int b;

	if (!hist->count)
		return 0;
	if (pct <= 0)
		return hist->min;
	if (pct >= 100)
		return hist->max;
	/* nearest rank: the smallest value with at least pct% at or below */
	rank = (uint64_t)((pct / 100.0) * (double)hist->count + 0.999999999);
	if (rank < 1)
		rank = 1;
	for (b = 0; b < NBUCKETS; b++) {
		seen += hist->bucket[b];
		if (seen >= rank)
			break;
	}
	bucket_range(b, &lo, &width);
	v = lo + width / 2;
	if (v < hist->min)
		v = hist->min;
	if (v > hist->max)
		v = hist->max;
	return v;
}

void dmakit_trace_hist_log2(const struct dmakit_trace_hist *hist,
			    uint64_t divisor, uint64_t *slots, int nslots)
{
	unsigned int b;
	uint64_t lo, width;

	if (!divisor)
		divisor = 1;
	memset(slots, 0, sizeof(*slots) * (size_t)nslots);
	for (b = 0; b < NBUCKETS; b++) {
		uint64_t v;
		int slot;

		if (!hist->bucket[b])
			continue;
		bucket_range(b, &lo, &width);
		/*
		 * A bucket never straddles a power of two, and dividing keeps
		 * it within one slot unless the divisor is not a power of two;
		 * its lowest value decides.
		 */
		v = lo / divisor;
		slot = v ? 64 - __builtin_clzll(v) : 0;
		if (slot >= nslots)
			slot = nslots - 1;
		slots[slot] += hist->bucket[b];
	}
}
