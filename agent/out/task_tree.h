/* SPDX-License-Identifier: GPL-2.0-only */
/* The await tree of a task snapshot (who awaits whom) and one task's
 * awaiter chain: what `pstree` and `where` show, for the commands and the
 * agent alike. */
#ifndef LOOPSCOPE_TASK_TREE_H
#define LOOPSCOPE_TASK_TREE_H

#include <stdbool.h>
#include <jansson.h>
#include "aio.h"

#define TASK_MAX_AWAITER_CHAIN 256

/* Called for each task in tree order (a root, then what it awaits, depth
 * first); cycle: the task is already on the path above (not descended). */
typedef void (*task_tree_visit_fn)(const struct aio_task *t, int depth, bool cycle, void *ctx);

/* Walks every task once, roots first, then what only a cycle hides:
 * 0 or -ENOMEM. */
int task_tree_walk(const struct aio_snapshot *snap, task_tree_visit_fn visit, void *ctx);
/* pstree's document: the snapshot header and "tasks": roots nested under
 * "children"; NULL when out of memory. */
json_t *pstree_json(const struct py_proc *p, const struct aio_snapshot *snap);

/* A task by id ("0x...") or by a name only one task has; NULL otherwise
 * (*matches says how many had that name). */
const struct aio_task *task_find(const struct aio_snapshot *snap, const char *spec, size_t *matches);
/* The first awaiter of each task, up to a root (at most max); stops at a cycle. */
size_t task_awaiter_chain(const struct aio_snapshot *snap, const struct aio_task *t,
			  const struct aio_task **chain, size_t max, bool *cycle);
/* where's document: the header, "task", "awaiter_chain", "cycle". */
json_t *where_json(const struct py_proc *p, const struct aio_snapshot *snap, const struct aio_task *t);

#endif
