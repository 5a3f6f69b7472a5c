/* SPDX-License-Identifier: MIT */
/*
 * What the BPF backend's program (trace.bpf.c) and its loader (bpf.c)
 * share: the per-event configuration the loader writes, the records the
 * program hands back.  Plain fixed-size types, the same layout on both
 * sides (the program includes vmlinux.h, the loader linux/types.h).
 */
#ifndef DMAKIT_TRACE_BPF_H
#define DMAKIT_TRACE_BPF_H

#define DTB_MAX_TYPES	32		/* attached events (cookie = index) */
#define DTB_MAX_SITES	8		/* SPECs per side */
#define DTB_FIFO	4		/* open calls per thread kept in order */
#define DTB_HIST_SLOTS	64		/* log2 of the latency in ns */
#define DTB_STR_MAX	64		/* string fields hashed up to this */
#define DTB_REC_MAX	256		/* a tracepoint record copied for a filter */
#define DTB_MAX_VECS	64		/* interrupt vectors of an irq SPEC */
/* the record bytes copied: 32 << (class - 1), class 1..4 */
#define DTB_REC_CLASS(c)	(32u << ((c) - 1))

/*
 * Registers a probe copies, by index: x86-64 ax bx cx dx si di bp sp ip
 * r8..r15; arm64 x0..x7.
 */
#define DTB_NREGS	17

/* Where a value comes from. */
enum dtb_src {
	DTB_SRC_NONE,
	DTB_SRC_FIELD,		/* a tracepoint field at @offset */
	DTB_SRC_STR,		/* a char array field: hashed */
	DTB_SRC_DYNSTR,		/* a __data_loc string field: hashed */
	DTB_SRC_REG,		/* register @reg (a call's argument, USDT) */
	DTB_SRC_RETVAL,		/* the return value */
	DTB_SRC_UMEM,		/* user memory at register @reg + @disp (USDT) */
	DTB_SRC_CONST,		/* @value (a USDT argument that is a constant) */
};

struct dtb_field {
	__u8 src;
	__u8 size;		/* 1, 2, 4, 8 (FIELD, REG, RETVAL, UMEM) */
	__u8 is_signed;
	__u8 reg;
	__u16 offset;
	__u16 pad;
	__s32 disp;
	__u32 pad2;
	__s64 value;
};

/* One attached event. */
struct dtb_type {
	__u8 role;		/* 0 start, 1 end */
	__u8 site;
	__u8 user;		/* uprobe: subject to the pid filter */
	__u8 chan_tid;		/* channel = thread id */
	__u8 copy_rec;		/* stream: the record goes along (a filter's):
				 * 0 no, else DTB_REC_CLASS(copy_rec) bytes */
	__u8 pad[3];
	struct dtb_field id, bytes, status, chan, chan2, irq;
};

/* An open start (flags: DMAKIT_TRACE_F_* of include/dmakit/trace.h). */
struct dtb_start {
	__u64 ts;
	__u64 id;
	__u64 bytes;
	__s64 status;
	__u32 cpu;
	__s32 tid;
	__u32 flags;
	__u32 site;
};

/* Pairing by id: open starts by (channel, id). */
struct dtb_id_key {
	__u64 chan;
	__u64 id;
};

/*
 * Pairing first-in first-out per thread: the thread's open calls.  Only
 * the thread itself changes it (its events run in it), so no lock.
 * resync/hole_end: a start timed out (its end is lost), so which start
 * an end belongs to is unknown until the thread's next start.
 */
struct dtb_fifo {
	struct dtb_start s[DTB_FIFO];
	__u32 head;
	__u32 len;
	__u32 resync;
	__u32 pad;
	__u64 hole_end;
};

/* A completed transaction, through the ring buffer. */
struct dtb_xact {
	__u64 start_ns;
	__u64 end_ns;
	__u64 chan;
	__u64 id;
	__u64 bytes;
	__s64 status;
	__s32 start_cpu, end_cpu;
	__s32 start_tid, end_tid;
	__u32 flags;
	__u16 start_site, end_site;
};

/*
 * Streaming (a shape the kernel does not pair: interrupt batches, FIFO
 * across threads, tracepoint filters): every event through the ring
 * buffer, paired in user space by pair.c.  @lost: events of this CPU the
 * ring had no room for since its previous event, the first at @lost_from.
 */
struct dtb_event {
	__u64 ts;
	__u64 id;
	__u64 bytes;
	__u64 chan;
	__s64 status;
	__u64 lost;
	__u64 lost_from;
	__u32 cpu;
	__s32 tid;
	__u32 flags;
	__s32 vector;		/* the irq field; -1 if none */
	__u32 type;		/* index in types[] */
	__u32 rec_len;		/* bytes of rec[]; 0: not copied */
	__u8 rec[];		/* the tracepoint's record, its first rec_len bytes */
};

/*
 * Per CPU, streaming: events lost since the CPU's last one delivered; one
 * for the interrupt program (it may run inside another), one for the rest.
 */
struct dtb_loss {
	__u64 count;
	__u64 from;
};

/* Per-CPU counters. */
enum dtb_counter {
	DTB_C_STARTS,		/* user space sums the sites' counts */
	DTB_C_ENDS,
	DTB_C_XACTS,		/* made in the kernel (delivered or lost) */
	DTB_C_RB_LOST,		/* ring buffer full: transactions (streaming:
				 * events) lost */
	DTB_C_MAP_FULL,		/* no room for an open start: starts lost */
	DTB_C_ORPHANS,
	DTB_C_UNMATCHED,
	DTB_C_DISCARDED_STARTS,
	DTB_C_DISCARDED_ENDS,
	DTB_C_PID_FILTERED,
	DTB_C_NESTED,		/* a start while its thread had a call open */
	DTB_C_SITE0,		/* + role * DTB_MAX_SITES + site: events */
	DTB_NCOUNTERS = DTB_C_SITE0 + 2 * DTB_MAX_SITES,
};

#endif /* DMAKIT_TRACE_BPF_H */
