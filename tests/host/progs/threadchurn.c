// SPDX-License-Identifier: MIT
/*
 * A process that creates and ends threads one after another (trace --pid,
 * tests/host/trace_uprobe.sh): `threadchurn SHORT LONG HOLD_MS`: SHORT threads,
 * one after another, each one transaction (churn_begin -> churn_end) and
 * gone; then LONG threads, each holding HOLD_MS before its transaction and
 * after it, so the tracer has read its events while it lives.  Waits for
 * SIGUSR1 first when THREADCHURN_WAIT is set (prints "ready").
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) int churn_begin(int n)
{
	__asm__ volatile("" ::: "memory");
	return n;
}

__attribute__((noinline)) int churn_end(int n)
{
	__asm__ volatile("" ::: "memory");
	return n;
}

static int hold_ms;

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

static void *one(void *arg)
{
	int n = (int)(long)arg;

	if (hold_ms)
		pause_ms(hold_ms);
	churn_begin(n);
	churn_end(n);
	if (hold_ms)
		pause_ms(hold_ms);
	return NULL;
}

static int run(int count, int start)
{
	int i;

	for (i = 0; i < count; i++) {
		pthread_t th;

		if (pthread_create(&th, NULL, one, (void *)(long)(start + i)))
			return -1;
		pthread_join(th, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int nshort, nlong;
	sigset_t set;
	int sig;

	if (argc != 4)
		return 2;
	nshort = atoi(argv[1]);
	nlong = atoi(argv[2]);
	if (getenv("THREADCHURN_WAIT")) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready\n");
		fflush(stdout);
		sigwait(&set, &sig);
	}
	if (run(nshort, 0))
		return 1;
	hold_ms = atoi(argv[3]);
	return run(nlong, nshort) ? 1 : 0;
}
