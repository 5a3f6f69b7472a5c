// SPDX-License-Identifier: MIT
/*
 * lib/json.c: every string it writes is valid UTF-8 JSON whatever bytes it
 * was given (a file name with byte 0xff), and the reader decodes what the
 * writer escapes (\u00XX control characters, \uXXXX with surrogate pairs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "t.h"

/* The document {"s": @v} as the writer writes it (malloc'd). */
static char *write_str(const char *v)
{
	struct dmakit_json j;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	dmakit_json_init(&j, f, false);
	dmakit_json_obj_begin(&j, NULL);
	dmakit_json_str(&j, "s", v);
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
	fclose(f);
	return text;
}

static void valid_utf8_kept(void)
{
	/* é, €, U+1F600: written as they are and read back */
	const char *v = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	char *text = write_str(v), buf[64];

	T_ASSERT(text);
	T_ASSERT(strstr(text, v));
	T_EQ(dmakit_json_get_str(text, "s", buf, sizeof(buf)), 0);
	free(text);
	T_STREQ(buf, v);
}

static void invalid_bytes_replaced(void)
{
	/* a lone 0xff, a cut sequence, an overlong '/', a surrogate, > U+10FFFF */
	static const struct { const char *in, *out; } cases[] = {
		{ "run\xff.dat", "run\xef\xbf\xbd.dat" },
		{ "a\xc3", "a\xef\xbf\xbd" },
		/* a cut 3-byte sequence is one maximal subpart: one U+FFFD */
		{ "\xe2\x82x", "\xef\xbf\xbdx" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx" },
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = write_str(cases[i].in);
		int ret;

		T_ASSERT(text);
		ret = dmakit_json_get_str(text, "s", buf, sizeof(buf));
		free(text);
		T_EQ(ret, 0);
		T_STREQ(buf, cases[i].out);
	}
}

static void clean_copies(void)
{
	char buf[16];

	T_EQ(dmakit_utf8_clean(buf, sizeof(buf), "ab\xff"), 5);
	T_STREQ(buf, "ab\xef\xbf\xbd");
	/* cut to the buffer, still NUL-terminated */
	T_EQ(dmakit_utf8_clean(buf, 4, "abcdef"), 6);
	T_STREQ(buf, "abc");
}

static void escapes_decoded(void)
{
	char *text = write_str("tab\tbell\a"), buf[64];

	T_ASSERT(text);
	T_ASSERT(strstr(text, "\\u0007"));
	T_EQ(dmakit_json_get_str(text, "s", buf, sizeof(buf)), 0);
	free(text);
	T_STREQ(buf, "tab\tbell\a");
	T_EQ(dmakit_json_get_str("{\"s\": \"\\u00e9\\ud83d\\ude00\\/\"}", "s",
				 buf, sizeof(buf)), 0);
	T_STREQ(buf, "\xc3\xa9\xf0\x9f\x98\x80/");
	/* a lone low surrogate, a cut escape, NUL: refused */
	T_EQ(dmakit_json_get_str("{\"s\": \"\\udc00\"}", "s", buf, 64), -EINVAL);
	T_EQ(dmakit_json_get_str("{\"s\": \"\\u00\"}", "s", buf, 64), -EINVAL);
	T_EQ(dmakit_json_get_str("{\"s\": \"\\u0000\"}", "s", buf, 64), -EINVAL);
	/* too long for the buffer */
	T_EQ(dmakit_json_get_str("{\"s\": \"\\u20ac\"}", "s", buf, 3), -EINVAL);
}

/* Integers are integers; a key given twice is refused, not first-wins. */
static void strict_reader(void)
{
	uint64_t u;
	double d;
	bool b;
	char key[16];

	T_EQ(dmakit_json_get_u64("{\"n\": 32}", "n", &u), 0);
	T_EQ(u, 32);
	T_EQ(dmakit_json_get_u64("{\"n\": 3.2e1}", "n", &u), -EINVAL);
	T_EQ(dmakit_json_get_u64("{\"n\": 32.0}", "n", &u), -EINVAL);
	T_EQ(dmakit_json_get_u64("{\"n\": 2097152.9}", "n", &u), -EINVAL);
	T_EQ(dmakit_json_get_u64("{\"n\": 032}", "n", &u), -EINVAL);
	T_EQ(dmakit_json_get_u64("{\"n\": 32x}", "n", &u), -EINVAL);
	T_EQ(dmakit_json_get_u64("{\"n\": 1, \"n\": 2}", "n", &u), -EINVAL);
	T_EQ(dmakit_json_get_u64("{\"m\": 1, \"n\": 2}", "n", &u), 0);
	T_EQ(u, 2);
	T_EQ(dmakit_json_get_double("{\"x\": -1.5e3}", "x", &d), 0);
	T_ASSERT(d == -1500);
	T_EQ(dmakit_json_get_double("{\"x\": nan}", "x", &d), -EINVAL);
	T_EQ(dmakit_json_get_double("{\"x\": -inf}", "x", &d), -EINVAL);
	T_EQ(dmakit_json_get_double("{\"x\": 0x10}", "x", &d), -EINVAL);
	T_EQ(dmakit_json_get_double("{\"x\": 1.5q}", "x", &d), -EINVAL);
	T_EQ(dmakit_json_get_bool("{\"b\": truex}", "b", &b), -EINVAL);
	T_EQ(dmakit_json_get_bool("{\"b\": true }", "b", &b), 0);
	T_EQ(dmakit_json_dup_key("{\"a\": 1, \"b\": {\"a\": 2}}", key,
				 sizeof(key)), 0);
	T_EQ(dmakit_json_dup_key("{\"a\": 1, \"b\": 2, \"b\": 3}", key,
				 sizeof(key)), 1);
	T_STREQ(key, "b");
	T_EQ(dmakit_json_dup_key("[1]", key, sizeof(key)), -EINVAL);
}

static void each_cb(void *ctx, const char *key, size_t klen,
		    const char *val, size_t vlen)
{
	char *out = ctx;

	snprintf(out + strlen(out), 256 - strlen(out), "%.*s=%.*s;",
		 (int)klen, key, (int)vlen, val);
}

/* Members in order, values raw as written (what fingerprints are of). */
static void each_member(void)
{
	char out[256] = "";

	T_EQ(dmakit_json_each("{\"a\": 1, \"b\" : \"x\\\"y\",\n \"c\": {\"d\": [1, 2]}, \"e\": -1.5}",
			      each_cb, out), 0);
	T_STREQ(out, "a=1;b=\"x\\\"y\";c={\"d\": [1, 2]};e=-1.5;");
	out[0] = '\0';
	T_EQ(dmakit_json_each("[1]", each_cb, out), -EINVAL);
	T_STREQ(out, "");
}

int main(void)
{
	T_RUN(valid_utf8_kept);
	T_RUN(invalid_bytes_replaced);
	T_RUN(clean_copies);
	T_RUN(escapes_decoded);
	T_RUN(strict_reader);
	T_RUN(each_member);
	return t_exit();
}
