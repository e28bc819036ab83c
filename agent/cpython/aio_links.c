/* SPDX-License-Identifier: GPL-2.0-only */
/* Who awaits whom. Task T awaits X when T's __step waits on X itself, or on
 * a future X will complete: a gather's outer future, a shield's outer
 * future, wait_for's waiter (3.10-3.11), a TaskGroup whose parent is T.
 * X's done-callbacks name those futures: T's wakeup method, a closure
 * over the outer future, a functools.partial holding the waiter, a bound
 * method of the TaskGroup. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aio.h"
#include "containers.h"
#include "errors.h"

#define MAX_CALLBACKS 4096

/* Tasks by the future they wait on, sorted for binary search. */
struct waiter_index {
	struct waiter { uint64_t fut, task; } *v;
	size_t n;
};

static int cmp_waiter(const void *a, const void *b)
{
	const struct waiter *x = a, *y = b;

	return (x->fut > y->fut) - (x->fut < y->fut);
}

static int index_build(const struct aio_snapshot *snap, struct waiter_index *ix)
{
	ix->v = calloc(snap->n ? snap->n : 1, sizeof(*ix->v));
	if (!ix->v)
		return -ENOMEM;
	for (size_t i = 0; i < snap->n; i++)
		if (snap->tasks[i].fut_waiter)
			ix->v[ix->n++] = (struct waiter){ snap->tasks[i].fut_waiter, snap->tasks[i].addr };
	qsort(ix->v, ix->n, sizeof(*ix->v), cmp_waiter);
	return 0;
}

/* Adds every task waiting on fut as an awaiter of x. */
static int link_waiters_of(const struct waiter_index *ix, uint64_t fut, struct aio_task *x)
{
	size_t lo = 0, hi = ix->n;
	int err = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ix->v[mid].fut < fut)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; !err && lo < ix->n && ix->v[lo].fut == fut; lo++)
		err = aio_add_awaiter(x, ix->v[lo].task);
	return err;
}

struct link_ctx {
	struct py_proc *p;
	struct aio_snapshot *snap;
	const struct waiter_index *ix;
	struct aio_task *x;
};

static bool ml_name_is(struct py_proc *p, uint64_t cfunc, const char *want)
{
	uint64_t ml, name;
	char buf[32];

	if (remote_read_ptr(&p->mem, cfunc + (uint64_t)p->L.cfunc_ml, &ml) ||
	    remote_read_ptr(&p->mem, ml + (uint64_t)p->L.ml_name, &name) ||
	    py_read_cstr(p, name, buf, sizeof(buf)))
		return false;
	return !strcmp(buf, want);
}

/* T.__wakeup (a builtin method bound to the waiting task). */
static int link_cfunction(struct link_ctx *c, uint64_t cb)
{
	uint64_t self;

	if (!ml_name_is(c->p, cb, "task_wakeup") ||
	    remote_read_ptr(&c->p->mem, cb + (uint64_t)c->p->L.cfunc_self, &self))
		return 0;
	return aio_snapshot_find(c->snap, self) ? aio_add_awaiter(c->x, self) : 0;
}

/* TaskGroup._on_task_done: the group's parent task awaits its tasks. */
static int link_method(struct link_ctx *c, uint64_t cb)
{
	uint64_t self, parent;
	char type[64];

	if (remote_read_ptr(&c->p->mem, cb + (uint64_t)c->p->L.method_self, &self) ||
	    py_type_name(c->p, self, type, sizeof(type)))
		return 0;
	if (!strcmp(type, "TaskGroup") && !py_getattr_str(c->p, self, "_parent_task", &parent) &&
	    aio_snapshot_find(c->snap, parent))
		return aio_add_awaiter(c->x, parent);
	return aio_snapshot_find(c->snap, self) ? aio_add_awaiter(c->x, self) : 0;
}

/* Objects a closure or a partial holds: any task waiting on one of them
 * awaits x (gather's and shield's outer future, wait_for's waiter). */
static int link_held(struct link_ctx *c, const uint64_t *objs, size_t n, bool cells)
{
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		uint64_t v = objs[i];

		if (cells && remote_read_ptr(&c->p->mem, v + (uint64_t)c->p->L.cell_ref, &v))
			continue;
		if (v && v != c->x->addr)
			err = link_waiters_of(c->ix, v, c->x);
	}
	return err;
}

static int link_tuple(struct link_ctx *c, uint64_t tuple, bool cells)
{
	uint64_t *items;
	size_t n;
	int err;

	if (!tuple || tuple == c->p->types.none || py_seq_items(c->p, tuple, &items, &n))
		return 0;
	err = link_held(c, items, n, cells);
	free(items);
	return err;
}

static int link_callback(struct link_ctx *c, uint64_t cb)
{
	struct py_proc *p = c->p;
	uint64_t type = py_type_of(p, cb), held;
	char name[32];

	if (!type)
		return 0;
	if (type == p->types.cfunction)
		return link_cfunction(c, cb);
	if (type == p->types.method)
		return link_method(c, cb);
	if (type == p->types.function) {
		if (remote_read_ptr(&p->mem, cb + (uint64_t)p->L.func_closure, &held))
			return 0;
		return link_tuple(c, held, true);
	}
	if (!py_type_name(p, cb, name, sizeof(name)) && !strcmp(name, "functools.partial")) {
		if (remote_read_ptr(&p->mem, cb + (uint64_t)p->L.partial_args, &held))
			return 0;
		return link_tuple(c, held, false);
	}
	return 0;
}

/* fut_callbacks is a list of (callback, context) tuples. */
static int link_callback_list(struct link_ctx *c, uint64_t list)
{
	uint64_t *entries;
	size_t n;
	int err = 0;

	if (!list || list == c->p->types.none || py_seq_items(c->p, list, &entries, &n))
		return 0;
	for (size_t i = 0; !err && i < n && i < MAX_CALLBACKS; i++) {
		uint64_t *pair;
		size_t m;

		if (py_seq_items(c->p, entries[i], &pair, &m))
			continue;
		if (m >= 1)
			err = link_callback(c, pair[0]);
		free(pair);
	}
	free(entries);
	return err;
}

int aio_link_awaiters(struct py_proc *p, struct aio_snapshot *snap)
{
	struct waiter_index ix = { 0 };
	int err = index_build(snap, &ix);

	for (size_t i = 0; !err && i < snap->n; i++) {
		struct link_ctx c = { p, snap, &ix, &snap->tasks[i] };

		err = link_waiters_of(&ix, c.x->addr, c.x);  /* waits on x itself */
		if (!err && c.x->callback0 && c.x->callback0 != p->types.none)
			err = link_callback(&c, c.x->callback0);
		if (!err)
			err = link_callback_list(&c, c.x->callbacks);
	}
	free(ix.v);
	return err;
}
