// SPDX-License-Identifier: MIT
/* dmakit: one command, subcommands dispatched from one table. */
#include <stdio.h>
#include <string.h>
#include <dmakit.h>
#include "cli.h"

static const struct cli_command commands[] = {
	CLI_COMMANDS
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: dmakit COMMAND [OPTIONS]\n"
		   "       dmakit help [COMMAND]\n"
		   "       dmakit --version\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'dmakit COMMAND --help' or 'dmakit help COMMAND' "
		   "describes a command.\n");
}

static const struct cli_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* "dmakit help CMD" is "dmakit CMD --help": one text for both. */
static int help(int argc, char **argv)
{
	const struct cli_command *cmd;
	char *cmd_argv[3];

	/* "help help" is a topic too: the top-level help */
	if (argc < 3 || (argc == 3 && !strcmp(argv[2], "help"))) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	cmd = argc == 3 ? find_command(argv[2]) : NULL;
	if (!cmd) {
		if (argc == 3)
			fprintf(stderr, "dmakit help: no command '%s'\n", argv[2]);
		else
			fprintf(stderr, "dmakit help: one COMMAND at a time\n");
		fprintf(stderr, "try 'dmakit --help'\n");
		return CLI_EXIT_USAGE;
	}
	cmd_argv[0] = argv[2];
	cmd_argv[1] = "--help";
	cmd_argv[2] = NULL;
	return cmd->fn(2, cmd_argv);
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "help"))
		return help(argc, argv);
	if (!strcmp(argv[1], "--version")) {
		printf("dmakit %s\n", dmakit_version());
		return CLI_EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (cmd) {
		int rc = cmd->fn(argc - 1, argv + 1);

		cli_json_finish(cmd->name, rc);
		return rc;
	}
	fprintf(stderr, "dmakit: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
