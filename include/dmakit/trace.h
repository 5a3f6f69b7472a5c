/* SPDX-License-Identifier: MIT */
/*
 * dmakit tracing: when did a DMA transaction start and when did it end,
 * for any PCI device, with or without the dmakit driver.
 *
 * Four objects, each an opaque handle with an alloc/free pair:
 *
 *   dmakit_trace_pci      a PCI device from sysfs: driver, ids, NUMA node,
 *                         link, DMA mask, IOMMU group, interrupt vectors
 *   dmakit_trace_hist     a latency histogram with percentiles
 *   dmakit_trace_pairer   the pairing engine: a time-ordered stream of
 *                         start and end events in, transactions out (pure
 *                         code, no kernel needed)
 *   dmakit_trace_session  a tracing session: its own tracefs instance,
 *                         the `mono` clock (timestamps are CLOCK_MONOTONIC
 *                         ns), per-CPU buffers merged in time order, lost
 *                         events accounted, uprobes created and removed
 *
 * Event sources are given as SPEC strings:
 *
 *   irq[:SEL]                 the --pci device's interrupt vectors
 *                             (irq:irq_handler_entry filtered to them); SEL
 *                             selects some: IRQ numbers "36,37" or a name
 *                             pattern "*req*"
 *   tp:SYSTEM:EVENT[:FILTER]  any tracepoint, with an optional ftrace filter
 *   uprobe:PATH:FUNC[+OFF][(ARGS)]  entry of a function in an ELF file
 *   uretprobe:PATH:FUNC[(ARGS)]     return of a function
 *   usdt:PATH:PROVIDER:NAME[(ARGS)] a sys/sdt.h probe (arguments become
 *                             fields arg1..argN; semaphores are handled)
 *
 * ARGS names what a probe fetches: "NAME=argN[:TYPE]" (the Nth integer
 * argument: x86-64 and arm64 calling conventions, or the USDT probe's
 * Nth argument) or, at a uretprobe, "NAME=retval[:TYPE]"; TYPE u8..u64
 * or s8..s64, default u64.  Fields named id, bytes, status (or ret) are
 * used as such automatically; any can be named by --pair-by, --channel,
 * --bytes and --status.
 *   dmakit                    the dmakit driver's tracepoints
 *                             dmakit:dma_submit (start) and
 *                             dmakit:dma_complete (end), paired by id
 *
 * Conventions as in dmakit.h: 0 or a count on success, a negative errno on
 * failure, an errmsg buffer for detail where a call can fail in several
 * ways; no global state, nothing printed.
 */
#ifndef DMAKIT_TRACE_H
#define DMAKIT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/*
 * Check the form of a SPEC without tracing anything (whether the event,
 * file or symbol exists is found out by dmakit_trace_session_alloc()).
 * Return 0 or -EINVAL with @errmsg saying what is wrong.
 */
int dmakit_trace_spec_check(const char *spec, char *errmsg, size_t errlen);

/* ------------------------------------------------------------------ */
/* PCI device discovery                                               */
/* ------------------------------------------------------------------ */

struct dmakit_trace_pci;

enum dmakit_trace_irq_kind {
	DMAKIT_TRACE_IRQ_INTX = 0,
	DMAKIT_TRACE_IRQ_MSI,
	DMAKIT_TRACE_IRQ_MSIX,
};

/**
 * struct dmakit_trace_pci_info - what sysfs says about a PCI function.
 * @bdf:        domain:bus:device.function, e.g. "0000:17:00.0"
 * @driver:     bound driver, "" if none
 * @vendor, @device, @subsys_vendor, @subsys_device: PCI ids
 * @class_code: 24-bit class code
 * @numa_node:  NUMA node, -1 if unknown
 * @link_gts, @link_width: current PCIe link (GT/s, lanes); 0 if the
 *              device has no PCIe link attributes (conventional PCI)
 * @max_link_gts, @max_link_width: what the device supports
 * @link_bytes_per_s: theoretical payload bandwidth of the current link
 *              per direction, after line encoding (8b/10b up to 5 GT/s,
 *              128b/130b from 8 GT/s, 242B/256B FLITs at 64 GT/s)
 * @dma_mask_bits: streaming DMA mask width, -1 if unknown
 * @iommu_group: IOMMU group number, -1 if none
 * @nvectors:   interrupt vectors (see dmakit_trace_pci_vector())
 * @nbars:      memory and I/O BARs in use (see dmakit_trace_pci_bar())
 * @config_read: the capability list could be read (the config space
 *              beyond its header needs root); if not, @pcie and
 *              @msix_table_size are unknown (false, -1)
 * @pcie:       the function has a PCI Express capability
 * @msix_table_size: entries of its MSI-X table, 0 without MSI-X
 * @msix_enabled: MSI-X is switched on (a driver uses it)
 * @msix_vectors: MSI-X vectors the driver allocated (of @nvectors)
 * @nchildren:  block devices and network interfaces it provides (see
 *              dmakit_trace_pci_child())
 */
struct dmakit_trace_pci_info {
	char bdf[16];
	char driver[64];
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class_code;
	int numa_node;
	double link_gts;
	unsigned int link_width;
	double max_link_gts;
	unsigned int max_link_width;
	double link_bytes_per_s;
	int dma_mask_bits;
	int iommu_group;
	unsigned int nvectors;
	unsigned int nbars;
	bool config_read;
	bool pcie;
	int msix_table_size;
	bool msix_enabled;
	unsigned int msix_vectors;
	unsigned int nchildren;
};

/**
 * struct dmakit_trace_pci_bar - one base address register in use.
 * @index:    BAR number 0..5
 * @start, @size: the address range the kernel assigned (bytes)
 * @io:       an I/O port range (else memory)
 * @mem64:    a 64-bit memory BAR
 * @prefetchable: prefetchable memory
 */
struct dmakit_trace_pci_bar {
	unsigned int index;
	uint64_t start;
	uint64_t size;
	bool io;
	bool mem64;
	bool prefetchable;
};

enum dmakit_trace_child_kind {
	DMAKIT_TRACE_CHILD_BLOCK = 0,
	DMAKIT_TRACE_CHILD_NET,
};

/**
 * struct dmakit_trace_pci_child - what the function provides to the system.
 * @kind:     a block device (disk) or a network interface
 * @name:     "vda", "nvme0n1", "eth0"
 * @major, @minor: a block device's numbers (block tracepoints report
 *            them as dev == major << 20 | minor)
 * @ifindex:  a network interface's index, -1 for block devices
 */
struct dmakit_trace_pci_child {
	enum dmakit_trace_child_kind kind;
	char name[64];
	unsigned int major, minor;
	int ifindex;
};

/**
 * struct dmakit_trace_pci_names - names of a function's ids in pci.ids.
 * Each is "" when pci.ids does not know the id (or is not installed).
 */
struct dmakit_trace_pci_names {
	char vendor[128];
	char device[128];
	char subsys_vendor[128];
	char subsys_device[128];
	char class_name[96];
	char prog_if[96];
};

/**
 * struct dmakit_trace_pci_vector - one interrupt vector of a device.
 * @irq:      Linux IRQ number (what irq:irq_handler_entry reports)
 * @kind:     INTx, MSI or MSI-X
 * @name:     handler name(s) as in /proc/interrupts, "" if none requested
 * @affinity: smp_affinity_list, e.g. "0-3"
 * @effective_affinity: effective_affinity_list ("" where not exported)
 * @count:    interrupts so far, summed over CPUs (/proc/interrupts)
 */
struct dmakit_trace_pci_vector {
	unsigned int irq;
	enum dmakit_trace_irq_kind kind;
	char name[64];
	char affinity[64];
	char effective_affinity[64];
	uint64_t count;
};

/*
 * Read a device from sysfs.  @bdf may omit the domain ("17:00.0").
 * Return 0, -ENODEV (no such device, @errmsg says so), -ENOMEM.
 */
int dmakit_trace_pci_alloc(struct dmakit_trace_pci **pcip, const char *bdf,
			   char *errmsg, size_t errlen);
void dmakit_trace_pci_free(struct dmakit_trace_pci *pci);
void dmakit_trace_pci_info(const struct dmakit_trace_pci *pci,
			   struct dmakit_trace_pci_info *info);
/* Vector @i (0 <= i < nvectors).  Return 0 or -ERANGE. */
int dmakit_trace_pci_vector(const struct dmakit_trace_pci *pci, unsigned int i,
			    struct dmakit_trace_pci_vector *vec);
/*
 * Vector @i's count on each CPU (the columns of /proc/interrupts): fills
 * up to @n of @counts and returns the number of CPU columns, or -ERANGE.
 */
int dmakit_trace_pci_vector_cpus(const struct dmakit_trace_pci *pci,
				 unsigned int i, uint64_t *counts,
				 unsigned int n);
/* BAR @i (0 <= i < nbars), child @i (0 <= i < nchildren): 0 or -ERANGE. */
int dmakit_trace_pci_bar(const struct dmakit_trace_pci *pci, unsigned int i,
			 struct dmakit_trace_pci_bar *bar);
int dmakit_trace_pci_child(const struct dmakit_trace_pci *pci, unsigned int i,
			   struct dmakit_trace_pci_child *child);
/*
 * Vendor, device, subsystem and class names from pci.ids (Debian's
 * /usr/share/misc/pci.ids, or /usr/share/hwdata/pci.ids); @ids_path
 * overrides the file.  Return 0, or -ENOENT (no pci.ids: names empty).
 */
int dmakit_trace_pci_names(const struct dmakit_trace_pci *pci,
			   const char *ids_path,
			   struct dmakit_trace_pci_names *names);
/* Re-read the vectors' counts from /proc/interrupts.  Return 0 or -errno. */
int dmakit_trace_pci_refresh_counts(struct dmakit_trace_pci *pci);
/* "MSI-X", "MSI", "INTx". */
const char *dmakit_trace_irq_kind_name(enum dmakit_trace_irq_kind kind);
/*
 * Theoretical per-direction payload bandwidth of a PCIe link in bytes/s,
 * from its speed in GT/s and its width; 0 if either is unknown.
 */
double dmakit_trace_pcie_bandwidth(double gts, unsigned int width);

/*
 * The PCI devices in sysfs, sorted by address; @with_driver: only those
 * bound to a driver.  Free the array with dmakit_trace_pci_list_free().
 */
int dmakit_trace_pci_list(char ***bdfs, size_t *count, bool with_driver);
void dmakit_trace_pci_list_free(char **bdfs, size_t count);

/* ------------------------------------------------------------------ */
/* Latency histogram                                                  */
/* ------------------------------------------------------------------ */

/*
 * Log-linear buckets: 64 sub-buckets per power of two, so a percentile is
 * within 1.6% of the exact value (min, max, count and sum are exact).
 * Memory is fixed (about 32 KiB) whatever the number of values.
 */
struct dmakit_trace_hist;

int dmakit_trace_hist_alloc(struct dmakit_trace_hist **histp);
void dmakit_trace_hist_free(struct dmakit_trace_hist *hist);
void dmakit_trace_hist_reset(struct dmakit_trace_hist *hist);
void dmakit_trace_hist_add(struct dmakit_trace_hist *hist, uint64_t value);
/* Add every value of @src to @dst. */
void dmakit_trace_hist_merge(struct dmakit_trace_hist *dst,
			     const struct dmakit_trace_hist *src);
uint64_t dmakit_trace_hist_count(const struct dmakit_trace_hist *hist);
uint64_t dmakit_trace_hist_min(const struct dmakit_trace_hist *hist);
uint64_t dmakit_trace_hist_max(const struct dmakit_trace_hist *hist);
double dmakit_trace_hist_mean(const struct dmakit_trace_hist *hist);
/*
 * The value below which @pct percent (0..100) of the values fall (the
 * nearest-rank definition), 0 for an empty histogram.
 */
uint64_t dmakit_trace_hist_percentile(const struct dmakit_trace_hist *hist,
				      double pct);
/*
 * Counts per power of two, after dividing values by @divisor (e.g. 1000
 * for microseconds): slots[i] counts v with 2^(i-1) <= v < 2^i, slots[0]
 * v == 0; the layout cli_print_log2_hist() prints.  @nslots <= 64.
 */
void dmakit_trace_hist_log2(const struct dmakit_trace_hist *hist,
			    uint64_t divisor, uint64_t *slots, int nslots);

/* ------------------------------------------------------------------ */
/* Pairing engine                                                     */
/* ------------------------------------------------------------------ */

enum dmakit_trace_role {
	DMAKIT_TRACE_START = 0,
	DMAKIT_TRACE_END = 1,
};

/* Which open starts an end event closes. */
enum dmakit_trace_close {
	DMAKIT_TRACE_CLOSE_ONE = 0,	/* the oldest open start of its channel */
	DMAKIT_TRACE_CLOSE_ALL,		/* every open start of its channel
					 * (an interrupt completing a batch) */
	DMAKIT_TRACE_CLOSE_ID,		/* the open start with the same id */
};

#define DMAKIT_TRACE_F_ID	0x1	/* @id is valid */
#define DMAKIT_TRACE_F_BYTES	0x2	/* @bytes is valid */
#define DMAKIT_TRACE_F_STATUS	0x4	/* @status is valid */

/**
 * struct dmakit_trace_event - one start or end event.
 * @ts:     CLOCK_MONOTONIC nanoseconds
 * @role:   start or end
 * @flags:  DMAKIT_TRACE_F_*
 * @cpu, @tid: where it happened (-1 if unknown)
 * @vector: IRQ number for interrupt events, -1 otherwise
 * @chan:   channel key: starts pair with ends of the same channel
 * @id, @bytes, @status: from the event's fields where it has them
 * @site:   which of its side's SPECs the event came from (0..)
 */
struct dmakit_trace_event {
	uint64_t ts;
	enum dmakit_trace_role role;
	uint32_t flags;
	int32_t cpu;
	int32_t tid;
	int32_t vector;
	uint64_t chan;
	uint64_t id;
	uint64_t bytes;
	int64_t status;
	uint32_t site;
};

/**
 * struct dmakit_trace_xact - a transaction: a start paired with an end.
 * @start_ns, @end_ns, @latency_ns: CLOCK_MONOTONIC times and difference
 * @start_cpu, @end_cpu, @start_tid, @end_tid: where each event happened
 * @vector: IRQ number of the end event, -1 if it was not an interrupt
 * @chan:   channel key
 * @id:     transaction id (flags & DMAKIT_TRACE_F_ID)
 * @bytes:  size, from the start event or else the end event
 *          (flags & DMAKIT_TRACE_F_BYTES)
 * @status: end status (flags & DMAKIT_TRACE_F_STATUS)
 * @batch:  starts closed by the same end event (1: not coalesced)
 * @start_site, @end_site: which start and end SPEC the events came from
 */
struct dmakit_trace_xact {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t latency_ns;
	int32_t start_cpu, end_cpu;
	int32_t start_tid, end_tid;
	int32_t vector;
	uint32_t flags;
	uint64_t chan;
	uint64_t id;
	uint64_t bytes;
	int64_t status;
	uint32_t batch;
	uint32_t start_site, end_site;
};

/**
 * struct dmakit_trace_pair_opts - how to pair.
 * @close:      which starts an end closes
 * @timeout_ns: a start still open this long after it began is counted as
 *              unmatched and dropped (also the resynchronisation delay
 *              after lost events); 0: 1 s
 * @one_open:   ONE mode: a channel has at most one call open (a channel
 *              per thread of synchronous calls), so after a gap it is in
 *              step again at its next start instead of after a quiet
 *              timeout
 * @on_xact:    called for every transaction, in end-time order
 * @ctx:        passed to @on_xact
 */
struct dmakit_trace_pair_opts {
	enum dmakit_trace_close close;
	uint64_t timeout_ns;
	bool one_open;
	void (*on_xact)(void *ctx, const struct dmakit_trace_xact *x);
	void *ctx;
};

/**
 * struct dmakit_trace_pair_stats - what the pairing engine counted.
 * @starts, @end_events: events fed
 * @transactions:  transactions reported
 * @orphans:       end events that closed nothing (no open start)
 * @unmatched_starts: starts that timed out without an end
 * @inflight_starts: starts still open (younger than the timeout) at the end
 * @coalesced_ends: end events that closed more than one start
 * @coalesced_xacts: transactions closed by such an end
 * @max_batch:     largest number of starts one end closed
 * @loss_holes:    gaps in the event stream reported to the engine
 * @lost_events:   events known lost in those gaps (may be less than the
 *                 kernel's count when a gap's size is unknown)
 * @discarded_starts, @discarded_ends: events set aside while
 *                 resynchronising after a gap instead of being paired
 *                 across it
 * @late_events:   events older than one already processed (treated as a
 *                 gap)
 * @nested_starts: starts on a per-thread channel that already held an
 *                 open call (a thread with two transfers open): FIFO
 *                 pairing ends them in start order, which is right only
 *                 if the thread waits for them in that order
 * @channels:      channels held now (FIFO and batch pairing): one idle past
 *                 the timeout with nothing open is forgotten, so a run that
 *                 sees thread after thread holds only the recent ones
 */
struct dmakit_trace_pair_stats {
	uint64_t starts;
	uint64_t end_events;
	uint64_t transactions;
	uint64_t orphans;
	uint64_t unmatched_starts;
	uint64_t inflight_starts;
	uint64_t coalesced_ends;
	uint64_t coalesced_xacts;
	uint64_t max_batch;
	uint64_t loss_holes;
	uint64_t lost_events;
	uint64_t discarded_starts;
	uint64_t discarded_ends;
	uint64_t late_events;
	uint64_t nested_starts;
	uint64_t channels;
};

struct dmakit_trace_pairer;

int dmakit_trace_pairer_alloc(struct dmakit_trace_pairer **pairerp,
			      const struct dmakit_trace_pair_opts *opts);
void dmakit_trace_pairer_free(struct dmakit_trace_pairer *pairer);
/*
 * Feed one event.  Events must come in time order; an older one is
 * counted in late_events and handled like a gap.  Return 0 or -ENOMEM.
 */
int dmakit_trace_pairer_feed(struct dmakit_trace_pairer *pairer,
			     const struct dmakit_trace_event *ev);
/*
 * Report a gap: events of one stream between @from_ns and @to_ns were
 * lost (@count of them, 0 if unknown).  The engine never pairs across it:
 * in CLOSE_ONE/CLOSE_ALL mode the open starts are discarded and each
 * channel resynchronises (see docs/trace.md); ids need no resync.
 */
void dmakit_trace_pairer_loss(struct dmakit_trace_pairer *pairer,
			      uint64_t from_ns, uint64_t to_ns, uint64_t count);
/* Time has reached @now_ns: expire timed-out starts, end resyncs. */
void dmakit_trace_pairer_advance(struct dmakit_trace_pairer *pairer,
				 uint64_t now_ns);
/* End of the stream at @now_ns: open starts become unmatched or in-flight. */
void dmakit_trace_pairer_finish(struct dmakit_trace_pairer *pairer,
				uint64_t now_ns);
void dmakit_trace_pairer_stats(const struct dmakit_trace_pairer *pairer,
			       struct dmakit_trace_pair_stats *stats);

/* ------------------------------------------------------------------ */
/* Tracing session                                                    */
/* ------------------------------------------------------------------ */

/* A count the kernel did not report (printed as unknown, null in JSON). */
#define DMAKIT_TRACE_COUNT_UNKNOWN UINT64_MAX
/* SPECs per side at most. */
#define DMAKIT_TRACE_MAX_SPECS 8

/*
 * How events are captured and paired (docs/trace.md, "Backends"):
 * tracefs: the kernel's trace buffers read and paired in user space;
 * bpf: a BPF program pairs them in the kernel and hands over completed
 * transactions; auto: bpf where it can trace the SPECs and loads (BTF,
 * permissions), else tracefs (dmakit_trace_session_backend() says which
 * and why).
 */
enum dmakit_trace_backend_kind {
	DMAKIT_TRACE_BACKEND_AUTO,
	DMAKIT_TRACE_BACKEND_TRACEFS,
	DMAKIT_TRACE_BACKEND_BPF,
};

/**
 * struct dmakit_trace_opts - what to trace.
 * @pci:        device address ("irq" specs need it), or NULL
 * @start_specs, @end_specs: SPEC strings (see the top of this file): any
 *              event of a side starts (ends) a transaction; an event's
 *              site is its SPEC's index here
 * @nstart_specs, @nend_specs: how many (1..DMAKIT_TRACE_MAX_SPECS)
 * @pid:        only u(ret)probe/usdt events of this process (all of its
 *              threads, also new ones); 0: every process
 * @buffer_kb:  ring buffer per CPU in KiB; 0: 4096 (bpf: one ring buffer
 *              of this times the CPUs, rounded up to a power of two)
 * @timeout_ns: see struct dmakit_trace_pair_opts
 * @close:      -1: chosen from the specs (by id when both carry one, ALL
 *              for interrupt ends, else ONE)
 * @pair_by:    pair by id: "FIELD" of both events or "START_FIELD,END_FIELD"
 *              (NULL: automatic: a field named id on both)
 * @channel_by: channel key: "tid", "none" or a field name of both events
 *              (NULL: automatic: tid when every event is thread-synchronous
 *              (uprobe, uretprobe, usdt, syscalls), see
 *              dmakit_trace_session_pairing())
 * @bytes_by, @status_by: the field holding a transaction's size / end
 *              status (NULL: automatic: bytes; status or ret)
 * @on_xact:    called for every transaction
 * @on_end:     called for every end event fed to the pairer (e.g. to draw
 *              interrupts); may be NULL
 * @on_loss:    called for every gap found, at its place in the time
 *              order: events of @cpu between @from_ns (its last event
 *              read, or the start of tracing) and @to_ns were lost,
 *              @count of them or DMAKIT_TRACE_COUNT_UNKNOWN (@cpu -1: of
 *              a CPU not known, the BPF backend's missed events); may
 *              be NULL
 * @ctx:        passed to the callbacks
 * @backend:    enum dmakit_trace_backend_kind (0: auto)
 */
struct dmakit_trace_opts {
	const char *pci;
	const char *const *start_specs;
	unsigned int nstart_specs;
	const char *const *end_specs;
	unsigned int nend_specs;
	pid_t pid;
	unsigned int buffer_kb;
	uint64_t timeout_ns;
	int close;
	const char *pair_by;
	const char *channel_by;
	const char *bytes_by;
	const char *status_by;
	void (*on_xact)(void *ctx, const struct dmakit_trace_xact *x);
	void (*on_end)(void *ctx, const struct dmakit_trace_event *ev);
	void (*on_loss)(void *ctx, int cpu, uint64_t from_ns, uint64_t to_ns,
			uint64_t count);
	void *ctx;
	enum dmakit_trace_backend_kind backend;
};

/**
 * struct dmakit_trace_vector_stats - interrupts of one traced vector.
 * @irq, @name:    the vector
 * @traced:        its irq_handler_entry events in the window
 * @traced_total:  all of its events, also outside the window
 * @proc_start, @proc_end: /proc/interrupts counts read at the window's
 *                 start and end
 * @ambiguous:     events within the (short) time it took to read those
 *                 counts: they may or may not be in the difference
 * @untraced:      interrupts the kernel counted in the window beyond
 *                 traced + ambiguous: handled, yet no event of theirs
 *                 reached the tracer (the kernel did not run the BPF
 *                 program for them, and did not count that as a miss);
 *                 in the stats' @lost_interrupts and @lost_events.  0
 *                 until the window is closed (the session stopped).
 *
 * The window runs from reading the counts after tracing started to
 * reading them again before it stopped, so with no lost events
 * proc_end - proc_start == traced when ambiguous is 0, and in general
 * traced <= proc_end - proc_start <= traced + ambiguous + untraced.
 */
struct dmakit_trace_vector_stats {
	unsigned int irq;
	char name[64];
	uint64_t traced;
	uint64_t traced_total;
	uint64_t proc_start;
	uint64_t proc_end;
	uint64_t ambiguous;
	uint64_t untraced;
};

/**
 * struct dmakit_trace_stats - a session's counters.
 * @pair:         the pairing engine's counters
 * @close:        the pairing mode in use
 * @lost_events:  events the kernel dropped (sum of the instance's per-CPU
 *                overrun, commit overrun and dropped counts), as of the
 *                last dmakit_trace_session_read_loss() (start, stop and
 *                whenever the caller asks), or more if gaps in the stream
 *                already showed more
 * @lost_known:   false if the kernel's counts could not be read: then
 *                @lost_events is only what gaps in the stream showed and
 *                the true number is unknown
 * @events:       events read
 * @start_ns, @stop_ns: CLOCK_MONOTONIC of tracing on / off
 * @pid_filtered: events of other processes skipped because of opts.pid
 * @nvectors:     entries of dmakit_trace_session_vector()
 * @leftovers_removed: instances and probes of crashed dmakit sessions
 *                removed when this one was set up
 * @lost_xacts, @lost_starts, @lost_missed: the BPF backend's loss (all
 *                in @lost_events): transactions paired in the kernel that
 *                the ring buffer had no room for, starts the pairing map
 *                had no room for (their ends count as orphans), events the
 *                kernel ran no program for (one was already running on
 *                that CPU: a start or end missing, as if lost); 0 on
 *                tracefs
 * @lost_interrupts: the vectors' @untraced summed (in @lost_events):
 *                interrupts /proc/interrupts counted in the window that
 *                no event was read for; a batch around one ended at a
 *                later interrupt
 * @queued_max:   tracefs: the most events held at once between reading
 *                them and pairing them (in time order over the CPUs);
 *                bounded by the library, whatever the rate and the lag
 */
struct dmakit_trace_stats {
	struct dmakit_trace_pair_stats pair;
	enum dmakit_trace_close close;
	uint64_t lost_events;
	bool lost_known;
	uint64_t events;
	uint64_t start_ns;
	uint64_t stop_ns;
	uint64_t pid_filtered;
	unsigned int nvectors;
	unsigned int leftovers_removed;
	uint64_t lost_xacts;
	uint64_t lost_starts;
	uint64_t lost_missed;
	uint64_t queued_max;
	uint64_t lost_interrupts;
};

struct dmakit_trace_session;

/*
 * Prepare a session: parse and resolve the specs, mount tracefs if
 * needed, remove what crashed dmakit sessions left behind, start the
 * session's reaper (a process that removes the instance and probes if
 * the caller dies without freeing the session: the caller sees one
 * short-lived child, already waited for, and keeps one pipe fd), create
 * the instance and probes, enable the events (tracing still off).
 * Return 0 or -errno with @errmsg explaining: -EINVAL (bad spec),
 * -EPERM/-EACCES (needs root), -ENODEV (no tracefs, no such device,
 * event or symbol), -ENOENT (file), -EOPNOTSUPP (kernel lacks a feature).
 */
int dmakit_trace_session_alloc(struct dmakit_trace_session **sessionp,
			       const struct dmakit_trace_opts *opts,
			       char *errmsg, size_t errlen);
/* Remove probes, instance, everything; stops tracing first if needed. */
void dmakit_trace_session_free(struct dmakit_trace_session *session);
/* Turn tracing on and read the interrupt counts.  Return 0 or -errno. */
int dmakit_trace_session_start(struct dmakit_trace_session *session);
/*
 * Wait up to @timeout_ms for events, read them, merge the CPUs in time
 * order and feed the pairer (callbacks run from here).  Events newer than
 * what every CPU is known to have delivered wait for the next call.
 * Return the number of events processed, or -errno (-EINTR: a signal).
 */
int dmakit_trace_session_poll(struct dmakit_trace_session *session,
			      int timeout_ms);
/*
 * Read the kernel's per-CPU loss counts now (tracefs per_cpu/cpuN/stats)
 * into the stats: call it as often as a live display wants exact loss.
 * Return 0, or -errno when they cannot be read (lost_known becomes false).
 */
int dmakit_trace_session_read_loss(struct dmakit_trace_session *session);
/* Read the counts, turn tracing off, process everything left. */
int dmakit_trace_session_stop(struct dmakit_trace_session *session);
void dmakit_trace_session_stats(const struct dmakit_trace_session *session,
				struct dmakit_trace_stats *stats);
int dmakit_trace_session_vector(const struct dmakit_trace_session *session,
				unsigned int i,
				struct dmakit_trace_vector_stats *vec);
/*
 * Remove the tracefs instances and uprobes of dmakit sessions proven
 * dead, from any PID namespace: a live session's instance is locked
 * (normally their reaper removes them; see docs/trace.md).
 * Return how many objects were removed, or -errno with @errmsg.
 */
int dmakit_trace_cleanup(char *errmsg, size_t errlen);
/* The tracefs instance's name ("dmakit_<pid>_<n>"). */
const char *dmakit_trace_session_name(const struct dmakit_trace_session *session);
/* A description of what is traced on a side (its sites joined by "; "). */
const char *dmakit_trace_session_describe(const struct dmakit_trace_session *session,
					  enum dmakit_trace_role role);

/**
 * struct dmakit_trace_site - one SPEC of a side.
 * @spec:   the SPEC as given
 * @desc:   what it resolved to ("entry of /lib/x.so:f (file offset 0x..)")
 * @events: its events read so far (after --pid filtering)
 */
struct dmakit_trace_site {
	const char *spec;
	const char *desc;
	uint64_t events;
};

/* Number of SPECs on a side. */
unsigned int dmakit_trace_session_nsites(const struct dmakit_trace_session *session,
					 enum dmakit_trace_role role);
/* Site @i of a side.  Return 0 or -ERANGE. */
int dmakit_trace_session_site(const struct dmakit_trace_session *session,
			      enum dmakit_trace_role role, unsigned int i,
			      struct dmakit_trace_site *site);
/*
 * How events pair and why, one line for the user: "fifo per thread
 * (channel tid): every event is thread-synchronous (uprobe, ...)".
 */
const char *dmakit_trace_session_pairing(const struct dmakit_trace_session *session);
/*
 * Named probe arguments nothing uses (not id, bytes, status/ret nor named
 * by --pair-by, --bytes, --status, --channel): "start 0: chan, start 1:
 * chan", or "" when every named argument is used.
 */
const char *dmakit_trace_session_unused_fields(const struct dmakit_trace_session *session);
/*
 * The backend in use ("tracefs" or "bpf") and, in *@reason if not NULL,
 * why it was chosen.
 */
const char *dmakit_trace_session_backend(const struct dmakit_trace_session *session,
					 const char **reason);
/* Slots of dmakit_trace_session_kernel_hist(): log2 of nanoseconds. */
#define DMAKIT_TRACE_KHIST_SLOTS 64
/*
 * The BPF backend's latency histogram kept in the kernel, all start sites
 * summed: @counts[k] transactions took [2^k, 2^(k+1)) ns, including those
 * the ring buffer had no room for.  Return 0, or -EOPNOTSUPP (tracefs).
 */
int dmakit_trace_session_kernel_hist(const struct dmakit_trace_session *session,
				     uint64_t counts[DMAKIT_TRACE_KHIST_SLOTS]);
const char *dmakit_trace_close_name(enum dmakit_trace_close close);

/* ------------------------------------------------------------------ */
/* Output formats                                                     */
/* ------------------------------------------------------------------ */

/*
 * One transaction as one JSON line: {"start_ns":..,"end_ns":..,
 * "latency_ns":..,"cpu":..,"tid":..,"vector":..,"bytes":..,...}.
 */
void dmakit_trace_xact_write_json(FILE *f, const struct dmakit_trace_xact *x);

/*
 * A Chrome trace-event JSON file (opens in Perfetto UI and
 * chrome://tracing): transactions as async slices on one track per
 * channel (named after the thread for per-thread channels; "batch of N"
 * when their end closed several starts), interrupts on one track per
 * vector, throughput (sizes known) and transaction rate as counter
 * tracks, gaps as slices on a "lost events" track.  Written as it goes;
 * complete after _close().
 */
struct dmakit_trace_timeline;

int dmakit_trace_timeline_open(struct dmakit_trace_timeline **tlp,
			       const char *path, char *errmsg, size_t errlen);
void dmakit_trace_timeline_xact(struct dmakit_trace_timeline *tl,
				const struct dmakit_trace_xact *x);
/* A counter sample at @ts_ns: bytes/s (negative: unknown) and xact/s. */
void dmakit_trace_timeline_counter(struct dmakit_trace_timeline *tl,
				   uint64_t ts_ns, double bytes_per_s,
				   double xacts_per_s);
/* A sample of any counter (a PMU event's rate, say) on its own track. */
void dmakit_trace_timeline_value(struct dmakit_trace_timeline *tl,
				 uint64_t ts_ns, const char *track,
				 const char *unit, double value);
/* A gap on @cpu from @from_ns to @to_ns (count: DMAKIT_TRACE_COUNT_UNKNOWN). */
void dmakit_trace_timeline_loss(struct dmakit_trace_timeline *tl, int cpu,
				uint64_t from_ns, uint64_t to_ns,
				uint64_t count);
/* An interrupt of vector @irq (named @name, may be NULL) on its own track. */
void dmakit_trace_timeline_irq(struct dmakit_trace_timeline *tl,
			       uint64_t ts_ns, int cpu, unsigned int irq,
			       const char *name);
/* Finish the file; return 0 or -errno if any write failed. */
int dmakit_trace_timeline_close(struct dmakit_trace_timeline *tl);

/*
 * A throughput series in fixed-width time bins that merge pairwise when
 * there would be more than a few thousand of them (bounded memory for
 * any duration).  Transactions count in the bin of their end time.
 */
struct dmakit_trace_series;

int dmakit_trace_series_alloc(struct dmakit_trace_series **seriesp,
			      uint64_t t0_ns, uint64_t bin_ns);
void dmakit_trace_series_free(struct dmakit_trace_series *series);
void dmakit_trace_series_add(struct dmakit_trace_series *series,
			     uint64_t ts_ns, uint64_t bytes);
/* Number of bins so far and their width. */
size_t dmakit_trace_series_bins(const struct dmakit_trace_series *series,
				uint64_t *bin_ns);
/* Bin @i: transactions and bytes ending in it. */
void dmakit_trace_series_bin(const struct dmakit_trace_series *series,
			     size_t i, uint64_t *xacts, uint64_t *bytes);

/* A stretch of time, e.g. a gap of lost events. */
struct dmakit_trace_span {
	uint64_t from_ns, to_ns;
};

/**
 * struct dmakit_trace_plot - what the picture shows.
 * @title:    a heading (the specs)
 * @latency:  latency histogram (ns)
 * @series:   throughput over time
 * @bytes_known: whether transactions carry sizes (else xact/s is drawn)
 * @stats:    for the summary line and the run's span
 * @lost, @nlost: gaps of lost events, shaded over the throughput (a dip
 *            there is missing pairs, not a slower device); may be NULL
 */
struct dmakit_trace_plot {
	const char *title;
	const struct dmakit_trace_hist *latency;
	const struct dmakit_trace_series *series;
	bool bytes_known;
	const struct dmakit_trace_stats *stats;
	const struct dmakit_trace_span *lost;
	size_t nlost;
};

/*
 * Write a self-contained picture: "FILE.svg" is one SVG, anything else an
 * HTML page with inline SVG (no scripts, no network fetches): the latency
 * histogram in the terminal's log2 microsecond slots with counts on a log
 * scale, and throughput (transaction rate when sizes are unknown) over the
 * whole run (stats->start_ns..stop_ns when @stats is given) in bins of
 * about 100 transactions each.  Return 0 or -errno.
 */
int dmakit_trace_plot_write(const char *path, const struct dmakit_trace_plot *plot,
			    char *errmsg, size_t errlen);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMAKIT_TRACE_H */
