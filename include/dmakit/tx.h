/* SPDX-License-Identifier: MIT */
/*
 * libdmakit TX API: streaming host to card (H2C) through a dmakit.ko
 * card's ring, set up in the host-to-card direction.
 *
 * The application is the producer: it takes a free ring buffer, fills it
 * (in place: the ring's pages are the ones the card reads, no copy), and
 * publishes it with its length; the card's engine drains published
 * buffers in order and the kernel returns them free.  Nothing is ever
 * dropped: with no free buffer dmakit_tx_get() waits (or says -EAGAIN).
 * An underrun (the card ready for data while nothing was published) is
 * counted by the card and flagged on the next buffer it takes.
 *
 *   struct dmakit_tx *tx;
 *   struct dmakit_tx_buf b;
 *
 *   dmakit_tx_open(&tx, "/dev/dmakit0", err, sizeof(err));
 *   dmakit_tx_start(tx);
 *   while (more) {
 *           dmakit_tx_get(tx, &b, -1);           // a free buffer
 *           b.len = fill(b.data, b.size);
 *           dmakit_tx_publish(tx, &b);           // the card takes it
 *   }
 *   dmakit_tx_drain(tx, 10000);                  // everything taken
 *   dmakit_tx_stats(tx, &st);                    // underruns, bytes, ...
 *   dmakit_tx_close(tx);                         // stops the stream
 *
 * One thread uses a handle at a time.  The card stays set up H2C while it
 * is open (by anyone); it returns to C2H when its last file closes.
 */
#ifndef DMAKIT_TX_H
#define DMAKIT_TX_H

#include <stdbool.h>
#include <stdint.h>
#include <dmakit.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct dmakit_tx;

/**
 * dmakit_tx_open() - open a dmakit.ko card for host-to-card streaming.
 * @txp:    on success, the handle
 * @path:   the card, e.g. "/dev/dmakit0"
 * @err:    optional buffer (DMAKIT_ERRMSG_MAX bytes) for an explanation
 * @errlen: its size
 *
 * Sets the card's ring up H2C (DMAKIT_IOC_RING_SETUP) and maps it.  The
 * ring's geometry is the card's (sysfs ring_nbufs, ring_bufsize).
 *
 * Return: 0; -ENOENT/-EACCES (the path), -ENODEV (not a dmakit card, or
 * gone), -EOPNOTSUPP (the card has no ring or no H2C engine), -EBUSY
 * (another program has the card open), -ENOMEM.
 */
int dmakit_tx_open(struct dmakit_tx **txp, const char *path, char *err,
		   size_t errlen);

/* Stop the stream (cutting what the card did not take), unmap, close. */
void dmakit_tx_close(struct dmakit_tx *tx);

/**
 * struct dmakit_tx_info - the TX ring.
 * @nbufs:   buffers in the ring
 * @bufsize: bytes per buffer: the most one publish carries
 * @rate:    the card's configured rate in bytes/s (0: as fast as it can)
 * @backend: the card's backend ("sim", ...)
 */
struct dmakit_tx_info {
	uint32_t nbufs;
	uint32_t bufsize;
	uint64_t rate;
	char backend[16];
};

int dmakit_tx_info(struct dmakit_tx *tx, struct dmakit_tx_info *info);

/*
 * Start the card's engine.  Buffers may be published before: the engine
 * takes them from the start.  Return: 0, -EALREADY, -ENODEV.
 */
int dmakit_tx_start(struct dmakit_tx *tx);

/*
 * Stop the engine at once: buffers it had not finished come back cut
 * (counted in cut; the card may hold part of one).  Drain first to stop
 * without cutting.  Return: 0 or -ENODEV.
 */
int dmakit_tx_stop(struct dmakit_tx *tx);

/**
 * struct dmakit_tx_buf - a buffer being filled.
 * @data:   where to write (the ring's memory, page aligned)
 * @size:   its capacity: the ring's bufsize
 * @pos:    its ring position (publish order)
 * @len:    in: bytes to send, 1..@size
 * @seq, @dev_ts: in: the application's, left in the descriptor
 * @end:    in: nothing follows this buffer for now: the time after it is
 *          no underrun
 * @crc32c: in: with @has_crc, the CRC32C of the @len bytes as they should
 *          reach the card: a card that reports its own is compared
 *          (mismatches counted in crc_mismatches)
 */
struct dmakit_tx_buf {
	void *data;
	uint32_t size;
	uint64_t pos;
	uint32_t len;
	uint64_t seq;
	uint64_t dev_ts;
	bool end;
	bool has_crc;
	uint32_t crc32c;
};

/*
 * The next free buffer, waiting up to @timeout_ms (-1: forever, 0: not at
 * all).  Calling it again before publishing returns the same buffer.
 * Return: 0; -EAGAIN (@timeout_ms 0, none free), -ETIMEDOUT, -EINTR (a
 * signal), -ENODEV (the card is gone).
 */
int dmakit_tx_get(struct dmakit_tx *tx, struct dmakit_tx_buf *buf,
		  int timeout_ms);

/*
 * Publish the buffer dmakit_tx_get() gave, with buf->len and the other
 * "in" fields; the card takes it after those published before.  Rings the
 * card's doorbell only when its engine waits.  Return: 0, -EINVAL (len
 * 0 or beyond size, not the buffer get gave), -ENODEV.
 */
int dmakit_tx_publish(struct dmakit_tx *tx, const struct dmakit_tx_buf *buf);

/*
 * Wait up to @timeout_ms (-1: forever) until the card has taken every
 * published buffer.  Return: 0, -ETIMEDOUT, -EINTR, -ENODEV.
 */
int dmakit_tx_drain(struct dmakit_tx *tx, int timeout_ms);

/**
 * struct dmakit_tx_stats - what came back from the card.
 * @published:  buffers published
 * @completed:  buffers the card took completely, without error
 * @bytes:      their bytes
 * @underruns:  times the card ran dry (the card's count)
 * @underrun_flags: buffers flagged DMAKIT_DESC_F_UNDERRUN
 * @errors:     buffers the card reported a DMA error for, or refused
 * @truncated:  buffers the card took only in part
 * @cut:        buffers a stop cut (not confirmed taken)
 * @crc_mismatches: buffers whose card CRC differs from the one published
 * @crc_checked: buffers whose card CRC was compared
 */
struct dmakit_tx_stats {
	uint64_t published;
	uint64_t completed;
	uint64_t bytes;
	uint64_t underruns;
	uint64_t underrun_flags;
	uint64_t errors;
	uint64_t truncated;
	uint64_t cut;
	uint64_t crc_mismatches;
	uint64_t crc_checked;
};

int dmakit_tx_stats(struct dmakit_tx *tx, struct dmakit_tx_stats *st);

/* The descriptor to poll(): POLLOUT a buffer is free, POLLIN all drained. */
int dmakit_tx_fd(struct dmakit_tx *tx);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMAKIT_TX_H */
