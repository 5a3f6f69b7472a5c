// SPDX-License-Identifier: MIT
/*
 * vm_ioctl DEV edu|sim: the ioctl interface of /dev/dmakitN called raw,
 * with every kind of bad argument, plus the waits: a signal gives EINTR
 * (never 512, ERESTARTSYS), a timeout ETIMEDOUT with the device still
 * usable, closing a file with transactions queued and running is safe;
 * pinned pages are charged to RLIMIT_MEMLOCK and to the card's cap.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <dmakit.h>
#include <dmakit/ioctl.h>
#include "t.h"
#include "vmt.h"

#define LATENCY_PARAM "/sys/module/dmakit/parameters/sim_xfer_us"
#define PIN_CAP_PARAM "/sys/module/dmakit/parameters/xfer_pin_mb"
#define MAX_XFERS 64	/* DMAKIT_MAX_XFERS of the driver, asserted below */

static const char *devpath;
static bool is_sim;
static int fd = -1;
static struct dmakit_info info;

/* ioctl() as -errno / 0 */
static int ioc(int f, unsigned long cmd, void *arg)
{
	return ioctl(f, cmd, arg) < 0 ? -errno : 0;
}

static int submit(int f, uint32_t dir, void *buf, uint64_t len,
		  uint64_t card, uint64_t *id)
{
	struct dmakit_xfer x = {
		.user_addr = (uint64_t)(uintptr_t)buf,
		.len = len,
		.card_addr = card,
		.dir = dir,
	};
	int ret = ioc(f, DMAKIT_IOC_XFER_SUBMIT, &x);

	if (id)
		*id = x.id;
	return ret;
}

static int wait_id(int f, uint64_t id, int timeout_ms, struct dmakit_xfer_wait *out)
{
	struct dmakit_xfer_wait w = { .id = id, .timeout_ms = timeout_ms };
	int ret = ioc(f, DMAKIT_IOC_XFER_WAIT, &w);

	if (out)
		*out = w;
	return ret;
}

/*
 * sim: each transfer segment takes MS milliseconds from now on (0: the
 * default 20 us), long enough to be caught in flight however late this
 * process runs, and under the sim's 1 s segment watchdog (past it the
 * transfer fails ETIMEDOUT and the card is reset).  edu: always 100 ms.
 */
static void slow(unsigned int ms)
{
	char us[32];

	if (!is_sim)
		return;
	snprintf(us, sizeof(us), "%u", ms ? ms * 1000 : 20);
	vmt_write_file(LATENCY_PARAM, us);
}

static void info_ok(void)
{
	T_EQ(ioc(fd, DMAKIT_IOC_INFO, &info), 0);
	T_EQ(info.abi_version, DMAKIT_IOCTL_ABI_VERSION);
	T_STREQ(info.backend, is_sim ? "sim" : "edu");
	T_ASSERT(info.flags & DMAKIT_INFO_F_XFER);
	T_ASSERT(info.flags & DMAKIT_INFO_F_RING);	/* edu has one too */
	T_ASSERT(info.card_mem_size > 0);
	T_EQ(info.max_xfers, MAX_XFERS);
	for (size_t i = 0; i < sizeof(info.reserved) / 8; i++)
		T_EQ(info.reserved[i], 0);
}

static void unknown_commands(void)
{
	char junk[256] = { 0 };

	T_EQ(ioc(fd, 0, junk), -ENOTTY);
	T_EQ(ioc(fd, _IO(DMAKIT_IOC_MAGIC, 0x7f), junk), -ENOTTY);
	/* right number, wrong size: another command */
	T_EQ(ioc(fd, _IOWR(DMAKIT_IOC_MAGIC, 0x10, char[32]), junk), -ENOTTY);
	T_EQ(ioc(fd, _IOR(DMAKIT_IOC_MAGIC, 0x00, char[64]), junk), -ENOTTY);
	/* right size, wrong direction bits */
	T_EQ(ioc(fd, _IOW(DMAKIT_IOC_MAGIC, 0x10, struct dmakit_xfer), junk),
	     -ENOTTY);
	/* another driver's magic */
	T_EQ(ioc(fd, _IOWR('T', 0x10, struct dmakit_xfer), junk), -ENOTTY);
}

static void submit_bad_arguments(void)
{
	uint8_t *buf = vmt_pages(2), *hole;
	uint64_t mem = info.card_mem_size;
	struct dmakit_xfer x;

	T_ASSERT(buf != NULL);
	/* zero length, outside card memory, overflowing ranges */
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, buf, 0, 0, NULL), -EINVAL);
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, buf, mem + 1, 0, NULL), -EINVAL);
	T_EQ(submit(fd, DMAKIT_XFER_TO_HOST, buf, 1, mem, NULL), -EINVAL);
	T_EQ(submit(fd, DMAKIT_XFER_TO_HOST, buf, 2, mem - 1, NULL), -EINVAL);
	T_EQ(submit(fd, DMAKIT_XFER_TO_HOST, buf, 16, UINT64_MAX - 7, NULL),
	     -EINVAL);
	T_EQ(submit(fd, DMAKIT_XFER_TO_HOST, buf, UINT64_MAX, 0, NULL), -EINVAL);
	/* direction, flags, reserved */
	T_EQ(submit(fd, 0, buf, 8, 0, NULL), -EINVAL);
	T_EQ(submit(fd, 3, buf, 8, 0, NULL), -EINVAL);
	memset(&x, 0, sizeof(x));
	x.user_addr = (uintptr_t)buf;
	x.len = 8;
	x.dir = DMAKIT_XFER_TO_HOST;
	x.flags = 1;
	T_EQ(ioc(fd, DMAKIT_IOC_XFER_SUBMIT, &x), -EINVAL);
	x.flags = 0;
	x.reserved[2] = 1;
	T_EQ(ioc(fd, DMAKIT_IOC_XFER_SUBMIT, &x), -EINVAL);
	/* memory: NULL, unmapped, kernel, read-only for the device to write */
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, NULL, 8, 0, NULL), -EFAULT);
	hole = vmt_pages(1);
	T_ASSERT(hole != NULL);
	munmap(hole, 4096);
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, hole, 8, 0, NULL), -EFAULT);
	T_EQ(submit(fd, DMAKIT_XFER_TO_HOST, hole, 8, 0, NULL), -EFAULT);
	/* a buffer that runs from mapped into unmapped memory */
	munmap(buf + 4096, 4096);
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, buf + 4096 - 4, 8, 0, NULL),
	     -EFAULT);
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, (void *)0xffff888000000000ULL, 8,
		    0, NULL), -EFAULT);
	T_EQ(mprotect(buf, 4096, PROT_READ), 0);
	T_EQ(submit(fd, DMAKIT_XFER_TO_HOST, buf, 8, 0, NULL), -EFAULT);
	/* the device only reads in this direction: read-only is fine */
	{
		uint64_t id;
		struct dmakit_xfer_wait w;

		T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, buf, 8, 0, &id), 0);
		T_EQ(wait_id(fd, id, 10000, &w), 0);
		T_EQ(w.status, 0);
		T_EQ(w.bytes_done, 8);
	}
	/* the argument itself unreadable */
	T_EQ(ioc(fd, DMAKIT_IOC_XFER_SUBMIT, (void *)8), -EFAULT);
	T_EQ(ioc(fd, DMAKIT_IOC_INFO, (void *)8), -EFAULT);
	munmap(buf, 4096);
}

static void wait_bad_arguments(void)
{
	struct dmakit_xfer_wait w = { .id = 999999, .timeout_ms = 0 };
	uint8_t *buf = vmt_pages(1);
	uint64_t id;

	T_EQ(ioc(fd, DMAKIT_IOC_XFER_WAIT, &w), -ENOENT);
	w.id = 0;
	T_EQ(ioc(fd, DMAKIT_IOC_XFER_WAIT, &w), -ENOENT);
	w.timeout_ms = -2;
	T_EQ(ioc(fd, DMAKIT_IOC_XFER_WAIT, &w), -EINVAL);
	w.timeout_ms = 0;
	w.reserved[0] = 5;
	T_EQ(ioc(fd, DMAKIT_IOC_XFER_WAIT, &w), -EINVAL);
	T_EQ(ioc(fd, DMAKIT_IOC_XFER_WAIT, (void *)16), -EFAULT);
	/* a transaction belongs to the file that submitted it */
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, buf, 8, 0, &id), 0);
	{
		int other = open(devpath, O_RDWR);

		T_ASSERT(other >= 0);
		T_EQ(wait_id(other, id, 0, NULL), -ENOENT);
		close(other);
	}
	T_EQ(wait_id(fd, id, 10000, NULL), 0);
	T_EQ(wait_id(fd, id, 0, NULL), -ENOENT);
}

/*
 * edu has one DMA engine for its ring and its transactions: each refuses
 * (EBUSY) while the other has it, and works once it is free again.
 */
static void shared_engine(void)
{
	uint8_t *buf = vmt_pages(1);
	uint64_t id;

	T_ASSERT(buf != NULL);
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, buf, 64, 0, &id), 0);
	T_EQ(ioc(fd, DMAKIT_IOC_START, NULL), -EBUSY);
	T_EQ(wait_id(fd, id, 10000, NULL), 0);
	T_EQ(ioc(fd, DMAKIT_IOC_START, NULL), 0);
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, buf, 64, 0, &id), -EBUSY);
	/* the stream's first DMA is in flight: stop waits for it */
	T_EQ(ioc(fd, DMAKIT_IOC_STOP, NULL), 0);
	T_EQ(submit(fd, DMAKIT_XFER_TO_HOST, buf, 64, 0, &id), 0);
	T_EQ(wait_id(fd, id, 10000, NULL), 0);
	munmap(buf, 4096);
}

static void ring_commands(void)
{
	struct dmakit_attach a = { .mode = DMAKIT_CONSUMER_RELIABLE };
	void *m;

	if (!is_sim) {
		shared_engine();
		return;
	}
	{
		int f = open(devpath, O_RDWR);

		T_ASSERT(f >= 0);
		a.mode = 7;
		T_EQ(ioc(f, DMAKIT_IOC_ATTACH, &a), -EINVAL);
		a.mode = DMAKIT_CONSUMER_LOSSY;
		a.reserved[1] = 1;
		T_EQ(ioc(f, DMAKIT_IOC_ATTACH, &a), -EINVAL);
		a.reserved[1] = 0;
		T_EQ(ioc(f, DMAKIT_IOC_ATTACH, &a), 0);
		T_ASSERT(a.slot < DMAKIT_RING_MAX_CONSUMERS);
		/* one consumer per open file */
		T_EQ(ioc(f, DMAKIT_IOC_ATTACH, &a), -EBUSY);
		close(f);
	}
	/* the ring mapping: shared only, not bigger than the ring */
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	T_ASSERT(m == MAP_FAILED && errno == EINVAL);
	m = mmap(NULL, info.ring_map_size + 4096, PROT_READ, MAP_SHARED, fd, 0);
	T_ASSERT(m == MAP_FAILED);
	m = mmap(NULL, info.ring_map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	T_ASSERT(m != MAP_FAILED);
	T_EQ(((struct dmakit_ring_ctrl *)m)->magic, DMAKIT_RING_MAGIC);
	/* it cannot grow */
	T_ASSERT(mremap(m, info.ring_map_size, info.ring_map_size + 4096, 0) ==
		 MAP_FAILED);
	/* data, never code: not mapped executable, nor made so later */
	T_EQ(mprotect(m, 4096, PROT_READ | PROT_EXEC), -1);
	T_EQ(errno, EACCES);
	munmap(m, info.ring_map_size);
	m = mmap(NULL, info.ring_map_size, PROT_READ | PROT_EXEC, MAP_SHARED,
		 fd, 0);
	T_ASSERT(m == MAP_FAILED && errno == EPERM);
	/* all 16 slots, then EBUSY */
	{
		int fds[DMAKIT_RING_MAX_CONSUMERS + 1], i;

		for (i = 0; i <= DMAKIT_RING_MAX_CONSUMERS; i++) {
			struct dmakit_attach b = { .mode = DMAKIT_CONSUMER_LOSSY };

			fds[i] = open(devpath, O_RDWR);
			T_ASSERT(fds[i] >= 0);
			T_EQ(ioc(fds[i], DMAKIT_IOC_ATTACH, &b),
			     i < DMAKIT_RING_MAX_CONSUMERS ? 0 : -EBUSY);
		}
		for (i = 0; i <= DMAKIT_RING_MAX_CONSUMERS; i++)
			close(fds[i]);
	}
}

static volatile int signals;

static void on_alarm(int sig)
{
	(void)sig;
	signals++;
}

/* SIGALRM every @ms until disarmed (0): one lands inside the next call */
static void repeat_alarm_ms(int ms)
{
	struct itimerval it = { .it_value = { 0, ms * 1000 },
				.it_interval = { 0, ms * 1000 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

/* A signal ends a wait with EINTR, with and without SA_RESTART. */
static void signal_interrupts_wait(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	uint8_t *buf = vmt_pages(1);
	struct dmakit_xfer_wait w;
	uint64_t id;
	int flags[] = { 0, SA_RESTART }, i, ret, err, try;

	for (i = 0; i < 2; i++) {
		sa.sa_flags = flags[i];
		sigaction(SIGALRM, &sa, NULL);
		/*
		 * A signal every 20 ms while the wait sleeps.  A single one
		 * 20 ms after arming once came before the wait began (the
		 * process descheduled that long: stock-6.1 swiotlb at load
		 * 9) and the wait returned the finished transfer; edu's
		 * transfer takes its 100 ms timer whatever slow() says, so
		 * a wait that found its transfer already done is tried
		 * again (a few times), never counted as the signal's.
		 */
		for (try = 0; try < 5; try++) {
			slow(600);	/* under the sim watchdog's 1 s */
			T_EQ(submit(fd, DMAKIT_XFER_TO_HOST, buf, 1024, 0, &id), 0);
			signals = 0;
			repeat_alarm_ms(20);
			errno = 0;
			ret = ioctl(fd, DMAKIT_IOC_XFER_WAIT,
				    &(struct dmakit_xfer_wait){ .id = id, .timeout_ms = -1 });
			err = errno;
			repeat_alarm_ms(0);
			if (ret == -1 || try == 4)
				break;
			fprintf(stderr, "  the transfer ended before the wait began: again\n");
		}
		T_EQ(ret, -1);
		T_EQ(err, EINTR);
		T_ASSERT(signals >= 1);
		slow(0);
		/* still pending or done: waiting again finishes it */
		T_EQ(wait_id(fd, id, 30000, &w), 0);
		T_EQ(w.status, 0);
		T_EQ(w.bytes_done, 1024);
	}
	signal(SIGALRM, SIG_DFL);
}

static void timeout_leaves_device_usable(void)
{
	uint8_t *buf = vmt_pages(1), *back = vmt_pages(1);
	struct dmakit_xfer_wait w;
	uint64_t id;

	/* a 5 ms timeout on a 600 ms transfer: 120x apart */
	slow(600);
	vmt_pattern(buf, 100, 77);
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, buf, 100, 10, &id), 0);
	T_EQ(wait_id(fd, id, 5, &w), -ETIMEDOUT);
	T_ASSERT(w.bytes_done < 100);
	T_EQ(wait_id(fd, id, 0, &w), -ETIMEDOUT);
	slow(0);
	T_EQ(wait_id(fd, id, 30000, &w), 0);
	T_EQ(w.bytes_done, 100);
	T_EQ(submit(fd, DMAKIT_XFER_TO_HOST, back, 100, 10, &id), 0);
	T_EQ(wait_id(fd, id, 10000, &w), 0);
	T_ASSERT(!memcmp(buf, back, 100));
}

/* Over the per-file limit: EAGAIN, and everything submitted completes. */
static void outstanding_limit(void)
{
	uint8_t *buf = vmt_pages(1);
	uint64_t ids[MAX_XFERS];
	int i;

	for (i = 0; i < MAX_XFERS; i++)
		T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, buf, 1, 0, &ids[i]), 0);
	T_EQ(submit(fd, DMAKIT_XFER_FROM_HOST, buf, 1, 0, NULL), -EAGAIN);
	for (i = 0; i < MAX_XFERS; i++)
		T_EQ(wait_id(fd, ids[i], 30000, NULL), 0);
}

/* Closing with transactions running and queued; then all is well. */
static void close_in_flight(void)
{
	uint8_t *buf = vmt_pages(4);
	int f, i;

	slow(300);
	f = open(devpath, O_RDWR);
	T_ASSERT(f >= 0);
	for (i = 0; i < 6; i++)
		T_EQ(submit(f, i % 2 ? DMAKIT_XFER_TO_HOST : DMAKIT_XFER_FROM_HOST,
			    buf + i * 100, 64, (uint64_t)i * 64, NULL), 0);
	close(f);
	/* the pages stay valid and usable by us */
	munmap(buf, 4 * 4096);
	slow(0);
	f = open(devpath, O_RDWR);
	T_ASSERT(f >= 0);
	buf = vmt_pages(1);
	{
		uint64_t id;

		T_EQ(submit(f, DMAKIT_XFER_FROM_HOST, buf, 64, 0, &id), 0);
		T_EQ(wait_id(f, id, 10000, NULL), 0);
	}
	close(f);
}

/* VmPin of this process in KiB, -1 if not found */
static long vm_pin_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* As an unprivileged user with 64 KiB of locked memory. */
static void pins_charged_unprivileged(void)
{
	struct rlimit rl = { 16 * 4096, 16 * 4096 };
	uint8_t *buf = vmt_pages(17);
	uint64_t ids[16], id;
	int f = open(devpath, O_RDWR), i;

	T_ASSERT(f >= 0 && buf != NULL);
	T_EQ(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	/* no CAP_IPC_LOCK from here on */
	T_EQ(setgid(65534), 0);
	T_EQ(setuid(65534), 0);
	T_EQ(submit(f, DMAKIT_XFER_TO_HOST, buf, 17 * 4096, 0, NULL), -ENOMEM);
	for (i = 0; i < 16; i++)
		T_EQ(submit(f, DMAKIT_XFER_TO_HOST, buf + i * 4096, 4096, 0,
			    &ids[i]), 0);
	T_EQ(vm_pin_kb(), 64);
	/* held until waited for, even when done */
	T_EQ(submit(f, DMAKIT_XFER_TO_HOST, buf + 16 * 4096, 4096, 0, &id),
	     -ENOMEM);
	T_EQ(submit(f, DMAKIT_XFER_FROM_HOST, buf, 1, 0, &id), -ENOMEM);
	for (i = 0; i < 16; i++)
		T_EQ(wait_id(f, ids[i], 10000, NULL), 0);
	T_EQ(vm_pin_kb(), 0);
	T_EQ(submit(f, DMAKIT_XFER_TO_HOST, buf, 16 * 4096, 0, &id), 0);
	T_EQ(wait_id(f, id, 10000, NULL), 0);
	/* no locked memory at all: EPERM, as mlock() says */
	rl.rlim_cur = rl.rlim_max = 0;
	T_EQ(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	T_EQ(submit(f, DMAKIT_XFER_TO_HOST, buf, 4096, 0, &id), -EPERM);
	close(f);
}

/*
 * A transaction's pages are pinned until it is waited for: locked memory,
 * charged against RLIMIT_MEMLOCK (VmPin) and against the card's cap.
 */
static void pins_charged(void)
{
	uint8_t *buf = vmt_pages(1);
	int status, ret;
	pid_t pid;

	if (!is_sim)	/* 68 KiB of card memory: the sim has 1 MiB */
		return;
	T_ASSERT(buf != NULL);
	fflush(stderr);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		pins_charged_unprivileged();
		_exit(t_case_failed ? 1 : 0);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* root is not limited by RLIMIT_MEMLOCK, but by the card's cap */
	T_EQ(vmt_write_file(PIN_CAP_PARAM, "0"), 0);
	ret = submit(fd, DMAKIT_XFER_TO_HOST, buf, 4096, 0, NULL);
	T_EQ(vmt_write_file(PIN_CAP_PARAM, "64"), 0);
	T_EQ(ret, -EAGAIN);
	munmap(buf, 4096);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: vm_ioctl DEV edu|sim\n");
		return 2;
	}
	devpath = argv[1];
	is_sim = !strcmp(argv[2], "sim");
	fd = open(devpath, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "not ok - open %s: %s\n", devpath, strerror(errno));
		return 1;
	}
	T_RUN(info_ok);
	T_RUN(unknown_commands);
	T_RUN(submit_bad_arguments);
	T_RUN(wait_bad_arguments);
	T_RUN(ring_commands);
	T_RUN(signal_interrupts_wait);
	T_RUN(timeout_leaves_device_usable);
	T_RUN(outstanding_limit);
	T_RUN(close_in_flight);
	T_RUN(pins_charged);
	close(fd);
	return t_exit();
}
