/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "errors.h"
#include "proc.h"

volatile sig_atomic_t cli_stop;

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("loopscope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_warn(const char *msg)
{
	if (msg && msg[0])
		fprintf(stderr, "loopscope: %s\n", msg);
}

int cli_attach_error(pid_t pid, int err)
{
	switch (-err) {
	case ESRCH:
		cli_error("no such process: %d", pid);
		break;
	case EPERM:
	case EACCES:
		if (geteuid() == 0)
			cli_error("cannot attach to PID %d: permission denied, even as root (a security "
				  "module such as Yama's ptrace_scope, or another user namespace)", pid);
		else
			cli_error("cannot attach to PID %d: permission denied (loopscope needs root, "
				  "or CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE)", pid);
		break;
	case LS_EEXITING:
		cli_error("PID %d exited while loopscope was attaching to it", pid);
		break;
	case LS_EKTHREAD:
		cli_error("PID %d is a kernel thread, not a process loopscope can attach to", pid);
		break;
	case LS_ENOTPYTHON:
		cli_error("PID %d is not a Python process", pid);
		break;
	default:
		cli_error("cannot attach to PID %d: %s", pid, ls_strerror(err));
	}
	return EXIT_FAIL;
}

int cli_parse_double(const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

void cli_parse_pid(const char *arg, struct argp_state *state, pid_t *pid)
{
	pid_t tgid;

	if (proc_parse_pid(arg, pid))
		argp_error(state, "invalid PID '%s'", arg);
	/* a thread's id names its process: say so, and watch the process */
	if (!proc_tgid(*pid, &tgid) && tgid != *pid) {
		fprintf(stderr, "loopscope: %d is a thread of PID %d: attaching to PID %d\n", *pid,
			tgid, tgid);
		*pid = tgid;
	}
}

error_t cli_pid_arg(int key, char *arg, struct argp_state *state, pid_t *pid)
{
	switch (key) {
	case ARGP_KEY_ARG:
		if (state->arg_num > 0)
			argp_error(state, "unexpected argument '%s'", arg);
		cli_parse_pid(arg, state, pid);
		return 0;
	case ARGP_KEY_END:
		if (!*pid)
			argp_error(state, "a PID is required");
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

long cli_count_arg(const char *arg, struct argp_state *state, long min, long max,
		   const char *what)
{
	double v;

	if (cli_parse_double(arg, (double)min, (double)max, &v) || v != (double)(long)v)
		argp_error(state, "invalid %s '%s' (a whole number from %ld to %ld)", what, arg, min, max);
	return (long)v;
}

void cli_threshold_arg(const char *arg, struct argp_state *state, double *ms)
{
	if (cli_parse_double(arg, 0.1, 3600e3, ms))
		argp_error(state, "invalid threshold '%s' (milliseconds, 0.1 or more)", arg);
}

void cli_duration_arg(const char *arg, struct argp_state *state, double *seconds)
{
	if (cli_parse_double(arg, 0.001, 1e9, seconds))
		argp_error(state, "invalid duration '%s' (seconds)", arg);
}

static void on_stop_signal(int sig)
{
	cli_stop = 1;
}

void cli_handle_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

