// SPDX-License-Identifier: MIT
/*
 * Your program as the card: a complete producer on libdmakit's producer
 * API (include/dmakit/producer.h).  It creates the ring NAME, waits for
 * its consumers, and publishes COUNT buffers whose bytes follow the sim
 * payload, so `dmakit verify` can check every byte end to end.  Where
 * this program calls fill(), yours DMAs into the claimed buffer, or
 * copies from its own DMA mapping.
 *
 *   producer [-b BUFSIZE] [-n NBUFS] [-p drop|block] [-c CONSUMERS]
 *            [-r BUFFERS_PER_SECOND] NAME COUNT
 *
 *   build/examples/producer -c 1 demo 4096 &
 *   dmakit record -d app:demo -o /tmp/demo.dat --size 10G   # ends with the stream
 *   dmakit verify /tmp/demo.dat
 *
 * COUNT 0 produces until SIGINT/SIGTERM.  Exit 0 when every buffer was
 * published (or counted lost under policy drop), 1 on failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dmakit.h>
#include <dmakit/producer.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* What a card would DMA: the verifiable payload of sequence number @seq. */
static void fill(void *data, uint32_t bufsize, uint64_t seq)
{
	uint64_t *w = data;
	uint32_t i;

	for (i = 0; i < bufsize / 8; i++)
		w[i] = dmakit_payload_word(seq, i);
}

static const char usage_text[] =
	"usage: producer [-b BUFSIZE] [-n NBUFS] [-p drop|block] [-c CONSUMERS]\n"
	"                [-r BUFFERS_PER_SECOND] NAME COUNT\n"
	"Creates the ring NAME, waits up to 60 s for CONSUMERS (default 1) to\n"
	"attach and publishes COUNT verifiable buffers (0: until SIGINT/SIGTERM).\n"
	"  -b BUFSIZE  buffer size (K/M suffixes; default 64K)\n"
	"  -n NBUFS    buffers in the ring (default 64)\n"
	"  -p POLICY   block (default): wait for the consumers; drop: count a\n"
	"              buffer lost when the ring is full\n"
	"  -c N        consumers to wait for before publishing (0..64)\n"
	"  -r RATE     buffers per second (default: as fast as they go)\n";

static int usage(const char *why, const char *arg)
{
	if (why)
		fprintf(stderr, "producer: %s '%s'\n", why, arg);
	fputs(usage_text, stderr);
	return 2;
}

/* A whole number in [min, max], nothing else. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || *s == '-' || *v < min || *v > max ?
	       -EINVAL : 0;
}

int main(int argc, char **argv)
{
	struct dmakit_producer_opts o = { .bufsize = 64 * 1024, .nbufs = 64,
					  .policy = DMAKIT_POLICY_BLOCK,
					  .payload = DMAKIT_PAYLOAD_SIM };
	char err[DMAKIT_ERRMSG_MAX], *end;
	struct dmakit_producer *p;
	uint64_t count, seq = 0, lost = 0, t0, v;
	double rate = 0;
	int consumers = 1, opt, ret;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_text, stdout);
		return 0;
	}
	while ((opt = getopt(argc, argv, "b:n:p:c:r:")) != -1) {
		switch (opt) {
		case 'b':
			if (dmakit_parse_size(optarg, &v) || !v || v > UINT32_MAX)
				return usage("bad buffer size", optarg);
			o.bufsize = (uint32_t)v;
			break;
		case 'n':
			if (parse_u64(optarg, 0, UINT32_MAX, &v))
				return usage("bad buffer count", optarg);
			o.nbufs = (uint32_t)v;
			break;
		case 'p':
			if (!strcmp(optarg, "drop"))
				o.policy = DMAKIT_POLICY_DROP;
			else if (!strcmp(optarg, "block"))
				o.policy = DMAKIT_POLICY_BLOCK;
			else
				return usage("bad policy", optarg);
			break;
		case 'c':
			if (parse_u64(optarg, 0, 64, &v))
				return usage("bad consumer count", optarg);
			consumers = (int)v;
			break;
		case 'r':
			rate = strtod(optarg, &end);
			if (end == optarg || *end || !(rate > 0 && rate <= 1e9))
				return usage("bad rate", optarg);
			break;
		default:
			return usage(NULL, NULL);
		}
	}
	if (argc - optind != 2)
		return usage(NULL, NULL);
	if (parse_u64(argv[optind + 1], 0, UINT64_MAX, &count))
		return usage("bad count", argv[optind + 1]);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = dmakit_producer_create(&p, argv[optind], &o, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "producer: %s\n", err);
		return 1;
	}
	/* a consumer starts with the next buffer: wait for them (60 s) */
	t0 = now_ns();
	while (dmakit_producer_consumers(p) < consumers && !stop) {
		if (now_ns() - t0 > 60000000000ULL) {
			fprintf(stderr, "producer: %d consumer(s) did not attach within 60 s\n",
				consumers);
			dmakit_producer_close(p, -ETIMEDOUT);
			return 1;
		}
		usleep(10000);
	}
	t0 = now_ns();
	while (!stop && (!count || seq < count)) {
		void *buf;

		if (rate > 0) {
			uint64_t due = t0 + (uint64_t)((double)seq * 1e9 / rate);

			while (now_ns() < due && !stop)
				usleep(1000);
		}
		ret = dmakit_producer_claim(p, &buf, 1000);
		if (ret == -ENOBUFS) {		/* policy drop: counted lost */
			seq++;
			lost++;
			continue;
		}
		if (ret == -ETIMEDOUT)
			continue;		/* policy block: still full */
		if (ret) {
			fprintf(stderr, "producer: claim: %s\n", dmakit_strerror(ret));
			dmakit_producer_close(p, ret);
			return 1;
		}
		fill(buf, o.bufsize, seq);
		ret = dmakit_producer_publish(p, o.bufsize, 0, 0, now_ns() - t0);
		if (ret) {
			fprintf(stderr, "producer: publish: %s\n", dmakit_strerror(ret));
			dmakit_producer_close(p, ret);
			return 1;
		}
		seq++;
	}
	dmakit_producer_close(p, 0);
	printf("producer: %llu buffers, %llu published, %llu lost\n",
	       (unsigned long long)seq, (unsigned long long)(seq - lost),
	       (unsigned long long)lost);
	return 0;
}
