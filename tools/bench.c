// SPDX-License-Identifier: MIT
/*
 * dmakit bench: the ceilings a recording is compared with.
 *   memcpy - copying buffer-sized blocks between two large areas (what a
 *            copying engine pays per byte, and the memory bandwidth limit);
 *   drain  - how fast one reliable consumer can take and release buffers
 *            from a device (default: the sim card at rate=max) without
 *            writing them: the rate at which the source can feed a
 *            recorder, and the consumer's CPU cost per GB.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dmakit.h>
#include "cli.h"
#include "json.h"

#define CMD "bench"
#define MEMCPY_AREA	(256U << 20)
#define GB		1e9

static void usage(FILE *f)
{
	fprintf(f,
"usage: dmakit bench [--size BYTES] [--bufsize BYTES] [--device DEVICE] [--json] [-q]\n"
"\n"
"Measure the ceilings a recording is compared with: memcpy bandwidth with\n"
"buffer-sized blocks, and how fast a consumer drains DEVICE's ring without\n"
"writing anything (with CPU seconds per GB for consumer and producer).\n"
"\n"
"  -s, --size BYTES      bytes to copy and to drain (default 4G)\n"
"  -b, --bufsize BYTES   block size of the memcpy test (default 512K)\n"
"  -d, --device DEVICE   device to drain (default sim:policy=block,rate=max)\n"
"      --json            one JSON object on stdout, also on failure\n"
"                        (\"ok\" false)\n"
"  -q, --quiet           print only errors\n"
"  -h, --help\n");
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes per second copying @bufsize blocks, @total bytes in all. */
static int bench_memcpy(uint64_t total, uint32_t bufsize, double *rate)
{
	unsigned char *src, *dst;
	size_t nblk = MEMCPY_AREA / bufsize, i = 0;
	uint64_t done = 0, t0;

	if (!nblk)
		nblk = 1;
	src = malloc(nblk * bufsize);
	dst = malloc(nblk * bufsize);
	if (!src || !dst) {
		free(src);
		free(dst);
		return -ENOMEM;
	}
	/* fault everything in before timing */
	memset(src, 0x5a, nblk * bufsize);
	memset(dst, 0, nblk * bufsize);
	t0 = cli_now_ns();
	while (done < total) {
		memcpy(dst + i * bufsize, src + ((i * 7 + 3) % nblk) * bufsize,
		       bufsize);
		i = (i + 1) % nblk;
		done += bufsize;
	}
	*rate = (double)done / ((double)(cli_now_ns() - t0) / 1e9);
	/* keep the copies observable */
	if (dst[bufsize / 2] != 0x5a)
		*rate = 0;
	free(src);
	free(dst);
	return 0;
}

struct drain_result {
	double rate;
	double consumer_cpu_s;
	double producer_cpu_s;
	uint64_t bytes;
	uint64_t dropped;
};

static int bench_drain(const char *spec, uint64_t total,
		       struct drain_result *r, char *err, size_t errlen)
{
	struct dmakit_dev *dev = NULL;
	struct dmakit_consumer *cons;
	struct dmakit_stats st;
	struct dmakit_buf b;
	uint64_t t0;
	double c0;
	int ret;

	ret = dmakit_open(&dev, spec, err, errlen);
	if (ret)
		return ret;
	ret = dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &cons);
	if (!ret)
		ret = dmakit_start(dev);
	if (ret) {
		snprintf(err, errlen, "%s: %s", spec, dmakit_strerror(ret));
		dmakit_close(dev);
		return ret;
	}
	t0 = cli_now_ns();
	c0 = thread_cpu_s();
	memset(r, 0, sizeof(*r));
	while (r->bytes < total) {
		ret = dmakit_consumer_next(cons, &b, 5000);
		if (ret)
			break;
		r->bytes += b.desc.len;
		dmakit_consumer_release(cons, &b);
	}
	r->consumer_cpu_s = thread_cpu_s() - c0;
	r->rate = (double)r->bytes / ((double)(cli_now_ns() - t0) / 1e9);
	dmakit_stop(dev);
	dmakit_consumer_stats(cons, &st);
	r->producer_cpu_s = (double)st.producer_cpu_ns / 1e9;
	r->dropped = st.dropped;
	dmakit_close(dev);
	if (ret && ret != -ENODATA) {
		snprintf(err, errlen, "%s: %s", spec, dmakit_strerror(ret));
		return ret;
	}
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "bufsize", required_argument, NULL, 'b' },
		{ "device", required_argument, NULL, 'd' },
		CLI_COMMON_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = "sim:policy=block,rate=max";
	uint64_t total = 4ULL << 30, bufsize = 512 * 1024;
	struct drain_result dr;
	char err[DMAKIT_ERRMSG_MAX], b1[32], b2[32];
	bool json = false, quiet = false;
	double mrate;
	int o, ret;

	while ((o = getopt_long(argc, argv, ":s:b:d:qh", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			if (cli_parse_count(optarg, 1, DMAKIT_MAX_BYTES, &total))
				return cli_usage_error(CMD, "bad --size '%s' (1 byte..2^60, i.e. 1048576T)", optarg);
			break;
		case 'b':
			if (dmakit_parse_size(optarg, &bufsize) || !bufsize ||
			    bufsize > MEMCPY_AREA)
				return cli_usage_error(CMD, "bad --bufsize '%s' (1..256M)",
						       optarg);
			break;
		case 'd':
			spec = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			ret = cli_other_opt(CMD, o, optarg, argv,
					    &json, &quiet,
					    NULL, NULL);
			if (ret)
				return ret;
			break;
		}
	}
	if (cli_no_operands(CMD, argc, argv))
		return CLI_EXIT_USAGE;

	ret = bench_memcpy(total, (uint32_t)bufsize, &mrate);
	if (ret)
		return cli_error(CMD, "memcpy: %s", dmakit_strerror(ret));
	ret = bench_drain(spec, total, &dr, err, sizeof(err));
	if (ret == -EINVAL)
		return cli_usage_error(CMD, "%s", err);
	if (ret)
		return cli_error(CMD, "drain %s", err);

	if (json) {
		struct dmakit_json j;

		cli_json_begin(&j, true, false);
		dmakit_json_u64(&j, "memcpy_block", bufsize);
		dmakit_json_double(&j, "memcpy_bytes_per_s", mrate);
		dmakit_json_str(&j, "drain_device", spec);
		dmakit_json_u64(&j, "drain_bytes", dr.bytes);
		dmakit_json_double(&j, "drain_bytes_per_s", dr.rate);
		dmakit_json_double(&j, "drain_consumer_cpu_s_per_gb",
				   dr.consumer_cpu_s * GB / (double)dr.bytes);
		dmakit_json_double(&j, "drain_producer_cpu_s_per_gb",
				   dr.producer_cpu_s * GB / (double)dr.bytes);
		dmakit_json_u64(&j, "drain_dropped", dr.dropped);
		dmakit_json_obj_end(&j);
		dmakit_json_end(&j);
		return CLI_EXIT_OK;
	}
	if (quiet)
		return CLI_EXIT_OK;
	printf("memcpy (%s blocks): %s\n",
	       cli_fmt_bytes(b1, sizeof(b1), (double)bufsize),
	       cli_fmt_rate(b2, sizeof(b2), mrate));
	printf("drain %s: %s, consumer %.3f CPU s/GB, producer %.3f CPU s/GB, %llu dropped\n",
	       spec, cli_fmt_rate(b1, sizeof(b1), dr.rate),
	       dr.consumer_cpu_s * GB / (double)dr.bytes,
	       dr.producer_cpu_s * GB / (double)dr.bytes,
	       (unsigned long long)dr.dropped);
	return CLI_EXIT_OK;
}
