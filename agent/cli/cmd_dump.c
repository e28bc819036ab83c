/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope dump PID: every Python thread's stack, py-spy style. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attach.h"
#include "cli.h"
#include "commands.h"
#include "errors.h"
#include "output.h"
#include "proc.h"
#include "pyproc.h"
#include "thread_output.h"
#include "thread_view.h"
#include "text.h"

static struct dump_env {
	pid_t pid;
	bool json;
	long max_depth;
} env = { .max_depth = PY_MAX_DEPTH };

static const char doc[] =
"Print the Python stack of every thread of a running process.\n"
"\n"
"Reads the interpreter's memory from outside (process_vm_readv): the target\n"
"is never stopped. For each thread: its id and name, whether it holds the GIL,\n"
"the asyncio task it is running, and its stack, innermost frame first.\n"
"\n"
"USAGE: loopscope dump PID [--json]\n"
"\n"
"EXAMPLES:\n"
"    loopscope dump 1234            # stacks as text\n"
"    loopscope dump 1234 --json     # one JSON document\n"
"\n"
"Supported: CPython 3.10 to 3.15, with symbols or stripped (Debian's python3.11,\n"
"3.14, 3.15), also in containers (chroot, mount and PID namespaces).";

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "Print one JSON document", 0 },
	{ "max-depth", 'm', "N", 0, "Read at most N frames per thread (default 2048)", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j':
		env.json = true;
		break;
	case 'm':
		env.max_depth = cli_count_arg(arg, state, 1, 1000000, "depth");
		break;
	default:
		return cli_pid_arg(key, arg, state, &env.pid);
	}
	return 0;
}

#define OTHER_LISTED 16  /* OS threads without Python state named in text */

static void print_other_threads(pid_t pid, const struct thread_view *v, size_t n)
{
	char name[32];
	pid_t *tids;
	size_t k = thread_views_others(pid, v, n, &tids);

	if (k)
		printf("\n%zu more OS thread%s without Python state:", k, k == 1 ? "" : "s");
	for (size_t i = 0; i < k && i < OTHER_LISTED; i++) {
		proc_thread_name(pid, tids[i], name, sizeof(name));
		printf("%s %d (%s)", i ? "," : "", tids[i], text_safe(name));
	}
	if (k)
		printf("%s\n", k > OTHER_LISTED ? ", ..." : "");
	free(tids);
}

static void print_text(struct py_proc *p, const struct thread_view *v, size_t n)
{
	const struct colors *c = colors_for(stdout);

	printf("%sProcess %d: Python %s%s (%s)\n", c->bold, p->pid, p->version, c->reset,
	       text_safe(p->binary));
	for (size_t i = 0; i < n; i++) {
		printf("\n%sThread %d%s (%s)%s%s\n", c->bold, v[i].tid, c->reset, text_safe(v[i].name),
		       v[i].gil ? " [holds the GIL]" : "", v[i].stack.partial ? " [partial]" : "");
		if (v[i].has_task)
			printf("    running task %s%s%s (%s) 0x%llx\n", c->cyan, text_safe(v[i].task.name),
			       c->reset, text_safe(v[i].task.coro), (unsigned long long)v[i].task.addr);
		if (!v[i].stack.depth)
			printf("    (no Python frames: idle or in C code)\n");
		py_stack_print(stdout, &v[i].stack, "    ", (size_t)env.max_depth);
	}
	print_other_threads(p->pid, v, n);
}

int cmd_dump(int argc, char **argv)
{
	const struct argp argp = { .options = opts, .parser = parse_arg, .args_doc = "PID", .doc = doc };
	struct thread_view *views = NULL;
	struct py_proc *p = NULL;
	size_t n = 0;
	int err;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	if (attach_python(env.pid, &p))
		return EXIT_FAIL;
	err = thread_views_read(p, (size_t)env.max_depth, &views, &n);
	if (err) {
		cli_error(err == -ESRCH ? "PID %d exited while it was read"
					: "cannot read the threads of PID %d: %s", env.pid, ls_strerror(err));
		py_proc_free(p);
		return EXIT_FAIL;
	}
	if (env.json)
		json_doc_print(stdout, dump_json(p, views, n));
	else
		print_text(p, views, n);
	thread_views_free(views, n);
	py_proc_free(p);
	return EXIT_OK;
}
