// SPDX-License-Identifier: MIT
/*
 * The recording format's small shared pieces: engine and result names,
 * index CRCs (entry, header, trailer, the v2 bound checksum), sidecar
 * names.  Used by the sink (writer), the verifier and recovery.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include "sink.h"

_Static_assert(sizeof(struct dmakit_idx_header) == 256, "index header size");
_Static_assert(sizeof(struct dmakit_idx_entry) == 64, "index entry size");
_Static_assert(offsetof(struct dmakit_idx_entry, entry_crc32c) == 60,
	       "entry CRC covers the 60 bytes before it");
_Static_assert(offsetof(struct dmakit_idx_header, header_crc32c) == 192,
	       "header CRC at the same place in every version");
_Static_assert(sizeof(struct dmakit_idx_trailer) == 64, "trailer size");
_Static_assert(offsetof(struct dmakit_idx_trailer, trailer_crc32c) == 60,
	       "trailer CRC covers the 60 bytes before it");

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
	[DMAKIT_RESULT_RECOVERED] = "recovered",
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

uint32_t dmakit_idx_trailer_crc(const struct dmakit_idx_trailer *t)
{
	return dmakit_crc32c(0, t, offsetof(struct dmakit_idx_trailer,
					    trailer_crc32c));
}

bool dmakit_idx_is_trailer(const void *rec)
{
	const struct dmakit_idx_trailer *t = rec;

	return !memcmp(t->magic, DMAKIT_IDX_TRAILER_MAGIC, sizeof(t->magic)) &&
	       dmakit_idx_trailer_crc(t) == t->trailer_crc32c;
}

bool dmakit_idx_entry_ok(const struct dmakit_idx_entry *e, uint64_t k,
			 uint32_t bufsize)
{
	return dmakit_idx_entry_crc(e) == e->entry_crc32c &&
	       e->offset == k * bufsize && e->len <= bufsize;
}

bool dmakit_idx_data_ok(uint32_t version, const struct dmakit_idx_entry *e,
			const void *data)
{
	uint32_t crc;

	if (!(e->flags & DMAKIT_DESC_F_CRC))
		return true;
	crc = dmakit_crc32c(0, data, e->len);
	if (version >= 2)
		crc = dmakit_idx_bound_crc(e->seq, e->offset, crc, e->len);
	return crc == e->crc32c;
}

void dmakit_idx_account(struct dmakit_sink_stats *st, uint32_t *entries_crc,
			uint64_t bufsize, const struct dmakit_idx_entry *e)
{
	if (st->buffers == 0) {
		st->first_seq = e->seq;
		st->lost_before = e->lost;
	} else if (e->lost) {
		st->gaps++;
		st->lost += e->lost;
	}
	st->last_seq = e->seq;
	st->buffers++;
	st->bytes += e->len;
	if (e->len == 0)
		st->empty++;
	else if (e->len < bufsize)
		st->truncated++;
	if (e->flags & DMAKIT_DESC_F_DMA_ERR)
		st->dma_errors++;
	*entries_crc = dmakit_crc32c(*entries_crc, e, sizeof(*e));
}

void dmakit_idx_trailer_fill(struct dmakit_idx_trailer *t,
			     const struct dmakit_sink_stats *st,
			     uint64_t stream_id, uint32_t entries_crc,
			     enum dmakit_result result, uint32_t meta_crc)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->magic, DMAKIT_IDX_TRAILER_MAGIC, sizeof(t->magic));
	t->buffers = st->buffers;
	t->bytes = st->bytes;
	t->first_seq = st->first_seq;
	t->last_seq = st->last_seq;
	t->stream_id = stream_id;
	t->entries_crc32c = entries_crc;
	t->result = (uint32_t)result;
	t->meta_crc32c = meta_crc;
	t->trailer_crc32c = dmakit_idx_trailer_crc(t);
}

uint32_t dmakit_idx_bound_crc(uint64_t seq, uint64_t offset,
			      uint32_t data_crc, uint32_t len)
{
	uint64_t place[2] = { htole64(seq), htole64(offset) };

	return dmakit_crc32c_combine(dmakit_crc32c(0, place, sizeof(place)),
				     data_crc, len);
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
