/* SPDX-License-Identifier: MIT */
/* The chardev: source's read outcomes: see lib/source/chardev.c. */
#ifndef DMAKIT_CHARDEV_H
#define DMAKIT_CHARDEV_H

#include <stdint.h>

/* What one completed read means for the stream. */
enum chardev_outcome {
	CHARDEV_FULL,		/* a whole buffer */
	CHARDEV_SHORT,		/* 0 < n < bufsize: published, flagged TRUNC */
	CHARDEV_END,		/* 0: end of stream, the source stops */
	CHARDEV_RETRY,		/* nothing moved (EINTR, EAGAIN, cancelled):
				 * the same read again, no sequence number */
	CHARDEV_LOST,		/* the device failed or aborted the transfer
				 * (EIO, a timeout, a leaked ERESTARTSYS):
				 * one buffer lost, counted, the stream goes on */
	CHARDEV_FATAL,		/* the device is gone or refuses this read
				 * (ENODEV, EINVAL...): the stream fails */
};

/* Classify a read's result (bytes or -errno) for buffers of @bufsize. */
enum chardev_outcome chardev_classify(int res, uint32_t bufsize);

#endif /* DMAKIT_CHARDEV_H */
