/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope watch PID: one live stream of every async bug in the target:
 * coroutines never awaited, task exceptions never retrieved, tasks
 * destroyed while pending, and loop stalls. */
#include <argp.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "clock.h"
#include "attach.h"
#include "caps.h"
#include "cli.h"
#include "watch_opts.h"
#include "commands.h"
#include "errors.h"
#include "lost_output.h"
#include "lost_tracer.h"
#include "output.h"
#include "proc.h"
#include "stall_monitor.h"
#include "stall_output.h"
#include "watching.h"

static struct watch_env {
	pid_t pid;
} env;

static const char doc[] =
"Watch a running async Python process for the bugs that asyncio only logs,\n"
"if logging is on: a coroutine called without await, a task whose exception\n"
"nobody retrieves, a task destroyed while still pending; and loop stalls.\n"
"\n"
"It probes the interpreter's own rare paths (the never-awaited warning, the\n"
"finalizers of Task and Future), so it works whatever the target did to\n"
"warnings and logging, and costs nothing on the hot path.\n"
"\n"
"USAGE: loopscope watch PID [--threshold MS] [--duration S] [--json]\n"
"\n"
"EXAMPLES:\n"
"    loopscope watch 1234                # everything, as readable blocks\n"
"    loopscope watch 1234 --json -d 60   # NDJSON for one minute\n"
"\n"
"In JSON, the first event is {\"event\":\"attached\",...} with the detectors\n"
"that run; task checks start once asyncio is imported.\n"
"A call site that fires again and again is shown once, then as a running\n"
"count (text), or at most once a second with a \"suppressed\" count (JSON).\n"
"Never-awaited detection on Debian's python3.X needs python3.X-dbg.\n"
"\n"
"Privileges: root, or CAP_SYS_ADMIN (uprobes need it; it covers CAP_BPF and\n"
"CAP_PERFMON) and CAP_SYS_PTRACE (to read the target's memory).";

static const struct argp_option opts[] = {
	{},
};

/* Measured on this project's kernels: a uprobe needs CAP_SYS_ADMIN, and
 * CAP_BPF with CAP_PERFMON (enough for the stall tracer) get EPERM for it,
 * which left watch running with no lost-work probe and the wrong reason
 * ("asyncio is not imported"). Refuse at once, naming what is missing. */
static int check_caps(void)
{
	if (caps_have(CAP_SYS_ADMIN))
		return 0;
	cli_error("watch places uprobes, which the kernel allows only with CAP_SYS_ADMIN, and this "
		  "process lacks it (watch needs root, or CAP_SYS_ADMIN and CAP_SYS_PTRACE; CAP_BPF "
		  "and CAP_PERFMON are not enough)");
	return EXIT_FAIL;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	return cli_pid_arg(key, arg, state, &env.pid);
}

struct watch {
	struct proc_ref target;
	struct py_proc *proc;
	struct stall_monitor *stalls;
	struct lost_tracer *lost;
	struct lost_output *out;
	struct lost_report report;
	int64_t mono_to_unix_ns;
	struct stall_printer printer;
	bool asyncio_noted;
	bool attached_said;       /* the attached event (or line) is out */
	bool exec_lost;           /* the target exec'd into what we cannot probe */
	/* Readers of the programs the target exec'd from: the sites shown
	 * already name their strings, kept until the end. */
	struct py_proc **retired;
	size_t nretired;
};

static void on_stall(const struct stall_report *r, void *ctx)
{
	struct watch *w = ctx;

	stall_report_emit(&w->printer, stdout, r);
}

static void on_lost(const struct lost_event *e, void *ctx)
{
	struct watch *w = ctx;

	lost_report_decode(w->proc, e, w->mono_to_unix_ns, &w->report);
	lost_output_event(w->out, stdout, &w->report, clock_mono_s());
}

static const char *task_probes(const struct watch *w)
{
	return !lost_tracer_has_asyncio(w->lost) ? "none"
	       : lost_tracer_asyncio_note(w->lost) ? "at_entries" : "in_branches";
}

/* Once the task probes are in, say once if they are the costly kind; when
 * that is after the start (asyncio imported late), say that the task
 * checks run from now on: the attached event said "tasks": false. */
static void note_asyncio(struct watch *w)
{
	if (w->asyncio_noted || !lost_tracer_has_asyncio(w->lost))
		return;
	w->asyncio_noted = true;
	cli_warn(lost_tracer_asyncio_note(w->lost));
	cli_warn(lost_tracer_pure_python_note(w->lost));
	if (!w->attached_said)
		return;
	if (watch_opts.json)
		ndjson_print(stdout, json_pack("{s:s, s:i, s:{s:b, s:s}}", "event", "detectors",
					       "pid", env.pid, "detectors", "tasks", true,
					       "task_probes", task_probes(w)));
	else
		fprintf(stderr, "loopscope: asyncio is imported in PID %d now: task and future "
			"checks are on\n", env.pid);
}

static int start(struct watch *w)
{
	struct stall_monitor_opts mopts = {
		.pid = env.pid, .threshold_ns = (uint64_t)(watch_opts.threshold_ms * 1e6),
		.verbose = watch_opts.verbose, .stacks = true, .precise = watch_opts.precise,
	};
	char why[400];
	int err;

	err = stall_monitor_new(&mopts, on_stall, w, &w->stalls);
	if (!err)
		err = lost_tracer_new(w->proc, on_lost, w, &w->lost, why, sizeof(why));
	if (err)
		return cli_load_error(env.pid, err);
	cli_warn(stall_monitor_warning(w->stalls));
	cli_warn(why);
	note_asyncio(w);
	if (lost_tracer_asyncio_error(w->lost))
		cli_warn(lost_tracer_asyncio_error(w->lost));
	else if (!lost_tracer_has_asyncio(w->lost) && !watch_opts.json)
		fprintf(stderr, "loopscope: asyncio is not imported in PID %d yet: task and future "
			"checks start when it is\n", env.pid);
	return 0;
}

/* The first JSON event: what is being watched, from now on. */
static json_t *attached_json(struct watch *w)
{
	const char *probes = task_probes(w);

	w->attached_said = true;
	return json_pack("{s:s, s:i, s:s, s:{s:b, s:b, s:b, s:b, s:s}}", "event", "attached",
			 "pid", env.pid, "python", w->proc->version, "detectors",
			 "stalls", true, "never_awaited", lost_tracer_has_never_awaited(w->lost),
			 "tasks", lost_tracer_has_asyncio(w->lost),
			 "stacks", stall_monitor_warning(w->stalls) == NULL, "task_probes", probes);
}

static int retire_proc(struct watch *w)
{
	struct py_proc **v = realloc(w->retired, (w->nretired + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	w->retired = v;
	w->retired[w->nretired++] = w->proc;
	w->proc = NULL;
	return 0;
}

/* The target exec'd and the stall monitor has read the new program: the
 * lost-work probes sit in the old program's files, at its addresses;
 * the new interpreter is read and they are placed again. */
static int follow_exec(struct watch *w)
{
	char why[400] = "";
	int err;

	lost_tracer_free(w->lost);
	w->lost = NULL;
	lost_report_clear(&w->report);
	err = retire_proc(w);
	if (!err)
		err = py_proc_open(env.pid, &w->proc, why, sizeof(why));
	if (!err)
		err = lost_tracer_new(w->proc, on_lost, w, &w->lost, why, sizeof(why));
	if (err && !w->lost) {
		cli_error("PID %d exec'd into a program whose lost work cannot be watched: %s", env.pid,
			  why[0] ? why : ls_strerror(err));
		w->exec_lost = true;
		cli_stop = 1;
		return 0;
	}
	cli_warn(why);
	w->asyncio_noted = false;
	note_asyncio(w);
	return 0;
}

/* Waits for either detector's events or timed work, and runs what is
 * ready: each on its own, as two handles of an event loop would. */
static int step(struct watch *w)
{
	struct pollfd p[2] = {
		{ .fd = stall_monitor_fd(w->stalls), .events = POLLIN },
		{ .fd = lost_tracer_fd(w->lost), .events = POLLIN },
	};
	int err = cli_poll(p, 2, cli_sooner_ms(cli_sooner_ms(stall_monitor_next_ms(w->stalls),
							     lost_tracer_next_ms(w->lost)),
					       lost_output_next_ms(w->out, clock_mono_s())));

	if (!err && (p[0].revents || stall_monitor_next_ms(w->stalls) == 0))
		err = stall_monitor_process(w->stalls);
	if (!err && cli_take_exec(w->stalls, &w->printer, env.pid))
		err = follow_exec(w);
	if (w->exec_lost)
		return err;
	if (!err && (p[1].revents || lost_tracer_next_ms(w->lost) == 0))
		err = lost_tracer_process(w->lost);
	lost_output_tick(w->out, stdout, clock_mono_s());
	cli_stall_notes(w->stalls);
	note_asyncio(w);
	return err;
}

static int run(struct watch *w, double *elapsed, bool *exited)
{
	double t0 = clock_mono_s();
	int err = 0;

	while (!cli_stop && !err) {
		if (watch_opts.duration_s && clock_mono_s() - t0 >= watch_opts.duration_s)
			break;
		if (proc_ref_gone(&w->target)) {
			*exited = true;
			cli_target_exit(w->stalls, env.pid);
			lost_tracer_process(w->lost);
			break;
		}
		err = step(w);
	}
	*elapsed = clock_mono_s() - t0;
	return err;
}

static void summarize(struct watch *w, double elapsed, bool exited)
{
	uint64_t na = lost_output_total(w->out, LOST_NEVER_AWAITED);
	uint64_t ue = lost_output_total(w->out, LOST_UNRETRIEVED);
	uint64_t dp = lost_output_total(w->out, LOST_DESTROYED_PENDING);
	uint64_t dropped = lost_tracer_dropped(w->lost);
	struct stall_summary s;

	stall_monitor_summary(w->stalls, &s);
	if (watch_opts.json) {
		ndjson_print(stdout, json_pack("{s:s, s:i, s:o, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:b}",
			"event", "summary", "pid", env.pid, "duration_s", json_round(elapsed, 3),
			"never_awaited", (json_int_t)na, "unretrieved_exception", (json_int_t)ue,
			"destroyed_pending", (json_int_t)dp, "stalls", (json_int_t)s.stalls,
			"worst_ms", json_round(s.worst_ms, 3), "dropped", (json_int_t)(dropped + s.dropped),
			"untracked_threads", (json_int_t)s.untracked, "target_exited", exited));
		return;
	}
	printf("\n--- PID %d: %.1f s watched%s ---\n", env.pid, elapsed, exited ? ", target exited" : "");
	printf("never awaited: %llu   unretrieved exceptions: %llu   destroyed pending: %llu   "
	       "stalls: %llu (worst %.1f ms)\n", (unsigned long long)na, (unsigned long long)ue,
	       (unsigned long long)dp, (unsigned long long)s.stalls, s.worst_ms);
	lost_output_sites_print(w->out, stdout);
	if (dropped + s.dropped)
		printf("events dropped: %llu\n", (unsigned long long)(dropped + s.dropped));
	stall_untracked_print(stdout, &s);
}

int cmd_watch(int argc, char **argv)
{
	const struct argp_child children[] = { { &watch_opts_argp, 0, NULL, 0 }, {} };
	const struct argp argp = { .options = opts, .parser = parse_arg, .args_doc = "PID", .doc = doc,
				   .children = children };
	struct watch w = { 0 };
	double elapsed = 0;
	bool exited = false;
	int rc, err;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	if (check_caps() || cli_target_open(&w.target, env.pid))
		return EXIT_FAIL;
	if (attach_python(env.pid, &w.proc)) {
		proc_ref_close(&w.target);
		return EXIT_FAIL;
	}
	w.mono_to_unix_ns = clock_mono_to_unix_ns();
	w.printer = (struct stall_printer){ .json = watch_opts.json,
					    .threshold_ms = watch_opts.threshold_ms };
	w.out = lost_output_new(watch_opts.json);
	cli_handle_signals();
	rc = w.out ? start(&w) : EXIT_FAIL;
	if (rc == EXIT_OK)
		rc = cli_target_attached(&w.target);
	if (rc == EXIT_OK) {
		if (watch_opts.json)
			ndjson_print(stdout, attached_json(&w));
		else
			fprintf(stderr, "Watching PID %d (Python %s) for lost work and stalls over %g ms. "
				"Ctrl-C to stop.\n", env.pid, w.proc->version, watch_opts.threshold_ms);
		w.attached_said = true;
		err = run(&w, &elapsed, &exited);
		if (!cli_reader_gone && !w.exec_lost)
			summarize(&w, elapsed, exited);
		if (w.exec_lost)
			rc = EXIT_FAIL;
		if (err) {
			cli_error("lost the kernel event stream: %s", ls_strerror(err));
			rc = EXIT_FAIL;
		}
	}
	lost_tracer_free(w.lost);
	stall_monitor_free(w.stalls);
	lost_output_free(w.out);
	lost_report_free(&w.report);
	py_proc_free(w.proc);
	for (size_t i = 0; i < w.nretired; i++)
		py_proc_free(w.retired[i]);
	free(w.retired);
	proc_ref_close(&w.target);
	return rc;
}
