// SPDX-License-Identifier: MIT
/*
 * dmakit info [BDF] [--json]: PCI devices as the tracer sees them.
 * Without BDF, one line per device that has a driver; with BDF,
 * everything: ids, driver, NUMA node, link and its bandwidth, DMA mask,
 * IOMMU group, and every interrupt vector with its count.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <dmakit.h>
#include <dmakit/trace.h>
#include "cli.h"
#include "json.h"

#define CMD "info"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dmakit info [BDF] [--json]\n"
		"\n"
		"Without BDF: the PCI devices that have a driver.  With BDF (e.g.\n"
		"0000:17:00.0 or 17:00.0): driver, ids, NUMA node, PCIe link and its\n"
		"theoretical bandwidth, DMA mask, IOMMU group and every MSI/MSI-X/INTx\n"
		"vector with its IRQ number, handler name, affinity and count, i.e.\n"
		"what 'dmakit trace --pci BDF --end irq' traces.\n"
		"\n"
		"  --json   machine-readable output\n"
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

static void print_text(struct dmakit_trace_pci *pci)
{
	struct dmakit_trace_pci_info in;
	struct dmakit_trace_pci_vector v;
	char link[64], maxlink[64], bw[32];
	unsigned int i;

	dmakit_trace_pci_info(pci, &in);
	fmt_link(link, sizeof(link), in.link_gts, in.link_width);
	fmt_link(maxlink, sizeof(maxlink), in.max_link_gts, in.max_link_width);
	printf("%s  %04x:%04x (subsystem %04x:%04x) class %06x\n", in.bdf,
	       in.vendor, in.device, in.subsys_vendor, in.subsys_device,
	       in.class_code);
	printf("  driver        %s\n", in.driver[0] ? in.driver : "(none)");
	if (in.numa_node >= 0)
		printf("  numa node     %d\n", in.numa_node);
	else
		printf("  numa node     n/a\n");
	printf("  link          %s (max %s)", link, maxlink);
	if (in.link_bytes_per_s > 0)
		printf(", %s per direction",
		       cli_fmt_rate(bw, sizeof(bw), in.link_bytes_per_s));
	printf("\n");
	if (in.dma_mask_bits >= 0)
		printf("  dma mask      %d bits\n", in.dma_mask_bits);
	if (in.iommu_group >= 0)
		printf("  iommu group   %d\n", in.iommu_group);
	else
		printf("  iommu group   none\n");
	printf("  vectors       %u\n", in.nvectors);
	if (!in.nvectors)
		return;
	printf("    %-5s %-6s %-24s %-10s %-10s %s\n", "IRQ", "KIND", "NAME",
	       "AFFINITY", "EFFECTIVE", "COUNT");
	for (i = 0; i < in.nvectors; i++) {
		dmakit_trace_pci_vector(pci, i, &v);
		printf("    %-5u %-6s %-24s %-10s %-10s %llu\n", v.irq,
		       dmakit_trace_irq_kind_name(v.kind),
		       v.name[0] ? v.name : "-", v.affinity[0] ? v.affinity : "-",
		       v.effective_affinity[0] ? v.effective_affinity : "-",
		       (unsigned long long)v.count);
	}
}

static void print_json(struct dmakit_json *j, struct dmakit_trace_pci *pci)
{
	struct dmakit_trace_pci_info in;
	struct dmakit_trace_pci_vector v;
	char hex[16];
	unsigned int i;

	dmakit_trace_pci_info(pci, &in);
	dmakit_json_obj_begin(j, NULL);
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
	dmakit_json_i64(j, "numa_node", in.numa_node);
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
		dmakit_json_obj_end(j);
	}
	dmakit_json_arr_end(j);
	dmakit_json_obj_end(j);
}

static int list_devices(bool json)
{
	struct dmakit_json j;
	char **bdfs, err[DMAKIT_ERRMSG_MAX];
	size_t n, i;
	int ret;

	ret = dmakit_trace_pci_list(&bdfs, &n, true);
	if (ret)
		return cli_error(CMD, "reading /sys/bus/pci/devices: %s",
				 dmakit_strerror(ret));
	if (json) {
		dmakit_json_init(&j, stdout, true);
		dmakit_json_arr_begin(&j, NULL);
	} else {
		printf("%-13s %-10s %-20s %-16s %s\n", "BDF", "ID", "DRIVER",
		       "LINK", "VECTORS");
	}
	for (i = 0; i < n; i++) {
		struct dmakit_trace_pci *pci;
		struct dmakit_trace_pci_info in;
		char link[64], id[16];

		if (dmakit_trace_pci_alloc(&pci, bdfs[i], err, sizeof(err)))
			continue;	/* it went away meanwhile */
		if (json) {
			print_json(&j, pci);
		} else {
			dmakit_trace_pci_info(pci, &in);
			fmt_link(link, sizeof(link), in.link_gts, in.link_width);
			snprintf(id, sizeof(id), "%04x:%04x", in.vendor, in.device);
			printf("%-13s %-10s %-20s %-16s %u\n", in.bdf, id,
			       in.driver, link, in.nvectors);
		}
		dmakit_trace_pci_free(pci);
	}
	if (json) {
		dmakit_json_arr_end(&j);
		dmakit_json_end(&j);
	}
	dmakit_trace_pci_list_free(bdfs, n);
	return CLI_EXIT_OK;
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dmakit_trace_pci *pci;
	char err[DMAKIT_ERRMSG_MAX];
	bool json = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_getopt_error(CMD, c, argv);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(CMD, "at most one device address");
	if (optind == argc)
		return list_devices(json);
	ret = dmakit_trace_pci_alloc(&pci, argv[optind], err, sizeof(err));
	if (ret)
		return cli_error(CMD, "%s", err);
	if (json) {
		struct dmakit_json j;

		dmakit_json_init(&j, stdout, true);
		print_json(&j, pci);
		dmakit_json_end(&j);
	} else {
		print_text(pci);
	}
	dmakit_trace_pci_free(pci);
	return CLI_EXIT_OK;
}
