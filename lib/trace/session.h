/* SPDX-License-Identifier: MIT */
/*
 * A tracing session's state, shared by the parts every backend uses
 * (session.c: SPECs resolved to events and their fields, the pairing mode
 * and channel) and the backends that capture and pair the events:
 * tracefs.c (ring buffers read and paired in user space by pair.c) and
 * bpf.c (paired in the kernel by a BPF program).
 */
#ifndef DMAKIT_TRACE_SESSION_H
#define DMAKIT_TRACE_SESSION_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <event-parse.h>
#include <tracefs.h>
#include "internal.h"
#include "field.h"
#include "tids.h"
#include "trace_internal.h"

#define MAX_SITES	8		/* USDT sites per probe */
#define MAX_SIDES	(2 * DMAKIT_TRACE_MAX_SPECS)
#define MAX_EVTYPES	(MAX_SIDES * MAX_SITES)
#define DEFAULT_BUFFER_KB 4096
#define POLL_PERIOD_MS	50
/* an event is committed this soon after its timestamp was taken */
#define COMMIT_SLACK_NS	(20 * 1000000ULL)
/* an interrupt's count is bumped just before its handler's event */
#define COUNT_MARGIN_NS	(200 * 1000ULL)
#define PAGES_PER_POLL	4096
/*
 * Events a CPU's queue may hold (a power of two: its largest size, 768
 * KiB): reading a CPU stops before a page could overflow it, until the
 * queue is merged; the rest waits in the kernel's buffer.  Keeps a run's
 * memory flat however far the reader once fell behind.
 */
#define QUEUE_EVENTS	8192

struct side;

struct evtype {
	int id;
	struct tep_event *format;
	struct side *side;
	enum dmakit_trace_role role;
	bool user;			/* uprobe/usdt: subject to opts.pid */
	bool irq;
	bool chan_tid;
	struct trace_field f_id, f_bytes, f_status, f_chan, f_chan2, f_irq;
	const struct dmakit_usdt_probe *usdt;
};

/* One SPEC: a start or end site of the session. */
struct side {
	struct dmakit_spec spec;
	enum dmakit_trace_role role;
	unsigned int site;		/* index among its role's SPECs */
	uint64_t seen;			/* its events read */
	char desc[640];
	char system[80];
	char events[MAX_SITES][32];
	int nevents;
	char filter[2048];
	bool probes_created[MAX_SITES];
	uint64_t offset;		/* uprobe/uretprobe: in the file */
	struct dmakit_usdt_probe *usdt;
	int nusdt;
};

struct pending {
	struct dmakit_trace_event ev;
	bool loss;
	uint64_t loss_to;
	uint64_t loss_count;
};

struct cpu_stream {
	int cpu;
	int fd;
	struct kbuffer *kbuf;
	void *page;
	struct pending *q;
	size_t head, len, cap;
	uint64_t last_ts;		/* newest timestamp read */
	bool drained;			/* last read found nothing more */
	bool full;			/* last read stopped at QUEUE_EVENTS */
	uint64_t drained_at;		/* CLOCK_MONOTONIC before that read */
};

struct vec {
	unsigned int irq;
	char name[64];
	uint64_t traced, total, proc_start, proc_end, ambiguous;
};

struct dmakit_trace_session {
	struct dmakit_trace_opts opts;
	const struct dmakit_trace_backend *backend;
	char backend_reason[300];	/* dmakit_trace_session_backend() */
	struct dmakit_trace_bpf *bpf;	/* the BPF backend's state */
	char name[64];
	char tracing_dir[PATH_MAX];
	struct tracefs_instance *inst;	/* locked by lock_fd, see probe.c */
	int lock_fd;
	struct tep_handle *tep;
	struct side side[MAX_SIDES];
	int nsides;
	char side_desc[2][1024];	/* a role's sites, joined */
	char pairing[400];		/* dmakit_trace_session_pairing() */
	char unused_fields[256];	/* dmakit_trace_session_unused_fields() */
	bool one_open;
	char id_field[2][64];		/* the id's field on each side */
	struct evtype types[MAX_EVTYPES];
	int ntypes;
	struct dmakit_trace_pairer *pairer;
	enum dmakit_trace_close close;
	struct cpu_stream *cpus;
	int ncpus;
	size_t subbuf_size;
	struct vec *vecs;
	unsigned int nvecs;
	uint64_t t0a, t0b, t1a, t1b;
	bool started, stopped;
	uint64_t processed_to;		/* watermark reached so far */
	struct dmakit_trace_stats st;
	struct trace_tids tids;		/* --pid (tracefs backend) */
	int reaper_fd;			/* closing it lets the reaper clean up */
};

/*
 * struct dmakit_trace_backend - how a session's events are captured and
 * paired.  open() runs once the events and their fields are resolved;
 * close() undoes it (also after a failed open).  The others implement
 * the public dmakit_trace_session_* call of the same name.
 * @unsupported: NULL if the backend can trace what the session resolved,
 *               else why not (a sentence for the user)
 * @describe:    how it pairs this session (for auto's reason); NULL: no
 *               more to say
 */
struct dmakit_trace_backend {
	const char *name;
	const char *(*unsupported)(const struct dmakit_trace_session *s,
				   char *buf, size_t len);
	void (*describe)(const struct dmakit_trace_session *s, char *buf,
			 size_t len);
	int (*open)(struct dmakit_trace_session *s, char *err, size_t errlen);
	void (*close)(struct dmakit_trace_session *s);
	int (*start)(struct dmakit_trace_session *s);
	int (*poll)(struct dmakit_trace_session *s, int timeout_ms);
	int (*stop)(struct dmakit_trace_session *s);
	int (*read_loss)(struct dmakit_trace_session *s);
	void (*stats)(const struct dmakit_trace_session *s,
		      struct dmakit_trace_stats *st);
	/* NULL: no histogram in the kernel */
	int (*kernel_hist)(const struct dmakit_trace_session *s,
			   uint64_t *counts);
};

/* feed.c: events in time order to the pairer (backends pairing in user space) */
int trace_feed_open(struct dmakit_trace_session *s);
int trace_feed(struct dmakit_trace_session *s, const struct pending *p);
int trace_feed_counts_begin(struct dmakit_trace_session *s);
int trace_feed_counts_end(struct dmakit_trace_session *s);

extern const struct dmakit_trace_backend dmakit_trace_tracefs_backend;
extern const struct dmakit_trace_backend dmakit_trace_bpf_backend;

#endif /* DMAKIT_TRACE_SESSION_H */
