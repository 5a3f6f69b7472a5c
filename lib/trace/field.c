// SPDX-License-Identifier: MIT
/*
 * Reading fields out of raw trace records, as the event's tracefs format
 * lays them out.  Besides plain numbers and strings, numeric arrays: the
 * kernel's dma:dma_map_sg records its scatterlist as __data_loc arrays
 * (phys_addrs[], dma_addrs[], lengths[]) and dma:dma_unmap_sg its
 * addresses (addrs[]), so a mapping is paired with its unmapping by an
 * element (phys_addrs[0] = addrs[0]) and its size is the sum of lengths[].
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>
#include "field.h"

void trace_field_const(struct trace_field *f, int64_t value)
{
	memset(f, 0, sizeof(*f));
	f->kind = TRACE_FIELD_CONST;
	f->value = value;
}

/*
 * The element type of an array field from its declared type ("__data_loc
 * unsigned int[]", "u64[4]"): libtraceevent leaves the element size of
 * some dynamic arrays at 0.
 */
static int elem_type(const char *type, bool *is_signed)
{
	static const struct {
		const char *name;
		int size;
		bool is_signed;
	} types[] = {
		{ "u8", 1, false }, { "s8", 1, true }, { "bool", 1, false },
		{ "unsigned char", 1, false }, { "char", 1, true },
		{ "u16", 2, false }, { "s16", 2, true },
		{ "unsigned short", 2, false }, { "short", 2, true },
		{ "u32", 4, false }, { "s32", 4, true },
		{ "unsigned int", 4, false }, { "int", 4, true },
		{ "u64", 8, false }, { "s64", 8, true },
		{ "unsigned long long", 8, false }, { "long long", 8, true },
		{ "unsigned long", 8, false }, { "long", 8, true },
		{ "dma_addr_t", 8, false }, { "phys_addr_t", 8, false },
		{ "size_t", 8, false },
	};
	const char *p = type;
	size_t len, i;

	if (!strncmp(p, "__data_loc ", 11))
		p += 11;
	else if (!strncmp(p, "__rel_loc ", 10))
		p += 10;
	len = strcspn(p, "[");
	while (len && p[len - 1] == ' ')
		len--;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == len &&
		    !strncmp(types[i].name, p, len)) {
			*is_signed = types[i].is_signed;
			return types[i].size;
		}
	return 0;
}

/* "NAME[N]" -> NAME in @base, N in *@index; "NAME" -> *@index = -1 */
static int split_name(const char *name, char *base, size_t len, int *index)
{
	const char *br = strchr(name, '[');
	char *end;
	long n;

	*index = -1;
	if (!br) {
		if (strlen(name) >= len)
			return -EINVAL;
		strcpy(base, name);
		return 0;
	}
	if ((size_t)(br - name) >= len || br == name)
		return -EINVAL;
	memcpy(base, name, (size_t)(br - name));
	base[br - name] = '\0';
	errno = 0;
	n = strtol(br + 1, &end, 10);
	if (end == br + 1 || errno || n < 0 || n > 65535 || strcmp(end, "]"))
		return -EINVAL;
	*index = (int)n;
	return 0;
}

/* __rel_loc: the payload's offset counts from the end of the loc word */
static int loc_base(const struct tep_format_field *tf)
{
	return (tf->flags & TEP_FIELD_IS_RELATIVE) ? tf->offset + 4 : 0;
}

int trace_field_find(struct tep_event *ev, const char *name,
		     unsigned int allow, struct trace_field *f)
{
	struct tep_format_field *tf;
	char base[64];
	int index, esize;
	bool array, esigned = false;

	memset(f, 0, sizeof(*f));
	if (split_name(name, base, sizeof(base), &index))
		return -EINVAL;
	tf = tep_find_any_field(ev, base);
	if (!tf)
		return -ENOENT;
	array = tf->flags & (TEP_FIELD_IS_ARRAY | TEP_FIELD_IS_DYNAMIC);
	if (tf->flags & TEP_FIELD_IS_STRING) {
		if (index >= 0 || !(allow & TRACE_FIELD_ALLOW_STR))
			return -EINVAL;
		if ((tf->flags & TEP_FIELD_IS_DYNAMIC) && tf->size != 4)
			return -EINVAL;
		f->kind = (tf->flags & TEP_FIELD_IS_DYNAMIC) ?
			  TRACE_FIELD_DYN_STR : TRACE_FIELD_STR;
		f->offset = tf->offset;
		f->size = tf->size;
		f->loc_base = loc_base(tf);
		return 0;
	}
	if (!array) {
		if (index >= 0)
			return -EINVAL;
		if (tf->size != 1 && tf->size != 2 && tf->size != 4 &&
		    tf->size != 8)
			return -EINVAL;
		f->kind = TRACE_FIELD_NUM;
		f->offset = tf->offset;
		f->size = tf->size;
		f->is_signed = tf->flags & TEP_FIELD_IS_SIGNED;
		return 0;
	}
	if (index < 0 && !(allow & TRACE_FIELD_ALLOW_SUM))
		return -EISDIR;
	esize = elem_type(tf->type, &esigned);
	if (!esize && tf->elementsize > 0) {
		esize = tf->elementsize;
		esigned = tf->flags & TEP_FIELD_IS_SIGNED;
	}
	if (esize != 1 && esize != 2 && esize != 4 && esize != 8)
		return -EINVAL;
	f->dyn = tf->flags & TEP_FIELD_IS_DYNAMIC;
	if (f->dyn && tf->size != 4)
		return -EINVAL;
	if (!f->dyn) {
		f->count = tf->arraylen > 0 ? (int)tf->arraylen : tf->size / esize;
		if (index >= f->count)
			return -EINVAL;
	}
	f->kind = index < 0 ? TRACE_FIELD_SUM : TRACE_FIELD_ELEM;
	f->index = index;
	f->offset = tf->offset;
	f->size = esize;
	f->is_signed = esigned;
	f->loc_base = loc_base(tf);
	return 0;
}

/* FNV-1a of a NUL-terminated or @len-bounded string */
static uint64_t str_hash(const unsigned char *p, int len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < len && p[i]; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t read_num(const unsigned char *p, int size, bool is_signed)
{
	switch (size) {
	case 1: {
		uint8_t x = p[0];

		return is_signed ? (uint64_t)(int64_t)(int8_t)x : x;
	}
	case 2: {
		uint16_t x;

		memcpy(&x, p, 2);
		return is_signed ? (uint64_t)(int64_t)(int16_t)x : x;
	}
	case 4: {
		uint32_t x;

		memcpy(&x, p, 4);
		return is_signed ? (uint64_t)(int64_t)(int32_t)x : x;
	}
	default: {
		uint64_t x;

		memcpy(&x, p, 8);
		return x;
	}
	}
}

/*
 * Where a __data_loc (or __rel_loc) payload lies: the low 16 bits of the
 * loc word are its offset, the high 16 its length in bytes.
 */
static bool dyn_span(const struct trace_field *f, const unsigned char *data,
		     int size, int *off, int *len)
{
	uint32_t loc;

	if (f->offset < 0 || f->offset + 4 > size)
		return false;
	memcpy(&loc, data + f->offset, 4);
	*off = f->loc_base + (int)(loc & 0xffff);
	*len = (int)(loc >> 16);
	return *off + *len <= size;
}

bool trace_field_read(const struct trace_field *f, const unsigned char *data,
		      int size, uint64_t *out)
{
	int off, len, n, i;
	uint64_t sum;

	switch (f->kind) {
	case TRACE_FIELD_NONE:
		return false;
	case TRACE_FIELD_CONST:
		*out = (uint64_t)f->value;
		return true;
	case TRACE_FIELD_NUM:
		if (f->offset < 0 || f->offset + f->size > size)
			return false;
		*out = read_num(data + f->offset, f->size, f->is_signed);
		return true;
	case TRACE_FIELD_STR:
		if (f->offset < 0 || f->offset + f->size > size)
			return false;
		*out = str_hash(data + f->offset, f->size);
		return true;
	case TRACE_FIELD_DYN_STR:
		if (!dyn_span(f, data, size, &off, &len))
			return false;
		*out = str_hash(data + off, len);
		return true;
	case TRACE_FIELD_ELEM:
	case TRACE_FIELD_SUM:
		if (f->dyn) {
			if (!dyn_span(f, data, size, &off, &len))
				return false;
			n = len / f->size;
		} else {
			off = f->offset;
			n = f->count;
			if (off < 0 || off + n * f->size > size)
				return false;
		}
		if (f->kind == TRACE_FIELD_ELEM) {
			if (f->index >= n)
				return false;
			*out = read_num(data + off + f->index * f->size,
					f->size, f->is_signed);
			return true;
		}
		for (sum = 0, i = 0; i < n; i++)
			sum += read_num(data + off + i * f->size, f->size,
					f->is_signed);
		*out = sum;
		return true;
	}
	return false;
}
