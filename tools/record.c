// SPDX-License-Identifier: MIT
/*
 * dmakit record: a device's DMA buffers to a file or block device, with an
 * index and metadata that 'dmakit verify' checks.  The library does the
 * work (dmakit_record); this is options, signals, progress and summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <dmakit.h>
#include <dmakit/recording.h>
#include "cli.h"
#include "json.h"

#define CMD "record"

static void usage(FILE *f)
{
	fprintf(f,
"usage: dmakit record -d DEVICE -o PATH (--size BYTES | --duration TIME)\n"
"                     [--engine ENGINE] [--sidecar PREFIX] [--queue-depth N]\n"
"                     [--force] [--checkpoint TIME] [--quiet] [--json]\n"
"                     [--status-interval TIME] [--sample-format FORMAT\n"
"                     [--sample-rate HZ] [--center-freq HZ]]\n"
"\n"
"Record a device's DMA buffers to a file or a raw block device, with an\n"
"index (PREFIX.idx) and metadata (PREFIX.json) that 'dmakit verify' checks.\n"
"Every buffer the device drops is counted and marked as a gap.\n"
"\n"
"  -d, --device DEVICE    sim[:options], /dev/dmakitN (a dmakit.ko card),\n"
"                         chardev:PATH[,options] (a vendor driver's\n"
"                         character device, a FIFO, a file) or app:NAME (a\n"
"                         producer program's ring): docs/porting.md\n"
"  -o, --output PATH      data file, or a block device (then --sidecar);\n"
"                         '-': the buffers' bytes on stdout, in order, with\n"
"                         no index or metadata (gaps are only counted, in\n"
"                         the summary on stderr); --sidecar, --engine,\n"
"                         --queue-depth, --force, --checkpoint and --json\n"
"                         are then refused\n"
"  -s, --size BYTES       stop once BYTES of payload (the buffers' valid\n"
"                         bytes) are recorded (K/M/G/T: 1024^n), at most\n"
"                         2^60 (1048576T); buffers are kept whole, so the\n"
"                         last may pass BYTES by less than a buffer\n"
"                         (--size 1: one buffer)\n"
"  -t, --duration TIME    stop after this long (10s, 2.5s, 500ms, 5m, 1h),\n"
"                         1ms..1e9s; with both, whichever comes first\n"
"  -e, --engine ENGINE    uring (default: io_uring O_DIRECT, zero copy),\n"
"                         pwrite (O_DIRECT writer threads), buffered\n"
"                         (page cache, flushed behind), mmap (mapped windows)\n"
"      --sidecar PREFIX   index and metadata at PREFIX.idx / PREFIX.json\n"
"                         (default: PATH; required for block devices)\n"
"      --queue-depth N    writes in flight (uring) or writer threads\n"
"                         (pwrite), 1..256, default 8\n"
"  -f, --force            overwrite what PATH holds: an earlier recording\n"
"                         (PATH, PATH.idx or PATH.json present), a non-empty\n"
"                         file, a block device that is not blank (a file\n"
"                         system, a partition table, an earlier recording)\n"
"      --checkpoint TIME  make data and index durable and note it in the\n"
"                         metadata every TIME (default 1s; 0: only at the\n"
"                         end).  After a crash, 'dmakit recover PATH' keeps\n"
"                         at least every buffer up to the last checkpoint\n"
"  -q, --quiet            print only errors\n"
"      --json             print the summary as one JSON object on stdout,\n"
"                         also on failure (\"ok\" false)\n"
"      --status-interval TIME  when stderr is not a terminal, a status\n"
"                         line every TIME (elapsed, amount, rate, %%, ETA,\n"
"                         ring fill, drops); SIGUSR1 prints one at any time\n"
CLI_SAMPLE_HELP
"  -h, --help\n"
"\n"
"Nothing already there is touched unless --force: every file is opened,\n"
"locked and checked before any is emptied, and a second recorder on the\n"
"same path fails at once, naming the process that holds it.\n"
"SIGINT/SIGTERM stop the recording cleanly.  A full disk or an I/O error\n"
"ends it with everything written before consistent and verifiable.\n"
"Exit status: 0 the recording ended as asked (complete, stopped by a\n"
"signal, or the source ended) and data, index and metadata are durable;\n"
"1 anything could not be written or made durable (disk full, I/O or\n"
"device error, a failed finish), or the target was refused; 2 bad usage.\n"
"\n"
"Examples:\n"
"  dmakit record -d sim:rate=800M,policy=drop -o /data/run1.dat --duration 60\n"
"  dmakit record -d /dev/dmakit0 -o /dev/sdb1 --sidecar /data/run2 --size 200G\n"
"  dmakit record -d /dev/dmakit0 -o /data/iq.dat --duration 10 \\\n"
"      --sample-format ci16_le --sample-rate 61.44M --center-freq 2.4G\n");
}

struct record_cli {
	const char *device;
	const char *output;
	const char *sidecar;
	uint64_t size;
	double duration;
	enum dmakit_engine engine;
	bool engine_given;
	unsigned int queue_depth;
	bool force;
	int32_t checkpoint_ms;		/* 0: the library's default; < 0: off */
	bool quiet;
	bool json;
	double status_interval;
	struct cli_status_out status;
	struct dmakit_record_progress last;
	struct dmakit_samples samples;
	uint32_t bufsize;		/* the ring's: each buffer's slot */
};

static void on_progress(void *ctx, const struct dmakit_record_progress *p)
{
	struct record_cli *c = ctx;
	struct cli_status line = {
		.seconds = p->seconds, .bytes = p->bytes,
		.total_bytes = c->size, .total_seconds = c->duration,
		.ring_fill = p->ring_fill, .nbufs = p->nbufs,
		.dropped = p->dropped,
	};

	c->last = *p;
	if (!p->final)
		cli_status_update(&c->status, &line);
}

static int parse_args(struct record_cli *c, int argc, char **argv)
{
	enum { OPT_SIDECAR = 256, OPT_QD, OPT_CHECKPOINT };
	/* a queue of writes in flight: the sink's range */
	enum { QD_MAX = 256 };
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 't' },
		{ "engine", required_argument, NULL, 'e' },
		{ "sidecar", required_argument, NULL, OPT_SIDECAR },
		{ "queue-depth", required_argument, NULL, OPT_QD },
		{ "force", no_argument, NULL, 'f' },
		{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
		CLI_COMMON_OPTIONS,
		CLI_STATUS_OPTION,
		CLI_SAMPLE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	double secs;
	int o, ret;

	while ((o = getopt_long(argc, argv, ":d:o:s:t:e:fqh", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			c->device = optarg;
			break;
		case 'o':
			c->output = optarg;
			break;
		case 's':
			if (cli_parse_count(optarg, 1, DMAKIT_MAX_BYTES,
					    &c->size))
				return cli_usage_error(CMD, "bad --size '%s' (expected 1 byte..2^60, i.e. 1048576T; e.g. 4G)",
						       optarg);
			break;
		case 't':
			if (cli_parse_seconds(optarg, CLI_MIN_SECONDS,
					      DMAKIT_MAX_SECONDS, &c->duration))
				return cli_usage_error(CMD, "bad --duration '%s' (expected 1ms..1e9s, e.g. 10, 2.5s, 5m)",
						       optarg);
			break;
		case 'e':
			if (dmakit_engine_parse(optarg, &c->engine))
				return cli_usage_error(CMD, "unknown engine '%s' (uring, pwrite, buffered, mmap)",
						       optarg);
			c->engine_given = true;
			break;
		case OPT_SIDECAR:
			if (!*optarg)
				return cli_usage_error(CMD, "empty --sidecar prefix");
			c->sidecar = optarg;
			break;
		case OPT_QD:
			if (cli_parse_count(optarg, 1, QD_MAX, &v))
				return cli_usage_error(CMD, "bad --queue-depth '%s' (1..%d)",
						       optarg, QD_MAX);
			c->queue_depth = (unsigned int)v;
			break;
		case 'f':
			c->force = true;
			break;
		case OPT_CHECKPOINT:
			/* 0.001 s .. 1 day, or 0 */
			if (cli_parse_duration(optarg, &secs) || secs < 0 ||
			    secs > 86400 || (secs > 0 && secs < 0.001))
				return cli_usage_error(CMD, "bad --checkpoint '%s' (1ms..1d, e.g. 500ms, 10s; or 0 for only at the end)",
						       optarg);
			c->checkpoint_ms = secs > 0 ? (int32_t)(secs * 1000 + 0.5) : -1;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			ret = cli_other_opt(CMD, o, optarg, argv,
					    &c->json, &c->quiet,
					    &c->status_interval, &c->samples);
			if (ret)
				return ret;
			break;
		}
	}
	if (cli_no_operands(CMD, argc, argv))
		return CLI_EXIT_USAGE;
	if (!c->device)
		return cli_usage_error(CMD, "no device (-d sim, -d /dev/dmakit0)");
	if (!c->output || !*c->output)
		return cli_usage_error(CMD, "no output (-o PATH)");
	if (!c->size && c->duration <= 0)
		return cli_usage_error(CMD, "say how much to record: --size BYTES or --duration TIME");
	if (cli_refuse_stdout_path(CMD, "--sidecar", c->sidecar))
		return CLI_EXIT_USAGE;
	if (cli_is_stdout_path(c->output)) {
		/* the bytes alone: nothing that needs a file goes with them */
		const char *opt = c->sidecar ? "--sidecar" :
				  c->engine_given ? "--engine" :
				  c->queue_depth ? "--queue-depth" :
				  c->force ? "--force" :
				  c->checkpoint_ms ? "--checkpoint" :
				  c->json ? "--json" :
				  c->samples.format[0] ? "--sample-format" : NULL;

		if (opt)
			return cli_usage_error(CMD, "-o - streams the raw bytes to stdout, with no index or metadata: %s does not apply (record to a file for those)",
					       opt);
		if (isatty(STDOUT_FILENO))
			return cli_usage_error(CMD, "-o - would write binary data to a terminal: redirect or pipe stdout");
	}
	return cli_sample_check(CMD, &c->samples);
}

static double cpu_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/*
 * Drops the recording has no entry to carry: the producer's count over
 * the recording less the losses its entries carry.  Drops whose numbers
 * come after the last recorded buffer (the ring's backlog was recorded
 * first, then the stop) belong to no gap; a user reading "dropped" next
 * to "complete" must see they are not holes in the recording.  The first
 * entry's lost may predate the recorder (a shared source): counted as
 * inside, so this never claims more than it knows.
 */
static uint64_t dropped_after_last(const struct dmakit_sink_stats *st)
{
	uint64_t inside = st->lost + st->lost_before;

	return st->dropped > inside ? st->dropped - inside : 0;
}

static void print_json(const struct record_cli *c,
		       const struct dmakit_sink_stats *st,
		       const char *idx, const char *meta, int rc)
{
	struct dmakit_json j;
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	cli_json_begin(&j, rc == CLI_EXIT_OK, false);
	dmakit_json_str(&j, "result", dmakit_result_name(st->result));
	dmakit_json_str(&j, "error", rc == CLI_EXIT_OK ? "" :
			cli_first_error());
	/* a clean end that was not "complete" says why (as the text does) */
	dmakit_json_str(&j, "notice", rc == CLI_EXIT_OK ? st->message : "");
	dmakit_json_bool(&j, "finalized", !st->close_error);
	dmakit_json_str(&j, "finalize_error", st->close_message);
	dmakit_json_str(&j, "device", c->device);
	dmakit_json_str(&j, "data", c->output);
	dmakit_json_str(&j, "index", idx);
	dmakit_json_str(&j, "metadata", meta);
	dmakit_json_str(&j, "engine", dmakit_engine_name(st->engine));
	dmakit_json_bool(&j, "direct", st->direct);
	dmakit_json_bool(&j, "registered", st->registered);
	dmakit_json_u64(&j, "buffers", st->buffers);
	dmakit_json_u64(&j, "bytes", st->bytes);
	dmakit_json_double(&j, "seconds", st->seconds);
	dmakit_json_double(&j, "bytes_per_s", st->seconds > 0 ?
			   (double)st->bytes / st->seconds : 0);
	dmakit_json_u64(&j, "dropped", st->dropped);
	dmakit_json_u64(&j, "dropped_after_last", dropped_after_last(st));
	dmakit_json_u64(&j, "gaps", st->gaps);
	dmakit_json_u64(&j, "lost", st->lost);
	dmakit_json_u64(&j, "not_recorded", st->not_recorded);
	dmakit_json_u64(&j, "empty", st->empty);
	dmakit_json_u64(&j, "truncated", st->truncated);
	dmakit_json_u64(&j, "dma_errors", st->dma_errors);
	dmakit_json_u64(&j, "checkpoints", st->checkpoints);
	dmakit_json_u64(&j, "checkpoint_buffers", st->checkpoint_buffers);
	dmakit_json_double(&j, "cpu_user_s", cpu_seconds(&ru.ru_utime));
	dmakit_json_double(&j, "cpu_sys_s", cpu_seconds(&ru.ru_stime));
	dmakit_json_double(&j, "producer_cpu_s",
			   (double)c->last.producer_cpu_ns / 1e9);
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

static void print_summary(const struct record_cli *c,
			  const struct dmakit_sink_stats *st,
			  const char *idx, const char *meta)
{
	char b1[32], b2[32];

	printf("recorded %s (%llu buffers) in %.2f s, %s, engine %s%s%s\n",
	       cli_fmt_bytes(b1, sizeof(b1), (double)st->bytes),
	       (unsigned long long)st->buffers, st->seconds,
	       cli_fmt_rate(b2, sizeof(b2), st->seconds > 0 ?
			    (double)st->bytes / st->seconds : 0),
	       dmakit_engine_name(st->engine),
	       st->direct ? " (O_DIRECT" : " (page cache",
	       st->registered ? ", registered buffers)" : ")");
	printf("  result %s; dropped %llu, gaps %llu (%llu buffers lost), not recorded %llu\n",
	       dmakit_result_name(st->result),
	       (unsigned long long)st->dropped, (unsigned long long)st->gaps,
	       (unsigned long long)st->lost,
	       (unsigned long long)st->not_recorded);
	if (dropped_after_last(st))
		printf("  %llu of the dropped buffers came after the last recorded one, before the stop: no hole in the recording\n",
		       (unsigned long long)dropped_after_last(st));
	if (st->close_error)
		printf("  NOT finalised: %s\n", st->close_message);
	if (st->empty || st->truncated || st->dma_errors)
		printf("  buffers the source published empty %llu, truncated %llu, with a DMA error %llu\n",
		       (unsigned long long)st->empty,
		       (unsigned long long)st->truncated,
		       (unsigned long long)st->dma_errors);
	/* short packets (a chardev: source): the disk fills faster than
	 * the payload says */
	if (st->bytes && c->bufsize &&
	    (double)st->buffers * c->bufsize > 4.0 * (double)st->bytes)
		printf("  buffers held %s on average: each takes a whole %s slot, so the data file is %.0fx its payload\n",
		       cli_fmt_bytes(b1, sizeof(b1),
				     (double)st->bytes / st->buffers),
		       cli_fmt_bytes(b2, sizeof(b2), c->bufsize),
		       (double)st->buffers * c->bufsize / (double)st->bytes);
	printf("  data %s\n  index %s\n  metadata %s\n", c->output, idx, meta);
}

/* Size or duration reached, a stop request, or the source's own end. */
static bool ended_as_asked(enum dmakit_result r)
{
	return r == DMAKIT_RESULT_COMPLETE || r == DMAKIT_RESULT_INTERRUPTED ||
	       r == DMAKIT_RESULT_SOURCE_ENDED;
}

/*
 * record -o -: the buffers' bytes on stdout, the summary on stderr.  The
 * stream cannot show a gap, so the summary says how many it has.
 */
static int record_stdout(struct record_cli *c, struct dmakit_dev *dev,
			 struct dmakit_record_opts *ro)
{
	struct dmakit_sink_stats st;
	char err[DMAKIT_ERRMSG_MAX], b1[32], b2[32];
	int ret;

	memset(&st, 0, sizeof(st));
	ret = dmakit_record_fd(dev, STDOUT_FILENO, ro, &st, err, sizeof(err));
	dmakit_close(dev);
	cli_status_end(&c->status);
	if (!c->quiet)
		fprintf(stderr, "dmakit record: streamed %s (%llu buffers) to stdout in %.2f s, %s; result %s; dropped %llu, gaps %llu (%llu buffers lost), not written %llu\n",
			cli_fmt_bytes(b1, sizeof(b1), (double)st.bytes),
			(unsigned long long)st.buffers, st.seconds,
			cli_fmt_rate(b2, sizeof(b2), st.seconds > 0 ?
				     (double)st.bytes / st.seconds : 0),
			dmakit_result_name(st.result),
			(unsigned long long)st.dropped,
			(unsigned long long)st.gaps,
			(unsigned long long)(st.lost + st.lost_before),
			(unsigned long long)st.not_recorded);
	if (ret == -EINVAL)
		return cli_usage_error(CMD, "%s", err);
	if (ret && !ended_as_asked(st.result))
		return cli_error(CMD, "%s; %llu buffers streamed to stdout before",
				 err, (unsigned long long)st.buffers);
	if (ret && !c->quiet)
		cli_notice(CMD, "%s: %s", dmakit_result_name(st.result), err);
	if ((st.gaps || st.lost || st.lost_before) && !c->quiet)
		cli_notice(CMD, "the stream on stdout has %llu gaps (%llu buffers lost) it cannot show: record to a file to keep them marked",
			   (unsigned long long)st.gaps,
			   (unsigned long long)(st.lost + st.lost_before));
	return CLI_EXIT_OK;
}

static void verify_hint(const struct record_cli *c, char *buf, size_t len)
{
	snprintf(buf, len, "dmakit verify %s%s%s", c->output,
		 c->sidecar ? " --sidecar " : "", c->sidecar ? c->sidecar : "");
}

int cmd_record(int argc, char **argv)
{
	struct record_cli c;
	struct dmakit_record_opts ro;
	struct dmakit_sink_stats st;
	struct dmakit_geometry geo;
	struct cli_notice_ctx notices = { .cmd = CMD };
	struct dmakit_dev *dev = NULL;
	char err[DMAKIT_ERRMSG_MAX], idx[4096], meta[4096], hint[8300];
	const char *prefix;
	int ret, rc;

	memset(&c, 0, sizeof(c));
	ret = parse_args(&c, argc, argv);
	if (ret)
		return ret < 0 ? CLI_EXIT_OK : ret;
	notices.quiet = c.quiet;
	prefix = c.sidecar ? c.sidecar : c.output;
	snprintf(idx, sizeof(idx), "%s.idx", prefix);
	snprintf(meta, sizeof(meta), "%s.json", prefix);

	/* before the device: a sim ring is a memfd, RLIMIT_FSIZE applies */
	cli_catch_stop_signals();
	cli_status_init(&c.status, c.quiet, c.status_interval);
	ret = dmakit_open_stoppable(&dev, c.device, &cli_stop_requested, err,
				    sizeof(err));
	if (ret) {
		if (ret == -EINVAL)
			return cli_usage_error(CMD, "%s", err);
		if (err[0])
			return cli_error(CMD, "%s", err);
		return cli_error(CMD, "open %s: %s", c.device,
				 dmakit_strerror(ret));
	}
	if (!dmakit_get_geometry(dev, &geo))
		c.bufsize = geo.bufsize;
	memset(&ro, 0, sizeof(ro));
	ro.sink.path = c.output;
	ro.sink.sidecar = c.sidecar;
	ro.sink.engine = c.engine;
	ro.sink.queue_depth = c.queue_depth;
	ro.sink.force = c.force;
	ro.sink.checkpoint_ms = c.checkpoint_ms;
	ro.sink.samples = c.samples;
	ro.sink.notice = cli_notice_cb;
	ro.sink.notice_ctx = &notices;
	ro.max_bytes = c.size;
	ro.max_seconds = c.duration;
	ro.stop = &cli_stop_requested;
	ro.progress = on_progress;
	ro.progress_ctx = &c;
	ro.progress_ms = cli_status_period_ms(&c.status);
	if (cli_is_stdout_path(c.output))
		return record_stdout(&c, dev, &ro);

	memset(&st, 0, sizeof(st));
	ret = dmakit_record(dev, &ro, &st, err, sizeof(err));
	dmakit_close(dev);
	cli_status_end(&c.status);

	/* nothing was recorded: the target could not be opened */
	if (ret && !st.seconds) {
		/* a target of the wrong kind is a usage error */
		if (ret == -EINVAL || ret == -EISDIR)
			return cli_usage_error(CMD, "%s", err);
		return cli_error(CMD, "%s", err);
	}
	verify_hint(&c, hint, sizeof(hint));
	if (st.close_error) {
		/* whatever the result: the files are not what they claim */
		rc = CLI_EXIT_FAIL;
		cli_error(CMD, "the recording ended (%s%s%s) but %s; the data and index hold %llu buffers, perhaps not durably (check: %s)",
			  dmakit_result_name(st.result),
			  st.message[0] ? ": " : "", st.message,
			  st.close_message, (unsigned long long)st.buffers,
			  hint);
	} else if (ended_as_asked(st.result)) {
		rc = CLI_EXIT_OK;
		if (st.result != DMAKIT_RESULT_COMPLETE && !c.quiet)
			cli_notice(CMD, "%s: %s", dmakit_result_name(st.result),
				   st.message);
	} else {
		rc = CLI_EXIT_FAIL;
		cli_error(CMD, "%s; the %llu buffers recorded before are consistent and durable (check: %s)",
			  st.message[0] ? st.message : err,
			  (unsigned long long)st.buffers, hint);
	}
	if (c.json)
		print_json(&c, &st, idx, meta, rc);
	else if (!c.quiet)
		print_summary(&c, &st, idx, meta);
	return rc;
}
