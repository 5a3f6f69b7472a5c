// SPDX-License-Identifier: MIT
/*
 * dmakit_send() and dmakit_recv() as a library, in one process: a stream
 * over loopback recorded and verified; the statistics both ends report;
 * callbacks; a receiver that refuses the stream (ACCEPT with an error);
 * argument checks; a lossy sender whose overwritten buffers never reach
 * the recording.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <dmakit.h>
#include <dmakit/stream.h>
#include "t.h"

struct receiver {
	pthread_t thread;
	struct dmakit_recv_opts o;
	struct dmakit_recv_stats st;
	char path[256], sidecar[256];
	char err[256];
	int ret, port;
};

static void *recv_main(void *p)
{
	struct receiver *r = p;

	r->ret = dmakit_recv(&r->o, &r->st, r->err, sizeof(r->err));
	return NULL;
}

/*
 * Listen on an ephemeral loopback port and receive one stream into @path
 * (its index and metadata at @sidecar, if not NULL).
 */
static int start_receiver_at(struct receiver *r, const char *path,
			     const char *sidecar)
{
	char err[256];
	int fd;

	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (sidecar) {
		snprintf(r->sidecar, sizeof(r->sidecar), "%s", sidecar);
		r->o.sink.sidecar = r->sidecar;
	}
	fd = dmakit_net_listen("127.0.0.1:0", err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "listen: %s\n", err);
		return fd;
	}
	r->port = dmakit_net_local_port(fd);
	r->o.listen_fd = fd;
	r->o.sink.path = r->path;
	r->o.accept_timeout_ms = 10000;
	r->o.idle_timeout_ms = 10000;
	return pthread_create(&r->thread, NULL, recv_main, r) ? -1 : 0;
}

static int start_receiver(struct receiver *r, const char *path)
{
	return start_receiver_at(r, path, NULL);
}

static void join_receiver(struct receiver *r)
{
	pthread_join(r->thread, NULL);
	close(r->o.listen_fd);
}

static void remove_recording(const char *path)
{
	char p[300];

	unlink(path);
	snprintf(p, sizeof(p), "%s.idx", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s.json", path);
	unlink(p);
}

static char tmp_path[256];

static const char *tmp_file(const char *name)
{
	const char *dir = getenv("TMPDIR");

	snprintf(tmp_path, sizeof(tmp_path), "%s/test_net_stream.%d.%s",
		 dir ? dir : "/tmp", (int)getpid(), name);
	return tmp_path;
}

static int notices, progresses;

static void count_notice(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
	notices++;
}

static void count_progress(void *ctx, const struct dmakit_send_progress *p)
{
	(void)ctx;
	(void)p;
	progresses++;
}

static void stream_recorded_and_verified(void)
{
	struct dmakit_send_opts o = { .mode = DMAKIT_RELIABLE };
	struct dmakit_verify_report rep;
	struct dmakit_send_stats st;
	struct receiver r;
	struct dmakit_dev *dev;
	char addr[64], err[256];

	T_EQ(start_receiver(&r, tmp_file("ok.dat")), 0);
	T_EQ(dmakit_open(&dev, "sim:bufsize=64K,nbufs=16,rate=200M", err,
			 sizeof(err)), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", r.port);
	o.addr = addr;
	o.max_bytes = 8 << 20;
	o.zerocopy = DMAKIT_ZC_AUTO;
	o.notice = count_notice;
	o.progress = count_progress;
	o.progress_ms = 1;
	notices = progresses = 0;
	T_EQ(dmakit_send(dev, &o, &st, err, sizeof(err)), 0);
	dmakit_close(dev);
	join_receiver(&r);
	T_EQ(r.ret, 0);
	T_EQ_U64(st.buffers, 128);
	T_EQ_U64(st.bytes, 8 << 20);
	T_ASSERT(st.have_final);
	T_EQ(st.final.status, 0);
	T_EQ_U64(st.final.buffers, 128);
	T_EQ(st.result, DMAKIT_RESULT_COMPLETE);
	/* loopback copies: AUTO noticed it and switched to plain sends */
	T_EQ(st.zerocopy, DMAKIT_ZC_OFF);
	T_EQ_U64(st.zc_copied, st.zc_sends);
	T_ASSERT(notices >= 1);
	T_ASSERT(progresses >= 1);
	T_ASSERT(r.st.got_end);
	T_EQ_U64(r.st.frames, 128);
	T_EQ_U64(r.st.sender.buffers, 128);
	T_EQ(r.st.recorded.result, DMAKIT_RESULT_COMPLETE);
	T_EQ_U64(r.st.recorded.buffers, 128);
	T_STREQ(r.st.hello.device, "sim:bufsize=64K,nbufs=16,rate=200M");
	T_EQ(dmakit_verify(r.path, NULL, &rep, err, sizeof(err)), 0);
	T_ASSERT(rep.ok);
	T_ASSERT(rep.payload_checked);
	T_EQ_U64(rep.buffers, 128);
	remove_recording(r.path);
}

/*
 * The receiver cannot create its output.  A missing directory for the data
 * is seen before anyone connects: refused at once.  One for the sidecars
 * only when the recording opens, at HELLO: the sender hears why.
 */
static void refused_stream(void)
{
	struct dmakit_send_opts o = { .mode = DMAKIT_RELIABLE };
	struct dmakit_send_stats st;
	struct receiver r;
	struct dmakit_dev *dev;
	char addr[64], err[256];

	T_EQ(start_receiver(&r, "/nonexistent-dir/x.dat"), 0);
	join_receiver(&r);
	T_EQ(r.ret, -ENOENT);
	T_ASSERT(strstr(r.err, "nonexistent-dir"));

	T_EQ(start_receiver_at(&r, tmp_file("refused.dat"),
			       "/nonexistent-dir/side"), 0);
	T_EQ(dmakit_open(&dev, "sim:bufsize=4K,nbufs=4", err, sizeof(err)), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", r.port);
	o.addr = addr;
	o.max_bytes = 1 << 20;
	err[0] = '\0';
	T_EQ(dmakit_send(dev, &o, &st, err, sizeof(err)), -ENOENT);
	T_ASSERT(strstr(err, "rejected the stream"));
	T_ASSERT(strstr(err, "nonexistent-dir"));
	T_EQ_U64(st.buffers, 0);
	dmakit_close(dev);
	join_receiver(&r);
	T_EQ(r.ret, -ENOENT);
	T_EQ(access(r.path, F_OK), -1);	/* the data file it made removed */
}

static void bad_arguments(void)
{
	struct dmakit_send_opts o = { .mode = DMAKIT_RELIABLE };
	struct dmakit_recv_opts ro = { .listen_fd = -1 };
	struct dmakit_send_stats st;
	struct dmakit_recv_stats rs;
	struct dmakit_dev *dev;
	char err[256];

	T_EQ(dmakit_open(&dev, "sim:bufsize=4K,nbufs=4", err, sizeof(err)), 0);
	T_EQ(dmakit_send(dev, &o, &st, err, sizeof(err)), -EINVAL);
	o.addr = "127.0.0.1:1";
	o.mode = 7;
	T_EQ(dmakit_send(dev, &o, &st, err, sizeof(err)), -EINVAL);
	o.mode = DMAKIT_RELIABLE;
	o.zerocopy = 9;
	T_EQ(dmakit_send(dev, &o, &st, err, sizeof(err)), -EINVAL);
	o.zerocopy = DMAKIT_ZC_OFF;
	o.addr = "nohost";
	T_EQ(dmakit_send(dev, &o, &st, err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "nohost"));	/* names what is wrong */
	dmakit_close(dev);
	T_EQ(dmakit_recv(&ro, &rs, err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_net_listen("127.0.0.1:70000", err, sizeof(err)), -EINVAL);
}

/*
 * A lossy sender at full speed against a small ring: overwrites happen
 * while the kernel reads, the receiver drops those buffers by CRC (never
 * more than the sender flagged), and the recording still verifies.
 */
static void lossy_overwrites_never_recorded(void)
{
	struct dmakit_send_opts o = { .mode = DMAKIT_LOSSY };
	struct dmakit_verify_report rep;
	struct dmakit_send_stats st;
	struct receiver r;
	struct dmakit_dev *dev;
	char addr[64], err[256];

	T_EQ(start_receiver(&r, tmp_file("lossy.dat")), 0);
	T_EQ(dmakit_open(&dev, "sim:bufsize=64K,nbufs=4", err, sizeof(err)), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", r.port);
	o.addr = addr;
	o.max_bytes = 32 << 20;
	o.zerocopy = DMAKIT_ZC_MSG;
	T_EQ(dmakit_send(dev, &o, &st, err, sizeof(err)), 0);
	dmakit_close(dev);
	join_receiver(&r);
	T_EQ(r.ret, 0);
	fprintf(stderr, "  lossy: %llu sent, %llu skipped, %llu flagged, %llu dropped by CRC\n",
		(unsigned long long)st.buffers, (unsigned long long)st.skipped,
		(unsigned long long)st.discarded,
		(unsigned long long)r.st.discarded);
	T_ASSERT(st.skipped + st.discarded > 0);
	T_ASSERT(r.st.discarded <= st.discarded);
	T_EQ_U64(r.st.discard_notes, st.discarded);
	T_EQ_U64(r.st.recorded.buffers + r.st.discarded, st.buffers);
	T_EQ(dmakit_verify(r.path, NULL, &rep, err, sizeof(err)), 0);
	T_ASSERT(rep.ok);
	T_EQ_U64(rep.crc_errors + rep.payload_errors, 0);
	remove_recording(r.path);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(stream_recorded_and_verified);
	T_RUN(refused_stream);
	T_RUN(bad_arguments);
	T_RUN(lossy_overwrites_never_recorded);
	return t_exit();
}
