// SPDX-License-Identifier: MIT
/*
 * The consumer side of the ring protocol (include/uapi/dmakit/ring.h), the
 * same for every backend: cursors, in-order release of out-of-order
 * completions, lossy skip-ahead, and the sleep/wakeup handshake.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

int dmakit_ring_attach_slot(struct dmakit_ring_ctrl *ctrl, int mode,
			    uint64_t *start_pos)
{
	unsigned int i;

	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		struct dmakit_ring_consumer *cs = &ctrl->consumers[i];
		uint32_t expect = DMAKIT_CONSUMER_FREE;
		uint64_t head, claim;

		if (__atomic_load_n(&cs->state, __ATOMIC_RELAXED) != expect)
			continue;
		/*
		 * A conservative tail first (head can only be >= it), then the
		 * state: a producer that sees the state also sees this tail.
		 */
		head = DMAKIT_LOAD_ACQUIRE(&ctrl->head);
		__atomic_store_n(&cs->tail, head, __ATOMIC_RELAXED);
		__atomic_store_n(&cs->cursor, head, __ATOMIC_RELAXED);
		cs->consumed = 0;
		cs->skipped = 0;
		cs->need_wakeup = 0;
		cs->owner = (uint32_t)getpid();
		if (!__atomic_compare_exchange_n(&cs->state, &expect,
						 (uint32_t)mode, false,
						 __ATOMIC_SEQ_CST,
						 __ATOMIC_RELAXED))
			continue;
		/*
		 * Store-buffer handshake with dmakit_ring_claim(): after this
		 * fence, either the producer sees our state before deciding on
		 * its next claim, or we see every claim it made without us.
		 * Starting at that claim, nothing we read can be overwritten.
		 */
		DMAKIT_FULL_BARRIER();
		claim = DMAKIT_LOAD_RELAXED(&ctrl->claim);
		if (claim < head)
			claim = head;
		DMAKIT_STORE_RELEASE(&cs->tail, claim);
		DMAKIT_STORE_RELAXED(&cs->cursor, claim);
		*start_pos = claim;
		return (int)i;
	}
	return -EBUSY;
}

void dmakit_ring_detach_slot(struct dmakit_ring_ctrl *ctrl, int idx)
{
	struct dmakit_ring_consumer *cs = &ctrl->consumers[idx];

	DMAKIT_STORE_RELEASE(&cs->state, DMAKIT_CONSUMER_FREE);
}

int dmakit_consumer_attach(struct dmakit_dev *dev, enum dmakit_consumer_mode mode,
			   struct dmakit_consumer **consp)
{
	struct dmakit_consumer *cons;
	int ret;

	if (!dev || !consp ||
	    (mode != DMAKIT_RELIABLE && mode != DMAKIT_LOSSY))
		return -EINVAL;
	cons = calloc(1, sizeof(*cons));
	if (!cons)
		return -ENOMEM;
	cons->released = calloc(dev->geo.nbufs, 1);
	if (!cons->released) {
		free(cons);
		return -ENOMEM;
	}
	cons->dev = dev;
	cons->mode = mode;
	cons->wait_fd = -1;
	ret = dev->ops->consumer_attach(cons);
	if (ret) {
		free(cons->released);
		free(cons);
		return ret;
	}
	cons->tail = DMAKIT_LOAD_ACQUIRE(&cons->slot->tail);
	cons->next_pos = cons->tail;
	pthread_mutex_lock(&dev->lock);
	cons->next = dev->consumers;
	dev->consumers = cons;
	pthread_mutex_unlock(&dev->lock);
	*consp = cons;
	return 0;
}

void dmakit_consumer_detach(struct dmakit_consumer *cons)
{
	struct dmakit_dev *dev;
	struct dmakit_consumer **pp;

	if (!cons)
		return;
	dev = cons->dev;
	pthread_mutex_lock(&dev->lock);
	for (pp = &dev->consumers; *pp; pp = &(*pp)->next) {
		if (*pp == cons) {
			*pp = cons->next;
			break;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	dev->ops->consumer_detach(cons);
	free(cons->released);
	free(cons);
}

/*
 * A lossy consumer that fell behind: jump to half a ring behind the
 * producer's claim (not to the oldest intact buffer, which the producer
 * is about to overwrite again), counting what it skipped.
 */
static void lossy_skip(struct dmakit_consumer *cons, uint64_t head,
		       uint64_t claim)
{
	uint32_t nbufs = cons->dev->geo.nbufs;
	uint64_t target = claim - nbufs / 2;

	if (target > head)
		target = head;
	if (target <= cons->next_pos)
		return;
	cons->skipped += target - cons->next_pos;
	DMAKIT_STORE_RELAXED(&cons->slot->skipped, cons->skipped);
	cons->next_pos = target;
}

static int take(struct dmakit_consumer *cons, struct dmakit_buf *buf,
		uint64_t head)
{
	struct dmakit_dev *dev = cons->dev;
	uint32_t nbufs = dev->geo.nbufs;

	for (;;) {
		uint64_t pos = cons->next_pos;
		uint32_t idx;

		if (pos >= head)
			return -EAGAIN;
		if (cons->mode == DMAKIT_LOSSY) {
			uint64_t claim = DMAKIT_LOAD_ACQUIRE(&dev->ctrl->claim);

			if (claim > pos + nbufs) {
				lossy_skip(cons, head, claim);
				continue;
			}
		}
		idx = (uint32_t)(pos % nbufs);
		buf->pos = pos;
		buf->index = idx;
		buf->data = dev->data + (size_t)idx * dev->geo.bufsize;
		memcpy(&buf->desc, &dev->descs[idx], sizeof(buf->desc));
		if (cons->mode == DMAKIT_LOSSY &&
		    !dmakit_ring_still_valid(dev->ctrl, pos)) {
			/* the descriptor may be torn: this one is lost too */
			continue;
		}
		cons->next_pos = pos + 1;
		cons->held++;
		cons->consumed++;
		DMAKIT_STORE_RELAXED(&cons->slot->consumed, cons->consumed);
		DMAKIT_STORE_RELAXED(&cons->slot->cursor, cons->next_pos);
		if (cons->mode == DMAKIT_LOSSY)
			DMAKIT_STORE_RELAXED(&cons->slot->tail, cons->next_pos);
		return 0;
	}
}

int dmakit_consumer_next(struct dmakit_consumer *cons, struct dmakit_buf *buf,
			 int timeout_ms)
{
	struct dmakit_dev *dev;
	bool armed = false;
	uint64_t deadline;
	int ret;

	if (!cons || !buf)
		return -EINVAL;
	dev = cons->dev;
	if (cons->mode == DMAKIT_RELIABLE &&
	    cons->next_pos - cons->tail >= dev->geo.nbufs)
		return -ENOBUFS;
	deadline = dmakit_deadline(timeout_ms);
	for (;;) {
		uint64_t head = DMAKIT_LOAD_ACQUIRE(&dev->ctrl->head);
		uint32_t state;
		int left;

		if (take(cons, buf, head) == 0) {
			/*
			 * Awake and busy: stop the producer's wakeups, also
			 * when an earlier call left the flag set on timeout.
			 */
			if (armed ||
			    DMAKIT_LOAD_RELAXED(&cons->slot->need_wakeup))
				DMAKIT_STORE_RELAXED(&cons->slot->need_wakeup, 0);
			return 0;
		}
		/* state after head: a stop is published after the last head */
		state = DMAKIT_LOAD_ACQUIRE(&dev->ctrl->state);
		if (state == DMAKIT_STATE_STOPPED || state == DMAKIT_STATE_ERROR) {
			head = DMAKIT_LOAD_ACQUIRE(&dev->ctrl->head);
			if (take(cons, buf, head) == 0)
				return 0;
			if (state != DMAKIT_STATE_ERROR)
				return -ENODATA;
			return dev->error ? dev->error : -ENODEV;
		}
		if (!armed) {
			/*
			 * Sleep handshake: need_wakeup, full barrier, look at
			 * head again.  The producer publishes head, full
			 * barrier, reads need_wakeup.  Left set on -ETIMEDOUT
			 * so the pollable fd fires on the next buffer.  Stale
			 * wakeups are drained first (before the last look at
			 * head, so none can be lost): a caller polling the fd
			 * and calling us with timeout 0 must not spin.
			 */
			if (timeout_ms == 0 && dev->ops->wait)
				dev->ops->wait(cons, 0);
			DMAKIT_STORE_RELAXED(&cons->slot->need_wakeup, 1);
			DMAKIT_FULL_BARRIER();
			armed = true;
			continue;
		}
		left = dmakit_remaining_ms(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		ret = dev->ops->wait(cons, left);
		if (ret && ret != -ETIMEDOUT)
			return ret;
	}
}

int dmakit_consumer_release(struct dmakit_consumer *cons,
			    const struct dmakit_buf *buf)
{
	uint32_t nbufs;
	uint64_t tail;

	if (!cons || !buf)
		return -EINVAL;
	nbufs = cons->dev->geo.nbufs;
	if (cons->mode == DMAKIT_LOSSY) {
		if (!cons->held || buf->pos >= cons->next_pos)
			return -EINVAL;
		cons->held--;
		cons->nreleased++;
		return 0;
	}
	if (buf->pos < cons->tail || buf->pos >= cons->next_pos ||
	    cons->released[buf->pos % nbufs])
		return -EINVAL;
	cons->released[buf->pos % nbufs] = 1;
	cons->held--;
	cons->nreleased++;
	tail = cons->tail;
	if (buf->pos != tail)
		return 0;
	while (tail < cons->next_pos && cons->released[tail % nbufs]) {
		cons->released[tail % nbufs] = 0;
		tail++;
	}
	cons->tail = tail;
	DMAKIT_STORE_RELEASE(&cons->slot->tail, tail);
	if (cons->dev->ops->released)
		cons->dev->ops->released(cons);
	return 0;
}

int dmakit_consumer_buf_valid(struct dmakit_consumer *cons,
			      const struct dmakit_buf *buf)
{
	if (cons->mode != DMAKIT_LOSSY)
		return 1;
	if (dmakit_ring_still_valid(cons->dev->ctrl, buf->pos))
		return 1;
	return 0;
}

int dmakit_consumer_fd(struct dmakit_consumer *cons)
{
	return cons ? cons->wait_fd : -EINVAL;
}

int dmakit_consumer_stats(struct dmakit_consumer *cons, struct dmakit_stats *st)
{
	struct dmakit_ring_ctrl *ctrl;

	if (!cons || !st)
		return -EINVAL;
	ctrl = cons->dev->ctrl;
	memset(st, 0, sizeof(*st));
	st->produced = DMAKIT_LOAD_ACQUIRE(&ctrl->head);
	st->dropped = DMAKIT_LOAD_RELAXED(&ctrl->dropped);
	st->produced_bytes = DMAKIT_LOAD_RELAXED(&ctrl->produced_bytes);
	st->consumed = cons->consumed;
	st->released = cons->nreleased;
	st->skipped = cons->skipped;
	st->held = cons->held;
	st->fill = (uint32_t)(st->produced - (cons->mode == DMAKIT_LOSSY ?
					      cons->next_pos : cons->tail));
	st->state = DMAKIT_LOAD_ACQUIRE(&ctrl->state);
	if (cons->dev->ops->producer_cpu_ns)
		st->producer_cpu_ns = cons->dev->ops->producer_cpu_ns(cons->dev);
	return 0;
}
