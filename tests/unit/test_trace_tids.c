// SPDX-License-Identifier: MIT
/*
 * The tracefs backend's --pid thread cache (lib/trace/tids.c), on this
 * process's own threads: a new thread is ours, another process's is not,
 * an ended thread stays known until every event before its end is read,
 * one that ended unseen is found in the kernel's saved_tgids record, and a process that creates and ends thousands of threads keeps the
 * cache small while each new thread is still recognised.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"
#include "trace/tids.h"
#include "t.h"

struct worker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int32_t tid;
	bool release;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&w->lock);
	w->tid = (int32_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&w->cond);
	while (!w->release)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Start a thread and wait until it has said its tid. */
static int start(struct worker *w, pthread_t *th)
{
	*w = (struct worker){ PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false };
	if (pthread_create(th, NULL, work, w))
		return -1;
	pthread_mutex_lock(&w->lock);
	while (!w->tid)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static void end(struct worker *w, pthread_t th)
{
	pthread_mutex_lock(&w->lock);
	w->release = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(th, NULL);
}

/* A tid that is surely no thread of ours: a fresh child process's pid. */
static int32_t other_process(void)
{
	pid_t child = fork();

	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	return (int32_t)child;
}

static void ours_and_not_ours(void)
{
	struct trace_tids t;
	struct worker w;
	pthread_t th;

	trace_tids_init(&t, getpid(), NULL);
	trace_tids_seed(&t);
	T_ASSERT(trace_tids_is_ours(&t, (int32_t)getpid(), 0, 0));
	T_ASSERT(!start(&w, &th));
	T_ASSERT(trace_tids_is_ours(&t, w.tid, 0, 0));
	end(&w, th);
	/* ended, but events read later still count */
	T_ASSERT(trace_tids_is_ours(&t, w.tid, 0, 0));
	T_ASSERT(!trace_tids_is_ours(&t, other_process(), 0, 0));
	T_ASSERT(!trace_tids_is_ours(&t, 1, 0, 0));
	trace_tids_free(&t);
}

static void ended_thread_kept_until_read(void)
{
	struct trace_tids t;
	struct worker w;
	pthread_t th;
	uint64_t before;
	int32_t i;

	trace_tids_init(&t, getpid(), NULL);
	T_ASSERT(!start(&w, &th));
	T_ASSERT(trace_tids_is_ours(&t, w.tid, 0, 0));
	end(&w, th);
	/* many prunes, nothing read yet: the ended thread must stay known */
	before = dmakit_now_ns();
	for (i = 0; i < 2000; i++)
		trace_tids_is_ours(&t, 0x7ffffff0 - i, 0, before);
	T_ASSERT(trace_tids_is_ours(&t, w.tid, 0, before));
	T_ASSERT(t.cap <= 64);
	/* once everything up to now has been read, it is forgotten */
	for (i = 0; i < 2000; i++)
		trace_tids_is_ours(&t, 0x7ffffff0 - i, 0, UINT64_MAX);
	T_ASSERT(!trace_tids_is_ours(&t, w.tid, 0, UINT64_MAX));
	T_ASSERT(t.cap <= 64);
	trace_tids_free(&t);
}

static void endless_threads_stay_bounded(void)
{
	struct trace_tids t;
	size_t most = 0;
	int i, missed = 0;

	trace_tids_init(&t, getpid(), NULL);
	trace_tids_seed(&t);
	for (i = 0; i < 5000; i++) {
		struct worker w;
		pthread_t th;

		if (start(&w, &th)) {
			T_FAIL("pthread_create");
			break;
		}
		/* the tracer reads as it goes: everything up to now is read */
		if (!trace_tids_is_ours(&t, w.tid, 0, dmakit_now_ns()))
			missed++;
		end(&w, th);
		if (t.cap > most)
			most = t.cap;
	}
	T_EQ(missed, 0);
	T_ASSERT(most <= 128);
	trace_tids_free(&t);
}

/* A thread gone before any of its events was read: the kernel's record. */
static void gone_unseen_from_saved_tgids(void)
{
	char path[] = "/tmp/dmakit-test-tgids-XXXXXX";
	int32_t gone_ours = other_process(), gone_other = other_process();
	struct trace_tids t;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	T_ASSERT(fd >= 0);
	f = fdopen(fd, "w");
	T_ASSERT(f);
	/* a live process recorded as ours: a stale record, since reused */
	fprintf(f, "%d %d\n%d %d\n%d %d\n", (int)gone_ours, (int)getpid(),
		(int)gone_other, (int)gone_other, (int)getppid(), (int)getpid());
	fclose(f);
	trace_tids_init(&t, getpid(), path);
	T_ASSERT(trace_tids_is_ours(&t, gone_ours, dmakit_now_ns(), 0));
	T_ASSERT(!trace_tids_is_ours(&t, gone_other, dmakit_now_ns(), 0));
	T_ASSERT(!trace_tids_is_ours(&t, getppid(), dmakit_now_ns(), 0));
	trace_tids_free(&t);
	/* without the kernel's record a gone thread cannot be known */
	trace_tids_init(&t, getpid(), NULL);
	T_ASSERT(!trace_tids_is_ours(&t, gone_ours, dmakit_now_ns(), 0));
	trace_tids_free(&t);
	unlink(path);
}

int main(void)
{
	T_RUN(ours_and_not_ours);
	T_RUN(ended_thread_kept_until_read);
	T_RUN(endless_threads_stay_bounded);
	T_RUN(gone_unseen_from_saved_tgids);
	return t_exit();
}
