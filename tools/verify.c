// SPDX-License-Identifier: MIT
/* PLACEHOLDER: replaced by the real 'dmakit verify'. */
#include "cli.h"

int cmd_verify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error("verify", "not implemented yet");
}
