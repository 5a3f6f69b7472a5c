/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * dmakit streaming ring ABI: shared by the kernel driver (dmakit.ko), the
 * userspace simulated card and libdmakit.  One mapping holds three regions:
 *
 *   offset 0            struct dmakit_ring_ctrl     (one page)
 *   ctrl->desc_offset   struct dmakit_desc[nbufs]   (page aligned)
 *   ctrl->data_offset   nbufs * bufsize data bytes  (page aligned)
 *
 * Positions are free-running 64-bit counters ("pos"); buffer slot and
 * descriptor index are pos % nbufs.  Counters never wrap in practice
 * (2^64 buffers), so differences such as head - tail are always valid.
 *
 * Producer ("the card": the driver, or the simulator's thread):
 *   1. decide whether position claim may be written (dmakit_ring_may_claim):
 *      no reliable consumer may still hold position claim - nbufs;
 *   2. publish claim + 1 (store), then a write barrier, then write the
 *      data and the descriptor of that position;
 *   3. publish head = pos + 1 with a store-release.
 *   If 1 fails, the producer either waits (policy BLOCK, only for sources
 *   that can be paused) or drops the buffer: it bumps `dropped`, adds one
 *   to its private count of lost buffers, and marks the next descriptor it
 *   publishes with DMAKIT_DESC_F_GAP and lost = that count.  Dropped
 *   buffers still consume a device sequence number, so seq jumps by
 *   lost + 1 across a gap.
 *
 * Consumers (one slot each in ctrl->consumers[]):
 *   - read head with load-acquire; positions [tail, head) are readable;
 *   - a RELIABLE consumer holds the producer back: it releases positions by
 *     advancing tail with a store-release, in order;
 *   - a LOSSY consumer never holds the producer back.  After using the data
 *     of position p it re-reads claim (after an acquire fence); the data was
 *     intact iff claim <= p + nbufs (dmakit_ring_still_valid).  When it has
 *     fallen more than nbufs behind it skips ahead and counts the skipped
 *     buffers in its own slot.
 *
 * The kernel never trusts values written by user space: it indexes only with
 * its own counters and treats an impossible tail as "ring full".
 *
 * Host to card (ctrl->direction == DMAKIT_DIR_H2C, a TX ring): the roles
 * swap.  The application fills buffers and the engine drains them; nothing
 * is ever dropped, and there are no consumer slots:
 *   - the application may fill position p while p < tx_done + nbufs; it
 *     writes the data, then the descriptor's len (1..bufsize), seq, dev_ts
 *     and flags (only DMAKIT_DESC_F_END is its to set), then publishes
 *     head = p + 1 with a store-release; then, after a full barrier, if
 *     engine_waiting is set it calls DMAKIT_IOC_KICK (the doorbell);
 *   - the kernel posts published positions to the engine in order and, as
 *     the engine completes them, writes back the descriptor's len (bytes
 *     the engine read), host_ts, crc32c (F_CRC: the card's CRC of what it
 *     read), flags (F_UNDERRUN with lost = the underruns just before this
 *     buffer, F_DMA_ERR, F_TRUNC, F_CUT) and then advances tx_done with a
 *     store-release: positions < tx_done are free again;
 *   - an underrun (the engine ready for data, nothing published while the
 *     stream runs) is counted in ctrl->underruns and flagged in the next
 *     buffer; a buffer flagged F_END tells the engine nothing follows, so
 *     the idle time after it is no underrun.
 * An impossible head (behind what was posted, or more than nbufs ahead of
 * tx_done) is "nothing published".  poll() on the device: EPOLLOUT when a
 * buffer is free, EPOLLIN when everything published has been drained.
 */
#ifndef _UAPI_DMAKIT_RING_H
#define _UAPI_DMAKIT_RING_H

#include <linux/types.h>

#define DMAKIT_RING_MAGIC	0x31474e52544b4d44ULL	/* "DMKTRNG1" */
#define DMAKIT_RING_VERSION	1
#define DMAKIT_RING_CTRL_SIZE	4096
#define DMAKIT_RING_MAX_CONSUMERS 16
#define DMAKIT_CACHELINE	64

/* Geometry limits, checked by every producer before it publishes a ring. */
#define DMAKIT_RING_MIN_BUFS	2
#define DMAKIT_RING_MAX_BUFS	65536
#define DMAKIT_RING_MIN_BUFSIZE	4096		/* a page; a multiple of it */
#define DMAKIT_RING_MAX_BUFSIZE	(64U << 20)

/* ctrl->policy: what the producer does when reliable consumers are full. */
#define DMAKIT_POLICY_DROP	0	/* drop, count, mark the next buffer */
#define DMAKIT_POLICY_BLOCK	1	/* wait for space (pausable sources) */

/* ctrl->payload: what the data bytes are, so recordings can be verified. */
#define DMAKIT_PAYLOAD_NONE	0	/* opaque device data */
#define DMAKIT_PAYLOAD_SIM	1	/* dmakit_payload_word() pattern */

/* ctrl->state */
#define DMAKIT_STATE_IDLE	0	/* ring set up, producer not started */
#define DMAKIT_STATE_RUNNING	1
#define DMAKIT_STATE_STOPPED	2	/* producer stopped; no more buffers */
#define DMAKIT_STATE_ERROR	3	/* producer failed (device vanished) */

/* consumer slot state */
#define DMAKIT_CONSUMER_FREE	 0
#define DMAKIT_CONSUMER_RELIABLE 1	/* holds buffers until released */
#define DMAKIT_CONSUMER_LOSSY	 2	/* never holds the producer back */

/* ctrl->direction */
#define DMAKIT_DIR_C2H		0	/* card to host: the card fills */
#define DMAKIT_DIR_H2C		1	/* host to card: the application fills */

/* descriptor flags */
#define DMAKIT_DESC_F_GAP	(1U << 0)	/* desc.lost buffers lost before */
#define DMAKIT_DESC_F_DMA_ERR	(1U << 1)	/* the device reported an error */
#define DMAKIT_DESC_F_TRUNC	(1U << 2)	/* len < bufsize (short buffer) */
#define DMAKIT_DESC_F_CRC	(1U << 3)	/* crc32c is valid */
/* H2C only (see above) */
#define DMAKIT_DESC_F_END	(1U << 4)	/* app: the last buffer for now */
#define DMAKIT_DESC_F_UNDERRUN	(1U << 5)	/* the engine ran dry before it */
/* stopped before the engine read it all: len 0, the card may have a part */
#define DMAKIT_DESC_F_CUT	(1U << 6)

/**
 * struct dmakit_desc - one filled buffer, written by the producer before it
 * publishes head; read-only for consumers.  64 bytes, no implicit padding.
 * @seq:     device sequence number of this buffer, free-running from 0
 * @dev_ts:  device timestamp in ticks of ctrl->dev_clock_hz
 * @host_ts: CLOCK_MONOTONIC nanoseconds when the host saw the buffer complete
 * @lost:    buffers lost immediately before this one (GAP flag set if > 0)
 * @len:     valid bytes at the start of the buffer (<= bufsize)
 * @flags:   DMAKIT_DESC_F_*
 * @crc32c:  CRC32C (Castagnoli) of the @len valid bytes if F_CRC is set
 */
struct dmakit_desc {
	__u64 seq;
	__u64 dev_ts;
	__u64 host_ts;
	__u64 lost;
	__u32 len;
	__u32 flags;
	__u32 crc32c;
	__u32 reserved0;
	__u64 reserved[2];
};

/**
 * struct dmakit_ring_consumer - one consumer's cursor, one cache line.
 * @tail:    positions < tail are released.  Consumer: store-release.
 *           Producer: load-acquire (only for RELIABLE consumers).
 * @cursor:  next position the consumer wants; written by the consumer
 *           before it sleeps, read by poll()/the producer's wakeup check.
 * @state:   DMAKIT_CONSUMER_*.  User space claims a free slot with a
 *           compare-and-swap; the kernel assigns slots itself per open file.
 * @owner:   pid of the owning process (diagnostics, stale-slot reclaim).
 * @need_wakeup: set by a consumer about to sleep; the producer signals it
 *           after publishing head (so a busy consumer costs no syscalls).
 * @consumed: buffers handed to this consumer (consumer-owned statistic).
 * @skipped: buffers a LOSSY consumer skipped or found overwritten.
 */
struct dmakit_ring_consumer {
	__u64 tail;
	__u64 cursor;
	__u32 state;
	__u32 owner;
	__u32 need_wakeup;
	__u32 reserved0;
	__u64 consumed;
	__u64 skipped;
	__u64 reserved[2];
};

/**
 * struct dmakit_ring_ctrl - the control page.
 *
 * Geometry (first cache line) is written once before the ring is handed to
 * any consumer and never changes afterwards.
 *
 * Producer line:
 * @head:    positions < head are complete.  Producer: store-release after
 *           the data and descriptor; consumers: load-acquire.
 * @claim:   positions < claim may be being written.  Producer: store, then
 *           write barrier, then data.  Lossy consumers: acquire fence, load.
 * @dropped: total buffers dropped by the producer (relaxed; statistics).
 * @produced_bytes: sum of len over published buffers (relaxed).
 * @state:   DMAKIT_STATE_* (producer store-release, consumer load-acquire).
 * @producer_waiting: set by a BLOCK producer sleeping for space; a consumer
 *           that advances tail while it is set wakes the producer.
 *           H2C (engine_waiting): set by the kernel when the engine has
 *           nothing published to take; the application kicks after
 *           publishing while it is set.
 * @direction: DMAKIT_DIR_* (geometry: fixed for the ring's life)
 * @underruns: H2C: times the engine was ready and nothing was published
 *           (kernel, relaxed; statistics).
 *
 * H2C reads @claim as tx_done and @produced_bytes as the bytes the engine
 * read; @dropped stays 0.
 */
struct dmakit_ring_ctrl {
	/* geometry: read-only after publication */
	__u64 magic;
	__u32 version;
	__u32 ctrl_size;
	__u32 nbufs;
	__u32 bufsize;
	__u64 desc_offset;
	__u64 data_offset;
	__u64 map_size;
	__u32 policy;
	__u32 payload;
	__u64 dev_clock_hz;

	/* producer line */
	__u64 head __attribute__((aligned(DMAKIT_CACHELINE)));
	union {
		__u64 claim;
		__u64 tx_done;	/* H2C */
	};
	__u64 dropped;
	__u64 produced_bytes;
	__u32 state;
	union {
		__u32 producer_waiting;
		__u32 engine_waiting;	/* H2C */
	};
	__u64 stream_id;	/* random per start: tells recordings apart */
	__u32 direction;
	__u32 reserved1;
	__u64 underruns;	/* H2C */

	struct dmakit_ring_consumer consumers[DMAKIT_RING_MAX_CONSUMERS]
		__attribute__((aligned(DMAKIT_CACHELINE)));
};

/* Bytes a ring of this geometry needs: ctrl page + descriptors + data. */
static inline __u64 dmakit_ring_desc_bytes(__u32 nbufs)
{
	__u64 b = (__u64)nbufs * sizeof(struct dmakit_desc);

	return (b + DMAKIT_RING_CTRL_SIZE - 1) &
	       ~(__u64)(DMAKIT_RING_CTRL_SIZE - 1);
}

static inline __u64 dmakit_ring_map_size(__u32 nbufs, __u32 bufsize)
{
	return DMAKIT_RING_CTRL_SIZE + dmakit_ring_desc_bytes(nbufs) +
	       (__u64)nbufs * bufsize;
}

/* Returns 0 if the geometry is acceptable, nonzero otherwise. */
static inline int dmakit_ring_check_geometry(__u32 nbufs, __u32 bufsize)
{
	if (nbufs < DMAKIT_RING_MIN_BUFS || nbufs > DMAKIT_RING_MAX_BUFS)
		return 1;
	if (bufsize < DMAKIT_RING_MIN_BUFSIZE ||
	    bufsize > DMAKIT_RING_MAX_BUFSIZE ||
	    bufsize % DMAKIT_RING_MIN_BUFSIZE)
		return 1;
	return 0;
}

/*
 * Verifiable payload of the simulated card (userspace sim and the driver's
 * sim engine): every 8-byte word is a function of the buffer's sequence
 * number and the word's index, so a recording proves each byte's origin.
 * Cheap to generate: one add per word once the per-buffer base is known.
 */
#define DMAKIT_PAYLOAD_K1	0x9e3779b97f4a7c15ULL
#define DMAKIT_PAYLOAD_K2	0xc2b2ae3d27d4eb4fULL

static inline __u64 dmakit_payload_word(__u64 seq, __u64 word)
{
	return (seq * DMAKIT_PAYLOAD_K1) ^ ((word + 1) * DMAKIT_PAYLOAD_K2);
}

/*
 * Shared producer protocol.  The kernel and user space supply the memory
 * ordering primitives; the logic below exists once.
 */
#ifdef __KERNEL__
/* barriers: the pairings are the ones described at the top of this file */
#define DMAKIT_LOAD_ACQUIRE(p)		smp_load_acquire(p)	/* see above */
#define DMAKIT_STORE_RELEASE(p, v)	smp_store_release(p, v)	/* see above */
#define DMAKIT_LOAD_RELAXED(p)		READ_ONCE(*(p))
#define DMAKIT_STORE_RELAXED(p, v)	WRITE_ONCE(*(p), v)
#define DMAKIT_WRITE_BARRIER()		smp_wmb()		/* see above */
#define DMAKIT_FULL_BARRIER()		smp_mb()		/* see above */
#else
#define DMAKIT_LOAD_ACQUIRE(p)		__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define DMAKIT_STORE_RELEASE(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define DMAKIT_LOAD_RELAXED(p)		__atomic_load_n(p, __ATOMIC_RELAXED)
#define DMAKIT_STORE_RELAXED(p, v)	__atomic_store_n(p, v, __ATOMIC_RELAXED)
#define DMAKIT_WRITE_BARRIER()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define DMAKIT_FULL_BARRIER()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/*
 * The producer passes its own copy of the geometry (@nbufs) to the helpers
 * below: the ctrl page is writable by every consumer, so a kernel producer
 * must never index or bound anything with a value read back from it.
 */

/*
 * May the producer write position @pos?  True unless a RELIABLE consumer
 * still holds position pos - nbufs (tail <= pos - nbufs).  A tail beyond
 * @pos is impossible and is treated as "full", so a corrupt user-space
 * value can stall only its own stream.  The caller issues a full barrier
 * between its previous claim store and this check (see the consumer attach
 * protocol in libdmakit), which is what dmakit_ring_claim() does.
 */
static inline int dmakit_ring_may_claim(struct dmakit_ring_ctrl *c,
					__u32 nbufs, __u64 pos)
{
	unsigned int i;

	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		struct dmakit_ring_consumer *cs = &c->consumers[i];
		__u64 tail;

		if (DMAKIT_LOAD_ACQUIRE(&cs->state) != DMAKIT_CONSUMER_RELIABLE)
			continue;
		tail = DMAKIT_LOAD_ACQUIRE(&cs->tail);
		if (tail > pos || pos - tail >= nbufs)
			return 0;
	}
	return 1;
}

/*
 * Claim position @pos (== the producer's claim counter) for writing: the
 * store of claim is ordered before any write of the slot's data.
 */
static inline void dmakit_ring_claim(struct dmakit_ring_ctrl *c, __u64 pos)
{
	DMAKIT_STORE_RELAXED(&c->claim, pos + 1);
	DMAKIT_FULL_BARRIER();
}

/*
 * Fill in the descriptor of a written position and publish it.  @lost is
 * the producer's count of buffers dropped since the last published one.
 */
static inline void dmakit_ring_publish(struct dmakit_ring_ctrl *c,
				       struct dmakit_desc *descs, __u32 nbufs,
				       __u64 pos, const struct dmakit_desc *d)
{
	struct dmakit_desc *slot = &descs[pos % nbufs];

	*slot = *d;
	if (d->lost)
		slot->flags |= DMAKIT_DESC_F_GAP;
	DMAKIT_STORE_RELAXED(&c->produced_bytes,
			     DMAKIT_LOAD_RELAXED(&c->produced_bytes) + d->len);
	DMAKIT_STORE_RELEASE(&c->head, pos + 1);
}

/*
 * Count @n dropped buffers (the producer keeps the pending lost count; a
 * card that reports its drops in batches adds them at once).
 */
static inline void dmakit_ring_count_drop(struct dmakit_ring_ctrl *c, __u64 n)
{
	DMAKIT_STORE_RELAXED(&c->dropped, DMAKIT_LOAD_RELAXED(&c->dropped) + n);
}

/*
 * Lossy consumer check after using position @pos: was the slot possibly
 * overwritten while it was read?
 */
static inline int dmakit_ring_still_valid(struct dmakit_ring_ctrl *c, __u64 pos)
{
	__u64 claim;

#ifdef __KERNEL__
	smp_rmb();	/* data reads before the claim re-read */
#else
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
#endif
	claim = DMAKIT_LOAD_RELAXED(&c->claim);
	return claim <= pos + c->nbufs;
}

#endif /* _UAPI_DMAKIT_RING_H */
