// SPDX-License-Identifier: MIT
/*
 * PCI discovery on a fake sysfs/procfs tree: a PCIe card with MSI-X
 * vectors (the user's 17:00.0 from the question), a legacy INTx device,
 * a device without driver; /proc/interrupts of old and new kernels; link
 * bandwidth arithmetic; BARs, the config space's capabilities, children
 * (a disk, not its partition nor a disk behind another function; a
 * network interface) and pci.ids names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include "trace/trace_internal.h"
#include "t.h"

static char root[256];

static void put(const char *rel, const char *text)
{
	char path[1024], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *rel, const char *target)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (symlink(target, path)) {
		perror(path);
		exit(1);
	}
}

#define DEV "sys/bus/pci/devices/0000:17:00.0/"

/* Config space: MSI-X (table of 32, enabled) and PCIe (x16 8 GT/s capable, x4 at 5 GT/s). */
static void put_config(const char *rel)
{
	unsigned char cfg[256] = { 0xee, 0x10, 0x3f, 0x90 };
	char path[1024];
	FILE *f;

	cfg[0x06] = 0x10;			/* capability list */
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x11;			/* MSI-X */
	cfg[0x41] = 0x60;
	cfg[0x42] = 31;				/* table size - 1 */
	cfg[0x43] = 0x80;			/* enable */
	cfg[0x60] = 0x10;			/* PCIe */
	cfg[0x61] = 0x00;
	cfg[0x6c] = (unsigned char)(0x03 | (16 << 4));	/* LnkCap: 8 GT/s x16 */
	cfg[0x6d] = (unsigned char)((16 << 4) >> 8);
	cfg[0x72] = (unsigned char)(0x02 | (4 << 4));	/* LnkSta: 5 GT/s x4 */
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f || fwrite(cfg, 1, sizeof(cfg), f) != sizeof(cfg)) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

static void build_tree(void)
{
	snprintf(root, sizeof(root), "%s/dmakit-pci-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		exit(1);
	}
	put(DEV "vendor", "0x10ee\n");
	put(DEV "device", "0x903f\n");
	put(DEV "subsystem_vendor", "0x10ee\n");
	put(DEV "subsystem_device", "0x0007\n");
	put(DEV "class", "0x058000\n");
	put(DEV "numa_node", "1\n");
	put(DEV "dma_mask_bits", "64\n");
	put(DEV "irq", "0\n");
	put(DEV "current_link_speed", "8.0 GT/s PCIe\n");
	put(DEV "current_link_width", "8\n");
	put(DEV "max_link_speed", "16.0 GT/s PCIe\n");
	put(DEV "max_link_width", "16\n");
	link_to(DEV "driver", "../../../../bus/pci/drivers/xdma");
	link_to(DEV "iommu_group", "../../../../kernel/iommu_groups/23");
	/* BAR0 64-bit prefetchable, BAR2 32-bit, BAR4 I/O; line 6: ROM */
	put(DEV "resource",
	    "0x0000003800000000 0x00000038000fffff 0x000000000014220c\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x00000000fb000000 0x00000000fb00ffff 0x0000000000040200\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x000000000000e000 0x000000000000e01f 0x0000000000040101\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x00000000fb100000 0x00000000fb17ffff 0x0000000000046200\n");
	put_config(DEV "config");
	/* a disk with a partition, a disk behind another function, a NIC */
	put(DEV "nvme/nvme0/nvme0n1/dev", "259:0\n");
	put(DEV "nvme/nvme0/nvme0n1/nvme0n1p1/dev", "259:1\n");
	put(DEV "nvme/nvme0/nvme0n1/nvme0n1p1/partition", "1\n");
	put(DEV "0000:18:00.0/nvme/nvme1/nvme1n1/dev", "259:2\n");
	put(DEV "net/eth3/ifindex", "5\n");
	put("sys/class/block/.keep", "");
	put("sys/class/net/.keep", "");
	link_to("sys/class/block/nvme0n1", "../../bus/pci/devices/0000:17:00.0/nvme/nvme0/nvme0n1");
	link_to("sys/class/block/nvme0n1p1",
		"../../bus/pci/devices/0000:17:00.0/nvme/nvme0/nvme0n1/nvme0n1p1");
	link_to("sys/class/block/nvme1n1",
		"../../bus/pci/devices/0000:17:00.0/0000:18:00.0/nvme/nvme1/nvme1n1");
	link_to("sys/class/net/eth3", "../../bus/pci/devices/0000:17:00.0/net/eth3");
	put("pci.ids",
	    "# comment\n"
	    "10ec  Realtek Semiconductor Co., Ltd.\n"
	    "\t903f  Not this one\n"
	    "10ee  Xilinx Corporation\n"
	    "\t7021  Other device\n"
	    "\t903f  Alveo DMA card\n"
	    "\t\t10ee 0007  Alveo U250\n"
	    "\t\t10ee 0008  Alveo U280\n"
	    "\t9041  Next device\n"
	    "10ef  Next vendor\n"
	    "C 05  Memory controller\n"
	    "\t00  RAM memory\n"
	    "\t80  Memory controller\n"
	    "C 06  Bridge\n"
	    "\t04  PCI bridge\n"
	    "\t\t01  Subtractive decode\n");
	put(DEV "msi_irqs/66", "msix\n");
	put(DEV "msi_irqs/67", "msix\n");
	put(DEV "msi_irqs/68", "msix\n");
	put("sys/kernel/irq/66/actions", "xdma\n");
	put("proc/irq/66/smp_affinity_list", "0-7\n");
	put("proc/irq/66/effective_affinity_list", "5\n");
	/* no /sys/kernel/irq/{67,68}: names come from /proc/interrupts */

	put("sys/bus/pci/devices/0000:00:1f.2/vendor", "0x8086\n");
	put("sys/bus/pci/devices/0000:00:1f.2/irq", "19\n");
	link_to("sys/bus/pci/devices/0000:00:1f.2/driver", "../../../bus/pci/drivers/ahci");
	put("sys/bus/pci/devices/0000:00:00.0/vendor", "0x8086\n");

	/* 4 CPUs; the 4.x "IR-PCI-MSI-edge" style on 67/68, newer on 66 */
	put("proc/interrupts",
	    "           CPU0       CPU1       CPU2       CPU3       \n"
	    "  0:         30          0          0          0   IO-APIC   2-edge      timer\n"
	    " 19:          5          6          0          0   IO-APIC  19-fasteoi   ahci[0000:00:1f.2], ehci_hcd:usb1\n"
	    " 66:          0          0         10          0  PCI-MSIX-0000:17:00.0   0-edge      xdma\n"
	    " 67:          1          2          3          4  IR-PCI-MSI-edge      xdma-user\n"
	    " 68:         33          0    1000000          0  IR-PCI-MSI-edge      xdma-c2h\n"
	    "NMI:          0          0          0          0   Non-maskable interrupts\n"
	    "ERR:          0\n");
}

static void msix_card(void)
{
	struct dmakit_trace_pci *pci;
	struct dmakit_trace_pci_info in;
	struct dmakit_trace_pci_vector v;
	char err[256];

	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "17:00.0", err, sizeof(err)), 0);
	dmakit_trace_pci_info(pci, &in);
	T_STREQ(in.bdf, "0000:17:00.0");
	T_STREQ(in.driver, "xdma");
	T_EQ(in.vendor, 0x10ee);
	T_EQ(in.device, 0x903f);
	T_EQ(in.subsys_device, 7);
	T_EQ(in.class_code, 0x058000);
	T_EQ(in.numa_node, 1);
	T_EQ(in.dma_mask_bits, 64);
	T_EQ(in.iommu_group, 23);
	T_ASSERT(in.link_gts == 8.0);
	T_EQ(in.link_width, 8);
	T_ASSERT(in.max_link_gts == 16.0);
	T_EQ(in.max_link_width, 16);
	/* 8 GT/s x8, 128b/130b: 7.877 GB/s per direction */
	T_ASSERT(fabs(in.link_bytes_per_s - 8e9 * 8 * 128 / 130 / 8) < 1);
	T_EQ(in.nvectors, 3);
	T_EQ(dmakit_trace_pci_vector(pci, 0, &v), 0);
	T_EQ(v.irq, 66);
	T_EQ(v.kind, DMAKIT_TRACE_IRQ_MSIX);
	T_STREQ(v.name, "xdma");
	T_STREQ(v.affinity, "0-7");
	T_STREQ(v.effective_affinity, "5");
	T_EQ_U64(v.count, 10);
	T_EQ(dmakit_trace_pci_vector(pci, 1, &v), 0);
	T_STREQ(v.name, "xdma-user");
	T_EQ_U64(v.count, 10);
	T_EQ(dmakit_trace_pci_vector(pci, 2, &v), 0);
	T_EQ(v.irq, 68);
	T_STREQ(v.name, "xdma-c2h");
	T_EQ_U64(v.count, 1000033);
	T_EQ(dmakit_trace_pci_vector(pci, 3, &v), -ERANGE);
	T_STREQ(dmakit_trace_irq_kind_name(v.kind), "MSI-X");
	dmakit_trace_pci_free(pci);
}

static void per_cpu_counts(void)
{
	struct dmakit_trace_pci *pci;
	uint64_t c[8] = { 0 };
	char err[256];

	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "17:00.0", err, sizeof(err)), 0);
	T_EQ(dmakit_trace_pci_vector_cpus(pci, 2, c, 8), 4);
	T_EQ_U64(c[0], 33);
	T_EQ_U64(c[1], 0);
	T_EQ_U64(c[2], 1000000);
	T_EQ_U64(c[3], 0);
	T_EQ_U64(c[4], 0);		/* beyond the CPUs: untouched */
	T_EQ(dmakit_trace_pci_vector_cpus(pci, 1, c, 2), 4);
	T_EQ_U64(c[0], 1);
	T_EQ_U64(c[1], 2);
	T_EQ_U64(c[2], 1000000);	/* only 2 asked for */
	T_EQ(dmakit_trace_pci_vector_cpus(pci, 3, c, 8), -ERANGE);
	dmakit_trace_pci_free(pci);
}

static void bars_and_capabilities(void)
{
	struct dmakit_trace_pci *pci;
	struct dmakit_trace_pci_info in;
	struct dmakit_trace_pci_bar b;
	char err[256];

	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "17:00.0", err, sizeof(err)), 0);
	dmakit_trace_pci_info(pci, &in);
	T_EQ(in.nbars, 3);
	T_EQ(dmakit_trace_pci_bar(pci, 0, &b), 0);
	T_EQ(b.index, 0);
	T_EQ_U64(b.start, 0x3800000000ULL);
	T_EQ_U64(b.size, 1 << 20);
	T_ASSERT(!b.io && b.mem64 && b.prefetchable);
	T_EQ(dmakit_trace_pci_bar(pci, 1, &b), 0);
	T_EQ(b.index, 2);
	T_EQ_U64(b.size, 64 << 10);
	T_ASSERT(!b.io && !b.mem64 && !b.prefetchable);
	T_EQ(dmakit_trace_pci_bar(pci, 2, &b), 0);
	T_EQ(b.index, 4);
	T_EQ_U64(b.start, 0xe000);
	T_EQ_U64(b.size, 32);
	T_ASSERT(b.io);
	T_EQ(dmakit_trace_pci_bar(pci, 3, &b), -ERANGE);	/* not the ROM */
	T_ASSERT(in.config_read);
	T_ASSERT(in.pcie);
	T_EQ(in.msix_table_size, 32);
	T_ASSERT(in.msix_enabled);
	T_EQ(in.msix_vectors, 3);
	/* sysfs's link attributes win over the capability's */
	T_ASSERT(in.link_gts == 8.0);
	T_EQ(in.link_width, 8);
	dmakit_trace_pci_free(pci);

	/* no config space readable: unknown, not "no MSI-X" */
	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "00:1f.2", err, sizeof(err)), 0);
	dmakit_trace_pci_info(pci, &in);
	T_ASSERT(!in.config_read);
	T_EQ(in.msix_table_size, -1);
	T_EQ(in.nbars, 0);
	T_EQ(in.nchildren, 0);
	dmakit_trace_pci_free(pci);
}

static void link_from_capability(void)
{
	struct dmakit_trace_pci_info in;
	char dir[400];

	snprintf(dir, sizeof(dir), "%s/" DEV, root);
	memset(&in, 0, sizeof(in));
	dmakit_pci_read_caps(dir, &in);
	T_ASSERT(in.pcie);
	T_ASSERT(in.max_link_gts == 8.0);
	T_EQ(in.max_link_width, 16);
	T_ASSERT(in.link_gts == 5.0);
	T_EQ(in.link_width, 4);
}

static void children(void)
{
	struct dmakit_trace_pci *pci;
	struct dmakit_trace_pci_info in;
	struct dmakit_trace_pci_child c;
	char err[256];

	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "17:00.0", err, sizeof(err)), 0);
	dmakit_trace_pci_info(pci, &in);
	T_EQ(in.nchildren, 2);
	T_EQ(dmakit_trace_pci_child(pci, 0, &c), 0);
	T_EQ(c.kind, DMAKIT_TRACE_CHILD_BLOCK);
	T_STREQ(c.name, "nvme0n1");
	T_EQ(c.major, 259);
	T_EQ(c.minor, 0);
	T_EQ(c.ifindex, -1);
	T_EQ(dmakit_trace_pci_child(pci, 1, &c), 0);
	T_EQ(c.kind, DMAKIT_TRACE_CHILD_NET);
	T_STREQ(c.name, "eth3");
	T_EQ(c.ifindex, 5);
	T_EQ(dmakit_trace_pci_child(pci, 2, &c), -ERANGE);
	dmakit_trace_pci_free(pci);
}

static void names(void)
{
	struct dmakit_trace_pci *pci;
	struct dmakit_trace_pci_names n;
	char err[256], ids[400];

	snprintf(ids, sizeof(ids), "%s/pci.ids", root);
	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "17:00.0", err, sizeof(err)), 0);
	T_EQ(dmakit_trace_pci_names(pci, ids, &n), 0);
	T_STREQ(n.vendor, "Xilinx Corporation");
	T_STREQ(n.device, "Alveo DMA card");
	T_STREQ(n.subsys_vendor, "Xilinx Corporation");
	T_STREQ(n.subsys_device, "Alveo U250");
	T_STREQ(n.class_name, "Memory controller");
	T_STREQ(n.prog_if, "");
	dmakit_trace_pci_free(pci);
	/* unknown ids: empty names; no file: -ENOENT */
	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "00:1f.2", err, sizeof(err)), 0);
	T_EQ(dmakit_trace_pci_names(pci, ids, &n), 0);
	T_STREQ(n.vendor, "");
	T_STREQ(n.device, "");
	T_STREQ(n.class_name, "");
	/* a subsystem with the device's own ids has the device's name */
	snprintf(ids, sizeof(ids), "%s/pci.ids", root);
	T_EQ(dmakit_pci_ids_lookup(ids, 0x10ee, 0x7021, 0x10ee, 0x7021,
				   0x060401, &n), 0);
	T_STREQ(n.subsys_device, "Other device");
	T_STREQ(n.class_name, "PCI bridge");
	T_STREQ(n.prog_if, "Subtractive decode");
	snprintf(ids, sizeof(ids), "%s/no-such.ids", root);
	T_EQ(dmakit_trace_pci_names(pci, ids, &n), -ENOENT);
	dmakit_trace_pci_free(pci);
}

static void intx_device(void)
{
	struct dmakit_trace_pci *pci;
	struct dmakit_trace_pci_info in;
	struct dmakit_trace_pci_vector v;
	char err[256];

	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "0000:00:1f.2", err,
				       sizeof(err)), 0);
	dmakit_trace_pci_info(pci, &in);
	T_STREQ(in.driver, "ahci");
	T_EQ(in.numa_node, -1);
	T_EQ(in.iommu_group, -1);
	T_ASSERT(in.link_gts == 0);
	T_ASSERT(in.link_bytes_per_s == 0);
	T_EQ(in.nvectors, 1);
	dmakit_trace_pci_vector(pci, 0, &v);
	T_EQ(v.irq, 19);
	T_EQ(v.kind, DMAKIT_TRACE_IRQ_INTX);
	T_STREQ(v.name, "ahci[0000:00:1f.2], ehci_hcd:usb1");
	T_EQ_U64(v.count, 11);
	dmakit_trace_pci_free(pci);
}

static void bad_addresses(void)
{
	struct dmakit_trace_pci *pci = NULL;
	char err[256];

	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "0000:99:00.0", err,
				       sizeof(err)), -ENODEV);
	T_ASSERT(strstr(err, "0000:99:00.0"));
	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "../../etc", err,
				       sizeof(err)), -EINVAL);
	T_EQ(dmakit_trace_pci_alloc_at(&pci, root, "", err, sizeof(err)), -EINVAL);
	T_ASSERT(pci == NULL);
}

static void listing(void)
{
	char **bdfs;
	size_t n;

	T_EQ(dmakit_trace_pci_list_at(root, &bdfs, &n, false), 0);
	T_EQ(n, 3);
	T_STREQ(bdfs[0], "0000:00:00.0");
	T_STREQ(bdfs[2], "0000:17:00.0");
	dmakit_trace_pci_list_free(bdfs, n);
	T_EQ(dmakit_trace_pci_list_at(root, &bdfs, &n, true), 0);
	T_EQ(n, 2);
	T_STREQ(bdfs[0], "0000:00:1f.2");
	dmakit_trace_pci_list_free(bdfs, n);
}

static void bandwidth(void)
{
	T_ASSERT(fabs(dmakit_trace_pcie_bandwidth(2.5, 1) - 250e6) < 1);
	T_ASSERT(fabs(dmakit_trace_pcie_bandwidth(5.0, 4) - 2e9) < 1);
	T_ASSERT(fabs(dmakit_trace_pcie_bandwidth(16.0, 16) -
		      16e9 * 16 * 128 / 130 / 8) < 1);
	T_ASSERT(dmakit_trace_pcie_bandwidth(0, 16) == 0);
	T_ASSERT(dmakit_trace_pcie_bandwidth(8, 0) == 0);
}

static void proc_interrupts_parser(void)
{
	unsigned int irqs[2] = { 68, 5 };
	uint64_t counts[2];
	char names[2][64];

	T_EQ(dmakit_parse_proc_interrupts("garbage", irqs, 2, counts, names),
	     -EINVAL);
	T_EQ(dmakit_parse_proc_interrupts(
		     "   CPU0 CPU1\n 68: 7 8 PCI-MSI 1-edge card\n", irqs, 2,
		     counts, names), 0);
	T_EQ_U64(counts[0], 15);
	T_STREQ(names[0], "card");
	T_EQ_U64(counts[1], 0);		/* absent */
}

int main(void)
{
	char cmd[300];
	int ret;

	build_tree();
	T_RUN(msix_card);
	T_RUN(intx_device);
	T_RUN(bad_addresses);
	T_RUN(listing);
	T_RUN(bandwidth);
	T_RUN(proc_interrupts_parser);
	T_RUN(per_cpu_counts);
	T_RUN(bars_and_capabilities);
	T_RUN(link_from_capability);
	T_RUN(children);
	T_RUN(names);
	ret = t_exit();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
	return ret;
}
