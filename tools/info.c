// SPDX-License-Identifier: MIT
/*
 * dmakit info [BDF] [--json]: PCI devices as the tracer sees them.
 * Without BDF, one line per device that has a driver; with BDF,
 * everything a trace filter needs: names and ids, driver, NUMA node,
 * BARs, PCIe link and its bandwidth, DMA mask, IOMMU group, MSI-X table,
 * every interrupt vector with its count per CPU, and the block devices
 * and network interfaces the function provides.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dmakit.h>
#include <dmakit/trace.h>
#include "cli.h"
#include "json.h"
#include "pmu_show.h"

#define CMD "info"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dmakit info [BDF] [--json] [--quiet]\n"
		"\n"
		"Without BDF: the PCI devices that have a driver.  With BDF (e.g.\n"
		"0000:17:00.0 or 17:00.0): names (pci.ids) and ids, driver, NUMA\n"
		"node, BARs, PCIe link and its theoretical bandwidth, DMA mask, IOMMU\n"
		"group, MSI-X table, every MSI/MSI-X/INTx vector with its IRQ number,\n"
		"handler name, affinity and count per CPU (what 'dmakit trace --pci\n"
		"BDF --end irq' traces), and the block devices (with the dev number\n"
		"block tracepoints filter on) and network interfaces it provides.\n"
		"The MSI-X table and PCIe capability need root to read.\n"
		"\n"
		"      --json   one JSON object on stdout, also on failure (\"ok\"\n"
		"               false): the device's fields, or without BDF\n"
		"               {\"devices\": [...]}\n"
		"  -q, --quiet  print only errors (the exit status says whether BDF\n"
		"               exists)\n"
		"  -h, --help\n"
		"\n"
		"examples:\n"
		"  dmakit info\n"
		"  dmakit info 0000:00:02.0 --json\n");
}

static void fmt_link(char *buf, size_t len, double gts, unsigned int width)
{
	if (gts > 0 && width)
		snprintf(buf, len, "%.1f GT/s x%u", gts, width);
	else
		snprintf(buf, len, "n/a");
}

/* A block device's dev_t as the block tracepoints report it (MKDEV). */
static uint64_t block_tp_dev(const struct dmakit_trace_pci_child *c)
{
	return (uint64_t)c->major << 20 | c->minor;
}

/* "4 KiB", "16 MiB": BAR sizes are powers of two */
static void fmt_size(char *buf, size_t len, uint64_t size)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (size >= 1024 && !(size % 1024) && u < 4) {
		size /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", size, unit[u]);
}

static void print_per_cpu(struct dmakit_trace_pci *pci, unsigned int i)
{
	uint64_t *counts;
	int n = dmakit_trace_pci_vector_cpus(pci, i, NULL, 0), c;
	bool any = false;

	if (n <= 0 || !(counts = calloc((size_t)n, sizeof(*counts))))
		return;
	dmakit_trace_pci_vector_cpus(pci, i, counts, (unsigned int)n);
	for (c = 0; c < n; c++) {
		if (!counts[c])
			continue;
		printf("%scpu%d:%" PRIu64, any ? " " : "", c, counts[c]);
		any = true;
	}
	if (!any)
		printf("-");
	free(counts);
}

/* "vda eth0": the list's last column */
static void print_children(struct dmakit_trace_pci *pci,
			   const struct dmakit_trace_pci_info *in)
{
	struct dmakit_trace_pci_child ch;
	unsigned int i;

	for (i = 0; i < in->nchildren; i++) {
		dmakit_trace_pci_child(pci, i, &ch);
		printf("%s%s", i ? " " : "", ch.name);
	}
	printf("%s\n", in->nchildren ? "" : "-");
}

static void print_text(struct dmakit_trace_pci *pci)
{
	struct dmakit_trace_pci_info in;
	struct dmakit_trace_pci_vector v;
	struct dmakit_trace_pci_names nm;
	struct dmakit_trace_pci_bar bar;
	struct dmakit_trace_pci_child ch;
	char link[64], maxlink[64], bw[32], size[32];
	unsigned int i;

	dmakit_trace_pci_info(pci, &in);
	dmakit_trace_pci_names(pci, NULL, &nm);
	fmt_link(link, sizeof(link), in.link_gts, in.link_width);
	fmt_link(maxlink, sizeof(maxlink), in.max_link_gts, in.max_link_width);
	/* as lspci -nn words it, unknown names included */
	printf("%s  %s [%04x]: %s%s%s [%04x:%04x]\n", in.bdf,
	       nm.class_name[0] ? nm.class_name : "Class",
	       in.class_code >> 8, nm.vendor, nm.vendor[0] ? " " : "",
	       nm.device[0] ? nm.device : "Device", in.vendor, in.device);
	printf("  subsystem     %s%s%s [%04x:%04x]\n", nm.subsys_vendor,
	       nm.subsys_vendor[0] ? " " : "",
	       nm.subsys_device[0] ? nm.subsys_device : "Device",
	       in.subsys_vendor, in.subsys_device);
	printf("  class         %06x%s%s\n", in.class_code,
	       nm.prog_if[0] ? ", " : "", nm.prog_if);
	printf("  driver        %s\n", in.driver[0] ? in.driver : "(none)");
	if (in.numa_node >= 0)
		printf("  numa node     %d\n", in.numa_node);
	else
		printf("  numa node     n/a\n");
	for (i = 0; i < in.nbars; i++) {
		dmakit_trace_pci_bar(pci, i, &bar);
		fmt_size(size, sizeof(size), bar.size);
		if (bar.io)
			printf("  BAR %u         I/O ports at 0x%" PRIx64 ", %s\n",
			       bar.index, bar.start, size);
		else
			printf("  BAR %u         memory at 0x%" PRIx64 ", %s, %s, %s\n",
			       bar.index, bar.start, size,
			       bar.mem64 ? "64-bit" : "32-bit",
			       bar.prefetchable ? "prefetchable" : "non-prefetchable");
	}
	if (!in.nbars)
		printf("  BARs          none\n");
	if (in.pcie || in.link_gts > 0) {
		printf("  link          %s (max %s)", link, maxlink);
		if (in.link_bytes_per_s > 0)
			printf(", %s per direction",
			       cli_fmt_rate(bw, sizeof(bw), in.link_bytes_per_s));
		printf("\n");
	} else {
		printf("  link          %s\n", in.config_read ?
		       "n/a (no PCI Express capability)" :
		       "n/a (not exported; the capability list needs root)");
	}
	if (in.dma_mask_bits >= 0)
		printf("  dma mask      %d bits\n", in.dma_mask_bits);
	if (in.iommu_group >= 0)
		printf("  iommu group   %d\n", in.iommu_group);
	else
		printf("  iommu group   none\n");
	if (!in.config_read)
		printf("  MSI-X         unknown (the capability list needs root)\n");
	else if (in.msix_table_size > 0)
		printf("  MSI-X         table of %d entries, %s, %u vector%s in use\n",
		       in.msix_table_size, in.msix_enabled ? "enabled" : "disabled",
		       in.msix_vectors, in.msix_vectors == 1 ? "" : "s");
	else
		printf("  MSI-X         none\n");
	for (i = 0; i < in.nchildren; i++) {
		dmakit_trace_pci_child(pci, i, &ch);
		if (ch.kind == DMAKIT_TRACE_CHILD_BLOCK)
			printf("  block device  %s (%u:%u; block tracepoints: dev == %" PRIu64 ")\n",
			       ch.name, ch.major, ch.minor, block_tp_dev(&ch));
		else
			printf("  network       %s (ifindex %d)\n", ch.name, ch.ifindex);
	}
	printf("  vectors       %u\n", in.nvectors);
	if (!in.nvectors)
		return;
	printf("    %-5s %-6s %-24s %-10s %-10s %-10s %s\n", "IRQ", "KIND", "NAME",
	       "AFFINITY", "EFFECTIVE", "COUNT", "PER CPU");
	for (i = 0; i < in.nvectors; i++) {
		dmakit_trace_pci_vector(pci, i, &v);
		printf("    %-5u %-6s %-24s %-10s %-10s %-10llu ", v.irq,
		       dmakit_trace_irq_kind_name(v.kind),
		       v.name[0] ? v.name : "-", v.affinity[0] ? v.affinity : "-",
		       v.effective_affinity[0] ? v.effective_affinity : "-",
		       (unsigned long long)v.count);
		print_per_cpu(pci, i);
		printf("\n");
	}
}

/* "" -> null: a name pci.ids does not have */
static void json_name(struct dmakit_json *j, const char *key, const char *v)
{
	dmakit_json_str(j, key, *v ? v : NULL);
}

/* One device's members of the current JSON object. */
static void device_members(struct dmakit_json *j, struct dmakit_trace_pci *pci)
{
	struct dmakit_trace_pci_info in;
	struct dmakit_trace_pci_vector v;
	struct dmakit_trace_pci_names nm;
	struct dmakit_trace_pci_bar bar;
	struct dmakit_trace_pci_child ch;
	uint64_t *counts;
	char hex[16];
	unsigned int i;
	int c, n;

	dmakit_trace_pci_info(pci, &in);
	dmakit_trace_pci_names(pci, NULL, &nm);
	dmakit_json_str(j, "bdf", in.bdf);
	dmakit_json_str(j, "driver", in.driver[0] ? in.driver : NULL);
	snprintf(hex, sizeof(hex), "%04x", in.vendor);
	dmakit_json_str(j, "vendor", hex);
	snprintf(hex, sizeof(hex), "%04x", in.device);
	dmakit_json_str(j, "device", hex);
	snprintf(hex, sizeof(hex), "%04x", in.subsys_vendor);
	dmakit_json_str(j, "subsystem_vendor", hex);
	snprintf(hex, sizeof(hex), "%04x", in.subsys_device);
	dmakit_json_str(j, "subsystem_device", hex);
	snprintf(hex, sizeof(hex), "%06x", in.class_code);
	dmakit_json_str(j, "class", hex);
	json_name(j, "vendor_name", nm.vendor);
	json_name(j, "device_name", nm.device);
	json_name(j, "subsystem_vendor_name", nm.subsys_vendor);
	json_name(j, "subsystem_device_name", nm.subsys_device);
	json_name(j, "class_name", nm.class_name);
	json_name(j, "prog_if_name", nm.prog_if);
	dmakit_json_i64(j, "numa_node", in.numa_node);
	dmakit_json_arr_begin(j, "bars");
	for (i = 0; i < in.nbars; i++) {
		dmakit_trace_pci_bar(pci, i, &bar);
		dmakit_json_obj_begin(j, NULL);
		dmakit_json_u64(j, "index", bar.index);
		dmakit_json_str(j, "type", bar.io ? "io" : "memory");
		dmakit_json_u64(j, "address", bar.start);
		dmakit_json_u64(j, "size", bar.size);
		dmakit_json_bool(j, "64bit", bar.mem64);
		dmakit_json_bool(j, "prefetchable", bar.prefetchable);
		dmakit_json_obj_end(j);
	}
	dmakit_json_arr_end(j);
	/* what only root can read is null for others, not false or 0 */
	if (in.config_read) {
		dmakit_json_bool(j, "pcie", in.pcie);
		if (in.msix_table_size > 0) {
			dmakit_json_obj_begin(j, "msix");
			dmakit_json_u64(j, "table_size", (uint64_t)in.msix_table_size);
			dmakit_json_bool(j, "enabled", in.msix_enabled);
			dmakit_json_u64(j, "vectors_in_use", in.msix_vectors);
			dmakit_json_obj_end(j);
		} else {
			dmakit_json_bool(j, "msix", false);
		}
	} else {
		dmakit_json_str(j, "pcie", NULL);
		dmakit_json_str(j, "msix", NULL);
	}
	dmakit_json_double(j, "link_gts", in.link_gts);
	dmakit_json_u64(j, "link_width", in.link_width);
	dmakit_json_double(j, "max_link_gts", in.max_link_gts);
	dmakit_json_u64(j, "max_link_width", in.max_link_width);
	dmakit_json_double(j, "link_bytes_per_s", in.link_bytes_per_s);
	dmakit_json_i64(j, "dma_mask_bits", in.dma_mask_bits);
	dmakit_json_i64(j, "iommu_group", in.iommu_group);
	dmakit_json_arr_begin(j, "vectors");
	for (i = 0; i < in.nvectors; i++) {
		dmakit_trace_pci_vector(pci, i, &v);
		dmakit_json_obj_begin(j, NULL);
		dmakit_json_u64(j, "irq", v.irq);
		dmakit_json_str(j, "kind", dmakit_trace_irq_kind_name(v.kind));
		dmakit_json_str(j, "name", v.name);
		dmakit_json_str(j, "affinity", v.affinity);
		dmakit_json_str(j, "effective_affinity", v.effective_affinity);
		dmakit_json_u64(j, "count", v.count);
		dmakit_json_arr_begin(j, "per_cpu");
		n = dmakit_trace_pci_vector_cpus(pci, i, NULL, 0);
		counts = n > 0 ? calloc((size_t)n, sizeof(*counts)) : NULL;
		if (counts)
			dmakit_trace_pci_vector_cpus(pci, i, counts, (unsigned int)n);
		for (c = 0; counts && c < n; c++)
			dmakit_json_u64(j, NULL, counts[c]);
		free(counts);
		dmakit_json_arr_end(j);
		dmakit_json_obj_end(j);
	}
	dmakit_json_arr_end(j);
	dmakit_json_arr_begin(j, "children");
	for (i = 0; i < in.nchildren; i++) {
		dmakit_trace_pci_child(pci, i, &ch);
		dmakit_json_obj_begin(j, NULL);
		dmakit_json_str(j, "kind", ch.kind == DMAKIT_TRACE_CHILD_BLOCK ?
				"block" : "net");
		dmakit_json_str(j, "name", ch.name);
		if (ch.kind == DMAKIT_TRACE_CHILD_BLOCK) {
			snprintf(hex, sizeof(hex), "%u:%u", ch.major, ch.minor);
			dmakit_json_str(j, "dev", hex);
			dmakit_json_u64(j, "tracepoint_dev", block_tp_dev(&ch));
		} else {
			dmakit_json_i64(j, "ifindex", ch.ifindex);
		}
		dmakit_json_obj_end(j);
	}
	dmakit_json_arr_end(j);
	pmu_show_json(j, in.bdf);
}

static int list_devices(bool json, bool quiet)
{
	struct dmakit_json j;
	char **bdfs, err[DMAKIT_ERRMSG_MAX];
	size_t n, i;
	int ret;

	ret = dmakit_trace_pci_list(&bdfs, &n, true);
	if (ret)
		return cli_error(CMD, "reading /sys/bus/pci/devices: %s",
				 dmakit_strerror(ret));
	if (quiet && !json) {
		dmakit_trace_pci_list_free(bdfs, n);
		return CLI_EXIT_OK;
	}
	if (json) {
		cli_json_begin(&j, true, true);
		dmakit_json_arr_begin(&j, "devices");
	} else {
		printf("%-13s %-10s %-20s %-16s %-8s %s\n", "BDF", "ID", "DRIVER",
		       "LINK", "VECTORS", "PROVIDES");
	}
	for (i = 0; i < n; i++) {
		struct dmakit_trace_pci *pci;
		struct dmakit_trace_pci_info in;
		char link[64], id[16];

		if (dmakit_trace_pci_alloc(&pci, bdfs[i], err, sizeof(err)))
			continue;	/* it went away meanwhile */
		if (json) {
			dmakit_json_obj_begin(&j, NULL);
			device_members(&j, pci);
			dmakit_json_obj_end(&j);
		} else {
			dmakit_trace_pci_info(pci, &in);
			fmt_link(link, sizeof(link), in.link_gts, in.link_width);
			snprintf(id, sizeof(id), "%04x:%04x", in.vendor, in.device);
			printf("%-13s %-10s %-20s %-16s %-8u ", in.bdf, id,
			       in.driver, link, in.nvectors);
			print_children(pci, &in);
		}
		dmakit_trace_pci_free(pci);
	}
	if (json) {
		dmakit_json_arr_end(&j);
		dmakit_json_obj_end(&j);
		dmakit_json_end(&j);
	}
	dmakit_trace_pci_list_free(bdfs, n);
	return CLI_EXIT_OK;
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dmakit_trace_pci *pci;
	char err[DMAKIT_ERRMSG_MAX];
	bool json = false, quiet = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			ret = cli_other_opt(CMD, c, optarg, argv,
					    &json, &quiet,
					    NULL, NULL);
			if (ret)
				return ret;
			break;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(CMD, "at most one device address");
	if (optind == argc)
		return list_devices(json, quiet);
	ret = dmakit_trace_pci_alloc(&pci, argv[optind], err, sizeof(err));
	if (ret == -EINVAL)	/* a malformed address */
		return cli_usage_error(CMD, "%s", err);
	if (ret)
		return cli_error(CMD, "%s", err);
	if (json) {
		struct dmakit_json j;

		cli_json_begin(&j, true, true);
		device_members(&j, pci);
		dmakit_json_obj_end(&j);
		dmakit_json_end(&j);
	} else if (!quiet) {
		struct dmakit_trace_pci_info in;

		print_text(pci);
		dmakit_trace_pci_info(pci, &in);
		pmu_show_text(stdout, in.bdf, "  ");
	}
	dmakit_trace_pci_free(pci);
	return CLI_EXIT_OK;
}
