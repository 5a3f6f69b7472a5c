// SPDX-License-Identifier: MIT
/*
 * The recording format's small shared pieces: engine and result names,
 * index CRCs, sidecar names.  Used by the sink (writer) and the verifier.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sink.h"

_Static_assert(sizeof(struct dmakit_idx_header) == 256, "index header size");
_Static_assert(sizeof(struct dmakit_idx_entry) == 64, "index entry size");
_Static_assert(offsetof(struct dmakit_idx_entry, entry_crc32c) == 60,
	       "entry CRC covers the 60 bytes before it");

static const char *const engine_names[] = {
	[DMAKIT_ENGINE_URING] = "uring",
	[DMAKIT_ENGINE_PWRITE] = "pwrite",
	[DMAKIT_ENGINE_BUFFERED] = "buffered",
	[DMAKIT_ENGINE_MMAP] = "mmap",
};

static const char *const result_names[] = {
	[DMAKIT_RESULT_COMPLETE] = "complete",
	[DMAKIT_RESULT_INTERRUPTED] = "interrupted",
	[DMAKIT_RESULT_DISK_FULL] = "disk-full",
	[DMAKIT_RESULT_IO_ERROR] = "io-error",
	[DMAKIT_RESULT_DEVICE_ERROR] = "device-error",
	[DMAKIT_RESULT_SOURCE_ENDED] = "source-ended",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int dmakit_engine_parse(const char *name, enum dmakit_engine *e)
{
	size_t i;

	if (!name || !e)
		return -EINVAL;
	for (i = 0; i < NELEM(engine_names); i++) {
		if (!strcmp(name, engine_names[i])) {
			*e = (enum dmakit_engine)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *dmakit_engine_name(enum dmakit_engine e)
{
	return (unsigned int)e < NELEM(engine_names) ? engine_names[e] : "?";
}

const char *dmakit_result_name(enum dmakit_result r)
{
	return (unsigned int)r < NELEM(result_names) ? result_names[r] : "?";
}

int dmakit_result_parse(const char *name, enum dmakit_result *r)
{
	size_t i;

	if (!name || !r)
		return -EINVAL;
	for (i = 0; i < NELEM(result_names); i++) {
		if (!strcmp(name, result_names[i])) {
			*r = (enum dmakit_result)i;
			return 0;
		}
	}
	return -EINVAL;
}

uint32_t dmakit_idx_entry_crc(const struct dmakit_idx_entry *e)
{
	return dmakit_crc32c(0, e, offsetof(struct dmakit_idx_entry,
					    entry_crc32c));
}

uint32_t dmakit_idx_header_crc(const struct dmakit_idx_header *h)
{
	return dmakit_crc32c(0, h, offsetof(struct dmakit_idx_header,
					    header_crc32c));
}

char *dmakit_sidecar_name(const char *prefix, const char *suffix)
{
	char *s;

	if (asprintf(&s, "%s%s", prefix, suffix) < 0)
		return NULL;
	return s;
}

bool dmakit_err_is_full(int err)
{
	return err == -ENOSPC || err == -EFBIG || err == -EDQUOT;
}
