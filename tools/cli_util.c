// SPDX-License-Identifier: MIT
/* Helpers every subcommand shares: messages, units, histograms. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <getopt.h>
#include <unistd.h>
#include <dmakit.h>
#include <dmakit/recording.h>
#include "cli.h"
#include "json.h"

/* The process is one command: its --json state (cli_json_finish()). */
static struct {
	bool requested, printed;
	char first_error[1024];
} json_state;

static void vmsg(const char *cmd, const char *kind, const char *fmt,
		 va_list ap)
{
	fprintf(stderr, "dmakit %s: %s", cmd, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!json_state.first_error[0]) {
		va_list copy;

		va_copy(copy, ap);
		vsnprintf(json_state.first_error,
			  sizeof(json_state.first_error), fmt, copy);
		va_end(copy);
	}
	vmsg(cmd, "", fmt, ap);
	va_end(ap);
	return CLI_EXIT_FAIL;
}

const char *cli_first_error(void)
{
	return json_state.first_error;
}

void cli_json_requested(void)
{
	json_state.requested = true;
}

void cli_json_start(struct dmakit_json *j, bool pretty)
{
	json_state.printed = true;
	dmakit_json_init(j, stdout, pretty);
	dmakit_json_obj_begin(j, NULL);
}

void cli_json_begin(struct dmakit_json *j, bool ok, bool pretty)
{
	cli_json_start(j, pretty);
	dmakit_json_bool(j, "ok", ok);
}

void cli_json_finish(const char *cmd, int rc)
{
	struct dmakit_json j;

	if (!json_state.requested || json_state.printed ||
	    rc != CLI_EXIT_FAIL)
		return;
	cli_json_begin(&j, false, false);
	dmakit_json_str(&j, "command", cmd);
	dmakit_json_str(&j, "error", json_state.first_error[0] ?
			json_state.first_error : "failed");
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

int cli_retired_option(const char *cmd, int c, int letter,
		       const char *instead)
{
	if ((c != '?' && c != ':') || optopt != letter)
		return 0;
	return cli_usage_error(cmd, "option '-%c' is gone here (it means the same in every command, see docs/cli.md): use %s",
			       letter, instead);
}

int cli_refuse_stdout_path(const char *cmd, const char *opt,
			   const char *path)
{
	if (!cli_is_stdout_path(path))
		return 0;
	return cli_usage_error(cmd, "%s cannot be '-' (stdout); give a file name (./- for a file named '-')",
			       opt);
}

int cli_refuse_existing_output(const char *cmd, const char *opt,
			       const char *path, bool force)
{
	struct stat st;

	if (force || !path || cli_is_stdout_path(path) || stat(path, &st) ||
	    !S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;
	return cli_error(cmd, "%s %s already holds data (--force replaces it)",
			 opt, path);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd, "", fmt, ap);
	va_end(ap);
	fprintf(stderr, "try 'dmakit %s --help'\n", cmd);
	return CLI_EXIT_USAGE;
}

int cli_getopt_error(const char *cmd, int c, char *const argv[])
{
	/*
	 * Which option: getopt sets optopt to the letter of a short option,
	 * to 0 for an unknown long one and to the option's value for a long
	 * one missing its value; a long one is still argv[optind - 1].
	 */
	const char *arg = argv[optind - 1];
	char letter[3] = { '-', (char)optopt, 0 };
	bool is_long = c == ':' ? !strncmp(arg, "--", 2) : !optopt;
	int len = is_long ? (int)strcspn(arg, "=") : 2;

	if (!is_long)
		arg = letter;
	if (c == ':')
		return cli_usage_error(cmd, "option '%.*s' needs a value", len,
				       arg);
	return cli_usage_error(cmd, "unknown option '%.*s'", len, arg);
}

int cli_no_operands(const char *cmd, int argc, char *const argv[])
{
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	return 0;
}

int cli_one_operand(const char *cmd, int argc, char *const argv[],
		    const char *what, const char *synopsis, const char **out)
{
	if (optind >= argc)
		return cli_usage_error(cmd, "no %s given (%s)", what, synopsis);
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind + 1]);
	*out = argv[optind];
	return 0;
}

void cli_notice(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd, "notice: ", fmt, ap);
	va_end(ap);
}

const char *cli_fmt_bytes(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.2f %s" : "%.0f %s", bytes, units[u]);
	return buf;
}

const char *cli_fmt_rate(char *buf, size_t len, double r)
{
	static const char *const units[] = { "B/s", "kB/s", "MB/s", "GB/s" };
	int u = 0;

	while (r >= 1000 && u < 3) {
		r /= 1000;
		u++;
	}
	snprintf(buf, len, "%.1f %s", r, units[u]);
	return buf;
}

int cli_parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		;
	else if (!strcmp(end, "ms"))
		v /= 1000;
	else if (!strcmp(end, "m"))
		v *= 60;
	else if (!strcmp(end, "h"))
		v *= 3600;
	else
		return -1;
	*out = v;
	return 0;
}

bool cli_duration_is_bare(const char *s)
{
	char *end;

	if (!s || !*s)
		return false;
	strtod(s, &end);
	return end != s && !*end;
}

int cli_parse_seconds(const char *s, double min, double max, double *out)
{
	double v;

	if (cli_parse_duration(s, &v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_hz(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	v = strtod(s, &end);
	if (end == s || !isfinite(v))
		return -1;
	switch (*end) {
	case 'k':
		v *= 1e3;
		end++;
		break;
	case 'M':
		v *= 1e6;
		end++;
		break;
	case 'G':
		v *= 1e9;
		end++;
		break;
	}
	if (*end && strcmp(end, "Hz"))
		return -1;
	if (fabs(v) > 1e12)
		return -1;
	*out = v;
	return 0;
}

/* 1 if @opt is not a common option, 0 if taken, CLI_EXIT_USAGE */
static int cli_common_opt(const char *cmd, int opt, const char *arg,
			  bool *json, bool *quiet, double *status_interval)
{
	switch (opt) {
	case 'q':
		*quiet = true;
		return 0;
	case CLI_OPT_JSON:
		*json = true;
		cli_json_requested();
		return 0;
	case CLI_OPT_STATUS_INTERVAL:
		if (!status_interval)
			break;
		if (cli_parse_seconds(arg, CLI_MIN_SECONDS, DMAKIT_MAX_SECONDS,
				      status_interval))
			return cli_usage_error(cmd, "bad --status-interval '%s' (expected 1ms..1e9s, e.g. 10s)",
					       arg);
		return 0;
	}
	return 1;
}

/* 1 if @opt is not a sample option, 0 if taken, CLI_EXIT_USAGE */
static int cli_sample_opt(const char *cmd, int opt, const char *arg,
			  struct dmakit_samples *smp)
{
	switch (opt) {
	case CLI_OPT_SAMPLE_FORMAT:
		if (dmakit_sample_size(arg) < 0)
			return cli_usage_error(cmd, "bad --sample-format '%s' (a SigMF format: cf32_le, ci16_le, ci8, cu8, rf32_le, ...)",
					       arg);
		snprintf(smp->format, sizeof(smp->format), "%s", arg);
		return 0;
	case CLI_OPT_SAMPLE_RATE:
		if (cli_parse_hz(arg, &smp->rate) || smp->rate < 1)
			return cli_usage_error(cmd, "bad --sample-rate '%s' (1 Hz..1e12, k/M/G: 1000^n, e.g. 61.44M)",
					       arg);
		return 0;
	case CLI_OPT_CENTER_FREQ:
		if (cli_parse_hz(arg, &smp->center_freq))
			return cli_usage_error(cmd, "bad --center-freq '%s' (-1e12..1e12 Hz, k/M/G: 1000^n, e.g. 2.4G)",
					       arg);
		smp->has_center_freq = true;
		return 0;
	}
	return 1;
}

int cli_other_opt(const char *cmd, int opt, const char *arg,
		  char *const argv[], bool *json, bool *quiet,
		  double *status_interval, struct dmakit_samples *smp)
{
	int ret = cli_common_opt(cmd, opt, arg, json, quiet, status_interval);

	if (ret == 1 && smp)
		ret = cli_sample_opt(cmd, opt, arg, smp);
	if (ret == 1)
		ret = cli_getopt_error(cmd, opt, argv);
	return ret;
}

int cli_sample_check(const char *cmd, const struct dmakit_samples *smp)
{
	if (!smp->format[0] && (smp->rate > 0 || smp->has_center_freq))
		return cli_usage_error(cmd, "--sample-rate and --center-freq describe samples: give --sample-format too");
	return 0;
}

int cli_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (dmakit_parse_size(s, &v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_log2_slot(uint64_t v)
{
	return v ? 64 - __builtin_clzll(v) : 0;
}

void cli_print_log2_hist(FILE *f, const uint64_t *slots, int nslots,
			 const char *unit)
{
	uint64_t max = 0;
	int i, first = -1, last = -1;

	for (i = 0; i < nslots; i++) {
		if (slots[i] > max)
			max = slots[i];
		if (slots[i]) {
			if (first < 0)
				first = i;
			last = i;
		}
	}
	if (last < 0)
		return;
	fprintf(f, "%*s%-*s : count    distribution\n", 5, "", 19, unit);
	for (i = first; i <= last; i++) {
		uint64_t lo = i ? 1ULL << (i - 1) : 0;
		uint64_t hi = i ? (1ULL << i) - 1 : 0;
		int stars = max ? (int)(slots[i] * 40 / max) : 0;
		char bar[41];

		memset(bar, '*', (size_t)stars);
		memset(bar + stars, ' ', (size_t)(40 - stars));
		bar[40] = '\0';
		fprintf(f, "%10llu -> %-10llu : %-8llu |%s|\n",
			(unsigned long long)lo, (unsigned long long)hi,
			(unsigned long long)slots[i], bar);
	}
}

volatile sig_atomic_t cli_stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	cli_stop_requested++;
}

void cli_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
}

void cli_notice_cb(void *ctx, const char *msg)
{
	const struct cli_notice_ctx *n = ctx;

	if (!n->quiet)
		cli_notice(n->cmd, "%s", msg);
}

bool cli_stderr_is_tty(void)
{
	return isatty(STDERR_FILENO);
}

uint64_t cli_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
