/* SPDX-License-Identifier: MIT */
/*
 * A ring in struct-page backed memory produced by a userspace thread: what
 * the sim and chardev backends share.  See lib/source/ring_mem.c.
 */
#ifndef DMAKIT_RING_MEM_H
#define DMAKIT_RING_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "internal.h"
#include "sim_shared.h"

/**
 * struct ring_mem - the ring mapping and the wakeup plumbing around it.
 * @name:      a shared ring's name in /dev/shm, "" for a private memfd
 * @attached:  the ring belongs to a producer in another process
 * @published: we own @name in /dev/shm (unlinked on destroy)
 * @event_fd:  per consumer slot of this process: its eventfd (or, when
 *             @attached, its wake FIFO), kept until destroy
 * @remote_fd, @remote_pid: the producer's open wake FIFOs of consumers in
 *             other processes
 */
struct ring_mem {
	char name[SIM_SHARED_QNAME_MAX + 1];
	bool attached;
	bool published;
	pid_t pid;
	int fd;
	void *map;
	size_t map_size;
	uint32_t nbufs;
	int event_fd[DMAKIT_RING_MAX_CONSUMERS];
	int remote_fd[DMAKIT_RING_MAX_CONSUMERS];
	uint32_t remote_pid[DMAKIT_RING_MAX_CONSUMERS];
	uint64_t next_reclaim_ns;
	uint64_t wake_tail;		/* atomic: BLOCK producer resumes here */
	uint32_t refill_batch;		/* free slots a BLOCK producer waits for */
};

/* The geometry and kind of a new ring. */
struct ring_mem_geo {
	uint32_t nbufs, bufsize, policy, payload;
	uint64_t dev_clock_hz;
	bool geometry_given;	/* a shared ring must match it */
	bool attach_only;	/* a named ring: never create one (-ENOENT) */
	bool removed_stale;	/* out: a dead owner's ring was removed */
	volatile sig_atomic_t *stop;	/* populating: give up (-EINTR) */
};

/* Empty state (no fds); @name (qualified) "" for a private ring. */
void ring_mem_init(struct ring_mem *rm, const char *name);

/*
 * A private ring (rm->name "") in a memfd, or a named one: attach to a live
 * owner's (rm->attached, the geometry comes from its ctrl page) or create
 * and publish a new one.  @who prefixes error messages ("sim:name=x").
 */
int ring_mem_open(struct ring_mem *rm, struct ring_mem_geo *geo,
		  const char *who, char *err, size_t errlen);

/* Unpublish the name (owner), close every fd, unmap. */
void ring_mem_destroy(struct ring_mem *rm);

/* dev->ctrl/descs/data/geo from the ring; dev->rmem = @rm. */
void ring_mem_set_dev(struct dmakit_dev *dev, struct ring_mem *rm,
		      const char *kind);

/* Producer side. */
void ring_mem_wake_consumers(struct ring_mem *rm, bool all);
/* Free the slots of consumers whose process died (shared rings). */
void ring_mem_reclaim_dead(struct ring_mem *rm);
/* BLOCK policy: sleep until position @pos may be claimed, a stop, or 50 ms. */
void ring_mem_wait_for_space(struct ring_mem *rm, uint64_t pos,
			     const uint32_t *stop_req);
/* Wake a producer sleeping in ring_mem_wait_for_space(). */
void ring_mem_wake_producer(struct ring_mem *rm);
/* Mark the stream ended (STOPPED or ERROR) and wake every consumer. */
void ring_mem_end(struct ring_mem *rm, uint32_t state);
/* Draw a stream id and mark the ring running (a producer's start). */
void ring_mem_start(struct ring_mem *rm);
/*
 * An attached process's start: wait until the owner has started its
 * stream (so its stream id is drawn), up to @timeout_ms.  0, -ENODEV if
 * the owner died, -ETIMEDOUT.
 */
int ring_mem_wait_started(struct ring_mem *rm, int timeout_ms);

/* Backend consumer ops for rings in ring_mem (dev->rmem). */
int ring_mem_consumer_attach(struct dmakit_consumer *cons);
void ring_mem_consumer_detach(struct dmakit_consumer *cons);
int ring_mem_wait(struct dmakit_consumer *cons, int timeout_ms);
void ring_mem_released(struct dmakit_consumer *cons);

#endif /* DMAKIT_RING_MEM_H */
