// SPDX-License-Identifier: GPL-2.0
/*
 * What the simulated cards' engines (sim.c, xdma_model.c) do on the bus:
 * reach host memory by bus address, as a PCIe card's DMA does, and write
 * the verifiable payload of dmakit_payload_word().
 *
 * The engines translate a bus address as dma-direct does (their platform
 * devices have no IOMMU: their probes refuse DMA ops they cannot model).
 * With swiotlb the bus address is the bounce buffer, so data reaches the
 * pages user space sees only through the driver's dma_sync_*_for_cpu().
 */
#include <linux/crc32c.h>
#include <linux/dma-direct.h>
#include <linux/highmem.h>

#include "dmakit.h"

/*
 * The bus as the card sees it: call @fn on each piece of host memory that
 * [bus, bus + len) reaches.  Fails like a master abort on a bad address.
 */
int dmakit_sim_bus_access(struct device *dev, dma_addr_t bus, size_t len,
			  void (*fn)(void *va, size_t len, void *ctx),
			  void *ctx)
{
	while (len) {
		phys_addr_t phys = dma_to_phys(dev, bus);
		unsigned long pfn = PHYS_PFN(phys);
		size_t off = offset_in_page(phys);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);
		struct page *page;
		void *va;

		if (!pfn_valid(pfn) || !pfn_valid(PHYS_PFN(phys + len - 1)))
			return -EFAULT;
		page = pfn_to_page(pfn);
		if (!PageHighMem(page)) {
			/* a bus segment is physically contiguous: so is its
			 * direct mapping (one call per segment, not per page)
			 */
			fn(page_address(page) + off, len, ctx);
			return 0;
		}
		va = kmap_local_page(page);
		fn(va + off, n, ctx);
		kunmap_local(va);
		bus += n;
		len -= n;
	}
	return 0;
}

/* bus -> buffer */
static void sim_read_chunk(void *va, size_t len, void *ctx)
{
	u8 **dst = ctx;

	memcpy(*dst, va, len);
	*dst += len;
}

/* buffer -> bus */
static void sim_write_chunk(void *va, size_t len, void *ctx)
{
	const u8 **src = ctx;

	memcpy(va, *src, len);
	*src += len;
}

int dmakit_sim_bus_read(struct device *dev, dma_addr_t bus, void *dst,
			size_t len)
{
	return dmakit_sim_bus_access(dev, bus, len, sim_read_chunk, &dst);
}

int dmakit_sim_bus_write(struct device *dev, dma_addr_t bus, const void *src,
			 size_t len)
{
	return dmakit_sim_bus_access(dev, bus, len, sim_write_chunk, &src);
}

/* dmakit_payload_word(seq, w) == base ^ ((w + 1) * K2), one add per word */
void dmakit_sim_fill_chunk(void *va, size_t len, void *ctx)
{
	struct dmakit_sim_fill *f = ctx;
	u64 *w = va;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		w[i] = f->base ^ f->k;
		f->k += DMAKIT_PAYLOAD_K2;
	}
	f->crc = crc32c(f->crc, va, len);
}
