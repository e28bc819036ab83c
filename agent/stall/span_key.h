/* SPDX-License-Identifier: GPL-2.0-only */
/* The identity of a busy span of a loop thread: its thread and the time it
 * started (CLOCK_MONOTONIC ns, the kernel side's busy_since). A slot's
 * span changes when either does: a new thread took the slot, or the same
 * thread started another iteration. start 0: no span. */
#ifndef LOOPSCOPE_SPAN_KEY_H
#define LOOPSCOPE_SPAN_KEY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct span_key {
	pid_t tid;
	uint64_t start;
};

static inline struct span_key span_key_of(pid_t tid, uint64_t start)
{
	return (struct span_key){ .tid = tid, .start = start };
}

static inline bool span_key_eq(struct span_key a, struct span_key b)
{
	return a.tid == b.tid && a.start == b.start;
}

#endif
