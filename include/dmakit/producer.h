/* SPDX-License-Identifier: MIT */
/*
 * libdmakit producer API: your program is the card.
 *
 * A producer creates a named ring (shared memory in /dev/shm, struct-page
 * backed, the ring ABI of include/uapi/dmakit/ring.h) and fills it:
 * claim a buffer, DMA into it or copy into it (from memory that cannot be
 * pinned, e.g. a VM_PFNMAP mapping of your driver), publish it with its
 * length, flags and device timestamp.  Any number of consumers in other
 * processes attach by name, as "app:NAME": `dmakit record -d app:NAME`,
 * `dmakit send -d app:NAME`, or dmakit_open("app:NAME") in your own code.
 *
 * Lifetime:
 *   - the producer's process owns the name; dmakit_producer_close() ends
 *     the stream (consumers drain and get -ENODATA) and removes the name;
 *   - a producer that dies (even by SIGKILL) is detected by its consumers
 *     within a second: dmakit_consumer_next() returns -ENODEV once they
 *     drained what was published; the name can be created again at once
 *     (a dead producer's ring is replaced);
 *   - a consumer that dies is detected by the producer within a second
 *     and its slot freed, so it never holds the producer back;
 *   - the ring is created with mode 0600 (the creating user) unless
 *     opts.mode says otherwise.
 *
 * Sequence numbers are the library's: one per published or lost buffer.
 */
#ifndef DMAKIT_PRODUCER_H
#define DMAKIT_PRODUCER_H

#include <stdint.h>
#include <sys/types.h>
#include <dmakit.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct dmakit_producer;

/**
 * struct dmakit_producer_opts - the ring a producer creates (zero: defaults).
 * @bufsize:  bytes per buffer, a multiple of 4096 (0: 512 KiB)
 * @nbufs:    buffers in the ring (0: 256)
 * @policy:   DMAKIT_POLICY_DROP (default: a claim on a full ring fails
 *            with -ENOBUFS and the buffer is counted lost) or
 *            DMAKIT_POLICY_BLOCK (a claim waits for a reliable consumer)
 * @payload:  DMAKIT_PAYLOAD_NONE, or DMAKIT_PAYLOAD_SIM if the data follow
 *            dmakit_payload_word() (dmakit verify then checks every byte)
 * @dev_clock_hz: rate of the dev_ts you publish (0: 1 GHz, nanoseconds)
 * @mode:     permissions of the shared memory (0: 0600)
 */
struct dmakit_producer_opts {
	uint32_t bufsize;
	uint32_t nbufs;
	uint32_t policy;
	uint32_t payload;
	uint64_t dev_clock_hz;
	mode_t mode;
};

/*
 * Create the ring NAME ([A-Za-z0-9_.-], 1..64, not starting with '.') and
 * start the stream.  -EEXIST if a live producer owns NAME.
 */
int dmakit_producer_create(struct dmakit_producer **pp, const char *name,
			   const struct dmakit_producer_opts *opts,
			   char *errmsg, size_t errlen);

/*
 * Claim the next buffer: *@data points at bufsize bytes of the ring.
 * Return: 0; -ENOBUFS (policy drop, the ring is full: this buffer is
 * counted lost, publish nothing); -ETIMEDOUT (policy block, no space
 * within @timeout_ms, -1: forever); -EBUSY if a claimed buffer is not
 * published yet.
 */
int dmakit_producer_claim(struct dmakit_producer *p, void **data,
			  int timeout_ms);

/*
 * Publish the claimed buffer: @len valid bytes (1..bufsize; less sets
 * DMAKIT_DESC_F_TRUNC), @flags (DMAKIT_DESC_F_DMA_ERR, or F_CRC with
 * @crc32c of the data), @dev_ts in ticks of dev_clock_hz.  Consumers are
 * woken.  -EINVAL if nothing is claimed or @len is out of range.
 */
int dmakit_producer_publish(struct dmakit_producer *p, uint32_t len,
			    uint32_t flags, uint32_t crc32c, uint64_t dev_ts);

/*
 * Report @n buffers your device lost before the next one (they take
 * sequence numbers; the next published buffer carries F_GAP and lost).
 */
int dmakit_producer_drop(struct dmakit_producer *p, uint64_t n);

/* Consumers attached now (dead ones are not counted). */
int dmakit_producer_consumers(struct dmakit_producer *p);

/*
 * End the stream (consumers drain and get -ENODATA, or @error, a negative
 * errno, is what they get: -ENODEV for error < 0), remove the name and
 * free @p.  A NULL @p is ignored.
 */
void dmakit_producer_close(struct dmakit_producer *p, int error);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMAKIT_PRODUCER_H */
