// SPDX-License-Identifier: MIT
/*
 * What a session creates in tracefs, and cleaning up after crashed ones.
 *
 * Everything a session creates (its instance, its uprobe group) is named
 * dmakit_<pid>_<start>_<tag>_<pidns>: the pid and the process start time
 * (boot ticks, field 22 of /proc/PID/stat) identify the owner even after
 * the pid is reused, the random tag tells apart sessions of one process,
 * and the inode of the owner's PID namespace says in which namespace the
 * pid means something.
 *
 * A session's process may die by any signal, SIGKILL included, with its
 * uprobes armed (every call of the traced function then traps into the
 * kernel).  So each session has a reaper: a process forked before
 * anything is created, holding the read end of a pipe whose write end
 * only the session's process has.  When that process closes it (free())
 * or dies, the reaper reads EOF and removes the instance and the group's
 * uprobes, whatever is left of them.  Should the reaper itself be killed,
 * the next session (or `dmakit trace --cleanup`) removes what it can
 * prove dead: the instances first (they may have the probes enabled),
 * then the probes.
 *
 * Proof of death must hold across PID namespaces: a tracer in a container
 * shares tracefs with the host, where its pid means another process or
 * none.  So a session holds an flock on its instance's directory (taken
 * before its first probe is created, released when it dies): a lock is a
 * property of the tracefs inode, seen alike from every namespace.  An
 * instance whose lock can be taken has no live owner; a session that finds
 * its fresh instance was removed before it got the lock makes it again.
 * A uprobe group without its instance belongs to a session that is dead
 * or removing its probes itself.  Names without the namespace (dmakit
 * before 0.1.1) are judged by pid in the cleaner's own namespace, as
 * they always were.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <tracefs.h>
#include "internal.h"
#include "trace_internal.h"

/* Start time of @pid in clock ticks since boot, 0 if it is not running. */
static unsigned long long proc_start_time(pid_t pid)
{
	char path[64], *text, *p;
	unsigned long long start = 0;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (dmakit_read_text(path, &text, NULL))
		return 0;
	/* the command may contain spaces and ')': skip past the last ')' */
	p = strrchr(text, ')');
	for (field = 2; p && *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (p && field == 22)
		start = strtoull(p, NULL, 10);
	free(text);
	return start;
}

/* Inode of the caller's PID namespace, 0 if /proc does not say. */
static unsigned long pid_namespace(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) ? 0 : (unsigned long)st.st_ino;
}

int dmakit_tracefs_session_name(char *buf, size_t len)
{
	uint16_t tag;

	if (getrandom(&tag, sizeof(tag), GRND_NONBLOCK) != sizeof(tag))
		tag = (uint16_t)(dmakit_now_ns() >> 10);
	snprintf(buf, len, "dmakit_%d_%llx_%04x_%lx", (int)getpid(),
		 proc_start_time(getpid()), tag, pid_namespace());
	return 0;
}

/* Open @name's instance directory and try its lock: the fd, -1 if none. */
static int try_instance_lock(const char *name, bool *held)
{
	char *dir = tracefs_get_tracing_file("instances");
	char path[PATH_MAX];
	int fd = -1;

	*held = false;
	if (dir && (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) <
	    sizeof(path))
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tracefs_put_tracing_file(dir);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB)) {
		*held = true;
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Is @name (an instance or uprobe group) owned by a dead dmakit session?
 * For an instance that is, *@lockfd holds its lock (-1 otherwise): the
 * caller removes it before anyone else can take it.
 */
static bool is_leftover(const char *name, int *lockfd)
{
	unsigned long long start;
	unsigned long ns;
	bool held, same_ns;
	unsigned int tag;
	int pid, n = 0;

	*lockfd = -1;
	if (sscanf(name, "dmakit_%d_%llx_%x_%lx%n", &pid, &start, &tag, &ns,
		   &n) == 4 && n && !name[n] && pid > 0) {
		same_ns = ns && ns == pid_namespace();
		/* between creating its instance and locking it */
		if (same_ns && proc_start_time(pid) == start)
			return false;
		*lockfd = try_instance_lock(name, &held);
		if (held)
			return false;
		/* locked by us: dead; no instance: dead or removing its probes */
		return true;
	}
	n = 0;
	if (sscanf(name, "dmakit_%d_%llx_%*x%n", &pid, &start, &n) != 2 ||
	    !n || name[n] || pid <= 0)
		return false;
	return proc_start_time(pid) != start;
}

int dmakit_tracefs_session_lock(struct tracefs_instance **instp, int *lockfd,
				const char *name, char *err, size_t errlen)
{
	struct tracefs_instance *inst;
	struct stat locked, now;
	char *path;
	int tries, fd, ret;

	for (tries = 0; tries < 10; tries++) {
		inst = tracefs_instance_create(name);
		if (!inst)
			return dmakit_errf(err, errlen, errno ? -errno : -EIO,
					   "cannot create tracefs instance %s: %s",
					   name, strerror(errno ? errno : EIO));
		path = tracefs_instance_get_dir(inst);
		fd = path ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		ret = fd < 0 ? (path && errno ? -errno : -ENOMEM) : 0;
		/* blocks only while another session's cleanup removes it */
		while (!ret && flock(fd, LOCK_EX))
			if (errno != EINTR)
				ret = -errno;
		if (!ret && !fstat(fd, &locked) && !stat(path, &now) &&
		    locked.st_dev == now.st_dev && locked.st_ino == now.st_ino) {
			tracefs_put_tracing_file(path);
			/* the tracefs backend sizes it and turns it on; to the
			 * others it is only a lock */
			tracefs_instance_file_write(inst, "tracing_on", "0");
			tracefs_instance_file_write(inst, "buffer_size_kb", "4");
			*instp = inst;
			*lockfd = fd;
			return 0;
		}
		/* removed by a cleanup that took the lock first: again */
		tracefs_put_tracing_file(path);
		if (fd >= 0)
			close(fd);
		tracefs_instance_free(inst);
		if (ret)
			return dmakit_errf(err, errlen, ret,
					   "cannot lock tracefs instance %s: %s",
					   name, strerror(-ret));
	}
	return dmakit_errf(err, errlen, -EBUSY,
			   "tracefs instance %s was removed as it was made, 10 times",
			   name);
}

int dmakit_tracefs_mount(char *dir, size_t len)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char probe[128];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(probe, sizeof(probe), "%s/trace", dirs[i]);
		if (!access(probe, F_OK)) {
			snprintf(dir, len, "%s", dirs[i]);
			return 0;
		}
	}
	/* tracefs can be mounted on its own since Linux 4.1 */
	if (mount("nodev", dirs[0], "tracefs", 0, NULL))
		return -errno;
	snprintf(dir, len, "%s", dirs[0]);
	return 0;
}

bool dmakit_uprobe_has_ref_ctr(void)
{
	char *readme = tracefs_instance_file_read(NULL, "README", NULL);
	bool yes = readme && strstr(readme, "ref_ctr_offset");

	free(readme);
	return yes;
}

int dmakit_uprobe_add(const char *group, const char *event, bool retprobe,
		      const char *path, uint64_t off, uint64_t ref_off,
		      const char *args, char *err, size_t errlen)
{
	char line[1024], ref[40] = "";
	int ret;

	if (strpbrk(path, " \t\n"))
		return dmakit_errf(err, errlen, -EINVAL,
				   "%s: uprobes cannot name a path with spaces",
				   path);
	if (ref_off)
		snprintf(ref, sizeof(ref), "(0x%llx)",
			 (unsigned long long)ref_off);
	ret = snprintf(line, sizeof(line), "%c:%s/%s %s:0x%llx%s%s%s\n",
		       retprobe ? 'r' : 'p', group, event, path,
		       (unsigned long long)off, ref, args && *args ? " " : "",
		       args ? args : "");
	if (ret < 0 || (size_t)ret >= sizeof(line))
		return dmakit_errf(err, errlen, -E2BIG, "uprobe definition too long");
	if (tracefs_instance_file_append(NULL, "uprobe_events", line) < 0) {
		ret = errno ? -errno : -EINVAL;
		return dmakit_errf(err, errlen, ret,
				   "cannot create uprobe %s:0x%llx: %s (see %s/error_log)",
				   path, (unsigned long long)off, strerror(-ret),
				   tracefs_tracing_dir());
	}
	return 0;
}

int dmakit_uprobe_remove(const char *group, const char *event)
{
	char line[256];

	snprintf(line, sizeof(line), "-:%s/%s\n", group, event);
	if (tracefs_instance_file_append(NULL, "uprobe_events", line) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

static int remove_instance(const char *name)
{
	struct tracefs_instance *inst = tracefs_instance_alloc(NULL, name);
	int ret;

	if (!inst)
		return -ENOMEM;
	ret = tracefs_instance_destroy(inst);
	tracefs_instance_free(inst);
	return ret;
}

int dmakit_tracefs_cleanup_leftovers(void)
{
	char *events, *line, *save = NULL, *dir;
	struct dirent *de;
	int removed = 0;
	DIR *d;

	/* (tracefs_instances() of libtracefs 1.6 leaks its regex) */
	dir = tracefs_get_tracing_file("instances");
	d = dir ? opendir(dir) : NULL;
	tracefs_put_tracing_file(dir);
	while (d && (de = readdir(d))) {
		int lockfd;

		if (is_leftover(de->d_name, &lockfd) &&
		    !remove_instance(de->d_name))
			removed++;
		if (lockfd >= 0)
			close(lockfd);
	}
	if (d)
		closedir(d);

	/* lines like "p:dmakit_123_4f2a_00ff/start /path:0x0000000000001139" */
	events = tracefs_instance_file_read(NULL, "uprobe_events", NULL);
	for (line = events ? strtok_r(events, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char group[128], event[128];
		int lockfd;

		if (sscanf(line, "%*c:%127[^/]/%127s", group, event) != 2)
			continue;
		if (is_leftover(group, &lockfd) &&
		    !dmakit_uprobe_remove(group, event))
			removed++;
		if (lockfd >= 0)
			close(lockfd);
	}
	free(events);
	return removed;
}

int dmakit_trace_cleanup(char *errmsg, size_t errlen)
{
	char dir[256];
	int ret;

	ret = dmakit_tracefs_mount(dir, sizeof(dir));
	if (ret)
		return dmakit_errf(errmsg, errlen, ret,
				   "no tracefs (mounting it needs root): %s",
				   strerror(-ret));
	if (access(dir, W_OK))
		return dmakit_errf(errmsg, errlen, -EPERM,
				   "removing tracefs objects needs root (%s)", dir);
	return dmakit_tracefs_cleanup_leftovers();
}

/* --- the reaper: only async-signal-safe calls after fork() --- */

#define REAPER_BUF	(256 * 1024)	/* uprobe_events read at once */
#define REAPER_TRIES	1000		/* 10 ms apart: 10 s */

struct reaper {
	char instance[PATH_MAX];	/* .../instances/NAME */
	char uprobe_events[PATH_MAX];
	char group[80];			/* ":NAME/" as in uprobe_events */
	char *buf;
};

static void reaper_nap(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static void reaper_read(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		while (len + 1 < size &&
		       ((n = read(fd, buf + len, size - 1 - len)) > 0 ||
			(n < 0 && errno == EINTR)))
			if (n > 0)
				len += (size_t)n;
		close(fd);
	}
	buf[len] = '\0';
}

/* Remove the group's probes; false if one could not be (still busy). */
static bool reaper_remove_probes(struct reaper *rp)
{
	bool all = true;
	char *line, *nl;

	reaper_read(rp->uprobe_events, rp->buf, REAPER_BUF);
	for (line = rp->buf; *line; line = nl + 1) {
		char cmd[256], *g, *sp;
		size_t elen;
		int fd;

		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		g = strstr(line, rp->group);
		if (g && g < nl) {
			/* "p:GROUP/EVENT PATH:..." -> "-:GROUP/EVENT\n" */
			sp = memchr(g, ' ', (size_t)(nl - g));
			elen = (size_t)((sp ? sp : nl) - g);
			if (elen + 3 <= sizeof(cmd)) {
				cmd[0] = '-';
				memcpy(cmd + 1, g, elen);
				cmd[elen + 1] = '\n';
				fd = open(rp->uprobe_events,
					  O_WRONLY | O_APPEND | O_CLOEXEC);
				if (fd < 0 || write(fd, cmd, elen + 2) < 0)
					all = false;
				if (fd >= 0)
					close(fd);
			}
		}
		if (!*nl)
			break;
	}
	return all;
}

static void reaper_close_others(int keep)
{
	struct rlimit rl;
	long fd, max = 65536;

	if (dup2(keep, 0) < 0)
		_exit(1);
#ifdef SYS_close_range
	if (!syscall(SYS_close_range, 1U, ~0U, 0U))
		return;
#endif
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)max)
		max = (long)rl.rlim_cur;
	for (fd = 1; fd < max; fd++)
		close((int)fd);
}

static __attribute__((noreturn)) void reaper_run(struct reaper *rp, int rfd)
{
	struct sigaction sa;
	char byte;
	ssize_t n;
	int i;

	/* out of the tracer's session and process group: a Ctrl-C or a
	 * kill of the group reaches the tracer, which the reaper outlives */
	setsid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	/* hold nothing of the tracer's: its trace files, its stdout pipe */
	reaper_close_others(rfd);
	while ((n = read(0, &byte, 1)) != 0)
		if (n < 0 && errno != EINTR)
			break;
	/* the instance first: removing it disables the probes' events */
	for (i = 0; i < REAPER_TRIES; i++) {
		if (!rmdir(rp->instance) || errno == ENOENT)
			break;
		reaper_nap();	/* EBUSY: the dead tracer's files still close */
	}
	for (i = 0; i < REAPER_TRIES && !reaper_remove_probes(rp); i++)
		reaper_nap();
	_exit(0);
}

int dmakit_reaper_start(const char *tracing_dir, const char *name, int *fdp,
			char *err, size_t errlen)
{
	struct reaper *rp;
	int p[2], status, ret = 0;
	pid_t pid;

	rp = calloc(1, sizeof(*rp));
	if (rp)
		rp->buf = malloc(REAPER_BUF);
	if (!rp || !rp->buf) {
		ret = dmakit_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if ((size_t)snprintf(rp->instance, sizeof(rp->instance), "%s/instances/%s",
			     tracing_dir, name) >= sizeof(rp->instance) ||
	    (size_t)snprintf(rp->group, sizeof(rp->group), ":%s/", name) >=
	    sizeof(rp->group)) {
		ret = dmakit_errf(err, errlen, -ENAMETOOLONG, "name too long");
		goto out;
	}
	snprintf(rp->uprobe_events, sizeof(rp->uprobe_events),
		 "%s/uprobe_events", tracing_dir);
	if (pipe2(p, O_CLOEXEC)) {
		ret = dmakit_errf(err, errlen, -errno, "pipe: %s",
				  strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		/* double fork: init reaps the reaper, the caller has no child
		 * to wait for */
		if (fork() == 0)
			reaper_run(rp, p[0]);
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		ret = dmakit_errf(err, errlen, -errno,
				  "cannot fork the cleanup process: %s",
				  strerror(errno));
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*fdp = p[1];
out:
	if (rp)
		free(rp->buf);
	free(rp);
	return ret;
}
