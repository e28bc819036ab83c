/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope top PID...: the everyday command, an agent of its own plus the
 * TUI on it. The agent runs in a child process on a private socket, so the
 * view stays live whatever the target (or the agent's reads of it) does,
 * and the TUI talks to it only through its protocol, as to any agent. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "tui.h"

#define START_WAIT_MS 20000   /* attaching several targets takes seconds */
#define STOP_WAIT_MS 10000    /* the agent detaches its probes, then exits */
#define ARGS_MAX 256

static const char usage_text[] =
"Usage: loopscope top PID... [OPTION...]\n"
"A live, htop-like view of running async Python processes: their loop\n"
"(utilisation, lag, a banner while a stall is under way), tasks and the await\n"
"tree, stalls with the culprit line, lost work and lints, threads, and the\n"
"tasks that ended. It stays live while the target's loop is hung.\n"
"\n"
"It runs `loopscope agent` with the same arguments on a private socket and\n"
"`loopscope tui` on it: every option of `loopscope agent --help` works here\n"
"(--threshold MS, --children PID, --record FILE, --metrics PORT, ...),\n"
"except --socket. Keys: ? in the view; q quits and stops the agent.\n"
"\n"
"EXAMPLES:\n"
"    loopscope top 1234\n"
"    loopscope top 1234 5678 --threshold 50\n"
"    loopscope top --children 777 --record /tmp/incident.ndjson\n";

struct agent_child {
	pid_t pid;
	char dir[64];
	char socket[96];
	char log[96];
};

static int sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	return nanosleep(&ts, NULL);
}

/* In the child: the agent, quiet on the terminal (its messages go to the
 * log the parent shows if it fails), gone when the parent is. */
static void run_agent(struct agent_child *a, int argc, char **argv)
{
	char *args[ARGS_MAX + 4];
	int n = 0, null = open("/dev/null", O_RDWR), log = open(a->log, O_WRONLY | O_CREAT, 0600);

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
	}
	if (log >= 0)
		dup2(log, STDERR_FILENO);
	args[n++] = "loopscope agent";
	for (int i = 1; i < argc && n < ARGS_MAX; i++)
		args[n++] = argv[i];
	args[n++] = "--socket";
	args[n++] = a->socket;
	args[n] = NULL;
	_exit(cmd_agent(n, args));
}

/* The agent's own words when it could not start (its stderr, the last
 * line: its one-line error). */
static void show_log(const struct agent_child *a)
{
	char line[1024], last[1024] = "";
	FILE *f = fopen(a->log, "r");

	while (f && fgets(line, sizeof(line), f))
		snprintf(last, sizeof(last), "%s", line);
	if (f)
		fclose(f);
	fputs(last[0] ? last : "loopscope: the agent did not start\n", stderr);
}

/* 0 once the agent listens; EXIT_FAIL (or its exit code) when it ended. */
static int wait_listening(struct agent_child *a)
{
	struct stat st;
	int status;

	for (int waited = 0; waited < START_WAIT_MS; waited += 20) {
		if (!stat(a->socket, &st) && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(a->pid, &status, WNOHANG) == a->pid) {
			a->pid = 0;
			show_log(a);
			return WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : EXIT_FAIL;
		}
		if (cli_stop)
			return EXIT_OK;
		sleep_ms(20);
	}
	cli_error("the agent did not listen within %d s", START_WAIT_MS / 1000);
	return EXIT_FAIL;
}

static void stop_agent(struct agent_child *a)
{
	int status;

	if (a->pid > 0) {
		kill(a->pid, SIGTERM);
		for (int waited = 0; waited < STOP_WAIT_MS; waited += 20) {
			if (waitpid(a->pid, &status, WNOHANG) == a->pid) {
				a->pid = 0;
				break;
			}
			sleep_ms(20);
		}
		if (a->pid > 0) {
			kill(a->pid, SIGKILL);
			waitpid(a->pid, &status, 0);
		}
	}
	unlink(a->socket);
	unlink(a->log);
	rmdir(a->dir);
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "-?") ||
		    !strcmp(argv[i], "--usage"))
			return true;
	return false;
}

static int check_args(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (argc > ARGS_MAX) {
		cli_error("too many arguments");
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") || !strncmp(argv[i], "--socket=", 9) ||
		    !strcmp(argv[i], "-s")) {
			cli_error("top runs an agent on a socket of its own: use `loopscope tui "
				  "--socket PATH` for an agent already running");
			return EXIT_USAGE;
		}
	}
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct agent_child a = { 0 };
	struct tui_opts o = { .socket_fd = -1 };
	char name[64];
	int rc;

	if (wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	rc = check_args(argc, argv);
	if (rc)
		return rc;
	snprintf(a.dir, sizeof(a.dir), "/tmp/loopscope-top.XXXXXX");
	if (!mkdtemp(a.dir)) {
		cli_error("cannot make a private directory for the agent's socket: %s", strerror(errno));
		return EXIT_FAIL;
	}
	snprintf(a.socket, sizeof(a.socket), "%s/agent.sock", a.dir);
	snprintf(a.log, sizeof(a.log), "%s/agent.log", a.dir);
	cli_handle_signals();
	a.pid = fork();
	if (a.pid < 0) {
		cli_error("cannot start the agent: %s", strerror(errno));
		rmdir(a.dir);
		return EXIT_FAIL;
	}
	if (a.pid == 0)
		run_agent(&a, argc, argv);
	rc = wait_listening(&a);
	/* its socket is a private detail: the status line names the agent */
	snprintf(name, sizeof(name), "loopscope's own agent (PID %d)", (int)a.pid);
	if (!rc && !cli_stop) {
		o.socket_path = a.socket;
		o.agent_name = name;
		rc = tui_run(&o);
	}
	stop_agent(&a);
	return rc;
}
