/* SPDX-License-Identifier: MIT */
/*
 * libdmakit - one consumer API over PCIe DMA streaming rings.
 *
 * A device is opened from a string:
 *
 *   sim[:opt=val,...]   the userspace simulated card (see dmakit_open())
 *   chardev:PATH[,...]  a vendor driver's character device, a FIFO or a
 *                       file, read into the ring (docs/porting.md)
 *   app:NAME            a ring a program fills (dmakit/producer.h)
 *   /dev/dmakitN        a card driven by dmakit.ko
 *
 * Data arrives as a stream of fixed-size buffers in a ring shared with the
 * producer (the card).  Each consumer has its own cursor: it waits for the
 * next filled buffer, uses it in place (the pages are ordinary struct-page
 * backed memory: O_DIRECT, io_uring and MSG_ZEROCOPY accept them) and
 * releases it.  Several consumers may read the same ring at once.
 *
 * Conventions: every function returns 0 (or a count) on success and a
 * negative errno value on failure; dmakit_strerror() describes it.  The
 * library keeps no global state, never prints and never exits.
 */
#ifndef DMAKIT_H
#define DMAKIT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <dmakit/ring.h>

#ifdef __cplusplus
extern "C" {
#endif

/* the library is built with hidden visibility; this is its interface */
#pragma GCC visibility push(default)

/*
 * The version of these headers.  The Makefile's VERSION is the one source:
 * tests/host/version.sh fails if these, dmakit_version(), the driver or
 * the packaging say anything else.
 */
#define DMAKIT_VERSION_MAJOR 0
#define DMAKIT_VERSION_MINOR 1
#define DMAKIT_VERSION_PATCH 0
#define DMAKIT_VERSION "0.1.0"

struct dmakit_dev;
struct dmakit_consumer;

/* Longest message dmakit_open() writes into its error buffer. */
#define DMAKIT_ERRMSG_MAX 256

/**
 * dmakit_open() - open a device from a device string.
 * @devp:   on success, the new device handle
 * @spec:   "sim[:options]", "chardev:PATH[,options]" or a path such as
 *          "/dev/dmakit0"
 * @errmsg: optional buffer (DMAKIT_ERRMSG_MAX bytes) for a one-line
 *          explanation of a failure, e.g. "sim: unknown option 'bufsz'"
 * @errlen: size of @errmsg
 *
 * Options of "sim" (sizes take K/M/G suffixes, powers of 1024; rates take
 * K/M/G suffixes, powers of 1000, in bytes per second):
 *   bufsize=512K   bytes per buffer (multiple of 4096)
 *   nbufs=256      buffers in the ring
 *   rate=max       production rate in bytes/s, or "max"
 *   policy=drop    "drop" (count and mark lost buffers) or "block"
 *   count=0        stop after this many buffers (0: unlimited)
 *   crc=on         compute a CRC32C for each buffer's descriptor
 *   seed=0         first sequence number
 *
 * Options of "chardev:PATH" (after the path, comma separated):
 *   bufsize=512K   bytes per buffer and per read()
 *   nbufs=256      buffers in the ring
 *   depth=8        reads queued in the kernel (linked: issued in order)
 *   policy=        "drop" (default for character devices: read on and
 *                  count what no consumer could take) or "block" (default
 *                  for FIFOs and files: stop reading)
 *   short=flag     a short read is a buffer flagged DMAKIT_DESC_F_TRUNC;
 *                  "fill" reads on until the buffer is full (byte streams)
 *   maxerr=16      failed reads (EIO, timeouts) in a row before the stream
 *                  fails; each one is counted as a lost buffer
 * EOF ends the stream (-ENODATA after the last buffer).
 *
 * "app:NAME" attaches to a program's producer ring (dmakit/producer.h);
 * a name not yet published is waited for up to 10 s (-ENOENT after).
 *
 * The stream does not start until dmakit_start(), so that every consumer
 * can attach first.
 *
 * Return: 0, or -EINVAL (bad string), -ENOENT/-ENODEV/-EACCES (device),
 * -ENOMEM.
 */
int dmakit_open(struct dmakit_dev **devp, const char *spec, char *errmsg,
		size_t errlen);

/*
 * dmakit_open() that gives up when *@stop turns nonzero (e.g. set by a
 * SIGINT/SIGTERM handler) while it prepares the ring: populating a large
 * sim ring takes seconds (8 GiB: about 14 s).  It is checked at least
 * every 64 MiB of the ring.  Return: as dmakit_open(), or -EINTR when
 * stopped (nothing is left behind).  @stop may be NULL.
 */
int dmakit_open_stoppable(struct dmakit_dev **devp, const char *spec,
			  volatile sig_atomic_t *stop, char *errmsg,
			  size_t errlen);

/* Stop the stream if running, detach remaining consumers, free @dev. */
void dmakit_close(struct dmakit_dev *dev);

/* Start / stop the producer.  Stopping lets consumers drain what is left. */
int dmakit_start(struct dmakit_dev *dev);
int dmakit_stop(struct dmakit_dev *dev);

/**
 * struct dmakit_geometry - what a device's ring looks like.
 * @kind:      "sim", "chardev" or "kernel"
 * @name:      the device string it was opened with
 * @bufsize:   bytes per buffer
 * @nbufs:     buffers in the ring
 * @policy:    DMAKIT_POLICY_DROP or DMAKIT_POLICY_BLOCK
 * @payload:   DMAKIT_PAYLOAD_* (SIM: verifiable pattern)
 * @dev_clock_hz: rate of the descriptors' dev_ts clock
 * @data:      the data area: nbufs * bufsize bytes, buffer i at
 *             data + i * bufsize (stable for the device's lifetime)
 * @data_len:  nbufs * bufsize
 * @rate:      configured production rate in bytes/s, 0 for "max"/unknown
 */
struct dmakit_geometry {
	char kind[16];
	char name[128];
	uint32_t bufsize;
	uint32_t nbufs;
	uint32_t policy;
	uint32_t payload;
	uint64_t dev_clock_hz;
	void *data;
	size_t data_len;
	uint64_t rate;
};

int dmakit_get_geometry(struct dmakit_dev *dev, struct dmakit_geometry *geo);

/* Consumer modes (see include/uapi/dmakit/ring.h for the protocol). */
enum dmakit_consumer_mode {
	DMAKIT_RELIABLE = DMAKIT_CONSUMER_RELIABLE,
	DMAKIT_LOSSY = DMAKIT_CONSUMER_LOSSY,
};

/**
 * dmakit_consumer_attach() - add a consumer with its own cursor.
 *
 * A RELIABLE consumer holds every buffer it has not released: when the ring
 * is full the producer drops (policy drop, counted and marked as a gap) or
 * waits (policy block).  A LOSSY consumer never holds the producer back; if
 * it falls behind, dmakit_consumer_next() skips ahead and counts the
 * skipped buffers.  A consumer starts with the next buffer produced.
 *
 * Return: 0, -EBUSY if all consumer slots are taken.
 */
int dmakit_consumer_attach(struct dmakit_dev *dev, enum dmakit_consumer_mode mode,
			   struct dmakit_consumer **consp);
void dmakit_consumer_detach(struct dmakit_consumer *cons);

/**
 * struct dmakit_buf - a filled buffer handed to a consumer.
 * @pos:   ring position (free-running); identifies the buffer to release
 * @index: slot index (pos % nbufs): also its io_uring fixed-buffer index
 * @data:  the buffer's bytes (desc.len valid bytes, bufsize mapped)
 * @desc:  a copy of the descriptor (sequence, timestamps, lost, flags, crc)
 */
struct dmakit_buf {
	uint64_t pos;
	uint32_t index;
	void *data;
	struct dmakit_desc desc;
};

/**
 * dmakit_consumer_next() - wait for the next filled buffer.
 * @timeout_ms: -1 waits forever, 0 polls.
 *
 * Buffers are handed out in order; a consumer may hold several at once and
 * release them in any order.
 *
 * Return: 0 with @buf filled; -ETIMEDOUT; -ENODATA when the producer has
 * stopped and everything was consumed; -ENODEV if the device vanished
 * (or the source's own error, e.g. -EIO from a chardev: source that kept
 * failing, once everything before the failure was consumed);
 * -EINTR if a signal arrived while waiting; -ENOBUFS if the consumer
 * already holds nbufs buffers.
 */
int dmakit_consumer_next(struct dmakit_consumer *cons, struct dmakit_buf *buf,
			 int timeout_ms);

/**
 * dmakit_consumer_release() - give a buffer back to the producer.
 * Buffers may be released in any order; the shared tail advances over the
 * longest released prefix.  Return: 0, -EINVAL if @buf is not held.
 */
int dmakit_consumer_release(struct dmakit_consumer *cons,
			    const struct dmakit_buf *buf);

/*
 * For LOSSY consumers: 1 if @buf's bytes were not overwritten by the
 * producer up to now (call after using them), 0 if they may have been.
 * Always 1 for RELIABLE consumers.
 */
int dmakit_consumer_buf_valid(struct dmakit_consumer *cons,
			      const struct dmakit_buf *buf);

/*
 * A file descriptor that becomes readable (POLLIN) when a buffer may be
 * available to this consumer, for epoll/poll loops.  After it fires, call
 * dmakit_consumer_next() with timeout 0 until it returns -ETIMEDOUT.
 * Owned by the consumer; do not close it.
 */
int dmakit_consumer_fd(struct dmakit_consumer *cons);

/**
 * struct dmakit_stats - counters of a device and one of its consumers.
 * @produced:   buffers the producer published
 * @dropped:    buffers the producer dropped (lost before reaching the ring)
 * @produced_bytes: bytes published
 * @consumed:   buffers handed to this consumer
 * @released:   buffers this consumer released
 * @skipped:    buffers this (lossy) consumer skipped or found overwritten
 * @held:       buffers this consumer holds right now
 * @fill:       buffers produced but not yet released by this consumer
 * @state:      DMAKIT_STATE_* of the producer
 * @producer_cpu_ns: CPU time a software producer has used (the simulated
 *              card's thread, CLOCK_THREAD_CPUTIME_ID, updated every few
 *              buffers); 0 for a hardware producer.  Benchmarks subtract
 *              it to report a consumer's CPU cost without the "card".
 */
struct dmakit_stats {
	uint64_t produced;
	uint64_t dropped;
	uint64_t produced_bytes;
	uint64_t consumed;
	uint64_t released;
	uint64_t skipped;
	uint32_t held;
	uint32_t fill;
	uint32_t state;
	uint32_t reserved;
	uint64_t producer_cpu_ns;
};

int dmakit_consumer_stats(struct dmakit_consumer *cons, struct dmakit_stats *st);

/*
 * Transactions: a transfer between a user buffer and card memory, started
 * asynchronously and waited for by id (the "dma_to_host / dma_from_host /
 * dma_wait" of many vendor libraries).  "to host" moves card memory into
 * @buf; "from host" moves @buf into card memory at @card_addr.
 * Return: a transaction id (> 0) or a negative errno (-EINVAL for a zero
 * length or a range outside the card's memory, -EFAULT for bad memory,
 * -EOPNOTSUPP if the device has no transaction engine).
 */
int64_t dmakit_dma_to_host(struct dmakit_dev *dev, void *buf, size_t len,
			   uint64_t card_addr);
int64_t dmakit_dma_from_host(struct dmakit_dev *dev, const void *buf,
			     size_t len, uint64_t card_addr);

/**
 * dmakit_dma_wait() - wait for a transaction to complete.
 * @done: if not NULL, receives the bytes transferred (also on failure,
 *        for partial completion)
 * Return: 0; -ETIMEDOUT (the transaction stays pending and the device
 * usable; wait again or close); -EINTR on a signal; -EIO if the device
 * failed it; -ENODEV if the device vanished; -ENOENT for an unknown id.
 */
int dmakit_dma_wait(struct dmakit_dev *dev, int64_t id, int timeout_ms,
		    size_t *done);

/* Size of the card memory window usable by transactions (0 if none). */
int dmakit_card_mem_size(struct dmakit_dev *dev, uint64_t *size);

/* Message for a negative (or positive) errno value from this library. */
const char *dmakit_strerror(int err);

/**
 * dmakit_version() - the version of the library loaded at run time.
 *
 * Return: "MAJOR.MINOR.PATCH"; compare with DMAKIT_VERSION, the version of
 * the headers a program was built with.
 */
const char *dmakit_version(void);

/* CRC32C (Castagnoli), as stored in descriptors; @crc is 0 to start. */
uint32_t dmakit_crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * Parse "512K", "1G" (powers of 1024) into bytes.  Return 0 or -EINVAL
 * (empty, garbage, overflow).
 */
int dmakit_parse_size(const char *s, uint64_t *out);
/* Parse a rate "800M" (powers of 1000) in bytes/s; "max" gives 0. */
int dmakit_parse_rate(const char *s, uint64_t *out);

/*
 * The largest durations and byte counts the library's limits accept
 * (max_seconds, max_bytes of record and send): 1e9 s (31 years) and
 * 2^60 bytes (1 EiB), so that deadlines and whole-buffer counts never
 * overflow.  Larger values are refused with -EINVAL.
 */
#define DMAKIT_MAX_SECONDS	1e9
#define DMAKIT_MAX_BYTES	(1ULL << 60)

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMAKIT_H */
