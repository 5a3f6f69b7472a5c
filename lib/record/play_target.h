/* SPDX-License-Identifier: MIT */
/*
 * dmakit_play()'s target (play_target.c): "chardev:PATH[,depth=N]" or a
 * plain PATH parsed, then opened under the recorder's rules for what a
 * file or disk already holds.
 */
#ifndef DMAKIT_RECORD_PLAY_TARGET_H
#define DMAKIT_RECORD_PLAY_TARGET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLAY_MAX_DEPTH		64
#define PLAY_DEFAULT_DEPTH	8
#define PLAY_PATH_MAX		4096

/**
 * struct play_target - where the recording goes.
 * @path:       the file, FIFO or device
 * @fd:         open for writing (-1 before)
 * @stream:     no offsets (character device, FIFO, socket): written in
 *              order with linked writes
 * @must_exist: given as chardev: (never created)
 * @depth:      writes in flight, 1..PLAY_MAX_DEPTH
 */
struct play_target {
	char path[PLAY_PATH_MAX];
	int fd;
	bool stream, must_exist;
	uint32_t depth;
};

/* Parse @spec into @t (path, must_exist, depth); 0 or -EINVAL with @err. */
int play_target_parse(struct play_target *t, const char *spec, char *err,
		      size_t errlen);

/*
 * Open @t->path for writing.  A missing path is created as a file unless
 * @t->must_exist (or it would be under /dev); a file or block device that
 * holds data or a recording is refused (-EEXIST) unless @force, and
 * emptied (a file) if it is taken; the recording itself (@rec_fds, @nfds
 * descriptors of its files) is refused (-EINVAL).  A FIFO waits for its
 * reader until *@stop is set (-EINTR), and its pipe is grown to
 * @bufsize.  0 or -errno with @err explaining (-EINTR without).
 */
int play_target_open(struct play_target *t, bool force,
		     volatile sig_atomic_t *stop, uint32_t bufsize,
		     const int *rec_fds, int nfds, char *err, size_t errlen);

#endif /* DMAKIT_RECORD_PLAY_TARGET_H */
