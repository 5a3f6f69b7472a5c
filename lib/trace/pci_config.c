// SPDX-License-Identifier: MIT
/*
 * What a PCI function's config space says that sysfs does not: whether it
 * is PCI Express, its MSI-X table size and whether MSI-X is on, and the
 * link from the PCIe capability (LnkCap/LnkSta) where sysfs exports no
 * link attributes.  Read from sysfs "config", which serves the header
 * (64 bytes) to anyone and the capability list to root only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "trace_internal.h"

#define CFG_STATUS		0x06
#define CFG_STATUS_CAP_LIST	0x10
#define CFG_CAP_PTR		0x34
#define CAP_ID_PCIE		0x10
#define CAP_ID_MSIX		0x11
#define PCIE_LNKCAP		0x0c
#define PCIE_LNKSTA		0x12
#define MSIX_CTRL		0x02
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_SIZE		0x07ff

static unsigned int rd16(const unsigned char *c, unsigned int off)
{
	return c[off] | (unsigned int)c[off + 1] << 8;
}

static unsigned int rd32(const unsigned char *c, unsigned int off)
{
	return rd16(c, off) | rd16(c, off + 2) << 16;
}

/* Link speed field (LnkCap, LnkSta bits 3:0) in GT/s. */
static double speed_gts(unsigned int code)
{
	static const double gts[] = { 0, 2.5, 5, 8, 16, 32, 64, 128 };

	return code < sizeof(gts) / sizeof(gts[0]) ? gts[code] : 0;
}

void dmakit_pci_read_caps(const char *dir, struct dmakit_trace_pci_info *in)
{
	unsigned char cfg[256];
	char path[PATH_MAX];
	unsigned int ptr, hops;
	ssize_t n;
	int fd;

	in->config_read = false;
	in->pcie = false;
	in->msix_table_size = -1;
	in->msix_enabled = false;
	snprintf(path, sizeof(path), "%s/config", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	/* without root only the header comes back: capabilities unknown */
	if (n < (ssize_t)sizeof(cfg))
		return;
	in->config_read = true;
	in->msix_table_size = 0;
	if (!(rd16(cfg, CFG_STATUS) & CFG_STATUS_CAP_LIST))
		return;
	/* the list lives in 0x40..0xff; a bound on hops stops a loop */
	for (ptr = cfg[CFG_CAP_PTR] & 0xfc, hops = 0; ptr >= 0x40 && hops < 48;
	     ptr = cfg[ptr + 1] & 0xfc, hops++) {
		if (ptr > sizeof(cfg) - 0x14)
			break;
		if (cfg[ptr] == CAP_ID_MSIX) {
			unsigned int ctrl = rd16(cfg, ptr + MSIX_CTRL);

			in->msix_table_size = (int)(ctrl & MSIX_CTRL_SIZE) + 1;
			in->msix_enabled = ctrl & MSIX_CTRL_ENABLE;
		} else if (cfg[ptr] == CAP_ID_PCIE) {
			unsigned int cap = rd32(cfg, ptr + PCIE_LNKCAP);
			unsigned int sta = rd16(cfg, ptr + PCIE_LNKSTA);

			in->pcie = true;
			if (!in->max_link_gts) {
				in->max_link_gts = speed_gts(cap & 0xf);
				in->max_link_width = (cap >> 4) & 0x3f;
			}
			if (!in->link_gts) {
				in->link_gts = speed_gts(sta & 0xf);
				in->link_width = (sta >> 4) & 0x3f;
			}
		}
	}
}
