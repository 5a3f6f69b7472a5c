// SPDX-License-Identifier: MIT
/*
 * What is at a sink's target before it writes: an earlier recording,
 * another writer, a file system on a block device, a mistyped name under
 * /dev.  dmakit_sink_open() opens and locks every file without truncating
 * it, asks check_existing() and only then truncates, so a start that fails
 * for any reason leaves what was there untouched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <signal.h>
#include <unistd.h>
#include "sink.h"

/* Block devices: signatures live in the first MiB (the GPT and RAID
 * copies at the end have primaries there too). */
#define PROBE_BYTES	(1024 * 1024)

static bool has_bytes(const unsigned char *buf, size_t len, size_t off,
		      const void *magic, size_t mlen)
{
	return off + mlen <= len && !memcmp(buf + off, magic, mlen);
}

static uint32_t le32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static const char *ext_kind(const unsigned char *sb)
{
	/* the superblock's feature words, at 0x5c, 0x60 from its start */
	uint32_t compat = le32_at(sb + 0x5c), incompat = le32_at(sb + 0x60);

	if (incompat & (0x40 | 0x80 | 0x200))	/* extents, 64bit, flex_bg */
		return "an ext4 file system";
	if (compat & 0x4)			/* has_journal */
		return "an ext3 file system";
	return "an ext2 file system";
}

/* The first words of a buffer of the simulated card's payload. */
static bool sim_payload_at(const unsigned char *p, size_t len)
{
	uint64_t w[4];

	if (len < sizeof(w))
		return false;
	memcpy(w, p, sizeof(w));
	return (w[0] ^ dmakit_payload_word(0, 0)) ==
	       (w[1] ^ dmakit_payload_word(0, 1)) &&
	       (w[0] ^ dmakit_payload_word(0, 0)) ==
	       (w[3] ^ dmakit_payload_word(0, 3));
}

const char *dmakit_disk_signature(const unsigned char *buf, size_t len)
{
	static const unsigned int pages[] = { 4096, 8192, 16384, 65536 };
	static const unsigned char luks[] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };
	static const unsigned char luks2b[] = { 'S', 'K', 'U', 'L', 0xba, 0xbe };
	static const unsigned char md[] = { 0xfc, 0x4e, 0x2b, 0xa9 };
	static const unsigned char ext_magic[] = { 0x53, 0xef };
	size_t i;

	if (has_bytes(buf, len, 0x438, ext_magic, 2))
		return ext_kind(buf + 0x400);
	if (has_bytes(buf, len, 0, "XFSB", 4))
		return "an XFS file system";
	if (has_bytes(buf, len, 0x10040, "_BHRfS_M", 8))
		return "a btrfs file system";
	if (has_bytes(buf, len, 0, luks, 6) ||
	    has_bytes(buf, len, 0x4000, luks2b, 6))
		return "a LUKS encrypted volume";
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (has_bytes(buf, len, pages[i] - 10, "SWAPSPACE2", 10) ||
		    has_bytes(buf, len, pages[i] - 10, "SWAP-SPACE", 10))
			return "a swap area";
	if (has_bytes(buf, len, 0, md, 4) || has_bytes(buf, len, 4096, md, 4))
		return "a Linux RAID member";
	for (i = 0; i < 4; i++)
		if (has_bytes(buf, len, i * 512, "LABELONE", 8) &&
		    has_bytes(buf, len, i * 512 + 24, "LVM2 001", 8))
			return "an LVM physical volume";
	if (has_bytes(buf, len, 0x8001, "CD001", 5))
		return "an ISO 9660 file system";
	if (has_bytes(buf, len, 3, "NTFS    ", 8))
		return "an NTFS file system";
	if (has_bytes(buf, len, 0x36, "FAT1", 4) ||
	    has_bytes(buf, len, 0x52, "FAT32   ", 8))
		return "a FAT file system";
	if (has_bytes(buf, len, 512, "EFI PART", 8) ||
	    has_bytes(buf, len, 4096, "EFI PART", 8))
		return "a GPT partition table";
	if (has_bytes(buf, len, 510, "\x55\xaa", 2))
		return "an MBR partition table";
	if (sim_payload_at(buf, len))
		return "a dmakit recording";
	for (i = 0; i < len; i++)
		if (buf[i])
			return "data (it is not blank)";
	return NULL;
}

/* What a block device holds at its start, or NULL if it is blank. */
static int probe_device(const char *path, const char **what, char *err,
			size_t errlen)
{
	unsigned char *buf = malloc(PROBE_BYTES);
	size_t got = 0;
	int fd, ret = 0;

	*what = NULL;
	if (!buf)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = dmakit_errf(err, errlen, -errno, "open %s: %s", path,
				  strerror(errno));
		goto out;
	}
	while (got < PROBE_BYTES) {
		ssize_t n = pread(fd, buf + got, PROBE_BYTES - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = dmakit_errf(err, errlen, -errno,
					  "read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!ret)
		*what = dmakit_disk_signature(buf, got);
out:
	free(buf);
	return ret;
}

static bool exists(const char *path, off_t *size)
{
	struct stat sb;

	if (stat(path, &sb))
		return false;
	*size = sb.st_size;
	return true;
}

int dmakit_sink_check_existing(const char *data, const char *idx,
			       const char *meta, bool is_blkdev, char *err,
			       size_t errlen)
{
	bool has_idx, has_meta;
	off_t data_size = 0, size = 0;
	const char *what;
	int ret;

	if (is_blkdev) {
		ret = probe_device(data, &what, err, errlen);
		if (ret)
			return ret;
		if (what)
			return dmakit_errf(err, errlen, -EEXIST,
					   "%s holds %s: not overwriting it without --force",
					   data, what);
	} else if (!exists(data, &data_size)) {
		data_size = 0;
	}
	has_idx = exists(idx, &size) && size > 0;
	has_meta = exists(meta, &size);
	if (has_idx || has_meta)
		return dmakit_errf(err, errlen, -EEXIST,
				   "%s already holds a recording (%s%s%s): not overwriting it without --force",
				   data, has_idx ? idx : "",
				   has_idx && has_meta ? ", " : "",
				   has_meta ? meta : "");
	if (data_size > 0)
		return dmakit_errf(err, errlen, -EEXIST,
				   "%s is not empty (%lld bytes): not overwriting it without --force",
				   data, (long long)data_size);
	return 0;
}

/* The pid holding a flock on @fd's file, from /proc/locks; 0 if unknown. */
static long flock_holder(int fd)
{
	unsigned int maj, min;
	unsigned long long ino;
	struct stat sb;
	char line[256];
	long pid, found = 0;
	FILE *f;

	if (fstat(fd, &sb))
		return 0;
	f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	/* "1: FLOCK  ADVISORY  WRITE 4242 fd:01:123456 0 EOF" */
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d: FLOCK %*s %*s %ld %x:%x:%llu", &pid,
			   &maj, &min, &ino) == 4 &&
		    maj == major(sb.st_dev) && min == minor(sb.st_dev) &&
		    ino == (unsigned long long)sb.st_ino)
			found = pid;
	fclose(f);
	return found;
}

static void process_name(long pid, char *name, size_t len)
{
	char path[64];
	FILE *f;

	name[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(name, (int)len, f))
		name[strcspn(name, "\n")] = '\0';
	fclose(f);
}

/* "PATH is being written by another process (pid N, NAME)" */
static void describe_writer(int fd, const char *path, char *out, size_t len)
{
	char name[32] = "";
	long pid = flock_holder(fd);

	if (pid > 0)
		process_name(pid, name, sizeof(name));
	if (pid > 0)
		snprintf(out, len, "%s is being written by another process (pid %ld%s%s)",
			 path, pid, name[0] ? ", " : "", name);
	else
		snprintf(out, len, "%s is being written by another process",
			 path);
}

/* @pid has exited (or is a zombie, whose files are already closed). */
static bool process_gone(long pid)
{
	char path[64], state = 0;
	FILE *f;

	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT;
	/* "pid (comm) S ...": comm may hold spaces and parentheses */
	if (fscanf(f, "%*[^)]) %c", &state) != 1)
		state = 0;
	fclose(f);
	return state == 'Z' || state == 'X';
}

int dmakit_sink_lock_wait(int fd, const char *path, int dead_wait_ms,
			  char *err, size_t errlen)
{
	char writer[DMAKIT_ERRMSG_MAX];
	int waited = 0, unseen = 0, e;
	long holder;

	/*
	 * A recorder killed with SIGKILL can hold its lock for a while after
	 * it was reaped: the kernel drops the last references to its files
	 * asynchronously (io_uring's ring teardown, a delayed fput), and the
	 * lock goes with the last one.  "kill -9; dmakit recover" is what a
	 * user does, so a lock whose owner has exited is waited for (bounded),
	 * not reported as a live writer.
	 */
	for (;;) {
		if (!flock(fd, LOCK_EX | LOCK_NB))
			return 0;
		e = errno;
		if (e != EWOULDBLOCK || waited >= dead_wait_ms)
			break;
		holder = flock_holder(fd);
		/*
		 * No holder listed: the lock went between our try and the look
		 * (the last holder exited just then): try again, a few times
		 * (a file system whose locks /proc/locks does not list would
		 * otherwise keep us here)
		 */
		if (!holder && ++unseen <= 5)
			continue;
		if (holder <= 0 || !process_gone(holder))
			break;
		usleep(10 * 1000);
		waited += 10;
	}
	/* some network and FUSE file systems have no flock */
	if (e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS)
		return -EOPNOTSUPP;
	if (e != EWOULDBLOCK)
		return dmakit_errf(err, errlen, -e, "lock %s: %s", path,
				   strerror(e));
	describe_writer(fd, path, writer, sizeof(writer));
	return dmakit_errf(err, errlen, -EBUSY,
			   "%s: two writers would corrupt each other", writer);
}

int dmakit_sink_lock(int fd, const char *path, char *err, size_t errlen)
{
	return dmakit_sink_lock_wait(fd, path, DMAKIT_SINK_DEAD_LOCK_MS, err,
				     errlen);
}

int dmakit_sink_writer(const char *path, char *writer, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int held = 0;

	if (fd < 0)
		return 0;
	/* a shared probe: it never stands in a writer's way for long; a
	 * holder that has exited is a killed recorder, not a writer */
	if (flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK) {
		long holder = flock_holder(fd);

		if (holder <= 0 || !process_gone(holder)) {
			describe_writer(fd, path, writer, len);
			held = 1;
		}
	}
	close(fd);
	return held;
}

int dmakit_sink_check_unlocked(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int ret;

	if (fd < 0)
		return 0;	/* nothing there to hold */
	ret = dmakit_sink_lock(fd, path, err, errlen);
	close(fd);		/* drops the probe's lock */
	return ret == -EOPNOTSUPP ? 0 : ret;
}

int dmakit_sink_check_new_path(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path), *real = NULL;
	struct stat dir, dev, root;
	bool in_dev = false;
	int ret = 0;

	if (!copy)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	if (!stat(dirname(copy), &dir) && !stat("/dev", &dev) &&
	    !stat("/", &root)) {
		/* the device file system (devtmpfs), not /dev/shm's tmpfs */
		if (dev.st_dev != root.st_dev) {
			in_dev = dir.st_dev == dev.st_dev;
		} else {
			real = realpath(copy, NULL);
			in_dev = real && (!strcmp(real, "/dev") ||
					  !strncmp(real, "/dev/", 5));
		}
	}
	if (in_dev)
		ret = dmakit_errf(err, errlen, -ENOENT,
				  "%s does not exist (no such device; a recording is never created as a file under /dev)",
				  path);
	free(real);
	free(copy);
	return ret;
}

/*
 * A live recording's metadata, PREFIX.json, holds no lock: its recorder
 * replaces it by rename at each checkpoint.  It is known by the index
 * beside it, PREFIX.idx, which the recorder holds, so a recorder (with
 * --force or not) never takes another one's live metadata as its data.
 */
int dmakit_sink_check_not_live_meta(const char *path, char *err,
				    size_t errlen)
{
	char writer[DMAKIT_ERRMSG_MAX];
	size_t n = strlen(path);
	char *idx;
	int held;

	if (n <= 5 || strcmp(path + n - 5, ".json"))
		return 0;
	if (asprintf(&idx, "%.*s.idx", (int)(n - 5), path) < 0)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	held = dmakit_sink_writer(idx, writer, sizeof(writer));
	free(idx);
	if (held)
		return dmakit_errf(err, errlen, -EBUSY,
				   "%s is a live recording's metadata: %s",
				   path, writer);
	return 0;
}

/* The directory a new file @path would be created in exists. */
static int check_parent_dir(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path);
	struct stat sb;
	int ret = 0;

	if (!copy)
		return dmakit_errf(err, errlen, -ENOMEM, "out of memory");
	if (stat(dirname(copy), &sb))
		ret = dmakit_errf(err, errlen, -errno, "open %s: %s", path,
				  strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		ret = dmakit_errf(err, errlen, -ENOTDIR, "open %s: %s", path,
				  strerror(ENOTDIR));
	free(copy);
	return ret;
}

int dmakit_sink_preflight(const struct dmakit_sink_opts *o, char *err,
			  size_t errlen)
{
	const char *prefix = o->sidecar ? o->sidecar : o->path;
	char *idx = dmakit_sidecar_name(prefix, ".idx");
	char *meta = dmakit_sidecar_name(prefix, ".json");
	struct stat sb;
	int ret;

	if (!idx || !meta) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if (stat(o->path, &sb)) {
		if (errno != ENOENT) {
			ret = 0;	/* the open will say */
			goto out;
		}
		/* a new file: its directory must be there, its sidecars free */
		ret = dmakit_sink_check_new_path(o->path, err, errlen);
		if (!ret)
			ret = check_parent_dir(o->path, err, errlen);
		if (!ret)
			ret = dmakit_sink_check_unlocked(idx, err, errlen);
		if (!ret)
			ret = dmakit_sink_check_unlocked(meta, err, errlen);
		if (!ret && !o->force)
			ret = dmakit_sink_check_existing(o->path, idx, meta,
							 false, err, errlen);
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		ret = dmakit_errf(err, errlen, -EISDIR, "%s is a directory",
				  o->path);
		goto out;
	}
	ret = dmakit_sink_check_unlocked(o->path, err, errlen);
	if (!ret && S_ISREG(sb.st_mode))
		ret = dmakit_sink_check_not_live_meta(o->path, err, errlen);
	if (!ret)
		ret = dmakit_sink_check_unlocked(idx, err, errlen);
	if (!ret)	/* another recorder's data named as our metadata */
		ret = dmakit_sink_check_unlocked(meta, err, errlen);
	if (!ret && !o->force)
		ret = dmakit_sink_check_existing(o->path, idx, meta,
						 S_ISBLK(sb.st_mode), err,
						 errlen);
out:
	free(idx);
	free(meta);
	return ret;
}
