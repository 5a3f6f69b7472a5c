/* SPDX-License-Identifier: MIT */
/*
 * The end of a recording after a stop: the source has been stopped and
 * what it delivered before the stop is still in the ring.  One set of
 * bounds for every consumer that drains it (the recorder and the byte
 * stream of 'record -o -'):
 *
 * - a stop by time (--duration) takes everything up to the stop: those
 *   buffers belong to the duration asked for;
 * - a stop request (SIGINT, SIGTERM) takes what can be written within
 *   REC_DRAIN_REQUEST_MS, so the request ends the run within about a
 *   second whatever the backlog; a second request ends it at once;
 * - a buffer that does not come within REC_DRAIN_IDLE_MS although the
 *   head says it is there ends it as a device error.
 * Whatever is left is said, and the result is never "complete".
 */
#ifndef DMAKIT_RECORD_DRAIN_H
#define DMAKIT_RECORD_DRAIN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dmakit/recording.h"

#define REC_DRAIN_IDLE_MS	5000
#define REC_DRAIN_REQUEST_MS	1000

enum rec_drain_state {
	REC_DRAIN_GOING,
	REC_DRAIN_ASKED_AGAIN,	/* a second stop request */
	REC_DRAIN_TIME_UP,	/* a stop request's bound */
	REC_DRAIN_STALLED,	/* the ring did not give a buffer it holds */
};

struct rec_drain {
	uint64_t end_pos;		/* the ring's head at the stop */
	uint64_t idle_until;		/* ns */
	uint64_t until;			/* ns; 0: no bound (a stop by time) */
	volatile sig_atomic_t *stop;
	sig_atomic_t requests;		/* stop requests seen at the start */
};

/* Start draining up to @end_pos; @by_request: a stop request ended the run. */
void rec_drain_begin(struct rec_drain *d, uint64_t end_pos,
		     volatile sig_atomic_t *stop, bool by_request);

/* Whether to go on (REC_DRAIN_GOING) or why to end. */
enum rec_drain_state rec_drain_check(const struct rec_drain *d);

/* A buffer came: the idle bound starts again. */
void rec_drain_got(struct rec_drain *d);

/*
 * The ending of a drain cut by @why (REC_DRAIN_GOING: the ring failed)
 * with @left buffers not taken: its result, and in @msg what was left,
 * "recorded" or "written" as @verb says.
 */
enum dmakit_result rec_drain_cut(enum rec_drain_state why, uint64_t left,
				 const char *verb, char *msg, size_t len);

#endif
