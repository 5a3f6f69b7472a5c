// SPDX-License-Identifier: MIT
/*
 * tx_producer: stream generated data into a dmakit.ko card, host to card
 * (include/dmakit/tx.h).  Each buffer is filled in place in the card's
 * ring and published; the card takes them in order.  At the end it waits
 * for the card to take everything and prints what came back.
 *
 *   tx_producer /dev/dmakit0 [BUFFERS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dmakit/tx.h>

int main(int argc, char **argv)
{
	unsigned long long n = argc > 2 ? strtoull(argv[2], NULL, 0) : 64, i;
	char err[DMAKIT_ERRMSG_MAX];
	struct dmakit_tx_stats st;
	struct dmakit_tx *tx;
	int ret;

	if (argc < 2) {
		fprintf(stderr, "usage: tx_producer /dev/dmakitN [BUFFERS]\n");
		return 2;
	}
	ret = dmakit_tx_open(&tx, argv[1], err, sizeof(err));
	if (ret) {
		fprintf(stderr, "tx_producer: %s\n", err);
		return 1;
	}
	ret = dmakit_tx_start(tx);
	for (i = 0; !ret && i < n; i++) {
		struct dmakit_tx_buf b;

		ret = dmakit_tx_get(tx, &b, 10000);	/* waits for a free one */
		if (ret)
			break;
		memset(b.data, (int)(i & 0xff), b.size);	/* your data here */
		b.len = b.size;
		b.seq = i;
		b.end = i == n - 1;	/* then the card's idle time is no underrun */
		ret = dmakit_tx_publish(tx, &b);
	}
	if (!ret)
		ret = dmakit_tx_drain(tx, 10000);
	dmakit_tx_stats(tx, &st);
	printf("published %llu, the card took %llu (%llu bytes), underruns %llu, errors %llu, cut %llu\n",
	       (unsigned long long)st.published,
	       (unsigned long long)st.completed, (unsigned long long)st.bytes,
	       (unsigned long long)st.underruns, (unsigned long long)st.errors,
	       (unsigned long long)st.cut);
	dmakit_tx_close(tx);
	if (ret)
		fprintf(stderr, "tx_producer: %s\n", dmakit_strerror(ret));
	return ret || st.completed != n ? 1 : 0;
}
