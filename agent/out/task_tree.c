/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "task_output.h"
#include "task_tree.h"

#define MAX_TREE_DEPTH 512

/* The children of a task are the tasks it awaits, i.e. those that list it
 * in awaited_by. `on_path` catches cycles. */
struct tree {
	const struct aio_snapshot *snap;
	bool *on_path;
	bool *shown;
	size_t *first;     /* children of task i: kids[first[i] .. first[i+1]) */
	size_t *kids;
	task_tree_visit_fn visit;
	void *ctx;
};

static size_t index_of(const struct tree *tr, const struct aio_task *t)
{
	return (size_t)(t - tr->snap->tasks);
}

static void tree_free(struct tree *tr)
{
	free(tr->on_path);
	free(tr->shown);
	free(tr->first);
	free(tr->kids);
}

/* Calls fn(parent index, child index) for each await edge. */
static void each_edge(struct tree *tr, void (*fn)(struct tree *, size_t, size_t, size_t *), size_t *fill)
{
	const struct aio_snapshot *snap = tr->snap;

	for (size_t i = 0; i < snap->n; i++)
		for (size_t k = 0; k < snap->tasks[i].n_awaited_by; k++) {
			const struct aio_task *parent = aio_snapshot_find(snap, snap->tasks[i].awaited_by[k]);

			if (parent)
				fn(tr, index_of(tr, parent), i, fill);
		}
}

static void count_edge(struct tree *tr, size_t parent, size_t child, size_t *fill)
{
	tr->first[parent + 1]++;
}

static void place_edge(struct tree *tr, size_t parent, size_t child, size_t *fill)
{
	tr->kids[tr->first[parent] + fill[parent]++] = child;
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
		tree_free(tr);
		return -ENOMEM;
	}
	each_edge(tr, count_edge, fill);
	for (size_t i = 0; i < n; i++)
		tr->first[i + 1] += tr->first[i];
	each_edge(tr, place_edge, fill);
	free(fill);
	return 0;
}

static void walk_node(struct tree *tr, const struct aio_task *t, int depth)
{
	size_t i = index_of(tr, t);
	bool cycle = tr->on_path[i] || depth >= MAX_TREE_DEPTH;

	tr->visit(t, depth, cycle, tr->ctx);
	if (cycle)
		return;
	tr->on_path[i] = tr->shown[i] = true;
	for (size_t k = tr->first[i]; k < tr->first[i + 1]; k++)
		walk_node(tr, &tr->snap->tasks[tr->kids[k]], depth + 1);
	tr->on_path[i] = false;
}

int task_tree_walk(const struct aio_snapshot *snap, task_tree_visit_fn visit, void *ctx)
{
	struct tree tr = { .visit = visit, .ctx = ctx };
	int err = tree_init(&tr, snap);

	if (err)
		return err;
	/* roots first; then whatever was not reached, which only a cycle hides */
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < snap->n; k++)
			if (!tr.shown[k] && (pass == 1 || !snap->tasks[k].n_awaited_by))
				walk_node(&tr, &snap->tasks[k], 0);
	tree_free(&tr);
	return 0;
}

/* Nesting by depth: levels[d] is the array the next node of depth d goes in. */
struct json_tree {
	json_t *levels[MAX_TREE_DEPTH + 2];
};

static void visit_json(const struct aio_task *t, int depth, bool cycle, void *ctx)
{
	struct json_tree *jt = ctx;
	json_t *o = task_json(t), *children = json_array();

	if (cycle)
		json_object_set_new(o, "cycle", json_true());
	json_object_set_new(o, "children", children);
	json_array_append_new(jt->levels[depth], o);
	jt->levels[depth + 1] = children;
}

json_t *pstree_json(const struct py_proc *p, const struct aio_snapshot *snap)
{
	json_t *doc = snapshot_header_json(p, snap), *roots = json_array();
	struct json_tree jt = { .levels = { roots } };

	json_object_set_new(doc, "tasks", roots);
	if (task_tree_walk(snap, visit_json, &jt)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

const struct aio_task *task_find(const struct aio_snapshot *snap, const char *spec, size_t *matches)
{
	const struct aio_task *found = NULL;
	char *end;
	unsigned long long addr = strtoull(spec, &end, 16);

	*matches = 0;
	if (!strncmp(spec, "0x", 2) && !*end && (found = aio_snapshot_find(snap, addr))) {
		*matches = 1;
		return found;
	}
	for (size_t i = 0; i < snap->n; i++)
		if (!strcmp(snap->tasks[i].name, spec) && !(*matches)++)
			found = &snap->tasks[i];
	return *matches == 1 ? found : NULL;
}

size_t task_awaiter_chain(const struct aio_snapshot *snap, const struct aio_task *t,
			  const struct aio_task **chain, size_t max, bool *cycle)
{
	size_t n = 0;

	*cycle = false;
	while (t->n_awaited_by && n < max) {
		t = aio_snapshot_find(snap, t->awaited_by[0]);
		if (!t)
			break;
		for (size_t i = 0; i < n; i++)
			if (chain[i] == t)
				*cycle = true;
		if (*cycle)
			break;
		chain[n++] = t;
	}
	return n;
}

json_t *where_json(const struct py_proc *p, const struct aio_snapshot *snap, const struct aio_task *t)
{
	const struct aio_task *chain[TASK_MAX_AWAITER_CHAIN];
	json_t *doc = snapshot_header_json(p, snap), *arr = json_array();
	bool cycle;
	size_t n = task_awaiter_chain(snap, t, chain, TASK_MAX_AWAITER_CHAIN, &cycle);

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, task_json(chain[i]));
	json_object_set_new(doc, "task", task_json(t));
	json_object_set_new(doc, "awaiter_chain", arr);
	json_object_set_new(doc, "cycle", json_boolean(cycle));
	return doc;
}
