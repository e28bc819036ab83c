/* SPDX-License-Identifier: GPL-2.0-only */
/* One ps answer made into the Tasks view's data: its task rows, the
 * counts by state, the await links (parent, children) and each task's
 * first-seen time carried over from the snapshot before. For 50,000 tasks
 * that takes 60-140 ms, so a live session builds it on the parser's thread
 * as soon as the line is parsed (task_snap_prepare, a line_parser hook),
 * and the key loop only swaps it in whole (model.c): a view shows the old
 * snapshot or the new one, never half of one. A snapshot is never changed
 * once built; it is shared by reference count between the model and the
 * thread (which keeps the last one of each target for the next one's
 * first-seen times). */
#ifndef LOOPSCOPE_TUI_TASK_SNAP_H
#define LOOPSCOPE_TUI_TASK_SNAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "model.h"

struct task_snap {
	atomic_int refs;
	pid_t pid;                 /* the target it is of */
	json_t *ps;                /* the answer's result: the strings below point into it */
	struct m_task *tasks;
	size_t ntasks, by_state[M_UNKNOWN + 1];
	size_t *kids;              /* children: tasks[i].kid0 .. +nkids */
	struct strmap *first_seen; /* task id -> first seen (keys borrowed from ps) */
	double time;               /* when it was built */
	/* every task, sorted by order_sort (an enum task_col) and
	 * order_invert: the Tasks view's sort, done on the thread too (NULL:
	 * not done; the view sorts then) */
	uint32_t *order;
	int order_sort;
	bool order_invert;
};

/* The snapshot of body (a ps result; a reference is taken) for pid, tasks
 * seen in prev (NULL: none) keeping their first-seen time, the others
 * seen at now. NULL when body has no task array or memory ran out. One
 * reference, the caller's. */
struct task_snap *task_snap_build(json_t *body, pid_t pid, const struct task_snap *prev, double now);
struct task_snap *task_snap_ref(struct task_snap *s);
/* Drops a reference; the last one frees the arrays here and hands the
 * document to dispose (NULL: json_decref here). */
void task_snap_unref(struct task_snap *s, void (*dispose)(json_t *doc, void *ctx), void *ctx);

/* The parser thread's side: the last snapshot built for each target. */
struct task_snap_chain;
struct task_snap_chain *task_snap_chain_new(void);
void task_snap_chain_free(struct task_snap_chain *c);
/* The sort the Tasks view shows (from the key loop): the next snapshots
 * come sorted that way (sort < 0: not sorted). */
void task_snap_chain_want_order(struct task_snap_chain *c, int sort, bool invert);
/* A line_parser hook, on its thread: for a line that is an answer with a
 * task array ({"id":N,"result":{"pid":P,"tasks":[...]}}), its snapshot
 * (one reference for the caller, one kept in chain); NULL for any other
 * line. The key loop checks that the answer was a ps of that pid. */
void *task_snap_prepare(const json_t *line, void *chain);
/* The hook's release, on the parser's thread. */
void task_snap_release(void *snap, void *chain);

#endif
