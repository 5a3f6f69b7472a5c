/* SPDX-License-Identifier: MIT */
/*
 * Minimal JSON for metadata, summaries and event streams: a streaming
 * writer and a reader of top-level scalar members.  Internal to dmakit
 * (the CLI uses it too); not part of the installed API.
 */
#ifndef DMAKIT_JSON_H
#define DMAKIT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define DMAKIT_JSON_MAX_DEPTH 16

struct dmakit_json {
	FILE *f;
	int depth;
	bool pretty;
	bool need_comma[DMAKIT_JSON_MAX_DEPTH];
};

/* @pretty: newlines and indentation; otherwise one line (JSON Lines). */
void dmakit_json_init(struct dmakit_json *j, FILE *f, bool pretty);
/* @key is NULL inside arrays and for the top-level value. */
void dmakit_json_obj_begin(struct dmakit_json *j, const char *key);
void dmakit_json_obj_end(struct dmakit_json *j);
void dmakit_json_arr_begin(struct dmakit_json *j, const char *key);
void dmakit_json_arr_end(struct dmakit_json *j);
void dmakit_json_str(struct dmakit_json *j, const char *key, const char *v);
void dmakit_json_u64(struct dmakit_json *j, const char *key, uint64_t v);
void dmakit_json_i64(struct dmakit_json *j, const char *key, int64_t v);
void dmakit_json_double(struct dmakit_json *j, const char *key, double v);
/* As many digits as it takes to read back the same double (%.9g above). */
void dmakit_json_double_exact(struct dmakit_json *j, const char *key,
			      double v);
void dmakit_json_bool(struct dmakit_json *j, const char *key, bool v);
/*
 * @src with every ill-formed UTF-8 sequence replaced by U+FFFD, as the
 * writer writes strings, into @dst (@len bytes, NUL-terminated, cut if
 * short).  Returns the length it needed (without the NUL).
 */
size_t dmakit_utf8_clean(char *dst, size_t len, const char *src);
/* Ends the top-level value with a newline. */
void dmakit_json_end(struct dmakit_json *j);

/*
 * Read a top-level member of the object in @text (NUL-terminated).
 * Return 0, -ENOENT if absent, -EINVAL if malformed, of another type (an
 * integer must be written as one: not 32.0 or 3.2e1) or given twice.
 */
int dmakit_json_get_u64(const char *text, const char *key, uint64_t *v);
int dmakit_json_get_double(const char *text, const char *key, double *v);
int dmakit_json_get_bool(const char *text, const char *key, bool *v);
int dmakit_json_get_str(const char *text, const char *key, char *buf,
			size_t len);
/*
 * Call @fn for each top-level member of the object @text, in order: its
 * key and value as written (raw: quotes and escapes included for a
 * string).  Return 0, or -EINVAL if @text is not a well-formed object
 * (members before the fault have been passed).
 */
int dmakit_json_each(const char *text,
		     void (*fn)(void *ctx, const char *key, size_t klen,
				const char *val, size_t vlen),
		     void *ctx);

/*
 * 1 if a top-level key of @text appears twice (the first such key into
 * @key, @len bytes), 0 if none does, -EINVAL if @text is not an object.
 */
int dmakit_json_dup_key(const char *text, char *key, size_t len);

#endif /* DMAKIT_JSON_H */
