// SPDX-License-Identifier: MIT
/* dmakit recv: receive one 'dmakit send' stream into a recording. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dmakit.h>
#include <dmakit/stream.h>
#include "cli.h"
#include "json.h"

static const char usage_text[] =
"usage: dmakit recv -l [ADDR:]PORT -o PATH [OPTIONS]\n"
"\n"
"Wait for one 'dmakit send' stream and record it exactly like 'dmakit record'\n"
"does locally: PATH (data) plus PATH.idx and PATH.json, so 'dmakit verify\n"
"PATH' checks every buffer's CRC, sequence and accounted gaps.  Buffers the\n"
"sender's device dropped, or a lossy sender skipped, are recorded as gaps and\n"
"counted in the metadata's \"dropped\".\n"
"\n"
"  -l, --listen ADDR     [ADDR:]PORT to listen on (all addresses if no ADDR;\n"
"                        port 0 picks a free one, see --port-file)\n"
"  -o, --output PATH     data file or block device (not '-': a recording\n"
"                        needs its slots, index and metadata)\n"
"      --sidecar PREFIX  index/metadata prefix (required for block devices)\n"
"  -e, --engine NAME     uring (default), pwrite, buffered, mmap\n"
"      --queue-depth N   writes in flight, 1..256 (default 8)\n"
"      --buffers N       receive buffers, 2..4096 (default: queue depth + 2)\n"
"      --timeout TIME    give up if no sender connects within TIME (1ms..1d)\n"
"      --idle-timeout TIME  drop a sender silent for TIME, 1ms..1d (default\n"
"                        30s)\n"
"      --port-file FILE  write the listening port to FILE once listening\n"
"  -f, --force           overwrite what PATH holds (an earlier recording, a\n"
"                        non-empty file, a block device that is not blank);\n"
"                        without it recv refuses before listening\n"
"      --json            print the summary as one JSON object on stdout,\n"
"                        also on failure (\"ok\" false)\n"
"  -q, --quiet           print only errors\n"
"      --status-interval TIME  when stderr is not a terminal, a status\n"
"                        line every TIME (elapsed, amount, rate, %, ETA,\n"
"                        ring fill, drops); SIGUSR1 prints one at any time\n"
CLI_SAMPLE_HELP
"  -h, --help            this help\n"
"\n"
"SIGINT/SIGTERM stop cleanly: the recording is closed and the sender told.\n"
"Exit status: 0 the stream ended (complete, stopped by a signal on either\n"
"side, or the sender's source ended) and everything received was recorded\n"
"durably; 1 failure (what the files hold is said); 2 bad usage.\n"
"\n"
"EXAMPLES\n"
"  dmakit recv -l 9000 -o /data/run1.dat && dmakit verify /data/run1.dat\n"
"  dmakit recv -l 10.0.0.2:9000 -o /dev/nvme1n1 --sidecar /data/run1\n";

/* the sender decides how much: no total, so no % or ETA */
static void recv_progress(void *ctx, const struct dmakit_record_progress *p)
{
	struct cli_status line = {
		.seconds = p->seconds, .bytes = p->bytes,
		.ring_fill = p->ring_fill, .nbufs = p->nbufs,
		.dropped = p->dropped,
	};

	if (!p->final)
		cli_status_update(ctx, &line);
}

/* The sink opened a recording (its clock started), as 'dmakit record' tells. */
static bool recording_made(const struct dmakit_recv_stats *st)
{
	return st->recorded.seconds > 0;
}

static void print_json(const struct dmakit_recv_stats *st, int ret,
		       const char *err, int rc)
{
	const struct dmakit_sink_stats *rs = &st->recorded;
	struct dmakit_json j;

	/* "ok" is what the exit status says; a clean end may carry a notice */
	cli_json_begin(&j, rc == CLI_EXIT_OK, true);
	dmakit_json_str(&j, "error", rc == CLI_EXIT_OK ? "" : err);
	dmakit_json_str(&j, "notice", ret && rc == CLI_EXIT_OK ? err : "");
	dmakit_json_str(&j, "peer", st->peer);
	dmakit_json_str(&j, "device", st->hello.device);
	dmakit_json_bool(&j, "lossy", st->hello.flags & DMAKIT_STREAM_F_LOSSY);
	dmakit_json_bool(&j, "got_end", st->got_end);
	dmakit_json_u64(&j, "frames", st->frames);
	dmakit_json_u64(&j, "data_bytes", st->data_bytes);
	dmakit_json_u64(&j, "discarded", st->discarded);
	dmakit_json_u64(&j, "discard_notes", st->discard_notes);
	dmakit_json_obj_begin(&j, "sender");
	dmakit_json_u64(&j, "buffers", st->sender.buffers);
	dmakit_json_u64(&j, "bytes", st->sender.bytes);
	dmakit_json_u64(&j, "dropped", st->sender.dropped);
	dmakit_json_u64(&j, "skipped", st->sender.skipped);
	dmakit_json_u64(&j, "discarded", st->sender.discarded);
	dmakit_json_u64(&j, "zc_sends", st->sender.zc_sends);
	dmakit_json_u64(&j, "zc_copied", st->sender.zc_copied);
	dmakit_json_obj_end(&j);
	/* no recording was made (the sink refused the target): no counters */
	if (!recording_made(st)) {
		dmakit_json_obj_end(&j);
		dmakit_json_end(&j);
		return;
	}
	dmakit_json_obj_begin(&j, "recorded");
	dmakit_json_str(&j, "result", dmakit_result_name(rs->result));
	dmakit_json_bool(&j, "finalized", !rs->close_error);
	dmakit_json_u64(&j, "buffers", rs->buffers);
	dmakit_json_u64(&j, "bytes", rs->bytes);
	dmakit_json_u64(&j, "gaps", rs->gaps);
	dmakit_json_u64(&j, "lost", rs->lost);
	dmakit_json_u64(&j, "dropped", rs->dropped);
	dmakit_json_double(&j, "seconds", rs->seconds);
	dmakit_json_str(&j, "engine", dmakit_engine_name(rs->engine));
	dmakit_json_obj_end(&j);
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

static void print_text(const struct dmakit_recv_stats *st)
{
	const struct dmakit_sink_stats *rs = &st->recorded;
	char b[32], r[32];

	printf("received from %s (%s): %s, %llu buffers, %s in %.2f s (%s)\n",
	       st->peer, st->hello.device, dmakit_result_name(rs->result),
	       (unsigned long long)rs->buffers,
	       cli_fmt_bytes(b, sizeof(b), (double)rs->bytes), rs->seconds,
	       cli_fmt_rate(r, sizeof(r), rs->seconds > 0 ?
			    (double)rs->bytes / rs->seconds : 0));
	printf("lost upstream: %llu dropped by the device, %llu skipped by the sender, %llu overwritten in flight; %llu gaps in the recording\n",
	       (unsigned long long)st->sender.dropped,
	       (unsigned long long)st->sender.skipped,
	       (unsigned long long)st->discarded,
	       (unsigned long long)rs->gaps);
}

static int write_port_file(const char *path, int lfd)
{
	int port = dmakit_net_local_port(lfd);
	char tmp[4096];
	FILE *f;

	if (port < 0)
		return port;
	/* written whole, then renamed: a reader never sees it half done */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", port);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

int cmd_recv(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "sidecar", required_argument, NULL, 'S' },
		{ "engine", required_argument, NULL, 'e' },
		{ "queue-depth", required_argument, NULL, 'Q' },
		{ "buffers", required_argument, NULL, 'N' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "port-file", required_argument, NULL, 'P' },
		CLI_COMMON_OPTIONS,
		CLI_STATUS_OPTION,
		{ "force", no_argument, NULL, 'f' },
		CLI_SAMPLE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dmakit_recv_opts o = { .accept_timeout_ms = -1 };
	struct dmakit_recv_stats st;
	struct cli_notice_ctx notices = { .cmd = "recv" };
	char err[DMAKIT_ERRMSG_MAX * 2], host[256], port[16];
	const char *listen_addr = NULL, *port_file = NULL;
	bool quiet = false, json = false;
	struct cli_status_out status;
	double secs, status_interval = 0;
	uint64_t v;
	int c, ret, rc, lfd;

	while ((c = getopt_long(argc, argv, ":l:o:e:fqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'o':
			o.sink.path = optarg;
			break;
		case 'S':
			o.sink.sidecar = optarg;
			break;
		case 'e':
			if (dmakit_engine_parse(optarg, &o.sink.engine))
				return cli_usage_error("recv",
						       "bad engine '%s' (uring, pwrite, buffered, mmap)",
						       optarg);
			break;
		case 'Q':
			if (cli_parse_count(optarg, 1, 256, &v))
				return cli_usage_error("recv", "bad queue depth '%s' (1..256)",
						       optarg);
			o.sink.queue_depth = (unsigned int)v;
			break;
		case 'N':
			if (cli_parse_count(optarg, 2, 4096, &v))
				return cli_usage_error("recv", "bad buffer count '%s' (2..4096)",
						       optarg);
			o.pool_bufs = (unsigned int)v;
			break;
		case 'T':
		case 'I':
			if (cli_parse_seconds(optarg, CLI_MIN_SECONDS, 86400,
					      &secs))
				return cli_usage_error("recv", "bad %s '%s' (1ms..1d)",
						       c == 'T' ? "--timeout" : "--idle-timeout",
						       optarg);
			if (c == 'T')
				o.accept_timeout_ms = (int)(secs * 1000);
			else
				o.idle_timeout_ms = (int)(secs * 1000);
			break;
		case 'P':
			port_file = optarg;
			break;
		case 'f':
			o.sink.force = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		default:
			ret = cli_other_opt("recv", c, optarg, argv,
					    &json, &quiet,
					    &status_interval, &o.sink.samples);
			if (ret)
				return ret;
			break;
		}
	}
	if (cli_no_operands("recv", argc, argv))
		return CLI_EXIT_USAGE;
	if (cli_sample_check("recv", &o.sink.samples))
		return CLI_EXIT_USAGE;
	if (!listen_addr)
		return cli_usage_error("recv", "no address to listen on (-l [ADDR:]PORT)");
	if (!o.sink.path)
		return cli_usage_error("recv", "no output (-o PATH)");
	if (cli_refuse_stdout_path("recv", "-o", o.sink.path) ||
	    cli_refuse_stdout_path("recv", "--sidecar", o.sink.sidecar) ||
	    cli_refuse_stdout_path("recv", "--port-file", port_file))
		return CLI_EXIT_USAGE;
	/* a malformed address is a usage error; one that cannot be bound is not */
	if (dmakit_net_split_addr(listen_addr, host, sizeof(host), port,
				  sizeof(port), err, sizeof(err)))
		return cli_usage_error("recv", "-l: %s", err);

	lfd = dmakit_net_listen(listen_addr, err, sizeof(err));
	if (lfd < 0)
		return cli_error("recv", "%s", err);
	if (port_file) {
		ret = write_port_file(port_file, lfd);
		if (ret) {
			close(lfd);
			return cli_error("recv", "%s: %s", port_file,
					 dmakit_strerror(ret));
		}
	}

	cli_catch_stop_signals();
	o.listen_fd = lfd;
	o.stop = &cli_stop_requested;
	notices.quiet = quiet;
	o.notice = cli_notice_cb;
	o.notice_ctx = &notices;
	o.sink.notice = cli_notice_cb;
	o.sink.notice_ctx = &notices;
	cli_status_init(&status, quiet, status_interval);
	o.progress = recv_progress;
	o.progress_ctx = &status;
	o.progress_ms = cli_status_period_ms(&status);

	ret = dmakit_recv(&o, &st, err, sizeof(err));
	close(lfd);
	cli_status_end(&status);
	/* like 'dmakit record': a signal or the source's end is a clean end */
	rc = !ret || ret == -EINTR || ret == -ENODATA ? CLI_EXIT_OK :
							CLI_EXIT_FAIL;
	/*
	 * Refused before any sender (the target holds data, a bad sidecar):
	 * no report of its own, the failure object ("ok", "command", "error")
	 */
	if (json && (rc == CLI_EXIT_OK || st.peer[0] || recording_made(&st)))
		print_json(&st, ret, err, rc);
	else if (!quiet && (st.frames || st.got_end))
		print_text(&st);
	if (ret && rc == CLI_EXIT_OK && !quiet)
		cli_notice("recv", "%s", err);
	if (rc != CLI_EXIT_OK)
		cli_error("recv", "%s%s%s", st.peer[0] ? st.peer : "",
			  st.peer[0] ? ": " : "", err);
	return rc;
}
