/* SPDX-License-Identifier: MIT */
/* Helpers shared by the VM suite's test programs (header only). */
#ifndef DMAKIT_VMT_H
#define DMAKIT_VMT_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Bytes that depend on the seed and the position. */
static inline void vmt_pattern(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* A page-aligned anonymous buffer of @pages pages (NULL on failure). */
static inline uint8_t *vmt_pages(size_t pages)
{
	void *p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Write a string to a sysfs or procfs file; 0 or -errno. */
static inline int vmt_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Read an unsigned number from a file; returns -1 on failure. */
static inline long long vmt_read_num(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	return strtoll(buf, NULL, 0);
}

/* "/dev/dmakitN" -> "/sys/class/dmakit/dmakitN/<attr>" */
static inline void vmt_sysfs(char *out, size_t len, const char *dev,
			     const char *attr)
{
	const char *base = strrchr(dev, '/');

	snprintf(out, len, "/sys/class/dmakit/%s/%s", base ? base + 1 : dev,
		 attr);
}

#endif /* DMAKIT_VMT_H */
