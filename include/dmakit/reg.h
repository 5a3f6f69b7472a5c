/* SPDX-License-Identifier: MIT */
/*
 * dmakit register access and the register poller.
 *
 *   dmakit_reg         one memory BAR of a PCI function mapped through
 *                      sysfs resourceN (read-only unless opened for
 *                      writing): bounds- and alignment-checked 8/16/32/64
 *                      bit reads and writes, like devmem2 but by BAR
 *   dmakit_reg_poller  a thread (pinned if asked) that reads one register
 *                      over and over and turns edges of a masked value
 *                      into transactions with CLOCK_MONOTONIC times: the
 *                      `reg:` SPEC of `dmakit trace`
 *
 * The poller reads through a source callback, so anything that can be
 * read (a BAR register, a memory word in a test) can be polled.
 *
 * Conventions as in dmakit.h: 0 on success, a negative errno on failure
 * with @errmsg saying why; no global state, nothing printed.
 */
#ifndef DMAKIT_REG_H
#define DMAKIT_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dmakit/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* ------------------------------------------------------------------ */
/* Register access                                                    */
/* ------------------------------------------------------------------ */

struct dmakit_reg;

#define DMAKIT_REG_WRITE	0x1	/* map for writing too */
#define DMAKIT_REG_FORCE	0x2	/* write even while a driver is bound */

/*
 * Map memory BAR @bar (0..5) of PCI function @bdf ("0000:17:00.0" or
 * "17:00.0").  Return 0, or -ENODEV (no device or BAR not in use),
 * -EOPNOTSUPP (an I/O port BAR, or the kernel offers no resourceN),
 * -EBUSY (WRITE without FORCE while a driver is bound: the driver owns
 * the registers; or the kernel refuses to map a BAR a driver claimed,
 * CONFIG_IO_STRICT_DEVMEM without iomem=relaxed), -EACCES/-EPERM (needs
 * root), -EINVAL, -ENOMEM.
 */
int dmakit_reg_open(struct dmakit_reg **regp, const char *bdf,
		    unsigned int bar, unsigned int flags, char *errmsg,
		    size_t errlen);
void dmakit_reg_close(struct dmakit_reg *reg);
/*
 * Every check dmakit_reg_open() and an access of @width bytes at @offset
 * would make, without mapping anything: a bad request is refused the same
 * way whether or not the kernel offers the BAR for mapping.
 */
int dmakit_reg_check_access(const char *bdf, unsigned int bar,
			    uint64_t offset, unsigned int width,
			    unsigned int flags, char *errmsg, size_t errlen);
/* The BAR's size in bytes. */
uint64_t dmakit_reg_size(const struct dmakit_reg *reg);
/* The driver bound to the function, "" if none (as of opening). */
const char *dmakit_reg_driver(const struct dmakit_reg *reg);
/*
 * Check an access of @width bytes (1, 2, 4, 8) at @offset: -EINVAL (bad
 * width, unaligned) or -ERANGE (beyond the BAR), with @errmsg.
 */
int dmakit_reg_check(const struct dmakit_reg *reg, uint64_t offset,
		     unsigned int width, char *errmsg, size_t errlen);
/*
 * The same check against a BAR of @size bytes without mapping it (e.g.
 * from dmakit_trace_pci_bar(), to refuse a bad request before opening).
 */
int dmakit_reg_check_range(uint64_t size, uint64_t offset, unsigned int width,
			   char *errmsg, size_t errlen);
/* One access of @width bytes (a single bus transaction); checked first. */
int dmakit_reg_read(const struct dmakit_reg *reg, uint64_t offset,
		    unsigned int width, uint64_t *value, char *errmsg,
		    size_t errlen);
/* -EBADF if not opened for writing, -ERANGE if @value does not fit. */
int dmakit_reg_write(struct dmakit_reg *reg, uint64_t offset,
		     unsigned int width, uint64_t value, char *errmsg,
		     size_t errlen);

/* ------------------------------------------------------------------ */
/* Register poller                                                    */
/* ------------------------------------------------------------------ */

/**
 * struct dmakit_reg_spec - a parsed reg:BDF:BARn:OFFSET[:MASK][:rise|:fall]
 * @bdf, @bar, @offset: the register
 * @width:   bytes read per poll (4 unless the spec says /1 /2 /8 after
 *           the offset, e.g. 0x98/8)
 * @mask:    bits that make the level (0: all bits of the width)
 * @edge:    1 rising (value & mask becomes nonzero), -1 falling, 0 not
 *           given (a start spec then means rising, an end spec falling)
 */
struct dmakit_reg_spec {
	char bdf[16];
	unsigned int bar;
	uint64_t offset;
	unsigned int width;
	uint64_t mask;
	int edge;
};

/* Return 0 or -EINVAL with @errmsg. */
int dmakit_reg_spec_parse(struct dmakit_reg_spec *spec, const char *text,
			  char *errmsg, size_t errlen);

/**
 * struct dmakit_reg_poll_opts - what to poll and how.
 * @read:      reads the register once (e.g. dmakit_reg_poll_read_bar)
 * @src:       passed to @read
 * @mask:      bits that make the level; the level is "active" when
 *             (value & mask) != 0
 * @active_low: transactions are the inactive stretches (a start is a
 *             falling edge, an end a rising edge)
 * @period_ns: time between reads; 0: as fast as reads go
 * @cpu:       pin the polling thread to this CPU, -1: not pinned
 * @on_xact:   called from the polling thread for every transaction
 * @ctx:       passed to @on_xact
 */
struct dmakit_reg_poll_opts {
	uint64_t (*read)(void *src);
	void *src;
	uint64_t mask;
	bool active_low;
	uint64_t period_ns;
	int cpu;
	void (*on_xact)(void *ctx, const struct dmakit_trace_xact *x);
	void *ctx;
};

/**
 * struct dmakit_reg_poll_stats - what the poller saw.
 * @polls:         reads done
 * @start_ns, @stop_ns: CLOCK_MONOTONIC of the first and last read
 * @period_ns:     achieved mean time between reads
 * @max_gap_ns:    longest time between two reads (preemption shows here)
 * @transactions:  active stretches seen from start to end
 * @active_at_start: the first read was already active (that stretch is
 *                 not a transaction: its start was not seen)
 * @active_at_stop: the last read was still active (not counted either)
 * @short_xacts:   transactions seen by fewer than two reads: the poller
 *                 was at its limit, similar ones may have been missed
 * @maybe_missed:  gaps between reads at least as long as the shortest
 *                 time a transaction was certainly active (its first to
 *                 its last active read, never more than its true length),
 *                 rounded down to a power of two (a transaction that
 *                 short could have started and ended unseen in each);
 *                 with none seen by two reads, gaps longer than two mean
 *                 periods
 * @min_latency_ns: the shortest transaction seen (0: none)
 */
struct dmakit_reg_poll_stats {
	uint64_t polls;
	uint64_t start_ns, stop_ns;
	double period_ns;
	uint64_t max_gap_ns;
	uint64_t transactions;
	bool active_at_start;
	bool active_at_stop;
	uint64_t short_xacts;
	uint64_t maybe_missed;
	uint64_t min_latency_ns;
};

struct dmakit_reg_poller;

int dmakit_reg_poller_alloc(struct dmakit_reg_poller **pollerp,
			    const struct dmakit_reg_poll_opts *opts,
			    char *errmsg, size_t errlen);
/* Stops the thread first if it runs. */
void dmakit_reg_poller_free(struct dmakit_reg_poller *poller);
/* Start the polling thread.  Return 0, -EINVAL (bad CPU), -errno. */
int dmakit_reg_poller_start(struct dmakit_reg_poller *poller, char *errmsg,
			    size_t errlen);
/* Stop it and wait for it; idempotent. */
void dmakit_reg_poller_stop(struct dmakit_reg_poller *poller);
/* Safe while it runs (counters may be one poll apart). */
void dmakit_reg_poller_stats(struct dmakit_reg_poller *poller,
			     struct dmakit_reg_poll_stats *stats);

/*
 * A read callback for a BAR register: @src is a struct dmakit_reg_poll_bar
 * (the register must have passed dmakit_reg_check()).
 */
struct dmakit_reg_poll_bar {
	const struct dmakit_reg *reg;
	uint64_t offset;
	unsigned int width;
};
uint64_t dmakit_reg_poll_read_bar(void *src);

/* ------------------------------------------------------------------ */
/* Tracing by polling: --start reg:... --end reg:...                  */
/* ------------------------------------------------------------------ */

/**
 * struct dmakit_reg_trace_opts - a poller from two reg: SPECs.
 * @start_spec, @end_spec: the same register (BDF, BAR, offset, width and
 *              mask); the start's edge (rising unless ":fall") begins a
 *              transaction, the end's (falling unless ":rise") ends it
 * @period_ns, @cpu, @on_xact, @ctx: as in struct dmakit_reg_poll_opts
 */
struct dmakit_reg_trace_opts {
	const char *start_spec;
	const char *end_spec;
	uint64_t period_ns;
	int cpu;
	void (*on_xact)(void *ctx, const struct dmakit_trace_xact *x);
	void *ctx;
};

struct dmakit_reg_trace;

/*
 * Parse both specs, map the BAR read-only, prepare the poller (not yet
 * polling).  Return 0, -EINVAL (bad or inconsistent specs, or a reg:
 * spec paired with another kind), or dmakit_reg_open()'s errors.
 */
int dmakit_reg_trace_alloc(struct dmakit_reg_trace **tracep,
			   const struct dmakit_reg_trace_opts *opts,
			   char *errmsg, size_t errlen);
void dmakit_reg_trace_free(struct dmakit_reg_trace *trace);
int dmakit_reg_trace_start(struct dmakit_reg_trace *trace, char *errmsg,
			   size_t errlen);
void dmakit_reg_trace_stop(struct dmakit_reg_trace *trace);
void dmakit_reg_trace_stats(struct dmakit_reg_trace *trace,
			    struct dmakit_reg_poll_stats *stats);
/* "0000:00:04.0 BAR0+0x98 (32-bit) & 0x1, rising edge starts". */
const char *dmakit_reg_trace_describe(const struct dmakit_reg_trace *trace);
/* Whether @spec is a reg: SPEC. */
bool dmakit_reg_spec_is(const char *spec);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMAKIT_REG_H */
