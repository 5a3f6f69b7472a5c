/* SPDX-License-Identifier: MIT */
/*
 * dmakit PMUs: the perf PMUs that count PCIe/IO traffic on this machine,
 * which of them covers a given PCI function, and counting their events
 * (or any software event) with perf_event_open.
 *
 * Modelled on Linux 6.12's documentation: ABI/testing/sysfs-devices-mapping
 * (Intel uncore_iio_N/dieX = "segment:root bus" of the IIO stack),
 * admin-guide/perf/dwc_pcie_pmu.rst (dwc_rootport_<sbdf>, one PMU per root
 * port), admin-guide/perf/hisi-pcie-pmu.rst (hisi_pcie<sicl>_core<core>,
 * "bus" = bus number of its root ports, bdf_min/bdf_max), and the AMD
 * amd_df / amd_iommu_N PMUs (no mapping to devices in sysfs).
 *
 * Conventions as in dmakit.h: 0 or a count, a negative errno with
 * @errmsg; no global state, nothing printed.
 */
#ifndef DMAKIT_PMU_H
#define DMAKIT_PMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

enum dmakit_pmu_family {
	DMAKIT_PMU_INTEL_IIO = 0,	/* uncore_iio_N: per IIO stack */
	DMAKIT_PMU_INTEL_IIO_FREE,	/* uncore_iio_free_running_N: bandwidth */
	DMAKIT_PMU_AMD_DF,		/* amd_df: data fabric */
	DMAKIT_PMU_AMD_IOMMU,		/* amd_iommu_N */
	DMAKIT_PMU_DWC_PCIE,		/* dwc_rootport_<sbdf>: one root port */
	DMAKIT_PMU_HISI_PCIE,		/* hisi_pcie<sicl>_core<core> */
};

/* Does a PMU count the given function's traffic? */
enum dmakit_pmu_covers {
	DMAKIT_PMU_COVERS_UNKNOWN = 0,	/* the PMU does not say what it covers */
	DMAKIT_PMU_COVERS_NO,
	DMAKIT_PMU_COVERS_YES,
};

/**
 * struct dmakit_pmu_info - one PCIe/IO PMU.
 * @name:     as perf names it ("uncore_iio_2")
 * @family:   what kind of counter it is
 * @type:     perf_event_attr.type
 * @cpumask:  CPUs to open its events on ("0,28"), "" if any
 * @nevents:  named events in its events/ directory
 * @scope:    what sysfs says it covers, "" if nothing:
 *            "root bus 0000:16 (die 0)", "root port 0000:30:00.0",
 *            "root ports on bus 0x30 (bdf 0x3000-0x3010)"
 * @covers:   whether it covers the function asked about (UNKNOWN when
 *            no function was given or the PMU does not say)
 */
struct dmakit_pmu_info {
	char name[64];
	enum dmakit_pmu_family family;
	int type;
	char cpumask[64];
	unsigned int nevents;
	char scope[128];
	enum dmakit_pmu_covers covers;
};

/*
 * The PCIe/IO PMUs present, sorted by name; with @bdf, each one's @covers
 * for that function.  *@pmus is malloc'ed (free() it); none is 0 with
 * *@count 0.  Return 0, -ENODEV (no such function), -ENOMEM.
 */
int dmakit_pmu_list(const char *bdf, struct dmakit_pmu_info **pmus,
		    size_t *count, char *errmsg, size_t errlen);
/* "Intel IIO stack", "AMD data fabric", ... */
const char *dmakit_pmu_family_name(enum dmakit_pmu_family family);

/* ------------------------------------------------------------------ */
/* Counting                                                           */
/* ------------------------------------------------------------------ */

struct dmakit_pmu_counter;

/*
 * Open a comma-separated list of events, each counted on every CPU of its
 * PMU's cpumask (all online CPUs for software events) and summed:
 *   PMU/EVENT/              an event from the PMU's events/ directory
 *   PMU/TERM=V[,TERM=V]/    raw terms from its format/ directory (may
 *                           also name events: PMU/EVENT,ch_mask=0x1/)
 *   task-clock, cpu-clock, context-switches, cpu-migrations,
 *   page-faults             software events
 * Commas inside /.../ belong to the event.  Return 0, -EINVAL (unknown
 * PMU, event or term), -EACCES/-EPERM (perf_event_paranoid, not root),
 * -ENOENT (the PMU does not exist here), -errno of perf_event_open.
 */
int dmakit_pmu_counter_open(struct dmakit_pmu_counter **counterp,
			    const char *events, char *errmsg, size_t errlen);
void dmakit_pmu_counter_close(struct dmakit_pmu_counter *counter);
/* Number of events. */
unsigned int dmakit_pmu_counter_nevents(const struct dmakit_pmu_counter *counter);
/* Event @i's name as given, and the unit of its scaled value ("MiB", "ns"
 * or "" for a plain count). */
const char *dmakit_pmu_counter_name(const struct dmakit_pmu_counter *counter,
				    unsigned int i);
const char *dmakit_pmu_counter_unit(const struct dmakit_pmu_counter *counter,
				    unsigned int i);
/*
 * Totals since opening, scaled by each event's .scale (e.g. MiB for the
 * IIO free-running bandwidth counters), into @values[nevents].  Return 0
 * or -errno.
 */
int dmakit_pmu_counter_read(struct dmakit_pmu_counter *counter, double *values);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMAKIT_PMU_H */
