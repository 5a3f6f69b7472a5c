// SPDX-License-Identifier: GPL-2.0
/* Instantiates the tracepoints declared in dmakit_trace.h. */
#define CREATE_TRACE_POINTS
#include "dmakit_trace.h"
