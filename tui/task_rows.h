/* SPDX-License-Identifier: GPL-2.0-only */
/* The Tasks view's rows: the target's tasks filtered, sorted by a column,
 * flat or as the await tree (children under their first awaiter, folded
 * nodes hiding theirs). Rebuilt only when the snapshot or a setting
 * changed, so drawing 10k tasks touches only the visible rows. */
#ifndef LOOPSCOPE_TUI_TASK_ROWS_H
#define LOOPSCOPE_TUI_TASK_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"

enum task_col { TC_ID, TC_NAME, TC_STATE, TC_CORO, TC_LOCATION, TC_AWAITING, TC_BY, TC_AGE, TC_COLS };

#define TREE_DEPTH_MAX 63

struct task_row {
	uint32_t task;
	uint16_t depth;
	uint64_t last;      /* bit k: the ancestor at depth k is its parent's last child */
};

struct task_rows_opts {
	enum task_col sort;
	bool invert, tree;
	const char *filter;
	const struct strmap *folded;   /* task ids */
	double now;
};

/* rows: malloc'd, replaced; 0 or -ENOMEM. */
int task_rows_build(const struct m_target *t, const struct task_rows_opts *o,
		    struct task_row **rows, size_t *n);
/* Sorts idx (n indexes into tasks) by col: ties in snapshot order. Safe
 * on any thread. */
void task_order(const struct m_task *tasks, enum task_col col, bool invert, uint32_t *idx, size_t n);
/* Whether task i matches the filter (name, coroutine, location, awaiting, id). */
bool task_matches(const struct m_task *k, const char *filter);

#endif
