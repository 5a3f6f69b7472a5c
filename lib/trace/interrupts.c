// SPDX-License-Identifier: MIT
/*
 * /proc/interrupts: one column per CPU, then the chip, the trigger and
 * the handler names; a vector's count is its columns' sum.  Old (4.x
 * "IR-PCI-MSI-edge") and new ("PCI-MSIX-0000:17:00.0 0-edge") layouts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trace_internal.h"

/* Handler names after the "N-edge"-style trigger column (pre-4.11 kernels). */
static void names_from_line(const char *p, char *name, size_t len)
{
	const char *best = NULL, *tok = p;

	while (*tok) {
		const char *end;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strcspn(tok, " \t\n");
		if (end - tok > 4 &&
		    (!strncmp(end - 5, "-edge", 5) ||
		     (end - tok > 5 && !strncmp(end - 6, "-level", 6)) ||
		     (end - tok > 7 && !strncmp(end - 8, "-fasteoi", 8))))
			best = end;
		if (!*end || *end == '\n')
			break;
		tok = end;
	}
	name[0] = '\0';
	if (!best)
		return;
	while (*best == ' ' || *best == '\t')
		best++;
	snprintf(name, len, "%.*s", (int)strcspn(best, "\n"), best);
}

int dmakit_proc_interrupts_ncpus(const char *text)
{
	const char *nl = text ? strchr(text, '\n') : NULL;
	int ncpu = 0;

	/* the header names one column per CPU */
	if (!nl)
		return -EINVAL;
	for (const char *c = text; c < nl; c++)
		if (!strncmp(c, "CPU", 3) && (c == text || c[-1] == ' '))
			ncpu++;
	return ncpu ? ncpu : -EINVAL;
}

int dmakit_parse_proc_interrupts(const char *text, const unsigned int *irqs,
				 unsigned int n, uint64_t *counts,
				 char (*names)[64])
{
	return dmakit_parse_proc_interrupts_cpus(text, irqs, n, counts, names,
						 NULL);
}

int dmakit_parse_proc_interrupts_cpus(const char *text,
				      const unsigned int *irqs, unsigned int n,
				      uint64_t *counts, char (*names)[64],
				      uint64_t *per_cpu)
{
	const char *line = text, *nl;
	unsigned int ncpu, i;
	int ret = dmakit_proc_interrupts_ncpus(text);

	if (ret < 0)
		return ret;
	ncpu = (unsigned int)ret;
	nl = strchr(line, '\n');
	if (per_cpu)
		memset(per_cpu, 0, (size_t)n * ncpu * sizeof(*per_cpu));
	for (i = 0; i < n; i++) {
		counts[i] = 0;
		if (names)
			names[i][0] = '\0';
	}
	for (line = nl + 1; *line; line = nl ? nl + 1 : line + strlen(line)) {
		unsigned long irq;
		const char *p = line;
		char *end;
		uint64_t sum = 0;

		nl = strchr(line, '\n');
		while (*p == ' ')
			p++;
		if (!isdigit((unsigned char)*p))
			continue;
		irq = strtoul(p, &end, 10);
		if (*end != ':')
			continue;
		for (i = 0; i < n && irqs[i] != irq; i++)
			;
		if (i == n)
			continue;
		p = end + 1;
		for (unsigned int c = 0; c < ncpu; c++) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			if (per_cpu)
				per_cpu[(size_t)i * ncpu + c] = v;
			p = end;
		}
		counts[i] = sum;
		if (names)
			names_from_line(p, names[i], 64);
	}
	return 0;
}
