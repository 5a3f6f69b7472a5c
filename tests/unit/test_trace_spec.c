// SPDX-License-Identifier: MIT
/* SPEC strings: every kind parses into its parts, bad ones are explained. */
#include <elf.h>
#include <errno.h>
#include "trace/trace_internal.h"
#include "t.h"

static void good_specs(void)
{
	struct dmakit_spec s;
	char err[256];

	T_EQ(dmakit_spec_parse(&s, "irq", err, sizeof(err)), 0);
	T_EQ(s.kind, DMAKIT_SPEC_IRQ);
	T_STREQ(s.irq_sel, "");
	T_EQ(dmakit_spec_parse(&s, "irq:35,36", err, sizeof(err)), 0);
	T_STREQ(s.irq_sel, "35,36");
	T_EQ(dmakit_spec_parse(&s, "irq:*req*", err, sizeof(err)), 0);
	T_STREQ(s.irq_sel, "*req*");

	T_EQ(dmakit_spec_parse(&s, "tp:block:block_rq_issue", err, sizeof(err)), 0);
	T_EQ(s.kind, DMAKIT_SPEC_TP);
	T_STREQ(s.system, "block");
	T_STREQ(s.event, "block_rq_issue");
	T_STREQ(s.filter, "");
	/* the filter is everything after the third colon, colons included */
	T_EQ(dmakit_spec_parse(&s, "tp:dma:dma_map_sg:nents > 1 && x == 2", err,
			       sizeof(err)), 0);
	T_STREQ(s.system, "dma");
	T_STREQ(s.filter, "nents > 1 && x == 2");

	T_EQ(dmakit_spec_parse(&s, "uprobe:/opt/lib/libcard.so:dma_from_host",
			       err, sizeof(err)), 0);
	T_EQ(s.kind, DMAKIT_SPEC_UPROBE);
	T_STREQ(s.path, "/opt/lib/libcard.so");
	T_STREQ(s.func, "dma_from_host");
	T_EQ(s.func_off, 0);
	T_EQ(dmakit_spec_parse(&s, "uprobe:/a:b/c.so:f+0x10", err, sizeof(err)), 0);
	T_STREQ(s.path, "/a:b/c.so");
	T_STREQ(s.func, "f");
	T_EQ(s.func_off, 16);
	T_EQ(dmakit_spec_parse(&s, "uprobe:/bin/x:0x1139", err, sizeof(err)), 0);
	T_STREQ(s.func, "0x1139");
	T_EQ(dmakit_spec_parse(&s, "uretprobe:/lib/x.so:dma_wait", err, sizeof(err)), 0);
	T_EQ(s.kind, DMAKIT_SPEC_URETPROBE);

	T_EQ(dmakit_spec_parse(&s, "usdt:/usr/lib/libdmakit.so:dmakit:dma_start",
			       err, sizeof(err)), 0);
	T_EQ(s.kind, DMAKIT_SPEC_USDT);
	T_STREQ(s.path, "/usr/lib/libdmakit.so");
	T_STREQ(s.provider, "dmakit");
	T_STREQ(s.name, "dma_start");

	T_EQ(dmakit_spec_parse(&s, "dmakit", err, sizeof(err)), 0);
	T_EQ(s.kind, DMAKIT_SPEC_DMAKIT);
	T_STREQ(dmakit_spec_kind_name(DMAKIT_SPEC_USDT), "usdt");
}

/* named arguments: "(NAME=argN[:TYPE],...)" and "(NAME=retval)" */
static void probe_args(void)
{
	struct dmakit_spec s;
	char err[256];

	T_EQ(dmakit_spec_parse(&s, "uprobe:/opt/lib/libcard.so:dma_to_host(chan=arg1:s32,bytes=arg4)",
			       err, sizeof(err)), 0);
	T_STREQ(s.path, "/opt/lib/libcard.so");
	T_STREQ(s.func, "dma_to_host");
	T_EQ(s.nargs, 2);
	T_STREQ(s.arg[0].name, "chan");
	T_EQ(s.arg[0].argn, 1);
	T_STREQ(s.arg[0].type, "s32");
	T_STREQ(s.arg[1].name, "bytes");
	T_EQ(s.arg[1].argn, 4);
	T_STREQ(s.arg[1].type, "u64");
	/* the whole SPEC is kept for messages */
	T_STREQ(s.text, "uprobe:/opt/lib/libcard.so:dma_to_host(chan=arg1:s32,bytes=arg4)");
	T_EQ(dmakit_spec_parse(&s, "uprobe:/a:b/c.so:f+0x10(x=arg2)", err, sizeof(err)), 0);
	T_STREQ(s.path, "/a:b/c.so");
	T_EQ(s.func_off, 16);
	T_EQ(s.arg[0].argn, 2);
	T_EQ(dmakit_spec_parse(&s, "uretprobe:/lib/x.so:dma_wait(ret=retval:s32)",
			       err, sizeof(err)), 0);
	T_EQ(s.kind, DMAKIT_SPEC_URETPROBE);
	T_STREQ(s.func, "dma_wait");
	T_EQ(s.arg[0].argn, 0);
	T_STREQ(s.arg[0].type, "s32");
	T_EQ(dmakit_spec_parse(&s, "usdt:/usr/lib/libdmakit.so:dmakit:dma_start(id=arg2,bytes=arg4)",
			       err, sizeof(err)), 0);
	T_STREQ(s.name, "dma_start");
	T_EQ(s.nargs, 2);
	/* a tracepoint filter may end in ')': not an argument list */
	T_EQ(dmakit_spec_parse(&s, "tp:dma:dma_map_phys:(size > 4096)", err, sizeof(err)), 0);
	T_STREQ(s.filter, "(size > 4096)");
	T_EQ(s.nargs, 0);
}

static void bad_args(void)
{
	static const struct {
		const char *spec, *says;
	} bad[] = {
		{ "uprobe:/l.so:f()", "empty argument list" },
		{ "uprobe:/l.so:f(chan)", "NAME=argN" },
		{ "uprobe:/l.so:f(chan=x1)", "NAME=argN" },
		{ "uprobe:/l.so:f(chan=arg0)", "from arg1" },
		{ "uprobe:/l.so:f(chan=arg13)", "from arg1" },
		{ "uprobe:/l.so:f(chan=arg1:u128)", "TYPE" },
		{ "uprobe:/l.so:f(9x=arg1)", "C identifier" },
		{ "uprobe:/l.so:f(common_pid=arg1)", "C identifier" },
		{ "uprobe:/l.so:f(a=arg1,a=arg2)", "twice" },
		{ "uprobe:/l.so:f(r=retval)", "only known at a uretprobe" },
		{ "uretprobe:/l.so:f(a=arg1)", "only retval" },
		{ "usdt:/l.so:p:n(r=retval)", "only known at a uretprobe" },
		{ "uprobe:/l.so:f)", "without '('" },
		{ "uprobe:/l.so:f(a=arg1,b=arg2,c=arg3,d=arg4,e=arg5,f=arg6,g=arg7,h=arg8,i=arg9)",
		  "at most 8" },
	};
	struct dmakit_spec s;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (dmakit_spec_parse(&s, bad[i].spec, err, sizeof(err)) != -EINVAL)
			T_FAIL("'%s' was accepted", bad[i].spec);
		if (!strstr(err, bad[i].says))
			T_FAIL("'%s': message '%s' does not say '%s'",
			       bad[i].spec, err, bad[i].says);
	}
}

/* x86-64 System V and AAPCS64 integer argument registers */
static void calling_conventions(void)
{
	char reg[16];

	T_EQ(dmakit_abi_arg_fetch(EM_X86_64, 1, reg, sizeof(reg)), 0);
	T_STREQ(reg, "%di");
	T_EQ(dmakit_abi_arg_fetch(EM_X86_64, 4, reg, sizeof(reg)), 0);
	T_STREQ(reg, "%cx");
	T_EQ(dmakit_abi_arg_fetch(EM_X86_64, 6, reg, sizeof(reg)), 0);
	T_STREQ(reg, "%r9");
	T_EQ(dmakit_abi_arg_fetch(EM_X86_64, 7, reg, sizeof(reg)), -ERANGE);
	T_EQ(dmakit_abi_arg_fetch(EM_AARCH64, 1, reg, sizeof(reg)), 0);
	T_STREQ(reg, "%x0");
	T_EQ(dmakit_abi_arg_fetch(EM_AARCH64, 8, reg, sizeof(reg)), 0);
	T_STREQ(reg, "%x7");
	T_EQ(dmakit_abi_arg_fetch(EM_AARCH64, 9, reg, sizeof(reg)), -ERANGE);
	T_EQ(dmakit_abi_arg_fetch(EM_386, 1, reg, sizeof(reg)), -EOPNOTSUPP);
}

static void bad_specs(void)
{
	static const struct {
		const char *spec, *says;
	} bad[] = {
		{ "", "empty" },
		{ "irq:", "after 'irq:'" },
		{ "tp:block", "tp:SYSTEM:EVENT" },
		{ "tp::x", "tracepoint names" },
		{ "tp:block:rq issue", "tracepoint names" },
		{ "tp:block:block_rq_issue:", "empty FILTER" },
		{ "uprobe:dma_from_host", "PATH:FUNCTION" },
		{ "uprobe:relative/lib.so:f", "absolute" },
		{ "uprobe:/lib.so:", "PATH:FUNCTION" },
		{ "uprobe:/lib.so:f+x", "offset" },
		{ "uprobe:/lib.so:9f", "symbol name" },
		{ "uretprobe:/lib.so:f+4", "not at an offset" },
		{ "usdt:/lib.so:dma_start", "usdt:PATH:PROVIDER:NAME" },
		{ "usdt:lib.so:p:n", "absolute" },
		{ "usdt:/lib.so:p:", "usdt:PATH:PROVIDER:NAME" },
		{ "kprobe:foo", "unknown kind" },
		{ "dmakit:x", "unknown kind" },
		{ "IRQ", "unknown kind" },
	};
	struct dmakit_spec s;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (dmakit_spec_parse(&s, bad[i].spec, err, sizeof(err)) != -EINVAL)
			T_FAIL("'%s' was accepted", bad[i].spec);
		if (!strstr(err, bad[i].says))
			T_FAIL("'%s': message '%s' does not say '%s'",
			       bad[i].spec, err, bad[i].says);
	}
	T_EQ(dmakit_spec_parse(&s, NULL, err, sizeof(err)), -EINVAL);
}

static void too_long(void)
{
	char spec[1024], err[256];
	struct dmakit_spec s;

	memset(spec, 'a', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	memcpy(spec, "tp:", 3);
	T_EQ(dmakit_spec_parse(&s, spec, err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "too long"));
}

static void glob(void)
{
	T_ASSERT(dmakit_glob_match("*req*", "virtio1-req.0"));
	T_ASSERT(dmakit_glob_match("virtio?-req.*", "virtio1-req.0"));
	T_ASSERT(!dmakit_glob_match("*config", "virtio1-req.0"));
	T_ASSERT(dmakit_glob_match("*", ""));
}

int main(void)
{
	T_RUN(good_specs);
	T_RUN(bad_specs);
	T_RUN(probe_args);
	T_RUN(bad_args);
	T_RUN(calling_conventions);
	T_RUN(too_long);
	T_RUN(glob);
	return t_exit();
}
