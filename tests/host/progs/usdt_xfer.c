// SPDX-License-Identifier: MIT
/*
 * Transactions on the simulated card through libdmakit, whose USDT probes
 * dmakit:dma_start / dmakit:dma_done a tracer can attach to.  Writes one
 * line per transaction: "<id> <ns before submit> <ns after wait>".
 *
 *   usdt_xfer DEVICE COUNT OUT      e.g. usdt_xfer sim:xfer_lat=2000 50 gt.txt
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <dmakit.h>

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL +
	       (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char err[DMAKIT_ERRMSG_MAX];
	static char buf[4096];
	struct dmakit_dev *dev;
	long i, n;
	FILE *out;
	int ret;

	if (argc != 4) {
		fprintf(stderr, "usage: usdt_xfer DEVICE COUNT OUT\n");
		return 2;
	}
	n = atol(argv[2]);
	ret = dmakit_open(&dev, argv[1], err, sizeof(err));
	if (ret) {
		fprintf(stderr, "usdt_xfer: %s\n", err);
		return 1;
	}
	out = fopen(argv[3], "w");
	if (!out) {
		perror(argv[3]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		unsigned long long t0 = now_ns(), t1;
		int64_t id = dmakit_dma_to_host(dev, buf, sizeof(buf), 0);
		size_t done;

		if (id < 0) {
			fprintf(stderr, "usdt_xfer: %s\n", dmakit_strerror((int)id));
			return 1;
		}
		ret = dmakit_dma_wait(dev, id, 5000, &done);
		t1 = now_ns();
		if (ret) {
			fprintf(stderr, "usdt_xfer: wait: %s\n", dmakit_strerror(ret));
			return 1;
		}
		fprintf(out, "%lld %llu %llu\n", (long long)id, t0, t1);
	}
	dmakit_close(dev);
	return fclose(out) ? 1 : 0;
}
