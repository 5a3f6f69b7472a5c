// SPDX-License-Identifier: MIT
/*
 * The tracefs backend of a tracing session (libtracefs for the files,
 * libtraceevent for ring-buffer pages):
 *
 *   - its own instance (instances/dmakit_<pid>_...): the global buffer and
 *     other users' instances are never touched;
 *   - trace_clock "mono", so timestamps are CLOCK_MONOTONIC ns;
 *   - overwrite mode, so a reader that falls behind loses the oldest
 *     events and the next page it reads says so (the gap is placed in
 *     the stream); the per-CPU "overrun" counters give the exact total;
 *   - per-CPU trace_pipe_raw read without blocking every few tens of ms,
 *     pages parsed with kbuffer, the CPUs merged in time order up to a
 *     watermark every CPU is known to have passed, and paired by pair.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <kbuffer.h>
#include "session.h"

static int tracefs_read_loss(struct dmakit_trace_session *s);

/* --- small helpers --- */

static int inst_write(struct dmakit_trace_session *s, const char *file,
		      const char *val)
{
	if (tracefs_instance_file_write(s->inst, file, val) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

/* --- setting up --- */

static int enable_side(struct dmakit_trace_session *s, struct side *sd,
		       char *err, size_t errlen)
{
	char file[256];
	int i, ret;

	for (i = 0; i < sd->nevents; i++) {
		if (sd->filter[0]) {
			snprintf(file, sizeof(file), "events/%s/%s/filter",
				 sd->system, sd->events[i]);
			ret = inst_write(s, file, sd->filter);
			if (ret)
				return dmakit_errf(err, errlen, -EINVAL,
						   "%s:%s: the kernel rejected the filter '%s'",
						   sd->system, sd->events[i],
						   sd->filter);
		}
		snprintf(file, sizeof(file), "events/%s/%s/enable", sd->system,
			 sd->events[i]);
		ret = inst_write(s, file, "1");
		if (ret)
			return dmakit_errf(err, errlen, ret,
					   "cannot enable %s:%s: %s", sd->system,
					   sd->events[i], strerror(-ret));
	}
	return 0;
}

static int open_cpus(struct dmakit_trace_session *s, char *err, size_t errlen)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	char rel[64], *path;
	int cpu;

	if (n < 1)
		n = 1;
	s->cpus = calloc((size_t)n, sizeof(*s->cpus));
	if (!s->cpus)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	for (cpu = 0; cpu < n; cpu++) {
		struct cpu_stream *c = &s->cpus[s->ncpus];

		snprintf(rel, sizeof(rel), "per_cpu/cpu%d/trace_pipe_raw", cpu);
		path = tracefs_instance_get_file(s->inst, rel);
		if (!path)
			return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		c->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		tracefs_put_tracing_file(path);
		if (c->fd < 0)
			continue;	/* a possible but absent CPU */
		c->cpu = cpu;
		s->ncpus++;		/* from here on free() closes it */
		c->kbuf = tep_kbuffer(s->tep);
		c->page = malloc(s->subbuf_size);
		if (!c->kbuf || !c->page)
			return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	}
	if (!s->ncpus)
		return dmakit_errf(err, errlen, -ENODEV,
				   "cannot open the instance's per-CPU buffers");
	return 0;
}

static int tracefs_open(struct dmakit_trace_session *s, char *err,
			size_t errlen)
{
	char buf[32];
	long long sub_kb;
	int ret, r;

	/* s->inst: the session's, locked before any probe was made */
	ret = inst_write(s, "tracing_on", "0");
	if (!ret)
		ret = inst_write(s, "trace_clock", "mono");
	if (ret)
		return dmakit_errf(err, errlen, -EOPNOTSUPP,
				   "cannot select the 'mono' trace clock (needs Linux 4.1+)");
	snprintf(buf, sizeof(buf), "%u",
		 s->opts.buffer_kb ? s->opts.buffer_kb : DEFAULT_BUFFER_KB);
	ret = inst_write(s, "buffer_size_kb", buf);
	if (ret)
		return dmakit_errf(err, errlen, ret,
				   "cannot size the trace buffer to %s KiB per CPU: %s",
				   buf, strerror(-ret));
	/* losing the oldest events is what the reader can detect in-stream */
	inst_write(s, "options/overwrite", "1");
	if (s->opts.pid > 0) {
		char saved[sizeof(s->tracing_dir) + 16];

		/* a thread that ends before its events are read: its tgid */
		snprintf(saved, sizeof(saved), "%s/saved_tgids", s->tracing_dir);
		trace_tids_init(&s->tids, s->opts.pid,
				inst_write(s, "options/record-tgid", "1") ? NULL : saved);
	}
	s->subbuf_size = (size_t)getpagesize();
	if (!tracefs_instance_file_read_number(s->inst, "buffer_subbuf_size_kb",
					       &sub_kb) && sub_kb > 0)
		s->subbuf_size = (size_t)sub_kb * 1024;
	for (r = 0; r < s->nsides; r++) {
		ret = enable_side(s, &s->side[r], err, errlen);
		if (ret)
			return ret;
	}
	ret = open_cpus(s, err, errlen);
	if (ret)
		return ret;
	if (s->opts.pid > 0)
		trace_tids_seed(&s->tids);
	ret = trace_feed_open(s);
	if (ret)
		return dmakit_errf(err, errlen, ret, "out of memory");
	return 0;
}

static void tracefs_close(struct dmakit_trace_session *s)
{
	int i;

	/* an instance with open files cannot be removed: close them first */
	for (i = 0; i < s->ncpus; i++) {
		close(s->cpus[i].fd);
		kbuffer_free(s->cpus[i].kbuf);
		free(s->cpus[i].page);
		free(s->cpus[i].q);
	}
	free(s->cpus);
	s->cpus = NULL;
	s->ncpus = 0;
	/* the session removes the instance (it disables the events) */
	if (s->inst)
		inst_write(s, "tracing_on", "0");
	dmakit_trace_pairer_free(s->pairer);
	s->pairer = NULL;
	trace_tids_free(&s->tids);
}

static void tracefs_stats(const struct dmakit_trace_session *s,
			  struct dmakit_trace_stats *st)
{
	dmakit_trace_pairer_stats(s->pairer, &st->pair);
	/* gaps found in-stream but not yet in the kernel's total (running) */
	if (st->pair.lost_events > st->lost_events)
		st->lost_events = st->pair.lost_events;
}

/* Every SPEC kind, every pairing mode. */
static const char *tracefs_unsupported(const struct dmakit_trace_session *s,
				       char *buf, size_t len)
{
	(void)s;
	(void)buf;
	(void)len;
	return NULL;
}


/* --- reading and merging --- */

/* The next free queue slot (grown if needed); push() makes it count. */
static struct pending *reserve(struct cpu_stream *c)
{
	if (c->len == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024, i;
		struct pending *q = malloc(cap * sizeof(*q));

		if (!q)
			return NULL;
		for (i = 0; i < c->len; i++)
			q[i] = c->q[(c->head + i) & (c->cap - 1)];
		free(c->q);
		c->q = q;
		c->cap = cap;
		c->head = 0;
	}
	return &c->q[(c->head + c->len) & (c->cap - 1)];
}

static void push(struct cpu_stream *c)
{
	c->len++;
}

/*
 * A gap marker: events of this CPU between @from and @to were lost
 * (@missed of them; negative: the page does not say how many).  Before
 * the CPU's first event the gap starts with tracing, not at time 0.
 */
static int push_loss(struct dmakit_trace_session *s, struct cpu_stream *c,
		     uint64_t from, uint64_t to, int missed)
{
	struct pending *p = reserve(c);

	if (!p)
		return -ENOMEM;
	if (!from)
		from = s->st.start_ns < to ? s->st.start_ns : to;
	memset(p, 0, sizeof(*p));
	p->loss = true;
	p->ev.ts = from;
	p->ev.cpu = c->cpu;
	p->loss_to = to;
	p->loss_count = missed > 0 ? (uint64_t)missed : DMAKIT_TRACE_COUNT_UNKNOWN;
	push(c);
	return 0;
}

static struct evtype *type_of(struct dmakit_trace_session *s, int id)
{
	int i;

	for (i = 0; i < s->ntypes; i++)
		if (s->types[i].id == id)
			return &s->types[i];
	return NULL;
}

static bool decode(struct dmakit_trace_session *s, struct cpu_stream *c,
		   const unsigned char *data, int size, uint64_t ts,
		   struct dmakit_trace_event *ev)
{
	struct evtype *t;
	uint16_t type;
	int32_t pid;
	uint64_t v, v2;

	if (size < 8)
		return false;
	memcpy(&type, data, 2);
	memcpy(&pid, data + 4, 4);	/* common_pid: the thread */
	t = type_of(s, type);
	if (!t)
		return false;
	if (t->user && s->opts.pid > 0 && !trace_tids_is_ours(&s->tids, pid, ts, s->processed_to)) {
		s->st.pid_filtered++;
		return false;
	}
	memset(ev, 0, sizeof(*ev));
	ev->ts = ts;
	ev->role = t->role;
	ev->cpu = c->cpu;
	ev->tid = pid;
	ev->vector = -1;
	ev->site = t->side->site;
	t->side->seen++;
	if (trace_field_read(&t->f_irq, data, size, &v))
		ev->vector = (int32_t)v;
	if (trace_field_read(&t->f_id, data, size, &v)) {
		ev->id = v;
		ev->flags |= DMAKIT_TRACE_F_ID;
	}
	if (trace_field_read(&t->f_bytes, data, size, &v)) {
		ev->bytes = v;
		ev->flags |= DMAKIT_TRACE_F_BYTES;
	}
	if (trace_field_read(&t->f_status, data, size, &v)) {
		ev->status = (int64_t)v;
		ev->flags |= DMAKIT_TRACE_F_STATUS;
	}
	if (t->chan_tid)
		ev->chan = (uint64_t)(uint32_t)pid;
	else if (trace_field_read(&t->f_chan, data, size, &v))
		ev->chan = trace_field_read(&t->f_chan2, data, size, &v2) ?
			   v ^ (v2 * 0x9e3779b97f4a7c15ULL) : v;
	return true;
}

/* Parse one page into @c's queue; a gap before it becomes a marker. */
static int parse_page(struct dmakit_trace_session *s, struct cpu_stream *c)
{
	unsigned long long ts;
	bool first = true;
	int missed, ret;
	void *data;

	if (kbuffer_load_subbuffer(c->kbuf, c->page) < 0)
		return -EIO;
	missed = kbuffer_missed_events(c->kbuf);
	for (data = kbuffer_read_event(c->kbuf, &ts); data;
	     data = kbuffer_next_event(c->kbuf, &ts)) {
		struct pending *p;

		if (first && missed) {
			ret = push_loss(s, c, c->last_ts, ts, missed);
			if (ret)
				return ret;
		}
		first = false;
		if (ts > c->last_ts)
			c->last_ts = ts;
		s->st.events++;
		p = reserve(c);
		if (!p)
			return -ENOMEM;
		/* decoded in place: the queue slot is the event */
		if (decode(s, c, data, kbuffer_event_size(c->kbuf), ts, &p->ev)) {
			p->loss = false;
			push(c);
		}
	}
	if (first && missed)	/* a gap, then an empty page: lost before now */
		return push_loss(s, c, c->last_ts, dmakit_now_ns(), missed);
	return 0;
}

/* Read what @c has now; returns pages read or -errno. */
static int read_cpu(struct dmakit_trace_session *s, struct cpu_stream *c,
		    int budget)
{
	int pages = 0, ret;

	c->drained = false;
	c->full = false;
	while (pages < budget) {
		uint64_t before = dmakit_now_ns();
		ssize_t n;

		/* a page holds at most one event per 8 bytes */
		if (c->len && c->len + s->subbuf_size / 8 > QUEUE_EVENTS) {
			c->full = true;	/* merge first, read on after */
			break;
		}
		n = read(c->fd, c->page, s->subbuf_size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n <= 0) {
			c->drained = true;
			c->drained_at = before;
			break;
		}
		pages++;
		ret = parse_page(s, c);
		if (ret)
			return ret;
		if (c->len > s->st.queued_max)
			s->st.queued_max = c->len;
	}
	return pages;
}

/* Feed every queued event up to @upto in time order. */
static int merge(struct dmakit_trace_session *s, uint64_t upto)
{
	int processed = 0, ret;

	for (;;) {
		struct cpu_stream *best = NULL;
		uint64_t limit = upto;
		int i;

		/* the CPU with the oldest event, and how far it may run alone */
		for (i = 0; i < s->ncpus; i++) {
			struct cpu_stream *c = &s->cpus[i];

			if (!c->len)
				continue;
			if (!best || c->q[c->head].ev.ts < best->q[best->head].ev.ts)
				best = c;
		}
		if (!best || best->q[best->head].ev.ts > upto)
			break;
		for (i = 0; i < s->ncpus; i++) {
			struct cpu_stream *c = &s->cpus[i];

			if (c != best && c->len && c->q[c->head].ev.ts < limit)
				limit = c->q[c->head].ev.ts;
		}
		while (best->len && best->q[best->head].ev.ts <= limit) {
			struct pending *p = &best->q[best->head];

			ret = trace_feed(s, p);
			if (ret)
				return ret;
			if (!p->loss)
				processed++;
			best->head = (best->head + 1) & (best->cap - 1);
			best->len--;
		}
	}
	if (upto != UINT64_MAX && upto > s->processed_to) {
		s->processed_to = upto;
		dmakit_trace_pairer_advance(s->pairer, upto);
	}
	return processed;
}

/*
 * Read every CPU (up to @budget pages each); the watermark every CPU is
 * known to have passed.  Returns the most pages one CPU gave, or -errno;
 * *@full: a CPU's queue is full, so more may be read once merged.
 */
static int read_all(struct dmakit_trace_session *s, int budget,
		    uint64_t *watermark, bool *full)
{
	uint64_t w = UINT64_MAX;
	int i, ret, most = 0;

	*full = false;
	for (i = 0; i < s->ncpus; i++) {
		struct cpu_stream *c = &s->cpus[i];
		uint64_t cw;

		ret = read_cpu(s, c, budget);
		if (ret < 0)
			return ret;
		if (ret > most)
			most = ret;
		*full |= c->full;
		/* what this CPU can still deliver is newer than cw */
		cw = c->drained ? (c->drained_at > COMMIT_SLACK_NS ?
				   c->drained_at - COMMIT_SLACK_NS : 0)
				: c->last_ts;
		if (cw < w)
			w = cw;
	}
	*watermark = w;
	return most;
}

static int tracefs_start(struct dmakit_trace_session *s)
{
	int ret;

	if (!s || s->started)
		return -EINVAL;
	ret = inst_write(s, "tracing_on", "1");
	if (ret)
		return ret;
	s->started = true;
	s->st.start_ns = dmakit_now_ns();
	tracefs_read_loss(s);
	s->processed_to = s->st.start_ns;
	return trace_feed_counts_begin(s);
}

static int tracefs_poll(struct dmakit_trace_session *s, int timeout_ms)
{
	int ret, n, pages = 0, processed = 0;
	struct timespec ts;
	bool full;
	uint64_t w;

	if (!s || !s->started || s->stopped)
		return -EINVAL;
	if (timeout_ms > 0) {
		int ms = timeout_ms < POLL_PERIOD_MS ? timeout_ms : POLL_PERIOD_MS;

		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		if (nanosleep(&ts, NULL) && errno == EINTR)
			return -EINTR;
	}
	/*
	 * A full queue's CPU is not drained: its watermark is its newest
	 * event, so the merge empties that queue or an older CPU's, and
	 * reading goes on where it stopped.
	 */
	do {
		n = read_all(s, PAGES_PER_POLL - pages, &w, &full);
		if (n < 0)
			return n;
		pages += n;
		ret = merge(s, w);
		if (ret < 0)
			return ret;
		processed += ret;
		/* nothing read or merged: the full queue is newer than another
		 * CPU's watermark, which the next poll moves on */
	} while (full && pages < PAGES_PER_POLL && (n > 0 || ret > 0));
	return processed;
}

static int tracefs_stop(struct dmakit_trace_session *s)
{
	uint64_t w;
	int ret, i, r2;
	bool full;

	if (!s || !s->started)
		return -EINVAL;
	if (s->stopped)
		return 0;
	r2 = trace_feed_counts_end(s);
	ret = inst_write(s, "tracing_on", "0");
	s->stopped = true;
	s->st.stop_ns = dmakit_now_ns();
	/* everything is in the buffers now: read it all */
	do {
		ret = read_all(s, INT_MAX, &w, &full);
		if (ret < 0)
			return ret;
		/* tracing is off: a drained CPU has nothing more, a full one
		 * only events newer than the last it gave */
		w = UINT64_MAX;
		for (i = 0; i < s->ncpus; i++)
			if (!s->cpus[i].drained && s->cpus[i].last_ts < w)
				w = s->cpus[i].last_ts;
		if (w != UINT64_MAX) {
			ret = merge(s, w);
			if (ret < 0)
				return ret;
		}
		/* done when every CPU is drained or has reached the stop: if
		 * tracing_on could not be cleared (the instance was removed
		 * under us), events keep coming and this must still end */
		for (i = 0; i < s->ncpus && (s->cpus[i].drained ||
					    s->cpus[i].last_ts > s->st.stop_ns); i++)
			;
	} while (i < s->ncpus);
	ret = merge(s, UINT64_MAX);
	if (ret < 0)
		return ret;
	dmakit_trace_pairer_finish(s->pairer, s->st.stop_ns);
	tracefs_read_loss(s);
	return r2;
}

int dmakit_parse_ring_stats(const char *text, uint64_t *lost)
{
	static const char *const counters[] = {
		"overrun:", "commit overrun:", "dropped events:",
	};
	bool have_overrun = false;
	const char *line;
	size_t i;

	*lost = 0;
	for (line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
			size_t n = strlen(counters[i]);
			unsigned long long v;
			char *end;

			if (strncmp(line, counters[i], n))
				continue;
			errno = 0;
			v = strtoull(line + n, &end, 10);
			if (errno || end == line + n)
				return -EINVAL;
			*lost += v;
			if (i == 0)
				have_overrun = true;
		}
	}
	/* without the overrun line nothing can be said */
	return have_overrun ? 0 : -ENODATA;
}

/* The kernel's own count of what it could not keep, summed over CPUs. */
static int tracefs_read_loss(struct dmakit_trace_session *s)
{
	uint64_t total = 0, lost;
	int i, ret = 0;

	if (!s || !s->inst)
		return -EINVAL;
	for (i = 0; i < s->ncpus && !ret; i++) {
		char rel[64], *stats;

		snprintf(rel, sizeof(rel), "per_cpu/cpu%d/stats", s->cpus[i].cpu);
		stats = tracefs_instance_file_read(s->inst, rel, NULL);
		if (!stats) {
			ret = errno ? -errno : -EIO;
			break;
		}
		ret = dmakit_parse_ring_stats(stats, &lost);
		free(stats);
		total += lost;
	}
	s->st.lost_known = !ret;
	if (!ret)
		s->st.lost_events = total;
	return ret;
}

const struct dmakit_trace_backend dmakit_trace_tracefs_backend = {
	.name = "tracefs",
	.unsupported = tracefs_unsupported,
	.open = tracefs_open,
	.close = tracefs_close,
	.start = tracefs_start,
	.poll = tracefs_poll,
	.stop = tracefs_stop,
	.read_loss = tracefs_read_loss,
	.stats = tracefs_stats,
};
