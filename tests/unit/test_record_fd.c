// SPDX-License-Identifier: MIT
/*
 * dmakit_record_fd() ('dmakit record -o -'): the buffers' bytes in order on
 * a file descriptor, every ending reported as dmakit_record() reports it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dmakit.h>
#include <dmakit/recording.h>
#include "t.h"

#define BUFSIZE (64 * 1024)

static char path[256];

static int open_sim(struct dmakit_dev **dev, const char *opts)
{
	char spec[128], err[256];

	snprintf(spec, sizeof(spec), "sim:bufsize=64K,nbufs=16,policy=block%s",
		 opts);
	return dmakit_open(dev, spec, err, sizeof(err));
}

static void bytes_in_order(void)
{
	struct dmakit_record_opts ro = { .max_bytes = 10 * BUFSIZE + 1 };
	struct dmakit_sink_stats st;
	struct dmakit_dev *dev;
	uint64_t seq, w, word;
	struct stat sb;
	char err[256];
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	T_ASSERT(fd >= 0);
	T_EQ(open_sim(&dev, ""), 0);
	T_EQ(dmakit_record_fd(dev, fd, &ro, &st, err, sizeof(err)), 0);
	dmakit_close(dev);
	/* rounded up to whole buffers, like dmakit_record() */
	T_EQ(st.result, DMAKIT_RESULT_COMPLETE);
	T_EQ_U64(st.buffers, 11);
	T_EQ_U64(st.bytes, 11ULL * BUFSIZE);
	T_EQ_U64(st.first_seq, 0);
	T_EQ_U64(st.last_seq, 10);
	T_EQ_U64(st.gaps + st.lost + st.dropped, 0);
	T_EQ(fstat(fd, &sb), 0);
	T_EQ(sb.st_size, 11LL * BUFSIZE);
	/* each buffer's payload, in sequence order, nothing between them */
	T_EQ(lseek(fd, 0, SEEK_SET), 0);
	for (seq = 0; seq < 11; seq++)
		for (w = 0; w < BUFSIZE / 8; w++) {
			T_EQ(read(fd, &word, 8), 8);
			if (word != dmakit_payload_word(seq, w))
				T_FAIL("buffer %llu word %llu differs",
				       (unsigned long long)seq,
				       (unsigned long long)w);
		}
	close(fd);
}

static void endings(void)
{
	struct dmakit_record_opts ro = { .max_bytes = 100 * BUFSIZE };
	volatile sig_atomic_t stop = 1;
	struct dmakit_sink_stats st;
	struct dmakit_dev *dev;
	char err[256];
	int fd, pipefd[2];

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_ASSERT(fd >= 0);
	/* the source ends first */
	T_EQ(open_sim(&dev, ",count=5"), 0);
	T_EQ(dmakit_record_fd(dev, fd, &ro, &st, err, sizeof(err)), -ENODATA);
	dmakit_close(dev);
	T_EQ(st.result, DMAKIT_RESULT_SOURCE_ENDED);
	T_EQ_U64(st.buffers, 5);
	/* a stop request: no buffer is cut */
	T_EQ(open_sim(&dev, ""), 0);
	ro.stop = &stop;
	T_EQ(dmakit_record_fd(dev, fd, &ro, &st, err, sizeof(err)), -EINTR);
	dmakit_close(dev);
	T_EQ(st.result, DMAKIT_RESULT_INTERRUPTED);
	close(fd);
	/* the reader went away: an I/O error that says so, not success */
	T_EQ(pipe(pipefd), 0);
	close(pipefd[0]);
	ro.stop = NULL;
	T_EQ(open_sim(&dev, ""), 0);
	T_EQ(dmakit_record_fd(dev, pipefd[1], &ro, &st, err, sizeof(err)),
	     -EPIPE);
	dmakit_close(dev);
	close(pipefd[1]);
	T_EQ(st.result, DMAKIT_RESULT_IO_ERROR);
	T_EQ_U64(st.buffers, 0);
	T_ASSERT(strstr(err, "Broken pipe") != NULL);
	/* no descriptor */
	T_EQ(open_sim(&dev, ""), 0);
	T_EQ(dmakit_record_fd(dev, -1, &ro, &st, err, sizeof(err)), -EINVAL);
	dmakit_close(dev);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	signal(SIGPIPE, SIG_IGN);	/* as the CLI does: EPIPE, not a kill */
	snprintf(path, sizeof(path), "%s/test_record_fd.%d", t ? t : "/tmp",
		 (int)getpid());
	T_RUN(bytes_in_order);
	T_RUN(endings);
	unlink(path);
	return t_exit();
}
