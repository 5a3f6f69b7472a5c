// SPDX-License-Identifier: MIT
/*
 * vm_consume DEV N: start DEV's stream, read N buffers as a reliable
 * consumer, check each one's payload and CRC, stop.  Prints the ring
 * positions it read ("pos FIRST LAST") for the tracepoint test.
 * Exit 0 if every buffer was intact and in sequence.
 */
#define _GNU_SOURCE
#include <dmakit.h>
#include "vmt.h"

int main(int argc, char **argv)
{
	char err[DMAKIT_ERRMSG_MAX];
	struct dmakit_dev *dev;
	struct dmakit_consumer *c;
	struct dmakit_buf b;
	uint64_t n, want, first = 0, last = 0, next_seq = 0;
	size_t i;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: vm_consume DEV N\n");
		return 2;
	}
	want = strtoull(argv[2], NULL, 0);
	if (dmakit_open(&dev, argv[1], err, sizeof(err))) {
		fprintf(stderr, "vm_consume: %s\n", err);
		return 1;
	}
	ret = dmakit_consumer_attach(dev, DMAKIT_RELIABLE, &c);
	if (!ret)
		ret = dmakit_start(dev);
	if (ret) {
		fprintf(stderr, "vm_consume: %s\n", dmakit_strerror(ret));
		return 1;
	}
	for (n = 0; n < want; n++) {
		const uint64_t *w;

		ret = dmakit_consumer_next(c, &b, 10000);
		if (ret) {
			fprintf(stderr, "vm_consume: buffer %llu: %s\n",
				(unsigned long long)n, dmakit_strerror(ret));
			return 1;
		}
		w = b.data;
		if (b.desc.seq != next_seq + b.desc.lost ||
		    dmakit_crc32c(0, b.data, b.desc.len) != b.desc.crc32c) {
			fprintf(stderr, "vm_consume: seq %llu: bad sequence or CRC\n",
				(unsigned long long)b.desc.seq);
			return 1;
		}
		for (i = 0; i < b.desc.len / 8; i++) {
			if (w[i] != dmakit_payload_word(b.desc.seq, i)) {
				fprintf(stderr, "vm_consume: seq %llu word %zu wrong\n",
					(unsigned long long)b.desc.seq, i);
				return 1;
			}
		}
		next_seq = b.desc.seq + 1;
		if (n == 0)
			first = b.pos;
		last = b.pos;
		dmakit_consumer_release(c, &b);
	}
	dmakit_stop(dev);
	dmakit_close(dev);
	printf("pos %llu %llu\n", (unsigned long long)first,
	       (unsigned long long)last);
	return 0;
}
