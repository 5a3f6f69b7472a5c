// SPDX-License-Identifier: MIT
/*
 * dmakit pmu: the perf PMUs that count PCIe/IO traffic here, which one
 * covers a device, and their events sampled every interval.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dmakit.h>
#include <dmakit/pmu.h>
#include "cli.h"
#include "json.h"
#include "pmu_sample.h"
#include "pmu_show.h"

#define CMD "pmu"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dmakit pmu [--pci BDF] [--json]\n"
		"       dmakit pmu EVENT[,EVENT...] [--interval TIME] [--duration TIME] [--json]\n"
		"\n"
		"Without EVENT: the perf PMUs of this machine that count PCIe/IO\n"
		"traffic (Intel uncore_iio_* and uncore_iio_free_running_*, AMD amd_df\n"
		"and amd_iommu_*, Arm DesignWare dwc_rootport_*, HiSilicon hisi_pcie*),\n"
		"what each covers where sysfs says, and with --pci which of them count\n"
		"that device's traffic.  With EVENT: count the events system-wide and\n"
		"print their rates every interval (bytes/s for events with a byte\n"
		"unit, e.g. the IIO free-running bw_in_port* counters).  Needs root.\n"
		"\n"
		"EVENT: PMU/NAME/ (from the PMU's events/), PMU/TERM=V,.../ (its\n"
		"format/ terms), or a software event: task-clock, cpu-clock,\n"
		"context-switches, cpu-migrations, page-faults.\n"
		"\n"
		"  --pci BDF            mark the PMUs that cover this device\n"
		"  --interval TIME      sampling period (default 1s)\n"
		"  -t, --duration TIME  stop after TIME (default: Ctrl-C)\n"
		"  --json               one JSON object on stdout, also on failure\n"
		"                       (\"ok\" false): {\"pmus\": [...]}, or when\n"
		"                       counting {\"intervals\": [...], \"ok\": ...},\n"
		"                       each interval written as it is counted\n"
		"  -q, --quiet          print only errors\n"
		"  -h, --help\n"
		"\n"
		"examples:\n"
		"  dmakit pmu --pci 0000:17:00.0\n"
		"  dmakit pmu uncore_iio_free_running_1/bw_in_port0/,uncore_iio_free_running_1/bw_out_port0/\n"
		"  dmakit pmu context-switches --interval 500ms --duration 5\n");
}

static const char *covers_name(enum dmakit_pmu_covers c)
{
	return c == DMAKIT_PMU_COVERS_YES ? "yes" :
	       c == DMAKIT_PMU_COVERS_NO ? "no" : "unknown";
}

int pmu_show_text(FILE *f, const char *bdf, const char *indent)
{
	struct dmakit_pmu_info *v;
	char err[DMAKIT_ERRMSG_MAX];
	size_t n, i;
	int ret = dmakit_pmu_list(bdf, &v, &n, err, sizeof(err));

	if (ret) {
		fprintf(f, "%sPMUs: %s\n", indent, err);
		return ret;
	}
	if (!n)
		fprintf(f, "%sPMUs: none for PCIe/IO traffic on this machine (they come with Intel Xeon\n"
			"%s      uncore IIO, AMD EPYC data fabric/IOMMU, DesignWare PCIe root ports,\n"
			"%s      HiSilicon PCIe cores; see docs/trace.md)\n",
			indent, indent, indent);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%-28s %-34s %s%s%s\n", indent, v[i].name,
			dmakit_pmu_family_name(v[i].family),
			v[i].scope[0] ? v[i].scope : "(sysfs says not what it covers)",
			bdf ? "  covers: " : "",
			bdf ? covers_name(v[i].covers) : "");
	free(v);
	return 0;
}

int pmu_show_json(struct dmakit_json *j, const char *bdf)
{
	struct dmakit_pmu_info *v;
	char err[DMAKIT_ERRMSG_MAX];
	size_t n, i;
	int ret = dmakit_pmu_list(bdf, &v, &n, err, sizeof(err));

	dmakit_json_arr_begin(j, "pmus");
	for (i = 0; !ret && i < n; i++) {
		dmakit_json_obj_begin(j, NULL);
		dmakit_json_str(j, "name", v[i].name);
		dmakit_json_str(j, "family", dmakit_pmu_family_name(v[i].family));
		dmakit_json_i64(j, "type", v[i].type);
		dmakit_json_str(j, "cpumask", v[i].cpumask);
		dmakit_json_u64(j, "events", v[i].nevents);
		dmakit_json_str(j, "scope", v[i].scope[0] ? v[i].scope : NULL);
		if (bdf)
			dmakit_json_str(j, "covers", covers_name(v[i].covers));
		dmakit_json_obj_end(j);
	}
	dmakit_json_arr_end(j);
	if (!ret)
		free(v);
	return ret;
}

static int sample(const char *events, double interval, double duration,
		  bool json, bool quiet)
{
	struct pmu_sample ps;
	struct dmakit_json j;
	char err[768], rate[32];
	uint64_t t0, deadline = 0, t;
	unsigned int i;
	int ret;

	t0 = cli_now_ns();
	ret = pmu_sample_open(&ps, events, t0, err, sizeof(err));
	if (ret == -EINVAL)
		return cli_usage_error(CMD, "%s", err);
	if (ret)
		return cli_error(CMD, "%s", err);
	cli_catch_stop_signals();
	if (json) {
		/* one object, its intervals written as they are counted */
		cli_json_start(&j, false);
		dmakit_json_arr_begin(&j, "intervals");
	} else if (!quiet) {
		printf("%-10s", "time_s");
		for (i = 0; i < ps.n; i++)
			printf(" %28.28s", dmakit_pmu_counter_name(ps.counter, i));
		printf("\n");
	}
	if (duration > 0)
		deadline = t0 + (uint64_t)(duration * 1e9);
	while (!cli_stop_requested) {
		uint64_t wake = ps.t_now_ns + (uint64_t)(interval * 1e9);
		struct timespec ts;

		if (deadline && deadline < wake)
			wake = deadline;
		t = cli_now_ns();
		if (t < wake) {
			/* the next sample time, or a signal, whichever first */
			ts.tv_sec = (time_t)((wake - t) / 1000000000u);
			ts.tv_nsec = (long)((wake - t) % 1000000000u);
			nanosleep(&ts, NULL);
			continue;
		}
		ret = pmu_sample_read(&ps, t);
		if (ret)
			break;
		if (json) {
			dmakit_json_obj_begin(&j, NULL);
			dmakit_json_double(&j, "time_s", (double)(t - t0) / 1e9);
			pmu_sample_json(&ps, &j, "events", false);
			dmakit_json_obj_end(&j);
		} else if (!quiet) {
			printf("%-10.3f", (double)(t - t0) / 1e9);
			for (i = 0; i < ps.n; i++)
				printf(" %28s", pmu_sample_fmt_rate(&ps, i,
					pmu_sample_per_s(&ps, i), rate, sizeof(rate)));
			printf("\n");
		}
		fflush(stdout);
		if (deadline && t >= deadline)
			break;
	}
	pmu_sample_close(&ps);
	if (ret)
		cli_error(CMD, "reading counters: %s", dmakit_strerror(ret));
	if (json) {
		dmakit_json_arr_end(&j);
		dmakit_json_bool(&j, "ok", !ret);
		dmakit_json_str(&j, "error", cli_first_error());
		dmakit_json_obj_end(&j);
		dmakit_json_end(&j);
	}
	return ret ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_pmu(int argc, char **argv)
{
	enum { O_PCI = 256, O_INTERVAL };
	static const struct option lopts[] = {
		{ "pci", required_argument, NULL, O_PCI },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "duration", required_argument, NULL, 't' },
		CLI_COMMON_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bdf = NULL;
	double interval = 1, duration = 0;
	bool json = false, quiet = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":t:qh", lopts, NULL)) != -1) {
		switch (c) {
		case O_PCI:
			bdf = optarg;
			break;
		case O_INTERVAL:
			if (cli_parse_seconds(optarg, CLI_MIN_SECONDS,
					      DMAKIT_MAX_SECONDS, &interval))
				return cli_usage_error(CMD, "bad --interval '%s' (1ms..1e9s, e.g. 500ms)", optarg);
			break;
		case 't':
			if (cli_parse_seconds(optarg, CLI_MIN_SECONDS,
					      DMAKIT_MAX_SECONDS, &duration))
				return cli_usage_error(CMD, "bad --duration '%s' (1ms..1e9s, e.g. 10s)", optarg);
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			ret = cli_other_opt(CMD, c, optarg, argv,
					    &json, &quiet,
					    NULL, NULL);
			if (ret)
				return ret;
			break;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(CMD, "one EVENT list (comma-separated)");
	if (optind < argc) {
		if (bdf)
			return cli_usage_error(CMD, "--pci lists PMUs; it does not go with EVENT");
		return sample(argv[optind], interval, duration, json, quiet);
	}
	if (bdf) {
		struct dmakit_pmu_info *v;
		char err[DMAKIT_ERRMSG_MAX];
		size_t n;

		if (dmakit_pmu_list(bdf, &v, &n, err, sizeof(err)))
			return cli_error(CMD, "%s", err);
		free(v);
	}
	if (json) {
		struct dmakit_json j;

		cli_json_begin(&j, true, true);
		pmu_show_json(&j, bdf);
		dmakit_json_obj_end(&j);
		dmakit_json_end(&j);
		return CLI_EXIT_OK;
	}
	if (!quiet)
		pmu_show_text(stdout, bdf, "");
	return CLI_EXIT_OK;
}
