/* SPDX-License-Identifier: GPL-2.0-only */
/* Events into the model: stalls (ongoing ones updated in place by id),
 * lost work grouped by site, lints, ended tasks, targets coming and going.
 * The same path takes live events, the history's and a replay's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model_int.h"
#include "strmap.h"

/* Appends to a bounded array, oldest first: when full, the oldest quarter
 * goes (their documents released by drop). */
static void *bounded_slot(void **arr, size_t *n, size_t max, size_t size,
			  void (*drop)(void *elem))
{
	char *a = *arr;

	if (!a) {
		a = calloc(max, size);
		if (!a)
			return NULL;
		*arr = a;
	}
	if (*n >= max) {
		size_t cut = max / 4;

		for (size_t i = 0; i < cut; i++)
			drop(a + i * size);
		memmove(a, a + cut * size, (*n - cut) * size);
		*n -= cut;
	}
	memset(a + *n * size, 0, size);
	return a + (*n)++ * size;
}

static void drop_stall(void *e)
{
	json_decref(((struct m_stall *)e)->doc);
}

static void drop_ended(void *e)
{
	json_decref(((struct m_ended *)e)->doc);
}

static const char *main_syscall(const json_t *calls)
{
	const char *best = "";
	double best_ms = -1;
	const json_t *c;
	size_t i;

	json_array_foreach(calls, i, c) {
		if (j_num(c, "ms") > best_ms && j_str(c, "name")[0]) {
			best_ms = j_num(c, "ms");
			best = j_str(c, "name");
		}
	}
	return best;
}

static struct m_stall *stall_slot(struct m_target *t, uint64_t id)
{
	/* an ongoing stall is one of the last few */
	for (size_t i = t->nstalls; id && i-- > 0 && i + 64 >= t->nstalls;)
		if (t->stalls[i].id == id)
			return &t->stalls[i];
	return bounded_slot((void **)&t->stalls, &t->nstalls, MODEL_STALLS_MAX, sizeof(struct m_stall),
			    drop_stall);
}

void model_stall_event(struct model *m, json_t *ev)
{
	struct m_target *t = model_target_of(m, j_pid(ev, "pid"), true);
	const json_t *task = json_object_get(ev, "task");
	struct m_stall *s;
	double dur = j_num(ev, "duration_ms");

	if (!t || !(s = stall_slot(t, j_count(ev, "id"))))
		return;
	if (s->doc && !s->ongoing && j_bool(ev, "ongoing"))
		return;   /* an old ongoing report after the end (history order) */
	json_decref(s->doc);
	s->doc = json_incref(ev);
	s->id = j_count(ev, "id");
	s->ts = j_num(ev, "ts");
	s->dur_ms = dur > 0 ? dur : 0;
	s->on_ms = j_num(ev, "on_cpu_ms");
	s->off_ms = j_num(ev, "off_cpu_ms");
	s->ongoing = j_bool(ev, "ongoing");
	s->seen = m->now;
	s->tid = (int)j_pid(ev, "tid");
	s->syscall = main_syscall(json_object_get(ev, "syscalls"));
	s->task = j_str(task, "name");
	s->coro = j_str(task, "coro");
	s->culprit = j_user_frame(json_object_get(ev, "stack"));
	model_lag_add(t, s->ts, s->dur_ms);
	t->stalls_gen++;
	m->gen++;
}

static enum m_lost_kind lost_kind(const char *k)
{
	return !strcmp(k, "never_awaited") ? LOST_NEVER_AWAITED :
	       !strcmp(k, "unretrieved_exception") ? LOST_UNRETRIEVED : LOST_DESTROYED;
}

/* Where a lost-work event happened: the creating line of a never-awaited
 * coroutine, the raising line of an exception, where a destroyed task
 * was suspended. */
static struct m_frame lost_site(enum m_lost_kind k, const json_t *ev)
{
	const json_t *tb = json_object_get(ev, "traceback");

	if (k == LOST_UNRETRIEVED && json_array_size(tb))
		return j_frame(json_array_get(tb, json_array_size(tb) - 1));
	return j_frame(json_array_get(json_object_get(ev, "stack"), 0));
}

static void lost_event(struct model *m, struct m_target *t, const char *kind, json_t *ev)
{
	enum m_lost_kind k = lost_kind(kind);
	struct m_frame site = lost_site(k, ev);
	struct strmap_val *v;
	struct m_lost *l;
	char key[1024];

	t->lost_totals[k]++;
	if (!t->lost_index && !(t->lost_index = strmap_new(NULL)))
		return;
	snprintf(key, sizeof(key), "%d\t%s\t%s\t%d", k, j_str(ev, "coro"), site.file, site.line);
	v = strmap_get(t->lost_index, key);
	if (!v) {
		if (t->nlost >= MODEL_LOST_SITES_MAX || !(v = strmap_put(t->lost_index, key)))
			return;
		if (!t->lost && !(t->lost = calloc(MODEL_LOST_SITES_MAX, sizeof(*t->lost))))
			return;
		v->d = (double)t->nlost++;
	}
	l = &t->lost[(size_t)v->d];
	json_decref(l->doc);
	l->doc = json_incref(ev);
	l->kind = k;
	l->coro = j_str(ev, "coro");
	l->task = j_str(ev, "task");
	l->exception = j_str(ev, "exception");
	l->site = lost_site(k, ev);
	l->count++;
	l->last_ts = j_num(ev, "ts");
	m->gen++;
}

/* A lint's one line, from the fields each kind has (docs/protocol.md);
 * a kind this TUI does not know yet shows its "message", if any. */
static void lint_text(const json_t *ev, struct m_lint *l)
{
	struct m_frame site = j_frame(json_object_get(ev, "site"));
	const char *coro = j_str(ev, "coro");

	if (site.file[0])
		snprintf(l->key, sizeof(l->key), "%s:%d", site.file, site.line);
	else
		snprintf(l->key, sizeof(l->key), "%s", coro[0] ? coro : j_str(ev, "message"));
	if (!strcmp(l->name, "blocking-call"))
		snprintf(l->message, sizeof(l->message), "%s at %s:%d stalled the loop %.0f times, %.1f s in all%s%s",
			 site.func, path_base(site.file), site.line, j_num(ev, "count"), j_num(ev, "total_ms") / 1e3,
			 j_str(ev, "syscall")[0] ? ", in " : "", j_str(ev, "syscall"));
	else if (!strcmp(l->name, "unbounded-concurrency"))
		snprintf(l->message, sizeof(l->message), "%s: %.0f pending tasks (limit %.0f%s)", coro,
			 j_num(ev, "pending"), j_num(ev, "limit"), j_num(ev, "rising_snapshots") ? ", rising" : "");
	else if (!strcmp(l->name, "long-await"))
		snprintf(l->message, sizeof(l->message), "%s at %s:%d: %.0f tasks waiting with no timeout, the longest %.0f s",
			 coro, path_base(site.file), site.line, j_num(ev, "tasks"), j_num(ev, "longest_s"));
	else
		snprintf(l->message, sizeof(l->message), "%s", j_str(ev, "message"));
}

static void lint_event(struct model *m, struct m_target *t, json_t *ev)
{
	struct m_lint l = { 0 };
	size_t i;

	l.name = j_str(ev, "lint");
	l.advice = j_str(ev, "advice");
	lint_text(ev, &l);
	for (i = 0; i < t->nlints; i++)
		if (!strcmp(t->lints[i].name, l.name) && !strcmp(t->lints[i].key, l.key))
			break;
	if (i == t->nlints) {
		if (i >= MODEL_LINTS_MAX)
			return;
		if (!t->lints && !(t->lints = calloc(MODEL_LINTS_MAX, sizeof(*t->lints))))
			return;
		t->nlints++;
	} else {
		json_decref(t->lints[i].doc);
	}
	l.count = j_count(ev, "count") ? j_count(ev, "count") : 1;
	l.ts = j_num(ev, "ts");
	l.doc = json_incref(ev);
	t->lints[i] = l;
	m->gen++;
}

static void lints_clear(struct m_target *t)
{
	for (size_t i = 0; i < t->nlints; i++)
		json_decref(t->lints[i].doc);
	t->nlints = 0;
}

static void ended_event(struct model *m, struct m_target *t, json_t *ev)
{
	struct m_ended *e = bounded_slot((void **)&t->ended, &t->nended, MODEL_ENDED_MAX,
					 sizeof(*e), drop_ended);
	const json_t *loc = json_object_get(ev, "location"), *how = json_object_get(ev, "ended");

	if (!e)
		return;
	e->doc = json_incref(ev);
	e->id = j_str(ev, "id");
	e->name = j_str(ev, "name");
	e->coro = j_str(ev, "coro");
	e->how = json_is_string(how) ? json_string_value(how) : "";
	/* the program's own frame when the stack was kept, else the innermost */
	e->where = json_array_size(json_object_get(ev, "stack")) ? j_user_frame(json_object_get(ev, "stack")) :
		   j_frame(loc);
	e->first_seen = j_num(ev, "first_seen");
	e->last_seen = j_num(ev, "last_seen");
	m->gen++;
}

static void target_exit(struct model *m, struct m_target *t, json_t *ev)
{
	t->gone = true;
	snprintf(t->gone_why, sizeof(t->gone_why), "%s", j_str(ev, "reason")[0] ? j_str(ev, "reason") : "exited");
	for (size_t i = 0; i < t->nstalls; i++)
		t->stalls[i].ongoing = false;
	m->gen++;
}

void model_on_event(struct model *m, json_t *ev)
{
	const char *kind = j_str(ev, "event");
	struct m_target *t;

	m->events++;
	if (j_num(ev, "ts") > m->last_event_ts)
		m->last_event_ts = j_num(ev, "ts");
	if (!strcmp(kind, "stall")) {
		model_stall_event(m, ev);
		return;
	}
	if (!strcmp(kind, "target_attached")) {
		model_target_info(m, json_object_get(ev, "target"));
		return;
	}
	if (!strcmp(kind, "dropped")) {
		m->dropped += j_count(ev, "count");
		return;
	}
	t = model_target_of(m, j_pid(ev, "pid"), false);
	if (!t)
		return;
	if (!strcmp(kind, "never_awaited") || !strcmp(kind, "unretrieved_exception") ||
	    !strcmp(kind, "destroyed_pending"))
		lost_event(m, t, kind, ev);
	else if (!strcmp(kind, "lint"))
		lint_event(m, t, ev);
	else if (!strcmp(kind, "task_done"))
		ended_event(m, t, ev);
	else if (!strcmp(kind, "target_exit"))
		target_exit(m, t, ev);
}

/* {"events":[...]}: what happened before we connected, oldest first. */
void model_on_history(struct model *m, pid_t pid, const char *arg, json_t *body)
{
	const json_t *evs = json_object_get(body, "events"), *ev;
	size_t i;

	json_array_foreach(evs, i, ev)
		if (json_is_object(ev) && json_is_string(json_object_get(ev, "event")))
			model_on_event(m, (json_t *)ev);
}

/* {"targets":[{"pid","lints":[...]}]}: every lint in force per target,
 * so it replaces what the events said (an episode that ended goes). */
void model_on_lints(struct model *m, pid_t pid, const char *arg, json_t *body)
{
	const json_t *targets = json_object_get(body, "targets"), *o, *l;
	size_t i, k;
	struct m_target *t;

	json_array_foreach(targets, i, o) {
		if (!(t = model_target_of(m, j_pid(o, "pid"), false)))
			continue;
		lints_clear(t);
		json_array_foreach(json_object_get(o, "lints"), k, l)
			if (json_is_object(l))
				lint_event(m, t, (json_t *)l);
		m->gen++;
	}
}
