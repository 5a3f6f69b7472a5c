// SPDX-License-Identifier: MIT
/*
 * Register access against a fake sysfs tree (resourceN is a plain file,
 * so the mapping reads and writes real bytes checked with pread), the
 * reg: SPEC grammar, and the poller driven from a memory word that
 * another thread toggles with known CLOCK_MONOTONIC windows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dmakit/reg.h>
#include "trace/trace_internal.h"
#include "t.h"

static char root[256];

static void put(const char *rel, const void *data, size_t len)
{
	char path[1024], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

#define DEV "sys/bus/pci/devices/0000:17:00.0/"
#define BOUND "sys/bus/pci/devices/0000:18:00.0/"
#define BAR_SIZE 4096

static uint8_t pattern[BAR_SIZE];

/* BAR0: 4 KiB memory, BAR1 unused, BAR2: I/O ports. */
static const char resource_text[] =
	"0x00000000fe000000 0x00000000fe000fff 0x0000000000040200\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x000000000000e000 0x000000000000e01f 0x0000000000040101\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

static void setup(void)
{
	char path[1024];
	size_t i;

	snprintf(root, sizeof(root), "%s/dmakit_test_reg_XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		exit(1);
	}
	for (i = 0; i < BAR_SIZE; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	put(DEV "resource", resource_text, strlen(resource_text));
	put(DEV "resource0", pattern, sizeof(pattern));
	put(DEV "resource2", pattern, 32);
	put(DEV "vendor", "0x10ee\n", 7);
	put(BOUND "resource", resource_text, strlen(resource_text));
	put(BOUND "resource0", pattern, sizeof(pattern));
	put("sys/bus/pci/drivers/xdma/.keep", "", 0);
	snprintf(path, sizeof(path), "%s/" BOUND "driver", root);
	if (symlink("../../drivers/xdma", path)) {
		perror(path);
		exit(1);
	}
}

static uint64_t file_word(const char *rel, uint64_t off, unsigned int width)
{
	char path[1024];
	uint64_t v = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, &v, width, (off_t)off) != (ssize_t)width)
		v = UINT64_MAX;
	if (fd >= 0)
		close(fd);
	return v;	/* little-endian host, like the BAR */
}

static void test_read_widths(void)
{
	struct dmakit_reg *reg;
	char err[256];
	uint64_t v, off;
	unsigned int w;

	T_EQ(dmakit_reg_open_at(&reg, root, "17:00.0", 0, 0, err, sizeof(err)), 0);
	T_EQ_U64(dmakit_reg_size(reg), BAR_SIZE);
	T_STREQ(dmakit_reg_driver(reg), "");
	for (w = 1; w <= 8; w *= 2)
		for (off = 0; off + w <= BAR_SIZE; off += 8 * w + w) {
			if (dmakit_reg_read(reg, off, w, &v, err, sizeof(err))) {
				dmakit_reg_close(reg);
				T_FAIL("read %u@0x%llx: %s", w, (unsigned long long)off, err);
			}
			if (v != file_word(DEV "resource0", off, w)) {
				dmakit_reg_close(reg);
				T_FAIL("read %u@0x%llx got 0x%llx", w,
				       (unsigned long long)off, (unsigned long long)v);
			}
		}
	/* the last word of the BAR is in, one byte further is out */
	T_EQ(dmakit_reg_read(reg, BAR_SIZE - 8, 8, &v, err, sizeof(err)), 0);
	T_EQ(dmakit_reg_read(reg, BAR_SIZE - 4, 8, &v, err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_reg_read(reg, BAR_SIZE, 4, &v, err, sizeof(err)), -ERANGE);
	T_ASSERT(strstr(err, "beyond the BAR"));
	T_EQ(dmakit_reg_read(reg, UINT64_MAX - 3, 4, &v, err, sizeof(err)), -ERANGE);
	T_EQ(dmakit_reg_read(reg, 2, 4, &v, err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "aligned"));
	T_EQ(dmakit_reg_read(reg, 0, 3, &v, err, sizeof(err)), -EINVAL);
	/* mapped read-only: writes refused */
	T_EQ(dmakit_reg_write(reg, 0, 4, 1, err, sizeof(err)), -EBADF);
	dmakit_reg_close(reg);
}

static void test_write(void)
{
	struct dmakit_reg *reg;
	char err[256];
	uint64_t v;

	T_EQ(dmakit_reg_open_at(&reg, root, "0000:17:00.0", 0, DMAKIT_REG_WRITE,
				err, sizeof(err)), 0);
	T_EQ(dmakit_reg_write(reg, 0x98, 4, 0xdeadbeef, err, sizeof(err)), 0);
	T_EQ(dmakit_reg_write(reg, 0x100, 8, 0x0123456789abcdefULL, err, sizeof(err)), 0);
	T_EQ(dmakit_reg_write(reg, 0x10, 1, 0x100, err, sizeof(err)), -ERANGE);
	T_EQ(dmakit_reg_write(reg, 0x10, 2, 0x10000, err, sizeof(err)), -ERANGE);
	T_EQ(dmakit_reg_write(reg, BAR_SIZE, 1, 0, err, sizeof(err)), -ERANGE);
	T_EQ(dmakit_reg_read(reg, 0x98, 4, &v, err, sizeof(err)), 0);
	T_EQ_U64(v, 0xdeadbeef);
	dmakit_reg_close(reg);
	/* the bytes reached the resource file; neighbours untouched */
	T_EQ_U64(file_word(DEV "resource0", 0x98, 4), 0xdeadbeef);
	T_EQ_U64(file_word(DEV "resource0", 0x100, 8), 0x0123456789abcdefULL);
	T_EQ_U64(file_word(DEV "resource0", 0x9c, 4),
		 pattern[0x9c] | pattern[0x9d] << 8 | pattern[0x9e] << 16 |
		 (uint64_t)pattern[0x9f] << 24);
	T_EQ_U64(file_word(DEV "resource0", 0x10, 1), pattern[0x10]);
}

static void test_refusals(void)
{
	struct dmakit_reg *reg = NULL;
	char err[256];

	T_EQ(dmakit_reg_open_at(&reg, root, "0000:17:00.0", 2, 0, err, sizeof(err)),
	     -EOPNOTSUPP);
	T_ASSERT(strstr(err, "I/O port"));
	T_EQ(dmakit_reg_open_at(&reg, root, "0000:17:00.0", 1, 0, err, sizeof(err)),
	     -ENODEV);
	T_EQ(dmakit_reg_open_at(&reg, root, "0000:17:00.0", 6, 0, err, sizeof(err)),
	     -EINVAL);
	T_EQ(dmakit_reg_open_at(&reg, root, "0000:19:00.0", 0, 0, err, sizeof(err)),
	     -ENODEV);
	/* a bound driver owns the registers: reading is fine, writing forced only */
	T_EQ(dmakit_reg_open_at(&reg, root, "0000:18:00.0", 0, DMAKIT_REG_WRITE,
				err, sizeof(err)), -EBUSY);
	T_ASSERT(strstr(err, "xdma"));
	T_ASSERT(reg == NULL);
	T_EQ(dmakit_reg_open_at(&reg, root, "0000:18:00.0", 0, 0, err, sizeof(err)), 0);
	T_STREQ(dmakit_reg_driver(reg), "xdma");
	dmakit_reg_close(reg);
	T_EQ(dmakit_reg_open_at(&reg, root, "0000:18:00.0", 0,
				DMAKIT_REG_WRITE | DMAKIT_REG_FORCE, err, sizeof(err)), 0);
	T_EQ(dmakit_reg_write(reg, 0, 4, 7, err, sizeof(err)), 0);
	dmakit_reg_close(reg);
	T_EQ_U64(file_word(BOUND "resource0", 0, 4), 7);
	/* the same refusals without mapping */
	T_EQ(dmakit_reg_check_access_at(root, "0000:18:00.0", 0, 0, 4,
					DMAKIT_REG_WRITE, err, sizeof(err)), -EBUSY);
	T_EQ(dmakit_reg_check_access_at(root, "0000:17:00.0", 2, 0, 4, 0, err,
					sizeof(err)), -EOPNOTSUPP);
	T_EQ(dmakit_reg_check_access_at(root, "0000:17:00.0", 0, BAR_SIZE - 4, 8,
					0, err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_reg_check_access_at(root, "0000:17:00.0", 0, BAR_SIZE, 4, 0,
					err, sizeof(err)), -ERANGE);
	T_EQ(dmakit_reg_check_access_at(root, "0000:17:00.0", 0, BAR_SIZE - 4, 4,
					DMAKIT_REG_WRITE, err, sizeof(err)), 0);
	T_EQ(dmakit_reg_check_range(0x1000, 0xffc, 4, err, sizeof(err)), 0);
	T_EQ(dmakit_reg_check_range(0x1000, 0xffe, 4, err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_reg_check_range(0, 0, 1, err, sizeof(err)), -ERANGE);
}

static void test_spec(void)
{
	struct dmakit_reg_spec s;
	char err[256];

	T_EQ(dmakit_reg_spec_parse(&s, "reg:0000:00:04.0:BAR0:0x98:0x1", err, sizeof(err)), 0);
	T_STREQ(s.bdf, "0000:00:04.0");
	T_EQ(s.bar, 0);
	T_EQ_U64(s.offset, 0x98);
	T_EQ(s.width, 4);
	T_EQ_U64(s.mask, 1);
	T_EQ(s.edge, 0);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:bar2:0x100/8", err, sizeof(err)), 0);
	T_STREQ(s.bdf, "0000:17:00.0");
	T_EQ(s.bar, 2);
	T_EQ(s.width, 8);
	T_EQ_U64(s.mask, UINT64_MAX);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:BAR0:0x10/2:fall", err, sizeof(err)), 0);
	T_EQ(s.edge, -1);
	T_EQ_U64(s.mask, 0xffff);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:BAR0:0x10:4:rise", err, sizeof(err)), 0);
	T_EQ(s.edge, 1);
	T_EQ_U64(s.mask, 4);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:BAR0:0x12", err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "aligned"));
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:BAR6:0", err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:BAR0", err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:BAR0:0:0", err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:BAR0:0/1:0x100", err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:BAR0:0:1:up", err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:BAR0:0:1:rise:2", err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:zz:BAR0:0", err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_reg_spec_parse(&s, "reg:17:00.0:BAR0:-4", err, sizeof(err)), -EINVAL);
}

/* ---- the poller against a word another thread toggles ---- */

#define PULSES 300
#define WAIT_BOUND_NS (60ull * 1000000000ull)	/* a stuck poller fails, never hangs */

struct window {
	uint64_t set_before, clear_before;
};

struct toggle {
	uint64_t word;				/* the "register" */
	struct dmakit_reg_poller *poller;
	struct window win[PULSES + 1];
	uint64_t active, idle;			/* the word's two values */
	bool failed;
	/* transactions as the poller reported them */
	struct dmakit_trace_xact xact[PULSES + 8];
	unsigned int nxact;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t read_word(void *src)
{
	return __atomic_load_n((uint64_t *)src, __ATOMIC_ACQUIRE);
}

static void on_xact(void *ctx, const struct dmakit_trace_xact *x)
{
	struct toggle *t = ctx;

	if (t->nxact < sizeof(t->xact) / sizeof(t->xact[0]))
		t->xact[t->nxact] = *x;
	t->nxact++;
}

static uint64_t polls_of(struct dmakit_reg_poller *p)
{
	struct dmakit_reg_poll_stats s;

	dmakit_reg_poller_stats(p, &s);
	return s.polls;
}

/*
 * Polls to wait for after a store so that at least two of them read it.
 * A published count says the reads up to it are done, not that the next
 * read comes after our store: the poller's stores (the count among them)
 * can wait in its CPU's store buffer while its later reads run (x86 lets
 * a load pass older stores), more so while this thread keeps pulling the
 * count's cache line.  A store buffer holds at most 128 stores and a poll
 * makes at least two, so the reads after the first 65 polls past the
 * count seen come after the store: beside stress-ng, 3 polls were not
 * enough (one pulse in some 1500 was read once).
 */
#define HOLD_POLLS 130

/* Hold the level until the poller has read it twice (it cannot miss it). */
static bool hold(struct toggle *t)
{
	uint64_t seen, deadline = now_ns() + WAIT_BOUND_NS;

	/* the store before is visible before the count is read */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	seen = polls_of(t->poller);

	while (polls_of(t->poller) < seen + HOLD_POLLS)
		if (now_ns() > deadline)
			return false;
		else
			sched_yield();
	return true;
}

static void *toggler(void *arg)
{
	struct toggle *t = arg;
	unsigned int i;

	for (i = 0; i < PULSES && !t->failed; i++) {
		t->win[i].set_before = now_ns();
		__atomic_store_n(&t->word, t->active, __ATOMIC_RELEASE);
		if (!hold(t))
			t->failed = true;
		t->win[i].clear_before = now_ns();
		__atomic_store_n(&t->word, t->idle, __ATOMIC_RELEASE);
		if (!hold(t))
			t->failed = true;
	}
	t->win[PULSES].set_before = now_ns();
	return NULL;
}

static void run_toggle(bool active_low, uint64_t period_ns)
{
	static struct toggle t;
	struct dmakit_reg_poll_opts o = {
		.read = read_word, .src = &t.word, .mask = 0x3, .cpu = -1,
		.on_xact = on_xact, .ctx = &t, .period_ns = period_ns,
		.active_low = active_low,
	};
	struct dmakit_reg_poll_stats s;
	pthread_t th;
	char err[256];
	unsigned int i;

	memset(&t, 0, sizeof(t));
	/* bit 4 is outside the mask: it never makes an edge */
	t.active = active_low ? 0x10 : 0x12;
	t.idle = active_low ? 0x12 : 0x10;
	t.word = t.idle;
	o.mask = 0x2;
	T_EQ(dmakit_reg_poller_alloc(&t.poller, &o, err, sizeof(err)), 0);
	T_EQ(dmakit_reg_poller_start(t.poller, err, sizeof(err)), 0);
	if (!hold(&t)) {
		dmakit_reg_poller_free(t.poller);
		T_FAIL("poller did not poll");
	}
	pthread_create(&th, NULL, toggler, &t);
	pthread_join(th, NULL);
	dmakit_reg_poller_stop(t.poller);
	dmakit_reg_poller_stats(t.poller, &s);
	dmakit_reg_poller_free(t.poller);
	T_ASSERT(!t.failed);
	T_EQ(s.transactions, PULSES);
	T_EQ(t.nxact, PULSES);
	T_EQ(s.short_xacts, 0);		/* every pulse was held for two reads */
	T_ASSERT(!s.active_at_start);
	T_ASSERT(s.polls >= 4 * PULSES);
	T_ASSERT(s.period_ns > 0);
	T_ASSERT(s.max_gap_ns >= (uint64_t)s.period_ns);
	if (period_ns)
		T_ASSERT(s.period_ns >= (double)period_ns);	/* deadlines are absolute */
	/* every transaction lies in its own window: never early, never past the next */
	for (i = 0; i < PULSES; i++) {
		const struct dmakit_trace_xact *x = &t.xact[i];
		const struct window *w = &t.win[i];

		if (x->start_ns < w->set_before || x->start_ns > w->clear_before ||
		    x->end_ns < w->clear_before || x->end_ns > t.win[i + 1].set_before ||
		    x->latency_ns != x->end_ns - x->start_ns)
			T_FAIL("transaction %u [%llu, %llu] outside window [%llu, %llu] (next %llu)",
			       i, (unsigned long long)x->start_ns,
			       (unsigned long long)x->end_ns,
			       (unsigned long long)w->set_before,
			       (unsigned long long)w->clear_before,
			       (unsigned long long)t.win[i + 1].set_before);
	}
	T_ASSERT(s.min_latency_ns > 0);
}

static void test_poll_fast(void)
{
	run_toggle(false, 0);
}

static void test_poll_period(void)
{
	run_toggle(false, 20000);
}

static void test_poll_active_low(void)
{
	run_toggle(true, 0);
}

/* A level already active when polling starts is not a transaction. */
static void test_poll_active_at_start(void)
{
	static struct toggle t;
	struct dmakit_reg_poll_opts o = {
		.read = read_word, .src = &t.word, .mask = 1, .cpu = 0,
		.on_xact = on_xact, .ctx = &t,
	};
	struct dmakit_reg_poll_stats s;
	char err[256];

	memset(&t, 0, sizeof(t));
	t.word = 1;
	T_EQ(dmakit_reg_poller_alloc(&t.poller, &o, err, sizeof(err)), 0);
	T_EQ(dmakit_reg_poller_start(t.poller, err, sizeof(err)), 0);
	T_ASSERT(hold(&t));
	__atomic_store_n(&t.word, 0, __ATOMIC_RELEASE);
	T_ASSERT(hold(&t));
	__atomic_store_n(&t.word, 1, __ATOMIC_RELEASE);
	T_ASSERT(hold(&t));
	dmakit_reg_poller_stop(t.poller);
	dmakit_reg_poller_stop(t.poller);	/* idempotent */
	dmakit_reg_poller_stats(t.poller, &s);
	dmakit_reg_poller_free(t.poller);
	T_ASSERT(s.active_at_start);
	T_ASSERT(s.active_at_stop);
	T_EQ(s.transactions, 0);
	T_EQ(t.nxact, 0);
	/* nothing seen: gaps over two periods count as chances to miss */
	T_ASSERT(s.maybe_missed <= s.polls);
}

/*
 * A source that changes with the read count, not time: a transaction of
 * ten reads, a 5 ms stall, then one seen by a single read.
 */
static uint64_t scripted_reads;

static uint64_t read_scripted(void *src)
{
	uint64_t n = ++scripted_reads;
	struct timespec stall = { 0, 5000000 };

	(void)src;
	if (n == 40)
		nanosleep(&stall, NULL);
	return (n >= 10 && n < 20) || n == 60;
}

/* Poll a scripted source for 100 reads (bounded), then its stats. */
static void run_scripted(struct toggle *t, uint64_t (*read)(void *),
			 struct dmakit_reg_poll_stats *s)
{
	struct dmakit_reg_poll_opts o = {
		.read = read, .mask = 1, .cpu = -1,
		.on_xact = on_xact, .ctx = t,
	};
	uint64_t deadline = now_ns() + WAIT_BOUND_NS;
	char err[256];

	memset(t, 0, sizeof(*t));
	scripted_reads = 0;
	T_EQ(dmakit_reg_poller_alloc(&t->poller, &o, err, sizeof(err)), 0);
	T_EQ(dmakit_reg_poller_start(t->poller, err, sizeof(err)), 0);
	while (polls_of(t->poller) < 100 && now_ns() < deadline)
		sched_yield();
	dmakit_reg_poller_stop(t->poller);
	dmakit_reg_poller_stats(t->poller, s);
	dmakit_reg_poller_free(t->poller);
}

static void test_poll_short_and_missed(void)
{
	static struct toggle t;
	struct dmakit_reg_poll_stats s;

	run_scripted(&t, read_scripted, &s);
	T_EQ(s.transactions, 2);
	T_EQ(s.short_xacts, 1);			/* the one-read transaction */
	T_ASSERT(s.max_gap_ns >= 5000000);	/* the stall */
	/* the 5 ms gap could hide a transaction as short as the shortest seen */
	T_ASSERT(s.maybe_missed >= 1);
	T_ASSERT(s.min_latency_ns > 0 && s.min_latency_ns < s.max_gap_ns);
	T_EQ(t.nxact, 2);
	T_EQ_U64(s.min_latency_ns, t.xact[0].latency_ns < t.xact[1].latency_ns ?
		 t.xact[0].latency_ns : t.xact[1].latency_ns);
}

/*
 * A stall inside a transaction's last read makes its measured latency
 * 20 ms; a second transaction of similar true length could hide in any
 * later gap as long as the time the first was certainly active (reads 10
 * to 12, microseconds), such as the 5 ms stall at read 40: both stalls
 * count, not only the one as long as the inflated latency.
 */
static uint64_t read_inflated(void *src)
{
	uint64_t n = ++scripted_reads;
	struct timespec stall20 = { 0, 20000000 }, stall5 = { 0, 5000000 };

	(void)src;
	if (n == 13)
		nanosleep(&stall20, NULL);
	if (n == 40)
		nanosleep(&stall5, NULL);
	return n >= 10 && n < 13;
}

static void test_poll_missed_inflated(void)
{
	static struct toggle t;
	struct dmakit_reg_poll_stats s;

	run_scripted(&t, read_inflated, &s);
	T_EQ(s.transactions, 1);
	T_EQ(s.short_xacts, 0);
	T_ASSERT(s.min_latency_ns >= 20000000);	/* inflated by the stall */
	T_ASSERT(s.maybe_missed >= 2);		/* the 20 ms and the 5 ms gap */
}

static void test_poll_bad_opts(void)
{
	struct dmakit_reg_poller *p = NULL;
	struct dmakit_reg_poll_opts o = { .read = read_word, .mask = 0, .cpu = -1 };
	uint64_t word = 0;
	char err[256];

	o.src = &word;
	T_EQ(dmakit_reg_poller_alloc(&p, &o, err, sizeof(err)), -EINVAL);
	o.mask = 1;
	o.cpu = 1 << 20;
	T_EQ(dmakit_reg_poller_alloc(&p, &o, err, sizeof(err)), 0);
	T_EQ(dmakit_reg_poller_start(p, err, sizeof(err)), -EINVAL);
	dmakit_reg_poller_free(p);
}

/* The whole reg: trace over the fake BAR file, toggled through its own mapping. */
static uint64_t trace_polls(struct dmakit_reg_trace *t)
{
	struct dmakit_reg_poll_stats s;

	dmakit_reg_trace_stats(t, &s);
	return s.polls;
}

static bool trace_hold(struct dmakit_reg_trace *t)
{
	uint64_t seen, deadline = now_ns() + WAIT_BOUND_NS;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	seen = trace_polls(t);
	while (trace_polls(t) < seen + HOLD_POLLS)
		if (now_ns() > deadline)
			return false;
		else
			sched_yield();
	return true;
}

static void test_reg_trace(void)
{
	static struct toggle t;
	struct dmakit_reg_trace_opts o = {
		.start_spec = "reg:0000:17:00.0:BAR0:0x200:0x4",
		.end_spec = "reg:17:00.0:bar0:0x200:4",
		.cpu = -1, .on_xact = on_xact, .ctx = &t,
	};
	struct dmakit_reg_trace *tr;
	struct dmakit_reg_poll_stats s;
	volatile uint32_t *word;
	char err[512], path[1024];
	int fd, i;
	void *map;

	memset(&t, 0, sizeof(t));
	snprintf(path, sizeof(path), "%s/" DEV "resource0", root);
	fd = open(path, O_RDWR);
	T_ASSERT(fd >= 0);
	map = mmap(NULL, BAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	T_ASSERT(map != MAP_FAILED);
	word = (volatile uint32_t *)((char *)map + 0x200);
	*word = 0x3;				/* idle: bit 2 clear */
	T_EQ(dmakit_reg_trace_alloc_at(&tr, root, &o, err, sizeof(err)), 0);
	T_ASSERT(strstr(dmakit_reg_trace_describe(tr), "BAR0+0x200 (32-bit) & 0x4, rising edge starts"));
	T_EQ(dmakit_reg_trace_start(tr, err, sizeof(err)), 0);
	for (i = 0; i < 5; i++) {
		T_ASSERT(trace_hold(tr));
		*word = 0x7;
		T_ASSERT(trace_hold(tr));
		*word = 0x3;
	}
	T_ASSERT(trace_hold(tr));
	dmakit_reg_trace_stop(tr);
	dmakit_reg_trace_stats(tr, &s);
	dmakit_reg_trace_free(tr);
	munmap(map, BAR_SIZE);
	T_EQ(s.transactions, 5);
	T_EQ(t.nxact, 5);
	T_ASSERT(t.xact[0].start_ns < t.xact[0].end_ns);
	T_ASSERT(t.xact[0].end_ns <= t.xact[1].start_ns);

	/* specs that cannot make one register's two edges */
	o.end_spec = "irq";
	T_EQ(dmakit_reg_trace_alloc_at(&tr, root, &o, err, sizeof(err)), -EINVAL);
	o.end_spec = "reg:17:00.0:BAR0:0x204:4";
	T_EQ(dmakit_reg_trace_alloc_at(&tr, root, &o, err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "same register"));
	o.end_spec = "reg:17:00.0:BAR0:0x200:4:rise";
	T_EQ(dmakit_reg_trace_alloc_at(&tr, root, &o, err, sizeof(err)), -EINVAL);
	o.end_spec = "reg:17:00.0:BAR0:0x1000:4";
	o.start_spec = o.end_spec;
	T_EQ(dmakit_reg_trace_alloc_at(&tr, root, &o, err, sizeof(err)), -ERANGE);
	o.start_spec = o.end_spec = "reg:17:00.0:BAR2:0:1";
	T_EQ(dmakit_reg_trace_alloc_at(&tr, root, &o, err, sizeof(err)), -EOPNOTSUPP);
}

int main(void)
{
	char cmd[512];

	setup();
	T_RUN(test_read_widths);
	T_RUN(test_write);
	T_RUN(test_refusals);
	T_RUN(test_spec);
	T_RUN(test_poll_fast);
	T_RUN(test_poll_period);
	T_RUN(test_poll_active_low);
	T_RUN(test_poll_active_at_start);
	T_RUN(test_poll_short_and_missed);
	T_RUN(test_poll_missed_inflated);
	T_RUN(test_poll_bad_opts);
	T_RUN(test_reg_trace);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
	return t_exit();
}
