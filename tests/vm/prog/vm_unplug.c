// SPDX-License-Identifier: MIT
/*
 * vm_unplug DEV MODE ARG: the edu card disappears (or stops answering)
 * while transactions are queued and running.
 *
 *   unbind BDF    the PCI driver is unbound through sysfs
 *   hotplug ID    the host removes the device (QEMU monitor device_del ID)
 *   vanish BDF    the device's registers read all-ones, as after a
 *                 surprise removal (the driver's debugfs switch: QEMU
 *                 cannot remove a device by surprise)
 *
 * Every waiter must come back (no hang) with the transactions before the
 * event completed and the rest failed with ENODEV; afterwards every ioctl
 * fails with ENODEV (removal) or new work does (vanish: the card stays,
 * its engine is given up), and closing is clean.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <time.h>
#include <dmakit/ioctl.h>
#include "t.h"
#include "vmt.h"

#define NFILES 2
#define PER_FILE 64

static const char *devpath, *mode, *arg;
static volatile int first_done;

static int submit(int fd, void *buf, uint64_t len, uint64_t *id)
{
	struct dmakit_xfer x = {
		.user_addr = (uintptr_t)buf,
		.len = len,
		.dir = DMAKIT_XFER_FROM_HOST,
	};
	int ret = ioctl(fd, DMAKIT_IOC_XFER_SUBMIT, &x) < 0 ? -errno : 0;

	*id = x.id;
	return ret;
}

static int set_vanished(const char *bdf, bool on)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/debug/dmakit/%s/fake_vanished",
		 bdf);
	return vmt_write_file(path, on ? "Y" : "N");
}

static void *trigger(void *unused)
{
	char path[128];

	(void)unused;
	while (!first_done)
		usleep(1000);
	if (!strcmp(mode, "unbind")) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/dmakit/unbind");
		vmt_write_file(path, arg);
	} else if (!strcmp(mode, "hotplug")) {
		/* straight to the console: the case's output is collected */
		int con = open("/dev/console", O_WRONLY);

		dprintf(con >= 0 ? con : 1, "@@HOST device_del %s\n", arg);
		if (con >= 0)
			close(con);
	} else {
		set_vanished(arg, true);
	}
	return NULL;
}

/* A poll() on the card (no ring: nothing to read) until it goes. */
struct sleeper {
	int fd;
	int ret;
	short revents;
};

static void *poll_sleeper(void *p)
{
	struct sleeper *sl = p;
	struct pollfd pfd = { .fd = sl->fd, .events = POLLIN };

	/* only the removal can end it before the bound */
	sl->ret = poll(&pfd, 1, 300000);
	sl->revents = pfd.revents;
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void work_fails_with_enodev(void)
{
	int fds[NFILES], f, i, ok = 0, gone = 0, other = 0;
	uint64_t ids[NFILES][PER_FILE];
	uint8_t *buf = vmt_pages(1);
	bool removal = strcmp(mode, "vanish") != 0;
	struct sleeper sl = { .fd = -1 };
	pthread_t th, sleeper;
	double t0;

	T_ASSERT(buf != NULL);
	for (f = 0; f < NFILES; f++) {
		fds[f] = open(devpath, O_RDWR);
		T_ASSERT(fds[f] >= 0);
		for (i = 0; i < PER_FILE; i++)
			T_EQ(submit(fds[f], buf, 2048, &ids[f][i]), 0);
	}
	if (removal) {
		sl.fd = open(devpath, O_RDWR);
		T_ASSERT(sl.fd >= 0);
		T_EQ(pthread_create(&sleeper, NULL, poll_sleeper, &sl), 0);
	}
	T_EQ(pthread_create(&th, NULL, trigger, NULL), 0);
	t0 = now_s();
	for (f = 0; f < NFILES; f++) {
		for (i = 0; i < PER_FILE; i++) {
			struct dmakit_xfer_wait w = { .id = ids[f][i],
						      .timeout_ms = 30000 };

			T_EQ(ioctl(fds[f], DMAKIT_IOC_XFER_WAIT, &w), 0);
			if (w.status == 0) {
				T_EQ(w.bytes_done, 2048);
				ok++;
			} else if (w.status == -ENODEV) {
				gone++;
			} else {
				fprintf(stderr, "  status %d\n", w.status);
				other++;
			}
			first_done = 1;
		}
	}
	pthread_join(th, NULL);
	fprintf(stderr, "  %d completed, %d failed with ENODEV, %d other, %.1f s\n",
		ok, gone, other, now_s() - t0);
	if (removal) {
		/* the removal woke the poll() that slept on the card */
		pthread_join(sleeper, NULL);
		fprintf(stderr, "  poll() woke after %.1f s\n", now_s() - t0);
		T_EQ(sl.ret, 1);
		T_ASSERT(sl.revents & (POLLERR | POLLHUP));
		T_EQ(close(sl.fd), 0);
	}
	T_ASSERT(ok >= 1);
	T_ASSERT(gone >= 1);
	T_EQ(other, 0);

	/* what is left of the card */
	{
		struct dmakit_info info;
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		uint64_t id;

		if (removal) {
			T_EQ(ioctl(fds[0], DMAKIT_IOC_INFO, &info), -1);
			T_EQ(errno, ENODEV);
			T_EQ(submit(fds[0], buf, 8, &id), -ENODEV);
			T_EQ(poll(&pfd, 1, 0), 1);
			T_ASSERT(pfd.revents & (POLLERR | POLLHUP));
		} else {
			T_EQ(ioctl(fds[0], DMAKIT_IOC_INFO, &info), 0);
			T_EQ(submit(fds[0], buf, 8, &id), -ENODEV);
		}
	}
	for (f = 0; f < NFILES; f++)
		T_EQ(close(fds[f]), 0);
	if (!removal)
		T_EQ(set_vanished(arg, false), 0);
}

/* The device node goes away with the card. */
static void node_gone(void)
{
	int i;

	if (!strcmp(mode, "vanish"))
		return;
	/* hot-removal through ACPI takes ~10 s on the debug kernel, quiet */
	for (i = 0; i < 2400 && access(devpath, F_OK) == 0; i++)
		usleep(100000);
	T_ASSERT(access(devpath, F_OK) != 0);
	T_EQ(open(devpath, O_RDWR), -1);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: vm_unplug DEV unbind|hotplug|vanish ARG\n");
		return 2;
	}
	devpath = argv[1];
	mode = argv[2];
	arg = argv[3];
	T_RUN(work_fails_with_enodev);
	T_RUN(node_gone);
	return t_exit();
}
