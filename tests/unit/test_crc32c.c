// SPDX-License-Identifier: MIT
/*
 * dmakit_crc32c() against an independent bit-at-a-time reference: the
 * standard check value, every length around the 3-lane block size of the
 * hardware path, every alignment, and incremental use.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <dmakit.h>
#include "internal.h"		/* dmakit_crc32c_combine */
#include "t.h"

static uint32_t crc_ref(uint32_t crc, const unsigned char *p, size_t len)
{
	int k;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78U : crc >> 1;
	}
	return ~crc;
}

static unsigned char *random_bytes(size_t n)
{
	unsigned char *p = malloc(n);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; p && i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
	return p;
}

static void check_value(void)
{
	T_EQ(dmakit_crc32c(0, "123456789", 9), 0xe3069283U);
	T_EQ(dmakit_crc32c(0, "", 0), 0);
}

static void lengths_and_alignments(void)
{
	/* around one and several 3 x 8 KiB blocks, plus small ones */
	static const size_t lens[] = {
		1, 7, 8, 9, 63, 4096, 24575, 24576, 24577, 24576 + 8191,
		2 * 24576, 3 * 24576 + 17, 512 * 1024, 512 * 1024 + 5,
	};
	size_t max = 512 * 1024 + 16, i, a;
	unsigned char *buf = random_bytes(max);

	T_ASSERT(buf);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (a = 0; a < 8; a++)
			if (dmakit_crc32c(0, buf + a, lens[i]) !=
			    crc_ref(0, buf + a, lens[i])) {
				free(buf);
				T_FAIL("len %zu offset %zu differs", lens[i], a);
			}
	for (i = 0; i < 200; i++)
		if (dmakit_crc32c(0x12345678, buf + 3, i) !=
		    crc_ref(0x12345678, buf + 3, i)) {
			free(buf);
			T_FAIL("len %zu with a seed differs", i);
		}
	free(buf);
}

static void incremental(void)
{
	size_t n = 100000, cut;
	unsigned char *buf = random_bytes(n);
	uint32_t whole;

	T_ASSERT(buf);
	whole = crc_ref(0, buf, n);
	for (cut = 0; cut <= n; cut += 7919) {
		uint32_t c = dmakit_crc32c(0, buf, cut);

		c = dmakit_crc32c(c, buf + cut, n - cut);
		if (c != whole) {
			free(buf);
			T_FAIL("split at %zu differs", cut);
		}
	}
	free(buf);
}

/* crc(A|B) from crc(A), crc(B), |B|: what binds a device CRC to its slot */
static void combine(void)
{
	static const size_t lens[] = { 0, 1, 7, 16, 4096, 65536 + 3, 524288 };
	size_t max = 524288 + 16, i;
	unsigned char *buf = random_bytes(max);

	T_ASSERT(buf);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t a = dmakit_crc32c(0, buf, 16);
		uint32_t b = dmakit_crc32c(0, buf + 16, lens[i]);

		T_EQ(dmakit_crc32c_combine(a, b, lens[i]),
		     crc_ref(0, buf, 16 + lens[i]));
	}
	/* crc(A) == 0 is a valid CRC too */
	T_EQ(dmakit_crc32c_combine(0, dmakit_crc32c(0, buf, 100), 100),
	     crc_ref(crc_ref(0, buf, 0), buf, 100));
	free(buf);
}

int main(void)
{
	T_RUN(check_value);
	T_RUN(lengths_and_alignments);
	T_RUN(incremental);
	T_RUN(combine);
	return t_exit();
}
