// SPDX-License-Identifier: MIT
/* PLACEHOLDER: replaced by the real 'dmakit record'. */
#include "cli.h"

int cmd_record(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error("record", "not implemented yet");
}
