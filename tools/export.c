// SPDX-License-Identifier: MIT
/*
 * dmakit export: describe a recording for other tools; --sigmf writes a
 * SigMF metadata file beside the data (dmakit_export_sigmf does the work).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <dmakit.h>
#include <dmakit/recording.h>
#include "cli.h"
#include "json.h"

#define CMD "export"

static void usage(FILE *f)
{
	fprintf(f,
"usage: dmakit export --sigmf PATH [--sidecar PREFIX] [-o FILE] [--force]\n"
"                     [--json] [--quiet]\n"
"\n"
"Write a SigMF metadata file (.sigmf-meta, SigMF 1.2) for a recording whose\n"
"sample format was given to 'dmakit record', so SigMF tools, GNU Radio and numpy\n"
"read its samples in place: the data file is the dataset (core:dataset),\n"
"a capture starts at the first buffer, after every gap (core:global_index\n"
"counts the lost samples) and after every short buffer (core:header_bytes\n"
"skips the rest of its slot); core:datetime is the host clock's time of\n"
"each capture's first sample; buffers flagged as DMA errors are\n"
"annotations.  A recording without a sample format is refused (exit 2):\n"
"the sample type is never guessed.  The index and metadata are checked\n"
"first as 'dmakit verify' checks them (not the data's CRCs): metadata it\n"
"would refuse (another recording's, an edited one) is refused (exit 1).\n"
"\n"
"      --sigmf            write SigMF metadata (the only format so far)\n"
"      --sidecar PREFIX   index and metadata at PREFIX.idx / PREFIX.json\n"
"                         (default: PATH)\n"
"  -o, --output FILE      where to write (default: PATH.sigmf-meta, or\n"
"                         NAME.sigmf-meta for PATH NAME.sigmf-data)\n"
"  -f, --force            replace FILE if it exists\n"
"      --json             print the result as one JSON object on stdout\n"
"  -q, --quiet            print only errors\n"
"  -h, --help\n"
"\n"
"Exit status: 0 written, 1 could not (unreadable, unfinished or corrupt\n"
"recording, FILE exists), 2 bad usage or no sample format in the recording.\n"
"\n"
"Example (after 'dmakit record ... -o /data/iq.dat' with a sample format):\n"
"  dmakit export --sigmf /data/iq.dat     # writes /data/iq.dat.sigmf-meta\n");
}

static void print_json(const char *path, int ret, const char *err,
		       const struct dmakit_export_report *r)
{
	struct dmakit_json j;

	cli_json_begin(&j, ret == 0, false);
	dmakit_json_str(&j, "path", path);
	dmakit_json_str(&j, "format", "sigmf");
	dmakit_json_str(&j, "output", ret ? "" : r->output);
	dmakit_json_u64(&j, "captures", r->captures);
	dmakit_json_u64(&j, "annotations", r->annotations);
	dmakit_json_u64(&j, "samples", r->samples);
	dmakit_json_str(&j, "error", ret ? err : "");
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

int cmd_export(int argc, char **argv)
{
	enum { OPT_SIDECAR = 256, OPT_SIGMF };
	static const struct option opts[] = {
		{ "sigmf", no_argument, NULL, OPT_SIGMF },
		{ "sidecar", required_argument, NULL, OPT_SIDECAR },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		CLI_COMMON_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dmakit_export_opts eo = { 0 };
	struct dmakit_export_report rep;
	char err[DMAKIT_ERRMSG_MAX];
	bool json = false, quiet = false, sigmf = false;
	const char *path;
	int o, ret;

	while ((o = getopt_long(argc, argv, ":o:fqh", opts, NULL)) != -1) {
		switch (o) {
		case OPT_SIGMF:
			sigmf = true;
			break;
		case OPT_SIDECAR:
			if (!*optarg)
				return cli_usage_error(CMD, "empty --sidecar prefix");
			eo.sidecar = optarg;
			break;
		case 'o':
			if (!*optarg || !strcmp(optarg, "-"))
				return cli_usage_error(CMD, "bad --output '%s' (a file name)",
						       optarg);
			eo.output = optarg;
			break;
		case 'f':
			eo.force = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			ret = cli_other_opt(CMD, o, optarg, argv,
					    &json, &quiet,
					    NULL, NULL);
			if (ret)
				return ret;
			break;
		}
	}
	if (!sigmf)
		return cli_usage_error(CMD, "say which format: --sigmf");
	ret = cli_one_operand(CMD, argc, argv, "recording",
			      "dmakit export --sigmf PATH", &path);
	if (ret)
		return ret;

	ret = dmakit_export_sigmf(path, &eo, &rep, err, sizeof(err));
	/* No sample format to export: a usage error, so no JSON (docs/cli.md). */
	if (ret == -ENODATA)
		return cli_usage_error(CMD, "%s", err);
	if (json)
		print_json(path, ret, err, &rep);
	if (ret)
		return cli_error(CMD, "%s", err);
	if (!json && !quiet)
		printf("%s: %llu samples in %llu captures, %llu DMA-error annotations\n",
		       rep.output, (unsigned long long)rep.samples,
		       (unsigned long long)rep.captures,
		       (unsigned long long)rep.annotations);
	return CLI_EXIT_OK;
}
