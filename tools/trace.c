// SPDX-License-Identifier: MIT
/* PLACEHOLDER: replaced by the real 'dmakit trace'. */
#include "cli.h"

int cmd_trace(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error("trace", "not implemented yet");
}
