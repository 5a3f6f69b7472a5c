// SPDX-License-Identifier: MIT
/*
 * vm_edu_data DATA MIN_BUFFERS: check a recording of edu's streaming ring
 * word by word against edu's documented data format (docs/driver.md,
 * "edu's ring"), reading the files directly -- the index by its
 * documented layout (docs/record.md), no library code:
 *
 *   each buffer is full (len == the header's bufsize), has no DMA-error
 *   flag, follows the previous one (seq + 1: edu never drops), and every
 *   little-endian 64-bit word i of it, in chunk k = i / 256, word w =
 *   i % 256, is (seq << 32) | 0xed000000 | (k % 128 + w), seq being the
 *   32 low bits of the buffer's sequence number.
 *
 * Exit 0 when at least MIN_BUFFERS buffers were there and all matched.
 */
#define _GNU_SOURCE
#include <dmakit/ring.h>
#include "t.h"
#include "vmt.h"

#define IDX_HEADER_SIZE	256
#define IDX_ENTRY_SIZE	64
#define CHUNK		2048
#define CHUNK_OFFSETS	128

static const char *data_path;
static unsigned long min_buffers;

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le64(p) & 0xffffffffu;
}

static uint64_t expected_word(uint64_t seq, uint64_t i)
{
	uint64_t chunk = i / (CHUNK / 8), w = i % (CHUNK / 8);

	return (uint64_t)(uint32_t)seq << 32 | 0xed000000u |
	       (chunk % CHUNK_OFFSETS + w);
}

static void check_recording(void)
{
	char idx_path[4096];
	uint8_t hdr[IDX_HEADER_SIZE], ent[IDX_ENTRY_SIZE];
	uint8_t *buf = NULL;
	uint32_t bufsize;
	uint64_t n = 0, prev_seq = 0, words = 0;
	FILE *idx, *data;

	snprintf(idx_path, sizeof(idx_path), "%s.idx", data_path);
	idx = fopen(idx_path, "rb");
	data = fopen(data_path, "rb");
	T_ASSERT(idx && data);
	T_EQ(fread(hdr, 1, sizeof(hdr), idx), sizeof(hdr));
	T_ASSERT(!memcmp(hdr, "DMKIDX01", 8));
	T_EQ(le32(hdr + 12), IDX_HEADER_SIZE);
	T_EQ(le32(hdr + 16), IDX_ENTRY_SIZE);
	bufsize = le32(hdr + 20);
	T_ASSERT(bufsize >= CHUNK && bufsize % CHUNK == 0);
	buf = malloc(bufsize);
	T_ASSERT(buf);

	while (fread(ent, 1, sizeof(ent), idx) == sizeof(ent)) {
		uint64_t seq = le64(ent), off = le64(ent + 32), i;
		uint32_t len = le32(ent + 40), flags = le32(ent + 44);

		if (!memcmp(ent, "DMKEND02", 8))
			break;	/* the trailer */
		if (len != bufsize || (flags & DMAKIT_DESC_F_DMA_ERR))
			T_FAIL("buffer seq %" PRIu64 ": len %u (want %u), flags %#x",
			       seq, len, bufsize, flags);
		if (n && seq != prev_seq + 1)
			T_FAIL("buffer seq %" PRIu64 " after %" PRIu64, seq,
			       prev_seq);
		if (fseeko(data, (off_t)off, SEEK_SET) ||
		    fread(buf, 1, bufsize, data) != bufsize)
			T_FAIL("buffer seq %" PRIu64 ": cannot read %u bytes at %" PRIu64,
			       seq, bufsize, off);
		for (i = 0; i < bufsize / 8; i++) {
			uint64_t got = le64(buf + i * 8);

			if (got != expected_word(seq, i))
				T_FAIL("buffer seq %" PRIu64 " (at %" PRIu64 "): word %" PRIu64 " (chunk %" PRIu64 ") is %#" PRIx64 ", expected %#" PRIx64,
				       seq, off, i, i * 8 / CHUNK, got,
				       expected_word(seq, i));
		}
		words += bufsize / 8;
		prev_seq = seq;
		n++;
	}
	printf("vm_edu_data: %" PRIu64 " buffers of %u bytes, %" PRIu64 " words matched\n",
	       n, bufsize, words);
	if (n < min_buffers)
		T_FAIL("%" PRIu64 " buffers, expected at least %lu", n,
		       min_buffers);
	free(buf);
	fclose(idx);
	fclose(data);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: vm_edu_data DATA MIN_BUFFERS\n");
		return 2;
	}
	data_path = argv[1];
	min_buffers = strtoul(argv[2], NULL, 0);
	T_RUN(check_recording);
	return t_exit();
}
