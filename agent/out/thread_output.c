/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdlib.h>
#include "output.h"
#include "proc.h"
#include "thread_output.h"

static json_t *thread_json(const struct thread_view *v)
{
	json_t *t = json_pack("{s:i, s:o, s:o, s:b, s:o, s:o}", "tid", v->tid,
			      "name", json_text(v->name), "os_name", json_text(v->os_name),
			      "gil", v->gil, "task", py_task_json(v->has_task ? &v->task : NULL),
			      "stack", py_stack_json(&v->stack));

	if (v->stack.partial)
		json_object_set_new(t, "partial", json_true());
	if (v->stack.truncated)
		json_object_set_new(t, "truncated", json_true());
	return t;
}

/* [{"tid","name"}] of the OS threads without Python state. */
static json_t *other_threads_json(pid_t pid, const struct thread_view *v, size_t n)
{
	json_t *arr = json_array();
	char name[32];
	pid_t *tids;
	size_t k = thread_views_others(pid, v, n, &tids);

	for (size_t i = 0; i < k; i++) {
		proc_thread_name(pid, tids[i], name, sizeof(name));
		json_array_append_new(arr, json_pack("{s:i, s:o}", "tid", tids[i], "name", json_text(name)));
	}
	free(tids);
	return arr;
}

json_t *dump_json(const struct py_proc *p, const struct thread_view *v, size_t n)
{
	json_t *threads = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(threads, thread_json(&v[i]));
	return json_pack("{s:i, s:s, s:o, s:o}", "pid", p->pid, "python", p->version,
			 "threads", threads, "other_threads", other_threads_json(p->pid, v, n));
}
