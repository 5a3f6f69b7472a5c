/* SPDX-License-Identifier: MIT */
/*
 * Internals of dmakit tracing shared by lib/trace_*.c and their unit
 * tests: SPEC strings, ELF symbols and USDT notes, sysfs with a
 * replaceable root.
 */
#ifndef DMAKIT_TRACE_INTERNAL_H
#define DMAKIT_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dmakit/trace.h"

/* --- SPEC strings (spec.c) --- */

enum dmakit_spec_kind {
	DMAKIT_SPEC_IRQ,
	DMAKIT_SPEC_TP,
	DMAKIT_SPEC_UPROBE,
	DMAKIT_SPEC_URETPROBE,
	DMAKIT_SPEC_USDT,
	DMAKIT_SPEC_DMAKIT,
};

#define DMAKIT_SPEC_MAX_ARGS 8

/**
 * struct dmakit_spec_arg - "NAME=SRC[:TYPE]" of a probe SPEC's "(...)".
 * @name:  the event field it becomes
 * @argn:  1.. for argN (the Nth argument of the call or USDT probe), 0 for
 *         retval (the return value)
 * @type:  uprobe fetch type ("u64" unless given)
 */
struct dmakit_spec_arg {
	char name[32];
	unsigned int argn;
	char type[8];
};

/**
 * struct dmakit_spec - a parsed SPEC.
 * @irq_sel:  irq: "" (all vectors), IRQ numbers or a name pattern
 * @system, @event, @filter: tp: ("" filter if none)
 * @path, @func, @func_off: uprobe/uretprobe: (func may be "0x1234": an
 *            address in the file's virtual address space)
 * @path, @provider, @name: usdt:
 * @arg, @nargs: named arguments of uprobe/uretprobe/usdt
 */
struct dmakit_spec {
	enum dmakit_spec_kind kind;
	char text[512];
	char irq_sel[128];
	char system[64];
	char event[64];
	char filter[256];
	char path[256];
	char func[128];
	uint64_t func_off;
	char provider[64];
	char name[64];
	struct dmakit_spec_arg arg[DMAKIT_SPEC_MAX_ARGS];
	unsigned int nargs;
};

int dmakit_spec_parse(struct dmakit_spec *spec, const char *text, char *err,
		      size_t errlen);
const char *dmakit_spec_kind_name(enum dmakit_spec_kind kind);

/* --- ELF files (elf.c) --- */

#define DMAKIT_USDT_MAX_ARGS 12

/* Where a USDT argument lives, translated for a uprobe. */
enum dmakit_usdt_arg_kind {
	DMAKIT_USDT_ARG_FETCH,		/* a uprobe fetcharg: @fetch */
	DMAKIT_USDT_ARG_CONST,		/* a constant: @value */
	DMAKIT_USDT_ARG_UNSUPPORTED,	/* e.g. RIP-relative: not available */
};

struct dmakit_usdt_arg {
	enum dmakit_usdt_arg_kind kind;
	int size;			/* bytes: 1, 2, 4, 8 */
	bool is_signed;
	char fetch[48];			/* "%di", "+8(%sp)" */
	int64_t value;
};

/**
 * struct dmakit_usdt_probe - one site of a USDT probe.
 * @pc, @semaphore: virtual addresses (already adjusted for prelinking)
 * @pc_offset, @sem_offset: the same as file offsets (0: no semaphore)
 * @args: the note's argument string; @arg: its translation
 */
struct dmakit_usdt_probe {
	char provider[64];
	char name[64];
	uint64_t pc;
	uint64_t pc_offset;
	uint64_t semaphore;
	uint64_t sem_offset;
	char args[256];
	unsigned int nargs;
	struct dmakit_usdt_arg arg[DMAKIT_USDT_MAX_ARGS];
};

/*
 * Every site of PROVIDER:NAME in @path's .note.stapsdt (a probe inlined in
 * several places has several sites).  *@probes is malloc'ed.  Return the
 * number of sites (> 0), -ENOENT (file or probe not found), -ENOEXEC (not
 * a 64-bit ELF file or malformed), with @err explaining.
 */
int dmakit_elf_usdt_find(const char *path, const char *provider,
			 const char *name, struct dmakit_usdt_probe **probes,
			 char *err, size_t errlen);
/*
 * File offset of function @sym (+@add) in @path, from .symtab or .dynsym,
 * or from the separate debug file of a stripped @path (build id,
 * .gnu_debuglink: elf_file.h); "0x..." is taken as a virtual address.
 * Return 0, -ENOENT, -ENOEXEC.
 */
int dmakit_elf_func_offset(const char *path, const char *sym, uint64_t add,
			   uint64_t *offset, char *err, size_t errlen);
/* The ELF machine (EM_X86_64, EM_AARCH64, ...) of @path. */
int dmakit_elf_machine(const char *path, unsigned int *machine, char *err,
		       size_t errlen);
/*
 * Where argument @argn (1..) of a call is at a function's entry for
 * @machine's calling convention, as a uprobe fetcharg ("%di", "%x0").
 * Return 0, -ERANGE (passed on the stack), -EOPNOTSUPP (other machines).
 */
int dmakit_abi_arg_fetch(unsigned int machine, unsigned int argn, char *buf,
			 size_t len);
/* Translate one x86-64 stapsdt argument ("-4@%edi", "8@-16(%rbp)"). */
int dmakit_usdt_parse_arg(const char *text, struct dmakit_usdt_arg *arg);

/* --- sysfs/procfs with a replaceable root, for tests (pci.c, interrupts.c) --- */

int dmakit_trace_pci_alloc_at(struct dmakit_trace_pci **pcip, const char *root,
			      const char *bdf, char *errmsg, size_t errlen);
int dmakit_trace_pci_list_at(const char *root, char ***bdfs, size_t *count,
			     bool with_driver);
/* Map BAR @bar of @bdf under @root (reg.c; see dmakit_reg_open()). */
struct dmakit_reg;
int dmakit_reg_open_at(struct dmakit_reg **regp, const char *root,
		       const char *bdf, unsigned int bar, unsigned int flags,
		       char *errmsg, size_t errlen);
struct dmakit_reg_trace;
struct dmakit_reg_trace_opts;
int dmakit_reg_trace_alloc_at(struct dmakit_reg_trace **tracep,
			      const char *root,
			      const struct dmakit_reg_trace_opts *o,
			      char *errmsg, size_t errlen);
int dmakit_reg_check_access_at(const char *root, const char *bdf,
			       unsigned int bar, uint64_t offset,
			       unsigned int width, unsigned int flags,
			       char *errmsg, size_t errlen);
/* PMUs under @root (pmu.c; see include/dmakit/pmu.h). */
struct dmakit_pmu_info;
struct dmakit_pmu_counter;
int dmakit_pmu_list_at(const char *root, const char *bdf,
		       struct dmakit_pmu_info **pmus, size_t *count,
		       char *errmsg, size_t errlen);
int dmakit_pmu_counter_open_at(struct dmakit_pmu_counter **cp,
			       const char *root, const char *events,
			       char *errmsg, size_t errlen);
/*
 * One event string ready for perf_event_open(): PMU type, config words
 * from its format/ terms, scale and unit, the PMU's cpumask ("" : every
 * online CPU).  Return 0, -EINVAL, -ENOENT (no such PMU).
 */
struct dmakit_pmu_event {
	char name[128];
	char unit[32];
	double scale;
	uint32_t type;
	uint64_t config, config1, config2;
	char cpus[64];
};
int dmakit_pmu_event_parse_at(const char *root, const char *text,
			      struct dmakit_pmu_event *ev, char *errmsg,
			      size_t errlen);
/*
 * Counts of the given IRQs from a /proc/interrupts text (summed over
 * CPUs); IRQs not found get 0.  Return 0 or -EINVAL.
 */
int dmakit_parse_proc_interrupts(const char *text, const unsigned int *irqs,
				 unsigned int n, uint64_t *counts,
				 char (*names)[64]);
/* The same, also each IRQ's count per CPU into @per_cpu[i * ncpus + cpu]. */
int dmakit_parse_proc_interrupts_cpus(const char *text,
				      const unsigned int *irqs, unsigned int n,
				      uint64_t *counts, char (*names)[64],
				      uint64_t *per_cpu);
/* The number of CPU columns of a /proc/interrupts text, or -EINVAL. */
int dmakit_proc_interrupts_ncpus(const char *text);
/*
 * From the function's config space (sysfs "config"; beyond 64 bytes it
 * needs root): config_read, pcie, msix_table_size, msix_enabled, and the
 * link from the PCIe capability where sysfs had none (pci_config.c).
 */
void dmakit_pci_read_caps(const char *dir, struct dmakit_trace_pci_info *info);
/* Names in a pci.ids file for the given ids (pci_ids.c): 0 or -ENOENT. */
int dmakit_pci_ids_lookup(const char *path, uint16_t vendor, uint16_t device,
			  uint16_t subsys_vendor, uint16_t subsys_device,
			  uint32_t class_code,
			  struct dmakit_trace_pci_names *names);
/*
 * Events a CPU's ring buffer lost (session.c), from its per_cpu/cpuN/stats:
 * overrun + commit overrun + dropped events.  Return 0, -ENODATA (no
 * overrun line: the count is unknown), -EINVAL (malformed).
 */
int dmakit_parse_ring_stats(const char *text, uint64_t *lost);

/* --- tracefs objects of a session (probe.c) --- */

struct tracefs_instance;

/*
 * Find tracefs (/sys/kernel/tracing, or the debugfs path of old kernels)
 * and mount it if it is not.  Return 0 with its path, or -errno of mount.
 */
int dmakit_tracefs_mount(char *dir, size_t len);
/*
 * "dmakit_<pid>_<start time>_<tag>_<pid namespace>": names a session's
 * instance and probes.
 */
int dmakit_tracefs_session_name(char *buf, size_t len);
/*
 * Create instance @name and lock it for the session's life (see probe.c),
 * before any probe of group @name exists.  *@lockfd is closed after the
 * instance and probes are removed.  Return 0 or -errno.
 */
int dmakit_tracefs_session_lock(struct tracefs_instance **instp, int *lockfd,
				const char *name, char *err, size_t errlen);
/* Remove instances and uprobes of dmakit sessions proven dead. */
int dmakit_tracefs_cleanup_leftovers(void);
/*
 * Fork the session's reaper (see probe.c): when *@fdp is closed, by the
 * caller or by its death, instance @name and uprobe group @name are
 * removed.  Return 0 or -errno.
 */
int dmakit_reaper_start(const char *tracing_dir, const char *name, int *fdp,
			char *err, size_t errlen);
/* Whether uprobe_events takes a semaphore offset (Linux 4.20+). */
bool dmakit_uprobe_has_ref_ctr(void);
/* "p:GROUP/EVENT PATH:0xOFF[(0xREF)] ARGS" ('r:' for a return probe). */
int dmakit_uprobe_add(const char *group, const char *event, bool retprobe,
		      const char *path, uint64_t off, uint64_t ref_off,
		      const char *args, char *err, size_t errlen);
int dmakit_uprobe_remove(const char *group, const char *event);

/* --- small helpers (text.c) --- */

/* Read a whole (small) file into a NUL-terminated malloc'ed buffer. */
int dmakit_read_text(const char *path, char **text, size_t *len);
/* Copy @src into @dst of @size bytes, cut if needed, always terminated. */
void dmakit_strlcpy(char *dst, const char *src, size_t size);
/* Shell-style pattern match with * and ? only. */
bool dmakit_glob_match(const char *pattern, const char *s);

#endif /* DMAKIT_TRACE_INTERNAL_H */
