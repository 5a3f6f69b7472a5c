// SPDX-License-Identifier: MIT
/* PMU counters sampled at intervals (see pmu_sample.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dmakit.h>
#include "cli.h"
#include "pmu_sample.h"

int pmu_sample_open(struct pmu_sample *ps, const char *events, uint64_t t_ns,
		    char *err, size_t errlen)
{
	int ret;

	memset(ps, 0, sizeof(*ps));
	ret = dmakit_pmu_counter_open(&ps->counter, events, err, errlen);
	if (ret)
		return ret;
	ps->n = dmakit_pmu_counter_nevents(ps->counter);
	ps->prev = calloc(ps->n, sizeof(*ps->prev));
	ps->now = calloc(ps->n, sizeof(*ps->now));
	if (!ps->prev || !ps->now) {
		pmu_sample_close(ps);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = dmakit_pmu_counter_read(ps->counter, ps->now);
	if (ret) {
		pmu_sample_close(ps);
		snprintf(err, errlen, "reading the counters: %s",
			 dmakit_strerror(ret));
		return ret;
	}
	memcpy(ps->prev, ps->now, ps->n * sizeof(*ps->now));
	ps->t_open_ns = ps->t_prev_ns = ps->t_now_ns = t_ns;
	return 0;
}

void pmu_sample_close(struct pmu_sample *ps)
{
	if (ps->counter)
		dmakit_pmu_counter_close(ps->counter);
	free(ps->prev);
	free(ps->now);
	memset(ps, 0, sizeof(*ps));
}

int pmu_sample_read(struct pmu_sample *ps, uint64_t t_ns)
{
	memcpy(ps->prev, ps->now, ps->n * sizeof(*ps->now));
	ps->t_prev_ns = ps->t_now_ns;
	ps->t_now_ns = t_ns;
	return dmakit_pmu_counter_read(ps->counter, ps->now);
}

double pmu_sample_per_s(const struct pmu_sample *ps, unsigned int i)
{
	double secs = (double)(ps->t_now_ns - ps->t_prev_ns) / 1e9;

	return secs > 0 ? (ps->now[i] - ps->prev[i]) / secs : 0;
}

double pmu_sample_unit_bytes(const struct pmu_sample *ps, unsigned int i)
{
	const char *unit = dmakit_pmu_counter_unit(ps->counter, i);

	if (!strcmp(unit, "B") || !strcmp(unit, "Bytes") || !strcmp(unit, "bytes"))
		return 1;
	if (!strcmp(unit, "KiB"))
		return 1024;
	if (!strcmp(unit, "MiB"))
		return 1048576;
	if (!strcmp(unit, "GiB"))
		return 1073741824.0;
	return 0;
}

const char *pmu_sample_fmt_rate(const struct pmu_sample *ps, unsigned int i,
				double per_s, char *buf, size_t len)
{
	double b = pmu_sample_unit_bytes(ps, i);
	const char *unit = dmakit_pmu_counter_unit(ps->counter, i);

	if (b)
		return cli_fmt_rate(buf, len, per_s * b);
	snprintf(buf, len, "%.6g %s/s", per_s, unit);
	return buf;
}

void pmu_sample_json(const struct pmu_sample *ps, struct dmakit_json *j,
		     const char *key, bool whole)
{
	double secs = (double)(ps->t_now_ns - ps->t_open_ns) / 1e9;
	unsigned int i;

	dmakit_json_arr_begin(j, key);
	for (i = 0; i < ps->n; i++) {
		double per_s = pmu_sample_per_s(ps, i),
		       b = pmu_sample_unit_bytes(ps, i);

		if (whole)
			per_s = secs > 0 ? ps->now[i] / secs : 0;
		dmakit_json_obj_begin(j, NULL);
		dmakit_json_str(j, "name", dmakit_pmu_counter_name(ps->counter, i));
		dmakit_json_double(j, "total", ps->now[i]);
		dmakit_json_str(j, "unit", dmakit_pmu_counter_unit(ps->counter, i));
		dmakit_json_double(j, "per_s", per_s);
		if (b)
			dmakit_json_double(j, "bytes_per_s", per_s * b);
		dmakit_json_obj_end(j);
	}
	dmakit_json_arr_end(j);
}
