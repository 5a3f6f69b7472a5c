// SPDX-License-Identifier: MIT
/*
 * LD_PRELOAD fault injection for crash tests: SIGKILL the process at an
 * exact point instead of at a guessed time.  KILLAT_RENAME=SUFFIX kills
 * it just before it renames a file whose name ends in SUFFIX (for dmakit
 * record: ".json.tmp" is the final metadata, so the kill lands inside
 * close, after the data, the index and its trailer were made durable);
 * KILLAT_NTH=N: at the Nth such rename (default 1).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rename(const char *oldpath, const char *newpath)
{
	static int (*real_rename)(const char *, const char *);
	static int seen;
	const char *suffix = getenv("KILLAT_RENAME");
	const char *nth = getenv("KILLAT_NTH");
	size_t n = oldpath ? strlen(oldpath) : 0;

	if (suffix && *suffix && n >= strlen(suffix) &&
	    !strcmp(oldpath + n - strlen(suffix), suffix) &&
	    ++seen >= (nth ? atoi(nth) : 1))
		raise(SIGKILL);
	if (!real_rename)
		real_rename = (int (*)(const char *, const char *))
			      dlsym(RTLD_NEXT, "rename");
	return real_rename(oldpath, newpath);
}
