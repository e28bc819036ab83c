/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope pstree PID: the await tree of every running loop. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attach.h"
#include "cli.h"
#include "commands.h"
#include "output.h"
#include "proc.h"
#include "task_output.h"
#include "task_tree.h"
#include "text.h"

static struct pstree_env {
	pid_t pid;
	bool json;
	int frames;   /* coroutine frames shown per node in text */
} env = { .frames = 3 };

static const char doc[] =
"Print the await tree of a running process: each root task, and under it\n"
"the tasks it awaits (through await, asyncio.gather, TaskGroup, wait_for,\n"
"shield), each with its coroutine frames. An await cycle is shown as such.\n"
"\n"
"USAGE: loopscope pstree PID [--json] [--frames N]\n"
"\n"
"EXAMPLES:\n"
"    loopscope pstree 1234\n"
"    loopscope pstree 1234 --json     # tasks nested under \"children\"";

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "Print one JSON document", 0 },
	{ "frames", 'n', "N", 0, "Coroutine frames per task in text (default 3)", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j':
		env.json = true;
		break;
	case 'n':
		env.frames = (int)cli_count_arg(arg, state, 0, 1000, "frame count");
		break;
	default:
		return cli_pid_arg(key, arg, state, &env.pid);
	}
	return 0;
}

static void print_node(const struct aio_task *t, int depth, bool cycle, void *ctx)
{
	const struct colors *c = colors_for(stdout);

	printf("%*s└ %s%s%s 0x%llx (%s)", 2 * depth, "", c->bold, text_safe(t->name), c->reset,
	       (unsigned long long)t->addr, task_state_name(t->state));
	if (cycle) {
		printf(" %s(await cycle)%s\n", c->red, c->reset);
		return;
	}
	printf("%s%s\n", t->awaiting[0] ? "  awaiting " : "", text_safe(t->awaiting));
	for (size_t k = 0; k < t->stack.depth && (int)k < env.frames; k++)
		printf("%*s    %s (%s:%d)\n", 2 * depth, "", text_safe(t->stack.frames[k].func),
		       text_safe(t->stack.frames[k].file), t->stack.frames[k].line);
	if (t->stack.truncated && (size_t)env.frames >= t->stack.depth)
		printf("%*s    ... (chain truncated: its innermost %zu frames shown)\n", 2 * depth, "",
		       t->stack.depth);
}

int cmd_pstree(int argc, char **argv)
{
	const struct argp argp = { .options = opts, .parser = parse_arg, .args_doc = "PID", .doc = doc };
	struct aio_snapshot snap;
	struct py_proc *p;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	if (attach_snapshot(env.pid, &p, &snap))
		return EXIT_FAIL;
	if (env.json) {
		json_t *doc = pstree_json(p, &snap);

		if (doc)
			json_doc_print(stdout, doc);
	} else {
		printf("PID %d: Python %s, %zu tasks\n", p->pid, p->version, snap.n);
		task_tree_walk(&snap, print_node, NULL);
	}
	aio_snapshot_free(&snap);
	py_proc_free(p);
	return EXIT_OK;
}
