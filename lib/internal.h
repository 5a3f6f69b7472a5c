/* SPDX-License-Identifier: MIT */
/*
 * libdmakit internals: the device object and the backend interface.
 *
 * A backend (source/sim.c: userspace simulated card, source/kdev.c:
 * /dev/dmakitN) owns the ring mapping and the producer; ring.c implements the consumer side
 * of the protocol once for every backend.
 */
#ifndef DMAKIT_INTERNAL_H
#define DMAKIT_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>
#include "dmakit.h"

struct dmakit_backend;
struct ring_mem;

struct dmakit_dev {
	const struct dmakit_backend *ops;
	void *priv;			/* backend state */
	struct dmakit_ring_ctrl *ctrl;	/* the mapping: ctrl page first */
	struct dmakit_desc *descs;
	unsigned char *data;
	struct dmakit_geometry geo;
	struct ring_mem *rmem;		/* a userspace producer's ring, or NULL */
	volatile sig_atomic_t *open_stop; /* during open: give up if nonzero */
	int error;			/* the producer's failure (-errno) once
					 * the ring is in DMAKIT_STATE_ERROR */
	pthread_mutex_t lock;		/* consumer list */
	struct dmakit_consumer *consumers;
};

struct dmakit_consumer {
	struct dmakit_dev *dev;
	struct dmakit_consumer *next;
	struct dmakit_ring_consumer *slot;	/* in the shared ctrl page */
	int slot_idx;
	int mode;
	int wait_fd;			/* pollable fd (backend provided) */
	void *priv;			/* backend per-consumer state */
	uint64_t next_pos;		/* next position to hand out */
	uint64_t tail;			/* mirror of slot->tail */
	uint8_t *released;		/* per-slot "released" marks */
	uint32_t held;
	uint64_t consumed, nreleased, skipped;
};

/**
 * struct dmakit_backend - what a device kind implements.
 * @open:      parse @args (text after "sim:" or the path), set up the ring
 *             mapping and dev->ctrl/descs/data/geo; errors described via
 *             dmakit_errf()
 * @close:     stop the producer and undo open
 * @start/@stop: control the producer
 * @consumer_attach: claim a consumer slot; set cons->slot/slot_idx and
 *             cons->wait_fd.  @consumer_detach undoes it.
 * @wait:      sleep until head may be > cons->next_pos, the producer state
 *             changes, or @timeout_ms passes (-1 forever).  Returns 0 on a
 *             possible wakeup, -ETIMEDOUT, -EINTR or -ENODEV.
 * @released:  called after a consumer advanced its tail (wake a BLOCK
 *             producer waiting for space)
 * @dma_submit: start a transaction (dir: 1 to host, 0 from host); returns id
 * @dma_wait:  wait for a transaction
 * @card_mem_size: size of card memory for transactions
 * @producer_cpu_ns: CPU time of a software producer (optional; NULL for
 *             hardware)
 */
struct dmakit_backend {
	const char *name;
	int (*open)(struct dmakit_dev *dev, const char *args, char *err,
		    size_t errlen);
	void (*close)(struct dmakit_dev *dev);
	int (*start)(struct dmakit_dev *dev);
	int (*stop)(struct dmakit_dev *dev);
	int (*consumer_attach)(struct dmakit_consumer *cons);
	void (*consumer_detach)(struct dmakit_consumer *cons);
	int (*wait)(struct dmakit_consumer *cons, int timeout_ms);
	void (*released)(struct dmakit_consumer *cons);
	int64_t (*dma_submit)(struct dmakit_dev *dev, int to_host, void *buf,
			      size_t len, uint64_t card_addr);
	int (*dma_wait)(struct dmakit_dev *dev, int64_t id, int timeout_ms,
			size_t *done);
	int (*card_mem_size)(struct dmakit_dev *dev, uint64_t *size);
	uint64_t (*producer_cpu_ns)(struct dmakit_dev *dev);
};

extern const struct dmakit_backend dmakit_sim_backend;
extern const struct dmakit_backend dmakit_kdev_backend;
extern const struct dmakit_backend dmakit_chardev_backend;
extern const struct dmakit_backend dmakit_app_backend;

/* Write a formatted message into @err (may be NULL); returns @ret. */
int dmakit_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Claim a free consumer slot in the shared ctrl page with a CAS (userspace
 * producers only; the kernel assigns slots itself).  Implements the attach
 * protocol: the new consumer starts at the producer's claim, which it reads
 * after a full barrier, so no position it will read can be overwritten by a
 * producer that has not yet seen it.  Returns the slot index or -EBUSY.
 */
int dmakit_ring_attach_slot(struct dmakit_ring_ctrl *ctrl, int mode,
			    uint64_t *start_pos);
void dmakit_ring_detach_slot(struct dmakit_ring_ctrl *ctrl, int idx);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t dmakit_now_ns(void);

/*
 * pread() @len bytes at @off through short reads and EINTR, until end of
 * file or an error.  Returns the bytes read (fewer than @len at end of file,
 * or when an error came after some: a caller reading several buffers at
 * once keeps those before it), or -errno when an error came before any
 * byte.  @err, if not NULL, gets the error that ended the read (0: none),
 * for a caller that wants all or an error.
 */
ssize_t dmakit_pread_full(int fd, void *buf, size_t len, uint64_t off,
			  int *err);

/* CRC32C of A followed by B, from crc(A), crc(B) and B's length. */
uint32_t dmakit_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

/* Parse "key=value,key=value"; calls @fn for each pair. */
int dmakit_parse_opts(const char *args, char *err, size_t errlen,
		      int (*fn)(void *ctx, const char *key, const char *val,
				char *err, size_t errlen),
		      void *ctx);

/* Deadline helpers for waits with a timeout in ms (-1: none). */
uint64_t dmakit_deadline(int timeout_ms);
int dmakit_remaining_ms(uint64_t deadline);

#endif /* DMAKIT_INTERNAL_H */
