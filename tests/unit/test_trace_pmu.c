// SPDX-License-Identifier: MIT
/*
 * PCIe/IO PMUs against fake sysfs trees laid out as Linux 6.12 documents
 * them (uncore_iio_N/dieX, uncore_iio_free_running_N with scaled
 * bandwidth events, dwc_rootport_<sbdf>, hisi_pcie<sicl>_core<core> with
 * bus/bdf_min/bdf_max, amd_iommu_N, amd_df), the event grammar into
 * perf_event_attr words, and real counting with software events.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dmakit/pmu.h>
#include "trace/trace_internal.h"
#include "t.h"

static char root[256];

static void put(const char *rel, const char *text)
{
	char path[1024], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *rel, const char *target)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (symlink(target, path)) {
		perror(path);
		exit(1);
	}
}

#define PMUS "sys/bus/event_source/devices/"

static void setup(void)
{
	snprintf(root, sizeof(root), "%s/dmakit_test_pmu_XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		exit(1);
	}
	/* two sockets' IIO stacks: the card sits below root bus 0000:16 */
	put(PMUS "uncore_iio_0/type", "40\n");
	put(PMUS "uncore_iio_0/cpumask", "0,28\n");
	put(PMUS "uncore_iio_0/die0", "0000:00\n");
	put(PMUS "uncore_iio_0/die1", "0000:80\n");
	put(PMUS "uncore_iio_0/format/event", "config:0-7\n");
	put(PMUS "uncore_iio_0/format/umask", "config:8-15\n");
	put(PMUS "uncore_iio_0/format/ch_mask", "config:36-47\n");
	put(PMUS "uncore_iio_0/format/fc_mask", "config:48-50\n");
	put(PMUS "uncore_iio_0/events/clockticks", "event=0x01\n");
	put(PMUS "uncore_iio_1/type", "41\n");
	put(PMUS "uncore_iio_1/cpumask", "0,28\n");
	put(PMUS "uncore_iio_1/die0", "0000:16\n");
	put(PMUS "uncore_iio_1/die1", "0000:97\n");
	put(PMUS "uncore_iio_free_running_1/type", "50\n");
	put(PMUS "uncore_iio_free_running_1/cpumask", "0,28\n");
	put(PMUS "uncore_iio_free_running_1/format/event", "config:0-7\n");
	put(PMUS "uncore_iio_free_running_1/format/umask", "config:8-15\n");
	put(PMUS "uncore_iio_free_running_1/events/bw_in_port0", "event=0xff,umask=0x20\n");
	put(PMUS "uncore_iio_free_running_1/events/bw_in_port0.scale", "3.814697266e-06\n");
	put(PMUS "uncore_iio_free_running_1/events/bw_in_port0.unit", "MiB\n");
	put(PMUS "uncore_iio_free_running_1/events/ioclk", "event=0xff,umask=0x10\n");
	/* Arm: one PMU per root port, named by its sbdf */
	put(PMUS "dwc_rootport_13018/type", "60\n");
	put(PMUS "dwc_rootport_13018/cpumask", "3\n");
	put(PMUS "dwc_rootport_13018/format/eventid", "config:0-15\n");
	put(PMUS "dwc_rootport_13018/format/type", "config:16-19\n");
	put(PMUS "dwc_rootport_13018/format/lane", "config:20-27\n");
	put(PMUS "dwc_rootport_13018/events/Rx_PCIe_TLP_Data_Payload",
	    "eventid=0x21,type=0x2\n");
	put(PMUS "dwc_rootport_13010/type", "61\n");
	/* HiSilicon: root ports on bus 0x30, bdf range */
	put(PMUS "hisi_pcie0_core1/type", "70\n");
	put(PMUS "hisi_pcie0_core1/bus", "0x30\n");
	put(PMUS "hisi_pcie0_core1/bdf_min", "0x3000\n");
	put(PMUS "hisi_pcie0_core1/bdf_max", "0x3010\n");
	put(PMUS "amd_iommu_0/type", "80\n");
	put(PMUS "amd_df/type", "81\n");
	put(PMUS "software/type", "1\n");	/* not a PCIe PMU */
	put(PMUS "breakpoint/type", "5\n");
	put("sys/bus/pci/devices/.keep", "");
	/* devices: one below IIO stack 0000:16, one below root port 1:30:03.0 */
	put("sys/devices/pci0000:16/0000:16:02.0/0000:17:00.0/vendor", "0x10ee\n");
	link_to("sys/bus/pci/devices/0000:17:00.0",
		"../../../devices/pci0000:16/0000:16:02.0/0000:17:00.0");
	put("sys/devices/pci0001:30/0001:30:03.0/0001:31:00.0/vendor", "0x10ee\n");
	link_to("sys/bus/pci/devices/0001:31:00.0",
		"../../../devices/pci0001:30/0001:30:03.0/0001:31:00.0");
	/* a function on the root bus itself (no root port above it) */
	put("sys/devices/pci0000:00/0000:00:04.0/vendor", "0x1af4\n");
	link_to("sys/bus/pci/devices/0000:00:04.0",
		"../../../devices/pci0000:00/0000:00:04.0");
}

static const struct dmakit_pmu_info *find(const struct dmakit_pmu_info *v,
					  size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static void test_list(void)
{
	struct dmakit_pmu_info *v;
	const struct dmakit_pmu_info *p;
	char err[256];
	size_t n;

	T_EQ(dmakit_pmu_list_at(root, NULL, &v, &n, err, sizeof(err)), 0);
	T_EQ(n, 8);		/* software and breakpoint are not listed */
	T_STREQ(v[0].name, "amd_df");	/* sorted */
	p = find(v, n, "uncore_iio_1");
	T_ASSERT(p);
	T_EQ(p->family, DMAKIT_PMU_INTEL_IIO);
	T_EQ(p->type, 41);
	T_STREQ(p->cpumask, "0,28");
	T_ASSERT(strstr(p->scope, "root bus 0000:16 (die0)"));
	T_ASSERT(strstr(p->scope, "root bus 0000:97 (die1)"));
	T_EQ(p->covers, DMAKIT_PMU_COVERS_UNKNOWN);
	p = find(v, n, "uncore_iio_free_running_1");
	T_ASSERT(p);
	T_EQ(p->family, DMAKIT_PMU_INTEL_IIO_FREE);
	T_EQ(p->nevents, 2);		/* .scale/.unit are not events */
	p = find(v, n, "dwc_rootport_13018");
	T_ASSERT(p);
	T_STREQ(p->scope, "root port 0001:30:03.0");
	p = find(v, n, "hisi_pcie0_core1");
	T_ASSERT(p);
	T_STREQ(p->scope, "root ports on bus 0x30 (bdf 0x3000-0x3010)");
	T_STREQ(dmakit_pmu_family_name(DMAKIT_PMU_AMD_DF), "AMD data fabric");
	free(v);
}

static void test_covers(void)
{
	struct dmakit_pmu_info *v;
	char err[256];
	size_t n;

	/* below IIO stack 0000:16: uncore_iio_1 (die0), not _0; no Arm/HiSilicon */
	T_EQ(dmakit_pmu_list_at(root, "17:00.0", &v, &n, err, sizeof(err)), 0);
	T_EQ(find(v, n, "uncore_iio_1")->covers, DMAKIT_PMU_COVERS_YES);
	T_EQ(find(v, n, "uncore_iio_0")->covers, DMAKIT_PMU_COVERS_NO);
	T_EQ(find(v, n, "dwc_rootport_13018")->covers, DMAKIT_PMU_COVERS_NO);
	T_EQ(find(v, n, "hisi_pcie0_core1")->covers, DMAKIT_PMU_COVERS_NO);
	T_EQ(find(v, n, "amd_iommu_0")->covers, DMAKIT_PMU_COVERS_UNKNOWN);
	T_EQ(find(v, n, "uncore_iio_free_running_1")->covers, DMAKIT_PMU_COVERS_UNKNOWN);
	free(v);
	/* below root port 0001:30:03.0 (devid 0x3018, in hisi's 0x3000-0x3010? no: 0x3018) */
	T_EQ(dmakit_pmu_list_at(root, "0001:31:00.0", &v, &n, err, sizeof(err)), 0);
	T_EQ(find(v, n, "dwc_rootport_13018")->covers, DMAKIT_PMU_COVERS_YES);
	T_EQ(find(v, n, "dwc_rootport_13010")->covers, DMAKIT_PMU_COVERS_NO);
	T_EQ(find(v, n, "hisi_pcie0_core1")->covers, DMAKIT_PMU_COVERS_NO);
	T_EQ(find(v, n, "uncore_iio_1")->covers, DMAKIT_PMU_COVERS_NO);
	free(v);
	/* widen hisi's range: now it covers that root port */
	put(PMUS "hisi_pcie0_core1/bdf_max", "0x30ff\n");
	T_EQ(dmakit_pmu_list_at(root, "0001:31:00.0", &v, &n, err, sizeof(err)), 0);
	T_EQ(find(v, n, "hisi_pcie0_core1")->covers, DMAKIT_PMU_COVERS_YES);
	free(v);
	put(PMUS "hisi_pcie0_core1/bdf_max", "0x3010\n");
	/* on the root bus: the IIO stack of bus 00 */
	T_EQ(dmakit_pmu_list_at(root, "0000:00:04.0", &v, &n, err, sizeof(err)), 0);
	T_EQ(find(v, n, "uncore_iio_0")->covers, DMAKIT_PMU_COVERS_YES);
	T_EQ(find(v, n, "dwc_rootport_13018")->covers, DMAKIT_PMU_COVERS_NO);
	free(v);
	T_EQ(dmakit_pmu_list_at(root, "0000:99:00.0", &v, &n, err, sizeof(err)), -ENODEV);
	T_EQ(dmakit_pmu_list_at(root, "nonsense", &v, &n, err, sizeof(err)), -EINVAL);
}

static void test_nothing_present(void)
{
	struct dmakit_pmu_info *v = (void *)1;
	char err[256], empty[300];
	size_t n = 5;

	snprintf(empty, sizeof(empty), "%s/x", root);	/* no event_source at all */
	mkdir(empty, 0755);
	T_EQ(dmakit_pmu_list_at(empty, NULL, &v, &n, err, sizeof(err)), 0);
	T_EQ(n, 0);
	T_ASSERT(v == NULL);
}

static void test_event_parse(void)
{
	struct dmakit_pmu_event ev;
	char err[256];

	T_EQ(dmakit_pmu_event_parse_at(root, "uncore_iio_free_running_1/bw_in_port0/",
				       &ev, err, sizeof(err)), 0);
	T_EQ(ev.type, 50);
	T_EQ_U64(ev.config, 0x20ff);
	T_STREQ(ev.unit, "MiB");
	T_ASSERT(ev.scale > 3.8e-6 && ev.scale < 3.9e-6);
	T_STREQ(ev.cpus, "0,28");
	T_EQ(dmakit_pmu_event_parse_at(root, "uncore_iio_0/event=0x83,umask=0x4,ch_mask=0x1,fc_mask=0x7/",
				       &ev, err, sizeof(err)), 0);
	T_EQ_U64(ev.config, 0x83 | 0x4 << 8 | (uint64_t)1 << 36 | (uint64_t)7 << 48);
	T_STREQ(ev.unit, "");
	T_ASSERT(ev.scale == 1);
	/* an event alias with an extra term */
	T_EQ(dmakit_pmu_event_parse_at(root, "uncore_iio_0/clockticks,umask=2/",
				       &ev, err, sizeof(err)), 0);
	T_EQ_U64(ev.config, 0x201);
	T_EQ(dmakit_pmu_event_parse_at(root, "dwc_rootport_13018/Rx_PCIe_TLP_Data_Payload,lane=3/",
				       &ev, err, sizeof(err)), 0);
	T_EQ_U64(ev.config, 0x21 | 0x2 << 16 | 3 << 20);
	T_EQ(dmakit_pmu_event_parse_at(root, "task-clock", &ev, err, sizeof(err)), 0);
	T_EQ(ev.type, 1);
	T_STREQ(ev.unit, "ns");
	/* refusals */
	T_EQ(dmakit_pmu_event_parse_at(root, "uncore_iio_0/fc_mask=0x8/", &ev, err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "does not fit"));
	T_EQ(dmakit_pmu_event_parse_at(root, "uncore_iio_0/nope/", &ev, err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_pmu_event_parse_at(root, "uncore_iio_0/../../type/", &ev, err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_pmu_event_parse_at(root, "uncore_iio_9/event=1/", &ev, err, sizeof(err)), -ENOENT);
	T_ASSERT(strstr(err, "no PMU 'uncore_iio_9'"));
	T_EQ(dmakit_pmu_event_parse_at(root, "uncore_iio_0//", &ev, err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_pmu_event_parse_at(root, "cycles-of-doom", &ev, err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_pmu_event_parse_at(root, "uncore_iio_0/event=zz/", &ev, err, sizeof(err)), -EINVAL);
}

/* The counting path on this machine's software PMU: task-clock grows with work. */
static void test_count_software(void)
{
	struct dmakit_pmu_counter *c;
	double a[2], b[2];
	char err[256];
	struct timespec t0, t;
	volatile uint64_t spin = 0;
	int ret;

	ret = dmakit_pmu_counter_open(&c, "task-clock,context-switches", err, sizeof(err));
	if (ret == -EACCES || ret == -EPERM)
		t_skip("system-wide perf events need root");
	T_EQ(ret, 0);
	T_EQ(dmakit_pmu_counter_nevents(c), 2);
	T_STREQ(dmakit_pmu_counter_name(c, 1), "context-switches");
	T_STREQ(dmakit_pmu_counter_unit(c, 0), "ns");
	T_EQ(dmakit_pmu_counter_read(c, a), 0);
	/* work until task-clock has counted 20 ms of it (bounded) */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 1000000; i++)
			spin++;
		T_EQ(dmakit_pmu_counter_read(c, b), 0);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (b[0] - a[0] < 20e6 && t.tv_sec - t0.tv_sec < 60);
	dmakit_pmu_counter_close(c);
	T_ASSERT(b[0] - a[0] >= 20e6);
	T_ASSERT(b[1] >= a[1]);
	/* several events split at commas outside /.../, bad lists refused */
	T_EQ(dmakit_pmu_counter_open_at(&c, root, "uncore_iio_0/event=1,umask=2/,bogus",
					err, sizeof(err)), -EINVAL);
	T_ASSERT(strstr(err, "bogus"));
	T_EQ(dmakit_pmu_counter_open(&c, "", err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_pmu_counter_open(&c, "task-clock,,page-faults", err, sizeof(err)), -EINVAL);
	T_EQ(dmakit_pmu_counter_open(&c, "uncore_iio_0/event=1/", err, sizeof(err)), -ENOENT);
}

int main(void)
{
	char cmd[512];

	setup();
	T_RUN(test_list);
	T_RUN(test_covers);
	T_RUN(test_nothing_present);
	T_RUN(test_event_parse);
	T_RUN(test_count_software);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
	return t_exit();
}
