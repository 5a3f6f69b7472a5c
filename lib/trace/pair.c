// SPDX-License-Identifier: MIT
/*
 * The pairing engine: start and end events in time order in, transactions
 * out.  Pure code, no kernel: unit-tested on synthetic streams.
 *
 * Modes (enum dmakit_trace_close):
 *   ID   an end closes the open start with the same (channel, id);
 *   ONE  an end closes the oldest open start of its channel (FIFO);
 *   ALL  an end closes every open start of its channel: an interrupt that
 *        completes a batch; more than one is counted as coalesced.
 *
 * Lost events (a gap [from, to] in one CPU's stream) must never produce a
 * wrong pair.  With ids nothing can be mispaired: a lost start leaves an
 * orphan end, a lost end an unmatched start.  Without ids:
 *   ALL  a start at or before the gap's end may have been closed by a lost
 *        end, and an end at or before it may follow a lost end: their
 *        pairs are discarded (counted), later ones are exact again.
 *   ONE  the number of lost starts and ends is unknown, so FIFO order may
 *        be shifted for as long as the channel has starts in flight.  The
 *        channel resynchronises when it is provably empty: every start
 *        ends within the timeout, so once no start has been seen for a
 *        timeout (and the gap is a timeout old) nothing lost can still
 *        end.  Pairs made meanwhile are discarded and counted.
 *        With one_open (a channel per thread of synchronous calls: a
 *        thread has at most one call open) a new start means every
 *        earlier call of the channel has ended, lost or not: the channel
 *        is in step again at its first start after the gap's end (a gap
 *        is reported when its CPU's stream reaches it, at its start
 *        time; events of other CPUs inside it may already be queued).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dmakit/trace.h"

struct open_start {
	struct dmakit_trace_event ev;
	uint64_t seq;
};

/* FIFO of open starts (a growable ring). */
struct startq {
	struct open_start *v;
	size_t head, len, cap;
};

struct channel {
	uint64_t key;
	struct startq q;
	bool resync;			/* ONE: order unknown after a gap */
	uint64_t hole_end;		/* end of the latest gap */
	uint64_t last_start;		/* ts of the latest start */
};

/* ID mode: open starts by (chan, id), open addressing. */
struct id_entry {
	bool used;
	struct open_start s;
};

/* ID mode: starts in arrival order, for timeouts (lazily pruned). */
struct expiry {
	uint64_t chan, id, seq, ts;
};

struct dmakit_trace_pairer {
	struct dmakit_trace_pair_opts opts;
	struct dmakit_trace_pair_stats st;
	uint64_t last_ts;
	uint64_t hole_end;		/* latest gap end, 0 if none */
	bool had_hole;
	uint64_t seq;

	struct channel **chans;		/* open addressing by key */
	size_t nchans, chan_cap;

	struct id_entry *ids;
	size_t nids, id_cap;
	struct expiry *exp;
	size_t exp_head, exp_len, exp_cap;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* --- FIFO --- */

static int q_push(struct startq *q, const struct open_start *s)
{
	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16, i;
		struct open_start *v = malloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (i = 0; i < q->len; i++)
			v[i] = q->v[(q->head + i) & (q->cap - 1)];
		free(q->v);
		q->v = v;
		q->cap = cap;
		q->head = 0;
	}
	q->v[(q->head + q->len) & (q->cap - 1)] = *s;
	q->len++;
	return 0;
}

static struct open_start *q_front(struct startq *q)
{
	return q->len ? &q->v[q->head] : NULL;
}

static void q_pop(struct startq *q)
{
	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
}

/* --- channels --- */

static struct channel *chan_find(struct dmakit_trace_pairer *p, uint64_t key)
{
	size_t i;

	if (!p->chan_cap)
		return NULL;
	for (i = mix(key) & (p->chan_cap - 1); p->chans[i];
	     i = (i + 1) & (p->chan_cap - 1))
		if (p->chans[i]->key == key)
			return p->chans[i];
	return NULL;
}

static int chan_insert_slot(struct channel **tab, size_t cap,
			    struct channel *c)
{
	size_t i;

	for (i = mix(c->key) & (cap - 1); tab[i]; i = (i + 1) & (cap - 1))
		;
	tab[i] = c;
	return 0;
}

static struct channel *chan_get(struct dmakit_trace_pairer *p, uint64_t key,
				uint64_t now)
{
	struct channel *c = chan_find(p, key);
	size_t i;

	if (c)
		return c;
	if ((p->nchans + 1) * 2 > p->chan_cap) {
		size_t cap = p->chan_cap ? p->chan_cap * 2 : 16;
		struct channel **tab = calloc(cap, sizeof(*tab));

		if (!tab)
			return NULL;
		for (i = 0; i < p->chan_cap; i++)
			if (p->chans[i])
				chan_insert_slot(tab, cap, p->chans[i]);
		free(p->chans);
		p->chans = tab;
		p->chan_cap = cap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->key = key;
	/* a channel first seen soon after a gap may have lost starts too */
	if (p->opts.close == DMAKIT_TRACE_CLOSE_ONE && p->had_hole &&
	    now < p->hole_end + p->opts.timeout_ns) {
		c->resync = true;
		c->hole_end = p->hole_end;
	}
	chan_insert_slot(p->chans, p->chan_cap, c);
	p->nchans++;
	return c;
}

/* --- ID table --- */

static size_t id_slot(const struct dmakit_trace_pairer *p, uint64_t chan,
		      uint64_t id)
{
	return mix(id * 0x9e3779b97f4a7c15ULL ^ chan) & (p->id_cap - 1);
}

static struct id_entry *id_find(struct dmakit_trace_pairer *p, uint64_t chan,
				uint64_t id)
{
	size_t i;

	if (!p->id_cap)
		return NULL;
	for (i = id_slot(p, chan, id); p->ids[i].used;
	     i = (i + 1) & (p->id_cap - 1))
		if (p->ids[i].s.ev.id == id && p->ids[i].s.ev.chan == chan)
			return &p->ids[i];
	return NULL;
}

static void id_place(struct dmakit_trace_pairer *p, const struct open_start *s)
{
	size_t i;

	for (i = id_slot(p, s->ev.chan, s->ev.id); p->ids[i].used;
	     i = (i + 1) & (p->id_cap - 1))
		;
	p->ids[i].used = true;
	p->ids[i].s = *s;
}

static int id_insert(struct dmakit_trace_pairer *p, const struct open_start *s)
{
	if ((p->nids + 1) * 2 > p->id_cap) {
		size_t old_cap = p->id_cap, i;
		struct id_entry *old = p->ids;

		p->id_cap = old_cap ? old_cap * 2 : 64;
		p->ids = calloc(p->id_cap, sizeof(*p->ids));
		if (!p->ids) {
			p->ids = old;
			p->id_cap = old_cap;
			return -ENOMEM;
		}
		for (i = 0; i < old_cap; i++)
			if (old[i].used)
				id_place(p, &old[i].s);
		free(old);
	}
	id_place(p, s);
	p->nids++;
	return 0;
}

/* Remove an entry, shifting later members of its probe run back. */
static void id_remove(struct dmakit_trace_pairer *p, struct id_entry *e)
{
	size_t i = (size_t)(e - p->ids), j = i, k;

	p->ids[i].used = false;
	p->nids--;
	for (;;) {
		j = (j + 1) & (p->id_cap - 1);
		if (!p->ids[j].used)
			return;
		k = id_slot(p, p->ids[j].s.ev.chan, p->ids[j].s.ev.id);
		/* can entry j move to the hole at i? (k not in (i, j]) */
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			p->ids[i] = p->ids[j];
			p->ids[j].used = false;
			i = j;
		}
	}
}

static int exp_push(struct dmakit_trace_pairer *p, const struct open_start *s)
{
	if (p->exp_len == p->exp_cap) {
		size_t cap = p->exp_cap ? p->exp_cap * 2 : 64, i;
		struct expiry *v = malloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (i = 0; i < p->exp_len; i++)
			v[i] = p->exp[(p->exp_head + i) & (p->exp_cap - 1)];
		free(p->exp);
		p->exp = v;
		p->exp_cap = cap;
		p->exp_head = 0;
	}
	p->exp[(p->exp_head + p->exp_len) & (p->exp_cap - 1)] =
		(struct expiry){ s->ev.chan, s->ev.id, s->seq, s->ev.ts };
	p->exp_len++;
	return 0;
}

/* --- transactions --- */

static void emit(struct dmakit_trace_pairer *p, const struct open_start *s,
		 const struct dmakit_trace_event *end, uint32_t batch)
{
	struct dmakit_trace_xact x;

	memset(&x, 0, sizeof(x));
	x.start_ns = s->ev.ts;
	x.end_ns = end->ts;
	x.latency_ns = end->ts - s->ev.ts;
	x.start_cpu = s->ev.cpu;
	x.end_cpu = end->cpu;
	x.start_tid = s->ev.tid;
	x.end_tid = end->tid;
	x.vector = end->vector;
	x.chan = s->ev.chan;
	x.batch = batch;
	x.start_site = s->ev.site;
	x.end_site = end->site;
	if (s->ev.flags & DMAKIT_TRACE_F_ID) {
		x.flags |= DMAKIT_TRACE_F_ID;
		x.id = s->ev.id;
	} else if (end->flags & DMAKIT_TRACE_F_ID) {
		x.flags |= DMAKIT_TRACE_F_ID;
		x.id = end->id;
	}
	if (s->ev.flags & DMAKIT_TRACE_F_BYTES) {
		x.flags |= DMAKIT_TRACE_F_BYTES;
		x.bytes = s->ev.bytes;
	} else if (end->flags & DMAKIT_TRACE_F_BYTES) {
		x.flags |= DMAKIT_TRACE_F_BYTES;
		x.bytes = end->bytes;
	}
	if (end->flags & DMAKIT_TRACE_F_STATUS) {
		x.flags |= DMAKIT_TRACE_F_STATUS;
		x.status = end->status;
	}
	p->st.transactions++;
	if (batch > 1)
		p->st.coalesced_xacts++;
	if (p->opts.on_xact)
		p->opts.on_xact(p->opts.ctx, &x);
}

/* Started at or before the latest gap's end: ALL mode cannot trust it. */
static bool tainted(const struct dmakit_trace_pairer *p, uint64_t ts)
{
	return p->had_hole && ts <= p->hole_end;
}

/* ONE: leave resync once nothing lost can still end (see the top). */
static void maybe_resynced(struct dmakit_trace_pairer *p, struct channel *c,
			   uint64_t now)
{
	uint64_t quiet_from;

	if (!c->resync)
		return;
	quiet_from = c->hole_end > c->last_start ? c->hole_end : c->last_start;
	if (now < quiet_from + p->opts.timeout_ns)
		return;
	p->st.discarded_starts += c->q.len;
	c->q.len = 0;
	c->resync = false;
}

static void expire_channel(struct dmakit_trace_pairer *p, struct channel *c,
			   uint64_t now)
{
	struct open_start *s;

	while ((s = q_front(&c->q)) && s->ev.ts + p->opts.timeout_ns <= now) {
		uint64_t deadline = s->ev.ts + p->opts.timeout_ns;

		if (c->resync ||
		    (p->opts.close == DMAKIT_TRACE_CLOSE_ALL && tainted(p, s->ev.ts)))
			p->st.discarded_starts++;
		else
			p->st.unmatched_starts++;
		q_pop(&c->q);
		/*
		 * ONE: an end that never came is a lost end somewhere before
		 * the deadline: FIFO order is unknown from there on.
		 */
		if (p->opts.close == DMAKIT_TRACE_CLOSE_ONE) {
			c->resync = true;
			if (deadline > c->hole_end)
				c->hole_end = deadline;
		}
	}
	maybe_resynced(p, c, now);
}

static void expire_ids(struct dmakit_trace_pairer *p, uint64_t now)
{
	while (p->exp_len) {
		struct expiry *x = &p->exp[p->exp_head];
		struct id_entry *e = id_find(p, x->chan, x->id);

		if (e && e->s.seq == x->seq) {
			if (x->ts + p->opts.timeout_ns > now)
				return;
			p->st.unmatched_starts++;
			id_remove(p, e);
		}
		p->exp_head = (p->exp_head + 1) & (p->exp_cap - 1);
		p->exp_len--;
	}
}

/*
 * Forget channels with nothing open, not resynchronising and without a
 * start for the timeout: one made again later starts the same (empty, in
 * sync), and a run that sees thread after thread (per-thread channels of
 * a system-wide syscall) holds only the recent ones.  Rehashed into a
 * fresh table: removal from open addressing needs it.
 */
static void prune_channels(struct dmakit_trace_pairer *p, uint64_t now)
{
	struct channel **tab;
	size_t i, idle = 0, cap = 16;

	for (i = 0; i < p->chan_cap; i++) {
		struct channel *c = p->chans[i];

		if (c && !c->q.len && !c->resync &&
		    c->last_start + p->opts.timeout_ns <= now)
			idle++;
	}
	/* in batches: each rehash costs the whole table */
	if (!idle || idle * 4 < p->nchans)
		return;
	/* the table shrinks too: at most half full, as chan_get() keeps it */
	while ((p->nchans - idle + 1) * 2 > cap)
		cap *= 2;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return;		/* kept: only memory */
	for (i = 0; i < p->chan_cap; i++) {
		struct channel *c = p->chans[i];

		if (!c)
			continue;
		if (!c->q.len && !c->resync &&
		    c->last_start + p->opts.timeout_ns <= now) {
			free(c->q.v);
			free(c);
			p->nchans--;
		} else {
			chan_insert_slot(tab, cap, c);
		}
	}
	free(p->chans);
	p->chans = tab;
	p->chan_cap = cap;
}

void dmakit_trace_pairer_advance(struct dmakit_trace_pairer *p, uint64_t now)
{
	size_t i;

	if (p->opts.close == DMAKIT_TRACE_CLOSE_ID) {
		expire_ids(p, now);
		return;
	}
	for (i = 0; i < p->chan_cap; i++)
		if (p->chans[i])
			expire_channel(p, p->chans[i], now);
	prune_channels(p, now);
}

/* Nothing open now can be trusted to pair correctly: see the top. */
static void mark_gap(struct dmakit_trace_pairer *p, uint64_t to_ns)
{
	size_t i;

	if (p->opts.close == DMAKIT_TRACE_CLOSE_ID)
		return;
	if (!p->had_hole || to_ns > p->hole_end)
		p->hole_end = to_ns;
	p->had_hole = true;
	for (i = 0; i < p->chan_cap; i++) {
		struct channel *c = p->chans[i];

		if (!c)
			continue;
		p->st.discarded_starts += c->q.len;
		c->q.len = 0;
		if (p->opts.close == DMAKIT_TRACE_CLOSE_ONE) {
			c->resync = true;
			if (p->hole_end > c->hole_end)
				c->hole_end = p->hole_end;
		}
	}
}

void dmakit_trace_pairer_loss(struct dmakit_trace_pairer *p, uint64_t from_ns,
			      uint64_t to_ns, uint64_t count)
{
	(void)from_ns;
	p->st.loss_holes++;
	p->st.lost_events += count;
	mark_gap(p, to_ns);
}

static int feed_id(struct dmakit_trace_pairer *p,
		   const struct dmakit_trace_event *ev)
{
	struct id_entry *e;
	struct open_start s;

	if (!(ev->flags & DMAKIT_TRACE_F_ID)) {
		/* an event without an id cannot pair in this mode */
		if (ev->role == DMAKIT_TRACE_END)
			p->st.orphans++;
		else
			p->st.unmatched_starts++;
		return 0;
	}
	e = id_find(p, ev->chan, ev->id);
	if (ev->role == DMAKIT_TRACE_END) {
		if (!e) {
			p->st.orphans++;
			return 0;
		}
		s = e->s;
		id_remove(p, e);
		emit(p, &s, ev, 1);
		return 0;
	}
	if (e) {			/* the id was reused: the old one never ended */
		p->st.unmatched_starts++;
		id_remove(p, e);
	}
	s.ev = *ev;
	s.seq = ++p->seq;
	if (id_insert(p, &s))
		return -ENOMEM;
	return exp_push(p, &s);
}

static int feed_fifo(struct dmakit_trace_pairer *p,
		     const struct dmakit_trace_event *ev)
{
	struct channel *c;
	struct open_start s;
	size_t n, i;

	if (ev->role == DMAKIT_TRACE_START) {
		c = chan_get(p, ev->chan, ev->ts);
		if (!c)
			return -ENOMEM;
		expire_channel(p, c, ev->ts);
		/* a start inside a gap may follow a lost end of its own */
		if (c->resync && p->opts.one_open && ev->ts > c->hole_end) {
			p->st.discarded_starts += c->q.len;
			c->q.len = 0;
			c->resync = false;
		}
		if (p->opts.one_open && c->q.len && !c->resync)
			p->st.nested_starts++;
		c->last_start = ev->ts;
		s.ev = *ev;
		s.seq = ++p->seq;
		return q_push(&c->q, &s);
	}
	c = chan_find(p, ev->chan);
	if (c)
		expire_channel(p, c, ev->ts);
	if (!c || !c->q.len) {
		if ((c && c->resync) ||
		    (p->had_hole && ev->ts < p->hole_end + p->opts.timeout_ns))
			p->st.discarded_ends++;	/* its start may be lost */
		else
			p->st.orphans++;
		return 0;
	}
	if (p->opts.close == DMAKIT_TRACE_CLOSE_ONE) {
		s = *q_front(&c->q);
		q_pop(&c->q);
		if (c->resync) {
			p->st.discarded_starts++;
			p->st.discarded_ends++;
		} else {
			emit(p, &s, ev, 1);
		}
		return 0;
	}
	/* ALL: this end completes everything open in the channel */
	n = c->q.len;
	if (n > 1)
		p->st.coalesced_ends++;
	if (n > p->st.max_batch)
		p->st.max_batch = n;
	for (i = 0; i < n; i++) {
		s = *q_front(&c->q);
		q_pop(&c->q);
		if (tainted(p, ev->ts) || tainted(p, s.ev.ts))
			p->st.discarded_starts++;
		else
			emit(p, &s, ev, (uint32_t)n);
	}
	if (tainted(p, ev->ts))
		p->st.discarded_ends++;
	return 0;
}

int dmakit_trace_pairer_feed(struct dmakit_trace_pairer *p,
			     const struct dmakit_trace_event *ev)
{
	if (ev->ts < p->last_ts) {
		/* out of order: pairing around it is not trustworthy */
		p->st.late_events++;
		mark_gap(p, p->last_ts);
	} else {
		p->last_ts = ev->ts;
	}
	if (ev->role == DMAKIT_TRACE_START)
		p->st.starts++;
	else
		p->st.end_events++;
	if (p->opts.close == DMAKIT_TRACE_CLOSE_ID) {
		expire_ids(p, ev->ts);
		return feed_id(p, ev);
	}
	return feed_fifo(p, ev);
}

void dmakit_trace_pairer_finish(struct dmakit_trace_pairer *p, uint64_t now)
{
	size_t i;

	dmakit_trace_pairer_advance(p, now);
	if (p->opts.close == DMAKIT_TRACE_CLOSE_ID) {
		p->st.inflight_starts += p->nids;
		for (i = 0; i < p->id_cap; i++)
			p->ids[i].used = false;
		p->nids = 0;
		p->exp_len = 0;
		return;
	}
	for (i = 0; i < p->chan_cap; i++) {
		struct channel *c = p->chans[i];

		if (!c)
			continue;
		if (c->resync)
			p->st.discarded_starts += c->q.len;
		else
			p->st.inflight_starts += c->q.len;
		c->q.len = 0;
	}
}

void dmakit_trace_pairer_stats(const struct dmakit_trace_pairer *p,
			       struct dmakit_trace_pair_stats *stats)
{
	*stats = p->st;
	stats->channels = p->nchans;
}

int dmakit_trace_pairer_alloc(struct dmakit_trace_pairer **pairerp,
			      const struct dmakit_trace_pair_opts *opts)
{
	struct dmakit_trace_pairer *p;

	if (!pairerp || !opts || opts->close > DMAKIT_TRACE_CLOSE_ID)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->opts = *opts;
	if (!p->opts.timeout_ns)
		p->opts.timeout_ns = 1000000000ULL;
	*pairerp = p;
	return 0;
}

void dmakit_trace_pairer_free(struct dmakit_trace_pairer *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->chan_cap; i++) {
		if (p->chans[i]) {
			free(p->chans[i]->q.v);
			free(p->chans[i]);
		}
	}
	free(p->chans);
	free(p->ids);
	free(p->exp);
	free(p);
}
