// SPDX-License-Identifier: MIT
/*
 * Separate debug files (elf_file.h): stripped libraries keep their full
 * symbol table in a file of their own, found as gdb finds it:
 *   - by build id (.note.gnu.build-id): /usr/lib/debug/.build-id/ab/cdef...
 *     .debug, accepted if it carries the same build id;
 *   - by .gnu_debuglink (a file name and the CRC32 of that file): the name
 *     in the library's directory, in its .debug/ subdirectory, and under
 *     /usr/lib/debug/ followed by the library's directory; accepted if the
 *     CRC32 matches (a debug file of another build is never used).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "elf_file.h"

#define DEBUG_DIR	"/usr/lib/debug"
#define BUILD_ID_MAX	64

/* The build id in @ef's NT_GNU_BUILD_ID note: its length, or 0. */
static size_t build_id(const struct elf_file *ef, unsigned char *id)
{
	unsigned int i;

	for (i = 0; i < ef->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &ef->sh[i];
		uint64_t off, end;

		if (s->sh_type != SHT_NOTE ||
		    !elf_file_has(ef, s->sh_offset, s->sh_size))
			continue;
		off = s->sh_offset;
		end = s->sh_offset + s->sh_size;
		while (end - off >= sizeof(Elf64_Nhdr)) {
			const Elf64_Nhdr *nh = (const void *)(ef->map + off);
			uint64_t name = off + sizeof(*nh);
			uint64_t desc = name + ((nh->n_namesz + 3ULL) & ~3ULL);
			uint64_t next = desc + ((nh->n_descsz + 3ULL) & ~3ULL);

			if (next > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(ef->map + name, "GNU", 4) &&
			    nh->n_descsz && nh->n_descsz <= BUILD_ID_MAX) {
				memcpy(id, ef->map + desc, nh->n_descsz);
				return nh->n_descsz;
			}
			off = next;
		}
	}
	return 0;
}

static bool same_build_id(const char *path, const unsigned char *id,
			  size_t len)
{
	unsigned char other[BUILD_ID_MAX];
	struct elf_file ef;
	bool same;

	if (elf_file_open(&ef, path, NULL, 0))
		return false;
	same = build_id(&ef, other) == len && !memcmp(other, id, len);
	elf_file_close(&ef);
	return same;
}

/* CRC-32 (IEEE, as .gnu_debuglink uses) of the file at @path. */
static int file_crc32(const char *path, uint32_t *crcp)
{
	static const uint32_t poly = 0xedb88320U;
	uint32_t table[256], crc = 0xffffffffU;
	unsigned char buf[65536];
	ssize_t n;
	int fd, i, k;

	for (i = 0; i < 256; i++) {
		uint32_t c = (uint32_t)i;

		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ poly : c >> 1;
		table[i] = c;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
	close(fd);
	if (n < 0)
		return -EIO;
	*crcp = ~crc;
	return 0;
}

/* .gnu_debuglink: the name (in the map) and CRC, or NULL. */
static const char *debuglink(const struct elf_file *ef, uint32_t *crc)
{
	const Elf64_Shdr *s = elf_file_section(ef, ".gnu_debuglink");
	const char *name;
	size_t len;

	if (!s || !elf_file_has(ef, s->sh_offset, s->sh_size))
		return NULL;
	name = (const char *)ef->map + s->sh_offset;
	len = strnlen(name, s->sh_size);
	if (!len || len == s->sh_size || strchr(name, '/'))
		return NULL;
	len = (len + 4) & ~(size_t)3;	/* NUL, padded to 4 */
	if (len + 4 > s->sh_size)
		return NULL;
	memcpy(crc, name + len, 4);
	return name;
}

static bool is_file_not(const char *cand, const char *self)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (access(cand, R_OK) || !realpath(cand, a))
		return false;
	return !realpath(self, b) || strcmp(a, b);
}

int elf_debug_file(const struct elf_file *ef, const char *path, char *out,
		   size_t outlen)
{
	unsigned char id[BUILD_ID_MAX];
	char dir[PATH_MAX], cand[PATH_MAX + 64];
	const char *name, *slash;
	size_t idlen = build_id(ef, id), i;
	uint32_t crc, got;
	int n, k;

	if (idlen >= 2) {
		n = snprintf(cand, sizeof(cand), DEBUG_DIR "/.build-id/%02x/",
			     id[0]);
		for (i = 1; i < idlen && n > 0 && (size_t)n < sizeof(cand) - 3; i++)
			n += snprintf(cand + n, sizeof(cand) - (size_t)n,
				      "%02x", id[i]);
		snprintf(cand + n, sizeof(cand) - (size_t)n, ".debug");
		if (is_file_not(cand, path) && same_build_id(cand, id, idlen) &&
		    (size_t)snprintf(out, outlen, "%s", cand) < outlen)
			return 0;
	}
	name = debuglink(ef, &crc);
	if (!name)
		return -ENOENT;
	if (!realpath(path, dir))
		snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		dir[slash - dir] = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	for (k = 0; k < 3; k++) {
		int len = k == 0 ? snprintf(cand, sizeof(cand), "%s/%s", dir, name) :
			  k == 1 ? snprintf(cand, sizeof(cand), "%s/.debug/%s",
					    dir, name) :
			  snprintf(cand, sizeof(cand), DEBUG_DIR "%s/%s", dir,
				   name);

		got = ~crc;
		if (len < 0 || (size_t)len >= sizeof(cand))
			continue;
		if (is_file_not(cand, path) && !file_crc32(cand, &got) &&
		    got == crc &&
		    (size_t)snprintf(out, outlen, "%s", cand) < outlen)
			return 0;
	}
	return -ENOENT;
}
