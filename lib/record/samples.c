// SPDX-License-Identifier: MIT
/*
 * What a recording's bytes are: SigMF dataset formats ("cf32_le", "ci16_le",
 * "cu8", ...), their sample sizes, and the checks of a sample description
 * before it goes into the metadata.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "internal.h"
#include "meta.h"

/*
 * SigMF: (c|r) then f32|f64|i32|i16|u32|u16 with an endianness (_le/_be),
 * or i8|u8 without one.  A sample is one component (r) or an I/Q pair (c).
 */
int dmakit_sample_size(const char *format)
{
	static const struct { const char *name; int bytes; bool endian; }
	comps[] = {
		{ "f32", 4, true }, { "f64", 8, true }, { "i32", 4, true },
		{ "i16", 2, true }, { "u32", 4, true }, { "u16", 2, true },
		{ "i8", 1, false }, { "u8", 1, false },
	};
	size_t i, n;

	if (!format || (format[0] != 'c' && format[0] != 'r'))
		return -EINVAL;
	for (i = 0; i < sizeof(comps) / sizeof(comps[0]); i++) {
		n = strlen(comps[i].name);
		if (strncmp(format + 1, comps[i].name, n))
			continue;
		if (comps[i].endian ? strcmp(format + 1 + n, "_le") &&
				      strcmp(format + 1 + n, "_be") :
				      format[1 + n] != '\0')
			return -EINVAL;
		return comps[i].bytes * (format[0] == 'c' ? 2 : 1);
	}
	return -EINVAL;
}

int rec_samples_check(const struct dmakit_samples *smp, char *err,
		      size_t errlen)
{
	if (!memchr(smp->format, '\0', sizeof(smp->format)) ||
	    (smp->format[0] && dmakit_sample_size(smp->format) < 0))
		return dmakit_errf(err, errlen, -EINVAL,
				   "sample format '%.16s' is not a SigMF dataset format (cf32_le, ci16_le, cu8, ...)",
				   smp->format);
	if (!isfinite(smp->rate) || smp->rate < 0 || smp->rate > 1e12)
		return dmakit_errf(err, errlen, -EINVAL,
				   "sample rate %g is out of range 0..1e12",
				   smp->rate);
	if (smp->has_center_freq && (!isfinite(smp->center_freq) ||
				     fabs(smp->center_freq) > 1e12))
		return dmakit_errf(err, errlen, -EINVAL,
				   "centre frequency %g is out of range -1e12..1e12",
				   smp->center_freq);
	if (!smp->format[0] && (smp->rate || smp->has_center_freq))
		return dmakit_errf(err, errlen, -EINVAL,
				   "a sample rate or centre frequency needs a sample format");
	return 0;
}

