// SPDX-License-Identifier: MIT
/*
 * An ELF file mapped read-only with its headers checked (elf_file.h): the
 * one reader behind function lookups, USDT notes and debug files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "elf_file.h"

bool elf_file_has(const struct elf_file *ef, uint64_t off, uint64_t len)
{
	return off <= ef->size && len <= ef->size - off;
}

int elf_file_open(struct elf_file *ef, const char *path, char *err,
		  size_t errlen)
{
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *shs;
	struct stat st;
	void *map;
	int fd;

	memset(ef, 0, sizeof(*ef));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dmakit_errf(err, errlen, -errno, "%s: %s", path,
				   strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return dmakit_errf(err, errlen, -ENOEXEC,
				   "%s: not an ELF file", path);
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return dmakit_errf(err, errlen, -errno, "%s: mmap: %s", path,
				   strerror(errno));
	ef->map = map;
	ef->size = (size_t)st.st_size;
	eh = map;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG))
		goto bad;
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB) {
		munmap(map, ef->size);
		ef->map = NULL;
		return dmakit_errf(err, errlen, -ENOEXEC,
				   "%s: only 64-bit little-endian ELF files are supported",
				   path);
	}
	if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !elf_file_has(ef, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)) ||
	    eh->e_shstrndx >= eh->e_shnum)
		goto bad;
	if (eh->e_phnum && (eh->e_phentsize != sizeof(Elf64_Phdr) ||
			    !elf_file_has(ef, eh->e_phoff,
				     (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr))))
		goto bad;
	ef->eh = eh;
	shs = (const Elf64_Shdr *)(ef->map + eh->e_shoff);
	ef->sh = shs;
	if (!elf_file_has(ef, shs[eh->e_shstrndx].sh_offset,
		     shs[eh->e_shstrndx].sh_size))
		goto bad;
	ef->shstr = (const char *)ef->map + shs[eh->e_shstrndx].sh_offset;
	ef->shstr_size = shs[eh->e_shstrndx].sh_size;
	return 0;
bad:
	munmap(map, ef->size);
	ef->map = NULL;
	return dmakit_errf(err, errlen, -ENOEXEC, "%s: malformed ELF file",
			   path);
}

void elf_file_close(struct elf_file *ef)
{
	if (ef->map)
		munmap((void *)ef->map, ef->size);
	ef->map = NULL;
}

static const char *section_name(const struct elf_file *ef,
				const Elf64_Shdr *s)
{
	if (s->sh_name >= ef->shstr_size ||
	    !memchr(ef->shstr + s->sh_name, '\0', ef->shstr_size - s->sh_name))
		return "";
	return ef->shstr + s->sh_name;
}

const Elf64_Shdr *elf_file_section(const struct elf_file *ef,
				   const char *name)
{
	unsigned int i;

	for (i = 0; i < ef->eh->e_shnum; i++)
		if (!strcmp(section_name(ef, &ef->sh[i]), name))
			return &ef->sh[i];
	return NULL;
}

