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

static bool valid_type(const char *t)
{
	static const char *const types[] = {
		"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, types[i]))
			return true;
	return false;
}

/*
 * "NAME=argN[:TYPE],NAME=retval[:TYPE]" (the inside of the parentheses):
 * a uprobe fetches arguments at entry, a uretprobe only the return value
 * (the argument registers are reused by then), a USDT probe its arguments.
 */
static int parse_args(struct dmakit_spec *spec, const char *list, char *err,
		      size_t errlen)
{
	char copy[256], *tok, *save = NULL;
	unsigned int i;

	if (!copy_part(copy, sizeof(copy), list, strlen(list)))
		return bad(err, errlen, spec->text, "argument list too long");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct dmakit_spec_arg *a = &spec->arg[spec->nargs];
		char *eq = strchr(tok, '='), *colon, *end;

		if (spec->nargs == DMAKIT_SPEC_MAX_ARGS)
			return bad(err, errlen, spec->text,
				   "at most 8 named arguments");
		if (!eq || eq == tok)
			return bad(err, errlen, spec->text,
				   "expected NAME=argN or NAME=retval, e.g. (chan=arg1,bytes=arg4)");
		*eq = '\0';
		if (!copy_part(a->name, sizeof(a->name), tok, strlen(tok)) ||
		    !valid_c_ident(a->name) || strpbrk(a->name, ".$") ||
		    !strncmp(a->name, "common_", 7))
			return bad(err, errlen, spec->text,
				   "an argument NAME must be a C identifier");
		for (i = 0; i < spec->nargs; i++)
			if (!strcmp(spec->arg[i].name, a->name))
				return bad(err, errlen, spec->text,
					   "an argument NAME is given twice");
		colon = strchr(eq + 1, ':');
		if (colon) {
			*colon = '\0';
			if (!valid_type(colon + 1))
				return bad(err, errlen, spec->text,
					   "TYPE must be one of u8 u16 u32 u64 s8 s16 s32 s64");
			snprintf(a->type, sizeof(a->type), "%s", colon + 1);
		} else {
			snprintf(a->type, sizeof(a->type), "u64");
		}
		if (!strcmp(eq + 1, "retval")) {
			if (spec->kind != DMAKIT_SPEC_URETPROBE)
				return bad(err, errlen, spec->text,
					   "retval is only known at a uretprobe");
			a->argn = 0;
		} else if (!strncmp(eq + 1, "arg", 3) &&
			   isdigit((unsigned char)eq[4])) {
			a->argn = (unsigned int)strtoul(eq + 4, &end, 10);
			if (*end || !a->argn || a->argn > 12)
				return bad(err, errlen, spec->text,
					   "argN counts from arg1 (at most arg12)");
			if (spec->kind == DMAKIT_SPEC_URETPROBE)
				return bad(err, errlen, spec->text,
					   "a uretprobe can fetch only retval (the argument registers are reused by the time a function returns): take arguments at the uprobe");
		} else {
			return bad(err, errlen, spec->text,
				   "expected NAME=argN or NAME=retval, e.g. (chan=arg1,bytes=arg4)");
		}
		spec->nargs++;
	}
	if (!spec->nargs)
		return bad(err, errlen, spec->text, "empty argument list '()'");
	return 0;
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

/*
 * A probe SPEC ending in "(...)": parse the list and give back the SPEC
 * without it in @body.
 */
static int split_args(struct dmakit_spec *spec, char *body, size_t size,
		      char *err, size_t errlen)
{
	size_t len = strlen(spec->text);
	char *open, list[256];

	snprintf(body, size, "%s", spec->text);
	if (!len || spec->text[len - 1] != ')')
		return 0;
	open = strrchr(body, '(');
	if (!open)
		return bad(err, errlen, spec->text, "')' without '('");
	if (!copy_part(list, sizeof(list), open + 1, strlen(open + 1) - 1))
		return bad(err, errlen, spec->text, "argument list too long");
	*open = '\0';
	return parse_args(spec, list, err, errlen);
}

static enum dmakit_spec_kind probe_kind(const char *text)
{
	if (!strncmp(text, "uprobe:", 7))
		return DMAKIT_SPEC_UPROBE;
	if (!strncmp(text, "uretprobe:", 10))
		return DMAKIT_SPEC_URETPROBE;
	if (!strncmp(text, "usdt:", 5))
		return DMAKIT_SPEC_USDT;
	return DMAKIT_SPEC_IRQ;		/* not a probe */
}

int dmakit_spec_parse(struct dmakit_spec *spec, const char *whole, char *err,
		      size_t errlen)
{
	char body[sizeof(spec->text)];
	const char *rest, *text = body;
	int ret;

	memset(spec, 0, sizeof(*spec));
	if (!whole || !*whole)
		return dmakit_errf(err, errlen, -EINVAL, "empty SPEC");
	if (strlen(whole) >= sizeof(spec->text))
		return dmakit_errf(err, errlen, -EINVAL, "SPEC too long");
	snprintf(spec->text, sizeof(spec->text), "%s", whole);
	spec->kind = probe_kind(whole);
	if (spec->kind != DMAKIT_SPEC_IRQ) {
		ret = split_args(spec, body, sizeof(body), err, errlen);
		if (ret)
			return ret;
	} else {
		snprintf(body, sizeof(body), "%s", whole);
	}

	if (!strcmp(text, "irq") || !strncmp(text, "irq:", 4)) {
		spec->kind = DMAKIT_SPEC_IRQ;
		rest = text[3] ? text + 4 : "";
		if (text[3] && !*rest)
			return bad(err, errlen, spec->text,
				   "expected IRQ numbers or a name pattern after 'irq:'");
		if (!copy_part(spec->irq_sel, sizeof(spec->irq_sel), rest,
			       strlen(rest)))
			return bad(err, errlen, spec->text, "selection too long");
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
			return bad(err, errlen, spec->text,
				   "expected tp:SYSTEM:EVENT[:FILTER], e.g. tp:block:block_rq_issue");
		c2 = strchr(c1 + 1, ':');
		if (!copy_part(spec->system, sizeof(spec->system), rest,
			       (size_t)(c1 - rest)) ||
		    !copy_part(spec->event, sizeof(spec->event), c1 + 1,
			       c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1)))
			return bad(err, errlen, spec->text, "name too long");
		if (!valid_ident(spec->system) || !valid_ident(spec->event))
			return bad(err, errlen, spec->text,
				   "SYSTEM and EVENT must be tracepoint names, e.g. tp:block:block_rq_issue");
		if (c2) {
			if (!c2[1])
				return bad(err, errlen, spec->text,
					   "empty FILTER after the last ':'");
			if (!copy_part(spec->filter, sizeof(spec->filter),
				       c2 + 1, strlen(c2 + 1)))
				return bad(err, errlen, spec->text, "filter too long");
		}
		return 0;
	}
	if (!strncmp(text, "uprobe:", 7)) {
		spec->kind = DMAKIT_SPEC_UPROBE;
		return parse_probe(spec, text + 7, err, errlen);
	}
	if (!strncmp(text, "uretprobe:", 10)) {
		spec->kind = DMAKIT_SPEC_URETPROBE;
		ret = parse_probe(spec, text + 10, err, errlen);
		if (!ret && spec->func_off)
			return bad(err, errlen, spec->text,
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
			return bad(err, errlen, spec->text, "part too long");
		if (!valid_c_ident(spec->provider) || !valid_c_ident(spec->name))
			goto usdt_bad;
		if (spec->path[0] != '/')
			return bad(err, errlen, spec->text,
				   "PATH must be absolute (uprobes name the file)");
		return 0;
usdt_bad:
		return bad(err, errlen, spec->text,
			   "expected usdt:PATH:PROVIDER:NAME, e.g. usdt:/usr/lib/libdmakit.so:dmakit:dma_start");
	}
	return bad(err, errlen, spec->text,
		   "unknown kind (expected irq, tp:, uprobe:, uretprobe:, usdt: or dmakit)");
}

int dmakit_trace_spec_check(const char *text, char *err, size_t errlen)
{
	struct dmakit_spec spec;

	return dmakit_spec_parse(&spec, text, err, errlen);
}
