// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * dmakit trace's BPF backend, the kernel half: starts kept in a hash,
 * ends paired with them where they happen, completed transactions to
 * user space through a ring buffer (a full buffer is counted, never
 * silent), log2 latency histograms in a per-CPU map.
 *
 * One program per attach kind (uprobe/uretprobe, tracepoint); each attach
 * carries a cookie, the index of its event in types[], which says the
 * event's side, site and where its id, bytes, status and channel are.
 * The pairing is the one lib/trace/pair.c does for the same modes:
 *   by id     (channel, id) -> start;
 *   fifo      per thread: the thread's open calls in order (one writer,
 *             the thread itself, so no lock); a start still open after
 *             the timeout is unmatched, and until the thread's next start
 *             its ends cannot be trusted to belong to the starts left.
 * Needs bpf_get_attach_cookie (Linux 5.15+).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "trace_bpf.h"

#define F_ID	 0x1		/* DMAKIT_TRACE_F_* */
#define F_BYTES	 0x2
#define F_STATUS 0x4

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile struct dtb_type types[DTB_MAX_TYPES] = {};
const volatile __u32 ntypes = 0;
const volatile __u32 by_id = 0;		/* else fifo per thread */
const volatile __u32 stream = 0;	/* every event to user space, unpaired */
/* the irq SPEC's event (dtb_irq), and its vectors (none: every one) */
const volatile __u32 irq_type = 0;
const volatile __u32 nvecs = 0;
const volatile __s32 vecs[DTB_MAX_VECS] = {};
const volatile __u32 tgid_filter = 0;	/* 0: every process */
const volatile __u64 timeout_ns = 1000000000ULL;
/* set by user space when the session starts, cleared when it stops */
volatile __u32 enabled;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct dtb_id_key);
	__type(value, struct dtb_start);
} open_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct dtb_fifo);
} open_fifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} xacts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DTB_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* log2 latency histogram per start site: [site * DTB_HIST_SLOTS + slot] */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DTB_MAX_SITES * DTB_HIST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

/* streaming: what each CPU could not hand over since its last event */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);		/* [1]: dtb_irq's */
	__type(key, __u32);
	__type(value, struct dtb_loss);
} stream_loss SEC(".maps");

/* a fresh fifo, copied into the hash (too big for the stack twice) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dtb_fifo);
} fifo_zero SEC(".maps");

static __always_inline void count_n(__u32 c, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &c);

	/* atomic: dtb_irq may run inside another program on this CPU */
	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline void count(__u32 c)
{
	count_n(c, 1);
}

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

/* --- reading values --- */

static __always_inline __u64 sign_extend(__u64 v, __u8 size, __u8 is_signed)
{
	switch (size) {
	case 1: return is_signed ? (__u64)(__s64)(__s8)v : (__u8)v;
	case 2: return is_signed ? (__u64)(__s64)(__s16)v : (__u16)v;
	case 4: return is_signed ? (__u64)(__s64)(__s32)v : (__u32)v;
	default: return v;
	}
}

/*
 * A probe's registers (DTB_NREGS, in trace_bpf.h's order) and return
 * value, copied with constant offsets: the verifier refuses a variable
 * offset into pt_regs.
 */
struct regs_copy {
	__u64 r[32];		/* DTB_NREGS used; a power of two to mask by */
	__u64 ret;
};

/* where a probe's registers are copied (too big for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct regs_copy);
} regs_scratch SEC(".maps");

static __always_inline void copy_regs(struct pt_regs *regs,
				      struct regs_copy *c)
{
#if defined(__TARGET_ARCH_arm64)
	c->r[0] = regs->regs[0];
	c->r[1] = regs->regs[1];
	c->r[2] = regs->regs[2];
	c->r[3] = regs->regs[3];
	c->r[4] = regs->regs[4];
	c->r[5] = regs->regs[5];
	c->r[6] = regs->regs[6];
	c->r[7] = regs->regs[7];
#else
	c->r[0] = regs->ax;
	c->r[1] = regs->bx;
	c->r[2] = regs->cx;
	c->r[3] = regs->dx;
	c->r[4] = regs->si;
	c->r[5] = regs->di;
	c->r[6] = regs->bp;
	c->r[7] = regs->sp;
	c->r[8] = regs->ip;
	c->r[9] = regs->r8;
	c->r[10] = regs->r9;
	c->r[11] = regs->r10;
	c->r[12] = regs->r11;
	c->r[13] = regs->r12;
	c->r[14] = regs->r13;
	c->r[15] = regs->r14;
	c->r[16] = regs->r15;
#endif
	c->ret = PT_REGS_RC(regs);
}

/* FNV-1a, as lib/trace/session.c hashes string fields */
static __always_inline __u64 str_hash(const char *p, __u32 len)
{
	char buf[DTB_STR_MAX];
	__u64 h = 0xcbf29ce484222325ULL;
	__u32 i;

	if (len > DTB_STR_MAX)
		len = DTB_STR_MAX;
	__builtin_memset(buf, 0, sizeof(buf));
	if (bpf_probe_read_kernel(buf, len & (DTB_STR_MAX - 1) ? len & (DTB_STR_MAX - 1) : DTB_STR_MAX, p))
		return h;
	for (i = 0; i < DTB_STR_MAX; i++) {
		if (i >= len || !buf[i])
			break;
		h = (h ^ (__u8)buf[i]) * 0x100000001b3ULL;
	}
	return h;
}

/* @rec: the tracepoint's record (NULL for probes), @regs: pt_regs */
static __always_inline bool read_value(const volatile struct dtb_field *f,
				       void *rec, const struct regs_copy *regs,
				       __u64 *out)
{
	__u64 v = 0;
	__u8 src = f->src, size = f->size;
	__u16 off = f->offset;
	__u32 reg = f->reg & 31;	/* bounded for the verifier */

	switch (src) {
	case DTB_SRC_FIELD:
		if (!rec)
			return false;
		switch (size) {
		case 1: { __u8 x; if (bpf_probe_read_kernel(&x, 1, rec + off)) return false; v = x; break; }
		case 2: { __u16 x; if (bpf_probe_read_kernel(&x, 2, rec + off)) return false; v = x; break; }
		case 4: { __u32 x; if (bpf_probe_read_kernel(&x, 4, rec + off)) return false; v = x; break; }
		default: { __u64 x; if (bpf_probe_read_kernel(&x, 8, rec + off)) return false; v = x; break; }
		}
		*out = sign_extend(v, size, f->is_signed);
		return true;
	case DTB_SRC_STR:
		if (!rec)
			return false;
		*out = str_hash(rec + off, size);
		return true;
	case DTB_SRC_DYNSTR: {
		__u32 loc;

		if (!rec || bpf_probe_read_kernel(&loc, 4, rec + off))
			return false;
		*out = str_hash(rec + (loc & 0xffff), loc >> 16);
		return true;
	}
	case DTB_SRC_REG:
		if (!regs)
			return false;
		*out = sign_extend(regs->r[reg], size, f->is_signed);
		return true;
	case DTB_SRC_RETVAL:
		if (!regs)
			return false;
		*out = sign_extend(regs->ret, size, f->is_signed);
		return true;
	case DTB_SRC_UMEM: {
		void *addr;

		if (!regs)
			return false;
		addr = (void *)(regs->r[reg] + (__s64)f->disp);
		switch (size) {
		case 1: { __u8 x; if (bpf_probe_read_user(&x, 1, addr)) return false; v = x; break; }
		case 2: { __u16 x; if (bpf_probe_read_user(&x, 2, addr)) return false; v = x; break; }
		case 4: { __u32 x; if (bpf_probe_read_user(&x, 4, addr)) return false; v = x; break; }
		default: { __u64 x; if (bpf_probe_read_user(&x, 8, addr)) return false; v = x; break; }
		}
		*out = sign_extend(v, size, f->is_signed);
		return true;
	}
	case DTB_SRC_CONST:
		*out = (__u64)f->value;
		return true;
	default:
		return false;
	}
}

/* --- pairing --- */

static __always_inline void emit(const struct dtb_start *s, __u64 now,
				 __u32 cpu, __s32 tid, __u64 chan,
				 __u64 id, __u32 flags, __s64 status,
				 __u64 bytes, __u32 end_site)
{
	__u64 lat = now - s->ts;
	__u32 slot = (s->site & (DTB_MAX_SITES - 1)) * DTB_HIST_SLOTS +
		     log2_slot(lat);
	struct dtb_xact *x;
	__u64 *h;

	count(DTB_C_XACTS);
	h = bpf_map_lookup_elem(&hist, &slot);
	if (h)
		*h += 1;
	x = bpf_ringbuf_reserve(&xacts, sizeof(*x), 0);
	if (!x) {
		count(DTB_C_RB_LOST);
		return;
	}
	x->start_ns = s->ts;
	x->end_ns = now;
	x->chan = chan;
	x->id = (s->flags & F_ID) ? s->id : id;
	x->flags = (s->flags & (F_ID | F_BYTES)) | (flags & (F_ID | F_STATUS));
	x->bytes = (s->flags & F_BYTES) ? s->bytes : bytes;
	if (!(s->flags & F_BYTES) && (flags & F_BYTES))
		x->flags |= F_BYTES;
	x->status = status;
	x->start_cpu = (__s32)s->cpu;
	x->end_cpu = (__s32)cpu;
	x->start_tid = s->tid;
	x->end_tid = tid;
	x->start_site = (__u16)s->site;
	x->end_site = (__u16)end_site;
	/* user space polls: no wakeup per transaction */
	bpf_ringbuf_submit(x, BPF_RB_NO_WAKEUP);
}

static __always_inline void pair_by_id(struct dtb_start *ev, bool is_end,
				       __u64 chan, __u32 end_site)
{
	struct dtb_id_key key = { .chan = chan, .id = ev->id };
	struct dtb_start *s;

	if (!(ev->flags & F_ID)) {
		count(is_end ? DTB_C_ORPHANS : DTB_C_UNMATCHED);
		return;
	}
	s = bpf_map_lookup_elem(&open_ids, &key);
	if (!is_end) {
		if (s)		/* the id was reused: the old one never ended */
			count(DTB_C_UNMATCHED);
		if (bpf_map_update_elem(&open_ids, &key, ev, BPF_ANY))
			count(DTB_C_MAP_FULL);
		return;
	}
	if (!s) {
		count(DTB_C_ORPHANS);
		return;
	}
	{
		struct dtb_start st = *s;

		bpf_map_delete_elem(&open_ids, &key);
		if (st.ts + timeout_ns <= ev->ts) {
			/* timed out before its end came: as pair.c counts it */
			count(DTB_C_UNMATCHED);
			count(DTB_C_ORPHANS);
			return;
		}
		emit(&st, ev->ts, ev->cpu, ev->tid, chan, ev->id, ev->flags,
		     ev->status, ev->bytes, end_site);
	}
}

/* starts of @f older than the timeout are unmatched; their ends lost */
static __always_inline void fifo_expire(struct dtb_fifo *f, __u64 now)
{
	int i;

	for (i = 0; i < DTB_FIFO; i++) {
		struct dtb_start *s;

		if (!f->len)
			break;
		s = &f->s[f->head & (DTB_FIFO - 1)];
		if (s->ts + timeout_ns > now)
			break;
		count(f->resync ? DTB_C_DISCARDED_STARTS : DTB_C_UNMATCHED);
		f->head++;
		f->len--;
		f->resync = 1;
		if (s->ts + timeout_ns > f->hole_end)
			f->hole_end = s->ts + timeout_ns;
	}
}

static __always_inline void pair_fifo(struct dtb_start *ev, bool is_end,
				      __u64 chan, __u32 end_site)
{
	struct dtb_fifo *f = bpf_map_lookup_elem(&open_fifo, &chan);
	struct dtb_start *s;

	if (!is_end) {
		if (!f) {
			__u32 zero = 0;
			struct dtb_fifo *z = bpf_map_lookup_elem(&fifo_zero, &zero);

			if (!z || bpf_map_update_elem(&open_fifo, &chan, z,
						      BPF_NOEXIST)) {
				count(DTB_C_MAP_FULL);
				return;
			}
			f = bpf_map_lookup_elem(&open_fifo, &chan);
			if (!f) {
				count(DTB_C_MAP_FULL);
				return;
			}
		}
		fifo_expire(f, ev->ts);
		/* a thread's new call: every earlier one has ended */
		if (f->resync && ev->ts > f->hole_end) {
			count_n(DTB_C_DISCARDED_STARTS, f->len);
			f->len = 0;
			f->resync = 0;
		}
		if (f->len && !f->resync)
			count(DTB_C_NESTED);
		if (f->len >= DTB_FIFO) {	/* deeper than kept: oldest lost */
			count(DTB_C_MAP_FULL);
			f->head++;
			f->len--;
		}
		f->s[(f->head + f->len) & (DTB_FIFO - 1)] = *ev;
		f->len++;
		return;
	}
	if (f)
		fifo_expire(f, ev->ts);
	if (!f || !f->len) {
		count(f && f->resync ? DTB_C_DISCARDED_ENDS : DTB_C_ORPHANS);
		return;
	}
	s = &f->s[f->head & (DTB_FIFO - 1)];
	f->head++;
	f->len--;
	if (f->resync) {
		count(DTB_C_DISCARDED_STARTS);
		count(DTB_C_DISCARDED_ENDS);
		return;
	}
	emit(s, ev->ts, ev->cpu, ev->tid, chan, ev->id, ev->flags, ev->status,
	     ev->bytes, end_site);
}

/* --- streaming: user space pairs --- */

static __always_inline void stream_event(const volatile struct dtb_type *t,
					 __u32 type, void *rec,
					 const struct regs_copy *regs,
					 const struct dtb_start *ev, __u64 chan,
					 __s32 vector, __u32 loss_slot)
{
	struct dtb_loss *loss = bpf_map_lookup_elem(&stream_loss, &loss_slot);
	struct dtb_event *e;
	__u64 v;

	if (!loss)
		return;
	/* constant sizes for the verifier: the record's class */
#define RESERVE_COPY(n)							\
	do {								\
		e = bpf_ringbuf_reserve(&xacts, sizeof(*e) + (n), 0);	\
		if (e)							\
			e->rec_len = bpf_probe_read_kernel(e->rec, (n), rec) ? \
				     0 : (n);				\
	} while (0)
	if (rec && t->copy_rec == 1)
		RESERVE_COPY(DTB_REC_CLASS(1));
	else if (rec && t->copy_rec == 2)
		RESERVE_COPY(DTB_REC_CLASS(2));
	else if (rec && t->copy_rec == 3)
		RESERVE_COPY(DTB_REC_CLASS(3));
	else if (rec && t->copy_rec == 4)
		RESERVE_COPY(DTB_REC_CLASS(4));
	else {
		e = bpf_ringbuf_reserve(&xacts, sizeof(*e), 0);
		if (e)
			e->rec_len = 0;
	}
#undef RESERVE_COPY
	if (!e) {
		count(DTB_C_RB_LOST);
		if (!loss->count)
			loss->from = ev->ts;
		loss->count++;
		return;
	}
	e->ts = ev->ts;
	e->id = ev->id;
	e->bytes = ev->bytes;
	e->chan = chan;
	e->status = ev->status;
	e->lost = loss->count;
	e->lost_from = loss->from;
	loss->count = 0;
	e->cpu = ev->cpu;
	e->tid = ev->tid;
	e->flags = ev->flags;
	e->vector = vector >= 0 ? vector :
		    read_value(&t->irq, rec, regs, &v) ? (__s32)v : -1;
	e->type = type;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/*
 * An event of types[@idx]: @rec its tracepoint record (NULL for probes
 * and the interrupt program), @regs a probe's registers, @vector the
 * interrupt's (-1: none or in @rec).
 */
static __always_inline int handle_type(__u32 idx, void *rec,
				       const struct regs_copy *regs,
				       __s32 vector, __u32 loss_slot)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	const volatile struct dtb_type *t;
	struct dtb_start ev = {};
	__u64 v, v2, chan = 0;

	if (!enabled || idx >= ntypes)
		return 0;
	t = &types[idx & (DTB_MAX_TYPES - 1)];	/* bounded for the verifier */
	if (t->user && tgid_filter && (pid_tgid >> 32) != tgid_filter) {
		count(DTB_C_PID_FILTERED);
		return 0;
	}
	ev.ts = bpf_ktime_get_ns();	/* CLOCK_MONOTONIC, as trace_clock mono */
	ev.cpu = bpf_get_smp_processor_id();
	ev.tid = (__s32)(__u32)pid_tgid;
	ev.site = t->site;
	count(DTB_C_SITE0 + (t->role ? DTB_MAX_SITES : 0) +
	      (t->site & (DTB_MAX_SITES - 1)));
	if (read_value(&t->id, rec, regs, &v)) {
		ev.id = v;
		ev.flags |= F_ID;
	}
	if (read_value(&t->bytes, rec, regs, &v)) {
		ev.bytes = v;
		ev.flags |= F_BYTES;
	}
	if (read_value(&t->status, rec, regs, &v)) {
		ev.status = (__s64)v;
		ev.flags |= F_STATUS;
	}
	if (t->chan_tid)
		chan = (__u32)pid_tgid;
	else if (read_value(&t->chan, rec, regs, &v))
		chan = read_value(&t->chan2, rec, regs, &v2) ?
		       v ^ (v2 * 0x9e3779b97f4a7c15ULL) : v;
	if (stream)
		stream_event(t, idx & (DTB_MAX_TYPES - 1), rec, regs, &ev, chan,
			     vector, loss_slot);
	else if (by_id)
		pair_by_id(&ev, t->role, chan, t->site);
	else
		pair_fifo(&ev, t->role, chan, t->site);
	return 0;
}

static __always_inline int handle(void *ctx, void *rec,
				  const struct regs_copy *regs)
{
	return handle_type((__u32)bpf_get_attach_cookie(ctx), rec, regs, -1, 0);
}

SEC("uprobe")
int dtb_probe(struct pt_regs *regs)
{
	__u32 zero = 0;
	struct regs_copy *r = bpf_map_lookup_elem(&regs_scratch, &zero);

	if (!r)
		return 0;
	copy_regs(regs, r);
	return handle(regs, NULL, r);
}

SEC("tracepoint")
int dtb_tracepoint(void *rec)
{
	return handle(rec, rec, NULL);
}

/*
 * irq_handler_entry as a raw tracepoint: a tracepoint program is not run
 * for an interrupt that comes while another one runs on the CPU (one
 * per-CPU guard for all), a raw tracepoint program only not inside
 * itself.  No cookie (Linux 6.10+ only): its event is irq_type; the
 * vectors are compared here (args[0]), there is no record to filter.
 */
SEC("raw_tp")
int dtb_irq(struct bpf_raw_tracepoint_args *ctx)
{
	__s32 irq = (__s32)ctx->args[0];
	__u32 i;

	if (nvecs) {
		for (i = 0; i < DTB_MAX_VECS; i++) {
			if (i >= nvecs)
				return 0;
			if (vecs[i] == irq)
				break;
		}
		if (i == DTB_MAX_VECS)
			return 0;
	}
	return handle_type(irq_type, NULL, NULL, irq, 1);
}
