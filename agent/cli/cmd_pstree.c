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
#include "text.h"

#define MAX_TREE_DEPTH 512

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

/* Walks the tree: the children of a task are the tasks it awaits, i.e.
 * those that list it in awaited_by. `on_path` catches cycles. */
struct tree {
	const struct aio_snapshot *snap;
	bool *on_path;
	bool *shown;
	size_t *first;     /* children of task i: kids[first[i] .. first[i+1]) */
	size_t *kids;
};

static size_t index_of(const struct tree *tr, const struct aio_task *t)
{
	return (size_t)(t - tr->snap->tasks);
}

/* Children lists, from every task's awaited_by (compressed rows). */
static int tree_init(struct tree *tr, const struct aio_snapshot *snap)
{
	size_t n = snap->n, total = 0, *fill;

	tr->snap = snap;
	tr->on_path = calloc(n + 1, sizeof(bool));
	tr->shown = calloc(n + 1, sizeof(bool));
	tr->first = calloc(n + 2, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		total += snap->tasks[i].n_awaited_by;
	tr->kids = calloc(total + 1, sizeof(size_t));
	fill = calloc(n + 1, sizeof(size_t));
	if (!tr->on_path || !tr->shown || !tr->first || !tr->kids || !fill) {
		free(fill);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < snap->tasks[i].n_awaited_by; k++) {
			const struct aio_task *parent = aio_snapshot_find(snap, snap->tasks[i].awaited_by[k]);

			if (parent)
				tr->first[index_of(tr, parent) + 1]++;
		}
	for (size_t i = 0; i < n; i++)
		tr->first[i + 1] += tr->first[i];
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < snap->tasks[i].n_awaited_by; k++) {
			const struct aio_task *parent = aio_snapshot_find(snap, snap->tasks[i].awaited_by[k]);
			size_t pi;

			if (!parent)
				continue;
			pi = index_of(tr, parent);
			tr->kids[tr->first[pi] + fill[pi]++] = i;
		}
	free(fill);
	return 0;
}

static void tree_free(struct tree *tr)
{
	free(tr->on_path);
	free(tr->shown);
	free(tr->first);
	free(tr->kids);
}

static void print_node(struct tree *tr, const struct aio_task *t, int depth)
{
	const struct colors *c = colors_for(stdout);
	size_t i = index_of(tr, t);

	printf("%*s└ %s%s%s 0x%llx (%s)", 2 * depth, "", c->bold, text_safe(t->name), c->reset,
	       (unsigned long long)t->addr, task_state_name(t->state));
	if (tr->on_path[i] || depth >= MAX_TREE_DEPTH) {
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
	tr->on_path[i] = tr->shown[i] = true;
	for (size_t k = tr->first[i]; k < tr->first[i + 1]; k++)
		print_node(tr, &tr->snap->tasks[tr->kids[k]], depth + 1);
	tr->on_path[i] = false;
}

static json_t *node_json(struct tree *tr, const struct aio_task *t, int depth)
{
	size_t i = index_of(tr, t);
	json_t *o = task_json(t), *children = json_array();

	if (tr->on_path[i] || depth >= MAX_TREE_DEPTH) {
		json_object_set_new(o, "cycle", json_true());
		json_object_set_new(o, "children", children);
		return o;
	}
	tr->on_path[i] = tr->shown[i] = true;
	for (size_t k = tr->first[i]; k < tr->first[i + 1]; k++)
		json_array_append_new(children, node_json(tr, &tr->snap->tasks[tr->kids[k]], depth + 1));
	tr->on_path[i] = false;
	json_object_set_new(o, "children", children);
	return o;
}

/* Roots first; then whatever was not reached, which only a cycle hides. */
static void walk_roots(struct tree *tr, json_t *roots)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < tr->snap->n; k++) {
			const struct aio_task *t = &tr->snap->tasks[k];

			if (tr->shown[k] || (pass == 0 && t->n_awaited_by))
				continue;
			if (roots)
				json_array_append_new(roots, node_json(tr, t, 0));
			else
				print_node(tr, t, 0);
		}
	}
}

int cmd_pstree(int argc, char **argv)
{
	const struct argp argp = { .options = opts, .parser = parse_arg, .args_doc = "PID", .doc = doc };
	struct aio_snapshot snap;
	struct py_proc *p;
	struct tree tr;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	if (attach_snapshot(env.pid, &p, &snap))
		return EXIT_FAIL;
	if (!tree_init(&tr, &snap)) {
		if (env.json) {
			json_t *doc = snapshot_header_json(p, &snap), *roots = json_array();

			walk_roots(&tr, roots);
			json_object_set_new(doc, "tasks", roots);
			json_doc_print(stdout, doc);
		} else {
			printf("PID %d: Python %s, %zu tasks\n", p->pid, p->version, snap.n);
			walk_roots(&tr, NULL);
		}
	}
	tree_free(&tr);
	aio_snapshot_free(&snap);
	py_proc_free(p);
	return EXIT_OK;
}
