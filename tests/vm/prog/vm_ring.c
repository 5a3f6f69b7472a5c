// SPDX-License-Identifier: MIT
/*
 * vm_ring DEV [DISK]: the streaming ring of a simulated card, consumed
 * through libdmakit exactly as `dmakit record` does.  The card is the
 * platform device dmakit-sim.0 (of driver dmakit-sim), or the one named
 * by VM_RING_PLATFORM="DRIVER DEVICE" (e.g. the XDMA model's).
 *
 * Every byte of every buffer is checked against dmakit_payload_word() and
 * the CRC32C the engine reported, so a missed or misdirected DMA sync
 * (swiotlb=force) shows as bad data.  Also: sequence and gap accounting
 * under both policies, the device clock at a paced rate, several
 * consumers, restart, a consumer that dies holding buffers, wakeups
 * through poll(), the ring pages given to O_DIRECT, io_uring and
 * MSG_ZEROCOPY, and the card unbound while a consumer reads.
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <dmakit.h>
#include "t.h"
#include "vmt.h"

static const char *devpath, *diskpath;
static char sysdir[128];
static char unbind_path[128], bind_path[128], platform_dev[64];

static int configure(unsigned int nbufs, unsigned int bufsize,
		     const char *policy, const char *rate)
{
	char path[256], v[32];
	int ret = 0;

	snprintf(path, sizeof(path), "%s/ring_nbufs", sysdir);
	snprintf(v, sizeof(v), "%u", nbufs);
	ret |= vmt_write_file(path, v);
	snprintf(path, sizeof(path), "%s/ring_bufsize", sysdir);
	snprintf(v, sizeof(v), "%u", bufsize);
	ret |= vmt_write_file(path, v);
	snprintf(path, sizeof(path), "%s/policy", sysdir);
	ret |= vmt_write_file(path, policy);
	snprintf(path, sizeof(path), "%s/rate", sysdir);
	ret |= vmt_write_file(path, rate);
	return ret;
}

static long long counter(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/counters/%s", sysdir, name);
	return vmt_read_num(path);
}

static struct dmakit_dev *open_dev(void)
{
	char err[DMAKIT_ERRMSG_MAX];
	struct dmakit_dev *dev = NULL;

	if (dmakit_open(&dev, devpath, err, sizeof(err))) {
		fprintf(stderr, "  open %s: %s\n", devpath, err);
		return NULL;
	}
	return dev;
}

/* The payload of its sequence number and the CRC the card computed. */
static bool buf_ok(const struct dmakit_buf *b)
{
	const uint64_t *w = b->data;
	size_t i;

	if (!(b->desc.flags & DMAKIT_DESC_F_CRC) ||
	    dmakit_crc32c(0, b->data, b->desc.len) != b->desc.crc32c) {
		fprintf(stderr, "  seq %llu: bad CRC (flags %#x)\n",
			(unsigned long long)b->desc.seq, b->desc.flags);
		return false;
	}
	for (i = 0; i < b->desc.len / 8; i++) {
		if (w[i] != dmakit_payload_word(b->desc.seq, i)) {
			fprintf(stderr, "  seq %llu: word %zu is %#llx, expected %#llx\n",
				(unsigned long long)b->desc.seq, i,
				(unsigned long long)w[i],
				(unsigned long long)dmakit_payload_word(b->desc.seq, i));
			return false;
		}
	}
	return true;
}

static void geometry(void)
{
	struct dmakit_geometry g;
	struct dmakit_dev *dev;

	T_EQ(configure(16, 65536, "block", "0"), 0);
	dev = open_dev();
	T_ASSERT(dev != NULL);
	T_EQ(dmakit_get_geometry(dev, &g), 0);
	T_STREQ(g.kind, "kernel");
	T_EQ(g.nbufs, 16);
	T_EQ(g.bufsize, 65536);
	T_EQ(g.policy, DMAKIT_POLICY_BLOCK);
	T_EQ(g.payload, DMAKIT_PAYLOAD_SIM);
	T_EQ_U64(g.dev_clock_hz, 1000000000ULL);
	T_EQ(g.data_len, 16 * 65536);
	/* the ring is reconfigured only while nobody uses the card */
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/ring_nbufs", sysdir);
		T_EQ(vmt_write_file(path, "32"), -EBUSY);
	}
	dmakit_close(dev);
}

/* Policy block: every buffer, in order, intact; then end of stream. */
static void block_in_order(void)
{
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	uint64_t n, last_host = 0;
	int ret;

	T_EQ(configure(16, 65536, "block", "0"), 0);
	dev = open_dev();
	T_ASSERT(dev != NULL);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	T_EQ(dmakit_start(dev), -EALREADY);
	for (n = 0; n < 400; n++) {
		T_EQ(dmakit_consumer_next(c, &b, 5000), 0);
		T_EQ_U64(b.desc.seq, n);
		T_EQ(b.desc.flags & DMAKIT_DESC_F_GAP, 0);
		T_EQ(b.desc.len, 65536);
		T_ASSERT(b.desc.host_ts >= last_host);
		last_host = b.desc.host_ts;
		T_ASSERT(buf_ok(&b));
		T_EQ(dmakit_consumer_release(c, &b), 0);
	}
	T_EQ(dmakit_stop(dev), 0);
	while ((ret = dmakit_consumer_next(c, &b, 2000)) == 0) {
		T_EQ_U64(b.desc.seq, n);
		n++;
		T_ASSERT(buf_ok(&b));
		T_EQ(dmakit_consumer_release(c, &b), 0);
	}
	T_EQ(ret, -ENODATA);
	T_EQ(counter("drops"), 0);
	dmakit_close(dev);
}

/* Policy drop, a slow consumer: gaps are marked and add up. */
static void drop_gaps(void)
{
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	struct dmakit_stats st;
	struct dmakit_buf b;
	uint64_t n, next_seq = 0, lost = 0, gaps = 0, drops0 = counter("drops");

	T_EQ(configure(8, 65536, "drop", "0"), 0);
	dev = open_dev();
	T_ASSERT(dev != NULL);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	for (n = 0; n < 150; n++) {
		T_EQ(dmakit_consumer_next(c, &b, 5000), 0);
		if (b.desc.flags & DMAKIT_DESC_F_GAP) {
			T_ASSERT(b.desc.lost > 0);
			gaps++;
		} else {
			T_EQ_U64(b.desc.lost, 0);
		}
		/* dropped buffers still consumed sequence numbers */
		T_EQ_U64(b.desc.seq, next_seq + b.desc.lost);
		next_seq = b.desc.seq + 1;
		lost += b.desc.lost;
		T_ASSERT(buf_ok(&b));
		usleep(3000);
		T_EQ(dmakit_consumer_release(c, &b), 0);
	}
	T_EQ(dmakit_consumer_stats(c, &st), 0);
	T_EQ(dmakit_stop(dev), 0);
	T_ASSERT(gaps > 0);
	/* every reported loss was counted as a drop, in the ring and sysfs */
	T_ASSERT(st.dropped >= lost);
	T_ASSERT((uint64_t)(counter("drops") - drops0) >= lost);
	fprintf(stderr, "  %llu gaps, %llu buffers lost, %llu dropped\n",
		(unsigned long long)gaps, (unsigned long long)lost,
		(unsigned long long)st.dropped);
	dmakit_close(dev);
}

/* At a set rate the device clock advances by exactly one buffer time. */
static void paced_rate(void)
{
	const uint64_t rate = 8000000, bufsize = 65536;
	const uint64_t buf_ns = bufsize * 1000000000ULL / rate;
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	uint64_t n, t0 = 0, t1 = 0;

	T_EQ(configure(16, 65536, "block", "8000000"), 0);
	dev = open_dev();
	T_ASSERT(dev != NULL);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	for (n = 0; n < 60; n++) {
		T_EQ(dmakit_consumer_next(c, &b, 5000), 0);
		T_EQ_U64(b.desc.dev_ts, b.desc.seq * buf_ns);
		if (n == 0)
			t0 = b.desc.host_ts;
		t1 = b.desc.host_ts;
		T_ASSERT(buf_ok(&b));
		T_EQ(dmakit_consumer_release(c, &b), 0);
	}
	/*
	 * Paced: never faster than 59 buffer times of host time (give or
	 * take the timer's slack); a loaded host only makes it slower, so
	 * the upper bound only catches a pacer gone wrong: 20x (9.7 s).
	 */
	T_ASSERT(t1 - t0 >= 59 * buf_ns * 8 / 10);
	T_ASSERT(t1 - t0 <= 59 * buf_ns * 20);
	dmakit_close(dev);
	T_EQ(configure(16, 65536, "block", "0"), 0);
}

/* A reliable and a lossy consumer at once; both see intact data. */
static void two_consumers(void)
{
	struct dmakit_dev *dev;
	struct dmakit_consumer *r, *l;
	struct dmakit_buf b;
	int n, lossy_ok = 0;

	T_EQ(configure(32, 65536, "block", "0"), 0);
	dev = open_dev();
	T_ASSERT(dev != NULL);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &r), 0);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_LOSSY, &l), 0);
	T_ASSERT(dmakit_consumer_fd(r) != dmakit_consumer_fd(l));
	T_EQ(dmakit_start(dev), 0);
	for (n = 0; n < 100; n++) {
		T_EQ(dmakit_consumer_next(r, &b, 5000), 0);
		T_ASSERT(buf_ok(&b));
		T_EQ(dmakit_consumer_release(r, &b), 0);
		if (dmakit_consumer_next(l, &b, 0) == 0) {
			bool ok = buf_ok(&b);

			/* a lossy reader trusts data only if still valid */
			if (dmakit_consumer_buf_valid(l, &b))
				T_ASSERT(ok);
			lossy_ok++;
			T_EQ(dmakit_consumer_release(l, &b), 0);
		}
	}
	T_ASSERT(lossy_ok > 0);
	dmakit_close(dev);
}

/* Stop and start again: a new stream, sequence from 0, positions on. */
static void restart(void)
{
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	uint64_t pos0;
	int ret;

	dev = open_dev();
	T_ASSERT(dev != NULL);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	T_EQ(dmakit_consumer_next(c, &b, 5000), 0);
	pos0 = b.pos;
	T_EQ(dmakit_consumer_release(c, &b), 0);
	T_EQ(dmakit_stop(dev), 0);
	while ((ret = dmakit_consumer_next(c, &b, 2000)) == 0)
		T_EQ(dmakit_consumer_release(c, &b), 0);
	T_EQ(ret, -ENODATA);
	dmakit_consumer_detach(c);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	T_EQ(dmakit_consumer_next(c, &b, 5000), 0);
	T_EQ_U64(b.desc.seq, 0);
	T_ASSERT(b.pos > pos0);
	T_ASSERT(buf_ok(&b));
	dmakit_close(dev);
}

/* A consumer process that dies holding buffers does not stall the ring. */
static void dead_consumer(void)
{
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	int n, status;
	pid_t pid;

	dev = open_dev();
	T_ASSERT(dev != NULL);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	pid = fork();
	if (pid == 0) {
		struct dmakit_dev *d2 = open_dev();
		struct dmakit_consumer *c2;

		if (!d2 || dmakit_consumer_attach(d2, DMAKIT_RELIABLE, &c2))
			_exit(1);
		/* exit holding everything, without detaching */
		_exit(0);
	}
	T_ASSERT(pid > 0);
	T_EQ(waitpid(pid, &status, 0), pid);
	T_EQ(WEXITSTATUS(status), 0);
	T_EQ(dmakit_start(dev), 0);
	for (n = 0; n < 100; n++) {
		T_EQ(dmakit_consumer_next(c, &b, 5000), 0);
		T_EQ(dmakit_consumer_release(c, &b), 0);
	}
	dmakit_close(dev);
}

/* The consumer's file descriptor wakes poll() when data arrives. */
static void poll_wakeup(void)
{
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	struct pollfd pfd;
	int n, woke = 0;

	T_EQ(configure(16, 65536, "block", "2000000"), 0);
	dev = open_dev();
	T_ASSERT(dev != NULL);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	pfd.fd = dmakit_consumer_fd(c);
	pfd.events = POLLIN;
	for (n = 0; n < 10; n++) {
		/* drain, which arms the wakeup, then sleep in poll() */
		while (dmakit_consumer_next(c, &b, 0) == 0)
			T_EQ(dmakit_consumer_release(c, &b), 0);
		/* a buffer is due in ~33 ms: the bound is for a loaded host */
		if (poll(&pfd, 1, 60000) == 1 && (pfd.revents & POLLIN))
			woke++;
	}
	T_EQ(woke, 10);
	dmakit_close(dev);
	T_EQ(configure(16, 65536, "block", "0"), 0);
}

/* Ring pages are ordinary pages: the zero-copy I/O paths accept them. */
static void zero_copy_io(void)
{
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct iovec iov;
	uint8_t *back = vmt_pages(16);
	int fd, ret;

	if (!diskpath) {
		fprintf(stderr, "  no disk given\n");
		T_ASSERT(diskpath != NULL);
	}
	dev = open_dev();
	T_ASSERT(dev && back);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c), 0);
	T_EQ(dmakit_start(dev), 0);
	T_EQ(dmakit_consumer_next(c, &b, 5000), 0);
	T_ASSERT(buf_ok(&b));

	/* O_DIRECT write straight from the ring page, read back */
	fd = open(diskpath, O_RDWR | O_DIRECT);
	T_ASSERT(fd >= 0);
	T_EQ(pwrite(fd, b.data, 65536, 0), 65536);
	T_EQ(pread(fd, back, 65536, 0), 65536);
	T_ASSERT(!memcmp(back, b.data, 65536));

	/* io_uring write from the ring page (not registered) */
	T_EQ(io_uring_queue_init(4, &ring, 0), 0);
	io_uring_prep_write(io_uring_get_sqe(&ring), fd, b.data, 65536, 65536);
	T_EQ(io_uring_submit(&ring), 1);
	T_EQ(io_uring_wait_cqe(&ring, &cqe), 0);
	T_EQ(cqe->res, 65536);
	io_uring_cqe_seen(&ring, cqe);
	T_EQ(pread(fd, back, 65536, 65536), 65536);
	T_ASSERT(!memcmp(back, b.data, 65536));
	/* registering it: allowed, or refused as on Linux 6.1 (EOPNOTSUPP) */
	iov.iov_base = b.data;
	iov.iov_len = 65536;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	fprintf(stderr, "  io_uring_register_buffers on the ring: %s\n",
		ret ? strerror(-ret) : "ok");
	T_ASSERT(ret == 0 || ret == -EOPNOTSUPP);
	io_uring_queue_exit(&ring);
	close(fd);

	/* MSG_ZEROCOPY over loopback TCP */
	{
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t alen = sizeof(a);
		int lfd = socket(AF_INET, SOCK_STREAM, 0), sfd, rfd, one = 1;
		size_t got = 0;

		T_ASSERT(lfd >= 0);
		T_EQ(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
		T_EQ(listen(lfd, 1), 0);
		T_EQ(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
		sfd = socket(AF_INET, SOCK_STREAM, 0);
		T_EQ(setsockopt(sfd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)), 0);
		T_EQ(connect(sfd, (struct sockaddr *)&a, sizeof(a)), 0);
		rfd = accept(lfd, NULL, NULL);
		T_ASSERT(rfd >= 0);
		T_EQ(send(sfd, b.data, 65536, MSG_ZEROCOPY), 65536);
		while (got < 65536) {
			ssize_t n = recv(rfd, back + got, 65536 - got, 0);

			T_ASSERT(n > 0);
			got += (size_t)n;
		}
		T_ASSERT(!memcmp(back, b.data, 65536));
		close(rfd);
		close(sfd);
		close(lfd);
	}
	T_EQ(dmakit_consumer_release(c, &b), 0);
	dmakit_close(dev);
}

struct unbinder {
	struct dmakit_consumer *c;
	volatile int consumed;
};

static void *unbind_later(void *arg)
{
	struct unbinder *u = arg;

	while (u->consumed < 50)
		usleep(1000);
	vmt_write_file(unbind_path, platform_dev);
	return NULL;
}

/*
 * The card goes away under a running consumer: it reads every buffer that
 * was published, intact, then gets ENODEV; its mapping stays readable.
 */
static void unbind_while_reading(void)
{
	struct unbinder u = { 0 };
	struct dmakit_dev *dev;
	struct dmakit_buf b;
	pthread_t th;
	int ret, n = 0;

	T_EQ(configure(16, 65536, "block", "20000000"), 0);
	dev = open_dev();
	T_ASSERT(dev != NULL);
	T_EQ(dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &u.c), 0);
	T_EQ(dmakit_start(dev), 0);
	T_EQ(pthread_create(&th, NULL, unbind_later, &u), 0);
	for (;;) {
		ret = dmakit_consumer_next(u.c, &b, 10000);
		if (ret)
			break;
		T_ASSERT(buf_ok(&b));
		T_EQ(dmakit_consumer_release(u.c, &b), 0);
		u.consumed = ++n;
	}
	pthread_join(th, NULL);
	T_EQ(ret, -ENODEV);
	T_ASSERT(n >= 50);
	T_ASSERT(access(devpath, F_OK) != 0);
	{
		struct dmakit_geometry g;

		volatile uint8_t last;

		T_EQ(dmakit_get_geometry(dev, &g), 0);
		/* the pages are still mapped: this read would fault if not */
		last = ((uint8_t *)g.data)[g.data_len - 1];
		(void)last;
	}
	dmakit_close(dev);
	T_EQ(vmt_write_file(bind_path, platform_dev), 0);
}

int main(int argc, char **argv)
{
	const char *base, *platform = getenv("VM_RING_PLATFORM");
	char driver[64] = "dmakit-sim";

	if (argc < 2) {
		fprintf(stderr, "usage: vm_ring DEV [DISK]\n");
		return 2;
	}
	devpath = argv[1];
	diskpath = argc > 2 ? argv[2] : NULL;
	base = strrchr(devpath, '/');
	snprintf(sysdir, sizeof(sysdir), "/sys/class/dmakit/%s",
		 base ? base + 1 : devpath);
	snprintf(platform_dev, sizeof(platform_dev), "dmakit-sim.0");
	if (platform && sscanf(platform, "%63s %63s", driver, platform_dev) != 2) {
		fprintf(stderr, "VM_RING_PLATFORM: want \"DRIVER DEVICE\"\n");
		return 2;
	}
	snprintf(unbind_path, sizeof(unbind_path),
		 "/sys/bus/platform/drivers/%s/unbind", driver);
	snprintf(bind_path, sizeof(bind_path),
		 "/sys/bus/platform/drivers/%s/bind", driver);
	T_RUN(geometry);
	T_RUN(block_in_order);
	T_RUN(drop_gaps);
	T_RUN(paced_rate);
	T_RUN(two_consumers);
	T_RUN(restart);
	T_RUN(dead_consumer);
	T_RUN(poll_wakeup);
	T_RUN(zero_copy_io);
	T_RUN(unbind_while_reading);
	return t_exit();
}
