// SPDX-License-Identifier: MIT
/*
 * A tracing session over tracefs (libtracefs for the files, libtraceevent
 * for event formats and ring-buffer pages):
 *
 *   - its own instance (instances/dmakit_<pid>_...): the global buffer and
 *     other users' instances are never touched;
 *   - trace_clock "mono", so timestamps are CLOCK_MONOTONIC ns;
 *   - overwrite mode, so a reader that falls behind loses the oldest
 *     events and the next page it reads says so (the gap is placed in
 *     the stream); the per-CPU "overrun" counters give the exact total;
 *   - per-CPU trace_pipe_raw read without blocking every few tens of ms,
 *     pages parsed with kbuffer, the CPUs merged in time order up to a
 *     watermark every CPU is known to have passed;
 *   - uprobes created in a group named like the instance and always
 *     removed (free() undoes everything; if the process dies first, its
 *     reaper does, see probe.c; what a killed reaper leaves, the next
 *     session removes);
 *   - several SPECs per side ("sites"); pairing per thread by default
 *     when every event happens in the calling thread.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event-parse.h>
#include <kbuffer.h>
#include <tracefs.h>
#include "internal.h"
#include "field.h"
#include "trace_internal.h"

#define MAX_SITES	8		/* USDT sites per probe */
#define MAX_SIDES	(2 * DMAKIT_TRACE_MAX_SPECS)
#define MAX_EVTYPES	(MAX_SIDES * MAX_SITES)
#define DEFAULT_BUFFER_KB 4096
#define POLL_PERIOD_MS	50
/* an event is committed this soon after its timestamp was taken */
#define COMMIT_SLACK_NS	(20 * 1000000ULL)
/* an interrupt's count is bumped just before its handler's event */
#define COUNT_MARGIN_NS	(200 * 1000ULL)
#define PAGES_PER_POLL	4096

struct side;

struct evtype {
	int id;
	struct tep_event *format;
	struct side *side;
	enum dmakit_trace_role role;
	bool user;			/* uprobe/usdt: subject to opts.pid */
	bool irq;
	bool chan_tid;
	struct trace_field f_id, f_bytes, f_status, f_chan, f_chan2, f_irq;
	const struct dmakit_usdt_probe *usdt;
};

/* One SPEC: a start or end site of the session. */
struct side {
	struct dmakit_spec spec;
	enum dmakit_trace_role role;
	unsigned int site;		/* index among its role's SPECs */
	uint64_t seen;			/* its events read */
	char desc[640];
	char system[80];
	char events[MAX_SITES][32];
	int nevents;
	char filter[2048];
	bool probes_created[MAX_SITES];
	struct dmakit_usdt_probe *usdt;
	int nusdt;
};

struct pending {
	struct dmakit_trace_event ev;
	bool loss;
	uint64_t loss_to;
	uint64_t loss_count;
};

struct cpu_stream {
	int cpu;
	int fd;
	struct kbuffer *kbuf;
	void *page;
	struct pending *q;
	size_t head, len, cap;
	uint64_t last_ts;		/* newest timestamp read */
	bool drained;			/* last read found nothing more */
	uint64_t drained_at;		/* CLOCK_MONOTONIC before that read */
};

struct vec {
	unsigned int irq;
	char name[64];
	uint64_t traced, total, proc_start, proc_end, ambiguous;
};

struct tid_entry {
	int32_t tid;
	bool ours;
};

struct dmakit_trace_session {
	struct dmakit_trace_opts opts;
	char name[64];
	char tracing_dir[PATH_MAX];
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	struct side side[MAX_SIDES];
	int nsides;
	char side_desc[2][1024];	/* a role's sites, joined */
	char pairing[400];		/* dmakit_trace_session_pairing() */
	bool one_open;
	char id_field[2][64];		/* the id's field on each side */
	struct evtype types[MAX_EVTYPES];
	int ntypes;
	struct dmakit_trace_pairer *pairer;
	enum dmakit_trace_close close;
	struct cpu_stream *cpus;
	int ncpus;
	size_t subbuf_size;
	struct vec *vecs;
	unsigned int nvecs;
	uint64_t t0a, t0b, t1a, t1b;
	bool started, stopped;
	uint64_t processed_to;		/* watermark reached so far */
	struct dmakit_trace_stats st;
	struct tid_entry *tids;
	size_t ntids, tid_cap;
	int reaper_fd;			/* closing it lets the reaper clean up */
};

/* --- small helpers --- */

static int inst_write(struct dmakit_trace_session *s, const char *file,
		      const char *val)
{
	if (tracefs_instance_file_write(s->inst, file, val) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

static bool tracefs_has(const struct dmakit_trace_session *s, const char *rel)
{
	char path[PATH_MAX + 256];

	snprintf(path, sizeof(path), "%s/%.255s", s->tracing_dir, rel);
	return access(path, F_OK) == 0;
}

static int read_counts(struct dmakit_trace_session *s, bool at_end)
{
	unsigned int *irqs, i;
	uint64_t *counts;
	char *text, (*names)[64];
	int ret;

	if (!s->nvecs)
		return 0;
	ret = dmakit_read_text("/proc/interrupts", &text, NULL);
	if (ret)
		return ret;
	irqs = calloc(s->nvecs, sizeof(*irqs));
	counts = calloc(s->nvecs, sizeof(*counts));
	names = calloc(s->nvecs, sizeof(*names));
	if (!irqs || !counts || !names) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->nvecs; i++)
		irqs[i] = s->vecs[i].irq;
	ret = dmakit_parse_proc_interrupts(text, irqs, s->nvecs, counts, names);
	for (i = 0; !ret && i < s->nvecs; i++) {
		if (at_end)
			s->vecs[i].proc_end = counts[i];
		else
			s->vecs[i].proc_start = counts[i];
		if (!s->vecs[i].name[0])
			memcpy(s->vecs[i].name, names[i], sizeof(names[i]));
	}
out:
	free(text);
	free(irqs);
	free(counts);
	free(names);
	return ret;
}

/* --- resolving specs --- */

/* Format into a temporary: the arguments often live in the same side. */
static void set_desc(struct side *sd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_desc(struct side *sd, const char *fmt, ...)
{
	char buf[sizeof(sd->desc)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(sd->desc, buf, sizeof(buf));
}

static int add_vec(struct dmakit_trace_session *s, unsigned int irq,
		   const char *name)
{
	struct vec *grown;

	grown = realloc(s->vecs, (s->nvecs + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	s->vecs = grown;
	memset(&s->vecs[s->nvecs], 0, sizeof(*s->vecs));
	s->vecs[s->nvecs].irq = irq;
	dmakit_strlcpy(s->vecs[s->nvecs].name, name, sizeof(s->vecs->name));
	s->nvecs++;
	return 0;
}

/* IRQ numbers "35,36" -> true and the list; anything else is a pattern. */
static bool irq_numbers(const char *sel)
{
	if (!*sel)
		return false;
	for (; *sel; sel++)
		if (!isdigit((unsigned char)*sel) && *sel != ',')
			return false;
	return true;
}

static int resolve_irq(struct dmakit_trace_session *s, struct side *sd,
		       char *err, size_t errlen)
{
	const char *sel = sd->spec.irq_sel;
	struct dmakit_trace_pci *pci = NULL;
	size_t used = 0;
	unsigned int i;
	int ret = 0;

	if (s->nvecs)
		return dmakit_errf(err, errlen, -EINVAL,
				   "only one of --start and --end can be irq");
	if (irq_numbers(sel)) {
		char *copy = strdup(sel), *tok, *save = NULL;

		if (!copy)
			return -ENOMEM;
		for (tok = strtok_r(copy, ",", &save); tok && !ret;
		     tok = strtok_r(NULL, ",", &save))
			ret = add_vec(s, (unsigned int)strtoul(tok, NULL, 10), "");
		free(copy);
		if (ret)
			return ret;
		/* names for the report */
		if (s->opts.pci &&
		    !dmakit_trace_pci_alloc(&pci, s->opts.pci, NULL, 0)) {
			struct dmakit_trace_pci_info info;
			struct dmakit_trace_pci_vector v;
			unsigned int k;

			dmakit_trace_pci_info(pci, &info);
			for (i = 0; i < s->nvecs; i++)
				for (k = 0; k < info.nvectors; k++)
					if (!dmakit_trace_pci_vector(pci, k, &v) &&
					    v.irq == s->vecs[i].irq)
						snprintf(s->vecs[i].name,
							 sizeof(s->vecs[i].name),
							 "%s", v.name);
			dmakit_trace_pci_free(pci);
		}
	} else {
		struct dmakit_trace_pci_info info;
		struct dmakit_trace_pci_vector v;

		if (!s->opts.pci)
			return dmakit_errf(err, errlen, -EINVAL,
					   "'%s' needs --pci BDF (or IRQ numbers: irq:68)",
					   sd->spec.text);
		ret = dmakit_trace_pci_alloc(&pci, s->opts.pci, err, errlen);
		if (ret)
			return ret;
		dmakit_trace_pci_info(pci, &info);
		for (i = 0; i < info.nvectors && !ret; i++) {
			dmakit_trace_pci_vector(pci, i, &v);
			if (*sel && !dmakit_glob_match(sel, v.name))
				continue;
			ret = add_vec(s, v.irq, v.name);
		}
		dmakit_trace_pci_free(pci);
		if (ret)
			return ret;
		if (!s->nvecs)
			return dmakit_errf(err, errlen, -ENODEV,
					   *sel ? "%s: no interrupt vector named like '%s'"
						: "%s: the device has no interrupt vectors%s (is a driver bound?)",
					   info.bdf, sel);
	}
	snprintf(sd->system, sizeof(sd->system), "irq");
	snprintf(sd->events[0], sizeof(sd->events[0]), "irq_handler_entry");
	sd->nevents = 1;
	used = (size_t)snprintf(sd->desc, sizeof(sd->desc),
				"irq:irq_handler_entry, irq");
	for (i = 0; i < s->nvecs; i++) {
		size_t flen = strlen(sd->filter);

		snprintf(sd->filter + flen, sizeof(sd->filter) - flen, "%sirq == %u",
			 i ? " || " : "", s->vecs[i].irq);
		if (used < sizeof(sd->desc))
			used += (size_t)snprintf(sd->desc + used,
						 sizeof(sd->desc) - used,
						 "%s %u%s%s%s", i ? "," : "",
						 s->vecs[i].irq,
						 s->vecs[i].name[0] ? " (" : "",
						 s->vecs[i].name,
						 s->vecs[i].name[0] ? ")" : "");
	}
	if (strlen(sd->filter) + 1 >= sizeof(sd->filter))
		return dmakit_errf(err, errlen, -E2BIG, "too many vectors");
	return 0;
}

static int resolve_tp(struct dmakit_trace_session *s, struct side *sd,
		      char *err, size_t errlen)
{
	char rel[200];

	snprintf(rel, sizeof(rel), "events/%s/%s/format", sd->spec.system,
		 sd->spec.event);
	if (!tracefs_has(s, rel))
		return dmakit_errf(err, errlen, -ENODEV,
				   "no tracepoint %s:%s on this kernel (see %s/available_events)",
				   sd->spec.system, sd->spec.event, s->tracing_dir);
	dmakit_strlcpy(sd->system, sd->spec.system, sizeof(sd->system));
	dmakit_strlcpy(sd->events[0], sd->spec.event, sizeof(sd->events[0]));
	sd->nevents = 1;
	dmakit_strlcpy(sd->filter, sd->spec.filter, sizeof(sd->filter));
	set_desc(sd, "%s:%s%s%s%s", sd->spec.system,
		 sd->spec.event, sd->spec.filter[0] ? " if (" : "",
		 sd->spec.filter, sd->spec.filter[0] ? ")" : "");
	return 0;
}

static int resolve_dmakit(struct dmakit_trace_session *s, struct side *sd,
			  char *err, size_t errlen)
{
	const char *ev = sd->role == DMAKIT_TRACE_START ? "dma_submit" :
			 "dma_complete";
	char rel[128];

	snprintf(rel, sizeof(rel), "events/dmakit/%s/format", ev);
	if (!tracefs_has(s, rel))
		return dmakit_errf(err, errlen, -ENODEV,
				   "no dmakit:%s tracepoint: is the dmakit driver loaded?",
				   ev);
	snprintf(sd->system, sizeof(sd->system), "dmakit");
	snprintf(sd->events[0], sizeof(sd->events[0]), "%s", ev);
	sd->nevents = 1;
	set_desc(sd, "dmakit:%s", ev);
	return 0;
}

/*
 * The probe event names of a side in the session's group: start, end,
 * start1 (the second start SPEC), start_0 / start1_0 (USDT sites).
 */
static void probe_event_name(const struct side *sd, int i, bool per_site,
			     char *buf, size_t len)
{
	const char *base = sd->role == DMAKIT_TRACE_START ? "start" : "end";
	char site[12] = "";

	if (sd->site)
		snprintf(site, sizeof(site), "%u", sd->site);
	if (per_site)
		snprintf(buf, len, "%s%s_%d", base, site, i);
	else
		snprintf(buf, len, "%s%s", base, site);
}

/* " NAME=%di:u64 ..." for a uprobe's named arguments; "" if none. */
static int uprobe_fetchargs(const struct side *sd, char *args, size_t len,
			    char *err, size_t errlen)
{
	unsigned int machine, a;
	size_t used = 0;
	int ret;

	args[0] = '\0';
	if (!sd->spec.nargs)
		return 0;
	ret = dmakit_elf_machine(sd->spec.path, &machine, err, errlen);
	if (ret)
		return ret;
	for (a = 0; a < sd->spec.nargs; a++) {
		const struct dmakit_spec_arg *ar = &sd->spec.arg[a];
		char fetch[16] = "$retval";

		ret = ar->argn ? dmakit_abi_arg_fetch(machine, ar->argn, fetch,
						      sizeof(fetch)) : 0;
		if (ret == -ERANGE)
			return dmakit_errf(err, errlen, -EINVAL,
					   "%s: arg%u is not in a register (arg1..arg6 on x86-64, arg1..arg8 on arm64)",
					   sd->spec.text, ar->argn);
		if (ret)
			return dmakit_errf(err, errlen, -EOPNOTSUPP,
					   "%s: named arguments follow the x86-64 and arm64 calling conventions; %s is for ELF machine %u",
					   sd->spec.text, sd->spec.path, machine);
		used += (size_t)snprintf(args + used, len - used, "%s%s=%s:%s",
					 used ? " " : "", ar->name, fetch,
					 ar->type);
		if (used >= len)
			return dmakit_errf(err, errlen, -E2BIG,
					   "uprobe arguments too long");
	}
	return 0;
}

/* "(chan=arg1, bytes=arg4)" for a description; "" if none. */
static void args_desc(const struct dmakit_spec *sp, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int a;

	buf[0] = '\0';
	for (a = 0; a < sp->nargs && used < len; a++) {
		const struct dmakit_spec_arg *ar = &sp->arg[a];
		char src[16] = "retval";

		if (ar->argn)
			snprintf(src, sizeof(src), "arg%u", ar->argn);
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%s%s",
					 a ? ", " : " (", ar->name, src,
					 a + 1 == sp->nargs ? ")" : "");
	}
}

static int resolve_uprobe(struct dmakit_trace_session *s, struct side *sd,
			  char *err, size_t errlen)
{
	bool ret_probe = sd->spec.kind == DMAKIT_SPEC_URETPROBE;
	char args[512], names[200];
	uint64_t off;
	int ret;

	ret = dmakit_elf_func_offset(sd->spec.path, sd->spec.func,
				     sd->spec.func_off, &off, err, errlen);
	if (!ret)
		ret = uprobe_fetchargs(sd, args, sizeof(args), err, errlen);
	if (ret)
		return ret;
	snprintf(sd->system, sizeof(sd->system), "%s", s->name);
	probe_event_name(sd, 0, false, sd->events[0], sizeof(sd->events[0]));
	ret = dmakit_uprobe_add(sd->system, sd->events[0], ret_probe,
				sd->spec.path, off, 0, args, err, errlen);
	if (ret)
		return ret;
	sd->probes_created[0] = true;
	sd->nevents = 1;
	args_desc(&sd->spec, names, sizeof(names));
	set_desc(sd, "%s %s:%s%s (file offset 0x%llx)",
		 ret_probe ? "return of" : "entry of", sd->spec.path,
		 sd->spec.func, names, (unsigned long long)off);
	return 0;
}

static int resolve_usdt(struct dmakit_trace_session *s, struct side *sd,
			char *err, size_t errlen)
{
	bool ref_ok = dmakit_uprobe_has_ref_ctr();
	int n, i, ret;

	n = dmakit_elf_usdt_find(sd->spec.path, sd->spec.provider,
				 sd->spec.name, &sd->usdt, err, errlen);
	if (n < 0)
		return n;
	sd->nusdt = n;
	if (n > MAX_SITES)
		return dmakit_errf(err, errlen, -E2BIG,
				   "%s: USDT %s:%s has %d sites (at most %d)",
				   sd->spec.path, sd->spec.provider,
				   sd->spec.name, n, MAX_SITES);
	snprintf(sd->system, sizeof(sd->system), "%s", s->name);
	for (i = 0; i < n; i++) {
		const struct dmakit_usdt_probe *p = &sd->usdt[i];
		char args[512] = "";
		size_t used = 0;
		unsigned int a;

		if (p->semaphore && !ref_ok)
			return dmakit_errf(err, errlen, -EOPNOTSUPP,
					   "USDT %s:%s has a semaphore: this kernel's uprobes cannot set it (needs Linux 4.20+)",
					   sd->spec.provider, sd->spec.name);
		for (a = 0; a < sd->spec.nargs; a++)
			if (sd->spec.arg[a].argn > p->nargs ||
			    p->arg[sd->spec.arg[a].argn - 1].kind ==
			    DMAKIT_USDT_ARG_UNSUPPORTED)
				return dmakit_errf(err, errlen, -EINVAL,
						   "%s: USDT %s:%s has no usable arg%u (its arguments: %s)",
						   sd->spec.text, sd->spec.provider,
						   sd->spec.name, sd->spec.arg[a].argn,
						   p->args[0] ? p->args : "none");
		for (a = 0; a < p->nargs; a++) {
			const struct dmakit_usdt_arg *ar = &p->arg[a];

			if (ar->kind != DMAKIT_USDT_ARG_FETCH)
				continue;
			used += (size_t)snprintf(args + used, sizeof(args) - used,
						 "%sarg%u=%s:%c%d", used ? " " : "",
						 a + 1, ar->fetch,
						 ar->is_signed ? 's' : 'u',
						 ar->size * 8);
			if (used >= sizeof(args))
				return dmakit_errf(err, errlen, -E2BIG,
						   "USDT arguments too long");
		}
		probe_event_name(sd, i, true, sd->events[i],
				 sizeof(sd->events[i]));
		ret = dmakit_uprobe_add(sd->system, sd->events[i], false,
					sd->spec.path, p->pc_offset,
					p->sem_offset, args, err, errlen);
		if (ret)
			return ret;
		sd->probes_created[i] = true;
		sd->nevents = i + 1;
	}
	set_desc(sd, "USDT %s:%s in %s (%d site%s, args: %s)",
		 sd->spec.provider, sd->spec.name, sd->spec.path, n,
		 n > 1 ? "s" : "", sd->usdt[0].args[0] ? sd->usdt[0].args : "none");
	return 0;
}

/* --- event decoding --- */

/*
 * Resolve a field for a side's event: a USDT argument's name becomes its
 * argN field (a constant argument has none: its value is kept); see
 * trace_field_find() for the rest.  Not found leaves @f reading nothing.
 */
static int find_field(struct tep_event *ev, const struct side *sd,
		      const struct dmakit_usdt_probe *u, const char *name,
		      unsigned int allow, struct trace_field *f)
{
	char alias[16];
	unsigned int k;

	memset(f, 0, sizeof(*f));
	if (!name)
		return -ENOENT;
	for (k = 0; u && k < sd->spec.nargs; k++)
		if (!strcmp(name, sd->spec.arg[k].name)) {
			snprintf(alias, sizeof(alias), "arg%u",
				 sd->spec.arg[k].argn);
			name = alias;
			break;
		}
	if (u && !strncmp(name, "arg", 3) && isdigit((unsigned char)name[3])) {
		unsigned int a = (unsigned int)atoi(name + 3);

		if (a >= 1 && a <= u->nargs &&
		    u->arg[a - 1].kind == DMAKIT_USDT_ARG_CONST) {
			trace_field_const(f, u->arg[a - 1].value);
			return 0;
		}
	}
	return trace_field_find(ev, name, allow, f);
}

static bool read_field(const struct trace_field *f, const unsigned char *data,
		       int size, uint64_t *out)
{
	return trace_field_read(f, data, size, out);
}

/* "is an array: name an element", for refusals of a field by name */
static const char *array_hint(int ret)
{
	return ret == -EISDIR ? " (it is an array: name an element, e.g. FIELD[0])" : "";
}

/* Field names each side gets automatically (overridable by options). */
static void auto_fields(const struct side *sd, const char **id,
			const char **bytes, const char **status,
			const char **chan, const char **chan2)
{
	*id = *bytes = *status = *chan = *chan2 = NULL;
	switch (sd->spec.kind) {
	case DMAKIT_SPEC_DMAKIT:
		/* the driver's dmakit_dma event class (driver/dmakit_trace.h):
		 * ids are per device and channel */
		*id = "id";
		*bytes = "bytes";
		*status = sd->role == DMAKIT_TRACE_END ? "status" : NULL;
		*chan = "channel";
		*chan2 = "dev";
		break;
	case DMAKIT_SPEC_TP:
		*bytes = "bytes";
		break;
	case DMAKIT_SPEC_USDT:
		/* libdmakit's own probes: dma_start(dev, id, to_host, bytes,
		 * card_addr) and dma_done(dev, id, status, bytes) */
		if (!strcmp(sd->spec.provider, "dmakit") && !sd->spec.nargs) {
			*chan = "arg1";
			*id = "arg2";
			*bytes = "arg4";
			if (!strcmp(sd->spec.name, "dma_done"))
				*status = "arg3";
			break;
		}
		/* named arguments: as for uprobes */
		/* fall through */
	case DMAKIT_SPEC_UPROBE:
	case DMAKIT_SPEC_URETPROBE:
		*id = "id";
		*bytes = "bytes";
		*status = "status";
		break;
	default:
		break;
	}
}

/*
 * Events that happen in the thread that makes the call: a thread's start
 * and its end belong to the same call.
 */
static bool thread_synchronous(const struct dmakit_spec *sp)
{
	switch (sp->kind) {
	case DMAKIT_SPEC_UPROBE:
	case DMAKIT_SPEC_URETPROBE:
	case DMAKIT_SPEC_USDT:
		return true;
	case DMAKIT_SPEC_TP:
		return !strcmp(sp->system, "syscalls") ||
		       !strcmp(sp->system, "raw_syscalls");
	default:
		return false;
	}
}

static bool end_is_irq(const struct dmakit_trace_session *s)
{
	int i;

	for (i = 0; i < s->nsides; i++)
		if (s->side[i].role == DMAKIT_TRACE_END &&
		    s->side[i].spec.kind == DMAKIT_SPEC_IRQ)
			return true;
	return false;
}

/* "FIELD" or "START_FIELD,END_FIELD", no part empty */
static bool valid_pair_by(const char *opt)
{
	const char *comma = strchr(opt, ',');

	if (!*opt || comma == opt)
		return false;
	return !comma || (comma[1] && !strchr(comma + 1, ','));
}

/* --pair-by START_FIELD[,END_FIELD]: the field for @role. */
static const char *pair_by_field(const char *opt, enum dmakit_trace_role role,
				 char *buf, size_t len)
{
	const char *comma = strchr(opt, ',');

	if (!comma)
		return opt;
	if (role == DMAKIT_TRACE_END)
		return comma + 1;
	snprintf(buf, len, "%.*s", (int)(comma - opt), opt);
	return buf;
}

/* The channel key, once the pairing mode is known; fills s->pairing. */
static int choose_channel(struct dmakit_trace_session *s, bool same_kind,
			  char *err, size_t errlen)
{
	const char *cb = s->opts.channel_by, *why;
	bool all_sync = true, chan_tid = false;
	const char *field = NULL;
	char how[200], unsync[100] = "";
	int i, ret;

	for (i = 0; i < s->nsides; i++)
		if (!thread_synchronous(&s->side[i].spec) && all_sync) {
			all_sync = false;
			snprintf(unsync, sizeof(unsync), "%.90s",
				 s->side[i].spec.text);
		}
	if (cb) {
		chan_tid = !strcmp(cb, "tid");
		field = chan_tid || !strcmp(cb, "none") ? NULL : cb;
		why = s->close == DMAKIT_TRACE_CLOSE_ID && s->opts.pair_by ?
		      "as --pair-by and --channel ask" : "as --channel asks";
	} else if (s->close != DMAKIT_TRACE_CLOSE_ID && all_sync) {
		chan_tid = true;
		why = "every event is thread-synchronous (uprobe, uretprobe, usdt, syscalls), so a thread's end belongs to its own start";
	} else if (s->close == DMAKIT_TRACE_CLOSE_ID) {
		why = s->opts.pair_by ? "ids as --pair-by asks" :
		      "both sides carry an id, which says which start an end closes";
	} else if (s->opts.close >= 0) {
		why = "as --close asks";
	} else if (end_is_irq(s)) {
		why = "the end is an interrupt, which completes every transfer issued before it";
	} else {
		why = unsync;
	}
	/* one call open per thread: what thread-synchronous events promise */
	s->one_open = chan_tid && all_sync && s->close == DMAKIT_TRACE_CLOSE_ONE;
	for (i = 0; i < s->ntypes; i++) {
		struct evtype *t = &s->types[i];
		const char *id, *bytes, *status, *chan, *chan2;

		auto_fields(t->side, &id, &bytes, &status, &chan, &chan2);
		/*
		 * Automatic channels only mean the same thing when every
		 * event is the same kind (the driver's submit/complete,
		 * libdmakit's USDT pair).  A driver start ended by an
		 * interrupt, say, shares no channel key: one channel then.
		 */
		if (!same_kind || chan_tid)
			chan = chan2 = NULL;
		if (cb) {
			chan = field;
			chan2 = NULL;
		}
		t->chan_tid = chan_tid;
		ret = find_field(t->format, t->side, t->usdt, chan,
				 TRACE_FIELD_ALLOW_STR, &t->f_chan);
		find_field(t->format, t->side, t->usdt, chan2,
			   TRACE_FIELD_ALLOW_STR, &t->f_chan2);
		if (field && !trace_field_present(&t->f_chan))
			return dmakit_errf(err, errlen, -EINVAL,
					   "--channel %s: %s has no such field%s",
					   field, t->side->spec.text,
					   array_hint(ret));
		if (!field && !chan_tid && chan && !i)
			field = chan;
	}
	if (s->close == DMAKIT_TRACE_CLOSE_ID)
		snprintf(how, sizeof(how), " (%.60s = %.60s)", s->id_field[0],
			 s->id_field[1]);
	else
		how[0] = '\0';
	if (chan_tid)
		snprintf(how + strlen(how), sizeof(how) - strlen(how),
			 " per thread (channel tid)");
	else if (field)
		snprintf(how + strlen(how), sizeof(how) - strlen(how),
			 ", channel %.60s", field);
	else
		snprintf(how + strlen(how), sizeof(how) - strlen(how),
			 ", one channel");
	if (why == unsync)
		snprintf(s->pairing, sizeof(s->pairing),
			 "%s%.150s: %.90s is not thread-synchronous (pair per thread with --channel tid only if each thread's end belongs to its own start)",
			 dmakit_trace_close_name(s->close), how, unsync);
	else
		snprintf(s->pairing, sizeof(s->pairing), "%s%.150s: %s",
			 dmakit_trace_close_name(s->close), how, why);
	return 0;
}

static int build_types(struct dmakit_trace_session *s, char *err,
		       size_t errlen)
{
	bool has_id[2] = { true, true }, same_kind = true, bytes_found = false;
	char buf[64];
	int k, i, ret, id_ret;

	for (k = 0; k < s->nsides; k++) {
		struct side *sd = &s->side[k];
		const char *id, *bytes, *status, *chan, *chan2, *pb = NULL;

		auto_fields(sd, &id, &bytes, &status, &chan, &chan2);
		if (sd->spec.kind != s->side[0].spec.kind)
			same_kind = false;
		if (s->opts.pair_by)
			id = pb = pair_by_field(s->opts.pair_by, sd->role, buf,
						sizeof(buf));
		if (s->opts.bytes_by)
			bytes = s->opts.bytes_by;
		if (s->opts.status_by)
			status = s->opts.status_by;
		for (i = 0; i < sd->nevents; i++) {
			struct evtype *t = &s->types[s->ntypes];
			const struct dmakit_usdt_probe *u =
				sd->usdt ? &sd->usdt[i] : NULL;
			struct tep_event *ev;

			ev = tep_find_event_by_name(s->tep, sd->system,
						    sd->events[i]);
			if (!ev)
				return dmakit_errf(err, errlen, -ENODEV,
						   "cannot read the format of %s:%s",
						   sd->system, sd->events[i]);
			memset(t, 0, sizeof(*t));
			t->id = ev->id;
			t->format = ev;
			t->side = sd;
			t->role = sd->role;
			t->user = sd->spec.kind == DMAKIT_SPEC_UPROBE ||
				  sd->spec.kind == DMAKIT_SPEC_URETPROBE ||
				  sd->spec.kind == DMAKIT_SPEC_USDT;
			t->irq = sd->spec.kind == DMAKIT_SPEC_IRQ;
			t->usdt = u;
			id_ret = find_field(ev, sd, u, id, 0, &t->f_id);
			/* an amount may be a whole array: its sum (the
			 * lengths[] of a scatterlist) */
			ret = find_field(ev, sd, u, bytes, TRACE_FIELD_ALLOW_SUM,
					 &t->f_bytes);
			if (ret != -ENOENT && ret != 0 && s->opts.bytes_by)
				return dmakit_errf(err, errlen, -EINVAL,
						   "--bytes %s: %s's field cannot be read as a number",
						   bytes, sd->spec.text);
			find_field(ev, sd, u, status, 0, &t->f_status);
			if (!trace_field_present(&t->f_status) &&
			    !s->opts.status_by && status &&
			    !strcmp(status, "status"))
				find_field(ev, sd, u, "ret", 0, &t->f_status);
			find_field(ev, sd, u, t->irq ? "irq" : NULL, 0,
				   &t->f_irq);
			if (!trace_field_present(&t->f_id))
				has_id[sd->role] = false;
			else if (!s->id_field[sd->role][0])
				dmakit_strlcpy(s->id_field[sd->role], id,
					       sizeof(s->id_field[0]));
			if (pb && !trace_field_present(&t->f_id))
				return dmakit_errf(err, errlen, -EINVAL,
						   "--pair-by: %s has no numeric field '%s'%s",
						   sd->spec.text, pb,
						   array_hint(id_ret));
			if (trace_field_present(&t->f_bytes))
				bytes_found = true;
			s->ntypes++;
		}
	}
	if (s->opts.bytes_by && !bytes_found)
		return dmakit_errf(err, errlen, -EINVAL,
				   "--bytes %s: no traced event has such a numeric field",
				   s->opts.bytes_by);
	if (s->opts.close >= 0) {
		s->close = (enum dmakit_trace_close)s->opts.close;
		if (s->close == DMAKIT_TRACE_CLOSE_ID && !(has_id[0] && has_id[1]))
			return dmakit_errf(err, errlen, -EINVAL,
					   "pairing by id needs an id field on both events (--pair-by FIELD)");
	} else if (has_id[0] && has_id[1]) {
		s->close = DMAKIT_TRACE_CLOSE_ID;
	} else if (end_is_irq(s)) {
		s->close = DMAKIT_TRACE_CLOSE_ALL;
	} else {
		s->close = DMAKIT_TRACE_CLOSE_ONE;
	}
	return choose_channel(s, same_kind, err, errlen);
}

/* --- --pid: is a thread part of the traced process? --- */

static bool tid_is_ours(struct dmakit_trace_session *s, int32_t tid)
{
	char path[64];
	size_t i;

	for (i = 0; i < s->ntids; i++)
		if (s->tids[i].tid == tid)
			return s->tids[i].ours;
	if (s->ntids == s->tid_cap) {
		size_t cap = s->tid_cap ? s->tid_cap * 2 : 32;
		struct tid_entry *grown = realloc(s->tids, cap * sizeof(*grown));

		if (!grown)
			return false;
		s->tids = grown;
		s->tid_cap = cap;
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)s->opts.pid,
		 (int)tid);
	s->tids[s->ntids].tid = tid;
	s->tids[s->ntids].ours = access(path, F_OK) == 0;
	return s->tids[s->ntids++].ours;
}

/* The threads the process has now: known even if they exit before read. */
static void seed_tids(struct dmakit_trace_session *s)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)s->opts.pid);
	d = opendir(path);
	while (d && (de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			tid_is_ours(s, (int32_t)atoi(de->d_name));
	if (d)
		closedir(d);
}

/* --- setup --- */

static int enable_side(struct dmakit_trace_session *s, struct side *sd,
		       char *err, size_t errlen)
{
	char file[256];
	int i, ret;

	for (i = 0; i < sd->nevents; i++) {
		if (sd->filter[0]) {
			snprintf(file, sizeof(file), "events/%s/%s/filter",
				 sd->system, sd->events[i]);
			ret = inst_write(s, file, sd->filter);
			if (ret)
				return dmakit_errf(err, errlen, -EINVAL,
						   "%s:%s: the kernel rejected the filter '%s'",
						   sd->system, sd->events[i],
						   sd->filter);
		}
		snprintf(file, sizeof(file), "events/%s/%s/enable", sd->system,
			 sd->events[i]);
		ret = inst_write(s, file, "1");
		if (ret)
			return dmakit_errf(err, errlen, ret,
					   "cannot enable %s:%s: %s", sd->system,
					   sd->events[i], strerror(-ret));
	}
	return 0;
}

static int open_cpus(struct dmakit_trace_session *s, char *err, size_t errlen)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	char rel[64], *path;
	int cpu;

	if (n < 1)
		n = 1;
	s->cpus = calloc((size_t)n, sizeof(*s->cpus));
	if (!s->cpus)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	for (cpu = 0; cpu < n; cpu++) {
		struct cpu_stream *c = &s->cpus[s->ncpus];

		snprintf(rel, sizeof(rel), "per_cpu/cpu%d/trace_pipe_raw", cpu);
		path = tracefs_instance_get_file(s->inst, rel);
		if (!path)
			return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		c->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		tracefs_put_tracing_file(path);
		if (c->fd < 0)
			continue;	/* a possible but absent CPU */
		c->cpu = cpu;
		s->ncpus++;		/* from here on free() closes it */
		c->kbuf = tep_kbuffer(s->tep);
		c->page = malloc(s->subbuf_size);
		if (!c->kbuf || !c->page)
			return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	}
	if (!s->ncpus)
		return dmakit_errf(err, errlen, -ENODEV,
				   "cannot open the instance's per-CPU buffers");
	return 0;
}

/*
 * Parse the ring buffer's page header and only the formats of our events.
 * (tracefs_local_events_system() also parses all of /proc/kallsyms, about
 * a tenth of a second of CPU that nothing here needs.)
 */
static int parse_format(struct dmakit_trace_session *s, const char *rel,
			const char *system, char *err, size_t errlen)
{
	char path[PATH_MAX + 256], *text;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "%s/%.255s", s->tracing_dir, rel);
	ret = dmakit_read_text(path, &text, &len);
	if (ret)
		return dmakit_errf(err, errlen, ret, "cannot read %s: %s", path,
				   strerror(-ret));
	if (!system)
		ret = tep_parse_header_page(s->tep, text, (unsigned long)len,
					    sizeof(long)) ? -EINVAL : 0;
	else
		ret = tep_parse_event(s->tep, text, len, system) ? -EINVAL : 0;
	free(text);
	if (ret)
		return dmakit_errf(err, errlen, ret, "cannot parse %s", path);
	return 0;
}

static int load_formats(struct dmakit_trace_session *s, char *err,
			size_t errlen)
{
	char rel[200];
	int r, i, ret;

	s->tep = tep_alloc();
	if (!s->tep)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	ret = parse_format(s, "events/header_page", NULL, err, errlen);
	for (r = 0; r < s->nsides && !ret; r++) {
		for (i = 0; i < s->side[r].nevents && !ret; i++) {
			snprintf(rel, sizeof(rel), "events/%s/%s/format",
				 s->side[r].system, s->side[r].events[i]);
			ret = parse_format(s, rel, s->side[r].system, err, errlen);
		}
	}
	if (!ret)
		tep_set_long_size(s->tep, tep_get_header_page_size(s->tep));
	return ret;
}

/*
 * An event has one filter and one meaning: the same tracepoint twice (as
 * two sites, or start and end) cannot be told apart.
 */
static int check_distinct(const struct dmakit_trace_session *s, char *err,
			  size_t errlen)
{
	int a, b;

	for (a = 0; a < s->nsides; a++)
		for (b = a + 1; b < s->nsides; b++)
			if (!strcmp(s->side[a].system, s->side[b].system) &&
			    !strcmp(s->side[a].events[0], s->side[b].events[0]))
				return dmakit_errf(err, errlen, -EINVAL,
						   "%s:%s is given twice ('%s' and '%s'): an event can be one start or end site only",
						   s->side[a].system,
						   s->side[a].events[0],
						   s->side[a].spec.text,
						   s->side[b].spec.text);
	return 0;
}

static void describe_sides(struct dmakit_trace_session *s)
{
	int i;

	for (i = 0; i < s->nsides; i++) {
		char *d = s->side_desc[s->side[i].role];
		const char *desc = s->side[i].desc;
		size_t used = strlen(d), len = strlen(desc);

		if (used && used + 2 < sizeof(s->side_desc[0])) {
			memcpy(d + used, "; ", 3);
			used += 2;
		}
		if (used + len >= sizeof(s->side_desc[0]))
			len = sizeof(s->side_desc[0]) - used - 1;
		memcpy(d + used, desc, len);
		d[used + len] = '\0';
	}
}

static int setup(struct dmakit_trace_session *s, char *err, size_t errlen)
{
	char buf[32];
	int ret, r;
	long long sub_kb;

	ret = dmakit_tracefs_mount(s->tracing_dir, sizeof(s->tracing_dir));
	if (ret == -EPERM || ret == -EACCES)
		return dmakit_errf(err, errlen, -EPERM,
				   "tracefs is not mounted and mounting it needs root");
	if (ret)
		return dmakit_errf(err, errlen, -ENODEV,
				   "cannot mount tracefs at /sys/kernel/tracing: %s (is CONFIG_FTRACE enabled?)",
				   strerror(-ret));
	if (access(s->tracing_dir, W_OK))
		return dmakit_errf(err, errlen, -EPERM,
				   "tracing needs root: tracefs instances and uprobes are created by writing to %s",
				   s->tracing_dir);
	ret = dmakit_tracefs_cleanup_leftovers();
	if (ret > 0)
		s->st.leftovers_removed = (unsigned int)ret;

	dmakit_tracefs_session_name(s->name, sizeof(s->name));
	/* before anything is created: see probe.c */
	ret = dmakit_reaper_start(s->tracing_dir, s->name, &s->reaper_fd, err,
				  errlen);
	if (ret)
		return ret;
	s->inst = tracefs_instance_create(s->name);
	if (!s->inst)
		return dmakit_errf(err, errlen, errno ? -errno : -EIO,
				   "cannot create tracefs instance %s: %s",
				   s->name, strerror(errno ? errno : EIO));
	ret = inst_write(s, "tracing_on", "0");
	if (!ret)
		ret = inst_write(s, "trace_clock", "mono");
	if (ret)
		return dmakit_errf(err, errlen, -EOPNOTSUPP,
				   "cannot select the 'mono' trace clock (needs Linux 4.1+)");
	snprintf(buf, sizeof(buf), "%u",
		 s->opts.buffer_kb ? s->opts.buffer_kb : DEFAULT_BUFFER_KB);
	ret = inst_write(s, "buffer_size_kb", buf);
	if (ret)
		return dmakit_errf(err, errlen, ret,
				   "cannot size the trace buffer to %s KiB per CPU: %s",
				   buf, strerror(-ret));
	/* losing the oldest events is what the reader can detect in-stream */
	inst_write(s, "options/overwrite", "1");
	s->subbuf_size = (size_t)getpagesize();
	if (!tracefs_instance_file_read_number(s->inst, "buffer_subbuf_size_kb",
					       &sub_kb) && sub_kb > 0)
		s->subbuf_size = (size_t)sub_kb * 1024;

	for (r = 0; r < s->nsides; r++) {
		struct side *sd = &s->side[r];

		switch (sd->spec.kind) {
		case DMAKIT_SPEC_IRQ:
			ret = resolve_irq(s, sd, err, errlen);
			break;
		case DMAKIT_SPEC_TP:
			ret = resolve_tp(s, sd, err, errlen);
			break;
		case DMAKIT_SPEC_DMAKIT:
			ret = resolve_dmakit(s, sd, err, errlen);
			break;
		case DMAKIT_SPEC_UPROBE:
		case DMAKIT_SPEC_URETPROBE:
			ret = resolve_uprobe(s, sd, err, errlen);
			break;
		case DMAKIT_SPEC_USDT:
			ret = resolve_usdt(s, sd, err, errlen);
			break;
		}
		if (ret)
			return ret;
	}
	ret = check_distinct(s, err, errlen);
	if (ret)
		return ret;
	describe_sides(s);
	ret = load_formats(s, err, errlen);
	if (ret)
		return ret;
	ret = build_types(s, err, errlen);
	if (ret)
		return ret;
	for (r = 0; r < s->nsides; r++) {
		ret = enable_side(s, &s->side[r], err, errlen);
		if (ret)
			return ret;
	}
	ret = open_cpus(s, err, errlen);
	if (ret)
		return ret;
	if (s->opts.pid > 0)
		seed_tids(s);
	{
		struct dmakit_trace_pair_opts po = {
			.close = s->close,
			.timeout_ns = s->opts.timeout_ns,
			.one_open = s->one_open,
			.on_xact = s->opts.on_xact,
			.ctx = s->opts.ctx,
		};

		ret = dmakit_trace_pairer_alloc(&s->pairer, &po);
		if (ret)
			return dmakit_errf(err, errlen, ret, "out of memory");
	}
	return 0;
}

int dmakit_trace_session_alloc(struct dmakit_trace_session **sessionp,
			       const struct dmakit_trace_opts *opts,
			       char *errmsg, size_t errlen)
{
	struct dmakit_trace_session *s;
	int ret, r;

	if (errmsg && errlen)
		errmsg[0] = '\0';
	if (!sessionp || !opts || !opts->nstart_specs || !opts->nend_specs ||
	    !opts->start_specs || !opts->end_specs)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "both a start and an end SPEC are needed");
	if (opts->nstart_specs > DMAKIT_TRACE_MAX_SPECS ||
	    opts->nend_specs > DMAKIT_TRACE_MAX_SPECS)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "at most %d SPECs per side",
				   DMAKIT_TRACE_MAX_SPECS);
	s = calloc(1, sizeof(*s));
	if (!s)
		return dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
	s->opts = *opts;
	s->reaper_fd = -1;
	if (!s->opts.timeout_ns)
		s->opts.timeout_ns = 1000000000ULL;
	for (r = 0; r < 2; r++) {
		unsigned int n = r ? opts->nend_specs : opts->nstart_specs, i;

		for (i = 0; i < n; i++) {
			struct side *sd = &s->side[s->nsides];

			sd->role = (enum dmakit_trace_role)r;
			sd->site = i;
			ret = dmakit_spec_parse(&sd->spec,
						r ? opts->end_specs[i] :
						    opts->start_specs[i],
						errmsg, errlen);
			if (ret)
				goto fail;
			s->nsides++;
		}
	}
	if (opts->pair_by && !valid_pair_by(opts->pair_by)) {
		ret = dmakit_errf(errmsg, errlen, -EINVAL,
				  "--pair-by '%s': expected FIELD or START_FIELD,END_FIELD",
				  opts->pair_by);
		goto fail;
	}
	if (opts->channel_by && !*opts->channel_by) {
		ret = dmakit_errf(errmsg, errlen, -EINVAL, "empty --channel");
		goto fail;
	}
	ret = setup(s, errmsg, errlen);
	if (ret)
		goto fail;
	*sessionp = s;
	return 0;
fail:
	dmakit_trace_session_free(s);
	return ret;
}

void dmakit_trace_session_free(struct dmakit_trace_session *s)
{
	int r, i;

	if (!s)
		return;
	/* an instance with open files cannot be removed: close them first */
	for (i = 0; i < s->ncpus; i++) {
		close(s->cpus[i].fd);
		kbuffer_free(s->cpus[i].kbuf);
		free(s->cpus[i].page);
		free(s->cpus[i].q);
	}
	free(s->cpus);
	if (s->inst) {
		inst_write(s, "tracing_on", "0");
		/* removing the instance disables its events ... */
		tracefs_instance_destroy(s->inst);
		tracefs_instance_free(s->inst);
	}
	/* ... so the probes can go */
	for (r = 0; r < s->nsides; r++) {
		for (i = 0; i < MAX_SITES; i++)
			if (s->side[r].probes_created[i])
				dmakit_uprobe_remove(s->side[r].system,
						     s->side[r].events[i]);
		free(s->side[r].usdt);
	}
	if (s->tep)
		tep_free(s->tep);
	dmakit_trace_pairer_free(s->pairer);
	free(s->vecs);
	free(s->tids);
	if (s->reaper_fd >= 0)
		close(s->reaper_fd);	/* it finds nothing left and exits */
	free(s);
}

/* --- reading and merging --- */

/* The next free queue slot (grown if needed); push() makes it count. */
static struct pending *reserve(struct cpu_stream *c)
{
	if (c->len == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024, i;
		struct pending *q = malloc(cap * sizeof(*q));

		if (!q)
			return NULL;
		for (i = 0; i < c->len; i++)
			q[i] = c->q[(c->head + i) & (c->cap - 1)];
		free(c->q);
		c->q = q;
		c->cap = cap;
		c->head = 0;
	}
	return &c->q[(c->head + c->len) & (c->cap - 1)];
}

static void push(struct cpu_stream *c)
{
	c->len++;
}

/*
 * A gap marker: events of this CPU between @from and @to were lost
 * (@missed of them; negative: the page does not say how many).  Before
 * the CPU's first event the gap starts with tracing, not at time 0.
 */
static int push_loss(struct dmakit_trace_session *s, struct cpu_stream *c,
		     uint64_t from, uint64_t to, int missed)
{
	struct pending *p = reserve(c);

	if (!p)
		return -ENOMEM;
	if (!from)
		from = s->st.start_ns < to ? s->st.start_ns : to;
	memset(p, 0, sizeof(*p));
	p->loss = true;
	p->ev.ts = from;
	p->ev.cpu = c->cpu;
	p->loss_to = to;
	p->loss_count = missed > 0 ? (uint64_t)missed : DMAKIT_TRACE_COUNT_UNKNOWN;
	push(c);
	return 0;
}

static struct evtype *type_of(struct dmakit_trace_session *s, int id)
{
	int i;

	for (i = 0; i < s->ntypes; i++)
		if (s->types[i].id == id)
			return &s->types[i];
	return NULL;
}

static bool decode(struct dmakit_trace_session *s, struct cpu_stream *c,
		   const unsigned char *data, int size, uint64_t ts,
		   struct dmakit_trace_event *ev)
{
	struct evtype *t;
	uint16_t type;
	int32_t pid;
	uint64_t v, v2;

	if (size < 8)
		return false;
	memcpy(&type, data, 2);
	memcpy(&pid, data + 4, 4);	/* common_pid: the thread */
	t = type_of(s, type);
	if (!t)
		return false;
	if (t->user && s->opts.pid > 0 && !tid_is_ours(s, pid)) {
		s->st.pid_filtered++;
		return false;
	}
	memset(ev, 0, sizeof(*ev));
	ev->ts = ts;
	ev->role = t->role;
	ev->cpu = c->cpu;
	ev->tid = pid;
	ev->vector = -1;
	ev->site = t->side->site;
	t->side->seen++;
	if (read_field(&t->f_irq, data, size, &v))
		ev->vector = (int32_t)v;
	if (read_field(&t->f_id, data, size, &v)) {
		ev->id = v;
		ev->flags |= DMAKIT_TRACE_F_ID;
	}
	if (read_field(&t->f_bytes, data, size, &v)) {
		ev->bytes = v;
		ev->flags |= DMAKIT_TRACE_F_BYTES;
	}
	if (read_field(&t->f_status, data, size, &v)) {
		ev->status = (int64_t)v;
		ev->flags |= DMAKIT_TRACE_F_STATUS;
	}
	if (t->chan_tid)
		ev->chan = (uint64_t)(uint32_t)pid;
	else if (read_field(&t->f_chan, data, size, &v))
		ev->chan = read_field(&t->f_chan2, data, size, &v2) ?
			   v ^ (v2 * 0x9e3779b97f4a7c15ULL) : v;
	return true;
}

/* Parse one page into @c's queue; a gap before it becomes a marker. */
static int parse_page(struct dmakit_trace_session *s, struct cpu_stream *c)
{
	unsigned long long ts;
	bool first = true;
	int missed, ret;
	void *data;

	if (kbuffer_load_subbuffer(c->kbuf, c->page) < 0)
		return -EIO;
	missed = kbuffer_missed_events(c->kbuf);
	for (data = kbuffer_read_event(c->kbuf, &ts); data;
	     data = kbuffer_next_event(c->kbuf, &ts)) {
		struct pending *p;

		if (first && missed) {
			ret = push_loss(s, c, c->last_ts, ts, missed);
			if (ret)
				return ret;
		}
		first = false;
		if (ts > c->last_ts)
			c->last_ts = ts;
		s->st.events++;
		p = reserve(c);
		if (!p)
			return -ENOMEM;
		/* decoded in place: the queue slot is the event */
		if (decode(s, c, data, kbuffer_event_size(c->kbuf), ts, &p->ev)) {
			p->loss = false;
			push(c);
		}
	}
	if (first && missed)	/* a gap, then an empty page: lost before now */
		return push_loss(s, c, c->last_ts, dmakit_now_ns(), missed);
	return 0;
}

/* Read what @c has now; returns pages read or -errno. */
static int read_cpu(struct dmakit_trace_session *s, struct cpu_stream *c,
		    int budget)
{
	int pages = 0, ret;

	c->drained = false;
	while (pages < budget) {
		uint64_t before = dmakit_now_ns();
		ssize_t n = read(c->fd, c->page, s->subbuf_size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n <= 0) {
			c->drained = true;
			c->drained_at = before;
			break;
		}
		pages++;
		ret = parse_page(s, c);
		if (ret)
			return ret;
	}
	return pages;
}

static void count_irq(struct dmakit_trace_session *s,
		      const struct dmakit_trace_event *ev)
{
	unsigned int i;

	for (i = 0; i < s->nvecs; i++) {
		struct vec *v = &s->vecs[i];

		if (v->irq != (unsigned int)ev->vector)
			continue;
		v->total++;
		if (!s->t0b)
			return;		/* before the first count was read */
		if (ev->ts < s->t0a)
			return;
		if (ev->ts <= s->t0b + COUNT_MARGIN_NS ||
		    (s->t1a && ev->ts > s->t1a &&
		     ev->ts <= s->t1b + COUNT_MARGIN_NS))
			v->ambiguous++;
		else if (!s->t1a || ev->ts <= s->t1a)
			v->traced++;
		return;
	}
}

/* Feed every queued event up to @upto in time order. */
static int merge(struct dmakit_trace_session *s, uint64_t upto)
{
	int processed = 0, ret;

	for (;;) {
		struct cpu_stream *best = NULL;
		uint64_t limit = upto;
		int i;

		/* the CPU with the oldest event, and how far it may run alone */
		for (i = 0; i < s->ncpus; i++) {
			struct cpu_stream *c = &s->cpus[i];

			if (!c->len)
				continue;
			if (!best || c->q[c->head].ev.ts < best->q[best->head].ev.ts)
				best = c;
		}
		if (!best || best->q[best->head].ev.ts > upto)
			break;
		for (i = 0; i < s->ncpus; i++) {
			struct cpu_stream *c = &s->cpus[i];

			if (c != best && c->len && c->q[c->head].ev.ts < limit)
				limit = c->q[c->head].ev.ts;
		}
		while (best->len && best->q[best->head].ev.ts <= limit) {
			struct pending *p = &best->q[best->head];

			if (p->loss) {
				dmakit_trace_pairer_loss(s->pairer, p->ev.ts, p->loss_to,
							 p->loss_count == DMAKIT_TRACE_COUNT_UNKNOWN ?
							 0 : p->loss_count);
				if (s->opts.on_loss)
					s->opts.on_loss(s->opts.ctx, p->ev.cpu,
							p->ev.ts, p->loss_to,
							p->loss_count);
			} else {
				if (p->ev.vector >= 0)
					count_irq(s, &p->ev);
				if (p->ev.role == DMAKIT_TRACE_END && s->opts.on_end)
					s->opts.on_end(s->opts.ctx, &p->ev);
				ret = dmakit_trace_pairer_feed(s->pairer, &p->ev);
				if (ret)
					return ret;
				processed++;
			}
			best->head = (best->head + 1) & (best->cap - 1);
			best->len--;
		}
	}
	if (upto != UINT64_MAX && upto > s->processed_to) {
		s->processed_to = upto;
		dmakit_trace_pairer_advance(s->pairer, upto);
	}
	return processed;
}

static int read_all(struct dmakit_trace_session *s, int budget,
		    uint64_t *watermark)
{
	uint64_t w = UINT64_MAX;
	int i, ret;

	for (i = 0; i < s->ncpus; i++) {
		struct cpu_stream *c = &s->cpus[i];
		uint64_t cw;

		ret = read_cpu(s, c, budget);
		if (ret < 0)
			return ret;
		/* what this CPU can still deliver is newer than cw */
		cw = c->drained ? (c->drained_at > COMMIT_SLACK_NS ?
				   c->drained_at - COMMIT_SLACK_NS : 0)
				: c->last_ts;
		if (cw < w)
			w = cw;
	}
	*watermark = w;
	return 0;
}

int dmakit_trace_session_start(struct dmakit_trace_session *s)
{
	int ret;

	if (!s || s->started)
		return -EINVAL;
	ret = inst_write(s, "tracing_on", "1");
	if (ret)
		return ret;
	s->started = true;
	s->st.start_ns = dmakit_now_ns();
	dmakit_trace_session_read_loss(s);
	s->processed_to = s->st.start_ns;
	/* counts read now open the window the vectors are compared in */
	s->t0a = dmakit_now_ns();
	ret = read_counts(s, false);
	s->t0b = dmakit_now_ns();
	return ret;
}

int dmakit_trace_session_poll(struct dmakit_trace_session *s, int timeout_ms)
{
	struct timespec ts;
	uint64_t w;
	int ret;

	if (!s || !s->started || s->stopped)
		return -EINVAL;
	if (timeout_ms > 0) {
		int ms = timeout_ms < POLL_PERIOD_MS ? timeout_ms : POLL_PERIOD_MS;

		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		if (nanosleep(&ts, NULL) && errno == EINTR)
			return -EINTR;
	}
	ret = read_all(s, PAGES_PER_POLL, &w);
	if (ret)
		return ret;
	return merge(s, w);
}

int dmakit_trace_session_stop(struct dmakit_trace_session *s)
{
	uint64_t w;
	int ret, i, r2;

	if (!s || !s->started)
		return -EINVAL;
	if (s->stopped)
		return 0;
	s->t1a = dmakit_now_ns();
	r2 = read_counts(s, true);
	s->t1b = dmakit_now_ns();
	ret = inst_write(s, "tracing_on", "0");
	s->stopped = true;
	s->st.stop_ns = dmakit_now_ns();
	/* everything is in the buffers now: read it all */
	do {
		ret = read_all(s, INT_MAX, &w);
		if (ret)
			return ret;
		for (i = 0; i < s->ncpus && s->cpus[i].drained; i++)
			;
	} while (i < s->ncpus);
	ret = merge(s, UINT64_MAX);
	if (ret < 0)
		return ret;
	dmakit_trace_pairer_finish(s->pairer, s->st.stop_ns);
	dmakit_trace_session_read_loss(s);
	return r2;
}

int dmakit_parse_ring_stats(const char *text, uint64_t *lost)
{
	static const char *const counters[] = {
		"overrun:", "commit overrun:", "dropped events:",
	};
	bool have_overrun = false;
	const char *line;
	size_t i;

	*lost = 0;
	for (line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
			size_t n = strlen(counters[i]);
			unsigned long long v;
			char *end;

			if (strncmp(line, counters[i], n))
				continue;
			errno = 0;
			v = strtoull(line + n, &end, 10);
			if (errno || end == line + n)
				return -EINVAL;
			*lost += v;
			if (i == 0)
				have_overrun = true;
		}
	}
	/* without the overrun line nothing can be said */
	return have_overrun ? 0 : -ENODATA;
}

/* The kernel's own count of what it could not keep, summed over CPUs. */
int dmakit_trace_session_read_loss(struct dmakit_trace_session *s)
{
	uint64_t total = 0, lost;
	int i, ret = 0;

	if (!s || !s->inst)
		return -EINVAL;
	for (i = 0; i < s->ncpus && !ret; i++) {
		char rel[64], *stats;

		snprintf(rel, sizeof(rel), "per_cpu/cpu%d/stats", s->cpus[i].cpu);
		stats = tracefs_instance_file_read(s->inst, rel, NULL);
		if (!stats) {
			ret = errno ? -errno : -EIO;
			break;
		}
		ret = dmakit_parse_ring_stats(stats, &lost);
		free(stats);
		total += lost;
	}
	s->st.lost_known = !ret;
	if (!ret)
		s->st.lost_events = total;
	return ret;
}

void dmakit_trace_session_stats(const struct dmakit_trace_session *s,
				struct dmakit_trace_stats *st)
{
	*st = s->st;
	dmakit_trace_pairer_stats(s->pairer, &st->pair);
	st->close = s->close;
	st->nvectors = s->nvecs;
	/* gaps found in-stream but not yet in the kernel's total (running) */
	if (st->pair.lost_events > st->lost_events)
		st->lost_events = st->pair.lost_events;
}

int dmakit_trace_session_vector(const struct dmakit_trace_session *s,
				unsigned int i,
				struct dmakit_trace_vector_stats *v)
{
	if (i >= s->nvecs)
		return -ERANGE;
	memset(v, 0, sizeof(*v));
	v->irq = s->vecs[i].irq;
	snprintf(v->name, sizeof(v->name), "%s", s->vecs[i].name);
	v->traced = s->vecs[i].traced;
	v->traced_total = s->vecs[i].total;
	v->proc_start = s->vecs[i].proc_start;
	v->proc_end = s->vecs[i].proc_end;
	v->ambiguous = s->vecs[i].ambiguous;
	return 0;
}

const char *dmakit_trace_session_name(const struct dmakit_trace_session *s)
{
	return s->name;
}

const char *dmakit_trace_session_describe(const struct dmakit_trace_session *s,
					  enum dmakit_trace_role role)
{
	return s->side_desc[role == DMAKIT_TRACE_END];
}

unsigned int dmakit_trace_session_nsites(const struct dmakit_trace_session *s,
					 enum dmakit_trace_role role)
{
	unsigned int n = 0;
	int i;

	for (i = 0; i < s->nsides; i++)
		n += s->side[i].role == role;
	return n;
}

int dmakit_trace_session_site(const struct dmakit_trace_session *s,
			      enum dmakit_trace_role role, unsigned int i,
			      struct dmakit_trace_site *site)
{
	int k;

	for (k = 0; k < s->nsides; k++) {
		const struct side *sd = &s->side[k];

		if (sd->role != role || sd->site != i)
			continue;
		site->spec = sd->spec.text;
		site->desc = sd->desc;
		site->events = sd->seen;
		return 0;
	}
	return -ERANGE;
}

const char *dmakit_trace_session_pairing(const struct dmakit_trace_session *s)
{
	return s->pairing;
}

const char *dmakit_trace_close_name(enum dmakit_trace_close close)
{
	switch (close) {
	case DMAKIT_TRACE_CLOSE_ONE:
		return "fifo";
	case DMAKIT_TRACE_CLOSE_ALL:
		return "batch";
	case DMAKIT_TRACE_CLOSE_ID:
		return "id";
	}
	return "?";
}
