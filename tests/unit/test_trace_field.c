// SPDX-License-Identifier: MIT
/*
 * Trace record fields (lib/trace/field.c) against formats as the kernel
 * prints them: dma:dma_map_sg and dma:dma_unmap_sg of Linux 6.12 (their
 * scatterlists are __data_loc arrays), a fixed array, a __rel_loc array,
 * fixed and dynamic strings, signed numbers.  Each raw record is built
 * here byte by byte as the kernel's ring buffer holds it.
 */
#include <errno.h>
#include <event-parse.h>
#include "trace/field.h"
#include "t.h"

static const char map_sg_format[] =
	"name: dma_map_sg\n"
	"ID: 900\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:__data_loc char[] device;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:int full_nents;\toffset:12;\tsize:4;\tsigned:1;\n"
	"\tfield:int full_ents;\toffset:16;\tsize:4;\tsigned:1;\n"
	"\tfield:bool truncated;\toffset:20;\tsize:1;\tsigned:0;\n"
	"\tfield:__data_loc u64[] phys_addrs;\toffset:24;\tsize:4;\tsigned:0;\n"
	"\tfield:__data_loc u64[] dma_addrs;\toffset:28;\tsize:4;\tsigned:0;\n"
	"\tfield:__data_loc unsigned int[] lengths;\toffset:32;\tsize:4;\tsigned:0;\n"
	"\tfield:enum dma_data_direction dir;\toffset:36;\tsize:4;\tsigned:0;\n"
	"\tfield:unsigned long attrs;\toffset:40;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"%s nents=%d\", __get_str(device), REC->full_nents\n";

static const char other_format[] =
	"name: shapes\n"
	"ID: 901\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:char dev[8];\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:u32 regs[3];\toffset:16;\tsize:12;\tsigned:0;\n"
	"\tfield:s16 delta;\toffset:28;\tsize:2;\tsigned:1;\n"
	"\tfield:__rel_loc s32[] vals;\toffset:32;\tsize:4;\tsigned:0;\n"
	"\n"
	"print fmt: \"%s\", REC->dev\n";

static struct tep_handle *tep;
static struct tep_event *map_sg, *shapes;

static struct tep_event *parse(const char *fmt)
{
	struct tep_event *ev = NULL;

	if (tep_parse_format(tep, &ev, fmt, strlen(fmt), "dma"))
		return NULL;
	return ev;
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* dma_map_sg of a 3-entry list for "0000:00:04.0" */
static int map_sg_record(unsigned char *r)
{
	static const uint64_t phys[3] = { 0x1234000, 0x5678000, 0x9abc000 };
	static const uint64_t dma[3] = { 0xfff00000, 0xfff01000, 0xfff02000 };
	static const uint32_t len[3] = { 4096, 4096, 1000 };
	int off = 48, i;

	memset(r, 0, 256);
	r[0] = 0x84;
	r[1] = 0x03;			/* common_type 900 */
	put32(r + 4, 77);		/* common_pid */
	put32(r + 8, (13u << 16) | (uint32_t)off);
	memcpy(r + off, "0000:00:04.0", 13);
	off += 16;
	put32(r + 12, 3);
	put32(r + 16, 3);
	put32(r + 24, (24u << 16) | (uint32_t)off);
	for (i = 0; i < 3; i++)
		put64(r + off + 8 * i, phys[i]);
	off += 24;
	put32(r + 28, (24u << 16) | (uint32_t)off);
	for (i = 0; i < 3; i++)
		put64(r + off + 8 * i, dma[i]);
	off += 24;
	put32(r + 32, (12u << 16) | (uint32_t)off);
	for (i = 0; i < 3; i++)
		put32(r + off + 4 * i, len[i]);
	off += 12;
	put32(r + 36, 2);		/* DMA_FROM_DEVICE */
	return off;
}

static void element_of_dynamic_array(void)
{
	unsigned char r[256];
	struct trace_field f;
	uint64_t v = 0;
	int size = map_sg_record(r);

	T_EQ(trace_field_find(map_sg, "phys_addrs[0]", 0, &f), 0);
	T_ASSERT(trace_field_read(&f, r, size, &v));
	T_EQ_U64(v, 0x1234000);
	T_EQ(trace_field_find(map_sg, "dma_addrs[2]", 0, &f), 0);
	T_ASSERT(trace_field_read(&f, r, size, &v));
	T_EQ_U64(v, 0xfff02000);
	T_EQ(trace_field_find(map_sg, "lengths[2]", 0, &f), 0);
	T_ASSERT(trace_field_read(&f, r, size, &v));
	T_EQ_U64(v, 1000);
	/* past this record's 3 entries: nothing, not a neighbour's bytes */
	T_EQ(trace_field_find(map_sg, "phys_addrs[3]", 0, &f), 0);
	T_ASSERT(!trace_field_read(&f, r, size, &v));
}

static void sum_of_dynamic_array(void)
{
	unsigned char r[256];
	struct trace_field f;
	uint64_t v = 0;
	int size = map_sg_record(r);

	T_EQ(trace_field_find(map_sg, "lengths", TRACE_FIELD_ALLOW_SUM, &f), 0);
	T_EQ(f.kind, TRACE_FIELD_SUM);
	T_ASSERT(trace_field_read(&f, r, size, &v));
	T_EQ_U64(v, 4096 + 4096 + 1000);
	/* a whole array is no key: it must be named by element */
	T_EQ(trace_field_find(map_sg, "dma_addrs", 0, &f), -EISDIR);
	T_EQ(f.kind, TRACE_FIELD_NONE);
	T_ASSERT(!trace_field_read(&f, r, size, &v));
}

static void empty_and_cut_records(void)
{
	unsigned char r[256];
	struct trace_field f;
	uint64_t v = 1;
	int size = map_sg_record(r);

	/* an empty list sums to 0 and has no element 0 */
	put32(r + 32, (0u << 16) | 100);
	T_EQ(trace_field_find(map_sg, "lengths", TRACE_FIELD_ALLOW_SUM, &f), 0);
	T_ASSERT(trace_field_read(&f, r, size, &v));
	T_EQ_U64(v, 0);
	T_EQ(trace_field_find(map_sg, "lengths[0]", 0, &f), 0);
	T_ASSERT(!trace_field_read(&f, r, size, &v));
	/* a loc word pointing past the record is refused */
	size = map_sg_record(r);
	T_EQ(trace_field_find(map_sg, "phys_addrs[0]", 0, &f), 0);
	T_ASSERT(!trace_field_read(&f, r, 60, &v));
	T_ASSERT(trace_field_read(&f, r, size, &v));
}

static void names_and_refusals(void)
{
	struct trace_field f;

	T_EQ(trace_field_find(map_sg, "nosuch", 0, &f), -ENOENT);
	T_EQ(trace_field_find(map_sg, "nosuch[0]", 0, &f), -ENOENT);
	T_EQ(trace_field_find(map_sg, "full_nents[0]", 0, &f), -EINVAL);
	T_EQ(trace_field_find(map_sg, "phys_addrs[", 0, &f), -EINVAL);
	T_EQ(trace_field_find(map_sg, "phys_addrs[x]", 0, &f), -EINVAL);
	T_EQ(trace_field_find(map_sg, "phys_addrs[-1]", 0, &f), -EINVAL);
	T_EQ(trace_field_find(map_sg, "phys_addrs[1]x", 0, &f), -EINVAL);
	T_EQ(trace_field_find(map_sg, "[0]", 0, &f), -EINVAL);
	/* a string only where strings are allowed (channel keys) */
	T_EQ(trace_field_find(map_sg, "device", 0, &f), -EINVAL);
	T_EQ(trace_field_find(map_sg, "device", TRACE_FIELD_ALLOW_STR, &f), 0);
	T_EQ(f.kind, TRACE_FIELD_DYN_STR);
}

static void numbers_and_strings(void)
{
	unsigned char r[256], r2[256];
	struct trace_field f;
	uint64_t v = 0, v2 = 0;
	int size = map_sg_record(r);

	memcpy(r2, r, sizeof(r2));
	T_EQ(trace_field_find(map_sg, "full_nents", 0, &f), 0);
	T_ASSERT(trace_field_read(&f, r, size, &v));
	T_EQ_U64(v, 3);
	T_EQ(trace_field_find(map_sg, "common_pid", 0, &f), 0);
	T_ASSERT(trace_field_read(&f, r, size, &v));
	T_EQ_U64(v, 77);
	/* strings read as hashes: equal text, equal key; other text, other */
	T_EQ(trace_field_find(map_sg, "device", TRACE_FIELD_ALLOW_STR, &f), 0);
	T_ASSERT(trace_field_read(&f, r, size, &v));
	T_ASSERT(trace_field_read(&f, r2, size, &v2));
	T_EQ_U64(v, v2);
	r2[48 + 11] = '1';
	T_ASSERT(trace_field_read(&f, r2, size, &v2));
	T_ASSERT(v != v2);
	trace_field_const(&f, -5);
	T_ASSERT(trace_field_read(&f, r, size, &v));
	T_EQ_U64(v, (uint64_t)-5);
}

/* a fixed array, a signed number, a __rel_loc array of signed values */
static void other_shapes(void)
{
	unsigned char r[64];
	struct trace_field f;
	uint64_t v = 0;
	int16_t d = -300;

	memset(r, 0, sizeof(r));
	memcpy(r + 8, "edu0", 5);
	put32(r + 16, 10);
	put32(r + 20, 20);
	put32(r + 24, 30);
	memcpy(r + 28, &d, 2);
	/* __rel_loc: 2 x s32 at 8 bytes past the end of the loc word */
	put32(r + 32, (8u << 16) | 8);
	put32(r + 44, (uint32_t)-7);
	put32(r + 48, 9);
	T_EQ(trace_field_find(shapes, "regs[1]", 0, &f), 0);
	T_ASSERT(trace_field_read(&f, r, 52, &v));
	T_EQ_U64(v, 20);
	T_EQ(trace_field_find(shapes, "regs[3]", 0, &f), -EINVAL);
	T_EQ(trace_field_find(shapes, "regs", TRACE_FIELD_ALLOW_SUM, &f), 0);
	T_ASSERT(trace_field_read(&f, r, 52, &v));
	T_EQ_U64(v, 60);
	T_EQ(trace_field_find(shapes, "delta", 0, &f), 0);
	T_ASSERT(trace_field_read(&f, r, 52, &v));
	T_EQ((int64_t)v, -300);
	T_EQ(trace_field_find(shapes, "vals[0]", 0, &f), 0);
	T_ASSERT(trace_field_read(&f, r, 52, &v));
	T_EQ((int64_t)v, -7);
	T_EQ(trace_field_find(shapes, "vals", TRACE_FIELD_ALLOW_SUM, &f), 0);
	T_ASSERT(trace_field_read(&f, r, 52, &v));
	T_EQ((int64_t)v, 2);
	T_EQ(trace_field_find(shapes, "dev", TRACE_FIELD_ALLOW_STR, &f), 0);
	T_EQ(f.kind, TRACE_FIELD_STR);
}

int main(void)
{
	tep = tep_alloc();
	map_sg = tep ? parse(map_sg_format) : NULL;
	shapes = tep ? parse(other_format) : NULL;
	if (!map_sg || !shapes) {
		fprintf(stderr, "cannot parse the test formats\n");
		return 1;
	}
	T_RUN(element_of_dynamic_array);
	T_RUN(sum_of_dynamic_array);
	T_RUN(empty_and_cut_records);
	T_RUN(names_and_refusals);
	T_RUN(numbers_and_strings);
	T_RUN(other_shapes);
	tep_free(tep);
	return t_exit();
}
