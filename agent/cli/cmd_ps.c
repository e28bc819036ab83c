/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope ps PID: every asyncio task of every running loop. */
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
#include "text.h"

enum sort_key { SORT_NONE, SORT_NAME, SORT_STATE, SORT_LOCATION };

static struct ps_env {
	pid_t pid;
	bool json;
	enum sort_key sort;
	const char *filter;
} env;

static const char doc[] =
"List every asyncio task of a running process, like aiomonitor's ps.\n"
"\n"
"For each pending task of each running loop (the tasks asyncio.all_tasks()\n"
"returns): its id (the Task's address), name, state, coroutine, where it is\n"
"suspended, what it awaits, the tasks awaiting it, and its loop's thread.\n"
"Works with asyncio and uvloop, on CPython 3.10 to 3.15, without any change\n"
"to the target.\n"
"\n"
"USAGE: loopscope ps PID [--sort name|state|location] [--filter TEXT] [--json]\n"
"\n"
"EXAMPLES:\n"
"    loopscope ps 1234                   # the task table\n"
"    loopscope ps 1234 --filter worker   # tasks whose name, coroutine, location\n"
"                                        # or awaited thing contains 'worker'\n"
"    loopscope ps 1234 --json            # the JSON document";

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "Print one JSON document", 0 },
	{ "sort", 's', "KEY", 0, "Sort by name, state or location", 0 },
	{ "filter", 'f', "TEXT", 0, "Only tasks mentioning TEXT", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j':
		env.json = true;
		break;
	case 's':
		if (!strcmp(arg, "name"))
			env.sort = SORT_NAME;
		else if (!strcmp(arg, "state"))
			env.sort = SORT_STATE;
		else if (!strcmp(arg, "location"))
			env.sort = SORT_LOCATION;
		else
			argp_error(state, "invalid sort key '%s' (name, state or location)", arg);
		break;
	case 'f':
		env.filter = arg;
		break;
	default:
		return cli_pid_arg(key, arg, state, &env.pid);
	}
	return 0;
}

static int cmp_tasks(const void *a, const void *b)
{
	const struct aio_task *x = *(const struct aio_task *const *)a;
	const struct aio_task *y = *(const struct aio_task *const *)b;
	char lx[512], ly[512];

	switch (env.sort) {
	case SORT_NAME:
		return strcmp(x->name, y->name);
	case SORT_STATE:
		return (x->state < y->state) ? -1 : x->state > y->state;
	case SORT_LOCATION:
		task_location(x, lx, sizeof(lx));
		task_location(y, ly, sizeof(ly));
		return strcmp(lx, ly);
	default:
		return (x->addr > y->addr) - (x->addr < y->addr);
	}
}

static bool matches(const struct aio_task *t)
{
	char loc[512];

	if (!env.filter)
		return true;
	task_location(t, loc, sizeof(loc));
	return strstr(t->name, env.filter) || strstr(t->coro_name, env.filter) ||
	       strstr(loc, env.filter) || strstr(t->awaiting, env.filter);
}

/* The selected tasks, in display order. */
static const struct aio_task **select_tasks(const struct aio_snapshot *snap, size_t *n)
{
	const struct aio_task **v = calloc(snap->n ? snap->n : 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < snap->n; i++)
		if (matches(&snap->tasks[i]))
			v[(*n)++] = &snap->tasks[i];
	if (v)
		qsort(v, *n, sizeof(*v), cmp_tasks);
	return v;
}

static const char *short_file(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Columns are cut on a character boundary with "…" (the coroutine keeps
 * its end: the method name tells coroutines of one class apart); target
 * strings are escaped first, so no name can forge a row. */
static void print_row(const struct aio_task *t)
{
	char id[32], loc[300] = "-", by[64] = "";
	char name[4 * 20 + 1], coro[4 * 24 + 1], where[4 * 26 + 1], awaiting[4 * 28 + 1];

	task_id(t->addr, id, sizeof(id));
	if (t->stack.depth)
		snprintf(loc, sizeof(loc), "%s:%d", short_file(t->stack.frames[0].file),
			 t->stack.frames[0].line);
	if (t->n_awaited_by)
		snprintf(by, sizeof(by), "0x%llx%s", (unsigned long long)t->awaited_by[0],
			 t->n_awaited_by > 1 ? " +more" : "");
	text_column(text_safe(t->name), 20, name, sizeof(name));
	text_column_end(text_safe(t->coro_name), 24, coro, sizeof(coro));
	text_column_end(text_safe(loc), 26, where, sizeof(where));
	text_column(t->awaiting[0] ? text_safe(t->awaiting) : "-", 28, awaiting, sizeof(awaiting));
	printf("%-16s %s %-8s %s %s %s %-20s %d\n", id, name, task_state_name(t->state), coro,
	       where, awaiting, by[0] ? by : "-", t->loop_tid);
}

static void print_text(const struct py_proc *p, const struct aio_snapshot *snap,
		       const struct aio_task **v, size_t n)
{
	const struct colors *c = colors_for(stdout);

	printf("%sPID %d: Python %s, %zu loop%s, %zu task%s%s", c->bold, p->pid, p->version,
	       snap->nloops, snap->nloops == 1 ? "" : "s", snap->n, snap->n == 1 ? "" : "s", c->reset);
	for (size_t i = 0; i < snap->nloops; i++)
		printf("%s thread %d (%s)", i ? "," : "  loops:", snap->loops[i].tid,
		       snap->loops[i].uvloop ? "uvloop" : "asyncio");
	printf("\n");
	if (snap->partial)
		printf("%s%d task(s) changed while read and are incomplete%s\n", c->yellow,
		       snap->partial, c->reset);
	printf("%s%-16s %-20s %-8s %-24s %-26s %-28s %-20s %s%s\n", c->bold, "ID", "NAME", "STATE",
	       "CORO", "LOCATION", "AWAITING", "AWAITED BY", "TID", c->reset);
	for (size_t i = 0; i < n; i++)
		print_row(v[i]);
}

int cmd_ps(int argc, char **argv)
{
	const struct argp argp = { .options = opts, .parser = parse_arg, .args_doc = "PID", .doc = doc };
	const struct aio_task **v;
	struct aio_snapshot snap;
	struct py_proc *p;
	size_t n;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	if (attach_snapshot(env.pid, &p, &snap))
		return EXIT_FAIL;
	v = select_tasks(&snap, &n);
	if (env.json) {
		json_stream_begin(stdout, snapshot_header_json(p, &snap), "tasks");
		for (size_t i = 0; v && i < n; i++)
			json_stream_item(stdout, task_json(v[i]), i == 0);
		json_stream_end(stdout);
	} else if (v) {
		print_text(p, &snap, v, n);
	}
	free(v);
	aio_snapshot_free(&snap);
	py_proc_free(p);
	return EXIT_OK;
}
