// SPDX-License-Identifier: MIT
/*
 * dmakit_play()'s target: "chardev:PATH[,depth=N]" (an existing device,
 * FIFO or file) or a plain PATH (may become a new file, never under
 * /dev), opened under the recorder's rules for what a file or disk holds
 * (sink_target.c): refused without force, the recording itself never.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "play_target.h"
#include "sink.h"

static int target_opt(void *ctx, const char *key, const char *val, char *err,
		      size_t errlen)
{
	struct play_target *t = ctx;
	char *end;
	unsigned long v;

	if (strcmp(key, "depth"))
		return dmakit_errf(err, errlen, -EINVAL,
				   "play: unknown target option '%s' (depth=N)",
				   key);
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || val[0] == '-' || v < 1 || v > PLAY_MAX_DEPTH)
		return dmakit_errf(err, errlen, -EINVAL,
				   "play: bad depth '%s' (writes in flight, 1..%d)",
				   val, PLAY_MAX_DEPTH);
	t->depth = (uint32_t)v;
	return 0;
}

int play_target_parse(struct play_target *t, const char *spec, char *err,
		      size_t errlen)
{
	const char *path = spec, *comma = NULL;
	size_t len;
	int ret;

	t->fd = -1;
	t->depth = PLAY_DEFAULT_DEPTH;
	if (!strncmp(spec, "chardev:", 8)) {
		path = spec + 8;
		comma = strchr(path, ',');
		t->must_exist = true;
	}
	len = comma ? (size_t)(comma - path) : strlen(path);
	if (!len || len >= sizeof(t->path))
		return dmakit_errf(err, errlen, -EINVAL,
				   "play: give a target: chardev:/dev/xdma0_h2c_0, a FIFO or a file");
	memcpy(t->path, path, len);
	t->path[len] = '\0';
	if (comma) {
		ret = dmakit_parse_opts(comma + 1, err, errlen, target_opt, t);
		if (ret)
			return ret;
	}
	return 0;
}

static bool same_file(const struct stat *a, int fd)
{
	struct stat b;

	return fd >= 0 && !fstat(fd, &b) && a->st_dev == b.st_dev &&
	       a->st_ino == b.st_ino;
}

/*
 * A FIFO opens for writing once it has a reader.  Asked without blocking,
 * again every 50 ms, so a stop request ends the wait whenever it comes;
 * the descriptor then blocks like any other.  -EINTR if stopped, else as
 * open() (-1, errno).
 */
static int open_fifo(const char *path, volatile sig_atomic_t *stop)
{
	const struct timespec pause = { .tv_nsec = 50000000 };
	int fd;

	for (;;) {
		if (stop && *stop)
			return -EINTR;
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != ENXIO)	/* ENXIO: no reader yet */
			return -1;
		nanosleep(&pause, NULL);
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		close(fd);
		return -1;
	}
	return fd;
}

int play_target_open(struct play_target *t, bool force,
		     volatile sig_atomic_t *stop, uint32_t bufsize,
		     const int *rec_fds, int nfds, char *err, size_t errlen)
{
	char *idx = NULL, *meta = NULL;
	struct stat sb;
	bool is_blk;
	int ret = 0, i;

	if (stat(t->path, &sb)) {
		if (errno != ENOENT)
			return dmakit_errf(err, errlen, -errno, "%s: %s",
					   t->path, strerror(errno));
		if (t->must_exist)
			return dmakit_errf(err, errlen, -ENOENT,
					   "%s does not exist (a chardev: target is never created)",
					   t->path);
		ret = dmakit_sink_check_new_path(t->path, err, errlen);
		if (ret)
			return ret;
		t->fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			     0644);
		if (t->fd < 0)
			return dmakit_errf(err, errlen, -errno, "create %s: %s",
					   t->path, strerror(errno));
		return 0;
	}
	if (S_ISDIR(sb.st_mode))
		return dmakit_errf(err, errlen, -EISDIR,
				   "%s is a directory, not a device, FIFO or file",
				   t->path);
	for (i = 0; i < nfds; i++)
		if (same_file(&sb, rec_fds[i]))
			return dmakit_errf(err, errlen, -EINVAL,
					   "%s is the recording being played: not writing into it",
					   t->path);
	is_blk = S_ISBLK(sb.st_mode);
	if (!S_ISREG(sb.st_mode) && !is_blk) {
		/* a character device, FIFO or socket: a stream, in order */
		t->stream = true;
		t->fd = S_ISFIFO(sb.st_mode) ? open_fifo(t->path, stop) :
			open(t->path, O_WRONLY | O_CLOEXEC);
		if (t->fd == -EINTR) {
			t->fd = -1;
			return -EINTR;
		}
		if (t->fd < 0)
			return dmakit_errf(err, errlen, -errno, "open %s: %s",
					   t->path, strerror(errno));
		/*
		 * A pipe as large as a buffer takes it in one write instead
		 * of a short write per 64 KiB; where the limit
		 * (pipe-max-size) forbids it, short writes still work.
		 */
		if (S_ISFIFO(sb.st_mode))
			fcntl(t->fd, F_SETPIPE_SZ, (int)bufsize);
		return 0;
	}
	/* a file or disk may hold someone's data: the recorder's rules */
	t->fd = open(t->path, O_WRONLY | O_CLOEXEC | (is_blk ? O_EXCL : 0));
	if (t->fd < 0)
		return dmakit_errf(err, errlen, -errno, "open %s: %s", t->path,
				   strerror(errno));
	ret = dmakit_sink_lock(t->fd, t->path, err, errlen);
	if (ret == -EOPNOTSUPP)
		ret = 0;
	if (ret)
		return ret;
	if (!force) {
		idx = dmakit_sidecar_name(t->path, ".idx");
		meta = dmakit_sidecar_name(t->path, ".json");
		ret = idx && meta ?
		      dmakit_sink_check_existing(t->path, idx, meta, is_blk,
						 err, errlen) :
		      dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		free(idx);
		free(meta);
		if (ret)
			return ret;
	}
	if (!is_blk && ftruncate(t->fd, 0))
		return dmakit_errf(err, errlen, -errno, "truncate %s: %s",
				   t->path, strerror(errno));
	return 0;
}
