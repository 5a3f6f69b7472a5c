/* SPDX-License-Identifier: MIT */
/*
 * dmakit_play()'s state, shared by play.c (the recording, writes to a
 * file, FIFO or character device) and play_ring.c (a dmakit.ko card's
 * host-to-card ring).
 */
#ifndef DMAKIT_RECORD_PLAY_PRIV_H
#define DMAKIT_RECORD_PLAY_PRIV_H

#include <liburing.h>
#include <dmakit/tx.h>
#include "play_target.h"
#include "sink.h"

#define PLAY_IDX_BATCH		1024		/* index entries per read */
#define PLAY_POLL_NS		100000000ULL	/* one wait, at most */

/* One buffer on its way to the target. */
struct play_write {
	void *buf;
	uint32_t len, done;
	uint64_t off;			/* target offset of byte 0 (seekable) */
	bool submitted;
};

struct player {
	/* the recording */
	const char *data_path;
	char *idx_path;
	int data_fd, idx_fd;
	struct dmakit_idx_header hdr;
	uint64_t nentries;		/* before the trailer */
	struct dmakit_idx_entry ents[PLAY_IDX_BATCH];
	uint64_t ents_first;
	size_t ents_n;

	struct play_target t;
	uint32_t depth;			/* t.depth */
	struct dmakit_tx *tx;		/* the target is a dmakit.ko card */
	struct io_uring uring;
	bool uring_ready;

	struct dmakit_play_opts o;
	struct dmakit_play_report *rep;

	/* the queue of writes, in target order */
	struct play_write q[2 * PLAY_MAX_DEPTH];
	unsigned int qcap;		/* 2 * depth: reads overlap the writes */
	unsigned int q_first, q_n, in_flight;
	bool leak_buffers;		/* writes still in flight at the end */

	/* where the player is */
	uint64_t pass, entry;		/* the next entry to play */
	uint64_t rate;			/* pace: bytes/s, 0: none */
	uint64_t rec_rate;		/* the recording's own, 0: unknown */
	uint64_t card_rate;		/* a card's configured rate, 0: max */
	uint64_t ring_bytes;		/* a card's ring: nbufs * bufsize */
	uint64_t target_off, queued_bytes;
	uint64_t t0, retry_at, next_progress;
	unsigned int retries_in_row;
	bool started, reading_done, stopping, failed;
	/* a buffer did not check out: the ones queued before it still go */
	bool corrupt;
	int corrupt_error;
	char corrupt_message[256];
};

void play_fail(struct player *p, enum dmakit_play_result result, int error,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void play_corrupt(struct player *p, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool play_next_entry(struct player *p, struct dmakit_idx_entry *e);
bool play_read_buffer(struct player *p, const struct dmakit_idx_entry *e,
		      void *buf);
bool play_stop_requested(const struct player *p);
void play_progress(struct player *p, uint64_t bytes, uint32_t inflight,
		   bool final);

/* play_ring.c */
bool play_ring_target(const char *spec);
int play_ring_open(struct player *p, const char *path, char *err,
		   size_t errlen);
void play_ring_loop(struct player *p);

#endif /* DMAKIT_RECORD_PLAY_PRIV_H */
