// SPDX-License-Identifier: MIT
/* The bounds of a drain after a stop (see drain.h). */
#include <stdio.h>
#include "internal.h"
#include "drain.h"

void rec_drain_begin(struct rec_drain *d, uint64_t end_pos,
		     volatile sig_atomic_t *stop, bool by_request)
{
	uint64_t now = dmakit_now_ns();

	d->end_pos = end_pos;
	d->idle_until = now + REC_DRAIN_IDLE_MS * 1000000ULL;
	d->until = by_request ? now + REC_DRAIN_REQUEST_MS * 1000000ULL : 0;
	d->stop = stop;
	d->requests = stop ? *stop : 0;
}

enum rec_drain_state rec_drain_check(const struct rec_drain *d)
{
	uint64_t now = dmakit_now_ns();

	if (d->stop && *d->stop != d->requests)
		return REC_DRAIN_ASKED_AGAIN;
	if (d->until && now > d->until)
		return REC_DRAIN_TIME_UP;
	if (now > d->idle_until)
		return REC_DRAIN_STALLED;
	return REC_DRAIN_GOING;
}

void rec_drain_got(struct rec_drain *d)
{
	d->idle_until = dmakit_now_ns() + REC_DRAIN_IDLE_MS * 1000000ULL;
}

enum dmakit_result rec_drain_cut(enum rec_drain_state why, uint64_t left,
				 const char *verb, char *msg, size_t len)
{
	char reason[96];

	switch (why) {
	case REC_DRAIN_ASKED_AGAIN:
		snprintf(reason, sizeof(reason),
			 "a second stop request ended the drain");
		break;
	case REC_DRAIN_TIME_UP:
		snprintf(reason, sizeof(reason),
			 "a stop request waits at most %d ms for the backlog",
			 REC_DRAIN_REQUEST_MS);
		break;
	default:	/* stalled, or the ring failed */
		snprintf(reason, sizeof(reason),
			 "the source's last buffers could not be taken from the ring");
		why = REC_DRAIN_STALLED;
		break;
	}
	snprintf(msg, len,
		 "%s: %llu buffers the source delivered before its stop were not %s",
		 reason, (unsigned long long)left, verb);
	return why == REC_DRAIN_STALLED ? DMAKIT_RESULT_DEVICE_ERROR :
					  DMAKIT_RESULT_INTERRUPTED;
}
