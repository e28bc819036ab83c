/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdio.h>
#include <string.h>
#include "output.h"
#include "task_output.h"

const char *task_state_name(int state)
{
	static const char *const names[] = { "pending", "running", "done", "cancelled" };

	return state >= 0 && state <= AIO_CANCELLED ? names[state] : "?";
}

void task_id(uint64_t addr, char *buf, size_t len)
{
	snprintf(buf, len, "0x%llx", (unsigned long long)addr);
}

/* 0: the user's own code; 1: an installed package; 2: the standard
 * library (asyncio's sleep, Queue.get: what AWAITING already says). */
static int library_rank(const char *file)
{
	if (!file || !strncmp(file, "<frozen", 7))
		return 2;
	if (strstr(file, "/site-packages/") || strstr(file, "/dist-packages/"))
		return 1;
	return strstr(file, "/lib/python3") ? 2 : 0;
}

const struct py_frame *task_user_frame(const struct aio_task *t)
{
	const struct py_frame *best = t->stack.depth ? &t->stack.frames[0] : NULL;
	int rank = best ? library_rank(best->file) : 0;

	for (size_t i = 1; rank && i < t->stack.depth; i++) {
		int r = library_rank(t->stack.frames[i].file);

		if (r < rank) {
			best = &t->stack.frames[i];
			rank = r;
		}
	}
	return best;
}

void task_location(const struct aio_task *t, char *buf, size_t len)
{
	const struct py_frame *f = task_user_frame(t);

	if (f)
		snprintf(buf, len, "%s:%d", f->file, f->line);
	else
		snprintf(buf, len, "-");
}

json_t *task_json(const struct aio_task *t)
{
	json_t *by = json_array();
	char id[32];

	for (size_t i = 0; i < t->n_awaited_by; i++) {
		task_id(t->awaited_by[i], id, sizeof(id));
		json_array_append_new(by, json_string(id));
	}
	task_id(t->addr, id, sizeof(id));
	return json_pack("{s:s, s:o, s:s, s:o, s:o, s:b, s:o, s:o, s:i}", "id", id,
			 "name", json_text(t->name), "state", task_state_name(t->state),
			 "coro", json_text(t->coro_name), "stack", py_stack_json(&t->stack),
			 "truncated", t->stack.truncated,
			 "awaiting", t->awaiting[0] ? json_text(t->awaiting) : json_null(),
			 "awaited_by", by, "loop_tid", t->loop_tid);
}

json_t *loops_json(const struct aio_snapshot *snap)
{
	json_t *arr = json_array();
	char id[32];

	for (size_t i = 0; i < snap->nloops; i++) {
		const struct aio_loop *l = &snap->loops[i];

		task_id(l->running_task, id, sizeof(id));
		json_array_append_new(arr, json_pack("{s:i, s:s, s:o}", "tid", l->tid,
			"type", l->uvloop ? "uvloop" : "asyncio",
			"running_task", l->running_task ? json_string(id) : json_null()));
	}
	return arr;
}

json_t *snapshot_header_json(const struct py_proc *p, const struct aio_snapshot *snap)
{
	return json_pack("{s:i, s:s, s:o, s:i}", "pid", p->pid, "python", p->version,
			 "loops", loops_json(snap), "partial", snap->partial);
}
