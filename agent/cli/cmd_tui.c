/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope tui [--socket PATH] [--replay FILE...]: the live TUI on a
 * running agent, or a replay of its --record files. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"
#include "commands.h"
#include "tui.h"

#define TUI_REPLAY_MAX 256

static struct tui_env {
	const char *socket;
	const char *files[TUI_REPLAY_MAX];
	size_t nfiles;
	bool replay;
	double speed;
	double refresh_s;
} env = { .speed = 1, .refresh_s = 1 };

static const char doc[] =
"An htop-like live view of what a loopscope agent sees: the target's loop\n"
"(utilisation, lag, a banner while a stall is under way), its tasks (sortable,\n"
"filtered, as the await tree, each with its coroutine chain and source\n"
"lines), its stalls with the culprit line, lost work and lints, threads, and\n"
"the tasks that ended. With --replay, the same from an agent's --record\n"
"files (rotated ones in any order) at real time or faster.\n"
"\n"
"Without --socket it connects to the only agent socket in " TUI_SOCKET_DIR "/\n"
"($LOOPSCOPE_SOCKET_DIR if set; several: they are listed). Keys: ? in the\n"
"TUI; 1-5 views, / filter,\n"
"Enter details, t tree, < > sort, Space pause, q quit.\n"
"\n"
"USAGE: loopscope tui [--socket PATH] [--refresh S]\n"
"       loopscope tui --replay FILE... [--speed X]\n"
"\n"
"EXAMPLES:\n"
"    loopscope agent 1234 & loopscope tui\n"
"    loopscope tui --socket /tmp/ls.sock\n"
"    loopscope tui --replay rec.ndjson.1 rec.ndjson --speed 10";

static const struct argp_option opts[] = {
	{ "socket", 's', "PATH", 0, "Connect to the agent listening on PATH", 0 },
	{ "replay", 'r', "FILE", 0, "Replay --record files instead (FILE and the arguments after it)", 0 },
	{ "speed", 'x', "X", 0, "Replay X times faster than real time (default 1)", 0 },
	{ "refresh", 'd', "S", 0, "Ask the agent again every S seconds (default 1)", 0 },
	{},
};

static void add_file(const char *f, struct argp_state *state)
{
	if (env.nfiles >= TUI_REPLAY_MAX)
		argp_error(state, "at most %d replay files", TUI_REPLAY_MAX);
	env.files[env.nfiles++] = f;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 's':
		env.socket = arg;
		break;
	case 'r':
		env.replay = true;
		add_file(arg, state);
		break;
	case 'x':
		if (cli_parse_double(arg, 0.01, 10000, &env.speed))
			argp_error(state, "--speed takes a number from 0.01 to 10000");
		break;
	case 'd':
		if (cli_parse_double(arg, 0.1, 3600, &env.refresh_s))
			argp_error(state, "--refresh takes seconds from 0.1 to 3600");
		break;
	case ARGP_KEY_ARG:
		if (!env.replay)
			argp_error(state, "unexpected argument '%s' (replay files follow --replay)", arg);
		add_file(arg, state);
		break;
	case ARGP_KEY_END:
		if (env.replay && env.socket)
			argp_error(state, "--replay and --socket do not go together");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cmd_tui(int argc, char **argv)
{
	struct argp argp = { opts, parse_arg, NULL, doc, NULL, NULL, NULL };
	struct tui_opts o = { .socket_fd = -1 };

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	o.socket_path = env.socket;
	o.socket_dir = getenv("LOOPSCOPE_SOCKET_DIR");
	o.replay_files = env.files;
	o.nreplay = env.nfiles;
	o.replay_speed = env.speed;
	o.refresh_ms = (int)(env.refresh_s * 1000);
	return tui_run(&o) ? EXIT_FAIL : EXIT_OK;
}
