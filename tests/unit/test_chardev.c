// SPDX-License-Identifier: MIT
/*
 * The chardev: source's outcome for every kind of read result, including
 * the ones no test device produces on demand (ETIMEDOUT, the kernel's
 * restart codes leaking as "Unknown error 512"), and the source over a
 * pipe through the library API: a writer's odd-sized writes arrive in
 * order, one sequence number per buffer, EOF ends the stream (-ENODATA).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <dmakit.h>
#include "source/chardev.h"
#include "t.h"

static void classify_results(void)
{
	T_EQ(chardev_classify(4096, 4096), CHARDEV_FULL);
	T_EQ(chardev_classify(1, 4096), CHARDEV_SHORT);
	T_EQ(chardev_classify(4095, 4096), CHARDEV_SHORT);
	T_EQ(chardev_classify(0, 4096), CHARDEV_END);
	T_EQ(chardev_classify(-EINTR, 4096), CHARDEV_RETRY);
	T_EQ(chardev_classify(-EAGAIN, 4096), CHARDEV_RETRY);
	T_EQ(chardev_classify(-ECANCELED, 4096), CHARDEV_RETRY);
	T_EQ(chardev_classify(-EIO, 4096), CHARDEV_LOST);
	T_EQ(chardev_classify(-ETIMEDOUT, 4096), CHARDEV_LOST);
	T_EQ(chardev_classify(-ETIME, 4096), CHARDEV_LOST);
	T_EQ(chardev_classify(-512, 4096), CHARDEV_LOST);	/* ERESTARTSYS */
	T_EQ(chardev_classify(-516, 4096), CHARDEV_LOST);
	T_EQ(chardev_classify(-517, 4096), CHARDEV_FATAL);
	T_EQ(chardev_classify(-ENODEV, 4096), CHARDEV_FATAL);
	T_EQ(chardev_classify(-ENXIO, 4096), CHARDEV_FATAL);
	T_EQ(chardev_classify(-EINVAL, 4096), CHARDEV_FATAL);
	T_EQ(chardev_classify(-EFAULT, 4096), CHARDEV_FATAL);
}

struct writer {
	int fd;
	size_t total;
};

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 131 + (i >> 9));
}

static void *write_odd_sizes(void *arg)
{
	static const size_t sizes[] = { 1, 4095, 4097, 12289, 3, 8192 };
	struct writer *w = arg;
	unsigned char buf[16384];
	size_t done = 0, k = 0, i;

	while (done < w->total) {
		size_t n = sizes[k++ % 6];

		if (n > w->total - done)
			n = w->total - done;
		for (i = 0; i < n; i++)
			buf[i] = pattern(done + i);
		if (write(w->fd, buf, n) != (ssize_t)n)
			break;
		done += n;
	}
	close(w->fd);
	return NULL;
}

static void pipe_in_order(void)
{
	struct dmakit_dev *dev = NULL;
	struct dmakit_consumer *cons = NULL;
	struct writer w = { .total = 1 << 20 };
	char spec[64], err[DMAKIT_ERRMSG_MAX];
	uint64_t next_seq = 0;
	size_t got = 0;
	pthread_t th;
	int p[2], ret;

	T_ASSERT(pipe(p) == 0);
	w.fd = p[1];
	snprintf(spec, sizeof(spec), "chardev:/proc/self/fd/%d,bufsize=16K,nbufs=8",
		 p[0]);
	ret = dmakit_open(&dev, spec, err, sizeof(err));
	if (ret)
		T_FAIL("open %s: %s", spec, err);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &cons), 0);
	T_EQ(pthread_create(&th, NULL, write_odd_sizes, &w), 0);
	T_EQ(dmakit_start(dev), 0);
	for (;;) {
		struct dmakit_buf b;
		const unsigned char *d;
		uint32_t i;

		ret = dmakit_consumer_next(cons, &b, 30000);
		if (ret)
			break;
		d = b.data;
		if (b.desc.seq != next_seq++ || b.desc.lost)
			T_FAIL("seq %llu lost %llu at %zu bytes",
			       (unsigned long long)b.desc.seq,
			       (unsigned long long)b.desc.lost, got);
		if (b.desc.len < 16384 && !(b.desc.flags & DMAKIT_DESC_F_TRUNC))
			T_FAIL("short buffer of %u bytes not flagged", b.desc.len);
		for (i = 0; i < b.desc.len; i++)
			if (d[i] != pattern(got + i))
				T_FAIL("byte %zu differs", got + i);
		got += b.desc.len;
		T_EQ(dmakit_consumer_release(cons, &b), 0);
	}
	pthread_join(th, NULL);
	T_EQ(ret, -ENODATA);
	T_EQ_U64(got, w.total);
	dmakit_close(dev);
	close(p[0]);
}

int main(void)
{
	T_RUN(classify_results);
	T_RUN(pipe_in_order);
	return t_exit();
}
