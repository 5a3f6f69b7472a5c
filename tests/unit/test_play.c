// SPDX-License-Identifier: MIT
/*
 * dmakit_play() through the library: a sim recording played into a pipe
 * whose reader checks every payload word in order, passes, the progress
 * callback, a stop request from it (the report equals what the reader
 * got), and the refusals before the first write.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <dmakit.h>
#include <dmakit/recording.h>
#include "t.h"

#define BUFSIZE (64 * 1024)
#define NBUFS	12

static char rec[256];

struct reader {
	int fd;
	uint64_t bytes;
	uint64_t bad_at;	/* first byte not the payload, or UINT64_MAX */
};

/* Read the pipe to EOF, checking the sim payload of NBUFS buffers per pass. */
static void *read_pipe(void *arg)
{
	struct reader *r = arg;
	static __thread uint64_t buf[BUFSIZE / 8];
	ssize_t n;

	r->bad_at = UINT64_MAX;
	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		ssize_t i;

		for (i = 0; i + 8 <= n; i += 8) {
			uint64_t at = r->bytes + (uint64_t)i;
			uint64_t seq = (at / BUFSIZE) % NBUFS;
			uint64_t word = (at % BUFSIZE) / 8;

			if (buf[i / 8] != dmakit_payload_word(seq, word) &&
			    r->bad_at == UINT64_MAX)
				r->bad_at = at;
		}
		r->bytes += (uint64_t)n;
	}
	return NULL;
}

struct progress_log {
	unsigned int calls, finals;
	uint64_t last_bytes, total;
	volatile sig_atomic_t *stop;	/* set once bytes moved */
};

static void on_progress(void *ctx, const struct dmakit_play_progress *p)
{
	struct progress_log *l = ctx;

	l->calls++;
	l->finals += p->final;
	l->last_bytes = p->bytes;
	l->total = p->total_bytes;
	if (l->stop && p->bytes)
		*l->stop = 1;
}

/* Play into a pipe read by a thread; 0 or the dmakit_play() error. */
static int play_pipe(const struct dmakit_play_opts *o,
		     struct dmakit_play_report *rep, struct reader *r)
{
	char target[64], err[256];
	pthread_t t;
	int fds[2], ret;

	if (pipe(fds))
		return -errno;
	r->fd = fds[0];
	r->bytes = 0;
	pthread_create(&t, NULL, read_pipe, r);
	/* the pipe's write end by name: a FIFO-like stream target */
	snprintf(target, sizeof(target), "chardev:/proc/self/fd/%d,depth=4",
		 fds[1]);
	ret = dmakit_play(rec, target, o, rep, err, sizeof(err));
	close(fds[1]);
	pthread_join(t, NULL);
	close(fds[0]);
	if (ret)
		fprintf(stderr, "  (dmakit_play: %s)\n", err);
	return ret;
}

static void plays_in_order(void)
{
	struct progress_log log = { 0 };
	struct dmakit_play_opts o = {
		.loops = 3, .progress = on_progress, .progress_ctx = &log,
		.progress_ms = 1,
	};
	struct dmakit_play_report rep;
	struct reader r;

	T_EQ(play_pipe(&o, &rep, &r), 0);
	T_EQ(rep.result, DMAKIT_PLAY_COMPLETE);
	T_STREQ(dmakit_play_result_name(rep.result), "complete");
	T_EQ_U64(rep.passes, 3);
	T_EQ_U64(rep.buffers, 3 * NBUFS);
	T_EQ_U64(rep.bytes, 3ULL * NBUFS * BUFSIZE);
	T_EQ_U64(rep.partial_bytes, 0);
	T_EQ_U64(rep.total_bytes, rep.bytes);
	T_EQ_U64(rep.rec_buffers, NBUFS);
	T_EQ(rep.depth, 4);
	T_EQ(rep.error, 0);
	T_EQ_U64(r.bytes, rep.bytes);
	T_EQ_U64(r.bad_at, UINT64_MAX);
	T_EQ(log.finals, 1);
	T_EQ_U64(log.last_bytes, rep.bytes);
	T_EQ_U64(log.total, rep.bytes);
}

static void stops_honestly(void)
{
	static volatile sig_atomic_t stop;
	struct progress_log log = { .stop = &stop };
	struct dmakit_play_opts o = {
		.loops = 1000, .rate = 4 * BUFSIZE, .stop = &stop,
		.progress = on_progress, .progress_ctx = &log, .progress_ms = 1,
	};
	struct dmakit_play_report rep;
	struct reader r;

	stop = 0;
	T_EQ(play_pipe(&o, &rep, &r), -EINTR);
	T_EQ(rep.result, DMAKIT_PLAY_INTERRUPTED);
	T_ASSERT(rep.bytes > 0 && rep.bytes < rep.total_bytes);
	/* every byte the reader got is counted, and no other */
	T_EQ_U64(rep.bytes + rep.partial_bytes, r.bytes);
	T_EQ_U64(r.bad_at, UINT64_MAX);
	T_ASSERT(rep.passes < 1000);
}

static void refuses_before_writing(void)
{
	struct dmakit_play_report rep;
	char err[256];

	T_EQ(dmakit_play(rec, "chardev:", NULL, &rep, err, sizeof(err)), -EINVAL);
	T_EQ(rep.result, DMAKIT_PLAY_REFUSED);
	T_EQ(dmakit_play(rec, "chardev:/dev/null,depth=0", NULL, &rep, err,
			 sizeof(err)), -EINVAL);
	T_EQ(dmakit_play(rec, "chardev:/dev/null,bogus=1", NULL, &rep, err,
			 sizeof(err)), -EINVAL);
	T_EQ(dmakit_play(rec, "chardev:/nonexistent/h2c", NULL, &rep, err,
			 sizeof(err)), -ENOENT);
	T_EQ(access("/nonexistent/h2c", F_OK), -1);
	T_EQ(dmakit_play("/nonexistent.dat", "/dev/null", NULL, &rep, err,
			 sizeof(err)), -ENOENT);
	T_EQ(rep.result, DMAKIT_PLAY_REFUSED);
	T_EQ_U64(rep.bytes, 0);
	T_EQ(dmakit_play(rec, rec, NULL, &rep, err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "the recording being played") != NULL);
	T_EQ(dmakit_play(rec, "/dev/null", NULL, NULL, err, sizeof(err)), -EINVAL);
}

static int make_recording(void)
{
	struct dmakit_record_opts ro = {
		.max_bytes = (uint64_t)NBUFS * BUFSIZE,
		.sink.path = rec, .sink.force = true, .sink.checkpoint_ms = -1,
	};
	struct dmakit_sink_stats st;
	struct dmakit_dev *dev;
	char err[256];
	int ret;

	ret = dmakit_open(&dev, "sim:bufsize=64K,nbufs=16,policy=block", err,
			  sizeof(err));
	if (ret)
		return ret;
	ret = dmakit_record(dev, &ro, &st, err, sizeof(err));
	dmakit_close(dev);
	if (ret)
		fprintf(stderr, "record: %s\n", err);
	return ret;
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	char side[300];

	signal(SIGPIPE, SIG_IGN);
	snprintf(rec, sizeof(rec), "%s/test_play.%d", t ? t : "/tmp",
		 (int)getpid());
	if (make_recording()) {
		fprintf(stderr, "cannot make the recording to play\n");
		return 1;
	}
	T_RUN(plays_in_order);
	T_RUN(stops_honestly);
	T_RUN(refuses_before_writing);
	unlink(rec);
	snprintf(side, sizeof(side), "%s.idx", rec);
	unlink(side);
	snprintf(side, sizeof(side), "%s.json", rec);
	unlink(side);
	return t_exit();
}
