// SPDX-License-Identifier: MIT
/* dmakit send: stream a device's buffers to 'dmakit recv' over TCP. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dmakit.h>
#include <dmakit/stream.h>
#include "cli.h"
#include "json.h"

static const char usage_text[] =
"usage: dmakit send -d DEVICE HOST:PORT (--size SIZE | --duration TIME) [OPTIONS]\n"
"\n"
"Stream DMA buffers to 'dmakit recv' running on HOST:PORT.  Buffers are sent\n"
"straight from the ring's pages (zero-copy) and released when the kernel is\n"
"done with them; each carries its sequence number, timestamps, lost count\n"
"and CRC32C, so the receiver's recording verifies like a local one.\n"
"\n"
"  -d, --device DEV      device: sim[:opts], sim:name=NAME, /dev/dmakitN,\n"
"                        chardev:PATH[,opts] or app:NAME (docs/porting.md)\n"
"  -s, --size SIZE       stop once SIZE bytes of payload (the buffers' valid\n"
"                        bytes) are sent (K/M/G/T); buffers go whole, so\n"
"                        the last may pass SIZE by less than a buffer\n"
"  -t, --duration TIME   stop after TIME (10, 2.5s, 500ms, 1m)\n"
"  -z, --zerocopy MODE   auto (default): MSG_ZEROCOPY, plain sends if the\n"
"                        kernel copies anyway; msg: MSG_ZEROCOPY always;\n"
"                        uring: io_uring SENDMSG_ZC; off: plain sends\n"
"      --lossy           never hold the device back: skip ahead when the\n"
"                        network is slower (default: hold buffers, the\n"
"                        device drops and counts when its ring is full)\n"
"      --sndbuf SIZE     socket send buffer (default: kernel autotuning)\n"
"      --timeout TIME    connect/handshake timeout (default 10s)\n"
"      --json            print the summary as one JSON object on stdout,\n"
"                        also on failure (\"ok\" false)\n"
"  -q, --quiet           print only errors\n"
"      --status-interval TIME  when stderr is not a terminal, a status\n"
"                        line every TIME (elapsed, amount, rate, %, ETA,\n"
"                        ring fill, drops); SIGUSR1 prints one at any time\n"
"  -h, --help            this help\n"
"\n"
"SIGINT/SIGTERM end the stream cleanly (the receiver closes its recording);\n"
"a second one stops waiting for the receiver's confirmation.\n"
"Exit status: 0 complete, stopped by a signal or the source ended, and\n"
"confirmed by the receiver; 1 failure; 2 bad usage.\n"
"\n"
"EXAMPLES\n"
"  dmakit recv -l 9000 -o /data/run1.dat        # on the receiving host\n"
"  dmakit send -d /dev/dmakit0 rx-host:9000 --size 100G\n"
"  dmakit send -d sim:rate=800M --lossy 10.0.0.2:9000 --duration 60s\n";

struct send_status {
	struct cli_status_out out;
	uint64_t total_bytes;
	double total_seconds;
};

static void send_progress(void *ctx, const struct dmakit_send_progress *p)
{
	struct send_status *ss = ctx;
	/* a lossy sender's skipped buffers are lost like the device's drops */
	struct cli_status line = {
		.seconds = p->seconds, .bytes = p->bytes,
		.total_bytes = ss->total_bytes,
		.total_seconds = ss->total_seconds,
		.ring_fill = p->ring_fill, .nbufs = p->nbufs,
		.dropped = p->dropped + p->skipped,
	};

	cli_status_update(&ss->out, &line);
}

/* Like 'dmakit record': a signal or the source's end is a clean end. */
static bool clean_end(int ret)
{
	return ret == 0 || ret == -EINTR || ret == -ENODATA;
}

static void print_json(const struct dmakit_send_stats *st, int ret,
		       const char *err)
{
	struct dmakit_json j;

	/* "ok" is what the exit status says (see clean_end()) */
	cli_json_begin(&j, clean_end(ret), true);
	dmakit_json_str(&j, "error", clean_end(ret) ? "" : err);
	dmakit_json_str(&j, "notice", ret && clean_end(ret) ? err : "");
	dmakit_json_str(&j, "result", dmakit_result_name(st->result));
	dmakit_json_u64(&j, "buffers", st->buffers);
	dmakit_json_u64(&j, "bytes", st->bytes);
	dmakit_json_double(&j, "seconds", st->seconds);
	dmakit_json_u64(&j, "dropped", st->dropped);
	dmakit_json_u64(&j, "skipped", st->skipped);
	dmakit_json_u64(&j, "discarded", st->discarded);
	dmakit_json_u64(&j, "not_sent", st->not_taken);
	dmakit_json_str(&j, "zerocopy", dmakit_zerocopy_name(st->zerocopy));
	dmakit_json_u64(&j, "zc_sends", st->zc_sends);
	dmakit_json_u64(&j, "zc_copied", st->zc_copied);
	dmakit_json_double(&j, "producer_cpu_s",
			   (double)st->producer_cpu_ns / 1e9);
	if (st->have_final) {
		dmakit_json_obj_begin(&j, "receiver");
		dmakit_json_i64(&j, "status", st->final.status);
		dmakit_json_str(&j, "result",
				dmakit_result_name(st->final.result));
		dmakit_json_u64(&j, "buffers", st->final.buffers);
		dmakit_json_u64(&j, "bytes", st->final.bytes);
		dmakit_json_u64(&j, "discarded", st->final.discarded);
		dmakit_json_str(&j, "message", st->final.message);
		dmakit_json_obj_end(&j);
	}
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

static void print_text(const struct dmakit_send_stats *st)
{
	char b[32], r[32];

	printf("sent %s in %.2f s (%s): %llu buffers, %llu dropped by the device, %llu skipped, %llu discarded, %llu not sent\n",
	       cli_fmt_bytes(b, sizeof(b), (double)st->bytes), st->seconds,
	       cli_fmt_rate(r, sizeof(r), st->seconds > 0 ?
			    (double)st->bytes / st->seconds : 0),
	       (unsigned long long)st->buffers,
	       (unsigned long long)st->dropped,
	       (unsigned long long)st->skipped,
	       (unsigned long long)st->discarded,
	       (unsigned long long)st->not_taken);
	printf("zero-copy: %s, %llu zero-copy sends, %llu copied by the kernel\n",
	       dmakit_zerocopy_name(st->zerocopy),
	       (unsigned long long)st->zc_sends,
	       (unsigned long long)st->zc_copied);
	if (st->have_final)
		printf("receiver: %s, %llu buffers recorded (%s)%s%s\n",
		       dmakit_result_name(st->final.result),
		       (unsigned long long)st->final.buffers,
		       cli_fmt_bytes(b, sizeof(b), (double)st->final.bytes),
		       st->final.message[0] ? ": " : "", st->final.message);
}

int cmd_send(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 't' },
		{ "zerocopy", required_argument, NULL, 'z' },
		{ "lossy", no_argument, NULL, 'L' },
		{ "sndbuf", required_argument, NULL, 'B' },
		{ "timeout", required_argument, NULL, 'T' },
		CLI_COMMON_OPTIONS,
		CLI_STATUS_OPTION,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dmakit_send_opts o = { .mode = DMAKIT_RELIABLE };
	struct dmakit_send_stats st;
	struct cli_notice_ctx notices = { .cmd = "send" };
	char err[DMAKIT_ERRMSG_MAX * 2], host[256], port[16];
	const char *device = NULL;
	struct dmakit_dev *dev;
	bool quiet = false, json = false;
	struct send_status status;
	double secs, status_interval = 0;
	uint64_t v;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":d:s:t:z:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 's':
			if (cli_parse_count(optarg, 1, DMAKIT_MAX_BYTES,
					    &o.max_bytes))
				return cli_usage_error("send", "bad size '%s' (1 byte..2^60, i.e. 1048576T)",
						       optarg);
			break;
		case 't':
			if (cli_parse_seconds(optarg, CLI_MIN_SECONDS,
					      DMAKIT_MAX_SECONDS,
					      &o.max_seconds))
				return cli_usage_error("send", "bad duration '%s' (1ms..1e9s)",
						       optarg);
			break;
		case 'z':
			if (dmakit_zerocopy_parse(optarg, &o.zerocopy))
				return cli_usage_error("send",
						       "bad zero-copy mode '%s' (auto, msg, uring, off)",
						       optarg);
			break;
		case 'L':
			o.mode = DMAKIT_LOSSY;
			break;
		case 'B':
			if (cli_parse_count(optarg, 1, 1U << 30, &v))
				return cli_usage_error("send", "bad sndbuf '%s' (1..1G)",
						       optarg);
			o.sndbuf = (int)v;
			break;
		case 'T':
			if (cli_parse_seconds(optarg, CLI_MIN_SECONDS, 3600,
					      &secs))
				return cli_usage_error("send", "bad timeout '%s' (1ms..1h)",
						       optarg);
			o.connect_timeout_ms = (int)(secs * 1000);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		default:
			ret = cli_other_opt("send", c, optarg, argv,
					    &json, &quiet,
					    &status_interval, NULL);
			if (ret)
				return ret;
			break;
		}
	}
	if (!device)
		return cli_usage_error("send", "no device (-d DEVICE)");
	if (optind == argc)
		return cli_usage_error("send", "no receiver address (HOST:PORT)");
	if (optind + 1 < argc)
		return cli_usage_error("send", "unexpected argument '%s'",
				       argv[optind + 1]);
	if (!o.max_bytes && o.max_seconds <= 0)
		return cli_usage_error("send", "say how much: --size or --duration");
	o.addr = argv[optind];
	/* a malformed address is a usage error; a name that does not resolve is not */
	if (dmakit_net_split_addr(o.addr, host, sizeof(host), port,
				  sizeof(port), err, sizeof(err)))
		return cli_usage_error("send", "%s", err);
	if (!host[0])
		return cli_usage_error("send", "no host in '%s' (HOST:PORT, e.g. 10.0.0.2:9000)",
				       o.addr);
	if (!strcmp(port, "0"))
		return cli_usage_error("send", "port 0 in '%s': give the port 'dmakit recv' listens on",
				       o.addr);

	/* before the open: a stop ends a long population of the ring */
	cli_catch_stop_signals();
	ret = dmakit_open_stoppable(&dev, device, &cli_stop_requested, err,
				    sizeof(err));
	/* a malformed device string is a usage error, as in record */
	if (ret == -EINVAL)
		return cli_usage_error("send", "%s",
				       err[0] ? err : dmakit_strerror(ret));
	if (ret)
		return cli_error("send", "open %s: %s", device,
				 err[0] ? err : dmakit_strerror(ret));

	o.stop = &cli_stop_requested;
	notices.quiet = quiet;
	o.notice = cli_notice_cb;
	o.notice_ctx = &notices;
	cli_status_init(&status.out, quiet, status_interval);
	status.total_bytes = o.max_bytes;
	status.total_seconds = o.max_seconds;
	o.progress = send_progress;
	o.progress_ctx = &status;
	o.progress_ms = cli_status_period_ms(&status.out);

	ret = dmakit_send(dev, &o, &st, err, sizeof(err));
	cli_status_end(&status.out);
	dmakit_close(dev);
	if (json)
		print_json(&st, ret, err);
	else if (!quiet && (st.buffers || st.have_final))
		print_text(&st);
	if (!quiet && st.zc_sends && st.zc_copied && o.zerocopy != DMAKIT_ZC_AUTO)
		cli_notice("send", "%llu of %llu zero-copy completions were copies (loopback, or a NIC without scatter-gather)",
			   (unsigned long long)st.zc_copied,
			   (unsigned long long)st.zc_sends);
	if (ret && clean_end(ret)) {
		if (!quiet)
			cli_notice("send", "%s", err);
		return CLI_EXIT_OK;
	}
	if (ret)
		return cli_error("send", "%s: %s", o.addr, err);
	return CLI_EXIT_OK;
}
