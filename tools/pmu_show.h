/* SPDX-License-Identifier: MIT */
/* PCIe/IO PMUs as 'dmakit pmu' and 'dmakit info BDF' show them (tools/pmu.c). */
#ifndef DMAKIT_PMU_SHOW_H
#define DMAKIT_PMU_SHOW_H

#include <stdio.h>
#include "json.h"

/* Text lines "  PMU  name  family  scope  covers" (@bdf may be NULL). */
int pmu_show_text(FILE *f, const char *bdf, const char *indent);
/* A "pmus" array member of the current JSON object. */
int pmu_show_json(struct dmakit_json *j, const char *bdf);

#endif /* DMAKIT_PMU_SHOW_H */
