/* SPDX-License-Identifier: MIT */
/*
 * --pid on the tracefs backend (tids.c): is a thread a task of the traced
 * process?  An event is decoded after its thread may have exited, so an
 * answer is cached per thread, and a thread that ended before any of its
 * events was read is found in the kernel's saved_tgids; the cache stays bounded for a process that
 * creates and ends threads forever: a thread seen gone is forgotten once
 * every event older than that moment has been read.
 */
#ifndef DMAKIT_TRACE_TIDS_H
#define DMAKIT_TRACE_TIDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trace_tid {
	int32_t tid;
	bool ours;
	uint64_t gone_at;		/* first seen gone (0: alive) */
};

struct trace_tids {
	int32_t pid;
	struct trace_tid *v;
	size_t n, cap;
	/* the kernel's saved_tgids ("" if not recorded): threads gone unseen */
	char saved_tgids[300];
	int32_t *gone;			/* its tids of the process, sorted */
	size_t ngone;
	uint64_t gone_read_at;
};

/*
 * @saved_tgids: the tracing directory's saved_tgids file, filled by the
 * kernel when an instance has options/record-tgid set; NULL if not.
 */
void trace_tids_init(struct trace_tids *t, int32_t pid, const char *saved_tgids);
/* Learn the threads the process has now. */
void trace_tids_seed(struct trace_tids *t);
/*
 * Is @tid, whose event at @ts is being decoded, a task of the process?
 * @read_to: every event up to this time (CLOCK_MONOTONIC ns) has been
 * decoded, so threads gone before it can be forgotten.  Failing to cache
 * (out of memory) answers without caching.
 */
bool trace_tids_is_ours(struct trace_tids *t, int32_t tid, uint64_t ts,
			uint64_t read_to);
void trace_tids_free(struct trace_tids *t);

#endif
