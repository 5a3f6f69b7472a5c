// SPDX-License-Identifier: MIT
/*
 * The kernel's count of lost trace events, from per_cpu/cpuN/stats: every
 * kind of loss counted, a file without the counters is "unknown" (never
 * 0), malformed numbers are refused.
 */
#include <errno.h>
#include "trace/trace_internal.h"
#include "t.h"

static void counts_every_kind_of_loss(void)
{
	uint64_t lost = 1;

	T_EQ(dmakit_parse_ring_stats("entries: 12\noverrun: 0\ncommit overrun: 0\n"
				     "bytes: 480\noldest event ts:  5.1\nnow ts:  9.2\n"
				     "dropped events: 0\nread events: 77\n", &lost), 0);
	T_EQ_U64(lost, 0);
	T_EQ(dmakit_parse_ring_stats("entries: 12\noverrun: 1000\ncommit overrun: 7\n"
				     "bytes: 480\ndropped events: 30\nread events: 77\n",
				     &lost), 0);
	T_EQ_U64(lost, 1037);
	/* huge counts stay exact */
	T_EQ(dmakit_parse_ring_stats("overrun: 18446744073709551000\n", &lost), 0);
	T_EQ_U64(lost, 18446744073709551000ULL);
}

static void unknown_is_not_zero(void)
{
	uint64_t lost;

	T_EQ(dmakit_parse_ring_stats("", &lost), -ENODATA);
	T_EQ(dmakit_parse_ring_stats("entries: 5\nread events: 3\n", &lost), -ENODATA);
	/* "commit overrun" alone is not the overrun line */
	T_EQ(dmakit_parse_ring_stats("commit overrun: 4\n", &lost), -ENODATA);
	T_EQ(dmakit_parse_ring_stats("overrun: many\n", &lost), -EINVAL);
}

int main(void)
{
	T_RUN(counts_every_kind_of_loss);
	T_RUN(unknown_is_not_zero);
	return t_exit();
}
