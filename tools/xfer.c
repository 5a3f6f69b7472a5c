// SPDX-License-Identifier: MIT
/* PLACEHOLDER: replaced by the real 'dmakit xfer'. */
#include "cli.h"

int cmd_xfer(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error("xfer", "not implemented yet");
}
