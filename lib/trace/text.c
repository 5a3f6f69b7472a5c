// SPDX-License-Identifier: MIT
/*
 * Small text helpers of the tracing code: whole (small) files read at
 * once (sysfs, procfs, tracefs), bounded string copies, shell-style
 * patterns for vector names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "trace_internal.h"

int dmakit_read_text(const char *path, char **text, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *grown;
	ssize_t r;
	int fd;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		if (cap - n < 2) {
			grown = realloc(buf, cap * 2);
			if (!grown) {
				close(fd);
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			close(fd);
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	if (len)
		*len = n;
	return 0;
}

void dmakit_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool dmakit_glob_match(const char *pat, const char *s)
{
	if (!*pat)
		return !*s;
	if (*pat == '*')
		return dmakit_glob_match(pat + 1, s) ||
		       (*s && dmakit_glob_match(pat, s + 1));
	if (*s && (*pat == '?' || *pat == *s))
		return dmakit_glob_match(pat + 1, s + 1);
	return false;
}
