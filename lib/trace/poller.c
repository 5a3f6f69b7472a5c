// SPDX-License-Identifier: MIT
/*
 * The register poller: one thread reads a register over and over and
 * turns edges of its masked value into transactions.  BPF cannot read
 * MMIO and a tracepoint needs code that runs at the edge, so polling is
 * the one way to watch a bit the device alone changes (the seed's
 * DMA_DESC_ENABLE).  Its precision is its achieved period; it costs a
 * core; and it must never poll a register whose read has side effects.
 *
 * Each edge is stamped with CLOCK_MONOTONIC taken right after the read
 * that saw it: never early, late by at most one gap between reads (plus
 * one read).  The source is a callback, so tests drive it from memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "trace_internal.h"
#include "dmakit/reg.h"

#define GAP_SLOTS 65	/* slot i: gaps with 2^(i-1) <= gap < 2^i ns */

/* Below this a period is kept by spinning on the clock, not sleeping. */
#define SPIN_BELOW_NS 50000

struct dmakit_reg_poller {
	struct dmakit_reg_poll_opts opts;
	pthread_t thread;
	bool running;
	int stop;			/* atomic */
	/* written by the thread, read by _stats() (relaxed atomics) */
	uint64_t polls;
	uint64_t start_ns, last_ns;
	uint64_t max_gap_ns;
	uint64_t transactions;
	uint64_t short_xacts;
	uint64_t min_latency_ns;
	uint64_t min_certain_ns;	/* shortest first-to-last active read */
	int active_at_start, active_now;
	uint64_t gaps[GAP_SLOTS];
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static unsigned int gap_slot(uint64_t gap)
{
	return gap ? 64 - (unsigned int)__builtin_clzll(gap) : 0;
}

static bool level(const struct dmakit_reg_poller *p, uint64_t v)
{
	bool set = (v & p->opts.mask) != 0;

	return p->opts.active_low ? !set : set;
}

static void wait_until(uint64_t deadline)
{
	uint64_t now = dmakit_now_ns();
	struct timespec ts;

	if (deadline <= now)
		return;
	if (deadline - now < SPIN_BELOW_NS) {
		while (dmakit_now_ns() < deadline)
			;
		return;
	}
	ts.tv_sec = (time_t)(deadline / 1000000000u);
	ts.tv_nsec = (long)(deadline % 1000000000u);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void *poll_thread(void *arg)
{
	struct dmakit_reg_poller *p = arg;
	const struct dmakit_reg_poll_opts *o = &p->opts;
	struct dmakit_trace_xact x;
	uint64_t t, prev_t, start_t = 0, last_active_t = 0, start_poll = 0;
	uint64_t polls = 1, deadline;
	bool active, prev_active, open = false;
	int cpu = sched_getcpu();
	int32_t tid = (int32_t)syscall(SYS_gettid);

	prev_active = level(p, o->read(o->src));
	prev_t = dmakit_now_ns();
	STORE(p->start_ns, prev_t);
	STORE(p->last_ns, prev_t);
	STORE(p->active_at_start, prev_active);
	STORE(p->active_now, prev_active);
	STORE(p->polls, polls);
	deadline = prev_t;
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		if (o->period_ns) {
			/* after a stall, skip the missed slots: no burst of reads */
			deadline += o->period_ns;
			if (deadline < prev_t)
				deadline = prev_t + o->period_ns;
			wait_until(deadline);
		}
		active = level(p, o->read(o->src));
		t = dmakit_now_ns();
		polls++;
		/* only this thread writes: a relaxed store is enough */
		STORE(p->gaps[gap_slot(t - prev_t)], p->gaps[gap_slot(t - prev_t)] + 1);
		if (t - prev_t > LOAD(p->max_gap_ns))
			STORE(p->max_gap_ns, t - prev_t);
		if (active)
			last_active_t = t;
		if (active && !prev_active) {
			open = true;
			start_t = t;
			start_poll = polls;
		} else if (!active && prev_active && open) {
			memset(&x, 0, sizeof(x));
			x.start_ns = start_t;
			x.end_ns = t;
			x.latency_ns = t - start_t;
			x.start_cpu = x.end_cpu = cpu;
			x.start_tid = x.end_tid = tid;
			x.vector = -1;
			x.batch = 1;
			STORE(p->transactions, LOAD(p->transactions) + 1);
			/* active in reads start_poll..polls-1 */
			if (polls - start_poll < 2)
				STORE(p->short_xacts, LOAD(p->short_xacts) + 1);
			else if (!LOAD(p->min_certain_ns) ||
				 last_active_t - start_t < LOAD(p->min_certain_ns))
				STORE(p->min_certain_ns, last_active_t - start_t);
			if (!LOAD(p->min_latency_ns) ||
			    x.latency_ns < LOAD(p->min_latency_ns))
				STORE(p->min_latency_ns, x.latency_ns);
			if (o->on_xact)
				o->on_xact(o->ctx, &x);
			open = false;
		}
		if (active != prev_active)
			STORE(p->active_now, active);
		prev_active = active;
		prev_t = t;
		STORE(p->last_ns, t);
		/* release: a reader that sees this poll sees its time */
		__atomic_store_n(&p->polls, polls, __ATOMIC_RELEASE);
	}
	return NULL;
}

int dmakit_reg_poller_alloc(struct dmakit_reg_poller **pollerp,
			    const struct dmakit_reg_poll_opts *opts,
			    char *errmsg, size_t errlen)
{
	struct dmakit_reg_poller *p;

	if (!pollerp || !opts || !opts->read)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "a poller needs a read callback");
	if (!opts->mask)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "an empty mask never changes level");
	p = calloc(1, sizeof(*p));
	if (!p)
		return dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
	p->opts = *opts;
	*pollerp = p;
	return 0;
}

int dmakit_reg_poller_start(struct dmakit_reg_poller *p, char *errmsg,
			    size_t errlen)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int ret;

	if (p->running)
		return dmakit_errf(errmsg, errlen, -EBUSY, "poller already runs");
	pthread_attr_init(&attr);
	if (p->opts.cpu >= 0) {
		if (p->opts.cpu >= CPU_SETSIZE) {
			pthread_attr_destroy(&attr);
			return dmakit_errf(errmsg, errlen, -EINVAL,
					   "CPU %d does not exist", p->opts.cpu);
		}
		CPU_ZERO(&set);
		CPU_SET(p->opts.cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	__atomic_store_n(&p->stop, 0, __ATOMIC_RELEASE);
	ret = pthread_create(&p->thread, &attr, poll_thread, p);
	pthread_attr_destroy(&attr);
	if (ret)
		return dmakit_errf(errmsg, errlen, -ret,
				   "start the polling thread%s: %s",
				   p->opts.cpu >= 0 ? " on that CPU" : "",
				   strerror(ret));
	p->running = true;
	return 0;
}

void dmakit_reg_poller_stop(struct dmakit_reg_poller *p)
{
	if (!p || !p->running)
		return;
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	pthread_join(p->thread, NULL);
	p->running = false;
}

void dmakit_reg_poller_free(struct dmakit_reg_poller *p)
{
	if (!p)
		return;
	dmakit_reg_poller_stop(p);
	free(p);
}

void dmakit_reg_poller_stats(struct dmakit_reg_poller *p,
			     struct dmakit_reg_poll_stats *s)
{
	uint64_t limit, missed = 0;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->polls = __atomic_load_n(&p->polls, __ATOMIC_ACQUIRE);
	s->start_ns = LOAD(p->start_ns);
	s->stop_ns = LOAD(p->last_ns);
	if (s->polls > 1)
		s->period_ns = (double)(s->stop_ns - s->start_ns) /
			       (double)(s->polls - 1);
	s->max_gap_ns = LOAD(p->max_gap_ns);
	s->transactions = LOAD(p->transactions);
	s->active_at_start = LOAD(p->active_at_start);
	s->active_at_stop = LOAD(p->active_now);
	s->short_xacts = LOAD(p->short_xacts);
	s->min_latency_ns = LOAD(p->min_latency_ns);
	/*
	 * A stretch's measured latency may be a gap too long on each side; the
	 * time from its first to its last active read never is: the shortest
	 * of those is what a gap must reach to hide a similar transaction.
	 */
	limit = LOAD(p->min_certain_ns);
	if (!limit)
		limit = (uint64_t)(2 * s->period_ns) + 1;
	/* slots whose smallest gap, 2^(i-1), is at least limit rounded down */
	for (i = gap_slot(limit); i < GAP_SLOTS; i++)
		missed += __atomic_load_n(&p->gaps[i], __ATOMIC_RELAXED);
	s->maybe_missed = missed;
}

/* ------------------------------------------------------------------ */
/* reg:BDF:BARn:OFFSET[/WIDTH][:MASK][:rise|:fall]                     */
/* ------------------------------------------------------------------ */

static int spec_bad(char *errmsg, size_t errlen, const char *text,
		    const char *why)
{
	return dmakit_errf(errmsg, errlen, -EINVAL,
			   "bad SPEC '%s': %s (expected reg:BDF:BARn:OFFSET[/WIDTH][:MASK][:rise|:fall], e.g. reg:0000:00:04.0:BAR0:0x98:0x1)",
			   text, why);
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

int dmakit_reg_spec_parse(struct dmakit_reg_spec *spec, const char *text,
			  char *errmsg, size_t errlen)
{
	char buf[256], *field[8], *save = NULL, *tok, *slash;
	unsigned int n = 0, i;
	uint64_t v;

	memset(spec, 0, sizeof(*spec));
	if (!text || strncmp(text, "reg:", 4) || strlen(text) >= sizeof(buf))
		return spec_bad(errmsg, errlen, text ? text : "", "not a reg: SPEC");
	snprintf(buf, sizeof(buf), "%s", text + 4);
	for (tok = strtok_r(buf, ":", &save); tok && n < 8;
	     tok = strtok_r(NULL, ":", &save))
		field[n++] = tok;
	if (tok)
		return spec_bad(errmsg, errlen, text, "too many fields");
	/* the BDF has 2 fields with the domain ("0000:17:00.0"), 1 without */
	for (i = 0; i < n && strncasecmp(field[i], "BAR", 3); i++)
		;
	if (i == n || i < 2 || i > 3)
		return spec_bad(errmsg, errlen, text, "no BDF:BARn");
	if (i == 3)
		snprintf(spec->bdf, sizeof(spec->bdf), "%.4s:%.2s:%.4s",
			 field[0], field[1], field[2]);
	else
		snprintf(spec->bdf, sizeof(spec->bdf), "0000:%.2s:%.4s",
			 field[0], field[1]);
	/* "xx:xx.x" after the domain */
	{
		unsigned int dom, bus, dev, fn;
		char tail;

		if (sscanf(spec->bdf, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn,
			   &tail) != 4)
			return spec_bad(errmsg, errlen, text, "bad PCI address");
	}
	if (!parse_u64(field[i] + 3, &v) || v > 5)
		return spec_bad(errmsg, errlen, text, "BAR number must be 0 to 5");
	spec->bar = (unsigned int)v;
	if (++i == n)
		return spec_bad(errmsg, errlen, text, "no OFFSET");
	spec->width = 4;
	slash = strchr(field[i], '/');
	if (slash) {
		*slash = '\0';
		if (!parse_u64(slash + 1, &v) ||
		    (v != 1 && v != 2 && v != 4 && v != 8))
			return spec_bad(errmsg, errlen, text,
					"WIDTH after '/' is 1, 2, 4 or 8 bytes");
		spec->width = (unsigned int)v;
	}
	if (!parse_u64(field[i], &spec->offset))
		return spec_bad(errmsg, errlen, text, "OFFSET must be a number");
	if (spec->offset % spec->width)
		return spec_bad(errmsg, errlen, text,
				"OFFSET is not aligned to the width");
	spec->mask = spec->width == 8 ? UINT64_MAX :
		     (UINT64_C(1) << (spec->width * 8)) - 1;
	i++;
	if (i < n && strcmp(field[i], "rise") && strcmp(field[i], "fall")) {
		if (!parse_u64(field[i], &v) || !v ||
		    (spec->width < 8 && v >> (spec->width * 8)))
			return spec_bad(errmsg, errlen, text,
					"MASK must be a nonzero number that fits the width");
		spec->mask = v;
		i++;
	}
	if (i < n) {
		if (strcmp(field[i], "rise") && strcmp(field[i], "fall"))
			return spec_bad(errmsg, errlen, text,
					"the last field is rise or fall");
		spec->edge = field[i][0] == 'r' ? 1 : -1;
		i++;
	}
	if (i < n)
		return spec_bad(errmsg, errlen, text, "too many fields");
	return 0;
}
