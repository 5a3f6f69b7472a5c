// SPDX-License-Identifier: MIT
/* PLACEHOLDER: replaced by the real 'dmakit send'. */
#include "cli.h"

int cmd_send(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error("send", "not implemented yet");
}
