/* SPDX-License-Identifier: GPL-2.0-only */
/* Lost-work events decoded for output: names as UTF-8, frames resolved
 * through the code-object cache, innermost first. */
#ifndef LOOPSCOPE_LOST_REPORT_H
#define LOOPSCOPE_LOST_REPORT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "lost.h"
#include "pyproc.h"
#include "pystack.h"

struct lost_report {
	int kind;             /* enum lost_kind */
	pid_t pid, tid;
	double ts;            /* Unix seconds */
	uint64_t obj;
	char coro[256];
	char task[256];       /* "" when not a task */
	char exception[1024]; /* "ValueError: msg", as str(exc) would say */
	struct py_stack stack;
	/* where the coroutine's function is defined (NULL, -1: not read) */
	const char *defined_file;
	int defined_line;
	/* where the coroutine was created, innermost first: empty unless the
	 * target tracks coroutine origins (asyncio debug mode does) */
	struct py_stack created;
	uint64_t suppressed;  /* same-site events left out before this one */
};

/* A report's stacks hold the target's interned strings: clear them when
 * the target is re-read (exec), free them at the end. */
void lost_report_clear(struct lost_report *r);
void lost_report_free(struct lost_report *r);

const char *lost_kind_name(int kind);
void lost_report_decode(struct py_proc *p, const struct lost_event *e, int64_t mono_to_unix_ns,
			struct lost_report *r);
/* The innermost frame in user code (not in the stdlib's asyncio), or the
 * innermost one: what identifies a call site. */
const struct py_frame *lost_report_site(const struct lost_report *r);

/* What tells call sites apart: kind, coroutine, that frame's file and line. */
struct lost_site {
	int kind;
	char coro[256];
	const char *file;     /* interned: compared by pointer */
	int line;
};

void lost_site_of(const struct lost_report *r, struct lost_site *k);

/* Up to max call sites, each an entry of esize bytes that starts with its
 * struct lost_site: the per-site state watch's output and the agent's
 * aggregation keep. */
struct lost_site_table {
	char *v;
	size_t esize, n, max;
};

int lost_site_table_init(struct lost_site_table *t, size_t esize, size_t max);
void lost_site_table_done(struct lost_site_table *t);
/* r's site's entry, zeroed but for its key when new; NULL once the table
 * is full (a new site past max). */
void *lost_site_table_of(struct lost_site_table *t, const struct lost_report *r);
void *lost_site_table_at(const struct lost_site_table *t, size_t i);

#endif
