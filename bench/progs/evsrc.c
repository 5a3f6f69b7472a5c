// SPDX-License-Identifier: MIT
/*
 * A controllable event source for the tracing benchmark: getppid() calls
 * (each one syscalls:sys_enter_getppid + sys_exit_getppid) at a given rate
 * for a given time, or as fast as possible with rate 0.  Prints the calls
 * made and the achieved rate.
 *
 *   evsrc RATE_PER_S SECONDS
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double rate, secs, t0, t;
	unsigned long long calls = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: evsrc RATE_PER_S SECONDS\n");
		return 2;
	}
	rate = atof(argv[1]);
	secs = atof(argv[2]);
	t0 = now();
	for (;;) {
		/* in batches of 64 between clock reads */
		for (int i = 0; i < 64; i++)
			syscall(SYS_getppid);
		calls += 64;
		t = now() - t0;
		if (t >= secs)
			break;
		if (rate > 0) {
			double ahead = (double)calls / rate - t;

			if (ahead > 0.0002) {
				struct timespec ts = { 0, (long)(ahead * 1e9) };

				nanosleep(&ts, NULL);
			}
		}
	}
	t = now() - t0;
	printf("%llu %.1f\n", calls, (double)calls / t);
	return 0;
}
