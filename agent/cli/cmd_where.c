/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope where PID TASK: one task's coroutine chain and who awaits it. */
#include <argp.h>
#include <errno.h>
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

static struct where_env {
	pid_t pid;
	const char *task;
	bool json;
} env;

static const char doc[] =
"Show one asyncio task of a running process: its full coroutine chain\n"
"(coroutine A awaiting B awaiting C, innermost first, with file:line) and the\n"
"chain of tasks awaiting it, up to the root task.\n"
"\n"
"TASK is a task id as `loopscope ps` prints it (0x...), or a task name when\n"
"only one task has that name.\n"
"\n"
"USAGE: loopscope where PID TASK [--json]\n"
"\n"
"EXAMPLES:\n"
"    loopscope where 1234 0x7f3a2c1e5e40\n"
"    loopscope where 1234 worker-3 --json";

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "Print one JSON document", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j':
		env.json = true;
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num == 0)
			cli_parse_pid(arg, state, &env.pid);
		else if (state->arg_num == 1)
			env.task = arg;
		else if (state->arg_num > 1)
			argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!env.pid || !env.task)
			argp_error(state, "a PID and a TASK are required");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* By id, else by unique name; prints why when not found or ambiguous. */
static const struct aio_task *find_task(const struct aio_snapshot *snap, const char *spec)
{
	size_t matches;
	const struct aio_task *found = task_find(snap, spec, &matches);

	if (found)
		return found;
	if (!matches) {
		cli_error("no task '%s' in PID %d (see 'loopscope ps %d')", text_safe(spec), env.pid,
			  env.pid);
		return NULL;
	}
	fflush(stdout);
	fprintf(stderr, "loopscope: %zu tasks are named '%s':", matches, text_safe(spec));
	for (size_t i = 0; i < snap->n; i++)
		if (!strcmp(snap->tasks[i].name, spec))
			fprintf(stderr, " 0x%llx", (unsigned long long)snap->tasks[i].addr);
	fprintf(stderr, "\n");
	return NULL;
}

static void print_text(const struct aio_task *t, const struct aio_task **chain, size_t n, bool cycle)
{
	const struct colors *c = colors_for(stdout);

	printf("%sTask 0x%llx %s%s (%s), %s, loop thread %d\n", c->bold, (unsigned long long)t->addr,
	       text_safe(t->name), c->reset, text_safe(t->coro_name), task_state_name(t->state),
	       t->loop_tid);
	printf("  awaiting: %s\n", t->awaiting[0] ? text_safe(t->awaiting) : "-");
	printf("  coroutine chain, innermost first:\n");
	py_stack_print(stdout, &t->stack, "    ", 256);
	printf("  awaited by:%s\n", n ? "" : " nobody (a root task)");
	for (size_t i = 0; i < n; i++)
		printf("    %*s<- Task 0x%llx %s (%s) at %s:%d\n", (int)(2 * i), "",
		       (unsigned long long)chain[i]->addr, text_safe(chain[i]->name),
		       text_safe(chain[i]->coro_name),
		       chain[i]->stack.depth ? text_safe(chain[i]->stack.frames[0].file) : "?",
		       chain[i]->stack.depth ? chain[i]->stack.frames[0].line : -1);
	if (cycle)
		printf("    %s(await cycle: the chain loops back here)%s\n", c->red, c->reset);
}

int cmd_where(int argc, char **argv)
{
	const struct argp argp = { .options = opts, .parser = parse_arg, .args_doc = "PID TASK",
				   .doc = doc };
	const struct aio_task *chain[TASK_MAX_AWAITER_CHAIN], *t;
	struct aio_snapshot snap;
	struct py_proc *p;
	int rc = EXIT_OK;
	bool cycle;
	size_t n;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	if (attach_snapshot(env.pid, &p, &snap))
		return EXIT_FAIL;
	t = find_task(&snap, env.task);
	if (!t) {
		rc = EXIT_FAIL;
	} else {
		if (env.json) {
			json_doc_print(stdout, where_json(p, &snap, t));
		} else {
			n = task_awaiter_chain(&snap, t, chain, TASK_MAX_AWAITER_CHAIN, &cycle);
			print_text(t, chain, n, cycle);
		}
	}
	aio_snapshot_free(&snap);
	py_proc_free(p);
	return rc;
}
