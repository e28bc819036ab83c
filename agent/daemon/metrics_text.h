/* SPDX-License-Identifier: GPL-2.0-only */
/* The Prometheus text exposition (format 0.0.4) of the agent's numbers,
 * from plain values: no I/O, no libuv. Names and units follow Prometheus's
 * conventions (seconds, _total for counters, ratios 0..1). */
#ifndef LOOPSCOPE_METRICS_TEXT_H
#define LOOPSCOPE_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "lint.h"
#include "stall.h"

/* Upper bounds (seconds) of the stall duration histogram's buckets. */
#define METRICS_STALL_BUCKETS 9
extern const double metrics_stall_bounds[METRICS_STALL_BUCKETS];

struct metrics_target {
	pid_t pid;
	char comm[32];
	bool up;
	uint64_t stalls;                                /* finished */
	uint64_t stall_buckets[METRICS_STALL_BUCKETS];  /* per bucket, not cumulative */
	double stall_seconds;
	double busy_ratio;
	struct ls_totals lag;                           /* busy spans (iterations) */
	uint64_t tasks[4];                              /* by enum aio_state */
	uint64_t never_awaited, unretrieved, destroyed_pending;
	uint64_t threads;
	uint64_t lints[LINT_KINDS];
};

/* Adds a finished stall of ms to the histogram. */
void metrics_count_stall(struct metrics_target *m, double ms);
/* The exposition of n targets, malloc'd (*len), NULL when out of memory. */
char *metrics_text(const struct metrics_target *v, size_t n, size_t *len);

#endif
