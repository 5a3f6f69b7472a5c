// SPDX-License-Identifier: MIT
#include "t.h"

int t_failed, t_passed;
bool t_case_failed;

int t_exit(void)
{
	fprintf(stderr, "%d passed, %d failed\n", t_passed, t_failed);
	if (!t_passed && !t_failed) {
		/* a program that checked nothing proved nothing */
		fprintf(stderr, "no test case ran\n");
		return 1;
	}
	return t_failed ? 1 : 0;
}

void t_skip(const char *reason)
{
	fprintf(stderr, "SKIP: %s\n", reason);
	exit(77);
}
