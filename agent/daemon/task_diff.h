/* SPDX-License-Identifier: GPL-2.0-only */
/* Terminated tasks, from snapshot diffs: a task seen in one snapshot and
 * gone from the next has ended; it becomes a `task_done` event with its
 * name, coroutine, first and last seen, last location and (when that
 * snapshot was small enough to keep stacks) its stack, and how it ended
 * when the snapshot that no longer has it pending still sees it done
 * ("finished", "cancelled", "raised ExcType"; "unknown" when it is gone
 * from that one too). Also counts the
 * tasks that lived and died between two snapshots, from asyncio's default
 * names (Task-N). No I/O: it sees only the snapshots it is given. It
 * keeps their interned strings: free it before the reader they came from. */
#ifndef LOOPSCOPE_TASK_DIFF_H
#define LOOPSCOPE_TASK_DIFF_H

#include <stdint.h>
#include <jansson.h>
#include "aio.h"

/* Snapshots with more tasks than this keep no stacks for history. */
#define TASK_DIFF_STACKS_MAX 10000

struct task_diff;

struct task_diff *task_diff_new(pid_t pid);
void task_diff_free(struct task_diff *d);
/* Compares snap (taken at Unix time now, interval_s after the one before
 * was due) with the one before; appends a task_done event to `ended` for
 * each task gone, which says interval_s: the granularity of its
 * last_seen. 0 or -ENOMEM. */
int task_diff_update(struct task_diff *d, const struct aio_snapshot *snap, double now,
		     double interval_s, json_t *ended);
/* Tasks that were created and ended between snapshots, as far as the
 * default names tell. */
uint64_t task_diff_missed(const struct task_diff *d);
uint64_t task_diff_ended(const struct task_diff *d);

#endif
