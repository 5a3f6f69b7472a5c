// SPDX-License-Identifier: MIT
/*
 * What a session creates in tracefs, and cleaning up after crashed ones.
 *
 * Everything a session creates (its instance, its uprobe group) is named
 * dmakit_<pid>_<start>_<tag>: the pid and the process start time (boot
 * ticks, field 22 of /proc/PID/stat) identify the owner even after the
 * pid is reused, the random tag tells apart sessions of one process.  On
 * the next start, objects whose owner no longer runs are removed: the
 * instances first (they may have the probes enabled), then the probes.
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
#include <sys/mount.h>
#include <sys/random.h>
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

int dmakit_tracefs_session_name(char *buf, size_t len)
{
	uint16_t tag;

	if (getrandom(&tag, sizeof(tag), GRND_NONBLOCK) != sizeof(tag))
		tag = (uint16_t)(dmakit_now_ns() >> 10);
	snprintf(buf, len, "dmakit_%d_%llx_%04x", (int)getpid(),
		 proc_start_time(getpid()), tag);
	return 0;
}

/* Is @name (an instance or uprobe group) owned by a dead dmakit session? */
static bool is_leftover(const char *name)
{
	unsigned long long start;
	int pid, n = 0;

	if (sscanf(name, "dmakit_%d_%llx_%*x%n", &pid, &start, &n) != 2 ||
	    !n || pid <= 0)
		return false;
	return proc_start_time(pid) != start;
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
	while (d && (de = readdir(d)))
		if (is_leftover(de->d_name) && !remove_instance(de->d_name))
			removed++;
	if (d)
		closedir(d);

	/* lines like "p:dmakit_123_4f2a_00ff/start /path:0x0000000000001139" */
	events = tracefs_instance_file_read(NULL, "uprobe_events", NULL);
	for (line = events ? strtok_r(events, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char group[128], event[128];

		if (sscanf(line, "%*c:%127[^/]/%127s", group, event) != 2)
			continue;
		if (is_leftover(group) && !dmakit_uprobe_remove(group, event))
			removed++;
	}
	free(events);
	return removed;
}
