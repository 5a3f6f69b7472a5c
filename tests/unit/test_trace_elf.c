// SPDX-License-Identifier: MIT
/*
 * ELF reading for uprobes, on this very test program: it carries USDT
 * probes (one with a semaphore) and known functions, so every offset the
 * parser finds can be checked against the running image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include "trace/trace_internal.h"
#include "t.h"

/*
 * With _SDT_HAS_SEMAPHORES every probe of this file has one (libdmakit's
 * own probes have none: the host usdt test covers that case).
 */
__extension__ unsigned short test_plain_semaphore
	__attribute__((unused)) __attribute__((section(".probes")));
__extension__ unsigned short test_with_sem_semaphore
	__attribute__((unused)) __attribute__((section(".probes")));

volatile long sink;

__attribute__((noinline)) void test_probe_site(long a, long b);
__attribute__((noinline)) void test_probe_site(long a, long b)
{
	DTRACE_PROBE2(test, plain, a, b);
	DTRACE_PROBE3(test, with_sem, a, b, 42);
	sink = a + b;
}

static char exe[4096];

static uintptr_t load_base;

static int find_base(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	/* the first object is the main program */
	load_base = info->dlpi_addr;
	return 1;
}

/* The bytes at @off in the file equal the bytes at @addr in memory. */
static bool file_matches_memory(uint64_t off, const void *addr, size_t len)
{
	unsigned char buf[64];
	int fd = open(exe, O_RDONLY);
	bool same;

	if (fd < 0 || pread(fd, buf, len, (off_t)off) != (ssize_t)len) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	same = !memcmp(buf, addr, len);
	return same;
}

static void func_offsets(void)
{
	uint64_t off = 0;
	char err[256];

	T_EQ(dmakit_elf_func_offset(exe, "test_probe_site", 0, &off, err,
				    sizeof(err)), 0);
	T_ASSERT(off > 0);
	T_ASSERT(file_matches_memory(off, (const void *)test_probe_site, 16));
	/* a libdmakit function linked into this program, +4 bytes */
	T_EQ(dmakit_elf_func_offset(exe, "dmakit_spec_parse", 4, &off, err,
				    sizeof(err)), 0);
	T_ASSERT(file_matches_memory(off, (const char *)dmakit_spec_parse + 4, 16));
	T_EQ(dmakit_elf_func_offset(exe, "no_such_function", 0, &off, err,
				    sizeof(err)), -ENOENT);
	T_ASSERT(strstr(err, "no_such_function"));
	/* an address in the ELF header is no place for a probe */
	T_EQ(dmakit_elf_func_offset(exe, "0x1", 0, &off, err, sizeof(err)),
	     -ENOEXEC);
	T_ASSERT(strstr(err, "executable"));
}

static void not_elf(void)
{
	uint64_t off;
	char err[256];
	struct dmakit_usdt_probe *p;

	T_EQ(dmakit_elf_func_offset("/proc/self/status", "x", 0, &off, err,
				    sizeof(err)), -ENOEXEC);
	T_EQ(dmakit_elf_func_offset("/nonexistent/lib.so", "x", 0, &off, err,
				    sizeof(err)), -ENOENT);
	T_EQ(dmakit_elf_usdt_find("/nonexistent/lib.so", "a", "b", &p, err,
				  sizeof(err)), -ENOENT);
}

static void usdt_notes(void)
{
	struct dmakit_usdt_probe *p = NULL;
	char err[256];
	int n;

	n = dmakit_elf_usdt_find(exe, "test", "plain", &p, err, sizeof(err));
	T_EQ(n, 1);
	T_STREQ(p[0].provider, "test");
	T_STREQ(p[0].name, "plain");
	T_EQ(load_base + p[0].semaphore, (uintptr_t)&test_plain_semaphore);
	T_EQ(p[0].nargs, 2);
	T_EQ(p[0].arg[0].size, 8);
	T_ASSERT(p[0].arg[0].is_signed);
	/* the probe site is a nop inside test_probe_site */
	T_ASSERT(p[0].pc_offset > 0);
	T_ASSERT(file_matches_memory(p[0].pc_offset,
				     (const void *)(load_base + p[0].pc), 1));
	T_EQ(((const unsigned char *)(load_base + p[0].pc))[0], 0x90);
	free(p);

	n = dmakit_elf_usdt_find(exe, "test", "with_sem", &p, err, sizeof(err));
	T_EQ(n, 1);
	T_ASSERT(p[0].semaphore != 0);
	T_EQ(load_base + p[0].semaphore, (uintptr_t)&test_with_sem_semaphore);
	T_ASSERT(p[0].sem_offset > 0);
	T_EQ(p[0].nargs, 3);
	T_EQ(p[0].arg[2].kind, DMAKIT_USDT_ARG_CONST);
	T_EQ(p[0].arg[2].value, 42);
	free(p);

	T_EQ(dmakit_elf_usdt_find(exe, "test", "nosuch", &p, err, sizeof(err)),
	     -ENOENT);
	T_ASSERT(strstr(err, "test:nosuch"));
}

static void usdt_args(void)
{
	struct dmakit_usdt_arg a;

	T_EQ(dmakit_usdt_parse_arg("-4@%edi", &a), 0);
	T_EQ(a.kind, DMAKIT_USDT_ARG_FETCH);
	T_STREQ(a.fetch, "%di");
	T_EQ(a.size, 4);
	T_ASSERT(a.is_signed);
	T_EQ(dmakit_usdt_parse_arg("8@%r12", &a), 0);
	T_STREQ(a.fetch, "%r12");
	T_ASSERT(!a.is_signed);
	T_EQ(dmakit_usdt_parse_arg("-4@%r12d", &a), 0);
	T_STREQ(a.fetch, "%r12");
	T_EQ(dmakit_usdt_parse_arg("1@%sil", &a), 0);
	T_STREQ(a.fetch, "%si");
	T_EQ(dmakit_usdt_parse_arg("8@-16(%rbp)", &a), 0);
	T_STREQ(a.fetch, "-16(%bp)");
	T_EQ(dmakit_usdt_parse_arg("8@8(%rsp)", &a), 0);
	T_STREQ(a.fetch, "+8(%sp)");
	T_EQ(dmakit_usdt_parse_arg("4@(%rax)", &a), 0);
	T_STREQ(a.fetch, "+0(%ax)");
	T_EQ(dmakit_usdt_parse_arg("-8@$-5", &a), 0);
	T_EQ(a.kind, DMAKIT_USDT_ARG_CONST);
	T_EQ(a.value, -5);
	/* RIP-relative globals are not reachable from a uprobe: no field */
	T_EQ(dmakit_usdt_parse_arg("4@counter(%rip)", &a), 0);
	T_EQ(a.kind, DMAKIT_USDT_ARG_UNSUPPORTED);
	T_EQ(dmakit_usdt_parse_arg("3@%rax", &a), -EINVAL);
	T_EQ(dmakit_usdt_parse_arg("8@%xmm0", &a), -EINVAL);
	T_EQ(dmakit_usdt_parse_arg("8@$x", &a), -EINVAL);
}

int main(void)
{
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0) {
		perror("readlink /proc/self/exe");
		return 1;
	}
	exe[n] = '\0';
	dl_iterate_phdr(find_base, NULL);
	test_probe_site(1, 2);
	T_RUN(func_offsets);
	T_RUN(not_elf);
	T_RUN(usdt_notes);
	T_RUN(usdt_args);
	return t_exit();
}
