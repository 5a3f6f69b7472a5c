/* SPDX-License-Identifier: MIT */
/*
 * ELF files for the tracer (elf_file.c): a 64-bit little-endian ELF file
 * mapped read-only, its section and program headers bounds-checked at
 * open; every other offset is checked with elf_file_has() before use.
 */
#ifndef DMAKIT_ELF_FILE_H
#define DMAKIT_ELF_FILE_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_file {
	const unsigned char *map;
	size_t size;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;		/* section headers */
	const char *shstr;		/* section name strings */
	size_t shstr_size;
};

/* Map @path; 0, or -errno / -ENOEXEC (not a 64-bit LE ELF) with @err. */
int elf_file_open(struct elf_file *ef, const char *path, char *err,
		  size_t errlen);
void elf_file_close(struct elf_file *ef);
/* [@off, @off + @len) lies inside the file. */
bool elf_file_has(const struct elf_file *ef, uint64_t off, uint64_t len);
/* The first section called @name, or NULL. */
const Elf64_Shdr *elf_file_section(const struct elf_file *ef,
				   const char *name);

/*
 * The separate debug file of @ef (the file at @path): by build id,
 * /usr/lib/debug/.build-id/xx/rest.debug (its build id must match), else
 * by .gnu_debuglink, NAME beside @path, in .debug/ beside it, or under
 * /usr/lib/debug/ + @path's directory (its CRC32 must match).  Writes its
 * path to @out; 0, or -ENOENT if there is none (elf_debug.c).
 */
int elf_debug_file(const struct elf_file *ef, const char *path, char *out,
		   size_t outlen);

#endif /* DMAKIT_ELF_FILE_H */
