/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "strmap.h"
#include "task_rows.h"
#include "task_snap.h"
#include "ui.h"

bool task_matches(const struct m_task *k, const char *filter)
{
	return !filter[0] || text_match(k->name, filter) || text_match(k->coro, filter) ||
	       text_match(k->top.file, filter) || text_match(k->awaiting, filter) ||
	       text_match(k->id, filter) || text_match(k->top.func, filter);
}

/* The task holding the loop first, then the waiting ones. */
static int state_rank(enum m_state s)
{
	return s == M_RUNNING ? 0 : s == M_PENDING ? 1 : (int)s + 1;
}

static int cmp_num(double a, double b)
{
	return a < b ? -1 : a > b;
}

struct sort_by {
	const struct m_task *tasks;
	enum task_col col;
	bool invert;
};

/* qsort_r's: the parser's thread sorts at the same time as the key loop. */
static int cmp_tasks(const void *pa, const void *pb, void *ctx)
{
	const struct sort_by *by = ctx;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	const struct m_task *x = &by->tasks[a], *y = &by->tasks[b];
	int c = 0;

	switch (by->col) {
	case TC_ID: c = strcmp(x->id, y->id); break;
	case TC_NAME: c = strcmp(x->name, y->name); break;
	case TC_STATE: c = cmp_num(state_rank(x->st), state_rank(y->st));
		if (!c)
			c = strcmp(x->name, y->name);
		break;
	case TC_CORO: c = strcmp(x->coro, y->coro); break;
	case TC_LOCATION: c = strcmp(x->top.file, y->top.file);
		if (!c)
			c = cmp_num(x->top.line, y->top.line);
		break;
	case TC_AWAITING: c = strcmp(x->awaiting, y->awaiting); break;
	case TC_BY: c = cmp_num((double)json_array_size(x->awaited_by), (double)json_array_size(y->awaited_by)); break;
	case TC_AGE: c = cmp_num(y->first_seen, x->first_seen); break;
	default: break;
	}
	if (by->invert)
		c = -c;
	return c ? c : cmp_num(a, b);   /* stable: snapshot order breaks ties */
}

void task_order(const struct m_task *tasks, enum task_col col, bool invert, uint32_t *idx, size_t n)
{
	struct sort_by by = { tasks, col, invert };

	qsort_r(idx, n, sizeof(*idx), cmp_tasks, &by);
}

/* The snapshot's order, when it was sorted this way on the parser's
 * thread: then any subset of it in that order is sorted too. */
static const uint32_t *presorted(const struct m_target *t, const struct task_rows_opts *o)
{
	const struct task_snap *snap = t->snap;

	return snap && snap->order && snap->order_sort == (int)o->sort && snap->order_invert == o->invert ?
	       snap->order : NULL;
}

/* idx[0..n) (task indexes), sorted; keep: which to keep (NULL: all
 * matching the filter). Without a presorted order, sorted here. */
static size_t sorted_subset(const struct m_target *t, const struct task_rows_opts *o, const bool *keep,
			    uint32_t *idx)
{
	const uint32_t *order = presorted(t, o);
	size_t k = 0;

	for (size_t j = 0; j < t->ntasks; j++) {
		uint32_t i = order ? order[j] : (uint32_t)j;

		if (keep ? keep[i] : task_matches(&t->tasks[i], o->filter))
			idx[k++] = i;
	}
	if (!order)
		task_order(t->tasks, o->sort, o->invert, idx, k);
	return k;
}

static int build_flat(const struct m_target *t, const struct task_rows_opts *o, struct task_row *rows,
		      size_t *n)
{
	uint32_t *idx = malloc((t->ntasks + 1) * sizeof(*idx));
	size_t k;

	if (!idx)
		return -ENOMEM;
	k = sorted_subset(t, o, NULL, idx);
	for (size_t i = 0; i < k; i++)
		rows[i] = (struct task_row){ .task = idx[i] };
	*n = k;
	free(idx);
	return 0;
}

/* A task is shown in the tree when it or one of its descendants matches:
 * marks go up the parent chain (bounded: an await cycle has no top). */
static void mark_matches(const struct m_target *t, const char *filter, bool *show)
{
	for (size_t i = 0; i < t->ntasks; i++) {
		if (!task_matches(&t->tasks[i], filter))
			continue;
		for (size_t p = i, steps = 0; p != (size_t)-1 && !show[p] && steps <= t->ntasks; steps++) {
			show[p] = true;
			p = t->tasks[p].parent;
		}
	}
}

struct walk {
	const struct m_target *t;
	const struct task_rows_opts *o;
	const bool *show;
	bool *seen;
	struct task_row *rows;
	size_t n;
	struct task_row *stack;
};

static bool folded(const struct walk *w, uint32_t i)
{
	const struct strmap_val *v = w->o->folded ? strmap_get(w->o->folded, w->t->tasks[i].id) : NULL;

	return v && v->d != 0;
}

/* Depth first without recursion (await chains can be thousands deep). */
static void walk_from(struct walk *w, uint32_t root)
{
	size_t sp = 0;

	w->stack[sp++] = (struct task_row){ .task = root };
	w->seen[root] = true;
	while (sp) {
		struct task_row r = w->stack[--sp];
		const struct m_task *k = &w->t->tasks[r.task];
		bool first = true;

		w->rows[w->n++] = r;
		if (folded(w, r.task))
			continue;
		/* pushed in reverse so they come out in order; the first pushed is the last child */
		for (size_t c = k->nkids; c-- > 0;) {
			uint32_t kid = (uint32_t)w->t->kids[k->kid0 + c];
			uint16_t d = r.depth < TREE_DEPTH_MAX ? r.depth + 1 : TREE_DEPTH_MAX;

			if (w->seen[kid] || !w->show[kid])
				continue;
			w->seen[kid] = true;
			w->stack[sp++] = (struct task_row){ .task = kid, .depth = d,
				.last = r.last | (first ? 1ull << d : 0) };
			first = false;
		}
	}
}

static int build_tree(const struct m_target *t, const struct task_rows_opts *o, struct task_row *rows,
		      size_t *n)
{
	size_t nt = t->ntasks;
	uint32_t *roots = malloc((nt + 1) * sizeof(*roots));
	bool *show = calloc(nt + 1, 1), *seen = calloc(nt + 1, 1), *root = calloc(nt + 1, 1);
	struct walk w = { t, o, show, seen, rows, 0, malloc((nt + 1) * sizeof(struct task_row)) };
	size_t nr = 0;
	int err = -ENOMEM;

	if (!roots || !show || !seen || !root || !w.stack)
		goto out;
	mark_matches(t, o->filter, show);
	for (size_t i = 0; i < nt; i++)
		root[i] = show[i] && t->tasks[i].parent == (size_t)-1;
	nr = sorted_subset(t, o, root, roots);
	for (size_t i = 0; i < nr; i++)
		walk_from(&w, roots[i]);
	/* tasks only reachable through a cycle: shown as roots of their own */
	for (size_t i = 0; i < nt; i++)
		if (show[i] && !seen[i])
			walk_from(&w, (uint32_t)i);
	*n = w.n;
	err = 0;
out:
	free(roots);
	free(show);
	free(seen);
	free(root);
	free(w.stack);
	return err;
}

int task_rows_build(const struct m_target *t, const struct task_rows_opts *o,
		    struct task_row **rows, size_t *n)
{
	struct task_row *r = malloc((t->ntasks + 1) * sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	err = o->tree ? build_tree(t, o, r, n) : build_flat(t, o, r, n);
	if (err) {
		free(r);
		return err;
	}
	free(*rows);
	*rows = r;
	return 0;
}
