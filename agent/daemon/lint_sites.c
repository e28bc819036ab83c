/* SPDX-License-Identifier: GPL-2.0-only */
/* blocking-call: a site (the frame of the user's code a stall's stack
 * names) that stalls the loop again and again. One stall may be a fluke;
 * the same line stalling `repeat` times is code that blocks. The advice
 * follows from how the loop was held: asleep, waiting in the kernel for
 * I/O or a child or a lock, or computing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lint.h"
#include "output.h"
#include "syscalls.h"

struct site {
	char *file, *func;
	int line;
	uint64_t count;
	double total_ms, worst_ms, on_cpu_ms, off_cpu_ms, first_ts, last_ts;
	char syscall[32];        /* where the last stall spent most time, "" */
	bool raised;
};

struct lint_sites {
	pid_t pid;
	unsigned repeat;
	struct site *v;          /* few: stalls are rare, a linear search will do */
	size_t n;
	uint64_t untracked;      /* stalls at sites past LINT_MAX_KEYS */
};

const char *const lint_names[LINT_KINDS] = {
	[LINT_BLOCKING_CALL] = "blocking-call",
	[LINT_UNBOUNDED_CONCURRENCY] = "unbounded-concurrency",
	[LINT_LONG_AWAIT] = "long-await",
};

/* Python's own library: /usr/lib/python3.11/..., ~/.pyenv/.../lib/python3.12/,
 * <frozen importlib...>; but not what pip installed there. */
static bool is_stdlib(const char *file)
{
	if (!file || file[0] == '<')
		return true;
	return strstr(file, "/lib/python3.") && !strstr(file, "-packages/");
}

const struct py_frame *lint_site_frame(const struct py_stack *s)
{
	if (!s || !s->depth)
		return NULL;
	for (size_t i = 0; i < s->depth; i++)
		if (!is_stdlib(s->frames[i].file))
			return &s->frames[i];
	return &s->frames[0];
}

json_t *lint_event(pid_t pid, double now, enum lint_kind k, const char *advice)
{
	return json_pack("{s:s, s:i, s:o, s:s, s:s}", "event", "lint", "pid", pid,
			 "ts", json_round(now, 6), "lint", lint_names[k], "advice", advice);
}

struct lint_sites *lint_sites_new(pid_t pid, unsigned repeat)
{
	struct lint_sites *s = calloc(1, sizeof(*s));

	if (s) {
		s->pid = pid;
		s->repeat = repeat ? repeat : LINT_DEFAULT_REPEAT;
	}
	return s;
}

void lint_sites_free(struct lint_sites *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].file);
		free(s->v[i].func);
	}
	free(s->v);
	free(s);
}

static struct site *site_get(struct lint_sites *s, const struct py_frame *f)
{
	const char *file = f->file ? f->file : "", *func = f->func ? f->func : "";
	struct site *v;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].line == f->line && !strcmp(s->v[i].file, file) && !strcmp(s->v[i].func, func))
			return &s->v[i];
	if (s->n >= LINT_MAX_KEYS || !(v = realloc(s->v, (s->n + 1) * sizeof(*v))))
		return NULL;
	s->v = v;
	v = &s->v[s->n];
	memset(v, 0, sizeof(*v));
	v->file = strdup(file);
	v->func = strdup(func);
	v->line = f->line;
	if (!v->file || !v->func) {
		free(v->file);
		free(v->func);
		return NULL;
	}
	s->n++;
	return v;
}

static bool one_of(const char *name, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(name, *names))
			return true;
	return false;
}

/* What the async tutorials say to do instead, from how the loop was held. */
static const char *advice(const struct site *v)
{
	static const char *const sleeps[] = { "clock_nanosleep", "nanosleep", "select", "pselect6", NULL };
	static const char *const children[] = { "wait4", "waitid", NULL };
	static const char *const locks[] = { "futex", NULL };

	if (v->on_cpu_ms > v->off_cpu_ms)
		return "CPU-bound work on the event loop: move it off the loop with "
		       "await asyncio.to_thread(func, ...) (or loop.run_in_executor with a "
		       "ProcessPoolExecutor for pure-Python computation), or split it and "
		       "yield with await asyncio.sleep(0)";
	if (one_of(v->syscall, sleeps))
		return "a blocking sleep (time.sleep) on the event loop: use await asyncio.sleep(...)";
	if (one_of(v->syscall, children))
		return "waiting for a child process on the event loop (subprocess.run): use "
		       "asyncio.create_subprocess_exec and await proc.communicate()";
	if (one_of(v->syscall, locks))
		return "a threading lock (or a thread's result) waited for on the event loop: use "
		       "an asyncio.Lock, or await asyncio.to_thread(...) for the blocking part";
	return "blocking I/O on the event loop: use an async client (aiohttp, asyncpg, "
	       "asyncio streams) or run the call in a thread with await asyncio.to_thread(func, ...)";
}

static void site_add(struct site *v, const struct stall_report *r, double now)
{
	if (!v->count)
		v->first_ts = r->ts;
	v->count++;
	v->total_ms += r->duration_ms;
	v->on_cpu_ms += r->on_cpu_ms;
	v->off_cpu_ms += r->off_cpu_ms;
	if (r->duration_ms > v->worst_ms)
		v->worst_ms = r->duration_ms;
	v->last_ts = r->ts;
	/* syscalls[] is longest first; the "other" bucket names nothing */
	v->syscall[0] = 0;
	if (r->nsyscalls && r->syscalls[0].nr >= 0)
		snprintf(v->syscall, sizeof(v->syscall), "%s", syscall_name(r->syscalls[0].nr));
}

static json_t *site_json(const struct lint_sites *s, const struct site *v, double now)
{
	json_t *o = lint_event(s->pid, now, LINT_BLOCKING_CALL, advice(v));

	json_object_update_new(o, json_pack("{s:{s:o, s:o, s:i}, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
		"site", "func", json_text(v->func), "file", json_text(v->file), "line", v->line,
		"count", (json_int_t)v->count, "total_ms", json_round(v->total_ms, 3),
		"worst_ms", json_round(v->worst_ms, 3), "on_cpu_ms", json_round(v->on_cpu_ms, 3),
		"first_ts", json_round(v->first_ts, 6), "last_ts", json_round(v->last_ts, 6),
		"syscall", v->syscall[0] ? json_string(v->syscall) : json_null()));
	return o;
}

json_t *lint_sites_stall(struct lint_sites *s, const struct stall_report *r, double now)
{
	const struct py_frame *f = lint_site_frame(r->stack);
	struct site *v;

	if (!f || r->ongoing)
		return NULL;
	v = site_get(s, f);
	if (!v) {
		s->untracked++;
		return NULL;
	}
	site_add(v, r, now);
	if (v->raised || v->count < s->repeat)
		return NULL;
	v->raised = true;
	return site_json(s, v, now);
}

void lint_sites_append(const struct lint_sites *s, json_t *arr)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].raised)
			json_array_append_new(arr, site_json(s, &s->v[i], s->v[i].last_ts));
}
