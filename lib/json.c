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

/*
 * The UTF-8 sequence at @s (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF): its length, or 0 if it is ill-formed; then
 * *@bad is the length of its maximal subpart (the bytes that one U+FFFD
 * replaces, as Unicode recommends and Python's errors="replace" does).
 */
static size_t utf8_len(const unsigned char *s, size_t *bad)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	*bad = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (c == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (c == 0xf0)
		lo = 0x90;		/* overlong */
	else if (c == 0xf4)
		hi = 0x8f;		/* above U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf) {
			*bad = i;
			return 0;
		}
	}
	return n;
}

size_t dmakit_utf8_clean(char *dst, size_t len, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0, kept = 0, n, bad;

	while (*s) {
		const char *piece = (const char *)s;

		n = utf8_len(s, &bad);
		if (!n) {
			piece = "\xef\xbf\xbd";	/* U+FFFD */
			s += bad;
			n = 3;
		} else {
			s += n;
		}
		if (kept == out && out + n < len) {	/* whole pieces only */
			memcpy(dst + out, piece, n);
			kept += n;
		}
		out += n;
	}
	if (len)
		dst[kept] = '\0';
	return out;
}

/*
 * JSON text must be UTF-8: an ill-formed sequence (a file name in another
 * encoding) becomes U+FFFD, so the document stays readable everywhere.
 */
static void put_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		unsigned char c = *s;
		size_t n, bad;

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
			if (c < 0x20) {
				fprintf(f, "\\u%04x", c);
				break;
			}
			n = utf8_len(s, &bad);
			if (!n) {
				fputs("\xef\xbf\xbd", f);	/* U+FFFD */
				s += bad;
				continue;
			}
			fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		s++;
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

void dmakit_json_double_exact(struct dmakit_json *j, const char *key,
			      double v)
{
	char buf[32];

	member(j, key);
	if (!isfinite(v)) {
		fputs("null", j->f);
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, j->f);
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

/*
 * The top-level member at *@pp (inside the object, at a key or the '}'):
 * its key (@k, @klen: raw, as written between the quotes) and the start
 * of its value; *@pp moves to the next member.  1 for a member, 0 at the
 * end of the object, -EINVAL if malformed.
 */
static int next_member_end(const char **pp, const char **k, size_t *klen,
			   const char **val, const char **vend);

static int next_member(const char **pp, const char **k, size_t *klen,
		       const char **val)
{
	const char *vend;

	return next_member_end(pp, k, klen, val, &vend);
}

/* next_member(), also giving the end of the value (@vend). */
static int next_member_end(const char **pp, const char **k, size_t *klen,
			   const char **val, const char **vend)
{
	const char *p = skip_ws(*pp), *end;

	if (*p == '}')
		return 0;
	if (*p != '"')
		return -EINVAL;
	end = skip_string(p);
	if (!end)
		return -EINVAL;
	*k = p + 1;
	*klen = (size_t)(end - 1 - *k);
	p = skip_ws(end);
	if (*p != ':')
		return -EINVAL;
	*val = p = skip_ws(p + 1);
	p = skip_value(p);
	if (!p)
		return -EINVAL;
	*vend = p;
	p = skip_ws(p);
	if (*p == ',')
		p++;
	else if (*p != '}')
		return -EINVAL;
	*pp = p;
	return 1;
}

/* The object's members start after its '{', or NULL if it is none. */
static const char *members(const char *text)
{
	const char *p = skip_ws(text);

	return *p == '{' ? p + 1 : NULL;
}

/*
 * Find the value of top-level member @key; returns its start or NULL.
 * A key given twice is an error, not "the first wins": readers that pick
 * different ones would disagree on what the document says.
 */
static const char *find_member(const char *text, const char *key, int *err)
{
	size_t klen = strlen(key), n;
	const char *p = members(text), *k, *val, *found = NULL;
	int r;

	*err = -EINVAL;
	if (!p)
		return NULL;
	while ((r = next_member(&p, &k, &n, &val)) > 0) {
		if (n != klen || memcmp(k, key, klen))
			continue;
		if (found)
			return NULL;	/* duplicate */
		found = val;
	}
	if (r < 0)
		return NULL;
	*err = found ? 0 : -ENOENT;
	return found;
}

int dmakit_json_each(const char *text,
		     void (*fn)(void *ctx, const char *key, size_t klen,
				const char *val, size_t vlen),
		     void *ctx)
{
	const char *p = members(text), *k, *val, *vend;
	size_t n;
	int r;

	if (!p)
		return -EINVAL;
	while ((r = next_member_end(&p, &k, &n, &val, &vend)) > 0)
		fn(ctx, k, n, val, (size_t)(vend - val));
	return r;
}

int dmakit_json_dup_key(const char *text, char *key, size_t len)
{
	const char *p = members(text), *k, *val, *q, *k2, *val2;
	size_t n, n2;
	int r, r2;

	if (!p)
		return -EINVAL;
	while ((r = next_member(&p, &k, &n, &val)) > 0) {
		for (q = p; (r2 = next_member(&q, &k2, &n2, &val2)) > 0;)
			if (n2 == n && !memcmp(k, k2, n)) {
				snprintf(key, len, "%.*s", (int)n, k);
				return 1;
			}
		if (r2 < 0)
			return -EINVAL;
	}
	return r;
}

/* A scalar value ends at @p: only space, then the next member or the end. */
static bool value_ends(const char *p)
{
	p = skip_ws(p);
	return *p == ',' || *p == '}';
}

int dmakit_json_get_u64(const char *text, const char *key, uint64_t *v)
{
	const char *p;
	char *end;
	int err;

	p = find_member(text, key, &err);
	if (!p)
		return err;
	/* digits only: 3.2e1 or 32.0 is not an integer, and not read as 3 */
	if (!isdigit((unsigned char)*p) || (*p == '0' && isdigit(
	    (unsigned char)p[1])))
		return -EINVAL;
	errno = 0;
	*v = strtoull(p, &end, 10);
	if (errno || end == p || !value_ends(end))
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
	if (!strncmp(p, "true", 4) && value_ends(p + 4))
		*v = true;
	else if (!strncmp(p, "false", 5) && value_ends(p + 5))
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
	/* JSON numbers only: not "nan", "inf" or hex, which strtod takes */
	if (!isdigit((unsigned char)(*p == '-' ? p[1] : *p)))
		return -EINVAL;
	*v = strtod(p, &end);
	if (end == p || !value_ends(end) || memchr(p, 'x', (size_t)(end - p)) ||
	    memchr(p, 'X', (size_t)(end - p)))
		return -EINVAL;
	return 0;
}

/* Four hex digits at @p, or -1. */
static long hex4(const char *p)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int c = (unsigned char)p[i];

		if (!isxdigit(c))
			return -1;
		v = v * 16 + (isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
	}
	return v;
}

/*
 * Decode the \uXXXX escape (or surrogate pair) at @p (just after the
 * 'u') into UTF-8 at @out (4 bytes); return its byte count and advance
 * *@pp past the escape's last digit, or 0 if malformed.
 */
static size_t decode_u(const char **pp, char *out)
{
	const char *p = *pp;
	long cp = hex4(p), lo;
	size_t n;

	if (cp < 0)
		return 0;
	p += 3;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p[1] != '\\' || p[2] != 'u')
			return 0;
		lo = hex4(p + 3);
		if (lo < 0xdc00 || lo > 0xdfff)
			return 0;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	} else if (cp >= 0xdc00 && cp <= 0xdfff) {
		return 0;
	}
	if (cp == 0)
		return 0;		/* would end the C string */
	if (cp < 0x80) {
		out[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	*pp = p;
	return n;
}

int dmakit_json_get_str(const char *text, const char *key, char *buf,
			size_t len)
{
	const char *p;
	size_t n = 0, i, k;
	int err;

	p = find_member(text, key, &err);
	if (!p)
		return err;
	if (*p != '"' || !len)
		return -EINVAL;
	for (p++; *p && *p != '"'; p++) {
		char c[4] = { *p };

		k = 1;
		if (*p == '\\') {
			p++;
			switch (*p) {
			case 'n':
				c[0] = '\n';
				break;
			case 't':
				c[0] = '\t';
				break;
			case 'r':
				c[0] = '\r';
				break;
			case 'b':
				c[0] = '\b';
				break;
			case 'f':
				c[0] = '\f';
				break;
			case '"':
			case '\\':
			case '/':
				c[0] = *p;
				break;
			case 'u':
				p++;
				k = decode_u(&p, c);
				if (!k)
					return -EINVAL;
				break;
			default:
				return -EINVAL;
			}
		}
		if (n + k >= len)
			return -EINVAL;
		for (i = 0; i < k; i++)
			buf[n++] = c[i];
	}
	if (*p != '"')
		return -EINVAL;
	buf[n] = '\0';
	return 0;
}
