/* SPDX-License-Identifier: GPL-2.0-only */
/* The stall monitor's state, shared by the two files that own it:
 * stall_monitor.c (reports, timed work, summary) and stall_python.c (its
 * Python view of the target: opened at start, read again after an exec). */
#ifndef LOOPSCOPE_STALL_MONITOR_INT_H
#define LOOPSCOPE_STALL_MONITOR_INT_H

#include "span_key.h"
#include "stall_loops.h"
#include "stall_monitor.h"
#include "stall_sampler.h"
#include "stall_tracer.h"

/* What was reported of one slot's spans. */
struct slot_reports {
	struct span_key cur;    /* the span that has an id (start 0: none) */
	uint64_t id;            /* its report id, 0 until it is a stall */
	uint64_t ongoing_at;    /* when it was last reported ongoing, 0: never */
	struct span_key done;   /* the last span of this slot already finished */
};

/* What the kernel's samples gave a slot (stall_sampler_kernel_drain). */
struct kernel_reads {
	struct span_key span;   /* the last span they fed, start 0: none */
	bool faulted;           /* one failed this tick: read from user space */
};

struct stall_monitor {
	struct stall_monitor_opts opts;
	struct stall_tracer *tracer;
	struct stall_sampler *sampler;      /* NULL: no Python stacks */
	struct stall_loops *loops;
	struct span_profile *profiles;      /* LS_MAX_LOOPS, one per slot */
	uint64_t *last_sample_ns;
	struct stall_sample scratch;
	stall_report_fn cb;
	void *ctx;
	int64_t mono_to_unix_ns;
	uint64_t next_id;
	uint64_t stalls;
	double worst_ms;
	uint64_t stopped_ns;                /* watching ended (stall_monitor_stop), 0: not yet */
	uint64_t unfinished;                /* stalls still under way then */
	uint64_t due_ns;                    /* when the timed work is next due */
	struct slot_reports slots[LS_MAX_LOOPS];
	struct kernel_reads kernel[LS_MAX_LOOPS];
	uint64_t kernel_until;              /* samples taken after it wait (this tick's now) */
	struct slot_copy copies[LS_MAX_LOOPS]; /* of the kernel's slots, at the last look */
	struct ls_totals cuts;              /* iterations cut by the heartbeat */
	struct ls_totals voided;            /* spans the kernel counted that ran no loop */
	/* The last thread seen in each slot, and how many loop threads were
	 * seen in all: the kernel side frees a slot when its thread exits, and
	 * a target that exited still had its loops. */
	pid_t seen_tids[LS_MAX_LOOPS];
	int loops_had;
	/* The target's execs, as the kernel counted them: the Python view is
	 * dropped at once and read again from the new program. */
	uint64_t execs;
	uint64_t exec_at;                   /* the last one, its program not read yet; 0: none */
	uint64_t exec_retry_at;
	bool exec_news;                     /* one for stall_monitor_take_exec */
	char warning[640];
	int sampler_err;          /* why there is no sampler (0: there is one) */
};

/* stall_python.c */
/* Opens the Python view at start (a warning when there is none). */
void stall_python_start(struct stall_monitor *m);
/* The loop watcher, on the current Python view (NULL: none). */
int stall_python_renew_loops(struct stall_monitor *m);
/* Without Python there is no heartbeat to read: poll entries are traced. */
void stall_python_trace_without(struct stall_monitor *m);
/* Follows an exec the kernel side counted: 0 or -errno. */
int stall_python_follow_exec(struct stall_monitor *m, uint64_t now);

#endif
