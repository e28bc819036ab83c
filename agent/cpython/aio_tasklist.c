/* SPDX-License-Identifier: GPL-2.0-only */
/* 3.14+: where asyncio's tasks are. _asyncio links every _asyncio.Task
 * into an intrusive doubly linked list (struct llist_node task_node): the
 * list of the thread that created it, or its interpreter's once that
 * thread has ended. Tasks of other classes are in the module state's
 * non_asyncio_tasks WeakSet (eager ones in a set beside it).
 *
 * The lists are walked in target memory that keeps changing: every step
 * checks that the node it reached points back at the node it came from
 * (in a list whose back links hold, no node is reached twice: this is the
 * cycle check), and the walk stops after AIO_MAX_TASKS nodes. */
#include <errno.h>
#include <stdlib.h>
#include "aio.h"
#include "containers.h"
#include "errors.h"
#include "modules.h"

#define AIO_MAX_TASKS (1u << 22)
#define MAX_INTERPS 64

struct llist_node {
	uint64_t next, prev;
};

/* One list from its head; a torn list keeps what was read before the tear
 * and counts it in *torn. */
static int walk_list(struct py_proc *p, uint64_t head, aio_task_fn fn, void *ctx, size_t *walked,
		     int *torn)
{
	uint64_t from = head, at;
	struct llist_node n;
	int err = remote_read(&p->mem, head, &n, sizeof(n));

	if (err)
		return err;
	if (!n.next) /* a thread state that never ran asyncio */
		return 0;
	for (at = n.next; at != head; from = at, at = n.next) {
		if (++*walked > AIO_MAX_TASKS || (at & 7) || at < (uint64_t)p->A.task_node) {
			(*torn)++;
			return 0;
		}
		err = remote_read(&p->mem, at, &n, sizeof(n));
		if (err == -ESRCH)
			return err;
		if (err || n.prev != from) {
			(*torn)++; /* unlinked (or freed) under the reader */
			return 0;
		}
		err = fn(p, at - (uint64_t)p->A.task_node, ctx);
		if (err)
			return err;
	}
	return 0;
}

static bool seen(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* The lists of every thread state, then of every interpreter. */
static int walk_lists(struct py_proc *p, aio_task_fn fn, void *ctx, int *torn)
{
	struct py_thread *threads;
	uint64_t interps[MAX_INTERPS];
	size_t n, ninterps = 0, walked = 0;
	int err = py_proc_thread_list(p, &threads, &n);

	for (size_t i = 0; !err && i < n; i++) {
		err = walk_list(p, threads[i].tstate + (uint64_t)p->L.ts_asyncio_tasks_head, fn, ctx,
				&walked, torn);
		if (ninterps < MAX_INTERPS && !seen(interps, ninterps, threads[i].interp))
			interps[ninterps++] = threads[i].interp;
	}
	for (size_t i = 0; !err && i < ninterps; i++)
		err = walk_list(p, interps[i] + (uint64_t)p->L.is_asyncio_tasks_head, fn, ctx,
				&walked, torn);
	free(threads);
	return err;
}

struct weak_ctx {
	aio_task_fn fn;
	void *ctx;
};

static int weak_item(struct py_proc *p, uint64_t ref, void *ctx)
{
	struct weak_ctx *w = ctx;
	uint64_t obj;

	if (!py_weakref_get(p, ref, &obj) && obj)
		return w->fn(p, obj, w->ctx);
	return 0;
}

static int plain_item(struct py_proc *p, uint64_t obj, void *ctx)
{
	struct weak_ctx *w = ctx;

	return w->fn(p, obj, w->ctx);
}

/* Tasks of other classes: the WeakSet keeps weak references in .data. */
static int walk_non_asyncio(struct py_proc *p, aio_task_fn fn, void *ctx)
{
	struct weak_ctx w = { fn, ctx };
	uint64_t module, state, weakset, data, eager;
	int err = py_module_object(p, "_asyncio", &module);

	if (!err)
		err = remote_read_ptr(&p->mem, module + (uint64_t)p->L.mod_state, &state);
	if (!err && !state)
		err = -LS_EBADDATA;
	if (!err)
		err = remote_read_ptr(&p->mem, state + (uint64_t)p->A.state_non_asyncio_tasks, &weakset);
	if (!err)
		err = py_getattr_str(p, weakset, "data", &data);
	if (!err)
		err = py_set_items(p, data, weak_item, &w);
	if (!err && !remote_read_ptr(&p->mem, state + (uint64_t)p->A.state_non_asyncio_eager_tasks,
				     &eager) && py_type_of(p, eager) == p->types.set)
		err = py_set_items(p, eager, plain_item, &w);
	return err;
}

int aio_tasklist_walk(struct py_proc *p, aio_task_fn fn, void *ctx, int *torn)
{
	int err;

	*torn = 0;
	if (p->L.ts_asyncio_tasks_head < 0 || p->A.task_node < 0)
		return -LS_EUNSUPPORTED;
	err = walk_lists(p, fn, ctx, torn);
	if (!err)
		err = walk_non_asyncio(p, fn, ctx);
	return err == -LS_ENOTFOUND ? -LS_ENOLOOP : err;
}
