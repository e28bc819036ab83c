/* SPDX-License-Identifier: GPL-2.0-only */
/* asyncio tasks as the JSON contract of ps/where/pstree, and as text. */
#ifndef LOOPSCOPE_TASK_OUTPUT_H
#define LOOPSCOPE_TASK_OUTPUT_H

#include <stdio.h>
#include <jansson.h>
#include "aio.h"

const char *task_state_name(int state);
/* The innermost frame in the user's own code (else in an installed
 * package, else the innermost): where the task waits, as its author sees
 * it. NULL when the task has no frame. */
const struct py_frame *task_user_frame(const struct aio_task *t);
/* "file:line" of that frame, "-" when none. */
void task_location(const struct aio_task *t, char *buf, size_t len);
json_t *task_json(const struct aio_task *t);
json_t *loops_json(const struct aio_snapshot *snap);
/* {"pid","python","loops",...} without tasks: callers add theirs. */
json_t *snapshot_header_json(const struct py_proc *p, const struct aio_snapshot *snap);
void task_id(uint64_t addr, char *buf, size_t len);

#endif
