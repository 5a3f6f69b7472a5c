/* SPDX-License-Identifier: MIT */
/*
 * PMU counters sampled at intervals, as 'dmakit pmu EVENT' prints them and
 * as columns of 'dmakit trace --pmu' (tools/pmu_sample.c).
 */
#ifndef DMAKIT_PMU_SAMPLE_H
#define DMAKIT_PMU_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>
#include <dmakit/pmu.h>
#include "json.h"

struct pmu_sample {
	struct dmakit_pmu_counter *counter;
	unsigned int n;
	double *prev, *now;		/* totals at the last and this sample */
	uint64_t t_open_ns, t_prev_ns, t_now_ns;
};

/*
 * Open @events (dmakit_pmu_counter_open()) and take the first reading at
 * @t_ns.  Return 0, or -errno with @err saying why (-EINVAL: a usage
 * error, an unknown PMU, event or term).
 */
int pmu_sample_open(struct pmu_sample *ps, const char *events, uint64_t t_ns,
		    char *err, size_t errlen);
void pmu_sample_close(struct pmu_sample *ps);
/* Read the totals at @t_ns; the previous reading becomes "prev". */
int pmu_sample_read(struct pmu_sample *ps, uint64_t t_ns);
/* Event @i per second between the last two readings (0 if no time passed). */
double pmu_sample_per_s(const struct pmu_sample *ps, unsigned int i);
/* Bytes in one unit of event @i ("MiB" -> 1048576), 0 if not bytes. */
double pmu_sample_unit_bytes(const struct pmu_sample *ps, unsigned int i);
/* "12.3 MB/s" for a byte counter, "4567 ns/s" or "89 /s" otherwise. */
const char *pmu_sample_fmt_rate(const struct pmu_sample *ps, unsigned int i,
				double per_s, char *buf, size_t len);
/*
 * An array member @key of events: name, total (since opening), unit,
 * per_s (and bytes_per_s for byte counters) between the last two readings,
 * or with @whole over all the time since opening.
 */
void pmu_sample_json(const struct pmu_sample *ps, struct dmakit_json *j,
		     const char *key, bool whole);

#endif /* DMAKIT_PMU_SAMPLE_H */
