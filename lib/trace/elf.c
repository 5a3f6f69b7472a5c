// SPDX-License-Identifier: MIT
/*
 * ELF files for uprobes: a function's file offset from the symbol tables,
 * and USDT probe sites from .note.stapsdt (the sys/sdt.h notes).
 *
 * A uprobe is placed at a file offset, so every virtual address found here
 * is converted through the PT_LOAD program headers.  Each USDT note holds
 * three addresses (probe pc, .stapsdt.base as linked, semaphore), then
 * "provider\0name\0args\0"; when the file was prelinked the note's base
 * differs from the .stapsdt.base section's address and pc and semaphore
 * move by the same amount.  The whole file is mapped read-only and every
 * offset is bounds-checked before use.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "trace_internal.h"
#include "elf_file.h"

#define NT_STAPSDT 3

/*
 * Virtual address -> file offset through the PT_LOAD segments; @code: the
 * segment must be executable (a probe site, not a semaphore).
 */
static int vaddr_to_offset(const struct elf_file *ef, uint64_t vaddr,
			   bool code, uint64_t *off)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(ef->map + ef->eh->e_phoff);
	unsigned int i;

	for (i = 0; i < ef->eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || (code && !(ph[i].p_flags & PF_X)))
			continue;
		if (vaddr >= ph[i].p_vaddr &&
		    vaddr - ph[i].p_vaddr < ph[i].p_filesz) {
			*off = vaddr - ph[i].p_vaddr + ph[i].p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

/* Look @sym up in one symbol table section; 0 and *value, or -ENOENT. */
static int lookup_in(const struct elf_file *ef, const Elf64_Shdr *symtab,
		     const char *sym, uint64_t *value)
{
	const Elf64_Shdr *strtab;
	const Elf64_Sym *syms;
	const char *strs;
	size_t n, i, len = strlen(sym);

	if (symtab->sh_link >= ef->eh->e_shnum ||
	    symtab->sh_entsize != sizeof(Elf64_Sym) ||
	    !elf_file_has(ef, symtab->sh_offset, symtab->sh_size))
		return -ENOENT;
	strtab = &ef->sh[symtab->sh_link];
	if (!elf_file_has(ef, strtab->sh_offset, strtab->sh_size))
		return -ENOENT;
	syms = (const Elf64_Sym *)(ef->map + symtab->sh_offset);
	strs = (const char *)ef->map + strtab->sh_offset;
	n = symtab->sh_size / sizeof(Elf64_Sym);
	for (i = 0; i < n; i++) {
		const char *name;
		int type = ELF64_ST_TYPE(syms[i].st_info);

		if (syms[i].st_name >= strtab->sh_size ||
		    syms[i].st_shndx == SHN_UNDEF || !syms[i].st_value)
			continue;
		if (type != STT_FUNC && type != STT_GNU_IFUNC &&
		    type != STT_NOTYPE)
			continue;
		name = strs + syms[i].st_name;
		if (strtab->sh_size - syms[i].st_name <= len)
			continue;
		/* "dma_wait" also matches the versioned "dma_wait@@V1" */
		if (!strncmp(name, sym, len) &&
		    (name[len] == '\0' || name[len] == '@')) {
			*value = syms[i].st_value;
			return 0;
		}
	}
	return -ENOENT;
}

/* @sym in @ef's tables: .symtab first (it also has static functions). */
static int lookup_sym(const struct elf_file *ef, const char *sym,
		      uint64_t *vaddr)
{
	unsigned int i;
	int ret = -ENOENT;

	for (i = 0; i < ef->eh->e_shnum && ret; i++)
		if (ef->sh[i].sh_type == SHT_SYMTAB)
			ret = lookup_in(ef, &ef->sh[i], sym, vaddr);
	for (i = 0; i < ef->eh->e_shnum && ret; i++)
		if (ef->sh[i].sh_type == SHT_DYNSYM)
			ret = lookup_in(ef, &ef->sh[i], sym, vaddr);
	return ret;
}

/*
 * @sym in the separate debug file of @ef (a stripped library): the
 * address is the library's (the debug file's program headers describe no
 * file contents); @debug receives the file's path for messages.
 */
static int lookup_debug_sym(const struct elf_file *ef, const char *path,
			    const char *sym, uint64_t *vaddr, char *debug,
			    size_t debuglen)
{
	struct elf_file dbg;
	int ret;

	debug[0] = '\0';
	if (elf_debug_file(ef, path, debug, debuglen))
		return -ENOENT;
	if (elf_file_open(&dbg, debug, NULL, 0))
		return -ENOENT;
	ret = lookup_sym(&dbg, sym, vaddr);
	elf_file_close(&dbg);
	return ret;
}

int dmakit_elf_func_offset(const char *path, const char *sym, uint64_t add,
			   uint64_t *offset, char *err, size_t errlen)
{
	struct elf_file ef;
	char debug[4096];
	uint64_t vaddr = 0;
	int ret;

	ret = elf_file_open(&ef, path, err, errlen);
	if (ret)
		return ret;
	if (!strncmp(sym, "0x", 2)) {
		char *end;

		vaddr = strtoull(sym, &end, 16);
		ret = (*end || end == sym + 2) ? -EINVAL : 0;
		if (ret) {
			elf_file_close(&ef);
			return dmakit_errf(err, errlen, -EINVAL,
					   "bad address '%s'", sym);
		}
	} else if (lookup_sym(&ef, sym, &vaddr) &&
		   lookup_debug_sym(&ef, path, sym, &vaddr, debug,
				    sizeof(debug))) {
		elf_file_close(&ef);
		if (debug[0])
			return dmakit_errf(err, errlen, -ENOENT,
					   "%s: no function '%s' in its symbol tables nor in its debug file %s",
					   path, sym, debug);
		return dmakit_errf(err, errlen, -ENOENT,
				   "%s: no function '%s' in its symbol tables (no separate debug file found by build id or .gnu_debuglink)",
				   path, sym);
	}
	ret = vaddr_to_offset(&ef, vaddr + add, true, offset);
	elf_file_close(&ef);
	if (ret)
		return dmakit_errf(err, errlen, -ENOEXEC,
				   "%s: address 0x%llx of '%s' is not in an executable segment",
				   path, (unsigned long long)(vaddr + add), sym);
	return 0;
}

/* x86-64 register names as gas writes them -> pt_regs names for uprobes. */
static const char *reg_name(const char *r, size_t len)
{
	static const struct {
		const char *pt;
		const char *names[4];
	} regs[] = {
		{ "ax", { "rax", "eax", "ax", "al" } },
		{ "bx", { "rbx", "ebx", "bx", "bl" } },
		{ "cx", { "rcx", "ecx", "cx", "cl" } },
		{ "dx", { "rdx", "edx", "dx", "dl" } },
		{ "si", { "rsi", "esi", "si", "sil" } },
		{ "di", { "rdi", "edi", "di", "dil" } },
		{ "bp", { "rbp", "ebp", "bp", "bpl" } },
		{ "sp", { "rsp", "esp", "sp", "spl" } },
		{ "ip", { "rip", "eip", "ip", "" } },
	};
	static const char *const rn[] = {
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	size_t i, k;

	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		for (k = 0; k < 4; k++)
			if (strlen(regs[i].names[k]) == len &&
			    !strncmp(regs[i].names[k], r, len))
				return regs[i].pt;
	/* r8..r15 with an optional d/w/b suffix */
	for (i = 0; i < 8; i++) {
		size_t l = strlen(rn[i]);

		if (len >= l && !strncmp(r, rn[i], l) &&
		    (len == l || (len == l + 1 &&
				  strchr("dwb", r[l]))))
			return rn[i];
	}
	return NULL;
}

int dmakit_usdt_parse_arg(const char *text, struct dmakit_usdt_arg *arg)
{
	const char *p = text, *at = strchr(text, '@');
	const char *reg;
	char *end;
	long size = 8;

	memset(arg, 0, sizeof(*arg));
	arg->kind = DMAKIT_USDT_ARG_UNSUPPORTED;
	if (at) {
		size = strtol(text, &end, 10);
		if (end != at)
			return -EINVAL;
		p = at + 1;
	}
	arg->is_signed = size < 0;
	arg->size = (int)(size < 0 ? -size : size);
	if (arg->size != 1 && arg->size != 2 && arg->size != 4 &&
	    arg->size != 8)
		return -EINVAL;
	if (*p == '$') {			/* constant */
		errno = 0;
		arg->value = strtoll(p + 1, &end, 0);
		if (errno || end == p + 1 || *end)
			return -EINVAL;
		arg->kind = DMAKIT_USDT_ARG_CONST;
		return 0;
	}
	if (*p == '%') {			/* register */
		reg = reg_name(p + 1, strlen(p + 1));
		if (!reg)
			return -EINVAL;
		if (!strcmp(reg, "ip"))
			return 0;		/* unsupported */
		snprintf(arg->fetch, sizeof(arg->fetch), "%%%s", reg);
		arg->kind = DMAKIT_USDT_ARG_FETCH;
		return 0;
	}
	/* memory: [OFFSET](%reg); a symbol(%rip) form stays unsupported */
	{
		long long off = 0;
		const char *lp = strchr(p, '('), *rp;

		if (!lp)
			return -EINVAL;
		rp = strchr(lp, ')');
		if (!rp || rp[1] || lp[1] != '%')
			return -EINVAL;
		if (lp != p) {
			errno = 0;
			off = strtoll(p, &end, 0);
			if (errno || end != lp)
				return 0;	/* symbolic: unsupported */
		}
		reg = reg_name(lp + 2, (size_t)(rp - lp - 2));
		if (!reg)
			return -EINVAL;
		if (!strcmp(reg, "ip"))
			return 0;
		snprintf(arg->fetch, sizeof(arg->fetch), "%+lld(%%%s)", off,
			 reg);
		arg->kind = DMAKIT_USDT_ARG_FETCH;
		return 0;
	}
}

static int parse_args(struct dmakit_usdt_probe *p)
{
	char buf[sizeof(p->args)], *tok, *save = NULL;
	int ret;

	snprintf(buf, sizeof(buf), "%s", p->args);
	p->nargs = 0;
	for (tok = strtok_r(buf, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (p->nargs == DMAKIT_USDT_MAX_ARGS)
			return -E2BIG;
		ret = dmakit_usdt_parse_arg(tok, &p->arg[p->nargs]);
		if (ret)
			return ret;
		p->nargs++;
	}
	return 0;
}

int dmakit_elf_usdt_find(const char *path, const char *provider,
			 const char *name, struct dmakit_usdt_probe **probes,
			 char *err, size_t errlen)
{
	const Elf64_Shdr *notes, *base_sec;
	struct dmakit_usdt_probe *out = NULL;
	struct elf_file ef;
	uint64_t pos, end;
	int n = 0, ret;

	*probes = NULL;
	ret = elf_file_open(&ef, path, err, errlen);
	if (ret)
		return ret;
	notes = elf_file_section(&ef, ".note.stapsdt");
	base_sec = elf_file_section(&ef, ".stapsdt.base");
	if (!notes || !elf_file_has(&ef, notes->sh_offset, notes->sh_size)) {
		elf_file_close(&ef);
		return dmakit_errf(err, errlen, -ENOENT,
				   "%s: no USDT probes (.note.stapsdt)", path);
	}
	pos = notes->sh_offset;
	end = notes->sh_offset + notes->sh_size;
	while (end - pos >= sizeof(Elf64_Nhdr)) {
		const Elf64_Nhdr *nh = (const void *)(ef.map + pos);
		uint64_t namesz = (nh->n_namesz + 3) & ~3ULL;
		uint64_t descsz = (nh->n_descsz + 3) & ~3ULL;
		const char *owner = (const char *)(nh + 1);
		const unsigned char *desc = (const unsigned char *)owner + namesz;
		const char *s, *dend;
		uint64_t addr[3];
		struct dmakit_usdt_probe p;

		if (namesz + descsz > end - pos - sizeof(*nh))
			break;
		pos += sizeof(*nh) + namesz + descsz;
		if (nh->n_type != NT_STAPSDT || nh->n_namesz != 8 ||
		    memcmp(owner, "stapsdt", 8) || nh->n_descsz < 3 * 8 + 3)
			continue;
		memcpy(addr, desc, sizeof(addr));
		s = (const char *)desc + sizeof(addr);
		dend = (const char *)desc + nh->n_descsz;
		memset(&p, 0, sizeof(p));
		/* provider, name, args: three NUL-terminated strings */
		if (!memchr(s, '\0', (size_t)(dend - s)))
			continue;
		snprintf(p.provider, sizeof(p.provider), "%s", s);
		s += strlen(s) + 1;
		if (s >= dend || !memchr(s, '\0', (size_t)(dend - s)))
			continue;
		snprintf(p.name, sizeof(p.name), "%s", s);
		s += strlen(s) + 1;
		if (s < dend && memchr(s, '\0', (size_t)(dend - s)))
			snprintf(p.args, sizeof(p.args), "%s", s);
		if (strcmp(p.provider, provider) || strcmp(p.name, name))
			continue;
		p.pc = addr[0];
		p.semaphore = addr[2];
		if (base_sec && addr[1] != base_sec->sh_addr) {
			p.pc += base_sec->sh_addr - addr[1];
			if (p.semaphore)
				p.semaphore += base_sec->sh_addr - addr[1];
		}
		if (vaddr_to_offset(&ef, p.pc, true, &p.pc_offset) ||
		    (p.semaphore &&
		     vaddr_to_offset(&ef, p.semaphore, false, &p.sem_offset))) {
			ret = dmakit_errf(err, errlen, -ENOEXEC,
					  "%s: USDT %s:%s address outside loadable segments",
					  path, provider, name);
			goto fail;
		}
		if (parse_args(&p)) {
			ret = dmakit_errf(err, errlen, -ENOEXEC,
					  "%s: USDT %s:%s: cannot read arguments '%s'",
					  path, provider, name, p.args);
			goto fail;
		}
		{
			struct dmakit_usdt_probe *grown =
				realloc(out, (size_t)(n + 1) * sizeof(*out));

			if (!grown) {
				ret = dmakit_errf(err, errlen, -ENOMEM,
						  "out of memory");
				goto fail;
			}
			out = grown;
			out[n++] = p;
		}
	}
	elf_file_close(&ef);
	if (!n)
		return dmakit_errf(err, errlen, -ENOENT,
				   "%s: no USDT probe %s:%s", path, provider,
				   name);
	*probes = out;
	return n;
fail:
	free(out);
	elf_file_close(&ef);
	return ret;
}

int dmakit_elf_machine(const char *path, unsigned int *machine, char *err,
		       size_t errlen)
{
	struct elf_file ef;
	int ret;

	ret = elf_file_open(&ef, path, err, errlen);
	if (ret)
		return ret;
	*machine = ef.eh->e_machine;
	elf_file_close(&ef);
	return 0;
}

/*
 * Integer arguments in registers: x86-64 System V (rdi, rsi, rdx, rcx,
 * r8, r9) and AAPCS64 (x0..x7); later ones are on the stack, where their
 * place depends on the types before them, so they are not offered.
 */
int dmakit_abi_arg_fetch(unsigned int machine, unsigned int argn, char *buf,
			 size_t len)
{
	static const char *const x86_64[] = {
		"%di", "%si", "%dx", "%cx", "%r8", "%r9",
	};

	if (!argn)
		return -ERANGE;
	switch (machine) {
	case EM_X86_64:
		if (argn > sizeof(x86_64) / sizeof(x86_64[0]))
			return -ERANGE;
		snprintf(buf, len, "%s", x86_64[argn - 1]);
		return 0;
	case EM_AARCH64:
		if (argn > 8)
			return -ERANGE;
		snprintf(buf, len, "%%x%u", argn - 1);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}
