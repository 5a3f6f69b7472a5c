// SPDX-License-Identifier: MIT
/*
 * dmakit recover: finish a recording whose recorder was killed, crashed or
 * lost power (dmakit_recover does the work).  Exit 0 when the recording is
 * finished (now or already), 1 when it could not be recovered.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <dmakit.h>
#include <dmakit/recording.h>
#include "cli.h"
#include "json.h"

#define CMD "recover"

static void usage(FILE *f)
{
	fprintf(f,
"usage: dmakit recover PATH [--sidecar PREFIX] [--json] [--quiet]\n"
"\n"
"Finish a recording that 'dmakit record' could not close (SIGKILL, a crash,\n"
"power loss): keep every buffer up to the last checkpoint and every later\n"
"one whose index entry and data check out, trim the rest, and write the\n"
"index trailer and the final metadata with result \"recovered\" and what\n"
"was lost.  A finished recording is left as it is, so running it twice\n"
"is harmless; one a recorder is still writing is refused, naming it.\n"
"Check the result with 'dmakit verify'.  Entries up to the checkpoint that\n"
"do not check out are kept, and named in a notice (verify will fail).\n"
"\n"
"      --sidecar PREFIX   index and metadata at PREFIX.idx / PREFIX.json\n"
"                         (default: PATH)\n"
"      --json             print the report as one JSON object on stdout,\n"
"                         also on failure (\"ok\" false)\n"
"  -q, --quiet            print only errors\n"
"  -h, --help\n"
"\n"
"Exit status: 0 finished (now or before), 1 could not recover, 2 bad usage.\n"
"\n"
"Example:\n"
"  dmakit recover /data/run1.dat && dmakit verify /data/run1.dat\n");
}

static void print_json(const char *path, const struct dmakit_recover_report *r)
{
	struct dmakit_json j;

	cli_json_begin(&j, true, false);
	dmakit_json_str(&j, "path", path);
	dmakit_json_bool(&j, "was_finished", r->was_finished);
	dmakit_json_str(&j, "previous_result", r->previous_result);
	dmakit_json_u64(&j, "buffers", r->buffers);
	dmakit_json_u64(&j, "bytes", r->bytes);
	dmakit_json_u64(&j, "first_seq", r->first_seq);
	dmakit_json_u64(&j, "last_seq", r->last_seq);
	dmakit_json_u64(&j, "checkpoint_buffers", r->checkpoint_buffers);
	dmakit_json_u64(&j, "dropped_entries", r->dropped_entries);
	dmakit_json_u64(&j, "trimmed_bytes", r->trimmed_bytes);
	dmakit_json_str(&j, "message", r->message);
	dmakit_json_u64(&j, "damaged_kept", r->damaged_kept);
	dmakit_json_str(&j, "damaged_note", r->damaged_note);
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

int cmd_recover(int argc, char **argv)
{
	enum { OPT_SIDECAR = 256 };
	static const struct option opts[] = {
		{ "sidecar", required_argument, NULL, OPT_SIDECAR },
		CLI_COMMON_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dmakit_recover_report rep;
	const char *path, *sidecar = NULL;
	char err[DMAKIT_ERRMSG_MAX], b1[32];
	bool json = false, quiet = false;
	int o, ret;

	while ((o = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (o) {
		case OPT_SIDECAR:
			if (!*optarg)
				return cli_usage_error(CMD, "empty --sidecar prefix");
			sidecar = optarg;
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
	ret = cli_one_operand(CMD, argc, argv, "recording",
			      "dmakit recover PATH", &path);
	if (ret)
		return ret;

	if (dmakit_recover(path, sidecar, &rep, err, sizeof(err)))
		return cli_error(CMD, "%s", err);
	if (json) {
		print_json(path, &rep);
	} else if (quiet) {
		/* nothing */
	} else if (rep.was_finished) {
		printf("%s: already finished (result %s, %llu buffers): nothing to recover\n",
		       path, rep.previous_result,
		       (unsigned long long)rep.buffers);
	} else {
		printf("%s: recovered: %llu buffers (%s), seq %llu..%llu; the last checkpoint had %llu\n",
		       path, (unsigned long long)rep.buffers,
		       cli_fmt_bytes(b1, sizeof(b1), (double)rep.bytes),
		       (unsigned long long)rep.first_seq,
		       (unsigned long long)rep.last_seq,
		       (unsigned long long)rep.checkpoint_buffers);
		printf("  %llu index entries after those dropped, %llu data bytes trimmed%s%s\n",
		       (unsigned long long)rep.dropped_entries,
		       (unsigned long long)rep.trimmed_bytes,
		       rep.message[0] ? "; " : "", rep.message);
	}
	/* the recording will not verify: say why now */
	if (!json && !quiet && rep.damaged_kept)
		cli_notice(CMD, "%s", rep.damaged_note);
	return CLI_EXIT_OK;
}
