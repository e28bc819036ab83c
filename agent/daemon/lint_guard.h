/* SPDX-License-Identifier: GPL-2.0-only */
/* Whether an await sits inside an `async with asyncio.timeout(...)` (or
 * timeout_at, async_timeout.timeout) block. Once entered, a Timeout leaves
 * no frame on the stack, so the frames cannot tell; the source can: the
 * blocks that enclose the line, found by indentation. */
#ifndef LOOPSCOPE_LINT_GUARD_H
#define LOOPSCOPE_LINT_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* text: a Python file (need not be NUL-terminated); line: 1-based. */
bool lint_guard_text(const char *text, size_t len, int line);

/* A few files of one target, read through /proc/PID/root and kept. */
struct lint_guard;

struct lint_guard *lint_guard_new(pid_t pid);
void lint_guard_free(struct lint_guard *g);
/* A lint_guard_fn (lint.h): ctx is the lint_guard. Unreadable: false. */
bool lint_guard_source(void *ctx, const char *file, int line);

#endif
