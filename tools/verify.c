// SPDX-License-Identifier: MIT
/*
 * dmakit verify: check a recording against its index and metadata
 * (dmakit_verify does the work).  Exit 0 when it is intact and every lost
 * buffer is accounted for, 1 otherwise.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <dmakit.h>
#include <dmakit/recording.h>
#include "cli.h"
#include "json.h"

#define CMD "verify"

static void usage(FILE *f)
{
	fprintf(f,
"usage: dmakit verify PATH [--sidecar PREFIX] [--allow-dma-errors] [--json]\n"
"                     [--quiet]\n"
"\n"
"Check a recording made by 'dmakit record': every index entry's CRC, every\n"
"buffer's data CRC (bound to its sequence number and slot), the simulated\n"
"card's payload (sim recordings), sequence continuity, the index trailer,\n"
"and the metadata against the index: stream id, start time, device,\n"
"engine, geometry, first and last sequence and every total; the rest of\n"
"the metadata (drops after the last buffer, buffers not recorded, sample\n"
"format, times) against the checksum of it the recorder wrote into the\n"
"index trailer; and that the data file holds nothing past the last slot.\n"
"Gaps the recording accounts for (buffers the device dropped) are\n"
"reported, not errors; so are empty and truncated buffers.  A buffer the\n"
"device flagged as a DMA error fails verification unless\n"
"--allow-dma-errors.  A recording made before the metadata was bound\n"
"verifies, saying \"metadata not bound (older recorder)\".\n"
"\n"
"      --sidecar PREFIX   index and metadata at PREFIX.idx / PREFIX.json\n"
"                         (default: PATH)\n"
"      --allow-dma-errors report buffers flagged as DMA errors, do not fail\n"
"      --json             print the report as one JSON object on stdout,\n"
"                         also on failure (\"ok\" false)\n"
"  -q, --quiet            print only errors\n"
"  -h, --help\n"
"\n"
"Exit status: 0 intact, 1 corrupt / unaccounted loss / unreadable,\n"
"2 bad usage.\n"
"\n"
"Example:\n"
"  dmakit verify /data/run1.dat\n");
}

static void print_json(const char *path,
		       const struct dmakit_verify_report *r, double secs)
{
	struct dmakit_json j;

	cli_json_begin(&j, r->ok, false);
	dmakit_json_str(&j, "error", r->ok ? "" : r->message);
	dmakit_json_str(&j, "path", path);
	dmakit_json_u64(&j, "buffers", r->buffers);
	dmakit_json_u64(&j, "bytes", r->bytes);
	dmakit_json_u64(&j, "dropped", r->dropped);
	dmakit_json_u64(&j, "dropped_after_last", r->dropped_after_last);
	dmakit_json_u64(&j, "gaps", r->gaps);
	dmakit_json_u64(&j, "lost", r->lost);
	dmakit_json_u64(&j, "not_recorded", r->not_recorded);
	dmakit_json_u64(&j, "empty", r->empty);
	dmakit_json_u64(&j, "truncated", r->truncated);
	dmakit_json_u64(&j, "dma_errors", r->dma_errors);
	dmakit_json_u64(&j, "checkpoint_buffers", r->checkpoint_buffers);
	dmakit_json_u64(&j, "crc_errors", r->crc_errors);
	dmakit_json_u64(&j, "payload_errors", r->payload_errors);
	dmakit_json_u64(&j, "index_errors", r->index_errors);
	dmakit_json_u64(&j, "unaccounted", r->unaccounted);
	dmakit_json_bool(&j, "payload_checked", r->payload_checked);
	dmakit_json_u64(&j, "version", r->version);
	dmakit_json_bool(&j, "bound_checked", r->bound_checked);
	dmakit_json_bool(&j, "finished", r->finished);
	dmakit_json_str(&j, "result", r->result);
	dmakit_json_bool(&j, "meta_bound", r->meta_bound);
	dmakit_json_u64(&j, "data_beyond", r->data_beyond);
	if (r->message[0]) {
		dmakit_json_u64(&j, "first_bad_entry", r->first_bad_entry);
		dmakit_json_u64(&j, "first_bad_seq", r->first_bad_seq);
	}
	dmakit_json_str(&j, "message", r->message);
	dmakit_json_double(&j, "seconds", secs);
	dmakit_json_obj_end(&j);
	dmakit_json_end(&j);
}

static void print_text(const char *path, const struct dmakit_verify_report *r,
		       double secs)
{
	char b1[32], b2[32];

	printf("%s: %s: %llu buffers, %s, read at %s%s\n", path,
	       r->ok ? "ok" : "FAILED", (unsigned long long)r->buffers,
	       cli_fmt_bytes(b1, sizeof(b1), (double)r->bytes),
	       cli_fmt_rate(b2, sizeof(b2), secs > 0 ?
			    (double)r->bytes / secs : 0),
	       r->payload_checked ? ", sim payload checked" : "");
	/* what only the metadata says is a fact only once it is bound */
	printf("  recording result %s; dropped %llu, gaps %llu (%llu buffers lost), not recorded %llu%s\n",
	       r->result[0] ? r->result : "unknown",
	       (unsigned long long)r->dropped, (unsigned long long)r->gaps,
	       (unsigned long long)r->lost,
	       (unsigned long long)r->not_recorded,
	       r->meta_bound ? "" :
	       " (dropped, not recorded: the metadata's word, unchecked)");
	if (r->ok && !r->meta_bound)
		printf("  metadata not bound (older recorder): the index holds no checksum of it, so what only it says (dropped, not recorded, sample format, times) is unchecked\n");
	if (r->dropped_after_last)
		printf("  %llu of the dropped buffers came after the last recorded one, before the stop: no hole in the recording\n",
		       (unsigned long long)r->dropped_after_last);
	if (r->empty || r->truncated || r->dma_errors)
		printf("  buffers the source published empty %llu, truncated %llu, with a DMA error %llu\n",
		       (unsigned long long)r->empty,
		       (unsigned long long)r->truncated,
		       (unsigned long long)r->dma_errors);
	if (!r->bound_checked)
		printf("  older format (version %u): checksums are not bound to their slot and there is no trailer; those checks were not made\n",
		       r->version);
	if (!r->ok)
		printf("  crc errors %llu, payload errors %llu, index errors %llu, unaccounted %llu\n",
		       (unsigned long long)r->crc_errors,
		       (unsigned long long)r->payload_errors,
		       (unsigned long long)r->index_errors,
		       (unsigned long long)r->unaccounted);
}

int cmd_verify(int argc, char **argv)
{
	enum { OPT_SIDECAR = 256, OPT_ALLOW_DMA };
	static const struct option opts[] = {
		{ "sidecar", required_argument, NULL, OPT_SIDECAR },
		{ "allow-dma-errors", no_argument, NULL, OPT_ALLOW_DMA },
		CLI_COMMON_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dmakit_verify_report rep;
	struct dmakit_verify_opts vo = { 0 };
	const char *path;
	char err[DMAKIT_ERRMSG_MAX];
	bool json = false, quiet = false;
	uint64_t t0;
	double secs;
	int o, ret;

	while ((o = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (o) {
		case OPT_SIDECAR:
			if (!*optarg)
				return cli_usage_error(CMD, "empty --sidecar prefix");
			vo.sidecar = optarg;
			break;
		case OPT_ALLOW_DMA:
			vo.allow_dma_errors = true;
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
			      "dmakit verify PATH", &path);
	if (ret)
		return ret;

	t0 = cli_now_ns();
	ret = dmakit_verify(path, &vo, &rep, err, sizeof(err));
	secs = (double)(cli_now_ns() - t0) / 1e9;
	if (ret)
		return cli_error(CMD, "%s", err);
	if (json)
		print_json(path, &rep, secs);
	else if (!quiet)
		print_text(path, &rep, secs);
	if (!rep.ok) {
		cli_error(CMD, "%s: %s", path, rep.message);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}
