// SPDX-License-Identifier: MIT
/*
 * The pairing engine on synthetic event streams: id, FIFO and batch
 * pairing, channels, orphans, timeouts, coalescing, and above all that a
 * gap in the stream never produces a wrong pair (randomised streams with
 * known ground truth, checked pair by pair).
 */
#include <errno.h>
#include <dmakit/trace.h>
#include "t.h"

#define MS 1000000ULL
#define MAXX 20000

struct got {
	struct dmakit_trace_xact x[MAXX];
	size_t n;
};

static void collect(void *ctx, const struct dmakit_trace_xact *x)
{
	struct got *g = ctx;

	if (g->n < MAXX)
		g->x[g->n++] = *x;
}

static struct got got;

static struct dmakit_trace_pairer *new_pairer(enum dmakit_trace_close mode,
					      uint64_t timeout)
{
	struct dmakit_trace_pair_opts o = {
		.close = mode, .timeout_ns = timeout,
		.on_xact = collect, .ctx = &got,
	};
	struct dmakit_trace_pairer *p = NULL;

	got.n = 0;
	if (dmakit_trace_pairer_alloc(&p, &o))
		return NULL;
	return p;
}

static void ev(struct dmakit_trace_pairer *p, uint64_t ts,
	       enum dmakit_trace_role role, uint64_t chan, int64_t id)
{
	struct dmakit_trace_event e = {
		.ts = ts, .role = role, .cpu = 0, .tid = 1, .vector = -1,
		.chan = chan,
	};

	if (id >= 0) {
		e.id = (uint64_t)id;
		e.flags |= DMAKIT_TRACE_F_ID;
	}
	dmakit_trace_pairer_feed(p, &e);
}

#define S(p, ts, ch, id) ev(p, ts, DMAKIT_TRACE_START, ch, id)
#define E(p, ts, ch, id) ev(p, ts, DMAKIT_TRACE_END, ch, id)

static void by_id_any_order(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ID, 0);
	struct dmakit_trace_pair_stats st;

	T_ASSERT(p);
	S(p, 10, 0, 1);
	S(p, 20, 0, 2);
	S(p, 30, 0, 3);
	E(p, 40, 0, 2);
	E(p, 50, 0, 1);
	E(p, 60, 0, 9);		/* never started */
	E(p, 70, 0, 3);
	dmakit_trace_pairer_stats(p, &st);
	T_EQ(got.n, 3);
	T_EQ(got.x[0].id, 2);
	T_EQ(got.x[0].latency_ns, 20);
	T_EQ(got.x[1].id, 1);
	T_EQ(got.x[1].latency_ns, 40);
	T_EQ(got.x[2].latency_ns, 40);
	T_EQ(st.orphans, 1);
	T_EQ(st.transactions, 3);
	T_EQ(st.end_events, 4);
	T_EQ(st.starts, 3);
	dmakit_trace_pairer_free(p);
}

static void id_same_in_two_channels(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ID, 0);

	T_ASSERT(p);
	S(p, 10, 1, 7);
	S(p, 20, 2, 7);
	E(p, 30, 2, 7);
	E(p, 45, 1, 7);
	T_EQ(got.n, 2);
	T_EQ(got.x[0].start_ns, 20);
	T_EQ(got.x[1].start_ns, 10);
	dmakit_trace_pairer_free(p);
}

static void id_timeout_and_reuse(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ID, 100 * MS);
	struct dmakit_trace_pair_stats st;

	T_ASSERT(p);
	S(p, 1 * MS, 0, 1);
	S(p, 2 * MS, 0, 2);
	S(p, 3 * MS, 0, 2);		/* reused: the first 2 never ended */
	dmakit_trace_pairer_advance(p, 102 * MS);
	E(p, 102 * MS + 1, 0, 1);	/* too late: timed out */
	E(p, 102 * MS + 2, 0, 2);
	dmakit_trace_pairer_finish(p, 105 * MS);
	dmakit_trace_pairer_stats(p, &st);
	T_EQ(st.unmatched_starts, 2);
	T_EQ(st.orphans, 1);
	T_EQ(got.n, 1);
	T_EQ(got.x[0].start_ns, 3 * MS);
	dmakit_trace_pairer_free(p);
}

static void fifo_per_channel(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ONE, 0);
	struct dmakit_trace_pair_stats st;

	T_ASSERT(p);
	E(p, 5, 0, -1);			/* nothing open: orphan */
	S(p, 10, 0, -1);
	S(p, 15, 1, -1);
	S(p, 20, 0, -1);
	E(p, 25, 1, -1);
	E(p, 30, 0, -1);
	E(p, 40, 0, -1);
	dmakit_trace_pairer_stats(p, &st);
	T_EQ(got.n, 3);
	T_EQ(got.x[0].start_ns, 15);
	T_EQ(got.x[0].chan, 1);
	T_EQ(got.x[1].start_ns, 10);
	T_EQ(got.x[2].start_ns, 20);
	T_EQ(got.x[2].batch, 1);
	T_EQ(st.orphans, 1);
	T_EQ(st.coalesced_ends, 0);
	dmakit_trace_pairer_free(p);
}

static void batch_coalesced(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ALL, 0);
	struct dmakit_trace_pair_stats st;

	T_ASSERT(p);
	S(p, 10, 0, -1);
	S(p, 20, 0, -1);
	S(p, 30, 0, -1);
	E(p, 40, 0, -1);		/* one interrupt, three transfers */
	S(p, 50, 0, -1);
	E(p, 60, 0, -1);
	E(p, 70, 0, -1);		/* spurious: orphan */
	dmakit_trace_pairer_stats(p, &st);
	T_EQ(got.n, 4);
	T_EQ(got.x[0].latency_ns, 30);
	T_EQ(got.x[0].batch, 3);
	T_EQ(got.x[2].latency_ns, 10);
	T_EQ(got.x[3].batch, 1);
	T_EQ(st.coalesced_ends, 1);
	T_EQ(st.coalesced_xacts, 3);
	T_EQ(st.max_batch, 3);
	T_EQ(st.orphans, 1);
	dmakit_trace_pairer_free(p);
}

static void fifo_timeout_and_finish(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ONE, 10 * MS);
	struct dmakit_trace_pair_stats st;

	T_ASSERT(p);
	S(p, 1 * MS, 0, -1);
	dmakit_trace_pairer_advance(p, 12 * MS);
	/* its start timed out: FIFO order is unknown, the end is set aside */
	E(p, 13 * MS, 0, -1);
	S(p, 30 * MS, 0, -1);		/* quiet for a timeout: in sync again */
	E(p, 31 * MS, 0, -1);
	S(p, 40 * MS, 0, -1);		/* still open at the end */
	dmakit_trace_pairer_finish(p, 45 * MS);
	dmakit_trace_pairer_stats(p, &st);
	T_EQ(got.n, 1);
	T_EQ(got.x[0].start_ns, 30 * MS);
	T_EQ(st.unmatched_starts, 1);
	T_EQ(st.discarded_ends, 1);
	T_EQ(st.orphans, 0);
	T_EQ(st.inflight_starts, 1);
	dmakit_trace_pairer_free(p);
}

static void fifo_gap_never_mispairs(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ONE, 10 * MS);
	struct dmakit_trace_pair_stats st;

	T_ASSERT(p);
	/* truth: S1 E1 S2 [E2 S3 lost] E3 S4 E4 ... */
	S(p, 1 * MS, 0, -1);
	E(p, 2 * MS, 0, -1);
	S(p, 3 * MS, 0, -1);
	dmakit_trace_pairer_loss(p, 3 * MS, 6 * MS, 2);
	E(p, 6 * MS, 0, -1);		/* E3: naive FIFO would pair it with S2 */
	S(p, 7 * MS, 0, -1);
	E(p, 8 * MS, 0, -1);
	/* quiet for a timeout: resynchronised */
	S(p, 30 * MS, 0, -1);
	E(p, 31 * MS, 0, -1);
	dmakit_trace_pairer_finish(p, 40 * MS);
	dmakit_trace_pairer_stats(p, &st);
	T_EQ(got.n, 2);
	T_EQ(got.x[0].start_ns, 1 * MS);
	T_EQ(got.x[0].end_ns, 2 * MS);
	T_EQ(got.x[1].start_ns, 30 * MS);
	T_EQ(got.x[1].end_ns, 31 * MS);
	T_EQ(st.loss_holes, 1);
	T_EQ(st.lost_events, 2);
	T_ASSERT(st.discarded_starts >= 2);
	T_ASSERT(st.discarded_ends >= 2);
	dmakit_trace_pairer_free(p);
}

static struct dmakit_trace_pairer *one_open_pairer(void)
{
	struct dmakit_trace_pair_opts o = {
		.close = DMAKIT_TRACE_CLOSE_ONE, .timeout_ns = 10 * MS,
		.one_open = true, .on_xact = collect, .ctx = &got,
	};
	struct dmakit_trace_pairer *p = NULL;

	got.n = 0;
	if (dmakit_trace_pairer_alloc(&p, &o))
		return NULL;
	return p;
}

/* a thread calling without pause: one_open resyncs at its next start */
static void one_open_resyncs_at_next_start(void)
{
	struct dmakit_trace_pairer *p = one_open_pairer();
	struct dmakit_trace_pair_stats st;

	T_ASSERT(p);
	/* truth, channel 7: S1 E1 S2 [E2 lost] S3 E3 S4 E4, 1 ms apart */
	S(p, 1 * MS, 7, -1);
	E(p, 2 * MS, 7, -1);
	S(p, 3 * MS, 7, -1);
	dmakit_trace_pairer_loss(p, 3 * MS, 4 * MS, 1);
	S(p, 5 * MS, 7, -1);
	E(p, 6 * MS, 7, -1);
	S(p, 7 * MS, 7, -1);
	E(p, 8 * MS, 7, -1);
	dmakit_trace_pairer_finish(p, 9 * MS);
	dmakit_trace_pairer_stats(p, &st);
	T_EQ(got.n, 3);
	T_EQ(got.x[0].start_ns, 1 * MS);
	T_EQ(got.x[1].start_ns, 5 * MS);
	T_EQ(got.x[1].end_ns, 6 * MS);
	T_EQ(got.x[2].start_ns, 7 * MS);
	T_EQ(got.x[2].end_ns, 8 * MS);
	T_EQ(st.discarded_starts, 1);
	dmakit_trace_pairer_free(p);
}

/*
 * A gap is reported at its start time, when its CPU's stream reaches it;
 * a start of another CPU inside the gap comes after the report and may
 * have lost its end in the gap: it must not resynchronise the channel.
 */
static void one_open_start_inside_gap(void)
{
	struct dmakit_trace_pairer *p = one_open_pairer();

	T_ASSERT(p);
	/* truth: S1 E1 S2 [E2 lost, on another CPU] S3 E3 */
	S(p, 1 * MS, 7, -1);
	E(p, 2 * MS, 7, -1);
	dmakit_trace_pairer_loss(p, 2 * MS, 6 * MS, 1);
	S(p, 3 * MS, 7, -1);
	S(p, 7 * MS, 7, -1);
	E(p, 8 * MS, 7, -1);		/* E3: ends S3, never S2 */
	T_EQ(got.n, 2);
	T_EQ(got.x[1].start_ns, 7 * MS);
	T_EQ(got.x[1].end_ns, 8 * MS);
	dmakit_trace_pairer_free(p);
}

/* each transaction says which start and end SPEC its events came from */
static void sites_carried(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ONE, 0);
	struct dmakit_trace_event e = { .ts = 1, .role = DMAKIT_TRACE_START,
					.vector = -1, .site = 1 };

	T_ASSERT(p);
	dmakit_trace_pairer_feed(p, &e);
	e.ts = 2;
	e.site = 0;
	dmakit_trace_pairer_feed(p, &e);
	e.ts = 3;
	e.role = DMAKIT_TRACE_END;
	e.site = 2;
	dmakit_trace_pairer_feed(p, &e);
	e.ts = 4;
	e.site = 0;
	dmakit_trace_pairer_feed(p, &e);
	T_EQ(got.n, 2);
	T_EQ(got.x[0].start_site, 1);
	T_EQ(got.x[0].end_site, 2);
	T_EQ(got.x[1].start_site, 0);
	T_EQ(got.x[1].end_site, 0);
	dmakit_trace_pairer_free(p);
}

static void batch_gap_never_mispairs(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ALL, 10 * MS);

	T_ASSERT(p);
	/* truth: S1 S2 [E lost] S3 E(closes S3 only) */
	S(p, 1 * MS, 0, -1);
	S(p, 2 * MS, 0, -1);
	dmakit_trace_pairer_loss(p, 2 * MS, 4 * MS, 1);
	S(p, 5 * MS, 0, -1);
	E(p, 6 * MS, 0, -1);
	T_EQ(got.n, 1);
	T_EQ(got.x[0].start_ns, 5 * MS);
	T_EQ(got.x[0].batch, 1);
	dmakit_trace_pairer_free(p);
}

static void late_event_is_a_gap(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ONE, 10 * MS);
	struct dmakit_trace_pair_stats st;

	T_ASSERT(p);
	S(p, 5 * MS, 0, -1);
	E(p, 4 * MS, 0, -1);		/* older than what was fed */
	E(p, 6 * MS, 0, -1);
	dmakit_trace_pairer_stats(p, &st);
	T_EQ(st.late_events, 1);
	T_EQ(got.n, 0);
	dmakit_trace_pairer_free(p);
}

/* --- randomised streams with ground truth --- */

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

struct tev {
	uint64_t ts;
	int role;
	uint64_t chan;
	uint64_t id;
	uint64_t pair_start;		/* for ends: the true start's ts */
};

#define NEV 40000
static struct tev evs[NEV];

/*
 * Build a stream: 3 channels, up to 3 transfers in flight per channel,
 * latency under the timeout; ONE completes the oldest, ALL completes
 * every open one, ID completes a random open one.  Quiet periods longer
 * than the timeout now and then.
 */
static size_t gen_stream(enum dmakit_trace_close mode, uint64_t timeout)
{
	uint64_t open_ts[3][3], open_id[3][3], t = 1000, next_id = 1;
	int nopen[3] = { 0, 0, 0 };
	size_t n = 0;

	while (n < NEV - 16) {
		int c = (int)rnd(3), k;
		bool must_end = false;

		t += 1 + rnd(timeout / 20);
		if (rnd(100) == 0)
			t += timeout * 2;	/* quiet period */
		/* nothing may stay open past the timeout */
		for (k = 0; k < 3; k++) {
			if (nopen[k] && t - open_ts[k][0] > timeout / 2) {
				c = k;
				must_end = true;
			}
		}
		if (!must_end && nopen[c] < 3 && (nopen[c] == 0 || rnd(2))) {
			open_ts[c][nopen[c]] = t;
			open_id[c][nopen[c]] = next_id;
			evs[n++] = (struct tev){ t, 0, (uint64_t)c, next_id++, 0 };
			nopen[c]++;
			continue;
		}
		if (!nopen[c])
			continue;
		if (mode == DMAKIT_TRACE_CLOSE_ALL) {
			/* one end for all: record it as ending the oldest */
			evs[n++] = (struct tev){ t, 1, (uint64_t)c, 0, open_ts[c][0] };
			nopen[c] = 0;
		} else {
			int w = mode == DMAKIT_TRACE_CLOSE_ID ? (int)rnd((uint64_t)nopen[c]) : 0;

			evs[n++] = (struct tev){ t, 1, (uint64_t)c, open_id[c][w],
						 open_ts[c][w] };
			for (k = w; k < nopen[c] - 1; k++) {
				open_ts[c][k] = open_ts[c][k + 1];
				open_id[c][k] = open_id[c][k + 1];
			}
			nopen[c]--;
		}
	}
	return n;
}

/* Is (start, end) a true transaction of the stream? */
static bool true_pair(size_t n, enum dmakit_trace_close mode, uint64_t s,
		      uint64_t e, uint64_t chan)
{
	size_t i, lo = 0, hi = n;

	while (lo < hi) {		/* the end event, by time */
		size_t mid = (lo + hi) / 2;

		if (evs[mid].ts < e)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= n || evs[lo].ts != e || evs[lo].role != 1 || evs[lo].chan != chan)
		return false;
	if (mode != DMAKIT_TRACE_CLOSE_ALL)
		return evs[lo].pair_start == s;
	/* ALL: s must be a start of the channel after its previous end */
	for (i = lo; i-- > 0;) {
		if (evs[i].chan != chan)
			continue;
		if (evs[i].role == 1)
			return false;
		if (evs[i].ts == s)
			return true;
	}
	return false;
}

static void random_losses(enum dmakit_trace_close mode)
{
	uint64_t timeout = 50 * MS;
	struct dmakit_trace_pairer *p = new_pairer(mode, timeout);
	struct dmakit_trace_pair_stats st;
	size_t n = gen_stream(mode, timeout), i, truth_xacts = 0, bad = 0;
	uint64_t last_kept = 0;

	T_ASSERT(p);
	for (i = 0; i < n; i++) {
		struct dmakit_trace_event e = {
			.ts = evs[i].ts, .role = evs[i].role, .chan = evs[i].chan,
			.vector = -1, .cpu = 0,
		};

		truth_xacts += evs[i].role == 1;
		if (rnd(400) == 0) {	/* a gap of 1..30 events */
			size_t len = 1 + rnd(30);

			if (i + len >= n)
				break;
			dmakit_trace_pairer_loss(p, last_kept, evs[i + len].ts, len);
			i += len - 1;
			continue;
		}
		if (mode == DMAKIT_TRACE_CLOSE_ID) {
			e.id = evs[i].id;
			e.flags = DMAKIT_TRACE_F_ID;
		}
		dmakit_trace_pairer_feed(p, &e);
		last_kept = evs[i].ts;
	}
	dmakit_trace_pairer_finish(p, evs[n - 1].ts + 1);
	dmakit_trace_pairer_stats(p, &st);
	for (i = 0; i < got.n; i++)
		if (!true_pair(n, mode, got.x[i].start_ns, got.x[i].end_ns,
			       got.x[i].chan))
			bad++;
	fprintf(stderr, "  %s: %zu events, %llu holes, %zu pairs, %zu wrong, %llu+%llu discarded\n",
		dmakit_trace_close_name(mode), n,
		(unsigned long long)st.loss_holes, got.n, bad,
		(unsigned long long)st.discarded_starts,
		(unsigned long long)st.discarded_ends);
	T_EQ(bad, 0);
	T_ASSERT(st.loss_holes > 10);
	/* and it does resynchronise: most transactions still come out */
	T_ASSERT(got.n > truth_xacts / 4);
	dmakit_trace_pairer_free(p);
}

/*
 * Four threads calling without pause (per-thread channels, one call open
 * each), events spread over two CPUs, and gaps that each lose one CPU's
 * events over a stretch of time while the other CPU's events in that
 * stretch are kept and fed after the gap's report (as the session's merge
 * does).  No pair may be wrong, and pairing must keep resuming: a channel
 * that waited for a quiet timeout would pair almost nothing here.
 */
static void random_losses_per_thread(void)
{
	struct dmakit_trace_pair_opts o = {
		.close = DMAKIT_TRACE_CLOSE_ONE, .timeout_ns = 50 * MS,
		.one_open = true, .on_xact = collect, .ctx = &got,
	};
	uint64_t t = 1000, open_ts[4] = { 0 }, gap_from = 0, gap_to = 0;
	struct dmakit_trace_pairer *p = NULL;
	size_t n = 0, i, bad = 0, truth = 0, reported = 0;
	int gap_cpu = -1;

	got.n = 0;
	T_ASSERT(!dmakit_trace_pairer_alloc(&p, &o));
	while (n < NEV - 1) {
		uint64_t c = rnd(4);

		t += 1 + rnd(MS / 10);
		if (open_ts[c]) {
			evs[n++] = (struct tev){ t, 1, c, 0, open_ts[c] };
			open_ts[c] = 0;
			truth++;
		} else {
			evs[n++] = (struct tev){ t, 0, c, 0, 0 };
			open_ts[c] = t;
		}
	}
	for (i = 0; i < n; i++) {
		int cpu = (int)(evs[i].id = rnd(2));	/* id holds the CPU */
		struct dmakit_trace_event e = {
			.ts = evs[i].ts, .role = evs[i].role, .chan = evs[i].chan,
			.vector = -1, .cpu = cpu,
		};

		if (gap_cpu < 0 && rnd(300) == 0) {
			/* this CPU loses its events for the next 1..40 events' time */
			gap_cpu = cpu;
			gap_from = i ? evs[i - 1].ts : 0;
			gap_to = evs[i + 1 + rnd(40) < n ? i + 1 + rnd(40) : n - 1].ts;
			dmakit_trace_pairer_loss(p, gap_from, gap_to, 0);
			reported++;
		}
		if (gap_cpu == cpu && evs[i].ts <= gap_to)
			continue;		/* lost */
		if (gap_cpu >= 0 && evs[i].ts > gap_to)
			gap_cpu = -1;
		dmakit_trace_pairer_feed(p, &e);
	}
	dmakit_trace_pairer_finish(p, t + 1);
	for (i = 0; i < got.n; i++)
		if (!true_pair(n, DMAKIT_TRACE_CLOSE_ONE, got.x[i].start_ns,
			       got.x[i].end_ns, got.x[i].chan))
			bad++;
	fprintf(stderr, "  per thread: %zu events, %zu gaps, %zu of %zu transactions, %zu wrong\n",
		n, reported, got.n, truth, bad);
	T_EQ(bad, 0);
	T_ASSERT(reported > 50);
	T_ASSERT(got.n > truth / 2);
	dmakit_trace_pairer_free(p);
}

static void random_losses_fifo(void)
{
	random_losses(DMAKIT_TRACE_CLOSE_ONE);
}

static void random_losses_batch(void)
{
	random_losses(DMAKIT_TRACE_CLOSE_ALL);
}

static void random_losses_id(void)
{
	random_losses(DMAKIT_TRACE_CLOSE_ID);
}

/*
 * A run that sees thread after thread (per-thread channels of a
 * system-wide syscall): channels idle past the timeout are forgotten, so
 * the number held stays bounded over 100 000 threads, and every pair is
 * still right, also of a thread that comes back and of one whose call
 * outlasts many others' idleness.
 */
static void idle_channels_forgotten(void)
{
	struct dmakit_trace_pairer *p = new_pairer(DMAKIT_TRACE_CLOSE_ONE, 100 * MS);
	struct dmakit_trace_pair_stats st;
	uint64_t t = MS, most = 0, k, paired = 0;
	size_t i;
	bool right = true;

	T_ASSERT(p);
	S(p, t, 7, -1);			/* a long call of thread 7 */
	for (k = 0; k < 100000; k++) {
		uint64_t chan = 1000 + k;

		t += MS / 4;
		got.n = 0;
		S(p, t, chan, -1);
		E(p, t + 10000, chan, -1);
		for (i = 0; i < got.n; i++)
			right &= got.x[i].start_ns == t &&
				 got.x[i].latency_ns == 10000;
		paired += got.n;
		if (k == 200) {		/* 50 ms later: thread 7 returns */
			got.n = 0;
			E(p, t + 20000, 7, -1);
			T_EQ(got.n, 1);
			T_EQ(got.x[0].start_ns, MS);
		}
		if (k % 40 == 0) {	/* every 10 ms, as a session merges */
			dmakit_trace_pairer_advance(p, t + 20000);
			dmakit_trace_pairer_stats(p, &st);
			if (st.channels > most)
				most = st.channels;
		}
	}
	T_ASSERT(right);
	T_EQ(paired, 100000);
	/* 400 threads within a timeout, up to a quarter idle before a prune */
	T_ASSERT(most <= 800);
	/* an early thread comes back: a fresh channel pairs it */
	got.n = 0;
	t += MS;
	S(p, t, 1000, -1);
	E(p, t + 500, 1000, -1);
	T_EQ(got.n, 1);
	T_EQ(got.x[0].latency_ns, 500);
	dmakit_trace_pairer_finish(p, t + 1000);
	dmakit_trace_pairer_stats(p, &st);
	T_EQ(st.transactions, 100002);
	T_EQ(st.orphans, 0);
	T_EQ(st.unmatched_starts, 0);
	dmakit_trace_pairer_free(p);
}

static void bad_opts(void)
{
	struct dmakit_trace_pair_opts o = { .close = 7 };
	struct dmakit_trace_pairer *p = NULL;

	T_EQ(dmakit_trace_pairer_alloc(&p, &o), -EINVAL);
	T_EQ(dmakit_trace_pairer_alloc(&p, NULL), -EINVAL);
}

int main(void)
{
	T_RUN(by_id_any_order);
	T_RUN(id_same_in_two_channels);
	T_RUN(id_timeout_and_reuse);
	T_RUN(fifo_per_channel);
	T_RUN(batch_coalesced);
	T_RUN(fifo_timeout_and_finish);
	T_RUN(fifo_gap_never_mispairs);
	T_RUN(one_open_resyncs_at_next_start);
	T_RUN(one_open_start_inside_gap);
	T_RUN(sites_carried);
	T_RUN(batch_gap_never_mispairs);
	T_RUN(late_event_is_a_gap);
	T_RUN(random_losses_fifo);
	T_RUN(random_losses_per_thread);
	T_RUN(random_losses_batch);
	T_RUN(random_losses_id);
	T_RUN(idle_channels_forgotten);
	T_RUN(bad_opts);
	return t_exit();
}
