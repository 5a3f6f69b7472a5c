/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmakit tracepoints: the start and the end of every DMA the driver hands
 * to hardware, on both channels (0: streaming ring buffer, id = ring
 * position; 1: transaction, id = the id DMAKIT_IOC_XFER_SUBMIT returned).
 *
 *   dmakit:dma_submit   the doorbell for a transaction's first segment, or
 *                       a ring buffer posted to the engine
 *   dmakit:dma_complete the interrupt that ended it (status 0 or -errno)
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dmakit

#if !defined(_DMAKIT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _DMAKIT_TRACE_H

#include <linux/tracepoint.h>
#include "dmakit.h"

#define dmakit_show_dir(dir)						\
	__print_symbolic(dir, { DMAKIT_XFER_TO_HOST, "to_host" },	\
			 { DMAKIT_XFER_FROM_HOST, "from_host" })

DECLARE_EVENT_CLASS(dmakit_dma,
	TP_PROTO(const struct dmakit_card *card, u32 channel, u64 id, u32 dir,
		 u64 bytes, dma_addr_t bus, int status),
	TP_ARGS(card, channel, id, dir, bytes, bus, status),
	TP_STRUCT__entry(
		__array(char, dev, 16)
		__field(u32, channel)
		__field(u32, dir)
		__field(u64, id)
		__field(u64, bytes)
		__field(u64, bus)
		__field(int, status)
	),
	TP_fast_assign(
		strscpy(__entry->dev, dev_name(&card->dev), sizeof(__entry->dev));
		__entry->channel = channel;
		__entry->dir = dir;
		__entry->id = id;
		__entry->bytes = bytes;
		__entry->bus = bus;
		__entry->status = status;
	),
	TP_printk("dev=%s channel=%u id=%llu dir=%s bytes=%llu bus=0x%llx status=%d",
		  __entry->dev, __entry->channel, __entry->id,
		  dmakit_show_dir(__entry->dir), __entry->bytes, __entry->bus,
		  __entry->status)
);

DEFINE_EVENT(dmakit_dma, dma_submit,
	TP_PROTO(const struct dmakit_card *card, u32 channel, u64 id, u32 dir,
		 u64 bytes, dma_addr_t bus, int status),
	TP_ARGS(card, channel, id, dir, bytes, bus, status)
);

DEFINE_EVENT(dmakit_dma, dma_complete,
	TP_PROTO(const struct dmakit_card *card, u32 channel, u64 id, u32 dir,
		 u64 bytes, dma_addr_t bus, int status),
	TP_ARGS(card, channel, id, dir, bytes, bus, status)
);

#endif /* _DMAKIT_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE dmakit_trace
#include <trace/define_trace.h>
