// SPDX-License-Identifier: MIT
/*
 * dmakit xfer: run DMA transactions between host memory and card memory
 * (dmakit_dma_to_host / dmakit_dma_from_host / dmakit_dma_wait) and report
 * their latency; with --check, prove the bytes arrived intact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dmakit.h>
#include "cli.h"
#include "json.h"

#define CMD "xfer"

struct xfer_opts {
	const char *device;
	int to_host;			/* -1: not given */
	uint64_t size;
	uint64_t card_addr;
	uint64_t count;
	uint64_t offset;		/* into the first page of the buffer */
	int timeout_ms;
	bool check;
	bool quiet;
	bool json;
};

struct xfer_stats {
	uint64_t done, failed, bytes, mismatches;
	uint64_t lat_min, lat_max, lat_sum;
	uint64_t hist[CLI_HIST_SLOTS];
	double secs;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dmakit xfer -d DEV (--to-host|--from-host) --size N [options]\n"
		"\n"
		"Run DMA transactions between a host buffer and card memory and\n"
		"report their latency (submit to completion).\n"
		"\n"
		"  -d, --device DEV     /dev/dmakitN, or sim[:options]\n"
		"      --to-host        card memory -> host buffer\n"
		"      --from-host      host buffer -> card memory\n"
		"  -s, --size N         bytes per transaction (K/M suffixes)\n"
		"  -a, --card-addr A    offset into card memory (default 0)\n"
		"  -n, --count K        transactions to run (default 1)\n"
		"      --offset B       place the host buffer B bytes into a page\n"
		"                       (unaligned buffers; default 0)\n"
		"  -c, --check          verify the data: a known pattern goes to card\n"
		"                       memory and must come back unchanged\n"
		"      --timeout TIME   wait at most TIME per transaction, with a unit:\n"
		"                       500ms, 5s (default 5s; 0: do not wait)\n"
		"  -q, --quiet          print only errors\n"
		"      --json           print the summary as one JSON object on stdout,\n"
		"                       also on failure (\"ok\" false)\n"
		"  -h, --help\n"
		"\n"
		"EXAMPLES\n"
		"  dmakit xfer -d /dev/dmakit1 --from-host --size 2048 -n 10 --check\n"
		"  dmakit xfer -d sim --to-host --size 64K --count 1000\n");
}

/* Bytes of a pattern unique to @seed and the byte's position. */
static void fill_pattern(unsigned char *buf, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = dmakit_payload_word(seed, i / 8);
		size_t n = len - i < 8 ? len - i : 8;

		memcpy(buf + i, &w, n);
	}
}

static int parse_args(int argc, char **argv, struct xfer_opts *o)
{
	enum { O_TO_HOST = 256, O_FROM_HOST, O_OFFSET, O_TIMEOUT };
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "to-host", no_argument, NULL, O_TO_HOST },
		{ "from-host", no_argument, NULL, O_FROM_HOST },
		{ "size", required_argument, NULL, 's' },
		{ "card-addr", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'n' },
		{ "offset", required_argument, NULL, O_OFFSET },
		{ "check", no_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		CLI_COMMON_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double secs;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":d:s:a:n:cqh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			o->device = optarg;
			break;
		case O_TO_HOST:
		case O_FROM_HOST:
			if (o->to_host >= 0 && o->to_host != (c == O_TO_HOST))
				return cli_usage_error(CMD, "--to-host and --from-host exclude each other");
			o->to_host = c == O_TO_HOST;
			break;
		case 's':
			/* the card's memory is checked once it is open */
			if (cli_parse_count(optarg, 1, 1ULL << 30, &o->size))
				return cli_usage_error(CMD, "bad --size '%s' (1 byte..1G, K/M suffixes)", optarg);
			break;
		case 'a':
			if (cli_parse_count(optarg, 0, 1ULL << 30, &o->card_addr))
				return cli_usage_error(CMD, "bad --card-addr '%s' (0..1G)", optarg);
			break;
		case 'n':
			if (cli_parse_count(optarg, 1, UINT32_MAX, &o->count))
				return cli_usage_error(CMD, "bad --count '%s' (1..4294967295)", optarg);
			break;
		case O_OFFSET:
			if (dmakit_parse_size(optarg, &o->offset) ||
			    o->offset >= 4096)
				return cli_usage_error(CMD, "bad --offset '%s' (0..4095)", optarg);
			break;
		case 'c':
			o->check = true;
			break;
		case O_TIMEOUT:
			/* it was milliseconds: the same digits must not now mean seconds */
			if (cli_duration_is_bare(optarg) && strcmp(optarg, "0"))
				return cli_usage_error(CMD, "--timeout '%s' needs a unit: %sms or %ss (a bare number used to mean milliseconds)",
						       optarg, optarg, optarg);
			if (cli_parse_seconds(optarg, 0, 86400, &secs) ||
			    (secs > 0 && secs < CLI_MIN_SECONDS))
				return cli_usage_error(CMD, "bad --timeout '%s' (0, or 1ms..1d, e.g. 500ms, 5s)", optarg);
			o->timeout_ms = (int)(secs * 1000 + 0.5);
			break;
		case 'h':
			usage(stdout);
			exit(CLI_EXIT_OK);
		default:
			ret = cli_retired_option(CMD, c, 'o', "--offset B for the host buffer's offset");
			if (!ret)
				ret = cli_retired_option(CMD, c, 't', "--timeout TIME, with a unit (e.g. 5000ms)");
			if (!ret)
				ret = cli_other_opt(CMD, c, optarg, argv,
						    &o->json, &o->quiet, NULL,
						    NULL);
			if (ret)
				return ret;
			break;
		}
	}
	if (cli_no_operands(CMD, argc, argv))
		return CLI_EXIT_USAGE;
	if (!o->device)
		return cli_usage_error(CMD, "no device (-d /dev/dmakitN or -d sim)");
	if (o->to_host < 0)
		return cli_usage_error(CMD, "give a direction: --to-host or --from-host");
	if (!o->size)
		return cli_usage_error(CMD, "no transfer size (--size N)");
	return 0;
}

/* Submit one transaction and wait for it; returns 0 or -errno. */
static int run_one(struct dmakit_dev *dev, int to_host, void *buf,
		   const struct xfer_opts *o, uint64_t *lat_us, size_t *done)
{
	uint64_t t0 = cli_now_ns();
	int64_t id;
	int ret;

	id = to_host ? dmakit_dma_to_host(dev, buf, o->size, o->card_addr) :
		       dmakit_dma_from_host(dev, buf, o->size, o->card_addr);
	if (id < 0) {
		*done = 0;
		return (int)id;
	}
	ret = dmakit_dma_wait(dev, id, o->timeout_ms, done);
	*lat_us = (cli_now_ns() - t0) / 1000;
	return ret;
}

static void print_summary(const struct xfer_opts *o,
			  const struct xfer_stats *st, bool ok)
{
	char b1[32], b2[32];
	double avg = st->done ? (double)st->lat_sum / (double)st->done : 0;

	if (o->json) {
		struct dmakit_json j;

		cli_json_begin(&j, ok, false);
		dmakit_json_str(&j, "error", ok ? "" : cli_first_error());
		dmakit_json_str(&j, "device", o->device);
		dmakit_json_str(&j, "direction", o->to_host ? "to_host" : "from_host");
		dmakit_json_u64(&j, "size", o->size);
		dmakit_json_u64(&j, "card_addr", o->card_addr);
		dmakit_json_u64(&j, "transactions", st->done);
		dmakit_json_u64(&j, "failed", st->failed);
		dmakit_json_u64(&j, "bytes", st->bytes);
		dmakit_json_double(&j, "seconds", st->secs);
		dmakit_json_u64(&j, "lat_min_us", st->done ? st->lat_min : 0);
		dmakit_json_double(&j, "lat_avg_us", avg);
		dmakit_json_u64(&j, "lat_max_us", st->lat_max);
		if (o->check)
			dmakit_json_u64(&j, "mismatches", st->mismatches);
		dmakit_json_obj_end(&j);
		dmakit_json_end(&j);
		return;
	}
	if (o->quiet)
		return;
	if (st->done)
		cli_print_log2_hist(stdout, st->hist, CLI_HIST_SLOTS, "usecs");
	printf("%llu transactions, %s in %.2f s (%s), latency min/avg/max %llu/%.0f/%llu us",
	       (unsigned long long)st->done,
	       cli_fmt_bytes(b1, sizeof(b1), (double)st->bytes), st->secs,
	       cli_fmt_rate(b2, sizeof(b2),
			    st->secs > 0 ? (double)st->bytes / st->secs : 0),
	       (unsigned long long)(st->done ? st->lat_min : 0), avg,
	       (unsigned long long)st->lat_max);
	if (o->check)
		printf(", data %s", st->mismatches ? "MISMATCH" : "checked");
	printf("\n");
}

int cmd_xfer(int argc, char **argv)
{
	struct xfer_opts o = { .to_host = -1, .count = 1, .timeout_ms = 5000 };
	struct xfer_stats st = { .lat_min = UINT64_MAX };
	char err[DMAKIT_ERRMSG_MAX];
	struct dmakit_dev *dev = NULL;
	unsigned char *mem = NULL, *buf, *expect = NULL;
	uint64_t memsize, i, t0;
	int ret, rc = CLI_EXIT_FAIL;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	ret = dmakit_open(&dev, o.device, err, sizeof(err));
	if (ret == -EINVAL)	/* a malformed device string, as in record */
		return cli_usage_error(CMD, "%s",
				       err[0] ? err : dmakit_strerror(ret));
	if (ret)
		return cli_error(CMD, "%s", err[0] ? err : dmakit_strerror(ret));
	ret = dmakit_card_mem_size(dev, &memsize);
	if (ret || !memsize) {
		cli_error(CMD, "%s: %s", o.device,
			  ret ? dmakit_strerror(ret) : "the device has no card memory for transactions");
		goto out;
	}
	if (o.card_addr >= memsize || o.size > memsize - o.card_addr) {
		cli_error(CMD, "%llu bytes at card address %llu do not fit the card's %llu-byte memory",
			  (unsigned long long)o.size,
			  (unsigned long long)o.card_addr,
			  (unsigned long long)memsize);
		goto out;
	}
	if (posix_memalign((void **)&mem, 4096, o.offset + o.size) ||
	    !(expect = malloc(o.size))) {
		cli_error(CMD, "out of memory for a %llu-byte buffer",
			  (unsigned long long)o.size);
		goto out;
	}
	buf = mem + o.offset;
	/* without SA_RESTART: a signal ends the wait with EINTR */
	cli_catch_stop_signals();

	if (o.check && o.to_host) {
		size_t done;
		uint64_t lat;

		/* load card memory with the pattern every read must return */
		fill_pattern(buf, o.size, 1);
		memcpy(expect, buf, o.size);
		ret = run_one(dev, 0, buf, &o, &lat, &done);
		if (ret) {
			cli_error(CMD, "loading card memory for --check: %s",
				  dmakit_strerror(ret));
			goto out;
		}
	}

	t0 = cli_now_ns();
	for (i = 0; i < o.count && !cli_stop_requested; i++) {
		uint64_t lat = 0;
		size_t done = 0;

		if (o.to_host)
			memset(buf, 0, o.size);
		else
			fill_pattern(buf, o.size, i + 2);
		ret = run_one(dev, o.to_host, buf, &o, &lat, &done);
		if (ret) {
			st.failed++;
			if (ret == -EINTR && cli_stop_requested)
				cli_error(CMD, "transaction %llu: interrupted (%zu of %llu bytes done)",
					  (unsigned long long)i, done,
					  (unsigned long long)o.size);
			else
				cli_error(CMD, "transaction %llu: %s (%zu of %llu bytes done)",
					  (unsigned long long)i,
					  dmakit_strerror(ret), done,
					  (unsigned long long)o.size);
			break;
		}
		st.done++;
		st.bytes += done;
		st.lat_sum += lat;
		st.lat_min = lat < st.lat_min ? lat : st.lat_min;
		st.lat_max = lat > st.lat_max ? lat : st.lat_max;
		st.hist[cli_log2_slot(lat)]++;
		if (!o.check)
			continue;
		if (!o.to_host) {
			/* read back what we wrote */
			memcpy(expect, buf, o.size);
			memset(buf, 0, o.size);
			ret = run_one(dev, 1, buf, &o, &lat, &done);
			if (ret) {
				st.failed++;
				cli_error(CMD, "transaction %llu: reading back: %s",
					  (unsigned long long)i,
					  dmakit_strerror(ret));
				break;
			}
		}
		if (memcmp(buf, expect, o.size)) {
			size_t k = 0;

			while (buf[k] == expect[k])
				k++;
			st.mismatches++;
			cli_error(CMD, "transaction %llu: data differs at byte %zu (got 0x%02x, expected 0x%02x)",
				  (unsigned long long)i, k, buf[k], expect[k]);
			break;
		}
	}
	st.secs = (double)(cli_now_ns() - t0) / 1e9;
	if (cli_stop_requested && !st.failed)
		cli_error(CMD, "interrupted after %llu transactions",
			   (unsigned long long)st.done);
	rc = st.failed || st.mismatches || cli_stop_requested ? CLI_EXIT_FAIL :
								CLI_EXIT_OK;
	print_summary(&o, &st, rc == CLI_EXIT_OK);
out:
	free(mem);
	free(expect);
	dmakit_close(dev);
	return rc;
}
