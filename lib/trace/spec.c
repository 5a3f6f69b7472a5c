// SPDX-License-Identifier: MIT
/*
 * SPEC strings: what `dmakit trace --start/--end` accept (grammar in
 * include/dmakit/trace.h).  Parsing only checks the form; whether the
 * device, event, file or symbol exists is found out when a session
 * resolves the spec.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "trace_internal.h"

static const char *const kind_names[] = {
	[DMAKIT_SPEC_IRQ] = "irq",
	[DMAKIT_SPEC_TP] = "tp",
	[DMAKIT_SPEC_UPROBE] = "uprobe",
	[DMAKIT_SPEC_URETPROBE] = "uretprobe",
	[DMAKIT_SPEC_USDT] = "usdt",
	[DMAKIT_SPEC_DMAKIT] = "dmakit",
};

const char *dmakit_spec_kind_name(enum dmakit_spec_kind kind)
{
	return kind <= DMAKIT_SPEC_DMAKIT ? kind_names[kind] : "?";
}

/* Event and system names: what tracefs accepts as a directory name. */
static bool valid_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
		    *s != '.')
			return false;
	return true;
}

static bool valid_c_ident(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' &&
		    *s != '$')
			return false;
	return true;
}

/* Copy @len bytes of @s into @dst (size @size); false if it does not fit. */
static bool copy_part(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

static int bad(char *err, size_t errlen, const char *text, const char *why)
{
	return dmakit_errf(err, errlen, -EINVAL, "bad SPEC '%s': %s", text,
			   why);
}

/* PATH:FUNC[+OFF] with the function after the last colon. */
static int parse_probe(struct dmakit_spec *spec, const char *rest, char *err,
		       size_t errlen)
{
	const char *colon = strrchr(rest, ':'), *plus;
	char *end;

	if (!colon || colon == rest || !colon[1])
		return bad(err, errlen, spec->text,
			   "expected PATH:FUNCTION, e.g. uprobe:/usr/lib/libfoo.so:dma_from_host");
	if (!copy_part(spec->path, sizeof(spec->path), rest,
		       (size_t)(colon - rest)))
		return bad(err, errlen, spec->text, "path too long");
	plus = strchr(colon + 1, '+');
	if (!copy_part(spec->func, sizeof(spec->func), colon + 1,
		       plus ? (size_t)(plus - colon - 1) : strlen(colon + 1)))
		return bad(err, errlen, spec->text, "function name too long");
	if (plus) {
		errno = 0;
		spec->func_off = strtoull(plus + 1, &end, 0);
		if (errno || end == plus + 1 || *end)
			return bad(err, errlen, spec->text,
				   "offset after '+' must be a number");
	}
	if (strncmp(spec->func, "0x", 2) && !valid_c_ident(spec->func))
		return bad(err, errlen, spec->text,
			   "function must be a symbol name or a 0x address");
	if (spec->path[0] != '/')
		return bad(err, errlen, spec->text,
			   "PATH must be absolute (uprobes name the file)");
	return 0;
}

int dmakit_spec_parse(struct dmakit_spec *spec, const char *text, char *err,
		      size_t errlen)
{
	const char *rest;

	memset(spec, 0, sizeof(*spec));
	if (!text || !*text)
		return dmakit_errf(err, errlen, -EINVAL, "empty SPEC");
	if (strlen(text) >= sizeof(spec->text))
		return dmakit_errf(err, errlen, -EINVAL, "SPEC too long");
	snprintf(spec->text, sizeof(spec->text), "%s", text);

	if (!strcmp(text, "irq") || !strncmp(text, "irq:", 4)) {
		spec->kind = DMAKIT_SPEC_IRQ;
		rest = text[3] ? text + 4 : "";
		if (text[3] && !*rest)
			return bad(err, errlen, text,
				   "expected IRQ numbers or a name pattern after 'irq:'");
		if (!copy_part(spec->irq_sel, sizeof(spec->irq_sel), rest,
			       strlen(rest)))
			return bad(err, errlen, text, "selection too long");
		return 0;
	}
	if (!strcmp(text, "dmakit")) {
		spec->kind = DMAKIT_SPEC_DMAKIT;
		return 0;
	}
	if (!strncmp(text, "tp:", 3)) {
		const char *c1, *c2;

		spec->kind = DMAKIT_SPEC_TP;
		rest = text + 3;
		c1 = strchr(rest, ':');
		if (!c1)
			return bad(err, errlen, text,
				   "expected tp:SYSTEM:EVENT[:FILTER], e.g. tp:block:block_rq_issue");
		c2 = strchr(c1 + 1, ':');
		if (!copy_part(spec->system, sizeof(spec->system), rest,
			       (size_t)(c1 - rest)) ||
		    !copy_part(spec->event, sizeof(spec->event), c1 + 1,
			       c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1)))
			return bad(err, errlen, text, "name too long");
		if (!valid_ident(spec->system) || !valid_ident(spec->event))
			return bad(err, errlen, text,
				   "SYSTEM and EVENT must be tracepoint names, e.g. tp:block:block_rq_issue");
		if (c2) {
			if (!c2[1])
				return bad(err, errlen, text,
					   "empty FILTER after the last ':'");
			if (!copy_part(spec->filter, sizeof(spec->filter),
				       c2 + 1, strlen(c2 + 1)))
				return bad(err, errlen, text, "filter too long");
		}
		return 0;
	}
	if (!strncmp(text, "uprobe:", 7)) {
		spec->kind = DMAKIT_SPEC_UPROBE;
		return parse_probe(spec, text + 7, err, errlen);
	}
	if (!strncmp(text, "uretprobe:", 10)) {
		int ret;

		spec->kind = DMAKIT_SPEC_URETPROBE;
		ret = parse_probe(spec, text + 10, err, errlen);
		if (!ret && spec->func_off)
			return bad(err, errlen, text,
				   "a uretprobe is placed on a function, not at an offset");
		return ret;
	}
	if (!strncmp(text, "usdt:", 5)) {
		const char *c2, *c1;

		spec->kind = DMAKIT_SPEC_USDT;
		rest = text + 5;
		c2 = strrchr(rest, ':');
		if (!c2 || c2 == rest)
			goto usdt_bad;
		for (c1 = c2 - 1; c1 > rest && *c1 != ':'; c1--)
			;
		if (c1 == rest)
			goto usdt_bad;
		if (!copy_part(spec->path, sizeof(spec->path), rest,
			       (size_t)(c1 - rest)) ||
		    !copy_part(spec->provider, sizeof(spec->provider), c1 + 1,
			       (size_t)(c2 - c1 - 1)) ||
		    !copy_part(spec->name, sizeof(spec->name), c2 + 1,
			       strlen(c2 + 1)))
			return bad(err, errlen, text, "part too long");
		if (!valid_c_ident(spec->provider) || !valid_c_ident(spec->name))
			goto usdt_bad;
		if (spec->path[0] != '/')
			return bad(err, errlen, text,
				   "PATH must be absolute (uprobes name the file)");
		return 0;
usdt_bad:
		return bad(err, errlen, text,
			   "expected usdt:PATH:PROVIDER:NAME, e.g. usdt:/usr/lib/libdmakit.so:dmakit:dma_start");
	}
	return bad(err, errlen, text,
		   "unknown kind (expected irq, tp:, uprobe:, uretprobe:, usdt: or dmakit)");
}

int dmakit_trace_spec_check(const char *text, char *err, size_t errlen)
{
	struct dmakit_spec spec;

	return dmakit_spec_parse(&spec, text, err, errlen);
}
