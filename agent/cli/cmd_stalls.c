/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope stalls PID: every event-loop stall of a running process. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "clock.h"
#include "cli.h"
#include "watch_opts.h"
#include "commands.h"
#include "errors.h"
#include "output.h"
#include "proc.h"
#include "stall_monitor.h"
#include "stall_output.h"
#include "watching.h"

static struct stalls_env {
	pid_t pid;
	bool no_stacks;
} env;

static const char doc[] =
"Report every event-loop stall of a running process.\n"
"\n"
"A stall is a loop iteration longer than the threshold: the loop thread came\n"
"back from its epoll wait and did not return to it. Each stall says how long,\n"
"how much of it was on CPU or blocked, in which syscalls, and the Python stack\n"
"that held the loop. A loop that never comes back is reported while it hangs\n"
"(\"ongoing\") and again when it ends, with the same id.\n"
"\n"
"By default only context switches are traced (a loop blocked in its poll is\n"
"idle; any other wait names its syscall); a loop that never blocks is cut at\n"
"the callbacks it takes from its ready queue (read from outside every\n"
"threshold/50 while it runs long); syscall entries are traced only while a\n"
"loop runs past half the threshold, so a stall's syscalls are counted from\n"
"then on. uvloop, non-Python loops and --precise trace every syscall entry.\n"
"\n"
"USAGE: loopscope stalls PID [--threshold MS] [--duration S] [--json]\n"
"\n"
"EXAMPLES:\n"
"    loopscope stalls 1234                 # stalls over 100 ms, until Ctrl-C\n"
"    loopscope stalls 1234 -t 20 -d 60     # stalls over 20 ms, for one minute\n"
"    loopscope stalls 1234 --json          # NDJSON: one stall per line, then a summary\n"
"\n"
"In JSON mode a stall is first printed with \"ongoing\":true as soon as it passes\n"
"the threshold, again at most once a second while it lasts (same id), then when\n"
"it ends; text mode prints a stall under way once it has lasted a second, then\n"
"one line a second. A stall still under way when watching ends is printed as\n"
"unfinished, and counted in the summary.";

static const struct argp_option opts[] = {
	{ "no-stacks", 'S', NULL, 0, "Do not read the Python stack of stalls", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'S':
		env.no_stacks = true;
		break;
	default:
		return cli_pid_arg(key, arg, state, &env.pid);
	}
	return 0;
}

static void on_report(const struct stall_report *r, void *ctx)
{
	stall_report_emit(ctx, stdout, r);
}

/* Tells once that nothing looks like an event loop yet: at once when the
 * target cannot have one now (not Python, or asyncio not imported), after
 * a second without any otherwise (a busy loop is found from Python). */
static void warn_no_loop(struct stall_monitor *m, double elapsed, bool *warned)
{
	static const char *const why[] = {
		[STALL_TARGET_OTHER] = "it is not a Python process loopscope can read; a libuv or "
				       "epoll loop is seen when it first waits",
		[STALL_TARGET_NO_ASYNCIO] = "it is not an asyncio process (asyncio is not imported)",
		[STALL_TARGET_UNREADABLE] = "its Python cannot be read (a file named above); a libuv "
					    "or epoll loop is seen when it first waits",
	};
	enum stall_target kind;

	if (*warned || stall_monitor_loops(m) > 0)
		return;
	kind = stall_monitor_target(m);
	if (kind == STALL_TARGET_ASYNCIO && elapsed < 1.0)
		return;
	*warned = true;
	if (kind == STALL_TARGET_ASYNCIO)
		fprintf(stderr, "loopscope: no event-loop thread seen in PID %d yet (no thread has "
			"waited in epoll); still watching\n", env.pid);
	else
		fprintf(stderr, "loopscope: no event loop in PID %d: %s; watching for a loop that "
			"may start\n", env.pid, why[kind]);
}

/* The monitor never blocks: wait for its stalls or its next timed work. */
static int watch(struct stall_monitor *m, const struct proc_ref *target, struct stall_run *run,
		 const struct stall_printer *printer)
{
	struct pollfd p = { .fd = stall_monitor_fd(m), .events = POLLIN };
	double start = clock_mono_s();
	bool warned = false;
	int err = 0;

	while (!cli_stop) {
		double elapsed = clock_mono_s() - start;

		if (watch_opts.duration_s && elapsed >= watch_opts.duration_s)
			break;
		if (proc_ref_gone(target)) {
			run->target_exited = true;
			cli_target_exit(m, env.pid);
			break;
		}
		err = cli_poll(&p, 1, stall_monitor_next_ms(m));
		if (!err)
			err = stall_monitor_process(m);
		if (err)
			break;
		cli_stall_notes(m);
		cli_take_exec(m, printer, env.pid);
		warn_no_loop(m, elapsed, &warned);
	}
	run->duration_s = clock_mono_s() - start;
	return err;
}

int cmd_stalls(int argc, char **argv)
{
	const struct argp_child children[] = { { &watch_opts_argp, 0, NULL, 0 }, {} };
	const struct argp argp = { .options = opts, .parser = parse_arg, .args_doc = "PID", .doc = doc,
				   .children = children };
	struct stall_monitor_opts mopts = { 0 };
	struct stall_monitor *m = NULL;
	struct stall_run run = { 0 };
	struct stall_summary sum;
	struct stall_printer printer = { 0 };
	struct proc_ref target;
	int err;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	if (cli_target_open(&target, env.pid))
		return EXIT_FAIL;
	err = proc_check(env.pid);
	if (err) {
		proc_ref_close(&target);
		return cli_attach_error(env.pid, err);
	}
	mopts.pid = env.pid;
	mopts.threshold_ns = (uint64_t)(watch_opts.threshold_ms * 1e6);
	mopts.verbose = watch_opts.verbose;
	mopts.precise = watch_opts.precise;
	mopts.stacks = !env.no_stacks;
	cli_handle_signals();
	printer.json = watch_opts.json;
	printer.threshold_ms = watch_opts.threshold_ms;
	err = stall_monitor_new(&mopts, on_report, &printer, &m);
	if (err || cli_target_attached(&target)) {
		stall_monitor_free(m);
		proc_ref_close(&target);
		return err ? cli_load_error(env.pid, err) : EXIT_FAIL;
	}
	cli_warn(stall_monitor_warning(m));
	if (!watch_opts.json)
		fprintf(stderr, "Watching PID %d for event-loop stalls over %g ms. Ctrl-C to stop.\n",
			env.pid, watch_opts.threshold_ms);
	run.pid = env.pid;
	err = watch(m, &target, &run, &printer);
	stall_monitor_summary(m, &sum);
	if (cli_reader_gone)
		; /* nobody reads the summary */
	else if (watch_opts.json)
		ndjson_print(stdout, stall_summary_json(&sum, &run));
	else
		stall_summary_print(stdout, &sum, &run);
	stall_monitor_free(m);
	proc_ref_close(&target);
	if (err) {
		cli_error("lost the kernel event stream: %s", ls_strerror(err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
