// SPDX-License-Identifier: MIT
/*
 * Transactions: dma_to_host / dma_from_host / dma_wait over the backend's
 * engine, with USDT probes at the start and end of every transaction so
 * perf, bpftrace and `dmakit trace` can see them:
 *
 *   dmakit:dma_start(dev, id, to_host, bytes, card_addr)
 *   dmakit:dma_done(dev, id, status, bytes)
 */
#include <errno.h>
#include <sys/sdt.h>
#include "internal.h"

static int64_t submit(struct dmakit_dev *dev, int to_host, void *buf,
		      size_t len, uint64_t card_addr)
{
	int64_t id;

	if (!dev || !buf || !len)
		return -EINVAL;
	if (!dev->ops->dma_submit)
		return -EOPNOTSUPP;
	id = dev->ops->dma_submit(dev, to_host, buf, len, card_addr);
	if (id > 0)
		DTRACE_PROBE5(dmakit, dma_start, dev, id, to_host, len,
			      card_addr);
	return id;
}

int64_t dmakit_dma_to_host(struct dmakit_dev *dev, void *buf, size_t len,
			   uint64_t card_addr)
{
	return submit(dev, 1, buf, len, card_addr);
}

int64_t dmakit_dma_from_host(struct dmakit_dev *dev, const void *buf,
			     size_t len, uint64_t card_addr)
{
	/* the engine only reads @buf in this direction */
	return submit(dev, 0, (void *)buf, len, card_addr);
}

int dmakit_dma_wait(struct dmakit_dev *dev, int64_t id, int timeout_ms,
		    size_t *done)
{
	size_t bytes = 0;
	int ret;

	if (!dev || id <= 0)
		return -EINVAL;
	if (!dev->ops->dma_wait)
		return -EOPNOTSUPP;
	ret = dev->ops->dma_wait(dev, id, timeout_ms, &bytes);
	if (done)
		*done = bytes;
	/* a timeout or signal does not end the transaction: no probe */
	if (ret != -ETIMEDOUT && ret != -EINTR)
		DTRACE_PROBE4(dmakit, dma_done, dev, id, ret, bytes);
	return ret;
}

int dmakit_card_mem_size(struct dmakit_dev *dev, uint64_t *size)
{
	if (!dev || !size)
		return -EINVAL;
	if (!dev->ops->card_mem_size) {
		*size = 0;
		return 0;
	}
	return dev->ops->card_mem_size(dev, size);
}
