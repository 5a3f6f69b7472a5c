// SPDX-License-Identifier: MIT
/*
 * Stream wire format: every frame type round-trips; every malformed
 * header (wrong magic, version, type, length, CRC, reserved bytes,
 * unterminated strings, inconsistent fields, truncation) is rejected with
 * an explanation; addresses and zero-copy names parse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dmakit/stream.h>
#include "t.h"

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* STATS and END carry the same fields: each checked by itself. */
static bool stats_ok(const struct dmakit_frame_stats *s)
{
	return s->buffers == 1 && s->bytes == 2 && s->dropped == 3 &&
	       s->skipped == 4 && s->discarded == 5 && s->zc_sends == 6 &&
	       s->zc_copied == 7 && s->result == DMAKIT_RESULT_INTERRUPTED &&
	       !strcmp(s->message, "interrupted");
}

static int roundtrip(const struct dmakit_frame *in, struct dmakit_frame *out)
{
	unsigned char buf[DMAKIT_FRAME_MAX_LEN];
	char err[128];
	int len = dmakit_frame_encode(in, buf, sizeof(buf));

	if (len < 0)
		return len;
	if (dmakit_frame_peek(buf, DMAKIT_FRAME_COMMON_LEN, err, sizeof(err)) != len)
		return -1000;
	return dmakit_frame_decode(buf, (size_t)len, out, err, sizeof(err));
}

static void sample_buf(struct dmakit_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->type = DMAKIT_FRAME_BUF;
	f->data_len = 65536;
	f->u.buf.seq = 0x0102030405060708ULL;
	f->u.buf.dev_ts = 42;
	f->u.buf.host_ts = 1ULL << 63;
	f->u.buf.lost = 3;
	f->u.buf.skipped = 2;
	f->u.buf.flags = DMAKIT_DESC_F_GAP | DMAKIT_DESC_F_CRC;
	f->u.buf.crc32c = 0xdeadbeef;
}

static void sizes_and_layout(void)
{
	unsigned char b[DMAKIT_FRAME_MAX_LEN];
	struct dmakit_frame f;

	sample_buf(&f);
	T_EQ(dmakit_frame_encode(&f, b, sizeof(b)), DMAKIT_FRAME_BUF_LEN);
	/* the spec's byte layout, little-endian */
	T_EQ(b[0], 'D');
	T_EQ(b[1], 'M');
	T_EQ(b[2], 'K');
	T_EQ(b[3], 'S');
	T_EQ(b[4], DMAKIT_STREAM_VERSION);
	T_EQ(b[5], DMAKIT_FRAME_BUF);
	T_EQ(b[6], 64);
	T_EQ(b[7], 0);
	T_EQ(b[8] | b[9] << 8 | b[10] << 16, 65536);
	T_EQ(b[16], 0x08);	/* seq, low byte first */
	T_EQ(b[23], 0x01);
	T_EQ(b[52], 0xef);	/* crc32c */
	T_EQ(b[55], 0xde);
	T_EQ(dmakit_frame_encode(&f, b, 63), -EINVAL);	/* no room */
	f.type = 99;
	T_EQ(dmakit_frame_encode(&f, b, sizeof(b)), -EINVAL);
	f.type = DMAKIT_FRAME_END;	/* END carries no data */
	T_EQ(dmakit_frame_encode(&f, b, sizeof(b)), -EINVAL);
}

static void roundtrip_all_types(void)
{
	struct dmakit_frame f, g;

	/* an empty buffer (a bus fault's) is a BUF of 0 data bytes */
	sample_buf(&f);
	f.data_len = 0;
	T_EQ(roundtrip(&f, &g), 0);
	T_EQ(g.type, DMAKIT_FRAME_BUF);
	T_EQ(g.data_len, 0);
	T_EQ_U64(g.u.buf.seq, f.u.buf.seq);

	sample_buf(&f);
	T_EQ(roundtrip(&f, &g), 0);
	T_EQ(g.type, DMAKIT_FRAME_BUF);
	T_EQ(g.data_len, 65536);
	T_EQ_U64(g.u.buf.seq, f.u.buf.seq);
	T_EQ_U64(g.u.buf.host_ts, f.u.buf.host_ts);
	T_EQ_U64(g.u.buf.lost, 3);
	T_EQ(g.u.buf.skipped, 2);
	T_EQ(g.u.buf.crc32c, 0xdeadbeef);
	T_EQ(g.u.buf.flags, DMAKIT_DESC_F_GAP | DMAKIT_DESC_F_CRC);

	memset(&f, 0, sizeof(f));
	f.type = DMAKIT_FRAME_HELLO;
	f.u.hello.bufsize = 512 * 1024;
	f.u.hello.nbufs = 256;
	f.u.hello.payload = DMAKIT_PAYLOAD_SIM;
	f.u.hello.flags = DMAKIT_STREAM_F_LOSSY;
	f.u.hello.dev_clock_hz = 1000000000;
	f.u.hello.stream_id = 0xfeedfacecafebeefULL;
	f.u.hello.start_realtime_ns = 1234567890123456789ULL;
	strcpy(f.u.hello.kind, "sim");
	/* longer than the field: truncated, still terminated */
	memset(f.u.hello.device, 'x', sizeof(f.u.hello.device) - 1);
	T_EQ(roundtrip(&f, &g), 0);
	T_EQ(g.u.hello.bufsize, 512 * 1024);
	T_EQ(g.u.hello.nbufs, 256);
	T_EQ(g.u.hello.flags, DMAKIT_STREAM_F_LOSSY);
	T_EQ_U64(g.u.hello.stream_id, 0xfeedfacecafebeefULL);
	T_EQ_U64(g.u.hello.start_realtime_ns, 1234567890123456789ULL);
	T_STREQ(g.u.hello.kind, "sim");
	T_EQ(strlen(g.u.hello.device), 127);

	memset(&f, 0, sizeof(f));
	f.type = DMAKIT_FRAME_ACCEPT;
	f.u.accept.status = -ENOSPC;
	strcpy(f.u.accept.message, "no space");
	T_EQ(roundtrip(&f, &g), 0);
	T_EQ(g.u.accept.status, -ENOSPC);
	T_STREQ(g.u.accept.message, "no space");

	memset(&f, 0, sizeof(f));
	f.type = DMAKIT_FRAME_DISCARD;
	f.u.discard.seq = 77;
	f.u.discard.reason = DMAKIT_DISCARD_OVERWRITTEN;
	T_EQ(roundtrip(&f, &g), 0);
	T_EQ_U64(g.u.discard.seq, 77);
	T_EQ(g.u.discard.reason, DMAKIT_DISCARD_OVERWRITTEN);

	memset(&f, 0, sizeof(f));
	f.type = DMAKIT_FRAME_END;
	f.u.stats.buffers = 1;
	f.u.stats.bytes = 2;
	f.u.stats.dropped = 3;
	f.u.stats.skipped = 4;
	f.u.stats.discarded = 5;
	f.u.stats.zc_sends = 6;
	f.u.stats.zc_copied = 7;
	f.u.stats.result = DMAKIT_RESULT_INTERRUPTED;
	strcpy(f.u.stats.message, "interrupted");
	T_EQ(roundtrip(&f, &g), 0);
	T_EQ(g.type, DMAKIT_FRAME_END);
	T_ASSERT(stats_ok(&g.u.stats));
	f.type = DMAKIT_FRAME_STATS;
	memset(&g, 0, sizeof(g));
	T_EQ(roundtrip(&f, &g), 0);
	T_EQ(g.type, DMAKIT_FRAME_STATS);
	T_ASSERT(stats_ok(&g.u.stats));
	/* each field at its wire offset, little-endian (as tests/host/dmks.py
	 * decodes END independently: "<QQQQQQQI" after the 16-byte header) */
	{
		unsigned char b[DMAKIT_FRAME_MAX_LEN];
		static const uint64_t want[] = { 1, 2, 3, 4, 5, 6, 7 };

		T_ASSERT(dmakit_frame_encode(&f, b, sizeof(b)) > 0);
		for (size_t i = 0; i < 7; i++)
			T_EQ_U64(get_le64(b + 16 + 8 * i), want[i]);
		T_EQ_U64(get_le64(b + 72) & 0xffffffffu,
			 DMAKIT_RESULT_INTERRUPTED);
		T_STREQ((const char *)b + 80, "interrupted");
	}

	memset(&f, 0, sizeof(f));
	f.type = DMAKIT_FRAME_FINAL;
	f.u.final.status = -EIO;
	f.u.final.result = DMAKIT_RESULT_IO_ERROR;
	f.u.final.buffers = 10;
	f.u.final.bytes = 20;
	f.u.final.discarded = 1;
	strcpy(f.u.final.message, "write: Input/output error");
	T_EQ(roundtrip(&f, &g), 0);
	T_EQ(g.u.final.status, -EIO);
	T_EQ(g.u.final.result, DMAKIT_RESULT_IO_ERROR);
	T_EQ_U64(g.u.final.buffers, 10);
	T_EQ_U64(g.u.final.bytes, 20);
	T_EQ_U64(g.u.final.discarded, 1);
	T_STREQ(g.u.final.message, "write: Input/output error");
}

/* Encode a valid BUF, apply @mutate, expect peek or decode to reject it. */
static int decode_mutated(void (*mutate)(unsigned char *b), char *err,
			  size_t errlen)
{
	unsigned char b[DMAKIT_FRAME_MAX_LEN];
	struct dmakit_frame f;
	int len, ret;

	sample_buf(&f);
	len = dmakit_frame_encode(&f, b, sizeof(b));
	mutate(b);
	ret = dmakit_frame_peek(b, DMAKIT_FRAME_COMMON_LEN, err, errlen);
	if (ret < 0)
		return ret;
	return dmakit_frame_decode(b, (size_t)len, &f, err, errlen);
}

/* Recompute the header CRC after a mutation (to reach the later checks). */
static void fix_crc(unsigned char *b)
{
	uint32_t crc = dmakit_crc32c(0, b, 12);

	crc = dmakit_crc32c(crc, b + 16, DMAKIT_FRAME_BUF_LEN - 16);
	b[12] = (unsigned char)crc;
	b[13] = (unsigned char)(crc >> 8);
	b[14] = (unsigned char)(crc >> 16);
	b[15] = (unsigned char)(crc >> 24);
}

static void m_magic(unsigned char *b) { b[0] = 'G'; }
static void m_version(unsigned char *b) { b[4] = 2; }
static void m_type(unsigned char *b) { b[5] = 42; }
static void m_type0(unsigned char *b) { b[5] = 0; }
static void m_hdrlen(unsigned char *b) { b[6] = 65; }
static void m_crc(unsigned char *b) { b[12] ^= 1; }
static void m_seq(unsigned char *b) { b[20] ^= 0x10; }
static void m_reserved(unsigned char *b) { b[61] = 1; fix_crc(b); }
static void m_gap(unsigned char *b) { b[48] &= (unsigned char)~DMAKIT_DESC_F_GAP; fix_crc(b); }
static void m_skipped(unsigned char *b) { b[56] = 9; fix_crc(b); }
static void m_flags(unsigned char *b) { b[49] = 1; fix_crc(b); }

static void malformed_rejected(void)
{
	static const struct {
		void (*fn)(unsigned char *b);
		const char *msg;
	} cases[] = {
		{ m_magic, "not a dmakit stream" },
		{ m_version, "version 2" },
		{ m_type, "unknown frame type 42" },
		{ m_type0, "unknown frame type 0" },
		{ m_hdrlen, "65 bytes" },
		{ m_crc, "CRC" },
		{ m_seq, "CRC" },
		{ m_reserved, "reserved" },
		{ m_gap, "disagree" },
		{ m_skipped, "disagree" },
		{ m_flags, "reserved" },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		T_EQ(decode_mutated(cases[i].fn, err, sizeof(err)), -EPROTO);
		if (!strstr(err, cases[i].msg))
			T_FAIL("case %zu: '%s' lacks '%s'", i, err, cases[i].msg);
	}
}

/* Every single-bit flip anywhere in a header is caught. */
static void every_bit_flip_caught(void)
{
	unsigned char b[DMAKIT_FRAME_MAX_LEN], c[DMAKIT_FRAME_MAX_LEN];
	struct dmakit_frame f, g;
	char err[256];
	int len, bit, ret;

	memset(&f, 0, sizeof(f));
	f.type = DMAKIT_FRAME_HELLO;
	f.u.hello.bufsize = 4096;
	f.u.hello.nbufs = 4;
	strcpy(f.u.hello.device, "sim:bufsize=4K");
	len = dmakit_frame_encode(&f, b, sizeof(b));
	T_EQ(len, DMAKIT_FRAME_HELLO_LEN);
	for (bit = 0; bit < len * 8; bit++) {
		memcpy(c, b, (size_t)len);
		c[bit / 8] ^= (unsigned char)(1 << (bit % 8));
		ret = dmakit_frame_peek(c, 16, err, sizeof(err));
		if (ret == len)
			ret = dmakit_frame_decode(c, (size_t)len, &g, err,
						  sizeof(err));
		if (ret != -EPROTO && ret >= 0)
			T_FAIL("bit %d flipped was accepted", bit);
	}
}

static void truncated_and_strings(void)
{
	unsigned char b[DMAKIT_FRAME_MAX_LEN] = { 0 };
	struct dmakit_frame f, g;
	char err[256];
	int len;

	T_EQ(dmakit_frame_peek(b, 5, err, sizeof(err)), -EPROTO);
	T_ASSERT(strstr(err, "truncated"));
	memset(&f, 0, sizeof(f));
	f.type = DMAKIT_FRAME_ACCEPT;
	strcpy(f.u.accept.message, "ok");
	len = dmakit_frame_encode(&f, b, sizeof(b));
	T_EQ(dmakit_frame_decode(b, (size_t)len - 1, &g, err, sizeof(err)),
	     -EPROTO);
	T_ASSERT(strstr(err, "truncated"));
	/* bytes after the string's NUL: malformed even with a good CRC */
	b[24 + 50] = 'z';
	{
		uint32_t crc = dmakit_crc32c(0, b, 12);

		crc = dmakit_crc32c(crc, b + 16, (size_t)len - 16);
		memcpy(b + 12, &crc, 4);	/* test host is little-endian */
	}
	T_EQ(dmakit_frame_decode(b, (size_t)len, &g, err, sizeof(err)), -EPROTO);
	T_ASSERT(strstr(err, "malformed string"));
	/* impossible geometry in HELLO */
	memset(&f, 0, sizeof(f));
	f.type = DMAKIT_FRAME_HELLO;
	f.u.hello.bufsize = 1000;
	f.u.hello.nbufs = 4;
	len = dmakit_frame_encode(&f, b, sizeof(b));
	T_EQ(dmakit_frame_decode(b, (size_t)len, &g, err, sizeof(err)), -EPROTO);
	T_ASSERT(strstr(err, "geometry"));
	T_STREQ(dmakit_frame_type_name(DMAKIT_FRAME_DISCARD), "DISCARD");
	T_STREQ(dmakit_frame_type_name(0), "?");
	T_STREQ(dmakit_frame_type_name(200), "?");
}

static void addresses(void)
{
	char host[64], port[8], err[128];

	T_EQ(dmakit_net_split_addr("127.0.0.1:9000", host, sizeof(host), port,
				   sizeof(port), err, sizeof(err)), 0);
	T_STREQ(host, "127.0.0.1");
	T_STREQ(port, "9000");
	T_EQ(dmakit_net_split_addr("[::1]:80", host, sizeof(host), port,
				   sizeof(port), err, sizeof(err)), 0);
	T_STREQ(host, "::1");
	T_EQ(dmakit_net_split_addr("9000", host, sizeof(host), port,
				   sizeof(port), err, sizeof(err)), 0);
	T_STREQ(host, "");
	T_EQ(dmakit_net_split_addr("example:0", host, sizeof(host), port,
				   sizeof(port), err, sizeof(err)), 0);
	T_STREQ(port, "0");
	static const char *const bad[] = {
		"", "host:", "host:65536", "host:-1", ":80", "::1:80",
		"[::1]80", "host:80x", "host:+5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		T_EQ(dmakit_net_split_addr(bad[i], host, sizeof(host), port,
					   sizeof(port), err, sizeof(err)),
		     -EINVAL);
		T_ASSERT(err[0]);
	}
	/* a host alone is a missing port, not a bad one */
	T_EQ(dmakit_net_split_addr("127.0.0.1", host, sizeof(host), port,
				   sizeof(port), err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "no port in '127.0.0.1'"));
	T_EQ(dmakit_net_split_addr("rx-host", host, sizeof(host), port,
				   sizeof(port), err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "no port"));
}

static void zerocopy_names(void)
{
	enum dmakit_zerocopy zc;

	T_EQ(dmakit_zerocopy_parse("uring", &zc), 0);
	T_EQ(zc, DMAKIT_ZC_URING);
	T_EQ(dmakit_zerocopy_parse("off", &zc), 0);
	T_EQ(zc, DMAKIT_ZC_OFF);
	T_EQ(dmakit_zerocopy_parse("on", &zc), -EINVAL);
	T_STREQ(dmakit_zerocopy_name(DMAKIT_ZC_MSG), "msg");
}

int main(void)
{
	T_RUN(sizes_and_layout);
	T_RUN(roundtrip_all_types);
	T_RUN(malformed_rejected);
	T_RUN(every_bit_flip_caught);
	T_RUN(truncated_and_strings);
	T_RUN(addresses);
	T_RUN(zerocopy_names);
	return t_exit();
}
