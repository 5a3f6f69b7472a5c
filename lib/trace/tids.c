// SPDX-License-Identifier: MIT
/*
 * The tracefs backend's --pid thread cache (tids.h).  Kept in bounds by
 * pruning when full: entries of other processes' threads go (a lookup is
 * one access()), our live threads stay, and a thread of ours found gone
 * is dropped at a later prune once every event up to the moment it was
 * found gone has been read (none of its events can come after).  The cap
 * doubles only when more than three quarters of the entries survive a
 * prune, so it settles near twice the live and recently ended threads.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "tids.h"

#define TIDS_MIN_CAP 32
/* from an event to its thread's exit having been recorded, at most */
#define TIDS_GONE_SLACK_NS (5 * 1000000ULL)

static bool task_exists(const struct trace_tids *t, int32_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)t->pid, (int)tid);
	return access(path, F_OK) == 0;
}

void trace_tids_init(struct trace_tids *t, int32_t pid, const char *saved_tgids)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	if (saved_tgids)
		snprintf(t->saved_tgids, sizeof(t->saved_tgids), "%s",
			 saved_tgids);
}

static int cmp_tid(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/*
 * The tids saved_tgids gives to the process, read again unless it was
 * read well after @ts (an event of the thread asked about: the thread,
 * gone now, was recorded when it was switched out after it).
 */
static void read_gone(struct trace_tids *t, uint64_t ts)
{
	size_t n = 0, cap = 0;
	int32_t *v = NULL, *grown;
	int pid, tgid;
	FILE *f;

	if (t->gone_read_at > ts + TIDS_GONE_SLACK_NS)
		return;
	t->gone_read_at = dmakit_now_ns();
	f = fopen(t->saved_tgids, "re");
	if (!f)
		return;
	while (fscanf(f, "%d %d", &pid, &tgid) == 2) {
		if (tgid != t->pid)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown)
				break;
			v = grown;
		}
		v[n++] = pid;
	}
	fclose(f);
	qsort(v, n, sizeof(*v), cmp_tid);
	free(t->gone);
	t->gone = v;
	t->ngone = n;
}

/*
 * Not a task of the process now: a thread of another process, or one
 * gone, which the kernel may have recorded as the process's when it was
 * switched out after its events.
 */
static bool gone_was_ours(struct trace_tids *t, int32_t tid, uint64_t ts)
{
	char path[32];

	if (!t->saved_tgids[0])
		return false;
	snprintf(path, sizeof(path), "/proc/%d", (int)tid);
	if (access(path, F_OK) == 0)
		return false;	/* alive, in another process */
	read_gone(t, ts);
	return t->ngone &&
	       bsearch(&tid, t->gone, t->ngone, sizeof(tid), cmp_tid);
}

static void prune(struct trace_tids *t, uint64_t read_to)
{
	uint64_t now = dmakit_now_ns();
	size_t i, kept = 0;

	for (i = 0; i < t->n; i++) {
		struct trace_tid e = t->v[i];

		if (!e.ours)
			continue;	/* cheap to ask again; the tid may be reused */
		if (task_exists(t, e.tid)) {
			e.gone_at = 0;
		} else if (!e.gone_at) {
			e.gone_at = now;
		} else if (e.gone_at < read_to) {
			continue;	/* every event of it has been read */
		}
		t->v[kept++] = e;
	}
	t->n = kept;
}

/* Room for one more entry: prune first, grow only if the cache is busy. */
static bool make_room(struct trace_tids *t, uint64_t read_to)
{
	struct trace_tid *grown;
	size_t cap;

	if (t->n < t->cap)
		return true;
	if (t->cap)
		prune(t, read_to);
	/* a gone thread stays one prune more: grow only if few were freed */
	if (t->n <= t->cap * 3 / 4 && t->n < t->cap)
		return true;
	cap = t->cap ? t->cap * 2 : TIDS_MIN_CAP;
	grown = realloc(t->v, cap * sizeof(*grown));
	if (!grown)
		return t->n < t->cap;
	t->v = grown;
	t->cap = cap;
	return true;
}

bool trace_tids_is_ours(struct trace_tids *t, int32_t tid, uint64_t ts,
			uint64_t read_to)
{
	bool ours;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].tid == tid)
			return t->v[i].ours;
	ours = task_exists(t, tid) || gone_was_ours(t, tid, ts);
	if (make_room(t, read_to)) {
		t->v[t->n].tid = tid;
		t->v[t->n].ours = ours;
		t->v[t->n].gone_at = 0;
		t->n++;
	}
	return ours;
}

void trace_tids_seed(struct trace_tids *t)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)t->pid);
	d = opendir(path);
	while (d && (de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			trace_tids_is_ours(t, (int32_t)atoi(de->d_name), 0, 0);
	if (d)
		closedir(d);
}

void trace_tids_free(struct trace_tids *t)
{
	free(t->v);
	free(t->gone);
	t->v = NULL;
	t->gone = NULL;
	t->n = t->cap = t->ngone = 0;
}
