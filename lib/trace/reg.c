// SPDX-License-Identifier: MIT
/*
 * Register access by BAR: sysfs resourceN mapped (read-only unless
 * writing), every access bounds- and alignment-checked against the BAR
 * the kernel assigned, one bus transaction per access.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "trace_internal.h"
#include "dmakit/reg.h"

struct dmakit_reg {
	char bdf[16];
	char driver[64];
	unsigned int bar;
	uint64_t size;
	volatile uint8_t *map;
	size_t map_len;
	bool writable;
};

static int find_bar(const struct dmakit_trace_pci *pci, unsigned int index,
		    struct dmakit_trace_pci_bar *bar)
{
	struct dmakit_trace_pci_info info;
	unsigned int i;

	dmakit_trace_pci_info(pci, &info);
	for (i = 0; i < info.nbars; i++)
		if (!dmakit_trace_pci_bar(pci, i, bar) && bar->index == index)
			return 0;
	return -ENODEV;
}

static int map_resource(struct dmakit_reg *reg, const char *path, char *errmsg,
			size_t errlen)
{
	int fd, prot = PROT_READ | (reg->writable ? PROT_WRITE : 0);
	struct stat st;
	void *map;

	fd = open(path, (reg->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT)
			return dmakit_errf(errmsg, errlen, -EOPNOTSUPP,
					   "%s: the kernel does not offer BAR%u for mapping (no %s; e.g. a kernel without PCI mmap support)",
					   reg->bdf, reg->bar, path);
		return dmakit_errf(errmsg, errlen, -err, "open %s: %s%s", path,
				   strerror(err),
				   err == EACCES || err == EPERM ?
				   " (needs root)" : "");
	}
	/* the file is the BAR: its size is what may be mapped */
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (uint64_t)st.st_size < reg->size)
		reg->size = (uint64_t)st.st_size;
	reg->map_len = (size_t)reg->size;
	map = mmap(NULL, reg->map_len, prot, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		int err = errno;

		close(fd);
		/* pci_mmap_resource() refuses a region a driver has claimed */
		if (err == EINVAL && reg->driver[0])
			return dmakit_errf(errmsg, errlen, -EBUSY,
					   "the kernel refuses to map %s BAR%u while driver %s has claimed it (CONFIG_IO_STRICT_DEVMEM, the default on Debian and RHEL kernels): boot with iomem=relaxed, or unbind the driver",
					   reg->bdf, reg->bar, reg->driver);
		return dmakit_errf(errmsg, errlen, -err, "mmap %s: %s%s", path,
				   strerror(err),
				   err == EPERM ? " (needs root; kernel lockdown forbids it too)" : "");
	}
	close(fd);
	reg->map = map;
	return 0;
}

/* The function's BAR as it may be accessed: every refusal before mapping. */
struct bar_target {
	char bdf[16];
	char driver[64];
	uint64_t size;
};

static int lookup_bar(const char *root, const char *bdf, unsigned int bar,
		      unsigned int flags, struct bar_target *t, char *errmsg,
		      size_t errlen)
{
	struct dmakit_trace_pci *pci;
	struct dmakit_trace_pci_info info;
	struct dmakit_trace_pci_bar b;
	int ret;

	if (bar > 5)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "BAR%u: a function has BARs 0 to 5", bar);
	ret = dmakit_trace_pci_alloc_at(&pci, root, bdf, errmsg, errlen);
	if (ret)
		return ret;
	dmakit_trace_pci_info(pci, &info);
	ret = find_bar(pci, bar, &b);
	dmakit_trace_pci_free(pci);
	if (ret)
		return dmakit_errf(errmsg, errlen, -ENODEV,
				   "%s has no BAR%u in use (see 'dmakit info %s')",
				   info.bdf, bar, info.bdf);
	if (b.io)
		return dmakit_errf(errmsg, errlen, -EOPNOTSUPP,
				   "%s BAR%u is an I/O port range: only memory BARs can be mapped",
				   info.bdf, bar);
	if ((flags & DMAKIT_REG_WRITE) && info.driver[0] &&
	    !(flags & DMAKIT_REG_FORCE))
		return dmakit_errf(errmsg, errlen, -EBUSY,
				   "%s is bound to driver %s, which owns its registers: a write could break it (--force to write anyway)",
				   info.bdf, info.driver);
	if (b.size > SIZE_MAX)
		return dmakit_errf(errmsg, errlen, -EOVERFLOW,
				   "BAR%u is larger than the address space", bar);
	memcpy(t->bdf, info.bdf, sizeof(t->bdf));
	memcpy(t->driver, info.driver, sizeof(t->driver));
	t->size = b.size;
	return 0;
}

int dmakit_reg_check_access_at(const char *root, const char *bdf,
			       unsigned int bar, uint64_t offset,
			       unsigned int width, unsigned int flags,
			       char *errmsg, size_t errlen)
{
	struct bar_target t;
	int ret = lookup_bar(root, bdf, bar, flags, &t, errmsg, errlen);

	return ret ? ret : dmakit_reg_check_range(t.size, offset, width,
						  errmsg, errlen);
}

int dmakit_reg_check_access(const char *bdf, unsigned int bar,
			    uint64_t offset, unsigned int width,
			    unsigned int flags, char *errmsg, size_t errlen)
{
	return dmakit_reg_check_access_at("", bdf, bar, offset, width, flags,
					  errmsg, errlen);
}

int dmakit_reg_open_at(struct dmakit_reg **regp, const char *root,
		       const char *bdf, unsigned int bar, unsigned int flags,
		       char *errmsg, size_t errlen)
{
	struct bar_target t;
	struct dmakit_reg *reg;
	char path[PATH_MAX];
	int ret;

	if (!regp)
		return dmakit_errf(errmsg, errlen, -EINVAL, "no handle");
	*regp = NULL;
	ret = lookup_bar(root, bdf, bar, flags, &t, errmsg, errlen);
	if (ret)
		return ret;
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return dmakit_errf(errmsg, errlen, -ENOMEM, "out of memory");
	memcpy(reg->bdf, t.bdf, sizeof(reg->bdf));
	memcpy(reg->driver, t.driver, sizeof(reg->driver));
	reg->bar = bar;
	reg->size = t.size;
	reg->writable = flags & DMAKIT_REG_WRITE;
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/resource%u",
		 root, t.bdf, bar);
	ret = map_resource(reg, path, errmsg, errlen);
	if (ret) {
		free(reg);
		return ret;
	}
	*regp = reg;
	return 0;
}

int dmakit_reg_open(struct dmakit_reg **regp, const char *bdf,
		    unsigned int bar, unsigned int flags, char *errmsg,
		    size_t errlen)
{
	return dmakit_reg_open_at(regp, "", bdf, bar, flags, errmsg, errlen);
}

void dmakit_reg_close(struct dmakit_reg *reg)
{
	if (!reg)
		return;
	if (reg->map)
		munmap((void *)reg->map, reg->map_len);
	free(reg);
}

uint64_t dmakit_reg_size(const struct dmakit_reg *reg)
{
	return reg->size;
}

const char *dmakit_reg_driver(const struct dmakit_reg *reg)
{
	return reg->driver;
}

int dmakit_reg_check_range(uint64_t size, uint64_t offset, unsigned int width,
			   char *errmsg, size_t errlen)
{
	if (width != 1 && width != 2 && width != 4 && width != 8)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "width %u bytes: registers are 1, 2, 4 or 8 bytes wide",
				   width);
	/* past the BAR's end: out of range, however it is aligned */
	if (offset >= size)
		return dmakit_errf(errmsg, errlen, -ERANGE,
				   "offset 0x%llx + %u bytes is beyond the BAR (0x%llx bytes)",
				   (unsigned long long)offset, width,
				   (unsigned long long)size);
	if (offset % width)
		return dmakit_errf(errmsg, errlen, -EINVAL,
				   "offset 0x%llx is not aligned to the %u-byte width",
				   (unsigned long long)offset, width);
	if (size - offset < width)
		return dmakit_errf(errmsg, errlen, -ERANGE,
				   "offset 0x%llx + %u bytes is beyond the BAR (0x%llx bytes)",
				   (unsigned long long)offset, width,
				   (unsigned long long)size);
	return 0;
}

int dmakit_reg_check(const struct dmakit_reg *reg, uint64_t offset,
		     unsigned int width, char *errmsg, size_t errlen)
{
	return dmakit_reg_check_range(reg->size, offset, width, errmsg, errlen);
}

/* One access of the given width: volatile, aligned, so one transaction. */
static uint64_t load(const volatile uint8_t *p, unsigned int width)
{
	switch (width) {
	case 1: return *p;
	case 2: return *(const volatile uint16_t *)(const volatile void *)p;
	case 4: return *(const volatile uint32_t *)(const volatile void *)p;
	default: return *(const volatile uint64_t *)(const volatile void *)p;
	}
}

static void store(volatile uint8_t *p, unsigned int width, uint64_t v)
{
	switch (width) {
	case 1: *p = (uint8_t)v; break;
	case 2: *(volatile uint16_t *)(volatile void *)p = (uint16_t)v; break;
	case 4: *(volatile uint32_t *)(volatile void *)p = (uint32_t)v; break;
	default: *(volatile uint64_t *)(volatile void *)p = v; break;
	}
}

int dmakit_reg_read(const struct dmakit_reg *reg, uint64_t offset,
		    unsigned int width, uint64_t *value, char *errmsg,
		    size_t errlen)
{
	int ret = dmakit_reg_check(reg, offset, width, errmsg, errlen);

	if (ret)
		return ret;
	*value = load(reg->map + offset, width);
	return 0;
}

int dmakit_reg_write(struct dmakit_reg *reg, uint64_t offset,
		     unsigned int width, uint64_t value, char *errmsg,
		     size_t errlen)
{
	int ret = dmakit_reg_check(reg, offset, width, errmsg, errlen);

	if (ret)
		return ret;
	if (!reg->writable)
		return dmakit_errf(errmsg, errlen, -EBADF,
				   "BAR%u was mapped read-only", reg->bar);
	if (width < 8 && value >> (width * 8))
		return dmakit_errf(errmsg, errlen, -ERANGE,
				   "value 0x%llx does not fit in %u bytes",
				   (unsigned long long)value, width);
	store(reg->map + offset, width, value);
	return 0;
}

uint64_t dmakit_reg_poll_read_bar(void *src)
{
	const struct dmakit_reg_poll_bar *b = src;

	return load(b->reg->map + b->offset, b->width);
}
