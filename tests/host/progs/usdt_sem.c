// SPDX-License-Identifier: MIT
/*
 * USDT probes guarded by semaphores (as dtrace -G / -h generated code
 * does): the probes fire only while a tracer has raised the semaphore.
 * After SIGUSR1 (or at once without SEM_WAIT), COUNT rounds of
 * "begin ... 1 ms ... finish"; prints how many rounds saw the semaphore.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

__extension__ unsigned short semtest_begin_semaphore
	__attribute__((unused)) __attribute__((section(".probes")));
__extension__ unsigned short semtest_finish_semaphore
	__attribute__((unused)) __attribute__((section(".probes")));

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 1000000 };
	long n = argc > 1 ? atol(argv[1]) : 10, i, fired = 0;

	if (getenv("SEM_WAIT")) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready\n");
		fflush(stdout);
		sigwait(&set, &sig);
	}
	for (i = 0; i < n; i++) {
		if (semtest_begin_semaphore && semtest_finish_semaphore) {
			DTRACE_PROBE1(semtest, begin, i);
			nanosleep(&ms, NULL);
			DTRACE_PROBE1(semtest, finish, i);
			fired++;
		}
	}
	printf("fired %ld\n", fired);
	return 0;
}
