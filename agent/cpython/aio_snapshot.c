/* SPDX-License-Identifier: GPL-2.0-only */
/* A snapshot of every pending asyncio task of every running loop: the
 * same set asyncio.all_tasks(loop) returns, for all loops at once.
 *
 * Running loops are found per thread: on 3.10-3.13 the thread state's dict
 * holds __asyncio_running_event_loop__ (set by asyncio and by uvloop
 * alike); on 3.14+ the thread state itself has asyncio_running_loop and
 * asyncio_running_task, at the offsets _asyncio's AsyncioDebug section
 * publishes. Tasks come from asyncio's registry: the _all_tasks WeakSet on
 * 3.10-3.11, the _scheduled_tasks WeakSet and the _eager_tasks set on
 * 3.12-3.13; on 3.14+ _asyncio's intrusive task lists, one per thread plus
 * one per interpreter for tasks of threads that ended, and for tasks of
 * other classes the module state's non_asyncio_tasks WeakSet (walked,
 * bounded and checked link by link, in aio_tasklist.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aio.h"
#include "containers.h"
#include "errors.h"
#include "intern.h"
#include "modules.h"

#define MAX_LOOPS 256
#define TASK_COPY 512

struct addr_list {
	uint64_t *v;
	size_t n, cap;
};

static int addr_push(struct addr_list *l, uint64_t a)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		uint64_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = a;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int read_loops(struct py_proc *p, struct aio_snapshot *snap)
{
	struct py_thread *threads = NULL;
	struct aio_running running[MAX_LOOPS];
	size_t n = 0, nrunning = 0;
	int err;

	snap->loops = calloc(MAX_LOOPS, sizeof(*snap->loops));
	err = snap->loops ? py_proc_thread_list(p, &threads, &n) : -ENOMEM;
	for (size_t i = 0; !err && i < n && snap->nloops < MAX_LOOPS; i++) {
		struct aio_loop *l = &snap->loops[snap->nloops];

		l->addr = aio_running_loop(p, threads[i].tstate);
		if (!l->addr)
			continue;
		l->tid = threads[i].tid;
		if (py_type_name(p, l->addr, l->type_name, sizeof(l->type_name)))
			strcpy(l->type_name, "?");
		l->uvloop = aio_is_uvloop(p, l->addr);
		snap->nloops++;
	}
	free(threads);
	if (err)
		return err;
	if (!snap->nloops)
		return -LS_ENOLOOP;
	if (!aio_current_tasks(p, running, MAX_LOOPS, &nrunning))
		for (size_t i = 0; i < nrunning; i++)
			for (size_t j = 0; j < snap->nloops; j++)
				if (snap->loops[j].addr == running[i].loop)
					snap->loops[j].running_task = running[i].task;
	return 0;
}

static int add_weak_item(struct py_proc *p, uint64_t ref, void *ctx)
{
	uint64_t obj;

	if (!py_weakref_get(p, ref, &obj) && obj)
		return addr_push(ctx, obj);
	return 0;
}

static int add_item(struct py_proc *p, uint64_t obj, void *ctx)
{
	return addr_push(ctx, obj);
}

static int push_task(struct py_proc *p, uint64_t task, void *ctx)
{
	return addr_push(ctx, task);
}

/* The registry of tasks; the WeakSet keeps weak references in .data.
 * 3.14+: _asyncio's task lists. */
static int collect_task_addrs(struct py_proc *p, struct aio_snapshot *snap, struct addr_list *out)
{
	uint64_t weakset, data, eager;
	int err, torn;

	if (p->minor >= 14) {
		err = aio_tasklist_walk(p, push_task, out, &torn);
		snap->partial += torn;
		return err;
	}
	err = py_module_attr(p, "asyncio.tasks", p->minor >= 12 ? "_scheduled_tasks" : "_all_tasks",
			     &weakset);
	if (!err)
		err = py_getattr_str(p, weakset, "data", &data);
	if (!err)
		err = py_set_items(p, data, add_weak_item, out);
	if (!err && p->minor >= 12 &&
	    !py_module_attr(p, "asyncio.tasks", "_eager_tasks", &eager))
		err = py_set_items(p, eager, add_item, out);
	if (err == -LS_ENOTFOUND)
		err = -LS_ENOLOOP;
	return err;
}

static int resolve_types(struct py_proc *p, struct aio_snapshot *snap)
{
	int err = py_module_attr(p, "_asyncio", "Task", &snap->task_type);

	if (!err)
		err = py_module_attr(p, "_asyncio", "Future", &snap->future_type);
	return err == -LS_ENOTFOUND ? -LS_ENOLOOP : err;
}

bool aio_is_future(struct py_proc *p, const struct aio_snapshot *snap, uint64_t obj)
{
	return obj && py_type_is_subtype(p, py_type_of(p, obj), snap->future_type);
}

bool aio_is_task(struct py_proc *p, const struct aio_snapshot *snap, uint64_t obj)
{
	return obj && py_type_is_subtype(p, py_type_of(p, obj), snap->task_type);
}

static const struct aio_loop *loop_of(const struct aio_snapshot *snap, uint64_t loop)
{
	for (size_t i = 0; i < snap->nloops; i++)
		if (snap->loops[i].addr == loop)
			return &snap->loops[i];
	return NULL;
}

/* How a done task ended; its name and coroutine, to tell it from a task
 * that was freed and left its address to another one. */
static int read_done(struct py_proc *p, uint64_t addr, const char *buf, size_t size,
		     struct aio_done *d)
{
	const struct cpy_aio_layout *A = &p->A;
	uint64_t exc = field_ptr(buf, size, A->fut_exception);
	struct py_task_ref ref;
	char type[128];
	int err = aio_task_ref(p, addr, &ref);

	if (err)
		return err;
	memset(d, 0, sizeof(*d));
	d->addr = addr;
	d->state = field_i32(buf, size, A->fut_state) == A->fut_cancelled ? AIO_CANCELLED : AIO_DONE;
	d->name = intern_str(p->names, ref.name);
	/* a finished task lets its coroutine go: "?" then, never compared */
	d->coro_name = strcmp(ref.coro, "?") ? intern_str(p->names, ref.coro) : NULL;
	if (d->state == AIO_DONE && exc && exc != p->types.none &&
	    !py_type_name(p, exc, type, sizeof(type)))
		d->raised = intern_str(p->names, type);
	return 0;
}

/* Fills t from the Task object; 1 when the task is not to be listed (of
 * a loop that is not running), 2 when it is done (then *d says how), <0
 * when it could not be read. */
static int read_task(struct py_proc *p, struct aio_snapshot *snap, uint64_t addr, struct aio_task *t,
		     struct aio_done *d)
{
	const struct cpy_aio_layout *A = &p->A;
	char buf[TASK_COPY];
	size_t size = (size_t)A->task_size;
	const struct aio_loop *loop;
	struct py_task_ref ref;
	int err;

	if (size > sizeof(buf))
		return -LS_EBADDATA;
	err = remote_read(&p->mem, addr, buf, size);
	if (err)
		return err;
	if (!py_type_is_subtype(p, field_ptr(buf, size, p->L.ob_type), snap->task_type))
		return -LS_ECHANGED;
	loop = loop_of(snap, field_ptr(buf, size, A->fut_loop));
	if (!loop)
		return 1;
	if (field_i32(buf, size, A->fut_state) != A->fut_pending) {
		err = read_done(p, addr, buf, size, d);
		return err ? err : 2;
	}
	memset(t, 0, sizeof(*t));
	t->awaiting = "";
	t->addr = addr;
	t->loop = loop->addr;
	t->loop_tid = loop->tid;
	t->state = loop->running_task == addr ? AIO_RUNNING : AIO_PENDING;
	t->coro = field_ptr(buf, size, A->task_coro);
	t->fut_waiter = field_ptr(buf, size, A->task_fut_waiter);
	t->callback0 = field_ptr(buf, size, A->fut_callback0);
	t->callbacks = field_ptr(buf, size, A->fut_callbacks);
	if (t->fut_waiter == p->types.none)
		t->fut_waiter = 0;
	err = aio_task_ref(p, addr, &ref);
	if (err)
		return err;
	t->name = intern_str(p->names, ref.name);
	t->coro_name = intern_str(p->names, ref.coro);
	return 0;
}

static int read_tasks(struct py_proc *p, struct aio_snapshot *snap, const struct addr_list *addrs)
{
	snap->tasks = calloc(addrs->n ? addrs->n : 1, sizeof(*snap->tasks));
	snap->done = calloc(addrs->n ? addrs->n : 1, sizeof(*snap->done));
	if (!snap->tasks || !snap->done)
		return -ENOMEM;
	for (size_t i = 0; i < addrs->n; i++) {
		struct aio_task *t = &snap->tasks[snap->n];
		int ret;

		if (i && addrs->v[i] == addrs->v[i - 1])
			continue;
		ret = read_task(p, snap, addrs->v[i], t, &snap->done[snap->ndone]);
		if (ret == -ESRCH || ret == -ENOMEM)
			return ret;
		if (ret < 0)
			snap->partial++;
		snap->ndone += ret == 2;
		if (ret)
			continue;
		snap->n++;
		if (aio_read_chain(p, snap, t))
			t->partial = true;
	}
	return 0;
}

int aio_snapshot_read(struct py_proc *p, struct aio_snapshot *snap)
{
	struct addr_list addrs = { 0 };
	int err;

	memset(snap, 0, sizeof(*snap));
	intern_next_generation(p->names, AIO_NAMES_KEEP);
	err = aio_offsets_ready(p);
	if (!err)
		err = remote_snapshot_begin(&p->mem);
	if (err)
		return err;
	err = resolve_types(p, snap);
	if (!err)
		err = read_loops(p, snap);
	if (!err)
		err = collect_task_addrs(p, snap, &addrs);
	if (!err) {
		qsort(addrs.v, addrs.n, sizeof(*addrs.v), cmp_u64);
		err = read_tasks(p, snap, &addrs);
	}
	if (!err)
		err = aio_link_awaiters(p, snap);
	free(addrs.v);
	remote_snapshot_end(&p->mem);
	for (size_t i = 0; i < snap->n; i++)
		snap->partial += snap->tasks[i].partial;
	if (err)
		aio_snapshot_free(snap);
	return err;
}

/* tasks and done both start with their address: one search for both */
struct aio_task *aio_snapshot_find(const struct aio_snapshot *snap, uint64_t addr)
{
	return bsearch(&addr, snap->tasks, snap->n, sizeof(*snap->tasks), cmp_u64);
}

const struct aio_done *aio_snapshot_find_done(const struct aio_snapshot *snap, uint64_t addr)
{
	return bsearch(&addr, snap->done, snap->ndone, sizeof(*snap->done), cmp_u64);
}

int aio_add_awaiter(struct aio_task *t, uint64_t awaiter)
{
	if (awaiter == t->addr)
		return 0;
	for (size_t i = 0; i < t->n_awaited_by; i++)
		if (t->awaited_by[i] == awaiter)
			return 0;
	if (t->n_awaited_by == t->cap_awaited_by) {
		size_t cap = t->cap_awaited_by ? t->cap_awaited_by * 2 : 4;
		uint64_t *v = realloc(t->awaited_by, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->awaited_by = v;
		t->cap_awaited_by = cap;
	}
	t->awaited_by[t->n_awaited_by++] = awaiter;
	return 0;
}

void aio_snapshot_free(struct aio_snapshot *snap)
{
	for (size_t i = 0; snap->tasks && i < snap->n; i++) {
		py_stack_free(&snap->tasks[i].stack);
		free(snap->tasks[i].awaited_by);
	}
	free(snap->tasks);
	free(snap->done);
	free(snap->loops);
	memset(snap, 0, sizeof(*snap));
}
