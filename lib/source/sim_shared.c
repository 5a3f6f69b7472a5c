// SPDX-License-Identifier: MIT
/*
 * Rings shared between processes by name: a simulated card
 * ("sim:name=NAME", qualified name "sim.NAME") and an application's
 * producer ("app:NAME", "app.NAME"); lib/source/ring_mem.c maps them.
 *
 * The producer's process creates the ring in /dev/shm; later openers map
 * the same file and attach consumers to it, like a second process opening
 * /dev/dmakitN.
 *
 *   /dev/shm/dmakit-KIND.NAME          the ring (ctrl page, descs, data)
 *   /dev/shm/dmakit-KIND.NAME.wake.N   FIFO waking the consumer in slot N
 *                                      when it lives in another process
 *
 * Publication is atomic: the owner builds the ring in an unnamed O_TMPFILE,
 * takes an exclusive flock() on it, and only then links it under its name,
 * so an opener that finds the name always finds a complete ring whose
 * lock shows whether its owner is alive (the kernel drops the lock when the
 * owner exits, however it exits).  A stale ring left by a killed owner is
 * unlinked and replaced by the next opener.  The owner unlinks the ring and
 * its FIFOs when it closes; attached processes keep their mapping and drain
 * what was produced.
 *
 * Wakeups across processes use FIFOs because they are pollable, need no
 * helper thread in the owner, and are found by name: the consumer creates
 * and opens its slot's FIFO; the producer opens it read-write (so a write
 * never fails with EPIPE, even after the consumer went away) the first time
 * it has to wake that slot.  FIFOs are never unlinked while the ring lives,
 * so a producer's open FIFO is always the one a consumer of that slot reads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "sim_shared.h"

#define SHM_DIR "/dev/shm"

bool sim_shared_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > SIM_SHARED_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return false;
	}
	return name[0] != '.';
}

void sim_shared_path(char *buf, size_t len, const char *name, int slot)
{
	if (slot < 0)
		snprintf(buf, len, SHM_DIR "/dmakit-%s", name);
	else
		snprintf(buf, len, SHM_DIR "/dmakit-%s.wake.%d", name, slot);
}

int sim_shared_open_existing(const char *name, int *fdp)
{
	char path[128];
	struct stat a, b;
	int fd;

	sim_shared_path(path, sizeof(path), name, -1);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			int ret = -errno;

			close(fd);
			return ret;
		}
		*fdp = fd;		/* the owner holds it: alive */
		return 1;
	}
	/*
	 * Nobody owns it: a killed owner's ring.  Remove it, unless another
	 * opener already replaced it under the same name.
	 */
	if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev) {
		sim_shared_unlink(name);
		close(fd);
		return 2;
	}
	close(fd);
	return 0;
}

int sim_shared_create_fd(void)
{
	int fd = open(SHM_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

int sim_shared_publish(int fd, const char *name)
{
	char path[128], self[64];

	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -errno;
	sim_shared_path(path, sizeof(path), name, -1);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	return 0;
}

bool sim_shared_owner_alive(int fd)
{
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		return errno == EWOULDBLOCK;
	flock(fd, LOCK_UN);
	return false;
}

void sim_shared_unlink(const char *name)
{
	char path[128];
	int i;

	sim_shared_path(path, sizeof(path), name, -1);
	unlink(path);
	for (i = 0; i < DMAKIT_RING_MAX_CONSUMERS; i++) {
		sim_shared_path(path, sizeof(path), name, i);
		unlink(path);
	}
}

/*
 * A consumer running as another user than the ring's owner (root reading
 * a user's ring) gives the FIFO it just made to that owner: the producer
 * must be able to open it to wake the slot, and to unlink it from the
 * sticky /dev/shm when it closes the ring.  Root may still open it.  Only
 * a FIFO this call created (nobody else can replace it in the sticky
 * directory), opened without following a link, with one name, is given.
 */
static void give_to_ring_owner(const char *name, int fd)
{
	char path[128];
	struct stat ring, fifo;

	sim_shared_path(path, sizeof(path), name, -1);
	if (lstat(path, &ring) || !S_ISREG(ring.st_mode) ||
	    fstat(fd, &fifo) || !S_ISFIFO(fifo.st_mode) ||
	    fifo.st_nlink != 1 || fifo.st_uid != geteuid() ||
	    ring.st_uid == fifo.st_uid)
		return;
	if (fchown(fd, ring.st_uid, ring.st_gid)) {
		/* not root: the owner's ring could not be ours to read */
	}
}

int sim_shared_wake_fd(const char *name, int slot, bool create)
{
	char path[128];
	bool made = false;
	int fd;

	sim_shared_path(path, sizeof(path), name, slot);
	if (create) {
		made = !mkfifo(path, 0600);
		if (!made && errno != EEXIST)
			return -errno;
	}
	/* read-write: never EPIPE/ENXIO, and POLLIN only when written */
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (made)
		give_to_ring_owner(name, fd);
	return fd;
}
