// SPDX-License-Identifier: MIT
/* The library's version, for programs to compare with DMAKIT_VERSION. */
#include <dmakit.h>

const char *dmakit_version(void)
{
	return DMAKIT_VERSION;
}
