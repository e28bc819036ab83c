/* SPDX-License-Identifier: GPL-2.0-only */
/* Loop threads as Python sees them: heartbeat cuts of a loop that never
 * blocks in its poll, loops found from Python (and their epoll fds), and
 * spans of threads whose loop was closed. The kernel side only sees
 * context switches (bpf/stall.bpf.c); this is what it cannot see. The
 * state below is changed only here; the monitor gets decisions back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "errors.h"
#include "proc.h"
#include "stall_loops.h"
#include "syscalls.h"

/* A long span is checked for a running loop when it passes the threshold,
 * then this often: a thread whose loop was closed (asyncio.run returned)
 * and that never polls again is busy forever in the kernel's eyes. */
#define LOOP_RECHECK_NS 1000000000ULL
#define LOOPLESS_RECHECK_NS 100000000ULL  /* has a new loop started? */

/* A loop busy this long without blocking in its poll has its heartbeat
 * read at every look (every threshold/50, 1 to 10 ms): each move cuts the
 * span. */
#define HEARTBEAT_AFTER_NS 2000000ULL

#define DISCOVERY_EVERY_NS 1000000000ULL
/* Until Python shows a loop, this often for the first seconds: a program
 * just started or exec'd makes its loop a moment after its interpreter,
 * and a loop found a second late has its first stalls unseen (the kernel
 * side does not know its epoll fd yet). */
#define DISCOVERY_EAGER_NS 20000000ULL
#define DISCOVERY_EAGER_FOR_NS 3000000000ULL

/* What Python told us about the loop of one slot's thread. */
struct loop_slot {
	struct span_key hb;     /* span whose heartbeat was last read (its cut included) */
	uint64_t hb_beat;       /* ... and what it read */
	int py_epfd;            /* the loop's epoll fd as Python sees it, -1: unknown */
	struct span_key loop;   /* span last checked for a running loop */
	uint64_t loop_checked;  /* when */
	bool loopless;          /* ... and its thread runs none: not a stall */
};

struct stall_loops {
	pid_t pid;
	struct stall_tracer *tracer;
	struct stall_sampler *sampler;      /* NULL: no Python view */
	uint64_t next_discovery;            /* when to look for loops from Python */
	uint64_t first_discovery;           /* when it first did */
	bool loop_found;                    /* ... and whether one was ever there */
	struct loop_slot slots[LS_MAX_LOOPS];
	char note[256];                     /* for the user */
	bool note_pending;                  /* ... not taken yet */
};

int stall_loops_new(pid_t pid, struct stall_tracer *tr, struct stall_sampler *sampler,
		    struct stall_loops **out)
{
	struct stall_loops *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->pid = pid;
	l->tracer = tr;
	l->sampler = sampler;
	for (int i = 0; i < LS_MAX_LOOPS; i++)
		l->slots[i].py_epfd = -1;
	*out = l;
	return 0;
}

void stall_loops_free(struct stall_loops *l)
{
	free(l);
}

bool stall_loops_known_loopless(const struct stall_loops *l, int slot, struct span_key span)
{
	const struct loop_slot *s = &l->slots[slot];

	return s->loopless && span_key_eq(s->loop, span);
}

bool stall_loops_loopless(struct stall_loops *l, int slot, const struct slot_copy *c,
			  uint64_t now)
{
	struct loop_slot *s = &l->slots[slot];

	if (!l->sampler)
		return false; /* syscalls are traced: the loop's close is seen */
	if (!span_key_eq(s->loop, c->span)) {
		s->loop = c->span;
		s->loop_checked = 0;
		s->loopless = false;
		l->next_discovery = 0; /* a long span: is its loop's fd still right? */
	}
	if (!s->loopless && now - s->loop_checked >= LOOP_RECHECK_NS) {
		s->loop_checked = now;
		s->loopless = stall_sampler_runs_no_loop(l->sampler, c->span.tid);
	} else if (s->loopless && now - s->loop_checked >= LOOPLESS_RECHECK_NS) {
		/* The span stays void (it began before any new loop), but a new
		 * loop may poll another fd: tell the kernel side at once. */
		s->loop_checked = now;
		if (!stall_sampler_runs_no_loop(l->sampler, c->span.tid))
			l->next_discovery = 0;
	}
	return s->loopless;
}

bool stall_loops_idle_in_own_poll(const struct stall_loops *l, int slot,
				  const struct slot_copy *c)
{
	const struct ls_loop *lp = &c->loop;
	int fd = l->slots[slot].py_epfd;

	return lp->off_since && syscall_is_epoll_wait(lp->off_sys) && fd >= 0 &&
	       lp->off_arg0 == fd;
}

const char *stall_loops_take_note(struct stall_loops *l)
{
	if (!l->note_pending)
		return NULL;
	l->note_pending = false;
	return l->note;
}

/* A loop whose heartbeat cannot be read (uvloop) is followed by tracing
 * syscall entries instead: exact, at a cost to every process. */
static void no_heartbeat(struct stall_loops *l, pid_t tid)
{
	if (stall_tracer_syscalls_on(l->tracer) || stall_tracer_trace_syscalls(l->tracer))
		return;
	snprintf(l->note, sizeof(l->note), "thread %d runs a loop without a readable heartbeat "
		 "(uvloop): tracing every syscall entry instead, which costs every process "
		 "~0.1 us per syscall", tid);
	l->note_pending = true;
}

/* Reads the heartbeat of the loop in slot i, busy in the span of c; when
 * it moved since the last look at this span, the loop has run another
 * callback without blocking in its poll: the span ends now. */
static bool beat_moved(struct stall_loops *l, int i, const struct slot_copy *c, uint64_t now)
{
	struct loop_slot *s = &l->slots[i];
	bool moved = false;
	uint64_t beat;
	int err = stall_sampler_heartbeat(l->sampler, c->span.tid, now, &beat);

	if (err == -LS_EUNSUPPORTED)
		no_heartbeat(l, c->span.tid);
	if (err)
		return false;
	if (span_key_eq(s->hb, c->span) && beat != s->hb_beat) {
		moved = true;
		s->hb = span_key_of(c->span.tid, now); /* the next span starts at the cut */
	} else if (!span_key_eq(s->hb, c->span)) {
		s->hb = c->span; /* the first look at this span */
	}
	s->hb_beat = beat;
	return moved;
}

void stall_loops_heartbeats(struct stall_loops *l, const struct slot_copy *copies,
			    uint64_t now, struct loops_seen *out)
{
	out->busy = false;
	out->beating = false;
	out->ncuts = 0;
	for (int i = 0; i < LS_MAX_LOOPS; i++) {
		const struct slot_copy *c = &copies[i];

		if (!c->valid || !c->span.tid || !c->span.start || c->span.start > now)
			continue;
		out->busy = true;
		if (!l->sampler || stall_tracer_syscalls_on(l->tracer) ||
		    now - c->span.start < HEARTBEAT_AFTER_NS)
			continue;
		out->beating = true;
		if (beat_moved(l, i, c, now))
			out->cuts[out->ncuts++] = (struct loop_cut){ .slot = i, .at = now,
								      .span = c->span };
	}
}

/* The epoll fd thread tid is blocked on (from /proc), -1 when it is not. */
static int epoll_wait_fd(pid_t pid, pid_t tid)
{
	unsigned long arg0;
	long nr;

	if (proc_thread_syscall(pid, tid, &nr, &arg0) || !syscall_is_epoll_wait(nr))
		return -1;
	return (int)arg0;
}

static int slot_of(const struct slot_copy *copies, pid_t tid)
{
	for (int i = 0; i < LS_MAX_LOOPS; i++)
		if (copies[i].valid && copies[i].span.tid == tid)
			return i;
	return -1;
}

void stall_loops_discover(struct stall_loops *l, const struct slot_copy *copies, uint64_t now)
{
	struct sampler_loop loops[64];
	size_t n;

	if (!l->sampler || now < l->next_discovery)
		return;
	if (!l->first_discovery)
		l->first_discovery = now;
	if (stall_sampler_loops(l->sampler, loops, 64, &n))
		n = 0;
	l->loop_found = l->loop_found || n > 0;
	l->next_discovery = now + (!l->loop_found && now - l->first_discovery < DISCOVERY_EAGER_FOR_NS ?
				   DISCOVERY_EAGER_NS : DISCOVERY_EVERY_NS);
	for (size_t i = 0; i < n; i++) {
		int slot = slot_of(copies, loops[i].tid);

		if (loops[i].uvloop)
			no_heartbeat(l, loops[i].tid);
		else if (loops[i].epfd < 0)
			continue;
		else if (slot < 0)
			stall_tracer_seed_loop(l->tracer, loops[i].tid, loops[i].epfd,
					       epoll_wait_fd(l->pid, loops[i].tid) < 0);
		else {
			l->slots[slot].py_epfd = loops[i].epfd;
			if (copies[slot].loop.epfd != loops[i].epfd)
				stall_tracer_hint_epfd(l->tracer, slot, loops[i].epfd);
		}
	}
}

void stall_loops_seed_waiting(pid_t pid, struct stall_tracer *tr)
{
	pid_t *tids;
	size_t n;

	if (proc_threads(pid, &tids, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		int fd = epoll_wait_fd(pid, tids[i]);

		if (fd >= 0)
			stall_tracer_seed_loop(tr, tids[i], fd, false);
	}
	free(tids);
}
