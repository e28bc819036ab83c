/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "task_diff.h"
#include "task_output.h"

/* What history needs of a task once it is gone, and no more: at 100,000
 * tasks a JSON object per task weighed more than the snapshot itself. The
 * strings are the reader's interned ones (they live as long as it does,
 * and the diff is made anew with each reader); the frames are copied. */
struct seen {
	uint64_t addr;
	const char *name, *coro;
	double first_seen, last_seen;
	struct py_frame location;   /* func NULL: the task had no frame */
	struct py_stack stack;
	bool has_stack;             /* that snapshot kept stacks */
};

struct task_diff {
	pid_t pid;
	struct seen *v;      /* sorted by addr, like the snapshot's tasks */
	size_t n;
	uint64_t max_default_name;  /* highest N of a "Task-N" seen */
	uint64_t missed, ended;
	double interval_s;   /* of the snapshot being compared */
};

struct task_diff *task_diff_new(pid_t pid)
{
	struct task_diff *d = calloc(1, sizeof(*d));

	if (d)
		d->pid = pid;
	return d;
}

static void seen_done(struct seen *s)
{
	py_stack_free(&s->stack);
}

void task_diff_free(struct task_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		seen_done(&d->v[i]);
	free(d->v);
	free(d);
}

static json_t *location_json(const struct py_frame *f)
{
	if (!f->func)
		return json_null();
	return json_pack("{s:o, s:o, s:i}", "func", json_text(f->func), "file", json_text(f->file),
			 "line", f->line);
}

static int seen_init(struct seen *s, const struct aio_task *t, double now, bool stacks)
{
	s->addr = t->addr;
	s->name = t->name ? t->name : "";
	s->coro = t->coro_name ? t->coro_name : "";
	s->first_seen = s->last_seen = now;
	if (t->stack.depth)
		s->location = t->stack.frames[0];
	s->has_stack = stacks;
	return stacks ? py_stack_copy(&s->stack, &t->stack) : 0;
}

/* The same task, not a new one at a reused address. */
static bool same_task(const struct seen *s, const struct aio_task *t)
{
	return s->addr == t->addr && !strcmp(s->name, t->name ? t->name : "") &&
	       !strcmp(s->coro, t->coro_name ? t->coro_name : "");
}

/* How s ended, as far as snap (the first snapshot without it pending)
 * tells: done there under the same name, or "unknown" (it vanished while
 * pending: freed, or done and let go between two snapshots). */
static void how_ended(const struct seen *s, const struct aio_snapshot *snap, char *buf, size_t len)
{
	const struct aio_done *e = aio_snapshot_find_done(snap, s->addr);

	if (!e || strcmp(s->name, e->name) || (e->coro_name && strcmp(s->coro, e->coro_name)))
		snprintf(buf, len, "unknown");
	else if (e->state == AIO_CANCELLED)
		snprintf(buf, len, "cancelled");
	else if (e->raised)
		snprintf(buf, len, "raised %s", e->raised);
	else
		snprintf(buf, len, "finished");
}

static json_t *ended_json(const struct task_diff *d, const struct seen *s,
			  const struct aio_snapshot *snap, double now)
{
	char id[32], how[160];
	json_t *o;

	task_id(s->addr, id, sizeof(id));
	how_ended(s, snap, how, sizeof(how));
	o = json_pack("{s:s, s:i, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "event", "task_done",
		      "pid", d->pid, "ts", json_round(now, 6), "id", id, "name", json_text(s->name),
		      "coro", json_text(s->coro), "first_seen", json_round(s->first_seen, 3),
		      "last_seen", json_round(s->last_seen, 3), "location", location_json(&s->location),
		      "ended", json_text(how));
	if (o && s->has_stack)
		json_object_set_new(o, "stack", py_stack_json(&s->stack));
	return o;
}

/* N of asyncio's default name "Task-N", 0 for any other name. */
static uint64_t default_name_number(const char *name)
{
	char *end;
	unsigned long long n;

	if (!name || strncmp(name, "Task-", 5) || name[5] < '1' || name[5] > '9')
		return 0;
	n = strtoull(name + 5, &end, 10);
	return *end ? 0 : n;
}

/* Names Task-(old max+1)..new max that no snapshot saw lived in between. */
static void count_missed(struct task_diff *d, const struct aio_snapshot *snap)
{
	uint64_t max = d->max_default_name, newly_seen = 0;

	for (size_t i = 0; i < snap->n; i++) {
		uint64_t k = default_name_number(snap->tasks[i].name);

		if (k > d->max_default_name)
			newly_seen++;
		if (k > max)
			max = k;
	}
	/* the first snapshot has no "before" */
	if (d->max_default_name && max - d->max_default_name > newly_seen)
		d->missed += max - d->max_default_name - newly_seen;
	d->max_default_name = max;
}

static void end_task(struct task_diff *d, const struct seen *s, const struct aio_snapshot *snap,
		     double now, json_t *ended)
{
	json_t *ev = ended_json(d, s, snap, now);

	json_object_set_new(ev, "snapshot_interval_s", json_round(d->interval_s, 3));
	json_array_append_new(ended, ev);
	d->ended++;
}

int task_diff_update(struct task_diff *d, const struct aio_snapshot *snap, double now,
		     double interval_s, json_t *ended)
{
	bool stacks = snap->n <= TASK_DIFF_STACKS_MAX;
	struct seen *next = calloc(snap->n ? snap->n : 1, sizeof(*next));
	size_t j = 0;
	int err = 0;

	if (!next)
		return -ENOMEM;
	d->interval_s = interval_s;
	for (size_t i = 0; i < snap->n; i++) {
		const struct aio_task *t = &snap->tasks[i];

		while (j < d->n && d->v[j].addr < t->addr)
			end_task(d, &d->v[j++], snap, now, ended);
		if (seen_init(&next[i], t, now, stacks))
			err = -ENOMEM;
		if (j < d->n && d->v[j].addr == t->addr) {
			if (same_task(&d->v[j], t))
				next[i].first_seen = d->v[j].first_seen;
			else
				end_task(d, &d->v[j], snap, now, ended);
			j++;
		}
	}
	while (j < d->n)
		end_task(d, &d->v[j++], snap, now, ended);
	count_missed(d, snap);
	for (size_t i = 0; i < d->n; i++)
		seen_done(&d->v[i]);
	free(d->v);
	d->v = next;
	d->n = snap->n;
	return err;
}

uint64_t task_diff_missed(const struct task_diff *d)
{
	return d->missed;
}

uint64_t task_diff_ended(const struct task_diff *d)
{
	return d->ended;
}
