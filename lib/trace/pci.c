// SPDX-License-Identifier: MIT
/*
 * PCI device discovery from sysfs and procfs: the manual steps of finding
 * a card's vectors in /sys/bus/pci/devices/BDF/msi_irqs and matching them
 * in /proc/interrupts, automated; its BARs, link and the block devices and
 * network interfaces below it.  Every path is taken relative to a root
 * ("" on a live system) so the unit tests can build a fake tree.  The
 * config space is read by pci_config.c, names by pci_ids.c.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "trace_internal.h"

#define ROOT_MAX 1024

struct dmakit_trace_pci {
	char root[ROOT_MAX];
	char dir[ROOT_MAX + 64];
	struct dmakit_trace_pci_info info;
	struct dmakit_trace_pci_vector *vec;
	uint64_t *cpu_counts;		/* nvectors x ncpus */
	unsigned int ncpus;
	struct dmakit_trace_pci_bar bar[6];
	struct dmakit_trace_pci_child *child;
};

/* One line of a sysfs attribute, trailing newline removed. */
static int read_attr(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	char *text;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = dmakit_read_text(path, &text, NULL);
	if (ret)
		return ret;
	text[strcspn(text, "\n")] = '\0';
	snprintf(buf, len, "%s", text);
	free(text);
	return 0;
}

static long long attr_num(const char *dir, const char *name, int base,
			  long long dflt)
{
	char buf[64], *end;
	long long v;

	if (read_attr(dir, name, buf, sizeof(buf)))
		return dflt;
	errno = 0;
	v = strtoll(buf, &end, base);
	return (errno || end == buf) ? dflt : v;
}

/* Basename of a symlink's target, "" if it is not a link. */
static void link_base(const char *dir, const char *name, char *buf,
		      size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *slash;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	slash = strrchr(target, '/');
	slash = slash ? slash + 1 : target;
	n = (ssize_t)strnlen(slash, len - 1);
	memcpy(buf, slash, (size_t)n);
	buf[n] = '\0';
}

/* "8.0 GT/s PCIe", "2.5 GT/s": GT/s; 0 if unknown. */
static double parse_gts(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	return (end != s && v > 0 && strstr(end, "GT/s")) ? v : 0;
}

double dmakit_trace_pcie_bandwidth(double gts, unsigned int width)
{
	double eff;

	if (gts <= 0 || !width)
		return 0;
	if (gts < 8)
		eff = 8.0 / 10;			/* PCIe 1.x, 2.x */
	else if (gts < 64)
		eff = 128.0 / 130;		/* PCIe 3.0 .. 5.0 */
	else
		eff = 242.0 / 256;		/* PCIe 6.0+ FLIT mode */
	return gts * 1e9 * width * eff / 8;
}

/* DDDD:BB:dd.f in hex, device 0-1f, function 0-7 (lowercased in place). */
static bool well_formed_bdf(char *bdf)
{
	static const char shape[] = "xxxx:xx:xx.x";
	size_t i;

	if (strlen(bdf) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i]; i++) {
		if (shape[i] != 'x' ? bdf[i] != shape[i] :
		    !isxdigit((unsigned char)bdf[i]))
			return false;
		bdf[i] = (char)tolower((unsigned char)bdf[i]);
	}
	return strtoul(bdf + 8, NULL, 16) <= 0x1f && bdf[11] <= '7';
}

static void normalize_bdf(const char *in, char *out, size_t len)
{
	unsigned int bus, dev, fn;
	char tail;

	/* "17:00.0" -> "0000:17:00.0" */
	if (sscanf(in, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3 &&
	    strchr(in, ':') == strrchr(in, ':'))
		snprintf(out, len, "0000:%s", in);
	else
		snprintf(out, len, "%s", in);
}

int dmakit_trace_pci_refresh_counts(struct dmakit_trace_pci *pci)
{
	char path[PATH_MAX], (*names)[64];
	unsigned int *irqs, i, n = pci->info.nvectors;
	uint64_t *counts, *per_cpu = NULL;
	char *text;
	int ret;

	if (!n)
		return 0;
	snprintf(path, sizeof(path), "%s/proc/interrupts", pci->root);
	ret = dmakit_read_text(path, &text, NULL);
	if (ret)
		return ret;
	irqs = calloc(n, sizeof(*irqs));
	counts = calloc(n, sizeof(*counts));
	names = calloc(n, sizeof(*names));
	ret = dmakit_proc_interrupts_ncpus(text);
	if (ret > 0)
		per_cpu = calloc((size_t)n * (unsigned int)ret, sizeof(*per_cpu));
	if (ret > 0 && (!irqs || !counts || !names || !per_cpu)) {
		ret = -ENOMEM;
		goto out;
	}
	if (ret < 0)
		goto out;
	free(pci->cpu_counts);
	pci->cpu_counts = per_cpu;
	pci->ncpus = (unsigned int)ret;
	per_cpu = NULL;
	for (i = 0; i < n; i++)
		irqs[i] = pci->vec[i].irq;
	ret = dmakit_parse_proc_interrupts_cpus(text, irqs, n, counts, names,
						pci->cpu_counts);
	for (i = 0; !ret && i < n; i++) {
		pci->vec[i].count = counts[i];
		/* /sys/kernel/irq/N/actions (4.11+) is exact; else the line */
		if (!pci->vec[i].name[0])
			snprintf(pci->vec[i].name, sizeof(pci->vec[i].name),
				 "%s", names[i]);
	}
out:
	free(text);
	free(irqs);
	free(counts);
	free(names);
	free(per_cpu);
	return ret;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

static int add_vector(struct dmakit_trace_pci *pci, unsigned int irq,
		      enum dmakit_trace_irq_kind kind)
{
	struct dmakit_trace_pci_vector *v, *grown;
	char dir[PATH_MAX];

	grown = realloc(pci->vec, (pci->info.nvectors + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	pci->vec = grown;
	v = &pci->vec[pci->info.nvectors++];
	memset(v, 0, sizeof(*v));
	v->irq = irq;
	v->kind = kind;
	snprintf(dir, sizeof(dir), "%s/sys/kernel/irq/%u", pci->root, irq);
	read_attr(dir, "actions", v->name, sizeof(v->name));
	snprintf(dir, sizeof(dir), "%s/proc/irq/%u", pci->root, irq);
	read_attr(dir, "smp_affinity_list", v->affinity, sizeof(v->affinity));
	read_attr(dir, "effective_affinity_list", v->effective_affinity,
		  sizeof(v->effective_affinity));
	return 0;
}

static int read_vectors(struct dmakit_trace_pci *pci)
{
	char dir[PATH_MAX], mode[16];
	unsigned int *irqs = NULL, n = 0, i;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/msi_irqs", pci->dir);
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			unsigned int *grown;

			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			grown = realloc(irqs, (n + 1) * sizeof(*irqs));
			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			irqs = grown;
			irqs[n++] = (unsigned int)strtoul(de->d_name, NULL, 10);
		}
		closedir(d);
	}
	if (n)
		qsort(irqs, n, sizeof(*irqs), cmp_uint);
	for (i = 0; !ret && i < n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%u", irqs[i]);
		if (read_attr(dir, name, mode, sizeof(mode)))
			mode[0] = '\0';
		ret = add_vector(pci, irqs[i], strcmp(mode, "msi") ?
				 DMAKIT_TRACE_IRQ_MSIX : DMAKIT_TRACE_IRQ_MSI);
		if (!ret && pci->vec[pci->info.nvectors - 1].kind ==
			    DMAKIT_TRACE_IRQ_MSIX)
			pci->info.msix_vectors++;
	}
	free(irqs);
	if (ret)
		return ret;
	if (!n) {
		long long irq = attr_num(pci->dir, "irq", 10, 0);

		/* the legacy line, when the driver uses it */
		if (irq > 0)
			ret = add_vector(pci, (unsigned int)irq,
					 DMAKIT_TRACE_IRQ_INTX);
	}
	if (!ret)
		dmakit_trace_pci_refresh_counts(pci);
	return ret;
}

/* kernel resource flags (include/linux/ioport.h), as sysfs "resource" has them */
#define RES_IO		0x00000100
#define RES_MEM		0x00000200
#define RES_PREFETCH	0x00002000
#define RES_MEM_64	0x00100000

/* The six BARs from "start end flags" lines; unused ones are all zero. */
static void read_bars(struct dmakit_trace_pci *pci)
{
	char path[PATH_MAX], *text, *line;
	unsigned int i;

	snprintf(path, sizeof(path), "%s/resource", pci->dir);
	if (dmakit_read_text(path, &text, NULL))
		return;
	line = text;
	for (i = 0; i < 6 && line && *line; i++) {
		unsigned long long start, end, flags;
		struct dmakit_trace_pci_bar *b;

		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) == 3 &&
		    (flags & (RES_IO | RES_MEM)) && end > start) {
			b = &pci->bar[pci->info.nbars++];
			b->index = i;
			b->start = start;
			b->size = end - start + 1;
			b->io = flags & RES_IO;
			b->mem64 = flags & RES_MEM_64;
			b->prefetchable = flags & RES_PREFETCH;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	free(text);
}

static int add_child(struct dmakit_trace_pci *pci, const char *dir,
		     enum dmakit_trace_child_kind kind, const char *name)
{
	struct dmakit_trace_pci_child *c, *grown;
	char path[PATH_MAX + 300];

	grown = realloc(pci->child, (pci->info.nchildren + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	pci->child = grown;
	c = &pci->child[pci->info.nchildren++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->ifindex = -1;
	dmakit_strlcpy(c->name, name, sizeof(c->name));
	snprintf(path, sizeof(path), "%s/%.255s", dir, name);
	if (kind == DMAKIT_TRACE_CHILD_BLOCK) {
		char buf[32];

		if (!read_attr(path, "dev", buf, sizeof(buf)) &&
		    sscanf(buf, "%u:%u", &c->major, &c->minor) != 2)
			c->major = c->minor = 0;
	} else {
		c->ifindex = (int)attr_num(path, "ifindex", 10, -1);
	}
	return 0;
}

/* A path component like "0000:01:00.0": a PCI function of its own. */
static bool is_pci_address(const char *comp, size_t len)
{
	unsigned int dom, bus, dev, fn;
	char buf[32];

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, comp, len);
	buf[len] = '\0';
	return sscanf(buf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4;
}

/*
 * Block devices and network interfaces whose sysfs device lies below the
 * function's (virtio1/block/vda, nvme/nvme0/nvme0n1, host0/.../sda,
 * virtio2/net/eth0), not below another PCI function behind it (a bridge
 * lists none of its downstream devices' disks); disks, not partitions.
 */
static int find_children_in(struct dmakit_trace_pci *pci, const char *real,
			    const char *cls, enum dmakit_trace_child_kind kind)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], target[PATH_MAX];
	size_t rlen = strlen(real);
	struct dirent *de;
	int ret = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/sys/class/%s", pci->root, cls);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!ret && (de = readdir(d))) {
		const char *rest, *comp;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!realpath(path, target) || strncmp(target, real, rlen) ||
		    target[rlen] != '/')
			continue;
		rest = target + rlen;
		/* a PCI function in between owns it, not this one */
		for (comp = rest + 1; *comp;) {
			size_t len = strcspn(comp, "/");

			if (is_pci_address(comp, len))
				break;
			comp += len;
			if (*comp == '/')
				comp++;
		}
		if (*comp)
			continue;
		snprintf(path, sizeof(path), "%s/partition", target);
		if (kind == DMAKIT_TRACE_CHILD_BLOCK && !access(path, F_OK))
			continue;
		*strrchr(target, '/') = '\0';
		ret = add_child(pci, target, kind, de->d_name);
	}
	closedir(d);
	return ret;
}

static int cmp_child(const void *a, const void *b)
{
	const struct dmakit_trace_pci_child *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int read_children(struct dmakit_trace_pci *pci)
{
	char real[PATH_MAX];
	int ret;

	if (!realpath(pci->dir, real))
		return 0;
	ret = find_children_in(pci, real, "block", DMAKIT_TRACE_CHILD_BLOCK);
	if (!ret)
		ret = find_children_in(pci, real, "net", DMAKIT_TRACE_CHILD_NET);

	if (!ret && pci->info.nchildren)
		qsort(pci->child, pci->info.nchildren, sizeof(*pci->child),
		      cmp_child);
	return ret;
}

int dmakit_trace_pci_alloc_at(struct dmakit_trace_pci **pcip, const char *root,
			      const char *bdf, char *errmsg, size_t errlen)
{
	struct dmakit_trace_pci *pci;
	struct dmakit_trace_pci_info *in;
	char buf[64], norm[64];
	int ret;

	if (!pcip || !bdf || !*bdf || strchr(bdf, '/') || strlen(bdf) > 12 ||
	    strlen(root) >= ROOT_MAX)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "bad PCI address '%s' (expected e.g. 0000:17:00.0)",
				   bdf ? bdf : "");
	pci = calloc(1, sizeof(*pci));
	if (!pci)
		return dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
	snprintf(pci->root, sizeof(pci->root), "%s", root);
	normalize_bdf(bdf, norm, sizeof(norm));
	if (strlen(norm) >= sizeof(pci->info.bdf) || !well_formed_bdf(norm)) {
		free(pci);
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "bad PCI address '%s' (expected e.g. 0000:17:00.0)",
				   bdf);
	}
	snprintf(pci->dir, sizeof(pci->dir), "%s/sys/bus/pci/devices/%s",
		 root, norm);
	if (access(pci->dir, F_OK)) {
		free(pci);
		return dmakit_errf(errmsg, errlen, -ENODEV,
				   "no PCI device %s (see 'dmakit info')", norm);
	}
	in = &pci->info;
	memcpy(in->bdf, norm, sizeof(in->bdf) - 1);
	link_base(pci->dir, "driver", in->driver, sizeof(in->driver));
	in->vendor = (uint16_t)attr_num(pci->dir, "vendor", 16, 0);
	in->device = (uint16_t)attr_num(pci->dir, "device", 16, 0);
	in->subsys_vendor = (uint16_t)attr_num(pci->dir, "subsystem_vendor", 16, 0);
	in->subsys_device = (uint16_t)attr_num(pci->dir, "subsystem_device", 16, 0);
	in->class_code = (uint32_t)attr_num(pci->dir, "class", 16, 0);
	in->numa_node = (int)attr_num(pci->dir, "numa_node", 10, -1);
	in->dma_mask_bits = (int)attr_num(pci->dir, "dma_mask_bits", 10, -1);
	link_base(pci->dir, "iommu_group", buf, sizeof(buf));
	in->iommu_group = buf[0] ? atoi(buf) : -1;
	if (!read_attr(pci->dir, "current_link_speed", buf, sizeof(buf)))
		in->link_gts = parse_gts(buf);
	if (!read_attr(pci->dir, "max_link_speed", buf, sizeof(buf)))
		in->max_link_gts = parse_gts(buf);
	in->link_width = (unsigned int)attr_num(pci->dir, "current_link_width", 10, 0);
	in->max_link_width = (unsigned int)attr_num(pci->dir, "max_link_width", 10, 0);
	read_bars(pci);
	dmakit_pci_read_caps(pci->dir, in);
	in->link_bytes_per_s = dmakit_trace_pcie_bandwidth(in->link_gts,
							   in->link_width);
	ret = read_vectors(pci);
	if (!ret)
		ret = read_children(pci);
	if (ret) {
		dmakit_trace_pci_free(pci);
		return dmakit_errf(errmsg, errlen, ret, "%s: reading vectors: %s",
				   norm, strerror(-ret));
	}
	*pcip = pci;
	return 0;
}

int dmakit_trace_pci_alloc(struct dmakit_trace_pci **pcip, const char *bdf,
			   char *errmsg, size_t errlen)
{
	return dmakit_trace_pci_alloc_at(pcip, "", bdf, errmsg, errlen);
}

void dmakit_trace_pci_free(struct dmakit_trace_pci *pci)
{
	if (!pci)
		return;
	free(pci->vec);
	free(pci->cpu_counts);
	free(pci->child);
	free(pci);
}

void dmakit_trace_pci_info(const struct dmakit_trace_pci *pci,
			   struct dmakit_trace_pci_info *info)
{
	*info = pci->info;
}

int dmakit_trace_pci_vector(const struct dmakit_trace_pci *pci, unsigned int i,
			    struct dmakit_trace_pci_vector *vec)
{
	if (i >= pci->info.nvectors)
		return -ERANGE;
	*vec = pci->vec[i];
	return 0;
}

int dmakit_trace_pci_vector_cpus(const struct dmakit_trace_pci *pci,
				 unsigned int i, uint64_t *counts,
				 unsigned int n)
{
	unsigned int c;

	if (i >= pci->info.nvectors)
		return -ERANGE;
	for (c = 0; c < n && c < pci->ncpus; c++)
		counts[c] = pci->cpu_counts[(size_t)i * pci->ncpus + c];
	return (int)pci->ncpus;
}

int dmakit_trace_pci_bar(const struct dmakit_trace_pci *pci, unsigned int i,
			 struct dmakit_trace_pci_bar *bar)
{
	if (i >= pci->info.nbars)
		return -ERANGE;
	*bar = pci->bar[i];
	return 0;
}

int dmakit_trace_pci_child(const struct dmakit_trace_pci *pci, unsigned int i,
			   struct dmakit_trace_pci_child *child)
{
	if (i >= pci->info.nchildren)
		return -ERANGE;
	*child = pci->child[i];
	return 0;
}

const char *dmakit_trace_irq_kind_name(enum dmakit_trace_irq_kind kind)
{
	switch (kind) {
	case DMAKIT_TRACE_IRQ_MSI:
		return "MSI";
	case DMAKIT_TRACE_IRQ_MSIX:
		return "MSI-X";
	default:
		return "INTx";
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dmakit_trace_pci_list_at(const char *root, char ***bdfs, size_t *count,
			     bool with_driver)
{
	char dir[PATH_MAX], dev[PATH_MAX + 300], drv[64];
	char **list = NULL, **grown;
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/sys/bus/pci/devices", root);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(dev, sizeof(dev), "%s/%s", dir, de->d_name);
		link_base(dev, "driver", drv, sizeof(drv));
		if (with_driver && !drv[0])
			continue;
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			closedir(d);
			dmakit_trace_pci_list_free(grown ? grown : list, n);
			return -ENOMEM;
		}
		list = grown;
		n++;
	}
	closedir(d);
	if (n)
		qsort(list, n, sizeof(*list), cmp_str);
	*bdfs = list;
	*count = n;
	return 0;
}

int dmakit_trace_pci_list(char ***bdfs, size_t *count, bool with_driver)
{
	return dmakit_trace_pci_list_at("", bdfs, count, with_driver);
}

void dmakit_trace_pci_list_free(char **bdfs, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(bdfs[i]);
	free(bdfs);
}
