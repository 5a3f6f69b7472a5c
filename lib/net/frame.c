// SPDX-License-Identifier: MIT
/*
 * The stream wire format (include/dmakit/stream.h): encoder and decoder.
 * Fields are written one by one in little-endian order, so the format does
 * not depend on the host's struct layout or byte order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "dmakit/stream.h"

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* A NUL-padded string field; always leaves room for the terminator. */
static void put_str(unsigned char *p, size_t field, const char *s)
{
	size_t n = strnlen(s, field - 1);

	memcpy(p, s, n);
}

/* Copy a string field out; rejects bytes after the first NUL. */
static int get_str(char *dst, const unsigned char *p, size_t field)
{
	size_t n = strnlen((const char *)p, field);
	size_t i;

	if (n == field)
		return -1;
	for (i = n; i < field; i++)
		if (p[i])
			return -1;
	memcpy(dst, p, n + 1);
	return 0;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static int type_len(unsigned int type)
{
	switch (type) {
	case DMAKIT_FRAME_HELLO:
		return DMAKIT_FRAME_HELLO_LEN;
	case DMAKIT_FRAME_ACCEPT:
		return DMAKIT_FRAME_ACCEPT_LEN;
	case DMAKIT_FRAME_BUF:
		return DMAKIT_FRAME_BUF_LEN;
	case DMAKIT_FRAME_DISCARD:
		return DMAKIT_FRAME_DISCARD_LEN;
	case DMAKIT_FRAME_STATS:
	case DMAKIT_FRAME_END:
		return DMAKIT_FRAME_STATS_LEN;
	case DMAKIT_FRAME_FINAL:
		return DMAKIT_FRAME_FINAL_LEN;
	}
	return -1;
}

const char *dmakit_frame_type_name(unsigned int type)
{
	static const char *const names[] = {
		[DMAKIT_FRAME_HELLO] = "HELLO", [DMAKIT_FRAME_ACCEPT] = "ACCEPT",
		[DMAKIT_FRAME_BUF] = "BUF", [DMAKIT_FRAME_DISCARD] = "DISCARD",
		[DMAKIT_FRAME_STATS] = "STATS", [DMAKIT_FRAME_END] = "END",
		[DMAKIT_FRAME_FINAL] = "FINAL",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "?";
}

static uint32_t header_crc(const unsigned char *p, size_t len)
{
	uint32_t crc = dmakit_crc32c(0, p, 12);

	return dmakit_crc32c(crc, p + DMAKIT_FRAME_COMMON_LEN,
			     len - DMAKIT_FRAME_COMMON_LEN);
}

int dmakit_frame_encode(const struct dmakit_frame *f, void *out, size_t outlen)
{
	unsigned char *p = out;
	int len = type_len(f->type);

	if (len < 0 || outlen < (size_t)len)
		return -EINVAL;
	if (f->type != DMAKIT_FRAME_BUF && f->data_len)
		return -EINVAL;
	memset(p, 0, (size_t)len);
	put32(p, DMAKIT_STREAM_MAGIC);
	p[4] = DMAKIT_STREAM_VERSION;
	p[5] = f->type;
	put16(p + 6, (uint16_t)len);
	put32(p + 8, f->data_len);

	switch (f->type) {
	case DMAKIT_FRAME_HELLO: {
		const struct dmakit_frame_hello *h = &f->u.hello;

		put32(p + 16, h->bufsize);
		put32(p + 20, h->nbufs);
		put32(p + 24, h->payload);
		put32(p + 28, h->flags);
		put64(p + 32, h->dev_clock_hz);
		put64(p + 40, h->stream_id);
		put64(p + 48, h->start_realtime_ns);
		put_str(p + 56, 16, h->kind);
		put_str(p + 72, 128, h->device);
		break;
	}
	case DMAKIT_FRAME_ACCEPT:
		put32(p + 16, (uint32_t)f->u.accept.status);
		put_str(p + 24, 104, f->u.accept.message);
		break;
	case DMAKIT_FRAME_BUF: {
		const struct dmakit_frame_buf *b = &f->u.buf;

		put64(p + 16, b->seq);
		put64(p + 24, b->dev_ts);
		put64(p + 32, b->host_ts);
		put64(p + 40, b->lost);
		put32(p + 48, b->flags);
		put32(p + 52, b->crc32c);
		put32(p + 56, b->skipped);
		break;
	}
	case DMAKIT_FRAME_DISCARD:
		put64(p + 16, f->u.discard.seq);
		put32(p + 24, f->u.discard.reason);
		break;
	case DMAKIT_FRAME_STATS:
	case DMAKIT_FRAME_END: {
		const struct dmakit_frame_stats *s = &f->u.stats;

		put64(p + 16, s->buffers);
		put64(p + 24, s->bytes);
		put64(p + 32, s->dropped);
		put64(p + 40, s->skipped);
		put64(p + 48, s->discarded);
		put64(p + 56, s->zc_sends);
		put64(p + 64, s->zc_copied);
		put32(p + 72, s->result);
		put_str(p + 80, 48, s->message);
		break;
	}
	case DMAKIT_FRAME_FINAL: {
		const struct dmakit_frame_final *s = &f->u.final;

		put32(p + 16, (uint32_t)s->status);
		put32(p + 20, s->result);
		put64(p + 24, s->buffers);
		put64(p + 32, s->bytes);
		put64(p + 40, s->discarded);
		put_str(p + 48, 80, s->message);
		break;
	}
	}
	put32(p + 12, header_crc(p, (size_t)len));
	return len;
}

int dmakit_frame_peek(const void *in, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = in;
	uint32_t magic;
	int want;

	if (len < DMAKIT_FRAME_COMMON_LEN)
		return dmakit_errf(err, errlen, -EPROTO,
				   "frame header truncated (%zu bytes)", len);
	magic = get32(p);
	if (magic != DMAKIT_STREAM_MAGIC)
		return dmakit_errf(err, errlen, -EPROTO,
				   "bad magic 0x%08x: not a dmakit stream", magic);
	if (p[4] != DMAKIT_STREAM_VERSION)
		return dmakit_errf(err, errlen, -EPROTO,
				   "stream version %u, this dmakit speaks %u",
				   p[4], DMAKIT_STREAM_VERSION);
	want = type_len(p[5]);
	if (want < 0)
		return dmakit_errf(err, errlen, -EPROTO,
				   "unknown frame type %u", p[5]);
	if (get16(p + 6) != want)
		return dmakit_errf(err, errlen, -EPROTO,
				   "%s frame header of %u bytes, expected %d",
				   dmakit_frame_type_name(p[5]), get16(p + 6),
				   want);
	return want;
}

int dmakit_frame_decode(const void *in, size_t len, struct dmakit_frame *f,
			char *err, size_t errlen)
{
	const unsigned char *p = in;
	int want = dmakit_frame_peek(in, len, err, errlen);
	const char *name;
	uint32_t crc;

	if (want < 0)
		return want;
	if (len != (size_t)want)
		return dmakit_errf(err, errlen, -EPROTO,
				   "frame header truncated (%zu of %d bytes)",
				   len, want);
	name = dmakit_frame_type_name(p[5]);
	crc = header_crc(p, len);
	if (crc != get32(p + 12))
		return dmakit_errf(err, errlen, -EPROTO,
				   "%s frame header CRC 0x%08x, computed 0x%08x: corrupt stream",
				   name, get32(p + 12), crc);
	memset(f, 0, sizeof(*f));
	f->type = p[5];
	f->data_len = get32(p + 8);
	if (f->type != DMAKIT_FRAME_BUF && f->data_len)
		return dmakit_errf(err, errlen, -EPROTO,
				   "%s frame with %u data bytes", name,
				   f->data_len);

	switch (f->type) {
	case DMAKIT_FRAME_HELLO: {
		struct dmakit_frame_hello *h = &f->u.hello;

		h->bufsize = get32(p + 16);
		h->nbufs = get32(p + 20);
		h->payload = get32(p + 24);
		h->flags = get32(p + 28);
		h->dev_clock_hz = get64(p + 32);
		h->stream_id = get64(p + 40);
		h->start_realtime_ns = get64(p + 48);
		if (get_str(h->kind, p + 56, 16) ||
		    get_str(h->device, p + 72, 128) || !all_zero(p + 200, 56))
			goto reserved;
		if (h->flags & ~DMAKIT_STREAM_F_LOSSY)
			goto reserved;
		if (dmakit_ring_check_geometry(h->nbufs, h->bufsize))
			return dmakit_errf(err, errlen, -EPROTO,
					   "HELLO with impossible geometry bufsize=%u nbufs=%u",
					   h->bufsize, h->nbufs);
		break;
	}
	case DMAKIT_FRAME_ACCEPT:
		f->u.accept.status = (int32_t)get32(p + 16);
		if (get32(p + 20) || get_str(f->u.accept.message, p + 24, 104))
			goto reserved;
		break;
	case DMAKIT_FRAME_BUF: {
		struct dmakit_frame_buf *b = &f->u.buf;

		b->seq = get64(p + 16);
		b->dev_ts = get64(p + 24);
		b->host_ts = get64(p + 32);
		b->lost = get64(p + 40);
		b->flags = get32(p + 48);
		b->crc32c = get32(p + 52);
		b->skipped = get32(p + 56);
		if (get32(p + 60) || (b->flags & ~DMAKIT_FRAME_BUF_FLAGS))
			goto reserved;
		if (!(b->flags & DMAKIT_DESC_F_GAP) != !b->lost ||
		    b->skipped > b->lost)
			return dmakit_errf(err, errlen, -EPROTO,
					   "BUF seq %llu: lost=%llu skipped=%u flags=0x%x disagree",
					   (unsigned long long)b->seq,
					   (unsigned long long)b->lost,
					   b->skipped, b->flags);
		break;
	}
	case DMAKIT_FRAME_DISCARD:
		f->u.discard.seq = get64(p + 16);
		f->u.discard.reason = get32(p + 24);
		if (get32(p + 28))
			goto reserved;
		break;
	case DMAKIT_FRAME_STATS:
	case DMAKIT_FRAME_END: {
		struct dmakit_frame_stats *s = &f->u.stats;

		s->buffers = get64(p + 16);
		s->bytes = get64(p + 24);
		s->dropped = get64(p + 32);
		s->skipped = get64(p + 40);
		s->discarded = get64(p + 48);
		s->zc_sends = get64(p + 56);
		s->zc_copied = get64(p + 64);
		s->result = get32(p + 72);
		if (get32(p + 76) || get_str(s->message, p + 80, 48))
			goto reserved;
		break;
	}
	case DMAKIT_FRAME_FINAL: {
		struct dmakit_frame_final *s = &f->u.final;

		s->status = (int32_t)get32(p + 16);
		s->result = get32(p + 20);
		s->buffers = get64(p + 24);
		s->bytes = get64(p + 32);
		s->discarded = get64(p + 40);
		if (get_str(s->message, p + 48, 80))
			goto reserved;
		break;
	}
	}
	return 0;
reserved:
	return dmakit_errf(err, errlen, -EPROTO,
			   "%s frame with nonzero reserved bytes or a malformed string",
			   name);
}

int dmakit_net_split_addr(const char *s, char *host, size_t hostlen,
			  char *port, size_t portlen, char *err, size_t errlen)
{
	const char *colon = strrchr(s ? s : "", ':'), *h = NULL, *pt;
	size_t hl = 0;
	char *end;
	unsigned long v;

	if (!s || !*s)
		return dmakit_errf(err, errlen, -EINVAL, "empty address");
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return dmakit_errf(err, errlen, -EINVAL,
					   "bad address '%s' (expected [IPV6]:PORT)",
					   s);
		h = s + 1;
		hl = (size_t)(close - h);
		pt = close + 2;
	} else if (colon) {
		if (strchr(s, ':') != colon)
			return dmakit_errf(err, errlen, -EINVAL,
					   "bad address '%s' (write IPv6 as [ADDR]:PORT)",
					   s);
		h = s;
		hl = (size_t)(colon - s);
		pt = colon + 1;
	} else {
		pt = s;
		/* "10.0.0.2" or "rx-host" alone: a host with no port */
		if (strspn(s, "0123456789") != strlen(s))
			return dmakit_errf(err, errlen, -EINVAL,
					   "no port in '%s' (expected HOST:PORT, e.g. 10.0.0.2:9000)",
					   s);
	}
	errno = 0;
	v = strtoul(pt, &end, 10);
	if (!*pt || *end || errno || v > 65535 || *pt == '-' || *pt == '+')
		return dmakit_errf(err, errlen, -EINVAL,
				   "bad port '%s' in '%s' (expected 0..65535)",
				   pt, s);
	if (h && hl == 0)
		return dmakit_errf(err, errlen, -EINVAL,
				   "empty host in '%s'", s);
	if (hl >= hostlen || strlen(pt) >= portlen)
		return dmakit_errf(err, errlen, -EINVAL,
				   "address '%s' too long", s);
	if (host) {
		memcpy(host, h ? h : "", hl);
		host[hl] = '\0';
	}
	snprintf(port, portlen, "%lu", v);
	return 0;
}

static const char *const zc_names[] = {
	[DMAKIT_ZC_AUTO] = "auto", [DMAKIT_ZC_MSG] = "msg",
	[DMAKIT_ZC_URING] = "uring", [DMAKIT_ZC_OFF] = "off",
};

int dmakit_zerocopy_parse(const char *name, enum dmakit_zerocopy *zc)
{
	size_t i;

	for (i = 0; name && i < sizeof(zc_names) / sizeof(zc_names[0]); i++) {
		if (!strcmp(name, zc_names[i])) {
			*zc = (enum dmakit_zerocopy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *dmakit_zerocopy_name(enum dmakit_zerocopy zc)
{
	if ((unsigned int)zc < sizeof(zc_names) / sizeof(zc_names[0]))
		return zc_names[zc];
	return "?";
}
