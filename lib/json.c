// SPDX-License-Identifier: MIT
/* Minimal JSON writer and top-level member reader (see json.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

void dmakit_json_init(struct dmakit_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
}

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static void indent(struct dmakit_json *j)
{
	int i;

	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Comma, indentation and key before a value at the current depth. */
static void member(struct dmakit_json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->need_comma[j->depth])
			fputc(',', j->f);
		indent(j);
	}
	j->need_comma[j->depth] = true;
	if (key) {
		put_str(j->f, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void open_(struct dmakit_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	if (j->depth < DMAKIT_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct dmakit_json *j, char c)
{
	bool had = j->need_comma[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had)
		indent(j);
	fputc(c, j->f);
}

void dmakit_json_obj_begin(struct dmakit_json *j, const char *key)
{
	open_(j, key, '{');
}

void dmakit_json_obj_end(struct dmakit_json *j)
{
	close_(j, '}');
}

void dmakit_json_arr_begin(struct dmakit_json *j, const char *key)
{
	open_(j, key, '[');
}

void dmakit_json_arr_end(struct dmakit_json *j)
{
	close_(j, ']');
}

void dmakit_json_str(struct dmakit_json *j, const char *key, const char *v)
{
	member(j, key);
	if (v)
		put_str(j->f, v);
	else
		fputs("null", j->f);
}

void dmakit_json_u64(struct dmakit_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void dmakit_json_i64(struct dmakit_json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->f, "%lld", (long long)v);
}

void dmakit_json_double(struct dmakit_json *j, const char *key, double v)
{
	member(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.9g", v);
	else
		fputs("null", j->f);
}

void dmakit_json_bool(struct dmakit_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void dmakit_json_end(struct dmakit_json *j)
{
	fputc('\n', j->f);
}

/* --- reader --- */

static const char *skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* Skip a string starting at '"'; returns the char after it or NULL. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return NULL;
			p++;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* Skip any value; returns the char after it or NULL. */
static const char *skip_value(const char *p)
{
	int depth = 0;

	p = skip_ws(p);
	do {
		if (!*p)
			return NULL;
		if (*p == '"') {
			p = skip_string(p);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (depth == 0 && (*p == ',' || isspace((unsigned char)*p)))
			return p;
		p++;
	} while (depth > 0 || (*p && *p != ',' && *p != '}' && *p != ']' &&
			       !isspace((unsigned char)*p)));
	return p;
}

/* Find the value of top-level member @key; returns its start or NULL. */
static const char *find_member(const char *text, const char *key, int *err)
{
	size_t klen = strlen(key);
	const char *p = skip_ws(text);

	*err = -EINVAL;
	if (*p != '{')
		return NULL;
	p = skip_ws(p + 1);
	while (*p && *p != '}') {
		const char *k, *end;

		if (*p != '"')
			return NULL;
		k = p + 1;
		end = skip_string(p);
		if (!end)
			return NULL;
		p = skip_ws(end);
		if (*p != ':')
			return NULL;
		p = skip_ws(p + 1);
		if ((size_t)(end - 1 - k) == klen && !memcmp(k, key, klen)) {
			*err = 0;
			return p;
		}
		p = skip_value(p);
		if (!p)
			return NULL;
		p = skip_ws(p);
		if (*p == ',')
			p = skip_ws(p + 1);
	}
	*err = -ENOENT;
	return NULL;
}

int dmakit_json_get_u64(const char *text, const char *key, uint64_t *v)
{
	const char *p;
	char *end;
	int err;

	p = find_member(text, key, &err);
	if (!p)
		return err;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	*v = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EINVAL;
	return 0;
}

int dmakit_json_get_bool(const char *text, const char *key, bool *v)
{
	const char *p;
	int err;

	p = find_member(text, key, &err);
	if (!p)
		return err;
	if (!strncmp(p, "true", 4))
		*v = true;
	else if (!strncmp(p, "false", 5))
		*v = false;
	else
		return -EINVAL;
	return 0;
}

int dmakit_json_get_double(const char *text, const char *key, double *v)
{
	const char *p;
	char *end;
	int err;

	p = find_member(text, key, &err);
	if (!p)
		return err;
	*v = strtod(p, &end);
	if (end == p)
		return -EINVAL;
	return 0;
}

int dmakit_json_get_str(const char *text, const char *key, char *buf,
			size_t len)
{
	const char *p;
	size_t n = 0;
	int err;

	p = find_member(text, key, &err);
	if (!p)
		return err;
	if (*p != '"' || !len)
		return -EINVAL;
	for (p++; *p && *p != '"'; p++) {
		char c = *p;

		if (c == '\\') {
			p++;
			switch (*p) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case '"':
			case '\\':
			case '/':
				c = *p;
				break;
			default:
				return -EINVAL;	/* \uXXXX: not written by us */
			}
		}
		if (n + 1 >= len)
			return -EINVAL;
		buf[n++] = c;
	}
	if (*p != '"')
		return -EINVAL;
	buf[n] = '\0';
	return 0;
}
