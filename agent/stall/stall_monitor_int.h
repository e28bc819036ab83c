/* Internals shared by stall_monitor.c (turning spans into reports) and
 * stall_loops.c (finding loop threads and judging their spans from
 * Python). Not an API: only these two files include it. */
#ifndef LOOPSCOPE_STALL_MONITOR_INT_H
#define LOOPSCOPE_STALL_MONITOR_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "stall.h"
#include "stall_monitor.h"
#include "stall_sampler.h"
#include "stall_tracer.h"

/* What user space knows about the current span of one loop slot. */
struct span_track {
	pid_t tid;
	uint64_t start;        /* busy_since of the tracked span, 0: none */
	uint64_t id;           /* report id, 0 until the span is a stall */
	bool ongoing_sent;
	pid_t done_tid;        /* last span of this slot already finished */
	uint64_t done_start;
	pid_t hb_tid;          /* heartbeat of this slot's loop, seen in span hb_span */
	uint64_t hb_span;
	uint64_t hb_beat;
	int py_epfd;           /* the loop's epoll fd as Python sees it, -1: unknown */
	pid_t loop_tid;        /* span loop_start was checked for a running loop */
	uint64_t loop_start;
	uint64_t loop_checked; /* when */
	bool loopless;         /* ... and its thread runs none: not a stall */
};

/* A long span is checked for a running loop when it passes the threshold,
 * then this often: a thread whose loop was closed (asyncio.run returned)
 * and that never polls again is busy forever in the kernel's eyes. */
#define LOOP_RECHECK_NS 1000000000ULL
#define LOOPLESS_RECHECK_NS 100000000ULL  /* has a new loop started? */

/* A loop busy this long without blocking in its poll has its heartbeat
 * read at every poll (every threshold/50, 1 to 10 ms): each move cuts the
 * span (restart_at). */
#define HEARTBEAT_AFTER_NS 2000000ULL

/* After this many samples of one span, sample it every SLOW_SAMPLE_NS only:
 * a loop hung for minutes should not cost us a core. */
#define FAST_SAMPLES 200
#define SLOW_SAMPLE_NS 20000000ULL

struct stall_monitor {
	struct stall_monitor_opts opts;
	struct stall_tracer *tracer;
	struct stall_sampler *sampler;      /* NULL: no Python stacks */
	struct span_profile *profiles;      /* LS_MAX_LOOPS, one per slot */
	uint64_t *last_sample_ns;
	struct stall_sample scratch;
	bool sampling;                      /* some span is being sampled */
	bool busy;                          /* some loop is in an iteration */
	uint64_t next_discovery;            /* when to look for loops from Python */
	bool beating;                       /* some loop's heartbeat is watched */
	stall_report_fn cb;
	void *ctx;
	int64_t mono_to_unix_ns;
	uint64_t next_id;
	uint64_t stalls;
	double worst_ms;
	struct span_track track[LS_MAX_LOOPS];
	struct ls_totals cuts;              /* iterations cut by the heartbeat */
	char warning[640];
};

/* A copy of one slot, taken before the ring buffer is drained: events for
 * spans that ended before the copy are then already in the buffer. */
struct slot_copy {
	pid_t tid;
	uint64_t busy_since;    /* the span's start, the heartbeat's cut included */
	bool restart_pending;   /* a cut the kernel side has not applied yet */
	uint64_t seq;
	struct ls_loop loop;
};

/* stall_monitor.c: a report from a copy of the slot, for a span still
 * under way (ongoing) or one that ended at `now` at a poll that did not
 * block (final). */
void monitor_report_copy(struct stall_monitor *m, int slot, const struct slot_copy *c,
			 uint64_t now, bool ongoing);

/* stall_loops.c */
bool loops_span_loopless(struct stall_monitor *m, int slot, const struct slot_copy *c,
			 uint64_t now);
bool loops_idle_in_own_poll(const struct stall_monitor *m, int slot, const struct slot_copy *c);
void loops_watch_heartbeats(struct stall_monitor *m, const struct slot_copy *copies,
			    const bool *valid, uint64_t now);
void loops_discover(struct stall_monitor *m, const struct slot_copy *copies, const bool *valid,
		    uint64_t now);
void loops_seed_waiting(struct stall_monitor *m);

#endif
