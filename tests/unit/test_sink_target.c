// SPDX-License-Identifier: MIT
/*
 * What a sink finds at its target before writing: an earlier recording is
 * refused (and left byte-identical, also when the start fails later), a
 * second writer on the same files fails at once naming the first, a
 * mistyped /dev name is not created, and disk signatures are recognised.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dmakit.h>
#include <dmakit/recording.h>
#include "record/sink.h"
#include "t.h"

#define BUFSIZE		(64 * 1024)
#define NBUFS		4

static char dir[256];
static unsigned char *pool;

static const char *tmp_path(const char *name)
{
	static char path[4][512];
	static int n;
	char *p = path[n++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

static void opts_for(struct dmakit_sink_opts *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	o->engine = DMAKIT_ENGINE_PWRITE;
	o->bufsize = BUFSIZE;
	o->pool = pool;
	o->pool_len = (size_t)NBUFS * BUFSIZE;
	o->nbufs = NBUFS;
}

/* Record @n sim-payload buffers at @path; 0 or -errno. */
static int record_n(const char *path, const char *sidecar, int n, bool force)
{
	struct dmakit_sink_opts o;
	struct dmakit_sink_summary sum;
	struct dmakit_sink *s;
	uint64_t cookies[NBUFS];
	char err[256];
	int i, ret;

	opts_for(&o, path);
	o.sidecar = sidecar;
	o.force = force;
	ret = dmakit_sink_open(&s, &o, err, sizeof(err));
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct dmakit_desc d;
		uint64_t *w = (uint64_t *)(pool + (size_t)(i % NBUFS) * BUFSIZE);
		size_t k;

		for (k = 0; k < BUFSIZE / 8; k++)
			w[k] = dmakit_payload_word((uint64_t)i, k);
		memset(&d, 0, sizeof(d));
		d.seq = (uint64_t)i;
		d.len = BUFSIZE;
		while (dmakit_sink_submit(s, &d, w, i % NBUFS, (uint64_t)i) ==
		       -EAGAIN)
			dmakit_sink_reap(s, cookies, NBUFS, 1);
		/* the slot is reused after NBUFS: wait for its write */
		if (dmakit_sink_inflight(s) >= NBUFS - 1)
			dmakit_sink_reap(s, cookies, NBUFS, 1);
	}
	memset(&sum, 0, sizeof(sum));
	return dmakit_sink_close(s, &sum, NULL);
}

/* The whole file, malloc'd; NULL if unreadable. */
static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat sb;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &sb)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)sb.st_size + 1);
	*len = (size_t)sb.st_size;
	if (buf && read(fd, buf, *len) != (ssize_t)*len) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

static bool same_bytes(const unsigned char *a, size_t alen, const char *path)
{
	size_t blen;
	unsigned char *b = slurp(path, &blen);
	bool same = b && alen == blen && !memcmp(a, b, alen);

	free(b);
	return same;
}

static void verifies(const char *path, const char *sidecar, uint64_t n,
		     bool *ok)
{
	struct dmakit_verify_opts vo = { .sidecar = sidecar };
	struct dmakit_verify_report rep;
	char err[256];

	*ok = !dmakit_verify(path, &vo, &rep, err, sizeof(err)) &&
	      rep.ok && rep.buffers == n;
}

/* Without force: refused with -EEXIST, nothing changed, it still verifies. */
static void existing_recording_kept(void)
{
	const char *path = tmp_path("keep.dat");
	char idx[600], meta[600], err[256];
	unsigned char *data0, *idx0, *meta0;
	size_t dlen, ilen, mlen;
	struct dmakit_sink_opts o;
	struct dmakit_sink *s;
	bool ok;

	T_EQ(record_n(path, NULL, 8, false), 0);
	snprintf(idx, sizeof(idx), "%s.idx", path);
	snprintf(meta, sizeof(meta), "%s.json", path);
	data0 = slurp(path, &dlen);
	idx0 = slurp(idx, &ilen);
	meta0 = slurp(meta, &mlen);
	T_ASSERT(data0 && idx0 && meta0 && dlen == 8 * BUFSIZE);

	opts_for(&o, path);
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), -EEXIST);
	T_ASSERT(strstr(err, "already holds a recording"));
	T_ASSERT(strstr(err, "--force"));
	T_EQ(dmakit_sink_preflight(&o, err, sizeof(err)), -EEXIST);

	/* a start that fails after the checks (the sidecar directory is
	 * missing), with force: still nothing of the old one is lost */
	o.force = true;
	o.sidecar = tmp_path("no/such/dir/side");
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), -ENOENT);

	T_ASSERT(same_bytes(data0, dlen, path));
	T_ASSERT(same_bytes(idx0, ilen, idx));
	T_ASSERT(same_bytes(meta0, mlen, meta));
	verifies(path, NULL, 8, &ok);
	T_ASSERT(ok);
	free(data0);
	free(idx0);
	free(meta0);

	/* force overwrites it for real */
	T_EQ(record_n(path, NULL, 3, true), 0);
	verifies(path, NULL, 3, &ok);
	T_ASSERT(ok);
}

/* Each piece alone is enough to refuse: data, index, metadata. */
static void any_piece_refuses(void)
{
	static const char *const pieces[] = { "p.dat", "p.dat.idx",
					       "p.dat.json" };
	const char *path = tmp_path("p.dat");
	struct dmakit_sink_opts o;
	struct dmakit_sink *s;
	char err[256];
	size_t i;
	int fd;

	opts_for(&o, path);
	for (i = 0; i < 3; i++) {
		unlink(tmp_path("p.dat"));
		unlink(tmp_path("p.dat.idx"));
		unlink(tmp_path("p.dat.json"));
		fd = open(tmp_path(pieces[i]), O_WRONLY | O_CREAT, 0644);
		T_ASSERT(fd >= 0);
		T_EQ(write(fd, "x", 1), 1);
		close(fd);
		T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), -EEXIST);
		T_ASSERT(strstr(err, "--force"));
		/* the refused open created nothing */
		T_EQ(access(tmp_path(pieces[(i + 1) % 3]), F_OK), -1);
		T_EQ(access(tmp_path(pieces[(i + 2) % 3]), F_OK), -1);
	}
	/* an empty data file holds nothing: it may be used */
	unlink(tmp_path("p.dat.json"));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	T_ASSERT(fd >= 0);
	close(fd);
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), 0);
	T_EQ(dmakit_sink_close(s, NULL, NULL), 0);
}

/* A second writer on the same files fails at once, naming the first. */
static void second_writer_refused(void)
{
	const char *path = tmp_path("two.dat");
	struct dmakit_sink_opts o;
	struct dmakit_sink *first, *second;
	char err[256], pid[32];

	opts_for(&o, path);
	T_EQ(dmakit_sink_open(&first, &o, err, sizeof(err)), 0);
	o.force = true;		/* even when told to overwrite */
	T_EQ(dmakit_sink_open(&second, &o, err, sizeof(err)), -EBUSY);
	snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
	T_ASSERT(strstr(err, "being written by another process"));
	T_ASSERT(strstr(err, pid));
	T_EQ(dmakit_sink_preflight(&o, err, sizeof(err)), -EBUSY);
	T_EQ(dmakit_sink_writer(path, err, sizeof(err)), 1);
	T_ASSERT(strstr(err, pid));
	/* the same index under another data name is just as busy */
	o.path = tmp_path("other.dat");
	o.sidecar = path;
	T_EQ(dmakit_sink_open(&second, &o, err, sizeof(err)), -EBUSY);
	T_ASSERT(strstr(err, ".idx is being written"));
	T_EQ(access(tmp_path("other.dat"), F_OK), -1);
	T_EQ(dmakit_sink_close(first, NULL, NULL), 0);
}

/*
 * A lock whose owner has exited but whose file the kernel has not yet let
 * go of (after SIGKILL, io_uring's teardown drops it later): waited for,
 * not refused.  Simulated with a grandchild that inherits the locked file
 * from the child that took the lock and exits after it.
 */
static void dead_holder_waited_for(void)
{
	const char *path = tmp_path("dead.dat");
	int fd, mine, go[2], status;
	char err[256], pid[32];
	pid_t child;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	T_ASSERT(fd >= 0);
	T_EQ(pipe(go), 0);
	child = fork();
	T_ASSERT(child >= 0);
	if (child == 0) {
		char c;
		pid_t grandchild;

		close(go[1]);
		if (flock(fd, LOCK_EX))
			_exit(1);
		grandchild = fork();
		if (grandchild)
			_exit(grandchild < 0);
		/* the owner has exited; its child keeps the file a while */
		if (read(go[0], &c, 1) == 1)
			usleep(300 * 1000);
		_exit(0);
	}
	/* the lock lives in the file description: only the children hold it */
	close(fd);
	close(go[0]);
	T_EQ(waitpid(child, &status, 0), child);
	T_EQ(status, 0);
	mine = open(path, O_RDWR);
	T_ASSERT(mine >= 0);
	/* without a wait: refused, naming the exited owner */
	T_EQ(dmakit_sink_lock_wait(mine, path, 0, err, sizeof(err)), -EBUSY);
	snprintf(pid, sizeof(pid), "pid %d", (int)child);
	T_ASSERT(strstr(err, pid));
	/* verify's probe: an exited owner is not a writer at work */
	T_EQ(dmakit_sink_writer(path, err, sizeof(err)), 0);
	/* with one: taken once the last holder lets go */
	T_EQ(write(go[1], "g", 1), 1);
	T_EQ(dmakit_sink_lock_wait(mine, path, DMAKIT_SINK_DEAD_LOCK_MS, err,
				   sizeof(err)), 0);
	close(go[1]);
	close(mine);
}

static void data_and_sidecar_differ(void)
{
	struct dmakit_sink_opts o;
	struct dmakit_sink *s;
	char err[256];

	/* -o X.idx --sidecar X: the data would be the index */
	opts_for(&o, tmp_path("same.idx"));
	o.sidecar = tmp_path("same");
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "both the data and a sidecar"));
	T_EQ(access(tmp_path("same.idx"), F_OK), -1);
}

static void no_files_in_dev(void)
{
	struct dmakit_sink_opts o;
	struct dmakit_sink *s;
	char err[256];

	opts_for(&o, "/dev/dmakit-test-no-such-disk");
	o.sidecar = tmp_path("devside");
	T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), -ENOENT);
	T_ASSERT(strstr(err, "does not exist"));
	T_EQ(access("/dev/dmakit-test-no-such-disk", F_OK), -1);
	T_EQ(dmakit_sink_preflight(&o, err, sizeof(err)), -ENOENT);
	/* /dev/shm is a file system of its own: files there are fine */
	if (!access("/dev/shm", W_OK)) {
		char shm[64];

		snprintf(shm, sizeof(shm), "/dev/shm/dmakit-t-%d.dat",
			 (int)getpid());
		opts_for(&o, shm);
		o.sidecar = tmp_path("shmside");
		T_EQ(dmakit_sink_open(&s, &o, err, sizeof(err)), 0);
		T_EQ(dmakit_sink_close(s, NULL, NULL), 0);
		unlink(shm);
	}
}

static void put(unsigned char *buf, size_t off, const void *m, size_t len)
{
	memcpy(buf + off, m, len);
}

static void disk_signatures(void)
{
	static const struct {
		size_t off;
		const char *magic;
		size_t len;
		const char *want;
	} cases[] = {
		{ 0x438, "\x53\xef", 2, "an ext2 file system" },
		{ 0, "XFSB", 4, "an XFS file system" },
		{ 0x10040, "_BHRfS_M", 8, "a btrfs file system" },
		{ 0, "LUKS\xba\xbe", 6, "a LUKS encrypted volume" },
		{ 4096 - 10, "SWAPSPACE2", 10, "a swap area" },
		{ 65536 - 10, "SWAPSPACE2", 10, "a swap area" },
		{ 4096, "\xfc\x4e\x2b\xa9", 4, "a Linux RAID member" },
		{ 0x8001, "CD001", 5, "an ISO 9660 file system" },
		{ 3, "NTFS    ", 8, "an NTFS file system" },
		{ 0x52, "FAT32   ", 8, "a FAT file system" },
		{ 512, "EFI PART", 8, "a GPT partition table" },
		{ 510, "\x55\xaa", 2, "an MBR partition table" },
		{ 700000, "\x01", 1, "data (it is not blank)" },
	};
	size_t len = 1 << 20, i;
	unsigned char *buf = calloc(1, len);
	uint64_t w[4];

	T_ASSERT(buf);
	T_ASSERT(dmakit_disk_signature(buf, len) == NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got;

		memset(buf, 0, len);
		put(buf, cases[i].off, cases[i].magic, cases[i].len);
		got = dmakit_disk_signature(buf, len);
		if (!got || strcmp(got, cases[i].want)) {
			free(buf);
			T_FAIL("magic at %zu: got %s, expected %s",
			       cases[i].off, got ? got : "(blank)",
			       cases[i].want);
		}
	}
	/* ext4: the extents feature; a FAT boot sector has 55 AA too */
	memset(buf, 0, len);
	put(buf, 0x438, "\x53\xef", 2);
	buf[0x460] = 0x40;
	T_STREQ(dmakit_disk_signature(buf, len), "an ext4 file system");
	memset(buf, 0, len);
	put(buf, 0x36, "FAT16   ", 8);
	put(buf, 510, "\x55\xaa", 2);
	T_STREQ(dmakit_disk_signature(buf, len), "a FAT file system");
	/* a device smaller than the probe is read as far as it goes */
	T_ASSERT(dmakit_disk_signature(buf, 0x36) == NULL);
	/* a sim recording's first buffer */
	memset(buf, 0, len);
	for (i = 0; i < 4; i++)
		w[i] = dmakit_payload_word(1234, i);
	memcpy(buf, w, sizeof(w));
	T_STREQ(dmakit_disk_signature(buf, len), "a dmakit recording");
	free(buf);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_sink_target.XXXXXX",
		 t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (posix_memalign((void **)&pool, 4096, (size_t)NBUFS * BUFSIZE))
		return 1;
	T_RUN(existing_recording_kept);
	T_RUN(any_piece_refuses);
	T_RUN(second_writer_refused);
	T_RUN(dead_holder_waited_for);
	T_RUN(data_and_sidecar_differ);
	T_RUN(no_files_in_dev);
	T_RUN(disk_signatures);
	free(pool);
	if (!t_failed) {
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd)) {
			/* best effort: the runner removes TMPDIR anyway */
		}
	}
	return t_exit();
}
