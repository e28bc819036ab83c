/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope: see what a running async Python process's event loop is doing. */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"

const char *argp_program_version = "loopscope 0.1";
const char *argp_program_bug_address = NULL;

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *doc;
};

static const struct command commands[] = {
	{ "stalls", cmd_stalls, "report every event-loop stall: how long, why, which line" },
	{ "dump", cmd_dump, "print the Python stack of every thread" },
	{ "ps", cmd_ps, "list every asyncio task: state, location, what it awaits" },
	{ "where", cmd_where, "one task: its coroutine chain and who awaits it" },
	{ "pstree", cmd_pstree, "the await tree of every running loop" },
	{ "watch", cmd_watch, "lost work: never-awaited coroutines, lost task exceptions, stalls" },
	{ "top", cmd_top, "the live view of a service: an agent of its own plus the TUI" },
	{ "agent", cmd_agent, "keep watching; serve it all on a local socket (NDJSON API)" },
	{ "tui", cmd_tui, "the live TUI on an agent (or a replay of its recording)" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: loopscope COMMAND [OPTION...] PID ...\n"
		   "Attach to a running async Python process (asyncio, uvloop, aiohttp) and see\n"
		   "what its event loop is doing. No code change, no restart.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].doc);
	fprintf(f, "\n'loopscope COMMAND --help' documents each command.\n"
		   "Exit codes: 0 success, 1 runtime failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	char name[64];

	argp_err_exit_status = EXIT_USAGE;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("%s\n", argp_program_version);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		snprintf(name, sizeof(name), "loopscope %s", commands[i].name);
		argv[1] = name;
		return commands[i].run(argc - 1, argv + 1);
	}
	cli_error("unknown command '%s' (see 'loopscope --help')", argv[1]);
	return EXIT_USAGE;
}
