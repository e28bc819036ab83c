/* SPDX-License-Identifier: GPL-2.0-only */
/* Lints from task snapshots. unbounded-concurrency: one coroutine with
 * more than pending_max pending tasks, or whose pending count rose in each
 * of LINT_RISING_SNAPSHOTS snapshots in a row (tasks spawned faster than
 * they end). long-await: tasks at the same await for over await_s with no
 * timeout anywhere in their await chain, grouped by the site they wait at
 * (a hung connection pool stalls hundreds of tasks at one line: one lint).
 *
 * Tasks are compared across snapshots by address and by their frames'
 * strings, which are interned by the reader that made the snapshots and
 * live as long as it does: lint_tasks must be fed one reader's snapshots. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hashtab.h"
#include "lint.h"
#include "output.h"
#include "task_output.h"

#define CHAIN_MAX 32          /* awaiter tasks followed looking for a timeout */
#define GUARD_CALLS_MAX 256   /* source checks per snapshot past the memo's capacity */
#define EXAMPLES_MAX 3

struct coro {                 /* a hashtab entry */
	char *name;
	uint64_t gen;             /* the snapshot that counted `cur` */
	uint32_t cur, last, streak;
	bool raised_over, raised_rising;
};

struct await_site {           /* a hashtab entry */
	char *coro, *func, *file;
	int line;
	uint64_t gen;
	uint32_t tasks;
	double longest_s;
	char examples[EXAMPLES_MAX][160];
	bool raised;
};

struct guard_memo {           /* a hashtab entry: the source's verdict on one line */
	const char *file;         /* interned by the reader */
	int line;
	bool guarded;
};

struct task_at {
	uint64_t addr, where;     /* where: a hash of its frames and what it awaits */
	double since;
	bool checked, guarded;
};

struct lint_tasks {
	pid_t pid;
	struct lint_opts o;
	lint_guard_fn guard;
	void *guard_ctx;
	struct hashtab coros, sites, memo;
	struct task_at *at;       /* sorted by addr, like the snapshot */
	size_t nat;
	uint64_t gen;
	unsigned guard_calls;
};

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h ? h : 1;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

struct lint_tasks *lint_tasks_new(pid_t pid, const struct lint_opts *o, lint_guard_fn guard,
				  void *guard_ctx)
{
	struct lint_tasks *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->pid = pid;
	l->o = *o;
	if (!l->o.pending_max)
		l->o.pending_max = LINT_DEFAULT_PENDING;
	if (!(l->o.await_s > 0))
		l->o.await_s = LINT_DEFAULT_AWAIT_S;
	l->guard = guard;
	l->guard_ctx = guard_ctx;
	if (hashtab_init(&l->coros, sizeof(struct coro), 64) ||
	    hashtab_init(&l->sites, sizeof(struct await_site), 64) ||
	    hashtab_init(&l->memo, sizeof(struct guard_memo), 64)) {
		lint_tasks_free(l);
		return NULL;
	}
	return l;
}

void lint_tasks_free(struct lint_tasks *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->coros.cap; i++) {
		struct coro *c = hashtab_slot(&l->coros, i);

		if (c)
			free(c->name);
	}
	for (size_t i = 0; i < l->sites.cap; i++) {
		struct await_site *s = hashtab_slot(&l->sites, i);

		if (s)
			free(s->coro);
	}
	hashtab_done(&l->coros);
	hashtab_done(&l->sites);
	hashtab_done(&l->memo);
	free(l->at);
	free(l);
}

/* --- unbounded-concurrency --- */

static bool coro_match(const void *entry, const void *key)
{
	const struct coro *c = entry;

	return c->name && !strcmp(c->name, key);
}

static void count_pending(struct lint_tasks *l, const struct aio_snapshot *snap)
{
	for (size_t i = 0; i < snap->n; i++) {
		const char *name = snap->tasks[i].coro_name;
		uint64_t h = hash_str(1469598103934665603ULL, name);
		struct coro *c;
		bool fresh;

		if (snap->tasks[i].state != AIO_PENDING || !name || !*name)
			continue;
		c = hashtab_find(&l->coros, h, name, coro_match);
		if (!c && l->coros.used < LINT_MAX_KEYS &&
		    (c = hashtab_get(&l->coros, h, name, coro_match, &fresh)) && !(c->name = strdup(name)))
			c = NULL;  /* a zeroed entry no name matches: harmless */
		if (!c)
			continue;
		if (c->gen != l->gen)
			c->cur = 0;
		c->gen = l->gen;
		c->cur++;
	}
}

static json_t *concurrency_json(const struct lint_tasks *l, const struct coro *c, double now)
{
	char advice[400];
	json_t *o;

	snprintf(advice, sizeof(advice), "%s: bound how many run at once with an asyncio.Semaphore "
		 "(async with sem: around the work) or a fixed pool of worker tasks reading an "
		 "asyncio.Queue(maxsize=...), instead of a create_task per item",
		 c->cur > l->o.pending_max ? "too many pending tasks of one coroutine"
					   : "pending tasks of one coroutine keep growing");
	o = lint_event(l->pid, now, LINT_UNBOUNDED_CONCURRENCY, advice);
	json_object_update_new(o, json_pack("{s:o, s:I, s:I, s:I}", "coro", json_text(c->name),
		"pending", (json_int_t)c->cur, "limit", (json_int_t)l->o.pending_max,
		"rising_snapshots", (json_int_t)c->streak));
	return o;
}

static void judge_coros(struct lint_tasks *l, double now, json_t *raised, json_t *active)
{
	for (size_t i = 0; i < l->coros.cap; i++) {
		struct coro *c = hashtab_slot(&l->coros, i);
		bool over, rising, fire;

		if (!c || !c->name)
			continue;
		if (c->gen != l->gen)
			c->cur = 0;
		/* the first snapshot has no "before" to rise from */
		c->streak = l->gen > 1 && c->cur > c->last ? c->streak + 1 : 0;
		c->last = c->cur;
		over = c->cur > l->o.pending_max;
		rising = c->streak >= LINT_RISING_SNAPSHOTS;
		/* raised once per episode: again only after it has ended */
		fire = (over && !c->raised_over) || (rising && !c->raised_rising);
		c->raised_over = over;
		c->raised_rising = rising;
		if (fire)
			json_array_append_new(raised, concurrency_json(l, c, now));
		if (over || rising)
			json_array_append_new(active, concurrency_json(l, c, now));
	}
}

/* --- long-await --- */

/* The await is known to end by itself, or is another task's to end. */
static bool delegated(const struct aio_task *t)
{
	const char *a = t->awaiting ? t->awaiting : "";

	return t->awaiting_task || !strncmp(a, "gather of", 9) || !strncmp(a, "TaskGroup of", 12) ||
	       !strncmp(a, "sleep", 5) || !t->stack.depth;
}

static uint64_t where_hash(const struct aio_task *t)
{
	uint64_t h = hash_mix(1, (uintptr_t)t->awaiting);

	for (size_t i = 0; i < t->stack.depth; i++) {
		h = hash_mix(h, (uintptr_t)t->stack.frames[i].file);
		h = hash_mix(h, (uintptr_t)t->stack.frames[i].func);
		h = hash_mix(h, (uint64_t)(uint32_t)t->stack.frames[i].line);
	}
	return h;
}

static bool is_timeout_frame(const struct py_frame *f)
{
	const char *func = f->func ? f->func : "", *file = f->file ? f->file : "";

	if (strstr(file, "async_timeout"))
		return true;
	if (!strstr(file, "asyncio/"))
		return false;
	return !strcmp(func, "wait_for") || !strcmp(func, "timeout") || !strcmp(func, "timeout_at");
}

static bool memo_match(const void *entry, const void *key)
{
	const struct guard_memo *m = entry, *k = key;

	return m->file == k->file && m->line == k->line;
}

/* Thousands of tasks wait at the same few lines: the source is scanned
 * once per line, and at most GUARD_CALLS_MAX times a snapshot beyond. */
static bool source_guarded(struct lint_tasks *l, const struct py_frame *f)
{
	struct guard_memo key = { .file = f->file, .line = f->line }, *m;
	uint64_t h = hash_mix(hash_mix(1, (uintptr_t)f->file), (uint32_t)f->line);
	bool fresh;

	m = hashtab_find(&l->memo, h, &key, memo_match);
	if (m)
		return m->guarded;
	if (l->memo.used < LINT_MAX_KEYS && (m = hashtab_get(&l->memo, h, &key, memo_match, &fresh))) {
		*m = key;
		m->guarded = l->guard(l->guard_ctx, f->file, f->line);
		return m->guarded;
	}
	return l->guard_calls++ < GUARD_CALLS_MAX && l->guard(l->guard_ctx, f->file, f->line);
}

static bool frames_guarded(struct lint_tasks *l, const struct py_stack *s)
{
	for (size_t i = 0; i < s->depth; i++) {
		const struct py_frame *f = &s->frames[i];

		if (is_timeout_frame(f))
			return true;
		if (l->guard && f->file && f->file[0] == '/' && !strstr(f->file, "asyncio/") &&
		    source_guarded(l, f))
			return true;
	}
	return false;
}

/* A timeout anywhere from the task up through the tasks that await it. */
static bool chain_guarded(struct lint_tasks *l, const struct aio_snapshot *snap,
			  const struct aio_task *t)
{
	for (int n = 0; t && n < CHAIN_MAX; n++) {
		if (frames_guarded(l, &t->stack))
			return true;
		t = t->n_awaited_by ? aio_snapshot_find(snap, t->awaited_by[0]) : NULL;
	}
	return false;
}

static bool site_match(const void *entry, const void *key)
{
	const struct await_site *s = entry, *k = key;

	return s->coro && s->line == k->line && !strcmp(s->coro, k->coro) && !strcmp(s->file, k->file) &&
	       !strcmp(s->func, k->func);
}

static struct await_site *site_of(struct lint_tasks *l, const struct aio_task *t)
{
	const struct py_frame *f = lint_site_frame(&t->stack);
	struct await_site key = { .coro = (char *)(t->coro_name ? t->coro_name : ""),
				  .func = (char *)(f->func ? f->func : ""),
				  .file = (char *)(f->file ? f->file : ""), .line = f->line };
	uint64_t h = hash_mix(hash_str(hash_str(hash_str(1, key.coro), key.func), key.file),
			      (uint32_t)key.line);
	struct await_site *s = hashtab_find(&l->sites, h, &key, site_match);
	bool fresh;

	size_t lc = strlen(key.coro) + 1, lf = strlen(key.func) + 1, ll = strlen(key.file) + 1;

	if (s || l->sites.used >= LINT_MAX_KEYS || !(s = hashtab_get(&l->sites, h, &key, site_match, &fresh)))
		return s;
	/* one block: coro owns it; an entry left without one matches nothing */
	s->coro = malloc(lc + lf + ll);
	if (!s->coro)
		return NULL;
	s->func = memcpy(s->coro + lc, key.func, lf);
	s->file = memcpy(s->coro + lc + lf, key.file, ll);
	memcpy(s->coro, key.coro, lc);
	s->line = key.line;
	return s;
}

static void site_count(struct lint_tasks *l, struct await_site *s, const struct aio_task *t,
		       double waited)
{
	char id[32];

	if (s->gen != l->gen) {
		s->gen = l->gen;
		s->tasks = 0;
		s->longest_s = 0;
	}
	if (s->tasks < EXAMPLES_MAX) {
		task_id(t->addr, id, sizeof(id));
		snprintf(s->examples[s->tasks], sizeof(s->examples[0]), "%s %s", id, t->name ? t->name : "");
	}
	s->tasks++;
	if (waited > s->longest_s)
		s->longest_s = waited;
}

/* The task's place in the new array: since when it waits where it waits. */
static struct task_at *track(struct lint_tasks *l, const struct task_at *old, size_t *j,
			     const struct aio_task *t, struct task_at *next, double now)
{
	uint64_t where = where_hash(t);

	while (*j < l->nat && old[*j].addr < t->addr)
		(*j)++;
	if (*j < l->nat && old[*j].addr == t->addr && old[*j].where == where)
		*next = old[*j];
	else
		*next = (struct task_at){ .addr = t->addr, .where = where, .since = now };
	return next;
}

static int judge_awaits(struct lint_tasks *l, const struct aio_snapshot *snap, double now)
{
	struct task_at *next = calloc(snap->n ? snap->n : 1, sizeof(*next));
	size_t j = 0, n = 0;

	if (!next)
		return -ENOMEM;
	l->guard_calls = 0;
	for (size_t i = 0; i < snap->n; i++) {
		const struct aio_task *t = &snap->tasks[i];
		struct task_at *a;
		struct await_site *s;

		if (t->state != AIO_PENDING || delegated(t))
			continue;
		a = track(l, l->at, &j, t, &next[n++], now);
		if (now - a->since < l->o.await_s)
			continue;
		if (!a->checked) {
			a->checked = true;
			a->guarded = chain_guarded(l, snap, t);
		}
		if (!a->guarded && (s = site_of(l, t)))
			site_count(l, s, t, now - a->since);
	}
	free(l->at);
	l->at = next;
	l->nat = n;
	return 0;
}

static json_t *await_json(const struct lint_tasks *l, const struct await_site *s, double now)
{
	json_t *o = lint_event(l->pid, now, LINT_LONG_AWAIT,
		"a task has waited here with no timeout: bound the wait with async with "
		"asyncio.timeout(seconds): (3.11+) or await asyncio.wait_for(aw, seconds), and "
		"handle TimeoutError");
	json_t *ex = json_array();

	for (uint32_t i = 0; i < s->tasks && i < EXAMPLES_MAX; i++)
		json_array_append_new(ex, json_text(s->examples[i]));
	json_object_update_new(o, json_pack("{s:o, s:{s:o, s:o, s:i}, s:I, s:o, s:o, s:o}",
		"coro", json_text(s->coro), "site", "func", json_text(s->func), "file", json_text(s->file),
		"line", s->line, "tasks", (json_int_t)s->tasks, "longest_s", json_round(s->longest_s, 3),
		"limit_s", json_round(l->o.await_s, 3), "examples", ex));
	return o;
}

static void judge_sites(struct lint_tasks *l, double now, json_t *raised, json_t *active)
{
	for (size_t i = 0; i < l->sites.cap; i++) {
		struct await_site *s = hashtab_slot(&l->sites, i);

		if (!s || !s->coro)
			continue;
		if (s->gen != l->gen) {
			s->raised = false;  /* nobody waits there now: a new episode may come */
			continue;
		}
		if (!s->raised)
			json_array_append_new(raised, await_json(l, s, now));
		s->raised = true;
		json_array_append_new(active, await_json(l, s, now));
	}
}

int lint_tasks_update(struct lint_tasks *l, const struct aio_snapshot *snap, double now,
		      json_t *raised, json_t *active)
{
	l->gen++;
	count_pending(l, snap);
	judge_coros(l, now, raised, active);
	if (judge_awaits(l, snap, now))
		return -ENOMEM;
	judge_sites(l, now, raised, active);
	return 0;
}
