// SPDX-License-Identifier: MIT
/*
 * dmakit play: a recording written back into a card's H2C channel, a FIFO
 * or a file.  The library does the work (dmakit_play); this is options,
 * signals, progress and summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dmakit.h>
#include <dmakit/recording.h>
#include "cli.h"
#include "json.h"

#define CMD "play"
#define LOOPS_MAX	1000000
#define RATE_MAX	1000000000000000ULL	/* 1 PB/s */

static void usage(FILE *f)
{
	fprintf(f,
"usage: dmakit play -d TARGET [--sidecar PREFIX] [--rate RATE] [--loop N]\n"
"                   [--skip-dma-errors] [--force] [--quiet] [--json]\n"
"                   [--status-interval TIME] RECORDING\n"
"\n"
"Write a recording back into a card (a dmakit.ko card's host-to-card ring,\n"
"or a vendor driver's H2C character device, e.g. XDMA's /dev/xdma0_h2c_0),\n"
"a FIFO or a file: each buffer's valid bytes, in recording order, with\n"
"io_uring writes from page-aligned buffers (a driver that DMAs from the\n"
"caller's pages sends them with no copy; a dmakit.ko card's ring is filled\n"
"in place).  The whole index is checked before anything is written, and each\n"
"buffer's data against its CRC before it is written: a corrupt or\n"
"unfinished recording is refused, a corrupt buffer is never sent.\n"
"Gaps (buffers lost while recording) are counted, nothing stands in for\n"
"them; short buffers send their valid bytes; empty ones send nothing.\n"
"\n"
"  -d, --device TARGET    /dev/dmakitN: a dmakit.ko card, streamed into its\n"
"                         ring set up host to card, at the recording's own\n"
"                         rate (from its timestamps) unless --rate; what\n"
"                         counts is what the card confirmed taking, its\n"
"                         underruns are reported\n"
"                         chardev:PATH[,depth=N]: an existing character\n"
"                         device, FIFO or file (never created), N writes in\n"
"                         flight, 1..64, default 8; or a plain PATH (a new\n"
"                         file is created, never under /dev)\n"
"      --sidecar PREFIX   the recording's index and metadata at\n"
"                         PREFIX.idx / PREFIX.json (default: RECORDING)\n"
"      --rate RATE        at most RATE bytes per second, averaged from the\n"
"                         start (k/M/G/T: 1000^n, e.g. 800M), 1..1e15;\n"
"                         default: a dmakit.ko card the recording's rate,\n"
"                         other targets as fast as they take them\n"
"      --loop N           play the recording N times in a row, 1..1000000\n"
"                         (default 1)\n"
"      --skip-dma-errors  skip buffers the recorder flagged as DMA errors\n"
"                         (their bytes are whatever the card left), counted;\n"
"                         without it a recording with any is refused\n"
"  -f, --force            a file or block device target that holds data (or\n"
"                         an earlier recording) is overwritten; without it\n"
"                         it is refused and left unchanged\n"
"  -q, --quiet            print only errors\n"
"      --json             print the summary as one JSON object on stdout,\n"
"                         also on failure (\"ok\" false)\n"
"      --status-interval TIME  when stderr is not a terminal, a status\n"
"                         line every TIME (elapsed, amount, rate, %%, ETA);\n"
"                         SIGUSR1 prints one at any time\n"
"  -h, --help\n"
"\n"
"A short write goes on from where it stopped; EINTR and EAGAIN are tried\n"
"again (100 times in a row at most); EIO, ENOSPC, EPIPE (the reader went\n"
"away) and other errors end the play.  SIGINT/SIGTERM stop it: writes in\n"
"flight are cancelled and what was written is reported.\n"
"Into a dmakit.ko card, a stop waits (10 s and the card's rate's time at\n"
"most) for the card to take what was published, then stops its stream;\n"
"a buffer the card reports in error, or whose CRC32C as the card computed\n"
"it differs from the recording's bytes', fails the play.\n"
"Exit status: 0 every buffer of every pass was written; 1 it was not\n"
"(a write error, a corrupt buffer, a stop request, a refused recording or\n"
"target), with the bytes and buffers written; 2 bad usage.\n"
"\n"
"Examples:\n"
"  dmakit play -d /dev/dmakit0 /data/run1.dat\n"
"  dmakit play -d chardev:/dev/xdma0_h2c_0 /data/run1.dat\n"
"  dmakit play -d chardev:/dev/xdma0_h2c_0,depth=16 --rate 400M --loop 10 run1.dat\n"
"  mkfifo /tmp/f; sha256sum </tmp/f & dmakit play -d /tmp/f run1.dat\n");
}

struct play_cli {
	const char *target;
	const char *recording;
	struct dmakit_play_opts po;
	bool quiet, json;
	double status_interval;
	struct cli_status_out status;
};

static void on_progress(void *ctx, const struct dmakit_play_progress *p)
{
	struct play_cli *c = ctx;
	struct cli_status line = {
		.seconds = p->seconds, .bytes = p->bytes,
		.total_bytes = p->total_bytes,
	};

	if (!p->final)
		cli_status_update(&c->status, &line);
}

static int parse_args(struct play_cli *c, int argc, char **argv)
{
	enum { OPT_SIDECAR = 256, OPT_RATE, OPT_LOOP, OPT_SKIP_DMA };
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "sidecar", required_argument, NULL, OPT_SIDECAR },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "loop", required_argument, NULL, OPT_LOOP },
		{ "skip-dma-errors", no_argument, NULL, OPT_SKIP_DMA },
		{ "force", no_argument, NULL, 'f' },
		CLI_COMMON_OPTIONS,
		CLI_STATUS_OPTION,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int o, ret;

	while ((o = getopt_long(argc, argv, ":d:fqh", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			c->target = optarg;
			break;
		case OPT_SIDECAR:
			if (!*optarg)
				return cli_usage_error(CMD, "empty --sidecar prefix");
			if (cli_refuse_stdout_path(CMD, "--sidecar", optarg))
				return CLI_EXIT_USAGE;
			c->po.sidecar = optarg;
			break;
		case OPT_RATE:
			if (dmakit_parse_rate(optarg, &v) || v < 1 || v > RATE_MAX)
				return cli_usage_error(CMD, "bad --rate '%s' (bytes per second, 1..1e15, k/M/G/T: 1000^n, e.g. 800M)",
						       optarg);
			c->po.rate = v;
			break;
		case OPT_LOOP:
			if (cli_parse_count(optarg, 1, LOOPS_MAX, &v))
				return cli_usage_error(CMD, "bad --loop '%s' (1..%d times)",
						       optarg, LOOPS_MAX);
			c->po.loops = (uint32_t)v;
			break;
		case OPT_SKIP_DMA:
			c->po.skip_dma_errors = true;
			break;
		case 'f':
			c->po.force = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			ret = cli_other_opt(CMD, o, optarg, argv,
					    &c->json, &c->quiet,
					    &c->status_interval, NULL);
			if (ret)
				return ret;
			break;
		}
	}
	if (!c->target || !*c->target)
		return cli_usage_error(CMD, "no target (-d chardev:/dev/xdma0_h2c_0, a FIFO or a file)");
	if (cli_is_stdout_path(c->target))
		return cli_usage_error(CMD, "-d - : give a path (/dev/stdout if you mean it)");
	return cli_one_operand(CMD, argc, argv, "recording",
			       "dmakit play -d TARGET RECORDING", &c->recording);
}

static void print_json(const struct play_cli *c,
		       const struct dmakit_play_report *r, int rc)
{
	struct dmakit_json j;

	cli_json_begin(&j, rc == CLI_EXIT_OK, false);
	dmakit_json_str(&j, "result", dmakit_play_result_name(r->result));
	dmakit_json_str(&j, "error", rc == CLI_EXIT_OK ? "" :
			cli_first_error());
	dmakit_json_str(&j, "recording", c->recording);
	dmakit_json_str(&j, "target", r->target);
	dmakit_json_u64(&j, "depth", r->depth);
	dmakit_json_u64(&j, "bufsize", r->bufsize);
	dmakit_json_u64(&j, "buffers", r->buffers);
	dmakit_json_u64(&j, "bytes", r->bytes);
	dmakit_json_u64(&j, "partial_bytes", r->partial_bytes);
	dmakit_json_u64(&j, "passes", r->passes);
	dmakit_json_u64(&j, "total_buffers", r->total_buffers);
	dmakit_json_u64(&j, "total_bytes", r->total_bytes);
	dmakit_json_double(&j, "seconds", r->seconds);
	dmakit_json_double(&j, "bytes_per_s", r->seconds > 0 ?
			   (double)(r->bytes + r->partial_bytes) / r->seconds : 0);
	dmakit_json_u64(&j, "recording_buffers", r->rec_buffers);
	dmakit_json_u64(&j, "gaps", r->gaps);
	dmakit_json_u64(&j, "lost", r->lost);
	dmakit_json_u64(&j, "empty", r->empty);
	dmakit_json_u64(&j, "truncated", r->truncated);
	dmakit_json_u64(&j, "dma_errors", r->dma_errors);
	dmakit_json_u64(&j, "unchecked", r->unchecked);
	dmakit_json_u64(&j, "short_writes", r->short_writes);
	dmakit_json_u64(&j, "retries", r->retries);
	dmakit_json_u64(&j, "rate", r->rate);
	dmakit_json_str(&j, "rate_source", r->rate_source);
	dmakit_json_bool(&j, "card", r->card);
	dmakit_json_u64(&j, "underruns", r->underruns);
	dmakit_json_u64(&j, "cut", r->cut);
	dmakit_json_u64(&j, "card_errors", r->card_errors);
	dmakit_json_u64(&j, "card_crc_checked", r->card_crc_checked);
	dmakit_json_u64(&j, "card_crc_mismatches", r->card_crc_mismatches);
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

static void print_summary(const struct dmakit_play_report *r,
			  uint32_t loops)
{
	char b1[32], b2[32];

	printf("played %s (%llu buffers, %llu of %u passes) to %s in %.2f s, %s; result %s\n",
	       cli_fmt_bytes(b1, sizeof(b1), (double)r->bytes),
	       (unsigned long long)r->buffers, (unsigned long long)r->passes,
	       loops ? loops : 1, r->target, r->seconds,
	       cli_fmt_rate(b2, sizeof(b2), r->seconds > 0 ?
			    (double)r->bytes / r->seconds : 0),
	       dmakit_play_result_name(r->result));
	printf("  the recording: %llu buffers; gaps %llu (%llu buffers lost, nothing written for them); empty %llu; truncated %llu (their valid bytes written); DMA errors %llu (skipped); without a CRC %llu (written unchecked)\n",
	       (unsigned long long)r->rec_buffers, (unsigned long long)r->gaps,
	       (unsigned long long)r->lost, (unsigned long long)r->empty,
	       (unsigned long long)r->truncated,
	       (unsigned long long)r->dma_errors,
	       (unsigned long long)r->unchecked);
	if (r->rate)
		printf("  paced at %s (%s)\n",
		       cli_fmt_rate(b2, sizeof(b2), (double)r->rate),
		       !strcmp(r->rate_source, "recording") ?
		       "the recording's rate" : "--rate");
	if (r->card)
		printf("  the card: took %llu buffers (%llu CRCs checked, %llu differed); underruns %llu; errors %llu; cut by the stop %llu\n",
		       (unsigned long long)r->buffers,
		       (unsigned long long)r->card_crc_checked,
		       (unsigned long long)r->card_crc_mismatches,
		       (unsigned long long)r->underruns,
		       (unsigned long long)r->card_errors,
		       (unsigned long long)r->cut);
	if (r->short_writes || r->retries)
		printf("  short writes %llu (continued), retried writes %llu\n",
		       (unsigned long long)r->short_writes,
		       (unsigned long long)r->retries);
}

int cmd_play(int argc, char **argv)
{
	struct play_cli c;
	struct dmakit_play_report rep;
	char err[DMAKIT_ERRMSG_MAX], b1[32];
	int ret, rc;

	memset(&c, 0, sizeof(c));
	ret = parse_args(&c, argc, argv);
	if (ret)
		return ret < 0 ? CLI_EXIT_OK : ret;
	cli_catch_stop_signals();
	cli_status_init(&c.status, c.quiet, c.status_interval);
	c.po.stop = &cli_stop_requested;
	c.po.progress = on_progress;
	c.po.progress_ctx = &c;
	c.po.progress_ms = cli_status_period_ms(&c.status);

	ret = dmakit_play(c.recording, c.target, &c.po, &rep, err, sizeof(err));
	cli_status_end(&c.status);
	if (ret == -EINVAL && rep.result == DMAKIT_PLAY_REFUSED)
		return cli_usage_error(CMD, "%s", err);
	if (!ret) {
		rc = CLI_EXIT_OK;
	} else if (rep.result == DMAKIT_PLAY_REFUSED) {
		rc = cli_error(CMD, "%s; nothing written", err);
	} else {
		rc = cli_error(CMD, "%s; written: %llu buffers (%s) completely, %llu bytes more in part",
			       err, (unsigned long long)rep.buffers,
			       cli_fmt_bytes(b1, sizeof(b1), (double)rep.bytes),
			       (unsigned long long)rep.partial_bytes);
	}
	if (c.json)
		print_json(&c, &rep, rc);
	else if (!c.quiet && rep.result != DMAKIT_PLAY_REFUSED)
		print_summary(&rep, c.po.loops);
	return rc;
}
