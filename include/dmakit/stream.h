/* SPDX-License-Identifier: MIT */
/*
 * dmakit network streams: the wire format spoken by `dmakit send` and
 * `dmakit recv`, its encoder/decoder, and the send / receive engines.
 *
 * WIRE FORMAT, version 1
 * ======================
 * One TCP connection carries one stream.  Everything is a frame; every
 * integer is fixed-width little-endian; strings are NUL-padded byte arrays.
 *
 *   sender                                   receiver
 *     HELLO  ------------------------------->
 *            <-------------------------------  ACCEPT (status 0 or -errno)
 *     BUF, BUF, DISCARD, STATS, BUF ... ---->
 *     END    ------------------------------->
 *            <-------------------------------  FINAL (what was recorded)
 *
 * Every frame starts with a 16-byte common header:
 *
 *   off size field
 *     0   4  magic     0x534b4d44 ("DMKS" in byte order)
 *     4   1  version   DMAKIT_STREAM_VERSION
 *     5   1  type      DMAKIT_FRAME_*
 *     6   2  hdr_len   bytes of the whole header, common part included;
 *                      exactly the size this spec gives for the type
 *     8   4  data_len  payload bytes following the header (BUF only,
 *                      0..bufsize: an empty buffer, as a driver publishes
 *                      on a bus fault, is 0; 0 for every other type)
 *    12   4  hdr_crc   CRC32C of header bytes [0, 12) followed by
 *                      [16, hdr_len)
 *
 * A receiver rejects the connection on any deviation: wrong magic, version
 * or hdr_crc, unknown type, wrong hdr_len or data_len, a frame out of
 * order, a sequence jump not explained by the frame's lost count, or (in a
 * reliable stream) a payload whose CRC32C does not match.
 *
 * HELLO (256 bytes): the stream's identity and geometry.
 *    16   4  bufsize        bytes per ring buffer (the recording's slot)
 *    20   4  nbufs          buffers in the sender's ring
 *    24   4  payload        DMAKIT_PAYLOAD_* of the source
 *    28   4  flags          DMAKIT_STREAM_F_*
 *    32   8  dev_clock_hz   rate of the BUF frames' dev_ts clock
 *    40   8  stream_id      the source's stream id
 *    48   8  start_realtime_ns  sender's CLOCK_REALTIME at start
 *    56  16  kind           "sim", "kernel"
 *    72 128  device         the device string at the sender
 *   200  56  reserved       zero
 *
 * ACCEPT (128 bytes): the receiver's answer to HELLO.
 *    16   4  status    0: accepted; else a negative errno (signed)
 *    20   4  reserved  zero
 *    24 104  message   why it was rejected ("" if accepted)
 *
 * BUF (64 bytes + data_len data bytes): one ring buffer.
 *    16   8  seq       device sequence number
 *    24   8  dev_ts    device timestamp
 *    32   8  host_ts   sender's CLOCK_MONOTONIC ns when the buffer completed
 *    40   8  lost      buffers missing right before this one: dropped by
 *                      the device plus skipped or discarded by the sender.
 *                      seq == previous seq + 1 + lost, always.
 *    48   4  flags     DMAKIT_DESC_F_* (GAP iff lost > 0; CRC: crc32c valid;
 *                      other bits zero)
 *    52   4  crc32c    CRC32C of the data_len data bytes (if F_CRC)
 *    56   4  skipped   how many of @lost the sender skipped (lossy sender)
 *    60   4  reserved  zero
 *
 * DISCARD (32 bytes): a lossy sender found, when the kernel released a
 * buffer it sent, that the ring slot may have been overwritten while it
 * was read.  The receiver relies on the BUF's CRC32C (always present in a
 * lossy stream) to keep or drop the data; this frame is for accounting.
 *    16   8  seq
 *    24   4  reason    DMAKIT_DISCARD_OVERWRITTEN
 *    28   4  reserved
 *
 * STATS and END (128 bytes): the sender's counters since HELLO; STATS is
 * sent about once a second, END once, last.
 *    16   8  buffers     BUF frames sent
 *    24   8  bytes       data bytes sent
 *    32   8  dropped     buffers the device dropped (ring full) meanwhile
 *    40   8  skipped     buffers a lossy sender skipped (fell behind)
 *    48   8  discarded   DISCARD frames sent
 *    56   8  zc_sends    sends that asked for zero-copy
 *    64   8  zc_copied   of them, completions the kernel reported as copied
 *    72   4  result      enum dmakit_result (END: why the stream ended)
 *    76   4  reserved
 *    80  48  message     END: a failure's description, else ""
 *
 * FINAL (128 bytes): the receiver's recording is closed.
 *    16   4  status      0, or the negative errno of the receiver's failure
 *    20   4  result      enum dmakit_result of the recording
 *    24   8  buffers     buffers recorded
 *    32   8  bytes       bytes recorded
 *    40   8  discarded   BUF frames dropped by the receiver (CRC mismatch in
 *                        a lossy stream)
 *    48  80  message     a failure's description, else ""
 */
#ifndef DMAKIT_STREAM_H
#define DMAKIT_STREAM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dmakit.h>
#include <dmakit/recording.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define DMAKIT_STREAM_MAGIC	0x534b4d44U	/* "DMKS" */
#define DMAKIT_STREAM_VERSION	1
#define DMAKIT_FRAME_COMMON_LEN	16
#define DMAKIT_FRAME_MAX_LEN	256	/* the largest header (HELLO) */

enum dmakit_frame_type {
	DMAKIT_FRAME_HELLO = 1,
	DMAKIT_FRAME_ACCEPT = 2,
	DMAKIT_FRAME_BUF = 3,
	DMAKIT_FRAME_DISCARD = 4,
	DMAKIT_FRAME_STATS = 5,
	DMAKIT_FRAME_END = 6,
	DMAKIT_FRAME_FINAL = 7,
};

/* Header sizes per type. */
#define DMAKIT_FRAME_HELLO_LEN	 256
#define DMAKIT_FRAME_ACCEPT_LEN	 128
#define DMAKIT_FRAME_BUF_LEN	 64
#define DMAKIT_FRAME_DISCARD_LEN 32
#define DMAKIT_FRAME_STATS_LEN	 128
#define DMAKIT_FRAME_FINAL_LEN	 128

/* BUF flags: the descriptor flags of include/uapi/dmakit/ring.h */
#define DMAKIT_FRAME_BUF_FLAGS	(DMAKIT_DESC_F_GAP | DMAKIT_DESC_F_DMA_ERR | \
				 DMAKIT_DESC_F_TRUNC | DMAKIT_DESC_F_CRC)

/* HELLO flags */
#define DMAKIT_STREAM_F_LOSSY	(1U << 0)	/* sender is a lossy consumer */

#define DMAKIT_DISCARD_OVERWRITTEN 1

struct dmakit_frame_hello {
	uint32_t bufsize, nbufs, payload, flags;
	uint64_t dev_clock_hz, stream_id, start_realtime_ns;
	char kind[16];
	char device[128];
};

struct dmakit_frame_accept {
	int32_t status;
	char message[104];
};

struct dmakit_frame_buf {
	uint64_t seq, dev_ts, host_ts, lost;
	uint32_t flags, crc32c, skipped;
};

struct dmakit_frame_discard {
	uint64_t seq;
	uint32_t reason;
};

/* STATS and END */
struct dmakit_frame_stats {
	uint64_t buffers, bytes, dropped, skipped, discarded;
	uint64_t zc_sends, zc_copied;
	uint32_t result;
	char message[48];
};

struct dmakit_frame_final {
	int32_t status;
	uint32_t result;
	uint64_t buffers, bytes, discarded;
	char message[80];
};

/**
 * struct dmakit_frame - one decoded frame header (host byte order).
 * @type:     DMAKIT_FRAME_*; selects the member of @u
 * @data_len: data bytes following the header (BUF)
 */
struct dmakit_frame {
	uint8_t type;
	uint32_t data_len;
	union {
		struct dmakit_frame_hello hello;
		struct dmakit_frame_accept accept;
		struct dmakit_frame_buf buf;
		struct dmakit_frame_discard discard;
		struct dmakit_frame_stats stats;	/* STATS, END */
		struct dmakit_frame_final final;
	} u;
};

/*
 * Encode @f into @out (at least DMAKIT_FRAME_MAX_LEN bytes).  Strings are
 * truncated to their field.  Return the header length, or -EINVAL for an
 * unknown type or a data_len the type does not allow.
 */
int dmakit_frame_encode(const struct dmakit_frame *f, void *out, size_t outlen);

/*
 * Check the 16-byte common header in @in: magic, version, known type,
 * hdr_len.  Return the full header length to read, or -EPROTO with @err
 * explaining ("bad magic 0x...: not a dmakit stream").
 */
int dmakit_frame_peek(const void *in, size_t len, char *err, size_t errlen);

/*
 * Decode a complete header of @len bytes (as returned by
 * dmakit_frame_peek()).  Checks hdr_crc, the data_len rule of the type,
 * and that reserved fields are zero.  Return 0 or -EPROTO with @err.
 */
int dmakit_frame_decode(const void *in, size_t len, struct dmakit_frame *f,
			char *err, size_t errlen);

/* "HELLO", "BUF", ...; "?" if unknown. */
const char *dmakit_frame_type_name(unsigned int type);

/*
 * Split "HOST:PORT", "[V6ADDR]:PORT" or "PORT" (host NULL) into its
 * parts.  Return 0 or -EINVAL with @err explaining.
 */
int dmakit_net_split_addr(const char *s, char *host, size_t hostlen,
			  char *port, size_t portlen, char *err, size_t errlen);

/* Zero-copy choice of the sender. */
enum dmakit_zerocopy {
	DMAKIT_ZC_AUTO = 0,	/* MSG_ZEROCOPY; plain send if the kernel copies */
	DMAKIT_ZC_MSG,		/* MSG_ZEROCOPY, completions from the error queue */
	DMAKIT_ZC_URING,	/* io_uring SENDMSG_ZC */
	DMAKIT_ZC_OFF,		/* plain sendmsg(): the kernel copies */
};

/* "auto", "msg", "uring", "off" <-> enum; -EINVAL if unknown. */
int dmakit_zerocopy_parse(const char *name, enum dmakit_zerocopy *zc);
const char *dmakit_zerocopy_name(enum dmakit_zerocopy zc);

/**
 * struct dmakit_send_progress - passed to the progress callback.
 */
struct dmakit_send_progress {
	double seconds;
	uint64_t buffers, bytes, dropped, skipped, discarded;
	uint32_t ring_fill, nbufs, inflight;
};

/**
 * struct dmakit_send_opts - dmakit_send(): a consumer feeding a socket.
 * @addr:       "HOST:PORT" of the receiver
 * @zerocopy:   DMAKIT_ZC_*
 * @mode:       DMAKIT_RELIABLE (default): buffers are held until the
 *              kernel is done with them, the device drops when the network
 *              is slower; DMAKIT_LOSSY: never hold the device back, skip
 *              ahead, CRC every buffer so overwrites are caught
 * @max_bytes:  stop once this many data bytes (the buffers' len) are
 *              sent; buffers go whole, so the last may pass it by less
 *              than a buffer (0: no limit)
 * @max_seconds: stop after this long (0: no limit)
 * @connect_timeout_ms: connect + ACCEPT timeout (0: 10 s)
 * @final_timeout_ms: how long to wait for FINAL after END (0: 60 s)
 * @sndbuf:     SO_SNDBUF in bytes (0: kernel default)
 * @stop:       set nonzero (from a signal handler) to end the stream
 * @progress:   called about every @progress_ms
 * @notice:     one-line notices (fallbacks, copied zero-copy)
 */
struct dmakit_send_opts {
	const char *addr;
	enum dmakit_zerocopy zerocopy;
	enum dmakit_consumer_mode mode;
	uint64_t max_bytes;
	double max_seconds;
	int connect_timeout_ms;
	int final_timeout_ms;
	int sndbuf;
	volatile sig_atomic_t *stop;
	void (*progress)(void *ctx, const struct dmakit_send_progress *p);
	void *progress_ctx;
	unsigned int progress_ms;
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

/**
 * struct dmakit_send_stats - what happened.
 * @zerocopy:   the method actually used at the end (AUTO resolves to MSG
 *              or OFF)
 * @zc_sends:   sends that asked for zero-copy
 * @zc_copied:  completions the kernel reported as copied
 *              (SO_EE_CODE_ZEROCOPY_COPIED / IORING_NOTIF_USAGE_ZC_COPIED)
 * @dropped:    buffers the device dropped while sending (ring full)
 * @skipped:    buffers a lossy sender skipped
 * @discarded:  buffers found overwritten after sending (DISCARD frames)
 * @not_taken:  buffers the source delivered before a stop that were not
 *              sent: a stop request waits at most about a second for
 *              them, and a source that does not hand them over is a
 *              device error (the stream never ends "complete" then)
 * @result:     why the stream ended; "complete" only when dmakit_send()
 *              returns 0 (before streaming: interrupted, device or i/o error)
 * @final:      the receiver's FINAL frame, if @have_final
 * @producer_cpu_ns: CPU time of a software producer (the simulated card's
 *              thread) in this process; benchmarks subtract it
 */
struct dmakit_send_stats {
	uint64_t buffers, bytes;
	uint64_t dropped, skipped, discarded;
	uint64_t zc_sends, zc_copied;
	uint64_t not_taken;
	uint64_t producer_cpu_ns;
	double seconds;
	enum dmakit_zerocopy zerocopy;
	enum dmakit_result result;
	bool have_final;
	struct dmakit_frame_final final;
};

/*
 * Connect to opts->addr and stream @dev's buffers until a limit, a stop
 * request, the end of the source, or an error.  Starts the device unless it
 * is running (and then stops it at the end), as dmakit_record() does; a
 * stop by time or by request stops the source first and then sends what
 * it delivered up to then (see @not_taken).  Return 0 if the stream ended complete and the receiver recorded
 * it (FINAL status 0).  -EINTR (stop request) and -ENODATA (the source
 * ended) mean the stream was ended early but cleanly: the receiver has
 * closed its recording.  Failures: -ECONNREFUSED, -EHOSTUNREACH,
 * -ETIMEDOUT, -ECONNRESET/-EPIPE (the receiver vanished), -ECONNABORTED
 * (the receiver failed, e.g. disk full or interrupted: its FINAL says
 * why), -EPROTO (garbled answer), -ENODEV (device error), -ECANCELED
 * (a second stop request cut the stream without END).  @err explains.
 */
int dmakit_send(struct dmakit_dev *dev, const struct dmakit_send_opts *opts,
		struct dmakit_send_stats *out, char *err, size_t errlen);

/**
 * struct dmakit_recv_opts - dmakit_recv(): one stream into one recording.
 * @listen_fd:  a listening TCP socket (dmakit_net_listen())
 * @sink:       where to record; bufsize/pool/nbufs/source/stream_id are
 *              filled in from the stream's HELLO
 * @pool_bufs:  receive buffers (0: the sink's queue depth + 2; fewer if
 *              they would take more than 256 MiB, at least 2); the sink
 *              writes from them directly
 * @accept_timeout_ms: wait this long for a sender (-1: forever)
 * @idle_timeout_ms: a connected sender silent this long is dropped (0: 30 s)
 * @stop:       set nonzero to stop (the recording is closed consistently)
 */
struct dmakit_recv_opts {
	int listen_fd;
	struct dmakit_sink_opts sink;
	unsigned int pool_bufs;
	int accept_timeout_ms;
	int idle_timeout_ms;
	volatile sig_atomic_t *stop;
	void (*progress)(void *ctx, const struct dmakit_record_progress *p);
	void *progress_ctx;
	unsigned int progress_ms;
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

/**
 * struct dmakit_recv_stats - what dmakit_recv() received.
 * @peer:       "ADDR:PORT" of the sender
 * @hello:      the sender's HELLO
 * @sender:     the sender's last STATS/END counters
 * @got_end:    the sender ended the stream with END
 * @discarded:  BUF frames dropped here (CRC mismatch in a lossy stream)
 * @discard_notes: DISCARD frames received
 * @recorded:   the sink's final counters
 */
struct dmakit_recv_stats {
	char peer[64];
	struct dmakit_frame_hello hello;
	struct dmakit_frame_stats sender;
	bool got_end;
	uint64_t frames, data_bytes, discarded, discard_notes;
	struct dmakit_sink_stats recorded;
};

/*
 * Accept one sender on opts->listen_fd and record its stream through a
 * sink.  The recording is consistent and verifiable however the stream
 * ends (its metadata says how).  Return 0 if the sender ended the stream
 * complete and everything was recorded.  Clean early endings: -EINTR (a
 * stop request here, or the sender was interrupted), -ENODATA (the
 * sender's source ended).  Failures, with @err explaining: -EPROTO
 * (garbage, a truncated frame, a lying sequence), -ECONNRESET (the sender
 * vanished), -ETIMEDOUT, -ENODEV (the sender's device failed), the sink's
 * error (-ENOSPC, -EIO).
 */
int dmakit_recv(const struct dmakit_recv_opts *opts,
		struct dmakit_recv_stats *out, char *err, size_t errlen);

/*
 * Listen on "[ADDR:]PORT" (ADDR default: all addresses, IPv6 and IPv4).
 * Return a listening socket, or -EADDRINUSE / -EINVAL / ... with @err.
 */
int dmakit_net_listen(const char *addr, char *err, size_t errlen);

/* The port a listening socket is bound to (for "PORT 0"), or -errno. */
int dmakit_net_local_port(int fd);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMAKIT_STREAM_H */
