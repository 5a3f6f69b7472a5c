// SPDX-License-Identifier: MIT
/*
 * Drives vendorlib like an acquisition program: THREADS threads, thread t
 * on channels 2t and 2t+1 in turn, dma_to_host and dma_from_host in turn,
 * each followed by dma_wait.  Writes the ground truth, one line per call:
 * "<tid> <func 0=to_host 1=from_host> <chan> <bytes> <phase>
 *  <ns before the start call> <ns after dma_wait returned>"
 * (CLOCK_MONOTONIC).
 *
 *   vendorapp OUT THREADS PHASE...  each PHASE "COUNTxGAP_US": COUNT calls
 *                                   per thread, GAP_US apart; with ":stop"
 *                                   appended, once every thread has made
 *                                   its calls the process prints "stop N"
 *                                   (N = 1, 2... in order) and stops itself
 *                                   (SIGSTOP) until SIGCONT: a test can do
 *                                   something between two phases whatever
 *                                   the machine's speed
 * With VENDORAPP_WAIT set it prints "ready" and waits for SIGUSR1 first.
 * With VENDORAPP_OVERLAP set, calls go in twos: both transfers are started,
 * then waited for in the reverse order (two calls open on one thread; each
 * call's window spans both).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int dma_to_host(int chan, void *buf, uint64_t card_addr, size_t bytes);
int dma_from_host(int chan, const void *buf, uint64_t card_addr,
		  size_t bytes);
int dma_wait(int chan);

struct call {
	int func, chan, phase;
	size_t bytes;
	uint64_t before, after;
};

struct worker {
	pthread_t thread;
	int index;
	pid_t tid;
	struct call *calls;
	size_t ncalls;
};

static int nphases;
static unsigned long counts[16], gaps[16];
static bool stop_after[16];
static pthread_barrier_t all_done, all_go;
static bool overlap;

/* Every thread finished phase @p: one of them stops the whole process. */
static void stop_point(int p)
{
	static int stops;

	if (pthread_barrier_wait(&all_done) == PTHREAD_BARRIER_SERIAL_THREAD) {
		printf("stop %d (after phase %d)\n", ++stops, p);
		fflush(stdout);
		raise(SIGSTOP);
	}
	/* nobody starts the next phase before the process was continued */
	pthread_barrier_wait(&all_go);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	static char buf[1 << 20];
	unsigned int seed = (unsigned int)w->index + 7;
	int p;

	w->tid = gettid();
	for (p = 0; p < nphases; p++) {
		unsigned long i;

		for (i = 0; i < counts[p]; i++) {
			struct call *c = &w->calls[w->ncalls++];
			struct timespec gap = { 0, (long)gaps[p] * 1000 };

			c->phase = p;
			c->func = (int)(i % 2);
			c->chan = 2 * w->index +
				  (overlap ? c->func : (int)((i / 2) % 2));
			c->bytes = 4096 * (1 + rand_r(&seed) % 256);
			c->before = now_ns();
			if (c->func == 0)
				dma_to_host(c->chan, buf, 0x1000, c->bytes);
			else
				dma_from_host(c->chan, buf, 0x1000, c->bytes);
			if (overlap && c->func == 0 && i + 1 < counts[p])
				continue;	/* the next call starts before this waits */
			dma_wait(c->chan);
			if (overlap && c->func == 1) {
				struct call *first = c - 1;

				dma_wait(first->chan);
				c->before = first->before;
				first->after = now_ns();
			}
			c->after = now_ns();
			if (gaps[p])
				nanosleep(&gap, NULL);
		}
		if (stop_after[p])
			stop_point(p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker *w;
	unsigned long total = 0;
	int nthreads, i;
	size_t k;
	FILE *out;

	if (argc < 4 || argc - 3 > 16) {
		fprintf(stderr, "usage: vendorapp OUT THREADS COUNTxGAP_US[:stop]...\n");
		return 2;
	}
	nthreads = atoi(argv[2]);
	if (nthreads < 1 || nthreads > 32)
		return 2;
	for (i = 3; i < argc; i++, nphases++) {
		int end = 0;

		if (sscanf(argv[i], "%lux%lu%n", &counts[nphases], &gaps[nphases],
			   &end) != 2)
			return 2;
		if (!strcmp(argv[i] + end, ":stop"))
			stop_after[nphases] = true;
		else if (argv[i][end])
			return 2;
	}
	for (i = 0; i < nphases; i++)
		total += counts[i];
	w = calloc((size_t)nthreads, sizeof(*w));
	if (!w || pthread_barrier_init(&all_done, NULL, (unsigned int)nthreads) ||
	    pthread_barrier_init(&all_go, NULL, (unsigned int)nthreads))
		return 1;
	overlap = getenv("VENDORAPP_OVERLAP") != NULL;
	if (getenv("VENDORAPP_WAIT")) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready\n");
		fflush(stdout);
		sigwait(&set, &sig);
	}
	for (i = 0; i < nthreads; i++) {
		w[i].index = i;
		w[i].calls = calloc(total, sizeof(struct call));
		if (!w[i].calls ||
		    pthread_create(&w[i].thread, NULL, run, &w[i]))
			return 1;
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(w[i].thread, NULL);
	out = fopen(argv[1], "w");
	if (!out)
		return 1;
	for (i = 0; i < nthreads; i++)
		for (k = 0; k < w[i].ncalls; k++) {
			const struct call *c = &w[i].calls[k];

			fprintf(out, "%d %d %d %zu %d %llu %llu\n", (int)w[i].tid,
				c->func, c->chan, c->bytes, c->phase,
				(unsigned long long)c->before,
				(unsigned long long)c->after);
		}
	return fclose(out) ? 1 : 0;
}
