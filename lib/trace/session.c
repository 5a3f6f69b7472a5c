// SPDX-License-Identifier: MIT
/*
 * A tracing session: SPECs resolved to events (tracepoints, uprobes
 * created in a group named like the session, always removed: free()
 * undoes everything; if the process dies first, its reaper does, see
 * probe.c; what a killed reaper leaves, the next session removes), their
 * fields (id, bytes, status, channel), the pairing mode and channel
 * (per thread by default when every event happens in the calling
 * thread), and the backend that captures and pairs them: tracefs.c or
 * bpf.c (--backend; auto: BPF where it can, see choose_backend()).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "session.h"

static bool tracefs_has(const struct dmakit_trace_session *s, const char *rel)
{
	char path[PATH_MAX + 256];

	snprintf(path, sizeof(path), "%s/%.255s", s->tracing_dir, rel);
	return access(path, F_OK) == 0;
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
		     tok = strtok_r(NULL, ",", &save)) {
			unsigned long irq = strtoul(tok, NULL, 10);
			char dir[48];

			/* a number no interrupt has would trace nothing, silently */
			snprintf(dir, sizeof(dir), "/proc/irq/%lu", irq);
			if (irq > UINT_MAX || access(dir, F_OK))
				ret = dmakit_errf(err, errlen, -ENODEV,
						  "no IRQ %s on this machine (see /proc/interrupts)",
						  tok);
			else
				ret = add_vec(s, (unsigned int)irq, "");
		}
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
	sd->offset = off;
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
	const char *asked = name;
	char alias[16];
	unsigned int k;
	int ret = -ENOENT;

	memset(f, 0, sizeof(*f));
	if (!name)
		return -ENOENT;
	/* a USDT argument named in the SPEC is its argN field */
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
			ret = 0;
		}
	}
	if (ret)
		ret = trace_field_find(ev, name, allow, f);
	dmakit_strlcpy(f->name, asked, sizeof(f->name));
	return ret;
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

/*
 * Named probe arguments that no id, bytes, status or channel names: a
 * field the user named (chan=arg1) would otherwise be dropped without a
 * word, so the header says so.
 */
static void list_unused_fields(struct dmakit_trace_session *s)
{
	const char *bytes = s->opts.bytes_by ? s->opts.bytes_by : "bytes";
	const char *status = s->opts.status_by, *chan = s->opts.channel_by;
	size_t used = 0;
	char buf[64];
	unsigned int a;
	int k;

	s->unused_fields[0] = '\0';
	for (k = 0; k < s->nsides; k++) {
		const struct side *sd = &s->side[k];
		const char *id = s->opts.pair_by ?
			pair_by_field(s->opts.pair_by, sd->role, buf, sizeof(buf)) : "id";

		for (a = 0; a < sd->spec.nargs; a++) {
			const char *n = sd->spec.arg[a].name;
			bool is_status = status ? !strcmp(n, status) :
				!strcmp(n, "status") || !strcmp(n, "ret");

			if (!strcmp(n, id) || !strcmp(n, bytes) || is_status ||
			    (chan && !strcmp(n, chan)) ||
			    used >= sizeof(s->unused_fields))
				continue;
			used += (size_t)snprintf(s->unused_fields + used,
						 sizeof(s->unused_fields) - used,
						 "%s%s %u: %s", used ? ", " : "",
						 sd->role == DMAKIT_TRACE_START ? "start" : "end",
						 sd->site, n);
		}
	}
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

static bool has_irq_side(const struct dmakit_trace_session *s)
{
	int i;

	for (i = 0; i < s->nsides; i++)
		if (s->side[i].spec.kind == DMAKIT_SPEC_IRQ)
			return true;
	return false;
}

/*
 * The backend: as --backend asks, or (auto) BPF where it can trace these
 * events (see its unsupported()) and loads (BTF, permissions), else
 * tracefs; the reason is kept for dmakit_trace_session_backend().
 * Interrupt ends go to tracefs: a raw tracepoint program on
 * irq_handler_entry was measured not to run for some interrupts with no
 * miss counted (1 to 3 of ~270 in 3 of 25 runs here, /proc/interrupts
 * counted them, tracefs recorded them), which makes batches wrong.
 */
static int choose_backend(struct dmakit_trace_session *s, char *err,
			  size_t errlen)
{
	const struct dmakit_trace_backend *bpf = &dmakit_trace_bpf_backend;
	char why[256], bpf_err[DMAKIT_ERRMSG_MAX];
	const char *no;
	int ret;

	switch (s->opts.backend) {
	case DMAKIT_TRACE_BACKEND_TRACEFS:
		s->backend = &dmakit_trace_tracefs_backend;
		snprintf(s->backend_reason, sizeof(s->backend_reason),
			 "as --backend asks");
		return s->backend->open(s, err, errlen);
	case DMAKIT_TRACE_BACKEND_BPF:
		no = bpf->unsupported(s, why, sizeof(why));
		if (no)
			return dmakit_errf(err, errlen, -EOPNOTSUPP,
					   "the BPF backend cannot trace this: %s (use --backend tracefs or auto)",
					   no);
		s->backend = bpf;
		snprintf(s->backend_reason, sizeof(s->backend_reason),
			 "as --backend asks");
		return s->backend->open(s, err, errlen);
	default:
		break;
	}
	no = has_irq_side(s) ?
	     "an irq SPEC: the kernel may skip the BPF program for an interrupt without counting it (docs/trace.md)" :
	     bpf->unsupported(s, why, sizeof(why));
	if (!no) {
		s->backend = bpf;
		ret = bpf->open(s, bpf_err, sizeof(bpf_err));
		if (!ret) {
			bpf->describe(s, why, sizeof(why));
			snprintf(s->backend_reason, sizeof(s->backend_reason),
				 "auto: the kernel has BTF and lets us load BPF, and %.200s",
				 why);
			return 0;
		}
		bpf->close(s);
		no = bpf_err;
	}
	s->backend = &dmakit_trace_tracefs_backend;
	snprintf(s->backend_reason, sizeof(s->backend_reason),
		 "auto: not bpf, %.250s", no);
	return s->backend->open(s, err, errlen);
}

static int setup(struct dmakit_trace_session *s, char *err, size_t errlen)
{
	int ret, r;

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
	if (!ret)
		ret = dmakit_tracefs_session_lock(&s->inst, &s->lock_fd, s->name,
						  err, errlen);
	if (ret)
		return ret;

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
	list_unused_fields(s);
	return choose_backend(s, err, errlen);
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
	s->lock_fd = -1;
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
	if (s->backend)
		s->backend->close(s);
	/* the instance first: removing it disables its events ... */
	if (s->inst) {
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
	free(s->vecs);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->reaper_fd >= 0)
		close(s->reaper_fd);	/* it finds nothing left and exits */
	free(s);
}

/* --- the backend's calls --- */

int dmakit_trace_session_start(struct dmakit_trace_session *s)
{
	return s ? s->backend->start(s) : -EINVAL;
}

int dmakit_trace_session_poll(struct dmakit_trace_session *s, int timeout_ms)
{
	return s ? s->backend->poll(s, timeout_ms) : -EINVAL;
}

int dmakit_trace_session_stop(struct dmakit_trace_session *s)
{
	return s ? s->backend->stop(s) : -EINVAL;
}

int dmakit_trace_session_read_loss(struct dmakit_trace_session *s)
{
	return s ? s->backend->read_loss(s) : -EINVAL;
}

/*
 * Interrupts of vector @v that /proc/interrupts counted in the window and
 * no event was read for, even counting every ambiguous one in (0 while
 * the window is open).  The kernel's own count is the reference: on some
 * kernels a BPF program attached to irq_handler_entry is not run for an
 * interrupt and no miss is counted (see docs/trace.md).
 */
static uint64_t vec_untraced(const struct dmakit_trace_session *s,
			     const struct vec *v)
{
	uint64_t delta = v->proc_end - v->proc_start;

	if (!s->t1b || v->proc_end < v->proc_start)
		return 0;
	return delta > v->traced + v->ambiguous ?
	       delta - v->traced - v->ambiguous : 0;
}

void dmakit_trace_session_stats(const struct dmakit_trace_session *s,
				struct dmakit_trace_stats *st)
{
	unsigned int i;

	*st = s->st;
	st->close = s->close;
	st->nvectors = s->nvecs;
	s->backend->stats(s, st);
	st->lost_interrupts = 0;
	for (i = 0; i < s->nvecs; i++)
		st->lost_interrupts += vec_untraced(s, &s->vecs[i]);
	st->lost_events += st->lost_interrupts;
}

int dmakit_trace_session_kernel_hist(const struct dmakit_trace_session *s,
				     uint64_t counts[DMAKIT_TRACE_KHIST_SLOTS])
{
	if (!s->backend->kernel_hist)
		return -EOPNOTSUPP;
	return s->backend->kernel_hist(s, counts);
}

const char *dmakit_trace_session_backend(const struct dmakit_trace_session *s,
					 const char **reason)
{
	if (reason)
		*reason = s->backend_reason;
	return s->backend->name;
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
	v->untraced = vec_untraced(s, &s->vecs[i]);
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

const char *dmakit_trace_session_unused_fields(const struct dmakit_trace_session *s)
{
	return s->unused_fields;
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
