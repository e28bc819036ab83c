/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics_text.h"

const double metrics_stall_bounds[METRICS_STALL_BUCKETS] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };

static const char *const states[4] = { "pending", "running", "done", "cancelled" };

struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int tries = 0; tries < 2 && !o->oom; tries++) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = (o->cap + (size_t)n + 1) * 2;
		char *b = realloc(o->buf, cap);

		if (!b) {
			o->oom = true;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
}

/* A label value: \, " and newline escaped as the format wants; what a
 * target named itself may hold any byte, so the rest of the control and
 * non-ASCII bytes become '?' (the value stays valid UTF-8). */
static void label_value(const char *s, char *out, size_t len)
{
	size_t j = 0;

	for (; *s && j + 3 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\' || c == '"') {
			out[j++] = '\\';
			out[j++] = (char)c;
		} else if (c == '\n') {
			out[j++] = '\\';
			out[j++] = 'n';
		} else {
			out[j++] = c < ' ' || c >= 0x7f ? '?' : (char)c;
		}
	}
	out[j] = 0;
}

static void labels(const struct metrics_target *m, char *out, size_t len)
{
	char comm[100];

	label_value(m->comm, comm, sizeof(comm));
	snprintf(out, len, "pid=\"%d\",comm=\"%s\"", (int)m->pid, comm);
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample line per target of a plain value. */
static void each(struct out *o, const struct metrics_target *v, size_t n, const char *name,
		 const char *type, const char *help, double (*get)(const struct metrics_target *))
{
	char l[160];

	head(o, name, type, help);
	for (size_t i = 0; i < n; i++) {
		labels(&v[i], l, sizeof(l));
		put(o, "%s{%s} %.15g\n", name, l, get(&v[i]));
	}
}

static double get_stalls(const struct metrics_target *m) { return (double)m->stalls; }
static double get_busy(const struct metrics_target *m) { return m->busy_ratio; }
static double get_never(const struct metrics_target *m) { return (double)m->never_awaited; }
static double get_unretr(const struct metrics_target *m) { return (double)m->unretrieved; }
static double get_destroyed(const struct metrics_target *m) { return (double)m->destroyed_pending; }
static double get_threads(const struct metrics_target *m) { return (double)m->threads; }
static double get_up(const struct metrics_target *m) { return m->up; }

static void stall_hist(struct out *o, const struct metrics_target *v, size_t n)
{
	const char *name = "loopscope_stall_duration_seconds";
	char l[160];

	head(o, name, "histogram", "Duration of the event loop stalls (iterations over the threshold).");
	for (size_t i = 0; i < n; i++) {
		uint64_t cum = 0;

		labels(&v[i], l, sizeof(l));
		for (int b = 0; b < METRICS_STALL_BUCKETS; b++) {
			cum += v[i].stall_buckets[b];
			put(o, "%s_bucket{%s,le=\"%g\"} %llu\n", name, l, metrics_stall_bounds[b],
			    (unsigned long long)cum);
		}
		put(o, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, l, (unsigned long long)v[i].stalls);
		put(o, "%s_sum{%s} %.15g\n%s_count{%s} %llu\n", name, l, v[i].stall_seconds, name, l,
		    (unsigned long long)v[i].stalls);
	}
}

/* The stall monitor's buckets as they are: bucket b holds the spans of
 * floor(log2(us)) == b, so its upper bound is 2^(b+1) us; the last one
 * holds everything longer. */
static void lag_hist(struct out *o, const struct metrics_target *v, size_t n)
{
	const char *name = "loopscope_loop_lag_seconds";
	char l[160];

	head(o, name, "histogram", "Busy time of each event loop iteration: how long callbacks "
	     "waiting to run could have waited.");
	for (size_t i = 0; i < n; i++) {
		uint64_t cum = 0;

		labels(&v[i], l, sizeof(l));
		for (int b = 0; b < LS_HIST_SLOTS - 1; b++) {
			cum += v[i].lag.hist[b];
			put(o, "%s_bucket{%s,le=\"%g\"} %llu\n", name, l, (double)(2ULL << b) / 1e6,
			    (unsigned long long)cum);
		}
		cum += v[i].lag.hist[LS_HIST_SLOTS - 1];
		put(o, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, l, (unsigned long long)cum);
		put(o, "%s_sum{%s} %.15g\n%s_count{%s} %llu\n", name, l, (double)v[i].lag.busy_ns / 1e9,
		    name, l, (unsigned long long)cum);
	}
}

static void tasks(struct out *o, const struct metrics_target *v, size_t n)
{
	char l[160];

	head(o, "loopscope_tasks", "gauge", "asyncio tasks in the last snapshot, by state.");
	for (size_t i = 0; i < n; i++) {
		labels(&v[i], l, sizeof(l));
		for (int s = 0; s < 4; s++)
			put(o, "loopscope_tasks{%s,state=\"%s\"} %llu\n", l, states[s],
			    (unsigned long long)v[i].tasks[s]);
	}
}

static void lints(struct out *o, const struct metrics_target *v, size_t n)
{
	char l[160];

	head(o, "loopscope_lints_total", "counter", "Lints raised (lint events), by lint.");
	for (size_t i = 0; i < n; i++) {
		labels(&v[i], l, sizeof(l));
		for (int k = 0; k < LINT_KINDS; k++)
			put(o, "loopscope_lints_total{%s,lint=\"%s\"} %llu\n", l, lint_names[k],
			    (unsigned long long)v[i].lints[k]);
	}
}

void metrics_count_stall(struct metrics_target *m, double ms)
{
	double s = ms / 1e3;
	int b = 0;

	while (b < METRICS_STALL_BUCKETS && s > metrics_stall_bounds[b])
		b++;
	if (b < METRICS_STALL_BUCKETS)
		m->stall_buckets[b]++;
	m->stalls++;
	m->stall_seconds += s;
}

char *metrics_text(const struct metrics_target *v, size_t n, size_t *len)
{
	struct out o = { 0 };

	each(&o, v, n, "loopscope_target_up", "gauge", "1 while the target is watched, 0 once it "
	     "has exited.", get_up);
	each(&o, v, n, "loopscope_stalls_total", "counter", "Event loop stalls (iterations over the "
	     "threshold) that ended.", get_stalls);
	stall_hist(&o, v, n);
	each(&o, v, n, "loopscope_loop_busy_ratio", "gauge", "Fraction of the time the event loops "
	     "were busy (not waiting for I/O) since the agent attached.", get_busy);
	lag_hist(&o, v, n);
	tasks(&o, v, n);
	each(&o, v, n, "loopscope_never_awaited_total", "counter", "Coroutines that were never "
	     "awaited.", get_never);
	each(&o, v, n, "loopscope_unretrieved_exceptions_total", "counter", "Tasks and futures "
	     "destroyed with an exception nobody retrieved.", get_unretr);
	each(&o, v, n, "loopscope_destroyed_pending_total", "counter", "Tasks destroyed while still "
	     "pending.", get_destroyed);
	each(&o, v, n, "loopscope_threads", "gauge", "Threads of the target process.", get_threads);
	lints(&o, v, n);
	if (o.oom || !o.buf) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
