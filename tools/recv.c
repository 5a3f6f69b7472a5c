// SPDX-License-Identifier: MIT
/* PLACEHOLDER: replaced by the real 'dmakit recv'. */
#include "cli.h"

int cmd_recv(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error("recv", "not implemented yet");
}
