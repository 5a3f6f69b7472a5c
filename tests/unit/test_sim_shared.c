// SPDX-License-Identifier: MIT
/*
 * A simulated card shared by two processes (sim:name=NAME): the second
 * opener attaches as a consumer and sees the same verified stream, wakes
 * through its pollable fd, notices a dead owner; a stale ring of a killed
 * owner is replaced; a killed consumer does not stall the producer; the
 * owner's close removes the name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dmakit.h>
#include "t.h"

static char name_buf[64];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *uniq(const char *what)
{
	snprintf(name_buf, sizeof(name_buf), "t%d-%s", (int)getpid(), what);
	return name_buf;
}

static bool shm_exists(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/dmakit-sim.%s", name);
	return stat(path, &st) == 0;
}

static int open_dev(struct dmakit_dev **dev, const char *spec)
{
	char err[DMAKIT_ERRMSG_MAX];
	int ret = dmakit_open(dev, spec, err, sizeof(err));

	if (ret)
		fprintf(stderr, "open %s: %s\n", spec, err);
	return ret;
}

static bool payload_ok(const struct dmakit_buf *b)
{
	const uint64_t *w = b->data;
	size_t i;

	for (i = 0; i < b->desc.len / 8; i++)
		if (w[i] != dmakit_payload_word(b->desc.seq, i))
			return false;
	return true;
}

/*
 * Read @n buffers in order through the pollable fd (timeout-0 next()),
 * checking sequence, CRC and payload.  Returns the count of good ones.
 */
static int read_verified(struct dmakit_consumer *c, int n)
{
	struct pollfd p = { .fd = dmakit_consumer_fd(c), .events = POLLIN };
	struct dmakit_buf b;
	int good = 0, i = 0, idle = 0;

	while (i < n && idle < 50) {
		int ret = dmakit_consumer_next(c, &b, 0);

		if (ret == -ETIMEDOUT) {
			idle += poll(&p, 1, 100) == 0;
			continue;
		}
		if (ret)
			break;
		if (b.desc.seq == (uint64_t)i && payload_ok(&b) &&
		    b.desc.crc32c == dmakit_crc32c(0, b.data, b.desc.len))
			good++;
		dmakit_consumer_release(c, &b);
		i++;
	}
	return good;
}

static void two_processes_one_stream(void)
{
	char spec[128];
	int to_child[2], to_parent[2], status;
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	pid_t pid;
	char x;

	snprintf(spec, sizeof(spec),
		 "sim:name=%s,bufsize=16K,nbufs=8,count=300,policy=block",
		 uniq("two"));
	T_ASSERT(pipe(to_child) == 0 && pipe(to_parent) == 0);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		/* the second process: attach when the owner exists */
		int good;

		if (read(to_child[0], &x, 1) != 1 || open_dev(&dev, spec) ||
		    dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c))
			_exit(2);
		if (write(to_parent[1], "a", 1) != 1)
			_exit(3);
		good = read_verified(c, 300);
		dmakit_close(dev);
		_exit(good == 300 ? 0 : 10);
	}
	T_EQ(open_dev(&dev, spec), 0);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(write(to_child[1], "o", 1), 1);
	T_EQ(read(to_parent[0], &x, 1), 1);	/* child attached */
	T_EQ(dmakit_start(dev), 0);
	T_EQ(read_verified(c, 300), 300);
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status));
	T_EQ(WEXITSTATUS(status), 0);
	T_ASSERT(shm_exists(name_buf));
	dmakit_close(dev);
	T_ASSERT(!shm_exists(name_buf));	/* the owner removes the name */
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

/* A ring left by an owner that died is replaced, not attached to. */
static void stale_ring_replaced(void)
{
	struct dmakit_consumer *c;
	struct dmakit_dev *dev;
	struct dmakit_buf b;
	char spec[128];
	int status;
	pid_t pid;

	snprintf(spec, sizeof(spec), "sim:name=%s,bufsize=4K,nbufs=4,count=10",
		 uniq("stale"));
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		if (open_dev(&dev, spec))
			_exit(2);
		_exit(0);		/* "crash": no close */
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_EQ(WEXITSTATUS(status), 0);
	T_ASSERT(shm_exists(name_buf));	/* left behind */
	T_EQ(open_dev(&dev, spec), 0);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);		/* we own the producer now */
	T_EQ(dmakit_consumer_next(c, &b, 5000), 0);
	T_EQ_U64(b.desc.seq, 0);
	dmakit_close(dev);
	T_ASSERT(!shm_exists(name_buf));
}

/* An attached consumer learns that the owner was killed mid-stream. */
static void owner_killed(void)
{
	int ready[2], status, ret;
	struct dmakit_consumer *c;
	struct dmakit_dev *dev;
	struct dmakit_buf b;
	char spec[128], x;
	uint64_t t0;
	pid_t pid;

	snprintf(spec, sizeof(spec), "sim:name=%s,bufsize=4K,nbufs=4,rate=40K",
		 uniq("killed"));
	T_ASSERT(pipe(ready) == 0);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		if (open_dev(&dev, spec) || dmakit_start(dev))
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	T_EQ(read(ready[0], &x, 1), 1);
	T_EQ(open_dev(&dev, spec), 0);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_consumer_next(c, &b, 5000), 0);	/* 10 buffers/s */
	T_EQ(dmakit_consumer_release(c, &b), 0);
	kill(pid, SIGKILL);
	T_EQ(waitpid(pid, &status, 0), pid);
	t0 = now_ns();
	do {
		/* the owner is checked every 500 ms: ENODEV, not a timeout */
		ret = dmakit_consumer_next(c, &b, 30000);
		if (ret == 0)
			dmakit_consumer_release(c, &b);
	} while (ret == 0);
	T_EQ(ret, -ENODEV);
	T_ASSERT(now_ns() - t0 < 30000000000ULL);
	dmakit_close(dev);
	/* the dead owner's ring stays until the next opener replaces it */
	T_ASSERT(shm_exists(name_buf));
	T_EQ(open_dev(&dev, spec), 0);
	dmakit_close(dev);
	T_ASSERT(!shm_exists(name_buf));
	close(ready[0]);
	close(ready[1]);
}

/* A reliable consumer in a killed process must not stall the producer. */
static void dead_consumer_reclaimed(void)
{
	int ready[2], status;
	struct dmakit_consumer *c;
	struct dmakit_dev *dev, *d2;
	char spec[128], x;
	pid_t pid;

	snprintf(spec, sizeof(spec),
		 "sim:name=%s,bufsize=4K,nbufs=4,count=64,policy=block",
		 uniq("deadcons"));
	T_ASSERT(pipe(ready) == 0);
	T_EQ(open_dev(&dev, spec), 0);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		struct dmakit_consumer *dc;

		/* the inherited device is the parent's: open our own */
		if (open_dev(&d2, spec) ||
		    dmakit_consumer_attach(d2, DMAKIT_RELIABLE, &dc))
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		pause();		/* never consumes */
		_exit(0);
	}
	T_EQ(read(ready[0], &x, 1), 1);
	kill(pid, SIGKILL);
	T_EQ(waitpid(pid, &status, 0), pid);
	T_EQ(dmakit_start(dev), 0);
	/* BLOCK policy: without reclaim, the producer would wait forever */
	T_EQ(read_verified(c, 64), 64);
	dmakit_close(dev);
	close(ready[0]);
	close(ready[1]);
}

static void bad_shared_specs(void)
{
	char err[DMAKIT_ERRMSG_MAX], spec[128];
	struct dmakit_dev *dev, *d2;

	T_EQ(dmakit_open(&dev, "sim:name=../etc", err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "bad name"));
	T_EQ(dmakit_open(&dev, "sim:name=", err, sizeof(err)), -EINVAL);
	snprintf(spec, sizeof(spec), "sim:name=%s,bufsize=8K,nbufs=4",
		 uniq("mismatch"));
	T_EQ(open_dev(&dev, spec), 0);
	snprintf(spec, sizeof(spec), "sim:name=%s,bufsize=16K", name_buf);
	T_EQ(dmakit_open(&d2, spec, err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "bufsize=8192"));
	/* only the name: takes the ring as it is (same process is fine) */
	snprintf(spec, sizeof(spec), "sim:name=%s", name_buf);
	T_EQ(open_dev(&d2, spec), 0);
	{
		struct dmakit_geometry g;

		T_EQ(dmakit_get_geometry(d2, &g), 0);
		T_EQ(g.bufsize, 8192);
		T_EQ(g.nbufs, 4);
		T_EQ(dmakit_dma_to_host(d2, err, 16, 0), -EOPNOTSUPP);
	}
	dmakit_close(d2);
	dmakit_close(dev);
}

int main(void)
{
	T_RUN(two_processes_one_stream);
	T_RUN(stale_ring_replaced);
	T_RUN(owner_killed);
	T_RUN(dead_consumer_reclaimed);
	T_RUN(bad_shared_specs);
	return t_exit();
}
