// SPDX-License-Identifier: MIT
/*
 * PCIe/IO perf PMUs from /sys/bus/event_source/devices: which exist,
 * which covers a PCI function (where the PMU says), and counting events
 * with perf_event_open.  Layouts modelled on Linux 6.12 (see
 * include/dmakit/pmu.h).  Paths are relative to a replaceable root.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "internal.h"
#include "trace_internal.h"
#include "dmakit/pmu.h"

#define PMU_DIR "/sys/bus/event_source/devices"

static const struct {
	const char *prefix;
	enum dmakit_pmu_family family;
	const char *name;
} families[] = {
	/* longest prefix first: free-running before plain IIO */
	{ "uncore_iio_free_running", DMAKIT_PMU_INTEL_IIO_FREE, "Intel IIO free-running bandwidth" },
	{ "uncore_iio_", DMAKIT_PMU_INTEL_IIO, "Intel IIO stack" },
	{ "amd_df", DMAKIT_PMU_AMD_DF, "AMD data fabric" },
	{ "amd_iommu", DMAKIT_PMU_AMD_IOMMU, "AMD IOMMU" },
	{ "dwc_rootport_", DMAKIT_PMU_DWC_PCIE, "DesignWare PCIe root port" },
	{ "hisi_pcie", DMAKIT_PMU_HISI_PCIE, "HiSilicon PCIe core" },
};

const char *dmakit_pmu_family_name(enum dmakit_pmu_family family)
{
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (families[i].family == family)
			return families[i].name;
	return "?";
}

static int family_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (!strncmp(name, families[i].prefix, strlen(families[i].prefix)))
			return (int)families[i].family;
	return -1;
}

/* First line of a small sysfs file, trailing newline cut; -errno if none. */
static int read_line(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX * 2], *text, *nl;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = dmakit_read_text(path, &text, NULL);
	if (ret)
		return ret;
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	dmakit_strlcpy(buf, text, len);
	free(text);
	return 0;
}

/* Where a function sits: its root bus and the root port above it. */
struct pci_place {
	unsigned int domain, root_bus;
	bool has_port;
	unsigned int port_bus, port_dev, port_fn;
};

/*
 * From the device link's target, ".../devices/pci0000:16/0000:16:02.0/
 * 0000:17:00.0": the host bridge names the root bus; the first function
 * after it is the root port (or the function itself on the root bus).
 */
static int pci_place_at(const char *root, const char *bdf,
			struct pci_place *p)
{
	char path[PATH_MAX], target[PATH_MAX], *host, *next;
	ssize_t n;
	unsigned int d, b, dv, fn;

	memset(p, 0, sizeof(*p));
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", root, bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	host = strstr(target, "/pci");
	if (!host || sscanf(host, "/pci%x:%x", &d, &b) != 2)
		return -EINVAL;
	p->domain = d;
	p->root_bus = b;
	next = strchr(host + 1, '/');
	if (next && sscanf(next, "/%x:%x:%x.%x", &d, &b, &dv, &fn) == 4) {
		p->has_port = true;
		p->port_bus = b;
		p->port_dev = dv;
		p->port_fn = fn;
	}
	return 0;
}

static unsigned int count_events(const char *dir)
{
	char path[PATH_MAX * 2];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/events", dir);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !strchr(de->d_name, '.'))
			n++;
	closedir(d);
	return n;
}

/* Intel: each dieX holds "segment:root bus" of the stack this PMU counts. */
static void scope_iio(const char *dir, const struct pci_place *p, bool have,
		      struct dmakit_pmu_info *info)
{
	struct dirent *de;
	char seg[32];
	unsigned int d, b;
	DIR *dd = opendir(dir);
	size_t used = 0;

	if (!dd)
		return;
	while ((de = readdir(dd))) {
		if (strncmp(de->d_name, "die", 3) ||
		    read_line(dir, de->d_name, seg, sizeof(seg)) ||
		    sscanf(seg, "%x:%x", &d, &b) != 2)
			continue;
		if (used < sizeof(info->scope))
			used += (size_t)snprintf(info->scope + used,
						 sizeof(info->scope) - used,
						 "%sroot bus %04x:%02x (%s)",
						 used ? ", " : "", d, b,
						 de->d_name);
		if (have)
			info->covers = d == p->domain && b == p->root_bus ?
				       DMAKIT_PMU_COVERS_YES :
				       info->covers == DMAKIT_PMU_COVERS_YES ?
				       DMAKIT_PMU_COVERS_YES : DMAKIT_PMU_COVERS_NO;
	}
	closedir(dd);
}

/* dwc_rootport_<sbdf>: sbdf = segment << 16 | bus << 8 | devfn. */
static void scope_dwc(const char *name, const struct pci_place *p, bool have,
		      struct dmakit_pmu_info *info)
{
	unsigned long sbdf;
	char *end;
	unsigned int seg, bus, dev, fn;

	sbdf = strtoul(name + strlen("dwc_rootport_"), &end, 16);
	if (*end)
		return;
	seg = (unsigned int)(sbdf >> 16);
	bus = (sbdf >> 8) & 0xff;
	dev = (sbdf >> 3) & 0x1f;
	fn = sbdf & 7;
	snprintf(info->scope, sizeof(info->scope), "root port %04x:%02x:%02x.%x",
		 seg, bus, dev, fn);
	if (have)
		info->covers = p->has_port && seg == p->domain &&
			       bus == p->port_bus && dev == p->port_dev &&
			       fn == p->port_fn ?
			       DMAKIT_PMU_COVERS_YES : DMAKIT_PMU_COVERS_NO;
}

/* hisi_pcie: "bus" is its root ports' bus, bdf_min/bdf_max their range. */
static void scope_hisi(const char *dir, const struct pci_place *p, bool have,
		       struct dmakit_pmu_info *info)
{
	char buf[32];
	unsigned long bus, lo = 0, hi = 0;
	bool range;
	unsigned int port;

	if (read_line(dir, "bus", buf, sizeof(buf)))
		return;
	bus = strtoul(buf, NULL, 0);
	range = !read_line(dir, "bdf_min", buf, sizeof(buf)) &&
		(lo = strtoul(buf, NULL, 0), !read_line(dir, "bdf_max", buf, sizeof(buf)));
	if (range)
		hi = strtoul(buf, NULL, 0);
	if (range)
		snprintf(info->scope, sizeof(info->scope),
			 "root ports on bus 0x%02lx (bdf 0x%04lx-0x%04lx)", bus,
			 lo, hi);
	else
		snprintf(info->scope, sizeof(info->scope),
			 "root ports on bus 0x%02lx", bus);
	if (!have)
		return;
	/* the attributes carry no segment: a match is on bus numbers only */
	port = p->port_bus << 8 | p->port_dev << 3 | p->port_fn;
	if (!p->has_port || p->port_bus != bus)
		info->covers = DMAKIT_PMU_COVERS_NO;
	else if (range)
		info->covers = port >= lo && port <= hi ?
			       DMAKIT_PMU_COVERS_YES : DMAKIT_PMU_COVERS_NO;
	else
		info->covers = DMAKIT_PMU_COVERS_YES;
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct dmakit_pmu_info *)a)->name,
		      ((const struct dmakit_pmu_info *)b)->name);
}

int dmakit_pmu_list_at(const char *root, const char *bdf,
		       struct dmakit_pmu_info **pmus, size_t *count,
		       char *errmsg, size_t errlen)
{
	char dir[PATH_MAX], sub[PATH_MAX + 256], buf[64], norm[32];
	struct dmakit_pmu_info *v = NULL, *grown, *info;
	struct pci_place place;
	size_t n = 0, cap = 0;
	struct dirent *de;
	bool have = false;
	DIR *d;
	int fam;

	*pmus = NULL;
	*count = 0;
	if (bdf) {
		unsigned int dm, b, dv, fn;
		char tail;

		if (sscanf(bdf, "%x:%x:%x.%x%c", &dm, &b, &dv, &fn, &tail) == 4)
			snprintf(norm, sizeof(norm), "%04x:%02x:%02x.%x", dm, b, dv, fn);
		else if (sscanf(bdf, "%x:%x.%x%c", &b, &dv, &fn, &tail) == 3)
			snprintf(norm, sizeof(norm), "0000:%02x:%02x.%x", b, dv, fn);
		else
			return dmakit_errf(errmsg, errlen, -EINVAL,
					   "bad PCI address '%s' (expected e.g. 0000:17:00.0)",
					   bdf);
		if (pci_place_at(root, norm, &place))
			return dmakit_errf(errmsg, errlen, -ENODEV,
					   "no PCI device %s (see 'dmakit info')",
					   norm);
		have = true;
	}
	snprintf(dir, sizeof(dir), "%s" PMU_DIR, root);
	d = opendir(dir);
	if (!d)
		return 0;	/* no perf events at all: no PMUs */
	while ((de = readdir(d))) {
		fam = family_of(de->d_name);
		if (fam < 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				closedir(d);
				free(v);
				return dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
			}
			v = grown;
		}
		info = &v[n++];
		memset(info, 0, sizeof(*info));
		dmakit_strlcpy(info->name, de->d_name, sizeof(info->name));
		info->family = (enum dmakit_pmu_family)fam;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		info->type = read_line(sub, "type", buf, sizeof(buf)) ? -1 : atoi(buf);
		read_line(sub, "cpumask", info->cpumask, sizeof(info->cpumask));
		info->nevents = count_events(sub);
		switch (info->family) {
		case DMAKIT_PMU_INTEL_IIO:
			scope_iio(sub, &place, have, info);
			break;
		case DMAKIT_PMU_DWC_PCIE:
			scope_dwc(info->name, &place, have, info);
			break;
		case DMAKIT_PMU_HISI_PCIE:
			scope_hisi(sub, &place, have, info);
			break;
		default:	/* free-running IIO, AMD: no mapping in sysfs */
			break;
		}
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_info);
	*pmus = v;
	*count = n;
	return 0;
}

int dmakit_pmu_list(const char *bdf, struct dmakit_pmu_info **pmus,
		    size_t *count, char *errmsg, size_t errlen)
{
	return dmakit_pmu_list_at("", bdf, pmus, count, errmsg, errlen);
}

/* ------------------------------------------------------------------ */
/* Event strings                                                      */
/* ------------------------------------------------------------------ */

static const struct {
	const char *name;
	uint64_t config;
	const char *unit;
} sw_events[] = {
	{ "cpu-clock", PERF_COUNT_SW_CPU_CLOCK, "ns" },
	{ "task-clock", PERF_COUNT_SW_TASK_CLOCK, "ns" },
	{ "context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES, "" },
	{ "cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS, "" },
	{ "page-faults", PERF_COUNT_SW_PAGE_FAULTS, "" },
};

/* Put @value into the bits a format file names ("config:0-7,21"). */
static int apply_format(const char *fmt, uint64_t value,
			struct perf_event_attr *attr)
{
	__u64 *field;
	const char *p = strchr(fmt, ':');
	unsigned int lo, hi, vbit = 0;

	if (!strncmp(fmt, "config2:", 8))
		field = &attr->config2;
	else if (!strncmp(fmt, "config1:", 8))
		field = &attr->config1;
	else if (!strncmp(fmt, "config:", 7))
		field = &attr->config;
	else
		return -EINVAL;
	while (p && *p) {
		int used = 0;

		p++;
		if (sscanf(p, "%u-%u%n", &lo, &hi, &used) != 2) {
			used = 0;
			if (sscanf(p, "%u%n", &lo, &used) != 1)
				return -EINVAL;
			hi = lo;
		}
		if (hi < lo || hi > 63)
			return -EINVAL;
		for (; lo <= hi; lo++, vbit++) {
			if (vbit < 64 && (value >> vbit & 1))
				*field |= UINT64_C(1) << lo;
			else
				*field &= ~(UINT64_C(1) << lo);
		}
		p += used;
		if (*p != ',')
			break;
	}
	if (vbit < 64 && value >> vbit)
		return -ERANGE;		/* more bits than the field has */
	return 0;
}

static int apply_terms(const char *pmudir, const char *terms,
		       struct perf_event_attr *attr, char *unit, size_t ulen,
		       double *scale, int depth, char *errmsg, size_t errlen);

static int apply_term(const char *pmudir, const char *term,
		      struct perf_event_attr *attr, char *unit, size_t ulen,
		      double *scale, int depth, char *errmsg, size_t errlen)
{
	char key[64], fmt[128], sub[PATH_MAX], *text, buf[96];
	const char *eq = strchr(term, '=');
	uint64_t value = 1;
	char *end;
	int ret;

	dmakit_strlcpy(key, term, eq && (size_t)(eq - term) < sizeof(key) ?
		       (size_t)(eq - term) + 1 : sizeof(key));
	if (eq) {
		errno = 0;
		value = strtoull(eq + 1, &end, 0);
		if (errno || end == eq + 1 || *end)
			return dmakit_errf(errmsg, errlen, -EINVAL,
					   "term '%s': value is not a number", term);
	}
	snprintf(sub, sizeof(sub), "%s/format", pmudir);
	if (!read_line(sub, key, fmt, sizeof(fmt))) {
		ret = apply_format(fmt, value, attr);
		if (ret)
			return dmakit_errf(errmsg, errlen, -EINVAL,
					   "term '%s' does not fit its format '%s'",
					   term, fmt);
		return 0;
	}
	/* an event alias: its own terms, its scale and unit */
	snprintf(sub, sizeof(sub), "%s/events/%s", pmudir, key);
	if (eq || depth > 0 || strchr(key, '/') || strchr(key, '.') ||
	    dmakit_read_text(sub, &text, NULL))
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "'%s' is neither an event nor a format term of %s",
				   key, strrchr(pmudir, '/') + 1);
	end = strchr(text, '\n');
	if (end)
		*end = '\0';
	ret = apply_terms(pmudir, text, attr, unit, ulen, scale, depth + 1,
			  errmsg, errlen);
	free(text);
	snprintf(sub, sizeof(sub), "%s/events", pmudir);
	snprintf(buf, sizeof(buf), "%s.scale", key);
	snprintf(fmt, sizeof(fmt), "%s", "");
	if (!read_line(sub, buf, fmt, sizeof(fmt)))
		*scale = strtod(fmt, NULL);
	snprintf(buf, sizeof(buf), "%s.unit", key);
	if (!read_line(sub, buf, fmt, sizeof(fmt)))
		dmakit_strlcpy(unit, fmt, ulen);
	return ret;
}

static int apply_terms(const char *pmudir, const char *terms,
		       struct perf_event_attr *attr, char *unit, size_t ulen,
		       double *scale, int depth, char *errmsg, size_t errlen)
{
	char buf[256], *save = NULL, *tok;
	int ret;

	if (strlen(terms) >= sizeof(buf))
		return dmakit_errf(errmsg, errlen, -EINVAL, "event too long");
	snprintf(buf, sizeof(buf), "%s", terms);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		ret = apply_term(pmudir, tok, attr, unit, ulen, scale, depth,
				 errmsg, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int dmakit_pmu_event_parse_at(const char *root, const char *text,
			      struct dmakit_pmu_event *ev, char *errmsg,
			      size_t errlen)
{
	char pmudir[PATH_MAX], pmu[64], terms[256], buf[32];
	struct perf_event_attr attr;
	const char *slash;
	size_t i, len;
	int ret;

	memset(ev, 0, sizeof(*ev));
	memset(&attr, 0, sizeof(attr));
	dmakit_strlcpy(ev->name, text, sizeof(ev->name));
	ev->scale = 1;
	for (i = 0; i < sizeof(sw_events) / sizeof(sw_events[0]); i++)
		if (!strcmp(text, sw_events[i].name)) {
			ev->type = PERF_TYPE_SOFTWARE;
			ev->config = sw_events[i].config;
			dmakit_strlcpy(ev->unit, sw_events[i].unit, sizeof(ev->unit));
			return 0;
		}
	slash = strchr(text, '/');
	len = strlen(text);
	if (!slash || slash == text || len < 3 || text[len - 1] != '/' ||
	    (size_t)(slash - text) >= sizeof(pmu) ||
	    len - (size_t)(slash - text) - 2 >= sizeof(terms) ||
	    slash == text + len - 1)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "event '%s': expected PMU/EVENT/, PMU/TERM=V,.../ or a software event (task-clock, context-switches, ...)",
				   text);
	dmakit_strlcpy(pmu, text, (size_t)(slash - text) + 1);
	dmakit_strlcpy(terms, slash + 1, len - (size_t)(slash - text) - 1);
	if (strchr(pmu, '.') || !*terms)
		return dmakit_errf(errmsg, errlen, -EINVAL, "event '%s': no EVENT", text);
	snprintf(pmudir, sizeof(pmudir), "%s" PMU_DIR "/%s", root, pmu);
	if (read_line(pmudir, "type", buf, sizeof(buf)))
		return dmakit_errf(errmsg, errlen, -ENOENT,
				   "no PMU '%s' on this machine (see 'dmakit pmu')",
				   pmu);
	ev->type = (uint32_t)strtoul(buf, NULL, 10);
	read_line(pmudir, "cpumask", ev->cpus, sizeof(ev->cpus));
	ret = apply_terms(pmudir, terms, &attr, ev->unit, sizeof(ev->unit),
			  &ev->scale, 0, errmsg, errlen);
	ev->config = attr.config;
	ev->config1 = attr.config1;
	ev->config2 = attr.config2;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Counting                                                           */
/* ------------------------------------------------------------------ */

struct dmakit_pmu_counter {
	unsigned int nevents;
	struct dmakit_pmu_event *ev;
	int **fds;			/* per event, per CPU opened */
	unsigned int *nfds;
};

/* CPUs of a list "0-3,8" into @cpus; returns how many. */
static unsigned int parse_cpus(const char *list, int *cpus, unsigned int max)
{
	unsigned int n = 0, a, b;
	const char *p = list;
	int used;

	while (*p && n < max) {
		if (sscanf(p, "%u%n", &a, &used) != 1)
			break;
		p += used;
		b = a;
		if (*p == '-' && sscanf(p + 1, "%u%n", &b, &used) == 1)
			p += 1 + used;
		for (; a <= b && n < max; a++)
			cpus[n++] = (int)a;
		if (*p != ',')
			break;
		p++;
	}
	return n;
}

/* Split at commas outside /.../. */
static int split_events(const char *list, char (*out)[256], unsigned int max)
{
	unsigned int n = 0;
	size_t len = 0;
	bool inside = false;
	const char *p;

	for (p = list;; p++) {
		if (!*p || (*p == ',' && !inside)) {
			if (!len || n == max)
				return -EINVAL;
			out[n++][len] = '\0';
			len = 0;
			if (!*p)
				return (int)n;
			continue;
		}
		if (*p == '/')
			inside = !inside;
		if (len + 1 >= 256)
			return -EINVAL;
		out[n][len++] = *p;
	}
}

#define MAX_EVENTS 16
#define MAX_CPUS 1024

int dmakit_pmu_counter_open_at(struct dmakit_pmu_counter **cp,
			       const char *root, const char *events,
			       char *errmsg, size_t errlen)
{
	char (*names)[256] = NULL, online[256];
	struct perf_event_attr attr;
	struct dmakit_pmu_counter *c;
	int *cpus = NULL, n, ret = 0;
	unsigned int i, j, ncpus;

	*cp = NULL;
	names = calloc(MAX_EVENTS, sizeof(*names));
	cpus = calloc(MAX_CPUS, sizeof(*cpus));
	c = calloc(1, sizeof(*c));
	if (!names || !cpus || !c) {
		ret = dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	n = split_events(events ? events : "", names, MAX_EVENTS);
	if (n < 0) {
		ret = dmakit_errf(errmsg, errlen, -EINVAL,
				  "bad event list '%s' (at most %d events, comma-separated)",
				  events ? events : "", MAX_EVENTS);
		goto fail;
	}
	c->ev = calloc((size_t)n, sizeof(*c->ev));
	c->fds = calloc((size_t)n, sizeof(*c->fds));
	c->nfds = calloc((size_t)n, sizeof(*c->nfds));
	if (!c->ev || !c->fds || !c->nfds) {
		ret = dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	c->nevents = (unsigned int)n;
	if (read_line("/sys/devices/system/cpu", "online", online, sizeof(online)))
		snprintf(online, sizeof(online), "0-%ld",
			 sysconf(_SC_NPROCESSORS_ONLN) - 1);
	/* every event understood before any is opened */
	for (i = 0; i < c->nevents; i++) {
		ret = dmakit_pmu_event_parse_at(root, names[i], &c->ev[i], errmsg,
						errlen);
		if (ret)
			goto fail;
	}
	for (i = 0; i < c->nevents; i++) {
		ncpus = parse_cpus(c->ev[i].cpus[0] ? c->ev[i].cpus : online,
				   cpus, MAX_CPUS);
		c->fds[i] = calloc(ncpus ? ncpus : 1, sizeof(int));
		if (!c->fds[i]) {
			ret = dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
			goto fail;
		}
		memset(&attr, 0, sizeof(attr));
		attr.size = sizeof(attr);
		attr.type = c->ev[i].type;
		attr.config = c->ev[i].config;
		attr.config1 = c->ev[i].config1;
		attr.config2 = c->ev[i].config2;
		for (j = 0; j < ncpus; j++) {
			long fd = syscall(SYS_perf_event_open, &attr, -1, cpus[j],
					  -1, PERF_FLAG_FD_CLOEXEC);

			if (fd < 0) {
				int err = errno;

				ret = dmakit_errf(errmsg, errlen, -err,
						  "perf_event_open %s on CPU %d: %s%s",
						  names[i], cpus[j], strerror(err),
						  err == EACCES || err == EPERM ?
						  " (system-wide counting needs root or kernel.perf_event_paranoid <= 0)" : "");
				goto fail;
			}
			c->fds[i][c->nfds[i]++] = (int)fd;
		}
	}
	free(names);
	free(cpus);
	*cp = c;
	return 0;
fail:
	free(names);
	free(cpus);
	dmakit_pmu_counter_close(c);
	return ret;
}

int dmakit_pmu_counter_open(struct dmakit_pmu_counter **cp, const char *events,
			    char *errmsg, size_t errlen)
{
	return dmakit_pmu_counter_open_at(cp, "", events, errmsg, errlen);
}

void dmakit_pmu_counter_close(struct dmakit_pmu_counter *c)
{
	unsigned int i, j;

	if (!c)
		return;
	for (i = 0; i < c->nevents && c->fds; i++) {
		for (j = 0; c->fds[i] && j < c->nfds[i]; j++)
			close(c->fds[i][j]);
		free(c->fds[i]);
	}
	free(c->fds);
	free(c->nfds);
	free(c->ev);
	free(c);
}

unsigned int dmakit_pmu_counter_nevents(const struct dmakit_pmu_counter *c)
{
	return c->nevents;
}

const char *dmakit_pmu_counter_name(const struct dmakit_pmu_counter *c,
				    unsigned int i)
{
	return i < c->nevents ? c->ev[i].name : "";
}

const char *dmakit_pmu_counter_unit(const struct dmakit_pmu_counter *c,
				    unsigned int i)
{
	return i < c->nevents ? c->ev[i].unit : "";
}

int dmakit_pmu_counter_read(struct dmakit_pmu_counter *c, double *values)
{
	unsigned int i, j;
	uint64_t v, sum;

	for (i = 0; i < c->nevents; i++) {
		sum = 0;
		for (j = 0; j < c->nfds[i]; j++) {
			if (read(c->fds[i][j], &v, sizeof(v)) != (ssize_t)sizeof(v))
				return errno ? -errno : -EIO;
			sum += v;
		}
		values[i] = (double)sum * c->ev[i].scale;
	}
	return 0;
}
