/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope agent PID...: keep watching, remember, and serve it all on a
 * Unix socket (agent/daemon/, docs/protocol.md). */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "cli.h"
#include "commands.h"
#include "metrics.h"
#include "proc.h"

#define DEFAULT_RETAIN_S 3600.0
#define DEFAULT_HISTORY_MB 64

static struct agent_opts env;

static const char doc[] =
"Keep watching one or more running async Python processes and serve what is\n"
"seen on a local socket: stalls (with ongoing events), lost work, task\n"
"snapshots (once a second; further apart on a target so large that a snapshot\n"
"takes over 20 ms of CPU: 50 times its cost, so at most 2% of a CPU), thread\n"
"stacks, and a bounded history of all of it, terminated tasks included (tasks\n"
"seen in one snapshot and gone in the next).\n"
"\n"
"The API is NDJSON over a Unix socket, one request per line, documented in\n"
"docs/protocol.md: hello, ps, where, pstree, dump, stalls, history, stats,\n"
"source, lints, subscribe, unsubscribe. The socket is 0600 (root only) in\n"
"/run/loopscope/ by default; its path is printed on stdout once it listens.\n"
"--allow USER (or @GROUP) opens it to others: each peer is then checked by\n"
"its credentials (SO_PEERCRED): root, the agent's own user and those allowed\n"
"are served, anyone else gets a \"forbidden\" error line and is cut off.\n"
"An allowed user sees only the targets it owns (their real uid): hello, stats\n"
"and the other lists show only those, its subscription gets only their events,\n"
"a request about another user's target is \"forbidden\". Root and the agent's\n"
"user see all. source serves only files the target loaded. --metrics is not\n"
"covered by --allow: whoever reaches its port reads every target's numbers.\n"
"\n"
"Once attached, the agent gives up every capability but CAP_BPF,\n"
"CAP_PERFMON, CAP_SYS_ADMIN (uprobes), CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH,\n"
"which attaching later targets needs; the bounding set is cut to those and\n"
"no_new_privs is set.\n"
"Lost work goes to subscribers per call site: the first event, then at most\n"
"one a second with \"repeat\": N. Workers found by --children are attached on\n"
"a worker thread: the socket keeps answering meanwhile.\n"
"\n"
"Lints, as lint events and the lints request: blocking-call (a site that stalls\n"
"again and again), unbounded-concurrency (one coroutine with too many pending\n"
"tasks, or ever more), long-await (a task at one await for long, no timeout).\n"
"\n"
"SIGINT or SIGTERM (or the last target's exit) ends it cleanly: subscribers\n"
"get an agent_exit event, the socket is removed, the probes detached.\n"
"\n"
"USAGE: loopscope agent PID... [--children PID] [--socket PATH]\n"
"         [--metrics [HOST:]PORT] [--record FILE] [--threshold MS]\n"
"         [--retain DURATION] [--allow USER|@GROUP]...\n"
"       loopscope agent --children PID [options]\n"
"\n"
"EXAMPLES:\n"
"    loopscope agent 1234            # /run/loopscope/agent-AGENTPID.sock\n"
"    loopscope agent 1234 5678 --socket /tmp/ls.sock --retain 30m\n"
"    loopscope agent --children 777  # every worker of master 777, restarts too\n"
"    loopscope agent 1234 --metrics 9464   # http://127.0.0.1:9464/metrics\n"
"    loopscope agent 1234 --allow www-data --allow @devops  # www-data: tui\n"
"    echo '{\"id\":1,\"method\":\"stats\"}' | socat - UNIX-CONNECT:/tmp/ls.sock";

static const struct argp_option opts[] = {
	{ "socket", 's', "PATH", 0, "Listen on PATH (must not exist)", 0 },
	{ "threshold", 't', "MS", 0, "Report stalls longer than MS milliseconds (default 100)", 0 },
	{ "retain", 'r', "DURATION", 0, "Keep history for DURATION: 90s, 30m, 2h (default 1h)", 0 },
	{ "history-max", 'H', "MB", 0, "Cap the history's memory at MB MiB (default 64)", 0 },
	{ "metrics", 'm', "[HOST:]PORT", 0, "Serve Prometheus metrics on http://HOST:PORT/metrics "
	  "(HOST 127.0.0.1 unless given)", 0 },
	{ "children", 'c', "PID", 0, "Also watch every Python descendant of PID (a pre-forking "
	  "master), workers that replace them too; repeatable", 0 },
	{ "record", 'w', "FILE", 0, "Append every event and task snapshot to FILE (NDJSON), "
	  "rotated to FILE.1.. at --record-max", 0 },
	{ "record-max", 'M', "MB", 0, "Rotate the recording at MB MiB (default 64)", 0 },
	{ "record-keep", 'K', "N", 0, "Keep N rotated files FILE.1..FILE.N (default 4)", 0 },
	{ "lint-repeat", 'R', "N", 0, "blocking-call: a site that stalls N times (default 3)", 0 },
	{ "lint-pending", 'P', "N", 0, "unbounded-concurrency: over N pending tasks of one coroutine "
	  "(default 1000)", 0 },
	{ "lint-await", 'A', "DURATION", 0, "long-await: at the same await for DURATION with no "
	  "timeout (default 60s)", 0 },
	{ "allow", 'a', "USER", 0, "Let USER (a name or uid; @GROUP for a group) connect too, "
	  "to see the targets it owns; repeatable (default: root only)", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's messages", 0 },
	{},
};

/* "90", "90s", "30m", "2h" as seconds. */
static double parse_duration(const char *arg, struct argp_state *state)
{
	char *end;
	double v = strtod(arg, &end), unit = 1;

	if (!strcmp(end, "m"))
		unit = 60;
	else if (!strcmp(end, "h"))
		unit = 3600;
	else if (*end && strcmp(end, "s"))
		v = -1;
	if (end == arg || !(v > 0) || v * unit > 366 * 86400.0)
		argp_error(state, "invalid duration '%s' (e.g. 90s, 30m, 2h)", arg);
	return v * unit;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 's':
		env.socket_path = arg;
		break;
	case 't':
		cli_threshold_arg(arg, state, &env.threshold_ms);
		break;
	case 'r':
		env.retain_s = parse_duration(arg, state);
		break;
	case 'H':
		env.history_bytes = (size_t)cli_count_arg(arg, state, 1, 1 << 20, "size") << 20;
		break;
	case 'm': {
		char err[160];

		if (metrics_parse_addr(arg, &env.metrics_addr, err, sizeof(err)))
			argp_error(state, "--metrics: %s", err);
		env.metrics = true;
		break;
	}
	case 'c':
		if (env.nmasters == AGENT_MAX_TARGETS)
			argp_error(state, "at most %d --children", AGENT_MAX_TARGETS);
		cli_parse_pid(arg, state, &env.masters[env.nmasters++]);
		break;
	case 'w':
		env.record_path = arg;
		break;
	case 'M':
		env.record_bytes = (size_t)cli_count_arg(arg, state, 1, 1 << 20, "size") << 20;
		break;
	case 'K':
		env.record_keep = (unsigned)cli_count_arg(arg, state, 0, 1000, "count");
		break;
	case 'R':
		env.lint.repeat = (unsigned)cli_count_arg(arg, state, 1, 1000000, "count");
		break;
	case 'P':
		env.lint.pending_max = (unsigned)cli_count_arg(arg, state, 1, 100000000, "count");
		break;
	case 'A':
		env.lint.await_s = parse_duration(arg, state);
		break;
	case 'a': {
		char err[160];

		if (access_add(&env.allow, arg, err, sizeof(err)))
			argp_failure(state, EXIT_USAGE, 0, "%s", err);
		break;
	}
	case 'v':
		env.verbose = true;
		break;
	case ARGP_KEY_ARG:
		if (env.npids == AGENT_MAX_TARGETS)
			argp_error(state, "at most %d PIDs", AGENT_MAX_TARGETS);
		cli_parse_pid(arg, state, &env.pids[env.npids]);
		for (size_t i = 0; i < env.npids; i++)
			if (env.pids[i] == env.pids[env.npids])
				argp_error(state, "PID %d is given twice", env.pids[i]);
		env.npids++;
		break;
	case ARGP_KEY_END:
		if (!env.npids && !env.nmasters)
			argp_error(state, "at least one PID (or --children PID) is required");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cmd_agent(int argc, char **argv)
{
	const struct argp argp = { .options = opts, .parser = parse_arg, .args_doc = "PID...",
				   .doc = doc };
	int err;

	env.threshold_ms = 100;
	env.retain_s = DEFAULT_RETAIN_S;
	env.history_bytes = (size_t)DEFAULT_HISTORY_MB << 20;
	env.record_bytes = (size_t)64 << 20;
	env.record_keep = 4;
	env.lint = (struct lint_opts){ .repeat = LINT_DEFAULT_REPEAT, .pending_max = LINT_DEFAULT_PENDING,
				       .await_s = LINT_DEFAULT_AWAIT_S };
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	for (size_t i = 0; i < env.npids; i++) {
		err = proc_check(env.pids[i]);
		if (err)
			return cli_attach_error(env.pids[i], err);
	}
	for (size_t i = 0; i < env.nmasters; i++) {
		if (proc_alive(env.masters[i]) <= 0) {
			fprintf(stderr, "loopscope: --children %d: no such process\n", env.masters[i]);
			return EXIT_FAIL;
		}
	}
	return agent_main(&env) ? EXIT_FAIL : EXIT_OK;
}
