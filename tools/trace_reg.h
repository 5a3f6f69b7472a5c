/* SPDX-License-Identifier: MIT */
/* dmakit trace with reg: SPECs (tools/trace_reg.c): the register poller. */
#ifndef DMAKIT_TRACE_REG_H
#define DMAKIT_TRACE_REG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct trace_reg_args {
	const char *start_spec, *end_spec;
	double duration_s;		/* 0: until Ctrl-C */
	uint64_t period_ns;		/* 0: as fast as reads go */
	int cpu;			/* -1: not pinned */
	const char *events_path, *summary_path;	/* events "-": stdout */
	bool quiet, json;
	FILE *report;			/* the text report; NULL: none */
};

int trace_reg_run(const struct trace_reg_args *a);

#endif /* DMAKIT_TRACE_REG_H */
