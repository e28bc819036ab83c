/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aio.h"
#include "containers.h"
#include "modules.h"
#include "proc.h"
#include "thread_view.h"


struct name_ctx {
	struct thread_view *views;
	size_t n;
};

/* threading._active maps get_ident() to the Thread, whose _name we want. */
static int name_one(struct py_proc *p, uint64_t key, uint64_t thread, void *ctx)
{
	struct name_ctx *c = ctx;
	uint64_t name_obj;
	int64_t ident;

	if (py_read_long(p, key, &ident) || py_getattr_str(p, thread, "_name", &name_obj))
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->views[i].pthread_id == (uint64_t)ident)
			py_read_str(p, name_obj, c->views[i].name, sizeof(c->views[i].name));
	return 0;
}

static void read_threading_names(struct py_proc *p, struct thread_view *views, size_t n)
{
	struct name_ctx c = { views, n };
	uint64_t active;

	if (!py_module_attr(p, "threading", "_active", &active))
		py_dict_items(p, active, name_one, &c);
}

static void fill_view(struct py_proc *p, const struct py_thread *t, uint64_t gil_holder,
		      size_t max_depth, struct thread_view *v)
{
	v->tid = t->tid;
	v->tstate = t->tstate;
	v->pthread_id = t->pthread_id;
	v->gil = gil_holder && gil_holder == t->tstate;
	proc_thread_name(p->pid, t->tid, v->os_name, sizeof(v->os_name));
	snprintf(v->name, sizeof(v->name), "%s", v->os_name);
	if (py_proc_stack(p, t->tstate, &v->stack, max_depth))
		v->stack.partial = true;
	v->has_task = aio_task_on_stack(p, t->tstate, &v->stack, &v->task) == 0;
}

int thread_views_read(struct py_proc *p, size_t max_depth, struct thread_view **out, size_t *n)
{
	struct py_thread *threads = NULL;
	struct thread_view *views = NULL;
	uint64_t gil = 0;
	size_t count = 0, kept = 0;
	int err;

	err = remote_snapshot_begin(&p->mem);
	if (err)
		return err;
	err = py_proc_thread_list(p, &threads, &count);
	if (!err && count)
		py_proc_gil_holder(p, threads[0].interp, &gil);
	if (!err) {
		views = calloc(count ? count : 1, sizeof(*views));
		if (!views)
			err = -ENOMEM;
	}
	for (size_t i = 0; !err && i < count; i++) {
		fill_view(p, &threads[i], gil, max_depth, &views[kept]);
		/* a thread that ended, its state not yet unlinked: not listed */
		if (!views[kept].stack.depth && !proc_has_thread(p->pid, views[kept].tid))
			py_stack_free(&views[kept].stack);
		else
			kept++;
	}
	count = kept;
	free(threads);
	if (!err)
		read_threading_names(p, views, count);
	remote_snapshot_end(&p->mem);
	if (err) {
		free(views);
		return err;
	}
	if (!proc_alive(p->pid)) {
		thread_views_free(views, count);
		return -ESRCH;
	}
	*out = views;
	*n = count;
	return 0;
}

void thread_views_free(struct thread_view *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		py_stack_free(&v[i].stack);
	free(v);
}

/* uvicorn+uvloop has 5 such threads, and nothing else would say they
 * exist. */
size_t thread_views_others(pid_t pid, const struct thread_view *v, size_t n, pid_t **out)
{
	pid_t *tids = NULL;
	size_t count = 0, kept = 0;

	*out = NULL;
	if (proc_threads(pid, &tids, &count))
		return 0;
	for (size_t i = 0; i < count; i++) {
		bool python = false;

		for (size_t k = 0; !python && k < n; k++)
			python = v[k].tid == tids[i];
		if (!python)
			tids[kept++] = tids[i];
	}
	*out = tids;
	return kept;
}
