// SPDX-License-Identifier: MIT
/*
 * The status line record, send and recv share: elapsed, amount, rate, %
 * and ETA when a size or duration bounds the run, ring fill and drops.
 * Redrawn in place on a terminal; otherwise a line every --status-interval
 * (for logs), and one whenever SIGUSR1 arrives (like dd).
 *
 * SIGUSR1 is blocked, not handled: a handler would interrupt the library's
 * waits (EINTR reads as a stop request there).  It stays pending and the
 * progress callback collects it with sigtimedwait().
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include "cli.h"

void cli_status_init(struct cli_status_out *o, bool quiet, double interval)
{
	sigset_t usr1;

	memset(o, 0, sizeof(*o));
	o->tty = cli_stderr_is_tty();
	o->quiet = quiet;
	o->interval = interval;
	o->next_at = interval;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	/* before the library starts threads: they inherit the mask */
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
}

unsigned int cli_status_period_ms(const struct cli_status_out *o)
{
	/* often enough for the interval, and for SIGUSR1 within 0.5 s */
	double ms = o->interval > 0 && o->interval < 0.5 ? o->interval * 1000 : 500;

	return ms < 1 ? 1 : (unsigned int)ms;
}

static bool usr1_pending(void)
{
	static const struct timespec now;
	sigset_t usr1;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	return sigtimedwait(&usr1, NULL, &now) == SIGUSR1;
}

const char *cli_status_format(char *buf, size_t len, const struct cli_status *s)
{
	char amount[32], total[32], rate[32], ring[48] = "";
	double bps = s->seconds > 0 ? (double)s->bytes / s->seconds : 0;
	double frac = -1, eta = -1;
	size_t n;

	cli_fmt_bytes(amount, sizeof(amount), (double)s->bytes);
	cli_fmt_rate(rate, sizeof(rate), bps);
	total[0] = 0;
	/* with both limits the run ends at whichever comes first */
	if (s->total_bytes) {
		frac = (double)s->bytes / (double)s->total_bytes;
		if (bps > 0)
			eta = (double)(s->total_bytes - (s->bytes < s->total_bytes ?
					s->bytes : s->total_bytes)) / bps;
		cli_fmt_bytes(total, sizeof(total), (double)s->total_bytes);
	}
	if (s->total_seconds > 0) {
		double f = s->seconds / s->total_seconds;
		double left = s->total_seconds - s->seconds;

		if (f > frac) {
			frac = f;
			snprintf(total, sizeof(total), "%.0f s", s->total_seconds);
		}
		if (left < 0)
			left = 0;
		if (eta < 0 || left < eta)
			eta = left;
	}
	if (s->nbufs)
		snprintf(ring, sizeof(ring), "  ring %u/%u", s->ring_fill, s->nbufs);
	n = (size_t)snprintf(buf, len, "%.1f s  %s  %s", s->seconds, amount, rate);
	if (n < len && frac >= 0)
		n += (size_t)snprintf(buf + n, len - n, "  %.0f%% of %s",
				      (frac > 1 ? 1 : frac) * 100, total);
	if (n < len && eta >= 0)
		n += (size_t)snprintf(buf + n, len - n, "  ETA %.0f s", eta);
	if (n < len)
		snprintf(buf + n, len - n, "%s  drops %llu", ring,
			 (unsigned long long)s->dropped);
	return buf;
}

void cli_status_update(struct cli_status_out *o, const struct cli_status *s)
{
	char line[256];
	bool asked = usr1_pending();
	bool due = !o->tty && !o->quiet && o->interval > 0 &&
		   s->seconds >= o->next_at;
	bool live = o->tty && !o->quiet;

	if (!asked && !due && !live)
		return;
	cli_status_format(line, sizeof(line), s);
	if (o->tty) {
		/* a requested line stays; the live one is redrawn below it */
		fprintf(stderr, "\r%s\033[K%s", line, asked ? "\n" : "");
		o->drawn = !asked;
		return;
	}
	fprintf(stderr, "%s\n", line);
	while (due && o->next_at <= s->seconds)
		o->next_at += o->interval;
}

void cli_status_end(struct cli_status_out *o)
{
	if (o->drawn)
		fputs("\r\033[K", stderr);
	o->drawn = false;
}
