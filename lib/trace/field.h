/* SPDX-License-Identifier: MIT */
/*
 * Fields of a trace event's raw record, as its tracefs format describes
 * them (field.c): numbers, strings (compared as hashes) and numeric arrays
 * (an element by index, or the sum of all elements).
 */
#ifndef DMAKIT_TRACE_FIELD_H
#define DMAKIT_TRACE_FIELD_H

#include <stdbool.h>
#include <stdint.h>

struct tep_event;

enum trace_field_kind {
	TRACE_FIELD_NONE,		/* not found: reads nothing */
	TRACE_FIELD_CONST,		/* a value known at setup */
	TRACE_FIELD_NUM,		/* 1, 2, 4 or 8 bytes */
	TRACE_FIELD_STR,		/* char[N]: a hash of the text */
	TRACE_FIELD_DYN_STR,		/* __data_loc char[]: a hash */
	TRACE_FIELD_ELEM,		/* element @index of a numeric array */
	TRACE_FIELD_SUM,		/* the sum of a numeric array */
};

struct trace_field {
	enum trace_field_kind kind;
	bool is_signed;
	bool dyn;			/* an array behind a __data_loc word */
	int offset;			/* of the field (or its __data_loc word) */
	int loc_base;			/* __data_loc offsets count from here */
	int size;			/* of the field, or of one element */
	int count;			/* elements of a fixed array */
	int index;			/* TRACE_FIELD_ELEM */
	int64_t value;			/* TRACE_FIELD_CONST */
	char name[32];			/* as asked for (a probe argument's name) */
};

/* What a field may be used as. */
#define TRACE_FIELD_ALLOW_STR	0x1	/* strings (channel keys) */
#define TRACE_FIELD_ALLOW_SUM	0x2	/* a whole array (amounts) */

/**
 * trace_field_find() - resolve @name in @ev's format.
 *
 * @name is a field name, or NAME[N] for element N of an array field
 * (fixed or __data_loc).  A whole numeric array is resolved only with
 * TRACE_FIELD_ALLOW_SUM (then it reads as the sum of its elements), a
 * string only with TRACE_FIELD_ALLOW_STR.
 *
 * Return: 0 with @f filled; -ENOENT when @ev has no such field; -EISDIR
 * when it is an array that needs an index here; -EINVAL when the field
 * cannot be read as asked (a string where a number is needed, an element
 * of something that is not an array, an element size not 1/2/4/8).  @f
 * is TRACE_FIELD_NONE after an error.
 */
int trace_field_find(struct tep_event *ev, const char *name,
		     unsigned int allow, struct trace_field *f);

static inline bool trace_field_present(const struct trace_field *f)
{
	return f->kind != TRACE_FIELD_NONE;
}

/** trace_field_const() - a field that always reads @value. */
void trace_field_const(struct trace_field *f, int64_t value);

/**
 * trace_field_read() - the field's value in the raw record @data (@size
 * bytes): numbers sign-extended where the format says signed, strings as
 * an FNV-1a hash.  False when the field is absent or lies outside the
 * record (an element past the array's end included).
 */
bool trace_field_read(const struct trace_field *f, const unsigned char *data,
		      int size, uint64_t *out);

#endif
