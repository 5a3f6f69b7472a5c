/* SPDX-License-Identifier: MIT */
/*
 * Tiny unit-test helpers.  A test program runs T_RUN(case) for each case;
 * assertions record failures and end the case; t_exit() returns 0 when all
 * passed, 1 on any failure, 77 (skip) only via t_skip() with a reason.
 */
#ifndef DMAKIT_T_H
#define DMAKIT_T_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int t_failed, t_passed;
extern bool t_case_failed;

#define T_FAIL(...)							\
	do {								\
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		t_case_failed = true;					\
		return;							\
	} while (0)

#define T_ASSERT(cond)							\
	do {								\
		if (!(cond))						\
			T_FAIL("assertion failed: %s", #cond);		\
	} while (0)

#define T_EQ(a, b)							\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		if (_a != _b)						\
			T_FAIL("%s == %lld, expected %s == %lld", #a, _a,	\
			       #b, _b);					\
	} while (0)

#define T_EQ_U64(a, b)							\
	do {								\
		uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);	\
		if (_a != _b)						\
			T_FAIL("%s == %" PRIu64 ", expected %" PRIu64,	\
			       #a, _a, _b);				\
	} while (0)

#define T_STREQ(a, b)							\
	do {								\
		const char *_a = (a), *_b = (b);			\
		if (!_a || !_b || strcmp(_a, _b))			\
			T_FAIL("%s == \"%s\", expected \"%s\"", #a,	\
			       _a ? _a : "(null)", _b ? _b : "(null)");	\
	} while (0)

#define T_RUN(fn)							\
	do {								\
		t_case_failed = false;					\
		fn();							\
		if (t_case_failed) {					\
			t_failed++;					\
			fprintf(stderr, "not ok - %s\n", #fn);		\
		} else {						\
			t_passed++;					\
			fprintf(stderr, "ok - %s\n", #fn);		\
		}							\
	} while (0)

/* Prints "N passed, N failed" and returns the exit code (1 when no case ran). */
int t_exit(void);
/* Exit 77 with a reason: only for a missing kernel feature or privilege. */
void t_skip(const char *reason) __attribute__((noreturn));

#endif /* DMAKIT_T_H */
