/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "strmap.h"
#include "task_rows.h"
#include "task_snap.h"

#define CHAIN_TARGETS 64

static enum m_state state_of(const char *s)
{
	for (int i = 0; i < M_UNKNOWN; i++)
		if (!strcmp(s, model_state_name((enum m_state)i)))
			return (enum m_state)i;
	return M_UNKNOWN;
}

static void task_init(struct m_task *k, const json_t *o, const struct strmap *old, struct strmap *seen,
		      double now)
{
	const json_t *stack = json_object_get(o, "stack");
	struct strmap_val *was, *v;

	memset(k, 0, sizeof(*k));
	k->id = j_str(o, "id");
	k->name = j_str(o, "name");
	k->state = j_str(o, "state");
	k->coro = j_str(o, "coro");
	k->awaiting = j_str(o, "awaiting");
	k->stack = json_is_array(stack) ? stack : NULL;
	k->top = j_user_frame(stack);
	k->awaited_by = json_object_get(o, "awaited_by");
	k->st = state_of(k->state);
	k->parent = (size_t)-1;
	was = old ? strmap_get(old, k->id) : NULL;
	k->first_seen = was ? was->d : now;
	v = strmap_put(seen, k->id);
	if (v)
		v->d = k->first_seen;
}

/* Children in one array (compressed rows): a task's first awaiter is its
 * parent in the tree, so every task has at most one place in it. */
static int link_tasks(struct task_snap *s)
{
	struct strmap *index = strmap_new_borrowing(s->ntasks);
	size_t n = s->ntasks, *fill = calloc(n ? n : 1, sizeof(size_t));
	struct m_task *t = s->tasks;
	struct strmap_val *v;

	s->kids = calloc(n ? n : 1, sizeof(size_t));
	if (!index || !s->kids || !fill) {
		free(fill);
		strmap_free(index);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((v = strmap_put(index, t[i].id)))
			v->d = (double)i;
	for (size_t i = 0; i < n; i++) {
		const char *by = json_string_value(json_array_get(t[i].awaited_by, 0));

		v = by ? strmap_get(index, by) : NULL;
		if (v && (size_t)v->d != i) {
			t[i].parent = (size_t)v->d;
			t[(size_t)v->d].nkids++;
		}
	}
	for (size_t i = 0, at = 0; i < n; i++) {
		t[i].kid0 = at;
		at += t[i].nkids;
	}
	for (size_t i = 0; i < n; i++)
		if (t[i].parent != (size_t)-1)
			s->kids[t[t[i].parent].kid0 + fill[t[i].parent]++] = i;
	free(fill);
	strmap_free(index);
	return 0;
}

static void snap_free(struct task_snap *s, void (*dispose)(json_t *doc, void *ctx), void *ctx)
{
	free(s->tasks);
	free(s->kids);
	free(s->order);
	strmap_free(s->first_seen);
	if (dispose)
		dispose(s->ps, ctx);
	else
		json_decref(s->ps);
	free(s);
}

struct task_snap *task_snap_build(json_t *body, pid_t pid, const struct task_snap *prev, double now)
{
	const json_t *tasks = json_object_get(body, "tasks");
	size_t n = json_array_size(tasks);
	struct task_snap *s;

	if (!json_is_array(tasks) || !(s = calloc(1, sizeof(*s))))
		return NULL;
	atomic_init(&s->refs, 1);
	s->pid = pid;
	s->ps = json_incref(body);
	s->ntasks = n;
	s->time = now;
	s->tasks = calloc(n ? n : 1, sizeof(*s->tasks));
	/* its keys are the ids of body, which it is freed with */
	s->first_seen = strmap_new_borrowing(n);
	if (!s->tasks || !s->first_seen) {
		snap_free(s, NULL, NULL);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		task_init(&s->tasks[i], json_array_get(tasks, i), prev ? prev->first_seen : NULL,
			  s->first_seen, now);
		s->by_state[s->tasks[i].st]++;
	}
	if (link_tasks(s)) {
		snap_free(s, NULL, NULL);
		return NULL;
	}
	return s;
}

struct task_snap *task_snap_ref(struct task_snap *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void task_snap_unref(struct task_snap *s, void (*dispose)(json_t *doc, void *ctx), void *ctx)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1)
		snap_free(s, dispose, ctx);
}

struct task_snap_chain {
	struct task_snap *last[CHAIN_TARGETS];
	atomic_int want_order;     /* sort * 2 + invert, or -1 */
};

struct task_snap_chain *task_snap_chain_new(void)
{
	struct task_snap_chain *c = calloc(1, sizeof(*c));

	if (c)
		atomic_init(&c->want_order, -1);
	return c;
}

void task_snap_chain_want_order(struct task_snap_chain *c, int sort, bool invert)
{
	atomic_store(&c->want_order, sort < 0 || sort >= TC_COLS ? -1 : sort * 2 + invert);
}

/* Sorted as the view wants it (no memory: the view sorts it itself). */
static void sort_as_wanted(struct task_snap *s, int want)
{
	if (want < 0 || !(s->order = malloc((s->ntasks + 1) * sizeof(*s->order))))
		return;
	s->order_sort = want / 2;
	s->order_invert = want % 2;
	for (size_t i = 0; i < s->ntasks; i++)
		s->order[i] = (uint32_t)i;
	task_order(s->tasks, (enum task_col)s->order_sort, s->order_invert, s->order, s->ntasks);
}

void task_snap_chain_free(struct task_snap_chain *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CHAIN_TARGETS; i++)
		task_snap_unref(c->last[i], NULL, NULL);
	free(c);
}

/* The slot of pid's last snapshot: its own, else a free one, else the
 * oldest built (a target that left). */
static struct task_snap **chain_slot(struct task_snap_chain *c, pid_t pid)
{
	struct task_snap **oldest = &c->last[0];

	for (size_t i = 0; i < CHAIN_TARGETS; i++) {
		struct task_snap **s = &c->last[i];

		if (!*s || (*s)->pid == pid)
			return s;
		if ((*s)->time < (*oldest)->time)
			oldest = s;
	}
	return oldest;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void *task_snap_prepare(const json_t *line, void *chain)
{
	json_t *body = json_object_get(line, "result");
	pid_t pid = j_pid(body, "pid");
	struct task_snap **slot, *s;

	if (!pid || !json_is_array(json_object_get(body, "tasks")))
		return NULL;
	slot = chain_slot(chain, pid);
	s = task_snap_build(body, pid, *slot && (*slot)->pid == pid ? *slot : NULL, wall_now());
	if (!s)
		return NULL;
	sort_as_wanted(s, atomic_load(&((struct task_snap_chain *)chain)->want_order));
	task_snap_unref(*slot, NULL, NULL);
	*slot = task_snap_ref(s);
	return s;
}

void task_snap_release(void *snap, void *chain)
{
	(void)chain;
	task_snap_unref(snap, NULL, NULL);
}
