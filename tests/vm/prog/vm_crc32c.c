// SPDX-License-Identifier: MIT
/*
 * vm_crc32c DATA IDX [N]: the CRC32C (Castagnoli) and length of what
 * playing a recording sends, computed here independently of libdmakit
 * (own table, own reading of the index): the valid bytes of each entry
 * with any, in index order, up to the trailer (or the first N such
 * entries).  Prints "crc32c=%08x bytes=%llu buffers=%llu".
 */
#include <stdbool.h>
#include <dmakit/recording.h>
#include "vmt.h"

static uint32_t table[256];

static void crc_init(void)
{
	uint32_t i, k, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		table[i] = c;
	}
}

static uint32_t crc_update(uint32_t reg, const uint8_t *p, size_t n)
{
	while (n--)
		reg = table[(reg ^ *p++) & 0xff] ^ (reg >> 8);
	return reg;
}

static int die(const char *what)
{
	perror(what);
	return 2;
}

int main(int argc, char **argv)
{
	struct dmakit_idx_header h;
	struct dmakit_idx_entry e;
	unsigned long long bytes = 0, buffers = 0, max = ~0ULL;
	uint32_t reg = ~0u;
	uint8_t *buf;
	FILE *data, *idx;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: vm_crc32c DATA IDX [N]\n");
		return 2;
	}
	if (argc == 4)
		max = strtoull(argv[3], NULL, 10);
	crc_init();
	data = fopen(argv[1], "rb");
	idx = fopen(argv[2], "rb");
	if (!data || !idx)
		return die("open");
	if (fread(&h, sizeof(h), 1, idx) != 1 || h.entry_size != sizeof(e) ||
	    h.bufsize == 0 || h.bufsize > (64u << 20)) {
		fprintf(stderr, "%s: not an index this program reads\n", argv[2]);
		return 2;
	}
	if (fseek(idx, h.header_size, SEEK_SET))
		return die("seek");
	buf = malloc(h.bufsize);
	if (!buf)
		return die("malloc");
	while (buffers < max && fread(&e, sizeof(e), 1, idx) == 1) {
		if (!memcmp(&e, DMAKIT_IDX_TRAILER_MAGIC, 8))
			break;
		if (!e.len || (e.flags & DMAKIT_DESC_F_DMA_ERR))
			continue;
		if (e.len > h.bufsize || fseeko(data, (off_t)e.offset, SEEK_SET) ||
		    fread(buf, 1, e.len, data) != e.len) {
			fprintf(stderr, "%s: entry %llu unreadable\n", argv[1],
				buffers);
			return 2;
		}
		reg = crc_update(reg, buf, e.len);
		bytes += e.len;
		buffers++;
	}
	printf("crc32c=%08x bytes=%llu buffers=%llu\n", ~reg, bytes, buffers);
	return 0;
}
