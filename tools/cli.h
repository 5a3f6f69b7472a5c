/* SPDX-License-Identifier: MIT */
/*
 * The dmakit CLI: one file per subcommand (tools/<name>.c exporting
 * cmd_<name>()), all dispatched from CLI_COMMANDS, which also drives help.
 * Exit codes: 0 success, 1 failure, 2 bad usage.  Errors are printed once,
 * with context: "dmakit record: open /dev/dmakit0: No such device".
 */
#ifndef DMAKIT_CLI_H
#define DMAKIT_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1
#define CLI_EXIT_USAGE	2

struct cli_command {
	const char *name;
	const char *summary;
	int (*fn)(int argc, char **argv);
};

int cmd_record(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_play(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_xfer(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_reg(int argc, char **argv);
int cmd_pmu(int argc, char **argv);

#define CLI_COMMANDS \
	{ "record", "record a device's DMA buffers to a file or block device", cmd_record }, \
	{ "verify", "check a recording: CRCs, sequence gaps, payload", cmd_verify }, \
	{ "recover", "finish a recording its recorder could not close (crash)", cmd_recover }, \
	{ "export", "describe a recording for other tools (SigMF metadata)", cmd_export }, \
	{ "play",   "write a recording back into a card, a FIFO or a file", cmd_play }, \
	{ "send",   "stream a device's buffers over TCP (zero-copy)", cmd_send }, \
	{ "recv",   "receive a stream from 'dmakit send' into a recording", cmd_recv }, \
	{ "xfer",   "run DMA transactions between memory and card memory", cmd_xfer }, \
	{ "trace",  "trace the start and end of DMA transactions", cmd_trace }, \
	{ "info",   "show PCI devices: driver, link, DMA mask, IRQ vectors", cmd_info }, \
	{ "reg",    "read or write a register of a PCI memory BAR", cmd_reg }, \
	{ "pmu",    "list PCIe/IO perf PMUs, count their events", cmd_pmu }, \
	{ "bench",  "measure ring and memory bandwidth ceilings", cmd_bench },

/* "dmakit CMD: message\n" on stderr; returns CLI_EXIT_FAIL. */
int cli_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Same, for bad usage: adds "try 'dmakit CMD --help'"; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Option parsing, the same in every command: optstrings start with ':',
 * so getopt_long() stays quiet and returns ':' (missing value)
 * or '?' (unknown option) for cli_getopt_error() to report in one format.
 * cli_no_operands() refuses anything left after the options.  Both return
 * CLI_EXIT_USAGE after printing, 0 when there is nothing to report.
 */
int cli_getopt_error(const char *cmd, int c, char *const argv[]);
int cli_no_operands(const char *cmd, int argc, char *const argv[]);
/*
 * cli_one_operand() takes the one operand after the options into *@out;
 * none is the usage error "no @what given (@synopsis)", a second one
 * "unexpected argument".  Returns 0 or CLI_EXIT_USAGE (printed).
 */
int cli_one_operand(const char *cmd, int argc, char *const argv[],
		    const char *what, const char *synopsis, const char **out);
/*
 * An option a command no longer has, whose letter now means what it means
 * everywhere else (xfer's -o, -t): if getopt reported @letter unknown
 * (@c '?' or ':'), a usage error naming the new spelling; else 0.
 */
int cli_retired_option(const char *cmd, int c, int letter,
		       const char *instead);
/*
 * "-" as a file name means stdout where a command documents it (record -o,
 * trace --events); every other path option refuses it, so no file named
 * "-" is ever created.  0, or a usage error naming @opt.
 */
int cli_refuse_stdout_path(const char *cmd, const char *opt,
			   const char *path);
/*
 * An output option's file that already holds data (a non-empty regular
 * file) is not truncated unless @force: never destroy what a user had.
 * Empty files, devices and FIFOs are written as given.  0, or cli_error().
 */
int cli_refuse_existing_output(const char *cmd, const char *opt,
			       const char *path, bool force);
static inline bool cli_is_stdout_path(const char *path)
{
	return path && !strcmp(path, "-");
}

/*
 * --json: one object on stdout whatever happens, its "ok" agreeing with
 * the exit status.  A command calls cli_json_requested() when it parses
 * --json and writes its object with cli_json_begin() (which writes "ok"
 * first) ... dmakit_json_obj_end() + dmakit_json_end().  When a command
 * fails (exit 1) before writing one, main() writes
 * {"ok": false, "command": CMD, "error": the first cli_error() message}.
 * Usage errors (exit 2) write no JSON: the command line was not understood.
 */
struct dmakit_json;
void cli_json_requested(void);
void cli_json_begin(struct dmakit_json *j, bool ok, bool pretty);
/* The same without "ok", for an object that learns it at its end. */
void cli_json_start(struct dmakit_json *j, bool pretty);
void cli_json_finish(const char *cmd, int rc);
/* The first message cli_error() printed ("" if none): a JSON "error". */
const char *cli_first_error(void);

/* A notice (not an error): "dmakit CMD: notice: message\n" on stderr. */
void cli_notice(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "1.50 GiB", "512.0 KiB" into @buf. */
const char *cli_fmt_bytes(char *buf, size_t len, double bytes);
/* "812.3 MB/s" (powers of 1000, as disks and links are quoted). */
const char *cli_fmt_rate(char *buf, size_t len, double bytes_per_s);

/*
 * Every time value of every command (docs/cli.md): "500ms", "2.5s", "5m",
 * "1h", or a bare number of seconds.  Seconds as a double; 0 or -1.
 */
int cli_parse_duration(const char *s, double *out);
/*
 * True if @s is a bare number.  Options whose bare number once meant
 * milliseconds (xfer/trace --timeout) refuse it: the same digits must
 * not silently mean a thousand times longer.
 */
bool cli_duration_is_bare(const char *s);

/*
 * Range-checked numbers for options: a duration in [@min, @max] seconds,
 * a size or count (K/M/G/T suffixes, 1024^n) in [@min, @max].  Out of
 * range is as bad as unparsable: both return -1, so the caller reports a
 * usage error instead of letting a huge value wrap or overflow.
 */
int cli_parse_seconds(const char *s, double min, double max, double *out);
/*
 * The options every command parses alike: -q/--quiet, --json and, where
 * there is a status line (record, send, recv, play), --status-interval.
 * CLI_COMMON_OPTIONS (and CLI_STATUS_OPTION) go into the getopt table;
 * cli_other_opt() is the default: of a command's option switch: one of
 * them, else (with @smp) a sample option (CLI_SAMPLE_OPTIONS), else
 * getopt's complaint.  Returns 0 if taken, else the exit status to return
 * (CLI_EXIT_USAGE, the message printed).  @status_interval is NULL for a
 * command without the option.  --json also tells main()
 * (cli_json_requested()).
 */
enum { CLI_OPT_JSON = 0x1100, CLI_OPT_STATUS_INTERVAL };
#define CLI_COMMON_OPTIONS \
	{ "json", no_argument, NULL, CLI_OPT_JSON }, \
	{ "quiet", no_argument, NULL, 'q' }
#define CLI_STATUS_OPTION \
	{ "status-interval", required_argument, NULL, CLI_OPT_STATUS_INTERVAL }
struct dmakit_samples;
int cli_other_opt(const char *cmd, int opt, const char *arg,
		  char *const argv[], bool *json, bool *quiet,
		  double *status_interval, struct dmakit_samples *smp);

/*
 * What the recorded bytes are (record, recv): --sample-format,
 * --sample-rate, --center-freq.  CLI_SAMPLE_OPTIONS goes into the getopt
 * table, CLI_SAMPLE_HELP into --help; cli_other_opt() takes them,
 * cli_sample_check() the combination after parsing.
 */
enum { CLI_OPT_SAMPLE_FORMAT = 0x1000, CLI_OPT_SAMPLE_RATE,
       CLI_OPT_CENTER_FREQ };
#define CLI_SAMPLE_OPTIONS \
	{ "sample-format", required_argument, NULL, CLI_OPT_SAMPLE_FORMAT }, \
	{ "sample-rate", required_argument, NULL, CLI_OPT_SAMPLE_RATE }, \
	{ "center-freq", required_argument, NULL, CLI_OPT_CENTER_FREQ }
#define CLI_SAMPLE_HELP \
"      --sample-format FORMAT  the bytes are samples of this SigMF format:\n" \
"                         cf32_le, ci16_le, ci8, cu8, rf32_le, ri16_le, ...\n" \
"                         ((c|r)(f32|f64|i32|i16|u32|u16)_(le|be), or\n" \
"                         (c|r)(i8|u8)); kept in the metadata for\n" \
"                         'dmakit export --sigmf' and the Python package\n" \
"      --sample-rate HZ   samples per second (k/M/G: 1000^n), e.g. 61.44M\n" \
"      --center-freq HZ   centre frequency, e.g. 2.4G\n"
int cli_sample_check(const char *cmd, const struct dmakit_samples *smp);

/*
 * Parse a frequency in Hz: "61.44M", "2.4G", "100k", "1e6", optionally
 * ending in "Hz"; k/M/G are powers of 1000.  Within -1e12..1e12.
 * Returns 0 or -1.
 */
int cli_parse_hz(const char *s, double *out);
int cli_parse_count(const char *s, uint64_t min, uint64_t max,
		    uint64_t *out);
/* Durations: at least a millisecond; at most DMAKIT_MAX_SECONDS. */
#define CLI_MIN_SECONDS	0.001

/*
 * A log2 histogram printed like bcc's tools:
 *      usecs               : count    distribution
 *          0 -> 1          : 0        |                                        |
 * @slots[i] counts values v with 2^(i-1) <= v < 2^i (slot 0: v == 0).
 */
#define CLI_HIST_SLOTS 64
void cli_print_log2_hist(FILE *f, const uint64_t *slots, int nslots,
			 const char *unit);
int cli_log2_slot(uint64_t v);

/* CLOCK_MONOTONIC in nanoseconds, for elapsed times. */
uint64_t cli_now_ns(void);

/*
 * Long-running commands stop cleanly on SIGINT/SIGTERM: the handler counts
 * requests in cli_stop_requested (a second one may mean "hurry").  Installed
 * without SA_RESTART so blocking waits return.  SIGPIPE is ignored (a peer
 * that vanished is an error return) and so is SIGXFSZ (a file size limit is
 * a "disk full" ending, not a kill).
 */
extern volatile sig_atomic_t cli_stop_requested;
void cli_catch_stop_signals(void);

/*
 * A library notice callback: prints "dmakit CMD: notice: MSG" unless
 * *quiet; @ctx points to a struct cli_notice_ctx.
 */
struct cli_notice_ctx {
	const char *cmd;
	bool quiet;
};
void cli_notice_cb(void *ctx, const char *msg);

/* True if stderr is a terminal (progress lines are drawn only then). */
bool cli_stderr_is_tty(void);

/*
 * The status line of record, send, recv and play (tools/cli_status.c):
 *   "12.0 s  1.50 GiB  812.3 MB/s  45% of 3.33 GiB  ETA 14 s  ring 12/256  drops 0"
 * % and ETA only when a size or a duration bounds the run; ring only
 * when there is one (@nbufs).
 */
struct cli_status {
	double seconds;
	uint64_t bytes;
	uint64_t total_bytes;	/* 0: no size limit */
	double total_seconds;	/* 0: no duration limit */
	uint32_t ring_fill, nbufs;
	uint64_t dropped;
};
/*
 * Where status lines go: on a terminal one line redrawn in place (unless
 * @quiet); otherwise a line every @interval seconds (0: none).  SIGUSR1
 * prints one at any time, also with @quiet.  cli_status_init() blocks
 * SIGUSR1 (call it before the library starts threads); feed
 * cli_status_update() from the progress callback, called every
 * cli_status_period_ms(); cli_status_end() clears a drawn line.
 */
struct cli_status_out {
	bool tty, quiet, drawn;
	double interval, next_at;
};
void cli_status_init(struct cli_status_out *o, bool quiet, double interval);
unsigned int cli_status_period_ms(const struct cli_status_out *o);
void cli_status_update(struct cli_status_out *o, const struct cli_status *s);
void cli_status_end(struct cli_status_out *o);
const char *cli_status_format(char *buf, size_t len, const struct cli_status *s);

#endif /* DMAKIT_CLI_H */
