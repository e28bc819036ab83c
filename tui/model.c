/* SPDX-License-Identifier: GPL-2.0-only */
/* The model's life and its snapshot-like answers (hello, ps, dump, stats,
 * where, source): each replaces what the model held. Events are in
 * model_feed.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "model_int.h"
#include "strmap.h"
#include "task_snap.h"

const char *j_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Clamped so that every cast of it is defined (a hostile 1e308). */
double j_num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	double d = json_is_number(v) ? json_number_value(v) : 0;

	return d != d ? 0 : d > 1e15 ? 1e15 : d < -1e15 ? -1e15 : d;
}

uint64_t j_count(const json_t *o, const char *key)
{
	double d = j_num(o, key);

	return d > 0 ? (uint64_t)d : 0;
}

pid_t j_pid(const json_t *o, const char *key)
{
	double d = j_num(o, key);

	return d >= 1 && d <= 0x3fffffff ? (pid_t)d : 0;
}

bool j_bool(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_true(v) || (json_is_integer(v) && json_integer_value(v));
}

static int clamp_int(double v)
{
	return v < 0 ? 0 : v > 1e9 ? 1000000000 : (int)v;
}

struct m_frame j_frame(const json_t *f)
{
	struct m_frame fr = { "", "", 0 };

	if (json_is_object(f)) {
		fr.func = j_str(f, "func");
		fr.file = j_str(f, "file");
		fr.line = clamp_int(j_num(f, "line"));
	}
	return fr;
}

const char *path_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

static bool is_library(const char *file)
{
	return strstr(file, "/lib/python3") || strstr(file, "-packages/") || file[0] == '<' ||
	       !file[0];
}

struct m_frame j_user_frame(const json_t *stack)
{
	const json_t *f;
	size_t i;

	json_array_foreach(stack, i, f) {
		struct m_frame fr = j_frame(f);

		if (!is_library(fr.file))
			return fr;
	}
	return j_frame(json_array_get(stack, 0));
}

static void json_decref_p(void *p)
{
	json_decref(p);
}

struct model *model_new(void)
{
	struct model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->sources = strmap_new(json_decref_p);
	if (!m->sources) {
		free(m);
		return NULL;
	}
	return m;
}

static void target_clear(struct m_target *t)
{
	json_decref(t->hello);
	task_snap_unref(t->snap, NULL, NULL);
	for (size_t i = 0; i < t->nstalls; i++)
		json_decref(t->stalls[i].doc);
	free(t->stalls);
	for (size_t i = 0; i < t->nlost; i++)
		json_decref(t->lost[i].doc);
	free(t->lost);
	strmap_free(t->lost_index);
	for (size_t i = 0; i < t->nlints; i++)
		json_decref(t->lints[i].doc);
	free(t->lints);
	json_decref(t->dump);
	free(t->threads);
	for (size_t i = 0; i < t->nended; i++)
		json_decref(t->ended[i].doc);
	free(t->ended);
	json_decref(t->where);
	memset(t, 0, sizeof(*t));
}

void model_free(struct model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ntargets; i++)
		target_clear(&m->targets[i]);
	strmap_free(m->sources);
	json_decref(m->agent_hello);
	free(m);
}

void model_set_now(struct model *m, double now)
{
	if ((long)now != (long)m->now)
		m->gen++;   /* the header's clock and sparkline move on */
	m->now = now;
}

void model_set_status(struct model *m, bool connected, const char *fmt, ...)
{
	va_list ap;

	m->connected = connected;
	va_start(ap, fmt);
	vsnprintf(m->status, sizeof(m->status), fmt, ap);
	va_end(ap);
	m->gen++;
}

void model_all_gone(struct model *m, const char *why)
{
	for (size_t i = 0; i < m->ntargets; i++)
		for (size_t k = 0; k < m->targets[i].nstalls; k++)
			m->targets[i].stalls[k].ongoing = false;   /* nobody will end them */
	m->gen++;
	(void)why;
}

const struct m_target *model_current(const struct model *m)
{
	return m->ntargets ? &m->targets[m->cur < m->ntargets ? m->cur : 0] : NULL;
}

void model_select(struct model *m, size_t i)
{
	if (i < m->ntargets && i != m->cur) {
		m->cur = i;
		m->gen++;
	}
}

struct m_target *model_target_of(struct model *m, pid_t pid, bool create)
{
	struct m_target *t;

	if (pid <= 0)
		return NULL;
	for (size_t i = 0; i < m->ntargets; i++)
		if (m->targets[i].pid == pid)
			return &m->targets[i];
	if (!create || m->ntargets >= MODEL_TARGETS_MAX)
		return NULL;
	t = &m->targets[m->ntargets++];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->comm = t->cmdline = t->python = "";
	m->gen++;
	return t;
}

/* A target's description: from hello, or from target_attached's "target". */
void model_target_info(struct model *m, const json_t *info)
{
	struct m_target *t = model_target_of(m, j_pid(info, "pid"), true);

	if (!t || !json_is_object(info))
		return;
	json_incref((json_t *)info);
	json_decref(t->hello);
	t->hello = (json_t *)info;
	t->comm = j_str(info, "comm");
	t->cmdline = j_str(info, "cmdline");
	t->python = j_str(info, "python");
	if (j_str(info, "loop")[0])
		snprintf(t->loop, sizeof(t->loop), "%s", j_str(info, "loop"));
	m->gen++;
}

void model_set_dispose(struct model *m, void (*fn)(json_t *doc, void *ctx), void *ctx)
{
	m->dispose = fn;
	m->dispose_ctx = ctx;
}

static void on_hello(struct model *m, pid_t pid, const char *arg, json_t *body)
{
	const json_t *targets = json_object_get(body, "targets"), *v;
	size_t i;

	json_decref(m->agent_hello);
	m->agent_hello = json_incref(body);
	m->agent_pid = j_pid(body, "pid");
	json_array_foreach(targets, i, v)
		model_target_info(m, v);
}

const char *model_state_name(enum m_state s)
{
	static const char *const names[] = { "pending", "running", "done", "cancelled", "?" };

	return names[s <= M_UNKNOWN ? s : M_UNKNOWN];
}

/* hello says null until the agent's first snapshot found a loop */
static void loop_type(struct m_target *t, const json_t *loops)
{
	const char *type = j_str(json_array_get(loops, 0), "type");

	if (type[0])
		snprintf(t->loop, sizeof(t->loop), "%s", type);
}

/* Swaps in s (its reference taken) in one step: the panels see the old
 * snapshot or this one, whole. */
static void show_snap(struct model *m, struct m_target *t, struct task_snap *s)
{
	struct task_snap *old = t->snap;

	t->snap = s;
	t->ps = s->ps;
	t->tasks = s->tasks;
	t->ntasks = s->ntasks;
	memcpy(t->by_state, s->by_state, sizeof(t->by_state));
	t->kids = s->kids;
	t->snap_time = m->now;
	t->tasks_gen++;
	loop_type(t, json_object_get(s->ps, "loops"));
	task_snap_unref(old, m->dispose, m->dispose_ctx);
	m->gen++;
}

/* The rows the parser's thread built from this very answer are swapped
 * in; without (a replay, another pid, no memory there) they are built
 * here, from the snapshot shown. */
static void on_ps(struct model *m, const struct client_msg *msg)
{
	struct m_target *t = model_target_of(m, msg->pid ? msg->pid : j_pid(msg->body, "pid"), true);
	struct task_snap *s = msg->prepared;

	if (!t)
		return;
	if (s && s->pid == t->pid && s->ps == msg->body)
		s = task_snap_ref(s);
	else
		s = task_snap_build(msg->body, t->pid, t->snap, m->now);
	if (s)
		show_snap(m, t, s);
}

static void on_dump(struct model *m, pid_t pid, const char *arg, json_t *body)
{
	struct m_target *t = model_target_of(m, pid, false);
	const json_t *threads = json_object_get(body, "threads"), *o;
	size_t n = json_array_size(threads), i;
	struct m_thread *arr;

	if (!t || !json_is_array(threads) || !(arr = calloc(n ? n : 1, sizeof(*arr))))
		return;
	json_array_foreach(threads, i, o) {
		const json_t *task = json_object_get(o, "task");

		arr[i].tid = clamp_int(j_num(o, "tid"));
		arr[i].name = j_str(o, "name");
		arr[i].os_name = j_str(o, "os_name");
		arr[i].gil = j_bool(o, "gil");
		arr[i].task = json_is_object(task) ? j_str(task, "name") : json_is_string(task) ?
			      json_string_value(task) : "";
		arr[i].stack = json_object_get(o, "stack");
	}
	free(t->threads);
	json_decref(t->dump);
	t->dump = json_incref(body);
	t->threads = arr;
	t->nthreads = n;
	m->gen++;
}

static void stats_target(struct model *m, const json_t *o)
{
	struct m_target *t = model_target_of(m, j_pid(o, "pid"), false);
	const json_t *s = json_object_get(o, "stalls"), *tasks = json_object_get(o, "tasks");

	if (!t)
		return;
	if (!json_is_object(s))
		s = json_object_get(o, "summary");   /* the stalls answer's shape */
	t->util = j_num(s, "utilisation");
	t->busy_p99_ms = j_num(s, "busy_p99_ms");
	t->worst_ms = j_num(s, "worst_ms");
	t->watched_s = j_num(s, "duration_s");
	t->stalls_total = j_count(s, "stalls");
	if (json_is_object(tasks)) {
		t->stat_tasks = (size_t)j_count(tasks, "total");
		t->stat_by_state[M_PENDING] = (size_t)j_count(tasks, "pending");
		t->stat_by_state[M_RUNNING] = (size_t)j_count(tasks, "running");
		t->stat_by_state[M_DONE] = (size_t)j_count(tasks, "done");
		t->stat_by_state[M_CANCELLED] = (size_t)j_count(tasks, "cancelled");
	}
	if (json_object_get(o, "missed_tasks"))
		t->missed_tasks = j_count(o, "missed_tasks");
	t->have_stats = true;
	m->gen++;
}

/* stats and stalls: {"targets":[{"pid",...}]} */
static void on_stats(struct model *m, pid_t pid, const char *arg, json_t *body)
{
	const json_t *targets = json_object_get(body, "targets"), *o, *on, *s;
	size_t i, k;

	json_array_foreach(targets, i, o) {
		stats_target(m, o);
		on = json_object_get(o, "ongoing");
		json_array_foreach(on, k, s)
			model_stall_event(m, (json_t *)s);
	}
}

static void on_where(struct model *m, pid_t pid, const char *arg, json_t *body)
{
	struct m_target *t = model_target_of(m, pid, false);

	if (!t)
		return;
	json_decref(t->where);
	t->where = json_incref(body);
	m->gen++;
}

void model_source_key(pid_t pid, const char *file, int line, char *out, size_t len)
{
	snprintf(out, len, "%d\t%d\t%s", (int)pid, line, file);
}

static void on_source(struct model *m, pid_t pid, const char *arg, json_t *body)
{
	struct strmap_val *v;

	if (strmap_count(m->sources) > 2048)
		strmap_clear(m->sources);   /* a cache: dropping it only re-asks */
	v = strmap_put(m->sources, arg);
	if (!v)
		return;
	json_decref(v->p);
	v->p = json_incref(body);
	m->gen++;
}

/* An error for a source request is kept too, so it is not asked again. */
static void on_error(struct model *m, const struct client_msg *msg)
{
	if (!strcmp(msg->method, "source"))
		on_source(m, msg->pid, msg->arg, msg->body);
	else if (!strcmp(msg->method, "where"))
		on_where(m, msg->pid, msg->arg, msg->body);
}

const json_t *model_source(const struct model *m, pid_t pid, const char *file, int line,
			   int *first)
{
	char key[CLIENT_ARG_MAX];
	struct strmap_val *v;
	const json_t *lines;

	model_source_key(pid, file, line, key, sizeof(key));
	v = strmap_get(m->sources, key);
	lines = v ? json_object_get(v->p, "lines") : NULL;
	if (!json_is_array(lines))
		return NULL;
	*first = clamp_int(j_num(v->p, "first"));
	return lines;
}

static const struct answer {
	const char *method;
	void (*fn)(struct model *m, pid_t pid, const char *arg, json_t *body);
} answers[] = {
	{ "hello", on_hello },
	{ "dump", on_dump },
	{ "stats", on_stats },
	{ "stalls", on_stats },
	{ "where", on_where },
	{ "source", on_source },
	{ "history", model_on_history },
	{ "lints", model_on_lints },
};

void model_on_msg(const struct client_msg *msg, void *ctx)
{
	struct model *m = ctx;

	if (msg->type == CLIENT_EVENT) {
		model_on_event(m, msg->body);
		return;
	}
	if (msg->type == CLIENT_ERROR) {
		on_error(m, msg);
		return;
	}
	if (!strcmp(msg->method, "ps")) {
		on_ps(m, msg);
		return;
	}
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
		if (!strcmp(answers[i].method, msg->method))
			answers[i].fn(m, msg->pid, msg->arg, msg->body);
}
