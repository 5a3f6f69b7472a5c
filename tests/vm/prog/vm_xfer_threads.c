// SPDX-License-Identifier: MIT
/*
 * vm_xfer_threads OUT COUNT SIZE DEV...: one thread per DEV (a dmakit.ko
 * card, opened by each thread on its own), each running COUNT
 * transactions of SIZE bytes, alternating dmakit_dma_to_host and
 * dmakit_dma_from_host, each followed by dmakit_dma_wait; all threads
 * start together so their calls interleave.  Writes one line per call to
 * OUT, "TID DIR START_NS END_NS" (DIR 1: to host; CLOCK_MONOTONIC taken
 * just before the start call and just after the wait returned): the
 * window a tracer's transaction for that call must lie in.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>
#include <dmakit.h>
#include "vmt.h"

#define MAX_THREADS 8

struct call {
	int to_host;
	uint64_t start_ns, end_ns;
};

struct worker {
	const char *devpath;
	pid_t tid;
	struct call *calls;
	int err;
};

static uint64_t count;
static size_t size;
static pthread_barrier_t go;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	char errmsg[DMAKIT_ERRMSG_MAX];
	struct dmakit_dev *dev = NULL;
	uint8_t *buf = vmt_pages((size + 4095) / 4096);
	uint64_t i;
	int ret;

	w->tid = gettid();
	ret = buf ? dmakit_open(&dev, w->devpath, errmsg, sizeof(errmsg)) : -ENOMEM;
	if (ret)
		fprintf(stderr, "%s: %s\n", w->devpath,
			buf ? errmsg : strerror(-ret));
	/* every thread reaches the barrier, so none waits forever */
	pthread_barrier_wait(&go);
	if (ret) {
		w->err = ret;
		return NULL;
	}
	vmt_pattern(buf, size, (uint32_t)w->tid);
	for (i = 0; i < count; i++) {
		struct call *c = &w->calls[i];
		int64_t id;

		c->to_host = i & 1;
		c->start_ns = now_ns();
		id = c->to_host ? dmakit_dma_to_host(dev, buf, size, 0) :
				  dmakit_dma_from_host(dev, buf, size, 0);
		ret = id < 0 ? (int)id : dmakit_dma_wait(dev, id, 30000, NULL);
		c->end_ns = now_ns();
		if (ret) {
			fprintf(stderr, "%s: call %llu: %s\n", w->devpath,
				(unsigned long long)i, dmakit_strerror(ret));
			w->err = ret;
			break;
		}
	}
	dmakit_close(dev);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker w[MAX_THREADS] = { 0 };
	pthread_t th[MAX_THREADS];
	int n = argc - 4, i, bad = 0;
	uint64_t k;
	FILE *out;

	if (argc < 5 || n > MAX_THREADS) {
		fprintf(stderr, "usage: vm_xfer_threads OUT COUNT SIZE DEV... (up to %d)\n",
			MAX_THREADS);
		return 2;
	}
	count = strtoull(argv[2], NULL, 0);
	size = strtoull(argv[3], NULL, 0);
	if (!count || count > 1000000 || !size || size > (1 << 20)) {
		fprintf(stderr, "vm_xfer_threads: COUNT 1..1000000, SIZE 1..1M\n");
		return 2;
	}
	pthread_barrier_init(&go, NULL, (unsigned int)n);
	for (i = 0; i < n; i++) {
		w[i].devpath = argv[4 + i];
		w[i].calls = calloc(count, sizeof(*w[i].calls));
		if (!w[i].calls || pthread_create(&th[i], NULL, run, &w[i])) {
			fprintf(stderr, "vm_xfer_threads: out of memory\n");
			return 1;
		}
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		bad |= w[i].err != 0;
		for (k = 0; k < count && w[i].calls[k].end_ns; k++)
			fprintf(out, "%d %d %llu %llu\n", (int)w[i].tid,
				w[i].calls[k].to_host,
				(unsigned long long)w[i].calls[k].start_ns,
				(unsigned long long)w[i].calls[k].end_ns);
		free(w[i].calls);
	}
	if (fclose(out)) {
		perror(argv[1]);
		return 1;
	}
	return bad;
}
