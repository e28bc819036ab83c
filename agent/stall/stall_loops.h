/* SPDX-License-Identifier: GPL-2.0-only */
/* Loop threads as Python sees them (stall_loops.c), for stall_monitor.c
 * only: heartbeat cuts of a loop that never blocks in its poll, loops found
 * from Python (and their epoll fds), and spans of threads whose loop was
 * closed. The watcher keeps its own state and hands back decisions ("cut
 * slot i at t", "this span is loopless"); the monitor acts on them. */
#ifndef LOOPSCOPE_STALL_LOOPS_H
#define LOOPSCOPE_STALL_LOOPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "span_key.h"
#include "stall.h"
#include "stall_sampler.h"
#include "stall_tracer.h"

/* A copy of one slot, taken before the ring buffer is drained: events for
 * spans that ended before the copy are then already in the buffer. */
struct slot_copy {
	bool valid;             /* false: the slot is free, or moved while copied */
	struct span_key span;   /* start: the heartbeat's cut included, 0: idle */
	bool restart_pending;   /* a cut the kernel side has not applied yet */
	uint64_t seq;
	struct ls_loop loop;
};

/* The heartbeat moved in this slot's span: the span ended at `at`, at a
 * poll that did not block, and the next one starts there. */
struct loop_cut {
	int slot;
	uint64_t at;
	struct span_key span;   /* the span that ended there */
};

/* What one look at the loops found. */
struct loops_seen {
	bool busy;              /* some loop is in an iteration */
	bool beating;           /* some loop's heartbeat is read at every look */
	int ncuts;
	struct loop_cut cuts[LS_MAX_LOOPS];
};

struct stall_loops;

/* Registers the threads of pid already blocked in an epoll wait: loop
 * threads whose next iteration is then measured from its very start. */
void stall_loops_seed_waiting(pid_t pid, struct stall_tracer *tr);
/* sampler NULL: no Python view (syscall entries are traced instead). The
 * tracer and sampler must outlive the watcher. */
int stall_loops_new(pid_t pid, struct stall_tracer *tr, struct stall_sampler *sampler,
		    struct stall_loops **out);
void stall_loops_free(struct stall_loops *l);

/* Reads the heartbeat of every loop busy for a while (not needed while
 * syscall entries are traced: every poll entry is seen then) and says
 * what it saw; out->cuts are the spans the monitor must cut. copies:
 * LS_MAX_LOOPS entries, here and below. */
void stall_loops_heartbeats(struct stall_loops *l, const struct slot_copy *copies,
			    uint64_t now, struct loops_seen *out);
/* Loops that never block in their poll are not seen by the kernel side:
 * finds them from Python, once a second, and tells the tracer the epoll fd
 * of a known thread's loop when it changed (a new loop after the first
 * closed). */
void stall_loops_discover(struct stall_loops *l, const struct slot_copy *copies, uint64_t now);
/* True when the thread of the span in slot is known to run no event loop
 * (checked from Python at most every second): the span is no iteration. */
bool stall_loops_loopless(struct stall_loops *l, int slot, const struct slot_copy *c,
			  uint64_t now);
/* The same, from what was last checked, without reading Python. */
bool stall_loops_known_loopless(const struct stall_loops *l, int slot, struct span_key span);
/* Blocked in an epoll wait on the fd Python says its loop polls: idle,
 * though the kernel side has not learned that fd yet (a new loop). */
bool stall_loops_idle_in_own_poll(const struct stall_loops *l, int slot,
				  const struct slot_copy *c);
/* A message for the user that came up while looking (NULL: none), each
 * returned once; valid until the next stall_loops_heartbeats or
 * stall_loops_discover. */
const char *stall_loops_take_note(struct stall_loops *l);

#endif
