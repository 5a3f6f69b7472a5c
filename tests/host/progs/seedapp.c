// SPDX-License-Identifier: MIT
/*
 * Drives seedlib like the user's program: dma_from_host then dma_wait,
 * and writes the ground truth, one line per transaction:
 * "<ns before dma_from_host> <ns after dma_wait returned>" (CLOCK_MONOTONIC).
 *
 *   seedapp OUT PHASES...   each phase "COUNTxGAP_US[:START_US:WAIT_US]"
 *                           or "pause:MS"; it waits for SIGUSR1 first
 *                           when SEEDAPP_WAIT is set (tracer ready).
 *
 * Phase "ids:COUNT" instead submits transfers with ids in threes on two
 * channels and completes each three out of order (2nd, 1st, 3rd), writing
 * "<id> <ns before submit> <ns after complete>".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void seed_set_delays(unsigned int start, unsigned int wait);
int dma_from_host(const void *buf, unsigned long len);
int dma_wait(int id);
long dma_submit_id(long id, unsigned long len, const char *dev,
		   unsigned int chan);
int dma_complete_id(long id, int status, const char *dev,
		    unsigned int chan);

static unsigned long long now_ns(void);
static void sleep_us(unsigned long us);

static void out_of_order(FILE *out, unsigned long count)
{
	static const int order[3] = { 1, 0, 2 };
	unsigned long long t0[3];
	unsigned long base, k;
	int j;

	for (base = 1; base + 2 <= count; base += 3) {
		for (j = 0; j < 3; j++) {
			t0[j] = now_ns();
			dma_submit_id((long)(base + j), 4096, "dmakit0", (base + j) % 2);
		}
		for (j = 0; j < 3; j++) {
			k = base + (unsigned long)order[j];
			sleep_us(500);
			dma_complete_id((long)k, 0, "dmakit0", k % 2);
			fprintf(out, "%lu %llu %llu\n", k, t0[order[j]], now_ns());
		}
	}
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL +
	       (unsigned long long)ts.tv_nsec;
}

static void sleep_us(unsigned long us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000),
			       .tv_nsec = (long)(us % 1000000) * 1000 };

	if (us)
		nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	static char buf[4096];
	FILE *out;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: seedapp OUT PHASE...\n");
		return 2;
	}
	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	if (getenv("SEEDAPP_WAIT")) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready\n");
		fflush(stdout);
		sigwait(&set, &sig);
	}
	for (i = 2; i < argc; i++) {
		unsigned long count = 0, gap = 0, st = 0, wt = 0, k;

		if (!strncmp(argv[i], "ids:", 4)) {
			out_of_order(out, strtoul(argv[i] + 4, NULL, 10));
			continue;
		}
		if (!strncmp(argv[i], "pause:", 6)) {
			sleep_us(strtoul(argv[i] + 6, NULL, 10) * 1000);
			continue;
		}
		if (sscanf(argv[i], "%lux%lu:%lu:%lu", &count, &gap, &st, &wt) < 2) {
			fprintf(stderr, "bad phase '%s'\n", argv[i]);
			return 2;
		}
		seed_set_delays((unsigned int)st, (unsigned int)wt);
		for (k = 0; k < count; k++) {
			unsigned long long t0 = now_ns(), t1;
			int id = dma_from_host(buf, sizeof(buf));

			dma_wait(id);
			t1 = now_ns();
			fprintf(out, "%llu %llu\n", t0, t1);
			sleep_us(gap);
		}
	}
	return fclose(out) ? 1 : 0;
}
