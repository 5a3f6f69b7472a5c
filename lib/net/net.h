/* SPDX-License-Identifier: MIT */
/*
 * Socket helpers shared by the stream sender (send.c) and receiver
 * (recv.c).  Every wait has a timeout and honours a stop flag.
 */
#ifndef DMAKIT_NET_H
#define DMAKIT_NET_H

#include <signal.h>
#include <stddef.h>
#include "dmakit/stream.h"

/* Slice of a blocking wait between looks at the stop flag, ms. */
#define NET_POLL_SLICE_MS 200

/*
 * Connect to "HOST:PORT" within @timeout_ms (trying every address the
 * name resolves to).  Returns a connected non-blocking socket or -errno;
 * @peer receives "ADDR:PORT".
 */
int net_connect(const char *addr, int timeout_ms,
		volatile sig_atomic_t *stop, char *peer, size_t peerlen,
		char *err, size_t errlen);

/*
 * Accept one connection within @timeout_ms (-1: forever).  Returns a
 * blocking socket or -errno (-ETIMEDOUT, -EINTR on stop).
 */
int net_accept(int lfd, int timeout_ms, volatile sig_atomic_t *stop,
	       char *peer, size_t peerlen, char *err, size_t errlen);

/*
 * Write/read exactly @len bytes (blocking or non-blocking socket), waiting
 * at most @timeout_ms for progress.  Read returns -ECONNRESET at end of
 * stream (*@got tells how much of this read arrived), -ETIMEDOUT, -EINTR
 * on stop, or another -errno.
 */
int net_write_all(int fd, const void *buf, size_t len, int timeout_ms,
		  volatile sig_atomic_t *stop);
int net_read_all(int fd, void *buf, size_t len, size_t *got, int timeout_ms,
		 volatile sig_atomic_t *stop);

/*
 * Read and decode one frame header (not its data).  @raw receives the
 * header bytes.  Returns 0 or -errno with @err explaining; a peer that
 * closes between frames gives -ECONNRESET with *@clean set.
 */
int net_read_frame(int fd, struct dmakit_frame *f, int timeout_ms,
		   volatile sig_atomic_t *stop, bool *clean, char *err,
		   size_t errlen);

/* Encode @f and write it (no data). */
int net_write_frame(int fd, const struct dmakit_frame *f, int timeout_ms,
		    volatile sig_atomic_t *stop);

/* "ADDR:PORT" or "[V6]:PORT" of a socket address. */
void net_fmt_sockaddr(const void *sa, char *buf, size_t len);

static inline bool net_stopped(volatile sig_atomic_t *stop)
{
	return stop && *stop;
}

#endif /* DMAKIT_NET_H */
