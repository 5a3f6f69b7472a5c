// SPDX-License-Identifier: MIT
/*
 * A controllable event source for the tracing benchmark: getppid() calls
 * (each one syscalls:sys_enter_getppid + sys_exit_getppid) at a given rate
 * for a given time, or as fast as possible with rate 0.  Prints the calls
 * made and the achieved rate.
 *
 *   evsrc RATE_PER_S SECONDS [THREADS]
 *
 * With THREADS > 1 the rate is shared: each thread calls at RATE/THREADS
 * (one thread on a 2-CPU machine cannot reach 1 M traced calls/s; two
 * can).  The line printed is the total over all threads.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct source {
	pthread_t thread;
	double rate;		/* calls/s of this thread, 0 = unpaced */
	double secs;
	unsigned long long calls;
	double elapsed;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct source *s = arg;
	double t0 = now(), t;

	for (;;) {
		/* in batches of 64 between clock reads */
		for (int i = 0; i < 64; i++)
			syscall(SYS_getppid);
		s->calls += 64;
		t = now() - t0;
		if (t >= s->secs)
			break;
		if (s->rate > 0) {
			double ahead = (double)s->calls / s->rate - t;

			if (ahead > 0.0002) {
				struct timespec ts = { 0, (long)(ahead * 1e9) };

				nanosleep(&ts, NULL);
			}
		}
	}
	s->elapsed = now() - t0;
	return NULL;
}

int main(int argc, char **argv)
{
	double rate, secs, longest = 0;
	unsigned long long calls = 0;
	int nthreads = 1;
	struct source *src;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: evsrc RATE_PER_S SECONDS [THREADS]\n");
		return 2;
	}
	rate = atof(argv[1]);
	secs = atof(argv[2]);
	if (argc == 4)
		nthreads = atoi(argv[3]);
	if (nthreads < 1 || nthreads > 256) {
		fprintf(stderr, "evsrc: THREADS must be 1..256\n");
		return 2;
	}
	src = calloc((size_t)nthreads, sizeof(*src));
	if (!src)
		return 1;
	for (int i = 0; i < nthreads; i++) {
		src[i].rate = rate / nthreads;
		src[i].secs = secs;
		if (pthread_create(&src[i].thread, NULL, run, &src[i])) {
			fprintf(stderr, "evsrc: cannot start thread %d\n", i);
			return 1;
		}
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(src[i].thread, NULL);
		calls += src[i].calls;
		if (src[i].elapsed > longest)
			longest = src[i].elapsed;
	}
	printf("%llu %.1f\n", calls, (double)calls / longest);
	free(src);
	return 0;
}
