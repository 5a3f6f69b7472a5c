// SPDX-License-Identifier: MIT
/*
 * dmakit reg BDF BARn OFFSET [VALUE]: read or write one register of a
 * memory BAR through sysfs resourceN, bounds- and alignment-checked.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dmakit.h>
#include <dmakit/reg.h>
#include "cli.h"
#include "json.h"

#define CMD "reg"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dmakit reg BDF BARn OFFSET [VALUE] [--width 8|16|32|64] [--force] [--json] [-q]\n"
		"\n"
		"Read (or with VALUE write) one register of a memory BAR, like devmem2\n"
		"but by BAR: the offset is checked against the BAR's size and aligned\n"
		"to the width, reads map the BAR read-only, and a write is refused\n"
		"while a driver is bound to the function (it owns the registers)\n"
		"unless --force.  Needs root and a kernel that offers\n"
		"/sys/bus/pci/devices/BDF/resourceN.  I/O port BARs are refused.\n"
		"A read is a bus transaction: never read a register whose read has\n"
		"side effects (clear-on-read status, FIFOs) while a driver uses it.\n"
		"\n"
		"      --width BITS  access width: 8, 16, 32 (default) or 64\n"
		"  -f, --force       write even though a driver is bound\n"
		"      --json        {\"ok\":..,\"bdf\":..,\"bar\":..,\"offset\":..,\"width\":..,\n"
		"                    \"op\":..,\"value\":..} on stdout; {\"ok\": false,\n"
		"                    \"error\": ..} when the access fails\n"
		"  -q, --quiet       print only errors (a write's exit status says it\n"
		"                    was done)\n"
		"  -h, --help\n"
		"\n"
		"examples:\n"
		"  dmakit reg 0000:00:04.0 BAR0 0x0\n"
		"  dmakit reg 00:04.0 0 0x98 --width 32\n"
		"  dmakit reg 0000:00:04.0 BAR0 0x04 0x12345678 --force\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

int cmd_reg(int argc, char **argv)
{
	enum { O_WIDTH = 256 };
	static const struct option lopts[] = {
		{ "width", required_argument, NULL, O_WIDTH },
		{ "force", no_argument, NULL, 'f' },
		CLI_COMMON_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int width = 4, flags = 0, bar;
	uint64_t offset, value = 0, v;
	bool json = false, quiet = false, write;
	struct dmakit_reg *reg;
	struct dmakit_json j;
	const char *bars;
	char err[512], aerr[160];
	int c, ret;

	while ((c = getopt_long(argc, argv, ":fqh", lopts, NULL)) != -1) {
		switch (c) {
		case O_WIDTH:
			if (parse_u64(optarg, &v) ||
			    (v != 8 && v != 16 && v != 32 && v != 64))
				return cli_usage_error(CMD,
						       "--width is 8, 16, 32 or 64 bits, not '%s'",
						       optarg);
			width = (unsigned int)v / 8;
			break;
		case 'f':
			flags |= DMAKIT_REG_FORCE;
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
	argc -= optind;
	argv += optind;
	if (argc < 3 || argc > 4)
		return cli_usage_error(CMD, "expected BDF BARn OFFSET [VALUE]");
	bars = argv[1];
	if (!strncasecmp(bars, "bar", 3))
		bars += 3;
	if (parse_u64(bars, &v) || v > 5)
		return cli_usage_error(CMD, "BAR '%s': expected BAR0 to BAR5",
				       argv[1]);
	bar = (unsigned int)v;
	if (parse_u64(argv[2], &offset))
		return cli_usage_error(CMD, "OFFSET '%s' is not a number", argv[2]);
	write = argc == 4;
	if (write) {
		if (parse_u64(argv[3], &value))
			return cli_usage_error(CMD, "VALUE '%s' is not a number",
					       argv[3]);
		if (width < 8 && value >> (width * 8))
			return cli_usage_error(CMD,
					       "VALUE %s does not fit in %u bits",
					       argv[3], width * 8);
		flags |= DMAKIT_REG_WRITE;
	}
	/* refuse a bad request the same way whether or not BARs can be mapped */
	ret = dmakit_reg_check_access(argv[0], bar, offset, width, flags, err,
				      sizeof(err));
	/* a malformed BDF, an OFFSET beyond the BAR or unaligned: a bad argument */
	if (ret == -EINVAL || ret == -ERANGE)
		return cli_usage_error(CMD, "%s", err);
	/* an unaligned OFFSET is bad usage whatever the device, absent too */
	if (ret && dmakit_reg_check_range(UINT64_MAX, offset, width, aerr,
					  sizeof(aerr)))
		return cli_usage_error(CMD, "%s", aerr);
	if (!ret)
		ret = dmakit_reg_open(&reg, argv[0], bar, flags, err, sizeof(err));
	if (ret)
		return cli_error(CMD, "%s", err);
	if (write)
		ret = dmakit_reg_write(reg, offset, width, value, err, sizeof(err));
	else
		ret = dmakit_reg_read(reg, offset, width, &value, err, sizeof(err));
	dmakit_reg_close(reg);
	if (ret)
		return cli_error(CMD, "%s", err);
	if (json) {
		cli_json_begin(&j, true, false);
		dmakit_json_str(&j, "bdf", argv[0]);
		dmakit_json_u64(&j, "bar", bar);
		dmakit_json_u64(&j, "offset", offset);
		dmakit_json_u64(&j, "width", width * 8);
		dmakit_json_str(&j, "op", write ? "write" : "read");
		dmakit_json_u64(&j, "value", value);
		dmakit_json_obj_end(&j);
		dmakit_json_end(&j);
	} else if (!quiet) {
		printf("%s BAR%u+0x%" PRIx64 " (%u-bit) %s 0x%0*" PRIx64 "\n",
		       argv[0], bar, offset, width * 8, write ? "<=" : "=",
		       (int)width * 2, value);
	}
	return CLI_EXIT_OK;
}
