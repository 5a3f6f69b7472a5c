// SPDX-License-Identifier: MIT
/*
 * The register poller's achieved period and CPU cost at several requested
 * periods, polling a memory word (this machine offers no BAR mappings; a
 * real MMIO read adds its round trip to every poll).  One line per
 * period: requested_ns achieved_ns max_gap_ns cpu_percent polls.
 *
 *   pollbench SECONDS PERIOD_NS...
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <dmakit/reg.h>

static uint64_t word;

static uint64_t read_word(void *src)
{
	return __atomic_load_n((uint64_t *)src, __ATOMIC_ACQUIRE);
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: pollbench SECONDS PERIOD_NS...\n");
		return 2;
	}
	secs = atof(argv[1]);
	for (i = 2; i < argc; i++) {
		struct dmakit_reg_poll_opts o = {
			.read = read_word, .src = &word, .mask = 1, .cpu = -1,
			.period_ns = strtoull(argv[i], NULL, 0),
		};
		struct dmakit_reg_poll_stats s;
		struct dmakit_reg_poller *p;
		struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };
		double c0, t0, c1, t1;
		char err[256];

		if (dmakit_reg_poller_alloc(&p, &o, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		c0 = cpu_s();
		t0 = now_s();
		if (dmakit_reg_poller_start(p, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		nanosleep(&ts, NULL);
		dmakit_reg_poller_stop(p);
		c1 = cpu_s();
		t1 = now_s();
		dmakit_reg_poller_stats(p, &s);
		dmakit_reg_poller_free(p);
		printf("%llu %.0f %llu %.1f %llu\n",
		       (unsigned long long)o.period_ns, s.period_ns,
		       (unsigned long long)s.max_gap_ns,
		       100 * (c1 - c0) / (t1 - t0), (unsigned long long)s.polls);
	}
	return 0;
}
