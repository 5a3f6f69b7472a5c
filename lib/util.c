// SPDX-License-Identifier: MIT
/* Small helpers: error messages, number parsing, option strings, clocks. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

int dmakit_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

const char *dmakit_strerror(int err)
{
	const char *s;

	if (err < 0)
		err = -err;
	if (err == 0)
		return "Success";
	s = strerrordesc_np(err);
	return s ? s : "Unknown error";
}

uint64_t dmakit_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t dmakit_deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return UINT64_MAX;
	return dmakit_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
}

int dmakit_remaining_ms(uint64_t deadline)
{
	uint64_t now;

	if (deadline == UINT64_MAX)
		return -1;
	now = dmakit_now_ns();
	if (now >= deadline)
		return 0;
	/* round up so a short remainder still sleeps */
	return (int)((deadline - now + 999999) / 1000000);
}

/* Parse a number with an optional K/M/G/T suffix of base @unit. */
static int parse_scaled(const char *s, uint64_t unit, uint64_t *out)
{
	unsigned long long v;
	uint64_t mul = 1;
	char *end;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'T':
		mul *= unit;
		/* fallthrough */
	case 'G':
		mul *= unit;
		/* fallthrough */
	case 'M':
		mul *= unit;
		/* fallthrough */
	case 'K':
		mul *= unit;
		end++;
		if (unit == 1024 && (*end == 'i' || *end == 'I'))
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		break;
	case 'B':
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return -EINVAL;
	if (v && mul > UINT64_MAX / v)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

int dmakit_parse_size(const char *s, uint64_t *out)
{
	return parse_scaled(s, 1024, out);
}

int dmakit_parse_rate(const char *s, uint64_t *out)
{
	if (s && !strcmp(s, "max")) {
		*out = 0;
		return 0;
	}
	return parse_scaled(s, 1000, out);
}

int dmakit_parse_opts(const char *args, char *err, size_t errlen,
		      int (*fn)(void *ctx, const char *key, const char *val,
				char *err, size_t errlen),
		      void *ctx)
{
	const char *keys[64];
	unsigned int nkeys = 0, i;
	char *copy, *next, *tok;
	int ret = 0;

	if (!args || !*args)
		return 0;
	copy = strdup(args);
	if (!copy)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	/*
	 * strsep, not strtok: ",," and a trailing comma are typing slips to
	 * name, and a key given twice would silently take one of the values.
	 */
	for (next = copy; (tok = strsep(&next, ",")) != NULL && !ret;) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok || !eq[1]) {
			ret = dmakit_errf(err, errlen, -EINVAL,
					  *tok ? "option '%s' is not key=value" :
						 "an empty option in '%s' (a stray comma?)",
					  *tok ? tok : args);
			break;
		}
		*eq = '\0';
		for (i = 0; i < nkeys && strcmp(keys[i], tok); i++)
			;
		if (i < nkeys) {
			ret = dmakit_errf(err, errlen, -EINVAL,
					  "option '%s' given twice", tok);
			break;
		}
		if (nkeys == sizeof(keys) / sizeof(keys[0])) {
			ret = dmakit_errf(err, errlen, -EINVAL,
					  "more than %u options",
					  (unsigned int)(sizeof(keys) / sizeof(keys[0])));
			break;
		}
		keys[nkeys++] = tok;
		ret = fn(ctx, tok, eq + 1, err, errlen);
	}
	free(copy);
	return ret;
}

ssize_t dmakit_pread_full(int fd, void *buf, size_t len, uint64_t off,
			  int *err)
{
	size_t got = 0;

	if (err)
		*err = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got,
				  (off_t)(off + got));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (err)
				*err = -errno;
			return got ? (ssize_t)got : -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}
