/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's lints: patterns in what it watches that the async tutorials
 * warn about, each with what to do instead. blocking-call comes from
 * finished stalls (lint_sites.c, on the loop thread); unbounded-concurrency
 * and long-await from task snapshots (lint_tasks.c, on the thread pool).
 * Both are pure code: they see only the reports and snapshots given. */
#ifndef LOOPSCOPE_LINT_H
#define LOOPSCOPE_LINT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "aio.h"
#include "stall_monitor.h"

enum lint_kind { LINT_BLOCKING_CALL, LINT_UNBOUNDED_CONCURRENCY, LINT_LONG_AWAIT, LINT_KINDS };

extern const char *const lint_names[LINT_KINDS];

#define LINT_DEFAULT_REPEAT 3        /* stalls at one site that make it a blocking call */
#define LINT_DEFAULT_PENDING 1000    /* pending tasks of one coroutine */
#define LINT_RISING_SNAPSHOTS 10     /* ...or a pending count that rose in this many in a row */
#define LINT_DEFAULT_AWAIT_S 60.0    /* at the same await, with no timeout */
#define LINT_MAX_KEYS 4096           /* sites or coroutines tracked per target */

struct lint_opts {
	unsigned repeat;
	unsigned pending_max;
	double await_s;
};

/* --- blocking-call (lint_sites.c) --- */
struct lint_sites;

struct lint_sites *lint_sites_new(pid_t pid, unsigned repeat);
void lint_sites_free(struct lint_sites *s);
/* A finished stall at Unix time now: a new lint event when its site has
 * now stalled `repeat` times, else NULL. */
json_t *lint_sites_stall(struct lint_sites *s, const struct stall_report *r, double now);
/* Appends the site lints raised so far, with their counts now. */
void lint_sites_append(const struct lint_sites *s, json_t *arr);

/* --- unbounded-concurrency, long-await (lint_tasks.c) --- */
struct lint_tasks;

/* Whether the await at file:line sits in an `async with asyncio.timeout()`
 * block (the frames cannot tell, the source can): NULL never looks. */
typedef bool (*lint_guard_fn)(void *ctx, const char *file, int line);

struct lint_tasks *lint_tasks_new(pid_t pid, const struct lint_opts *o, lint_guard_fn guard,
				  void *guard_ctx);
void lint_tasks_free(struct lint_tasks *l);
/* Compares snap (Unix time now) with the snapshots before: appends a lint
 * event to `raised` for each lint that starts now, and every lint in force
 * to `active`. 0 or -ENOMEM. */
int lint_tasks_update(struct lint_tasks *l, const struct aio_snapshot *snap, double now,
		      json_t *raised, json_t *active);

/* The frame that names the code at fault: the innermost one outside
 * Python's own library (a site-packages frame counts as code), or the
 * innermost when all are. NULL for an empty stack. */
const struct py_frame *lint_site_frame(const struct py_stack *s);
/* The lint's common fields: {"event":"lint","pid","ts","lint","advice"}. */
json_t *lint_event(pid_t pid, double now, enum lint_kind k, const char *advice);

#endif
