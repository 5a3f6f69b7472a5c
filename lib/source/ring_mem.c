// SPDX-License-Identifier: MIT
/*
 * A ring produced by a userspace thread (the sim's generator, chardev's
 * reads), once for every such backend: the mapping, the consumers' wakeups
 * and the BLOCK producer's sleep.
 *
 * The ring lives in memfd (shmem) pages, ordinary struct-page backed
 * memory: consumers hand them straight to O_DIRECT, io_uring (also as
 * registered buffers) and MSG_ZEROCOPY, and a driver whose read() DMAs
 * into user pages can fill them, exactly like the driver's own ring.
 *
 * A named ring is shared between processes through /dev/shm
 * (lib/source/sim_shared.c): the first opener produces, later openers map
 * the same file and only attach consumers, woken through per-slot FIFOs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "ring_mem.h"

/* How often a shared ring's owner looks for consumers of dead processes. */
#define RECLAIM_NS 500000000ULL
/* How often an attached consumer checks that the owner is alive, ms. */
#define OWNER_CHECK_MS 500

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* Consume pending wakeups of an eventfd or a wake FIFO. */
static void drain_fd(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

void ring_mem_init(struct ring_mem *rm, const char *name)
{
	int i;

	memset(rm, 0, sizeof(*rm));
	snprintf(rm->name, sizeof(rm->name), "%s", name ? name : "");
	rm->fd = -1;
	rm->pid = getpid();
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		rm->event_fd[i] = -1;
		rm->remote_fd[i] = -1;
	}
}

static void unmap_ring(struct ring_mem *rm)
{
	if (rm->map)
		munmap(rm->map, rm->map_size);
	if (rm->fd >= 0)
		close(rm->fd);
	rm->map = NULL;
	rm->fd = -1;
}

/* Create, map and initialise a new ring (private memfd or shared file). */
/* The largest userspace ring (descriptors and data). */
#define RING_MEM_MAX_BYTES (16ULL << 30)

/* A "Key:   123 kB" line of /proc/meminfo in bytes; 0 if absent. */
static uint64_t meminfo_bytes(const char *key)
{
	unsigned long long kb = 0, v;
	char line[128], name[64];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %llu", name, &v) == 2 &&
		    !strcmp(name, key)) {
			kb = v;
			break;
		}
	fclose(f);
	return kb * 1024;
}

/*
 * One number from our memory cgroup: cgroup v2 (@v2_file under the "0::"
 * path) or v1 (@v1_file under the "memory" hierarchy's path); UINT64_MAX
 * if there is none or it says "max".
 */
static uint64_t cgroup_value(const char *v2_file, const char *v1_file)
{
	char path[640], line[256], v1[256] = "", v2[256] = "";
	unsigned long long v;
	uint64_t out = UINT64_MAX;
	FILE *f = fopen("/proc/self/cgroup", "re");
	char *p;

	if (!f)
		return out;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "0::", 3))
			snprintf(v2, sizeof(v2), "%s", line + 3);
		else if ((p = strstr(line, ":memory:")))
			snprintf(v1, sizeof(v1), "%s", p + 8);
	}
	fclose(f);
	if (v1[0])
		snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s/%s",
			 strcmp(v1, "/") ? v1 : "", v1_file);
	else if (v2[0])
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/%s",
			 strcmp(v2, "/") ? v2 : "", v2_file);
	else
		return out;
	f = fopen(path, "re");
	if (!f)
		return out;
	if (fscanf(f, "%llu", &v) == 1)
		out = v;
	fclose(f);
	return out;
}

/*
 * The ring is populated up front: it must fit in the memory this process
 * may use without pushing the machine into swap or the OOM killer (a
 * 65536 x 64M ring is 4 TiB).  Allowed: the hard cap, and 3/4 of what is
 * available (MemAvailable, and the room left under our cgroup's limit);
 * a shared ring must also fit in /dev/shm.
 */
static int check_ring_memory(struct ring_mem *rm,
			     const struct ring_mem_geo *geo, const char *who,
			     char *err, size_t errlen)
{
	uint64_t avail = meminfo_bytes("MemAvailable");
	uint64_t limit = cgroup_value("memory.max", "memory.limit_in_bytes");
	uint64_t used = cgroup_value("memory.current", "memory.usage_in_bytes");
	struct statvfs vfs;

	if (rm->map_size > RING_MEM_MAX_BYTES)
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s: a ring of %u x %u bytes (%zu MiB) is over the simulated card's limit of %llu MiB",
				   who, geo->nbufs, geo->bufsize,
				   (rm->map_size + (1 << 20) - 1) >> 20,
				   RING_MEM_MAX_BYTES >> 20);
	if (limit != UINT64_MAX && used != UINT64_MAX) {
		uint64_t room = limit > used ? limit - used : 0;

		if (!avail || room < avail)
			avail = room;
	}
	if (avail && rm->map_size > avail / 4 * 3)
		return dmakit_errf(err, errlen, -ENOMEM,
				   "%s: a ring of %u x %u bytes (%zu MiB) needs more memory than is available (%llu MiB, of which the ring may take 3/4): use fewer or smaller buffers",
				   who, geo->nbufs, geo->bufsize,
				   (rm->map_size + (1 << 20) - 1) >> 20,
				   (unsigned long long)(avail >> 20));
	if (rm->name[0] && !fstatvfs(rm->fd, &vfs) &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < rm->map_size)
		return dmakit_errf(err, errlen, -ENOSPC,
				   "%s: a ring of %zu MiB does not fit in /dev/shm (%llu MiB free)",
				   who, rm->map_size >> 20,
				   (unsigned long long)((uint64_t)vfs.f_bavail *
							vfs.f_frsize >> 20));
	return 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23		/* Linux 5.14 */
#endif
/* populate in steps this large, checking for a stop request between */
#define POPULATE_STEP (64ULL << 20)

/*
 * Populate the whole mapping now (the producer must not page-fault in its
 * hot loop), a step at a time so that a stop request ends it: an 8 GiB
 * ring takes seconds.  Kernels before 5.14 get the pages touched.
 */
static int populate(void *map, size_t len, volatile sig_atomic_t *stop)
{
	size_t off, step, i;

	for (off = 0; off < len; off += step) {
		step = len - off < POPULATE_STEP ? len - off : POPULATE_STEP;
		if (stop && *stop)
			return -EINTR;
		if (!madvise((char *)map + off, step, MADV_POPULATE_WRITE))
			continue;
		if (errno == EINTR)
			return -EINTR;
		if (errno != EINVAL)
			return -errno;
		/* shmem pages read as zero: writing zero keeps them so */
		for (i = 0; i < step; i += 4096)
			((volatile char *)map)[off + i] = 0;
	}
	return 0;
}

static int create_ring(struct ring_mem *rm, const struct ring_mem_geo *geo,
		       const char *who, char *err, size_t errlen)
{
	struct dmakit_ring_ctrl *ctrl;
	int ret;

	rm->map_size = dmakit_ring_map_size(geo->nbufs, geo->bufsize);
	rm->fd = rm->name[0] ? sim_shared_create_fd() :
		 memfd_create("dmakit-ring", MFD_CLOEXEC);
	if (rm->fd < 0) {
		ret = rm->name[0] ? rm->fd : -errno;
		return dmakit_errf(err, errlen, ret,
				   "%s: cannot create the ring: %s", who,
				   dmakit_strerror(ret));
	}
	ret = check_ring_memory(rm, geo, who, err, errlen);
	if (ret)
		return ret;
	if (ftruncate(rm->fd, (off_t)rm->map_size))
		return dmakit_errf(err, errlen, -errno,
				   "%s: cannot size a %zu-byte ring: %s", who,
				   rm->map_size, strerror(errno));
	rm->map = mmap(NULL, rm->map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       rm->fd, 0);
	if (rm->map == MAP_FAILED) {
		rm->map = NULL;
		return dmakit_errf(err, errlen, -errno,
				   "%s: cannot map a %zu-byte ring: %s", who,
				   rm->map_size, strerror(errno));
	}
	ret = populate(rm->map, rm->map_size, geo->stop);
	if (ret == -EINTR)
		return dmakit_errf(err, errlen, ret,
				   "%s: stopped while preparing the %zu MiB ring: the stream never started",
				   who, rm->map_size >> 20);
	if (ret)
		return dmakit_errf(err, errlen, ret,
				   "%s: cannot populate a %zu-byte ring: %s", who,
				   rm->map_size, dmakit_strerror(ret));
	ctrl = rm->map;
	ctrl->magic = DMAKIT_RING_MAGIC;
	ctrl->version = DMAKIT_RING_VERSION;
	ctrl->ctrl_size = DMAKIT_RING_CTRL_SIZE;
	ctrl->nbufs = geo->nbufs;
	ctrl->bufsize = geo->bufsize;
	ctrl->desc_offset = DMAKIT_RING_CTRL_SIZE;
	ctrl->data_offset = DMAKIT_RING_CTRL_SIZE +
			    dmakit_ring_desc_bytes(geo->nbufs);
	ctrl->map_size = rm->map_size;
	ctrl->policy = geo->policy;
	ctrl->payload = geo->payload;
	ctrl->dev_clock_hz = geo->dev_clock_hz;
	ctrl->state = DMAKIT_STATE_IDLE;
	rm->nbufs = geo->nbufs;
	return 0;
}

/* Map the ring a live owner published under rm->name, open as @fd. */
static int attach_shared(struct ring_mem *rm, struct ring_mem_geo *geo, int fd,
			 const char *who, char *err, size_t errlen)
{
	struct dmakit_ring_ctrl *c;
	struct stat st;

	rm->fd = fd;
	if (fstat(fd, &st) < 0)
		return dmakit_errf(err, errlen, -errno, "%s: %s", who,
				   strerror(errno));
	if ((uint64_t)st.st_size < DMAKIT_RING_CTRL_SIZE)
		goto bad;
	rm->map_size = (size_t)st.st_size;
	rm->map = mmap(NULL, rm->map_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, 0);
	if (rm->map == MAP_FAILED) {
		rm->map = NULL;
		return dmakit_errf(err, errlen, -errno,
				   "%s: cannot map the ring: %s", who,
				   strerror(errno));
	}
	c = rm->map;
	if (c->magic != DMAKIT_RING_MAGIC || c->version != DMAKIT_RING_VERSION ||
	    c->ctrl_size != DMAKIT_RING_CTRL_SIZE ||
	    dmakit_ring_check_geometry(c->nbufs, c->bufsize) ||
	    c->map_size != rm->map_size ||
	    c->map_size != dmakit_ring_map_size(c->nbufs, c->bufsize) ||
	    c->desc_offset != DMAKIT_RING_CTRL_SIZE ||
	    c->data_offset != DMAKIT_RING_CTRL_SIZE +
			      dmakit_ring_desc_bytes(c->nbufs))
		goto bad;
	if (geo->geometry_given && (c->bufsize != geo->bufsize ||
				    c->nbufs != geo->nbufs ||
				    c->policy != geo->policy))
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s is running with bufsize=%u nbufs=%u policy=%s: give matching options or only the name",
				   who, c->bufsize, c->nbufs,
				   c->policy == DMAKIT_POLICY_BLOCK ? "block" : "drop");
	rm->attached = true;
	rm->nbufs = c->nbufs;
	geo->nbufs = c->nbufs;
	geo->bufsize = c->bufsize;
	geo->policy = c->policy;
	geo->payload = c->payload;
	geo->dev_clock_hz = c->dev_clock_hz;
	return 0;
bad:
	return dmakit_errf(err, errlen, -EINVAL,
			   "%s: /dev/shm holds no dmakit ring of this version under that name",
			   who);
}

/*
 * Open a named ring: attach to a live owner's, or create and publish a
 * new one (retrying if another process publishes first).
 */
static int open_shared(struct ring_mem *rm, struct ring_mem_geo *geo,
		       const char *who, char *err, size_t errlen)
{
	int tries, ret, fd;

	for (tries = 0; tries < 4; tries++) {
		ret = sim_shared_open_existing(rm->name, &fd);
		if (ret < 0)
			return dmakit_errf(err, errlen, ret, "%s: %s", who,
					   dmakit_strerror(ret));
		if (ret == 1)
			return attach_shared(rm, geo, fd, who, err, errlen);
		if (ret == 2)
			geo->removed_stale = true;
		if (geo->attach_only)
			return dmakit_errf(err, errlen, -ENOENT,
					   "%s: no producer of that name is running",
					   who);
		ret = create_ring(rm, geo, who, err, errlen);
		if (ret)
			return ret;
		ret = sim_shared_publish(rm->fd, rm->name);
		if (ret == 0) {
			rm->published = true;
			return 0;
		}
		unmap_ring(rm);
		if (ret != -EEXIST)
			return dmakit_errf(err, errlen, ret,
					   "%s: cannot publish the ring: %s",
					   who, dmakit_strerror(ret));
	}
	return dmakit_errf(err, errlen, -EBUSY,
			   "%s: other processes keep replacing it", who);
}

int ring_mem_open(struct ring_mem *rm, struct ring_mem_geo *geo,
		  const char *who, char *err, size_t errlen)
{
	int ret;

	if (dmakit_ring_check_geometry(geo->nbufs, geo->bufsize))
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s: bufsize must be a multiple of 4K in 4K..64M and nbufs in 2..65536 (got bufsize=%u nbufs=%u)",
				   who, geo->bufsize, geo->nbufs);
	ret = rm->name[0] ? open_shared(rm, geo, who, err, errlen) :
			    create_ring(rm, geo, who, err, errlen);
	if (ret) {
		ring_mem_destroy(rm);
		return ret;
	}
	rm->refill_batch = rm->nbufs / 8 < 32 ? rm->nbufs / 8 : 32;
	if (!rm->refill_batch)
		rm->refill_batch = 1;
	return 0;
}

void ring_mem_destroy(struct ring_mem *rm)
{
	int i;

	/* the producer has stopped and woken everyone: retire the name */
	if (rm->published)
		sim_shared_unlink(rm->name);
	rm->published = false;
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		if (rm->event_fd[i] >= 0)
			close(rm->event_fd[i]);
		if (rm->remote_fd[i] >= 0)
			close(rm->remote_fd[i]);
		rm->event_fd[i] = rm->remote_fd[i] = -1;
	}
	unmap_ring(rm);
}

void ring_mem_set_dev(struct dmakit_dev *dev, struct ring_mem *rm,
		      const char *kind)
{
	struct dmakit_ring_ctrl *ctrl = rm->map;

	dev->rmem = rm;
	dev->ctrl = ctrl;
	dev->descs = (struct dmakit_desc *)((char *)rm->map + ctrl->desc_offset);
	dev->data = (unsigned char *)rm->map + ctrl->data_offset;
	snprintf(dev->geo.kind, sizeof(dev->geo.kind), "%s", kind);
	dev->geo.bufsize = ctrl->bufsize;
	dev->geo.nbufs = ctrl->nbufs;
	dev->geo.policy = ctrl->policy;
	dev->geo.payload = ctrl->payload;
	dev->geo.dev_clock_hz = ctrl->dev_clock_hz;
	dev->geo.data = dev->data;
	dev->geo.data_len = (size_t)ctrl->nbufs * ctrl->bufsize;
}

/*
 * Wake a consumer of a shared ring that lives in another process, through
 * its slot's FIFO (opened on first use, reopened when the slot changes
 * hands).  A full FIFO means the consumer has a wakeup pending already.
 */
static void wake_remote(struct ring_mem *rm, unsigned int i, uint32_t owner)
{
	char one = 1;

	if (rm->remote_fd[i] < 0 || rm->remote_pid[i] != owner) {
		if (rm->remote_fd[i] >= 0)
			close(rm->remote_fd[i]);
		rm->remote_fd[i] = sim_shared_wake_fd(rm->name, (int)i, false);
		if (rm->remote_fd[i] < 0)
			return;		/* not created yet: nobody waits */
		rm->remote_pid[i] = owner;
	}
	if (write(rm->remote_fd[i], &one, 1) < 0) {
		/* EAGAIN: FIFO full, the consumer is being woken anyway */
	}
}

void ring_mem_wake_consumers(struct ring_mem *rm, bool all)
{
	struct dmakit_ring_ctrl *ctrl = rm->map;
	unsigned int i;

	DMAKIT_FULL_BARRIER();
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		struct dmakit_ring_consumer *cs = &ctrl->consumers[i];
		int fd = __atomic_load_n(&rm->event_fd[i], __ATOMIC_ACQUIRE);
		uint64_t one = 1;
		uint32_t owner;

		if (!all && !DMAKIT_LOAD_RELAXED(&cs->need_wakeup))
			continue;
		owner = DMAKIT_LOAD_RELAXED(&cs->owner);
		if (rm->name[0] && owner != (uint32_t)rm->pid &&
		    DMAKIT_LOAD_ACQUIRE(&cs->state) != DMAKIT_CONSUMER_FREE) {
			wake_remote(rm, i, owner);
			continue;
		}
		if (fd < 0)
			continue;
		if (write(fd, &one, sizeof(one)) < 0) {
			/* counter saturation only: the consumer is awake */
		}
	}
}

/*
 * A shared ring's consumers may belong to processes that were killed
 * without detaching: free their slots, or a dead reliable consumer would
 * make the producer drop (or wait) forever.
 */
void ring_mem_reclaim_dead(struct ring_mem *rm)
{
	struct dmakit_ring_ctrl *ctrl = rm->map;
	uint64_t now;
	unsigned int i;

	if (!rm->name[0])
		return;
	now = dmakit_now_ns();
	if (now < rm->next_reclaim_ns)
		return;
	rm->next_reclaim_ns = now + RECLAIM_NS;
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		struct dmakit_ring_consumer *cs = &ctrl->consumers[i];
		uint32_t state = DMAKIT_LOAD_ACQUIRE(&cs->state);
		uint32_t owner = DMAKIT_LOAD_RELAXED(&cs->owner);

		if (state == DMAKIT_CONSUMER_FREE || owner == (uint32_t)rm->pid ||
		    owner == 0)
			continue;
		if (kill((pid_t)owner, 0) < 0 && errno == ESRCH)
			__atomic_compare_exchange_n(&cs->state, &state,
						    DMAKIT_CONSUMER_FREE, false,
						    __ATOMIC_SEQ_CST,
						    __ATOMIC_RELAXED);
	}
}

/*
 * BLOCK policy: sleep until a consumer releases (or a stop request).  Like
 * a DMA engine refilling its descriptors, the producer asks to be woken
 * only once refill_batch slots are free, not for every released buffer:
 * fewer wakeups for both sides.
 */
void ring_mem_wait_for_space(struct ring_mem *rm, uint64_t pos,
			     const uint32_t *stop_req)
{
	struct dmakit_ring_ctrl *ctrl = rm->map;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000000 };

	__atomic_store_n(&rm->wake_tail, pos - rm->nbufs + rm->refill_batch,
			 __ATOMIC_RELAXED);
	DMAKIT_STORE_RELEASE(&ctrl->producer_waiting, 1);
	DMAKIT_FULL_BARRIER();
	if (!dmakit_ring_may_claim(ctrl, rm->nbufs, pos) &&
	    !__atomic_load_n(stop_req, __ATOMIC_ACQUIRE))
		futex(&ctrl->producer_waiting, FUTEX_WAIT, 1, &ts);
	DMAKIT_STORE_RELAXED(&ctrl->producer_waiting, 0);
}

void ring_mem_wake_producer(struct ring_mem *rm)
{
	struct dmakit_ring_ctrl *ctrl = rm->map;

	futex(&ctrl->producer_waiting, FUTEX_WAKE, INT_MAX, NULL);
}

void ring_mem_end(struct ring_mem *rm, uint32_t state)
{
	struct dmakit_ring_ctrl *ctrl = rm->map;

	DMAKIT_STORE_RELEASE(&ctrl->state, state);
	ring_mem_wake_consumers(rm, true);
}

void ring_mem_start(struct ring_mem *rm)
{
	struct dmakit_ring_ctrl *ctrl = rm->map;

	/* a new stream id per start, as the driver does; before the state */
	if (getrandom(&ctrl->stream_id, sizeof(ctrl->stream_id), 0) < 0)
		ctrl->stream_id = dmakit_now_ns();
	DMAKIT_STORE_RELEASE(&ctrl->state, DMAKIT_STATE_RUNNING);
}

int ring_mem_wait_started(struct ring_mem *rm, int timeout_ms)
{
	struct dmakit_ring_ctrl *ctrl = rm->map;
	uint64_t deadline = dmakit_deadline(timeout_ms);
	const struct timespec tick = { .tv_sec = 0, .tv_nsec = 5000000 };

	while (DMAKIT_LOAD_ACQUIRE(&ctrl->state) == DMAKIT_STATE_IDLE) {
		if (rm->attached && !sim_shared_owner_alive(rm->fd))
			return -ENODEV;
		if (dmakit_remaining_ms(deadline) == 0)
			return -ETIMEDOUT;
		nanosleep(&tick, NULL);
	}
	return 0;
}

int ring_mem_consumer_attach(struct dmakit_consumer *cons)
{
	struct ring_mem *rm = cons->dev->rmem;
	uint64_t start;
	int idx;

	idx = dmakit_ring_attach_slot(cons->dev->ctrl, cons->mode, &start);
	if (idx < 0)
		return idx;
	/*
	 * One eventfd per slot, created on first use and kept until the
	 * device closes: the producer thread may be signalling a slot while
	 * its consumer detaches, and must never write to a recycled fd.
	 * A process attached to another's shared ring uses the slot's FIFO.
	 */
	if (rm->event_fd[idx] < 0) {
		int fd = rm->attached ?
			 sim_shared_wake_fd(rm->name, idx, true) :
			 eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (fd < 0) {
			fd = rm->attached ? fd : -errno;
			dmakit_ring_detach_slot(cons->dev->ctrl, idx);
			return fd;
		}
		__atomic_store_n(&rm->event_fd[idx], fd, __ATOMIC_RELEASE);
	} else {
		drain_fd(rm->event_fd[idx]);
	}
	cons->slot_idx = idx;
	cons->slot = &cons->dev->ctrl->consumers[idx];
	cons->wait_fd = rm->event_fd[idx];
	return 0;
}

void ring_mem_consumer_detach(struct dmakit_consumer *cons)
{
	dmakit_ring_detach_slot(cons->dev->ctrl, cons->slot_idx);
	/* a BLOCK producer may have been waiting for this consumer */
	ring_mem_wake_producer(cons->dev->rmem);
}

int ring_mem_wait(struct dmakit_consumer *cons, int timeout_ms)
{
	struct ring_mem *rm = cons->dev->rmem;
	struct pollfd pfd = { .fd = cons->wait_fd, .events = POLLIN };
	uint64_t deadline = dmakit_deadline(timeout_ms);
	int ret, left;

	for (;;) {
		left = dmakit_remaining_ms(deadline);
		/* attached: look at the owner now and then */
		if (rm->attached && (left < 0 || left > OWNER_CHECK_MS))
			left = OWNER_CHECK_MS;
		ret = poll(&pfd, 1, left);
		if (ret < 0)
			return -errno;
		if (ret > 0)
			break;
		if (rm->attached && !sim_shared_owner_alive(rm->fd) &&
		    DMAKIT_LOAD_ACQUIRE(&cons->dev->ctrl->state) ==
		    DMAKIT_STATE_RUNNING)
			return -ENODEV;	/* the producer died mid-stream */
		if (dmakit_remaining_ms(deadline) == 0)
			return -ETIMEDOUT;
	}
	drain_fd(cons->wait_fd);
	return 0;
}

void ring_mem_released(struct dmakit_consumer *cons)
{
	struct dmakit_ring_ctrl *ctrl = cons->dev->ctrl;
	struct ring_mem *rm = cons->dev->rmem;

	DMAKIT_FULL_BARRIER();
	if (!DMAKIT_LOAD_ACQUIRE(&ctrl->producer_waiting))
		return;
	/*
	 * wake_tail was stored before producer_waiting (release/acquire).
	 * Wake the producer once its refill batch is free, or at once if
	 * this consumer has taken everything and will wait for it.
	 */
	if (cons->tail >= __atomic_load_n(&rm->wake_tail, __ATOMIC_RELAXED) ||
	    cons->next_pos >= DMAKIT_LOAD_ACQUIRE(&ctrl->head))
		futex(&ctrl->producer_waiting, FUTEX_WAKE, 1, NULL);
}
