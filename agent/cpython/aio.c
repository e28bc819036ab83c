/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "aio.h"
#include "containers.h"
#include "debug_offsets.h"
#include "errors.h"
#include "modules.h"

#define MAX_RUNNING_LOOPS 256

/* The _current_tasks dict is created once at import: find it once, check it
 * is still a dict on every use, and do not look again for a second when
 * asyncio is not imported yet. */
static int current_tasks_dict(struct py_proc *p, uint64_t *dict)
{
	double now = clock_mono_s();
	int err;

	if (p->aio_current_tasks && py_type_of(p, p->aio_current_tasks) == p->types.dict) {
		*dict = p->aio_current_tasks;
		return 0;
	}
	if (now < p->aio_next_lookup)
		return -LS_ENOLOOP;
	err = py_module_attr(p, "asyncio.tasks", "_current_tasks", dict);
	if (err) {
		p->aio_next_lookup = now + 1.0;
		return err == -ESRCH ? err : -LS_ENOLOOP;
	}
	p->aio_current_tasks = *dict;
	return 0;
}

struct running_ctx {
	struct aio_running *out;
	size_t max, n;
};

static int add_running(struct py_proc *p, uint64_t loop, uint64_t task, void *ctx)
{
	struct running_ctx *c = ctx;

	if (c->n < c->max)
		c->out[c->n++] = (struct aio_running){ loop, task };
	return 0;
}

int aio_offsets_ready(struct py_proc *p)
{
	double now;
	int err;

	if (p->minor < 14 || p->asyncio_offsets)
		return 0;
	now = clock_mono_s();
	if (now < p->asyncio_next_lookup)
		return -LS_ENOLOOP;
	err = debug_offsets_asyncio(p);
	if (err == -LS_ENOTFOUND) { /* _asyncio not imported yet */
		p->asyncio_next_lookup = now + 1.0;
		return -LS_ENOLOOP;
	}
	p->asyncio_offsets = !err;
	return err;
}

/* 3.14+: each thread state says which task its loop runs. */
static int running_from_threads(struct py_proc *p, struct running_ctx *c)
{
	struct py_thread *threads;
	size_t n;
	int err = py_proc_thread_list(p, &threads, &n);

	for (size_t i = 0; !err && i < n; i++) {
		uint64_t loop, task;

		if (remote_read_ptr(&p->mem, threads[i].tstate + (uint64_t)p->L.ts_asyncio_running_loop, &loop) ||
		    remote_read_ptr(&p->mem, threads[i].tstate + (uint64_t)p->L.ts_asyncio_running_task, &task))
			continue;
		if (loop && loop != p->types.none && task && task != p->types.none)
			add_running(p, loop, task, c);
	}
	free(threads);
	return err;
}

int aio_current_tasks(struct py_proc *p, struct aio_running *out, size_t max, size_t *n)
{
	struct running_ctx c = { out, max, 0 };
	uint64_t dict;
	int err = aio_offsets_ready(p);

	*n = 0;
	if (!err && p->L.ts_asyncio_running_task >= 0) {
		err = running_from_threads(p, &c);
		*n = c.n;
		return err;
	}
	if (!err)
		err = current_tasks_dict(p, &dict);
	if (err)
		return err;
	err = py_dict_items(p, dict, add_running, &c);
	*n = c.n;
	return err;
}

uint64_t aio_coro_frame(struct py_proc *p, uint64_t coro)
{
	uint64_t frame = 0;

	if (p->L.gen_iframe >= 0)
		return coro + (uint64_t)p->L.gen_iframe;
	remote_read_ptr(&p->mem, coro + (uint64_t)p->L.gen_frame, &frame);
	return frame;
}

int aio_coro_name(struct py_proc *p, uint64_t coro, char *buf, size_t len)
{
	uint64_t type = py_type_of(p, coro), qualname;

	if (type && (type == p->types.coro || type == p->types.gen) &&
	    !remote_read_ptr(&p->mem, coro + (uint64_t)p->L.gen_qualname, &qualname) &&
	    !py_read_str(p, qualname, buf, len))
		return 0;
	return py_type_name(p, coro, buf, len);
}

/* Task names are str; 3.12+ keeps an int until someone asks for the name. */
static void task_name(struct py_proc *p, uint64_t obj, char *buf, size_t len)
{
	int64_t counter;

	if (!py_read_str(p, obj, buf, len))
		return;
	if (!py_read_long(p, obj, &counter))
		snprintf(buf, len, "Task-%lld", (long long)counter);
	else
		snprintf(buf, len, "?");
}

int aio_task_ref(struct py_proc *p, uint64_t task, struct py_task_ref *out)
{
	const struct cpy_aio_layout *A = &p->A;
	uint64_t name, coro;
	int err;

	memset(out, 0, sizeof(*out));
	out->addr = task;
	if (!A)
		return -LS_EUNSUPPORTED;
	err = remote_read_ptr(&p->mem, task + (uint64_t)A->task_name, &name);
	if (!err)
		err = remote_read_ptr(&p->mem, task + (uint64_t)A->task_coro, &coro);
	if (err)
		return err;
	task_name(p, name, out->name, sizeof(out->name));
	if (aio_coro_name(p, coro, out->coro, sizeof(out->coro)))
		snprintf(out->coro, sizeof(out->coro), "?");
	return 0;
}

static bool stack_has_frame(const struct py_stack *s, uint64_t frame)
{
	for (size_t i = 0; frame && i < s->depth; i++)
		if (s->frames[i].addr == frame)
			return true;
	return false;
}

/* The task running loop, when _current_tasks has one. */
static int running_task_of_loop(const struct aio_running *running, size_t n, uint64_t loop,
				uint64_t *task)
{
	for (size_t i = 0; loop && i < n; i++) {
		if (running[i].loop == loop) {
			*task = running[i].task;
			return 0;
		}
	}
	return -LS_ENOTFOUND;
}

int aio_task_on_stack(struct py_proc *p, uint64_t tstate, const struct py_stack *s,
		      struct py_task_ref *out)
{
	const struct cpy_aio_layout *A = &p->A;
	struct aio_running running[MAX_RUNNING_LOOPS];
	uint64_t task;
	size_t n;
	int err;

	if (!A || !s->depth)
		return -LS_ENOTFOUND;
	err = aio_current_tasks(p, running, MAX_RUNNING_LOOPS, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		uint64_t coro;

		if (remote_read_ptr(&p->mem, running[i].task + (uint64_t)A->task_coro, &coro))
			continue;
		if (stack_has_frame(s, aio_coro_frame(p, coro)))
			return aio_task_ref(p, running[i].task, out);
	}
	/* A stack cut before the task's own frame (deep recursion): the task
	 * its thread's loop is running is the one under it. */
	if (s->truncated && !running_task_of_loop(running, n, aio_running_loop(p, tstate), &task))
		return aio_task_ref(p, task, out);
	return -LS_ENOTFOUND;
}

/* The loop a thread is running (*loop = 0: none); an error when the
 * thread state cannot be read, so "no loop" is never a guess. */
int aio_thread_loop(struct py_proc *p, uint64_t tstate, uint64_t *loop)
{
	const struct cpy_aio_layout *A = &p->A;
	uint64_t dict, obj;
	char type[64];
	int err;

	*loop = 0;
	if (p->L.ts_asyncio_running_loop >= 0) { /* 3.13+: a field of the thread state */
		err = remote_read_ptr(&p->mem, tstate + (uint64_t)p->L.ts_asyncio_running_loop, &obj);
		if (!err && obj != p->types.none)
			*loop = obj;
		return err;
	}
	err = remote_read_ptr(&p->mem, tstate + (uint64_t)p->L.ts_dict, &dict);
	if (err || !dict)
		return err;
	err = py_dict_get_str(p, dict, "__asyncio_running_event_loop__", &obj);
	if (err)
		return err == -LS_ENOTFOUND ? 0 : err;
	if (obj == p->types.none)
		return 0;
	if (A->holder_loop < 0) { /* 3.12+: the loop itself */
		*loop = obj;
		return 0;
	}
	/* 3.10/3.11: a _RunningLoopHolder, which holds the loop */
	err = py_type_name(p, obj, type, sizeof(type));
	if (!err && !strstr(type, "RunningLoopHolder"))
		err = -LS_EBADDATA;
	if (!err)
		err = remote_read_ptr(&p->mem, obj + (uint64_t)A->holder_loop, &obj);
	if (!err && obj != p->types.none)
		*loop = obj;
	return err;
}

uint64_t aio_running_loop(struct py_proc *p, uint64_t tstate)
{
	uint64_t loop;

	return aio_thread_loop(p, tstate, &loop) ? 0 : loop;
}

/* uvloop.Loop is a Python subclass of the Cython uvloop.loop.Loop: look
 * at the type and its bases. */
bool aio_is_uvloop(struct py_proc *p, uint64_t loop)
{
	uint64_t chain[PY_MAX_BASES], tp_name;
	size_t n = py_type_chain(p, py_type_of(p, loop), chain, PY_MAX_BASES);
	char name[96];

	for (size_t i = 0; i < n; i++) {
		if (remote_read_ptr(&p->mem, chain[i] + (uint64_t)p->L.tp_name, &tp_name) ||
		    py_read_cstr(p, tp_name, name, sizeof(name)))
			return false;
		if (strstr(name, "uvloop"))
			return true;
	}
	return false;
}
