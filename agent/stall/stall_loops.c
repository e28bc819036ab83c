/* Loop threads as Python sees them: heartbeat cuts of a loop that never
 * blocks in its poll, loops found from Python (and their epoll fds), and
 * spans of threads whose loop was closed. The kernel side only sees
 * context switches (bpf/stall.bpf.c); this is what it cannot see. */
#include <stdio.h>
#include <stdlib.h>
#include "errors.h"
#include "proc.h"
#include "stall_monitor_int.h"
#include "syscalls.h"

/* True when the span's thread is known to run no event loop (checked from
 * Python at most every LOOP_RECHECK_NS): its span is no loop iteration. */
bool loops_span_loopless(struct stall_monitor *m, int slot, const struct slot_copy *c,
			  uint64_t now)
{
	struct span_track *t = &m->track[slot];

	if (!m->sampler)
		return false; /* syscalls are traced: the loop's close is seen */
	if (t->loop_tid != c->tid || t->loop_start != c->busy_since) {
		t->loop_tid = c->tid;
		t->loop_start = c->busy_since;
		t->loop_checked = 0;
		t->loopless = false;
		m->next_discovery = 0; /* a long span: is its loop's fd still right? */
	}
	if (!t->loopless && now - t->loop_checked >= LOOP_RECHECK_NS) {
		t->loop_checked = now;
		t->loopless = stall_sampler_runs_no_loop(m->sampler, c->tid);
	} else if (t->loopless && now - t->loop_checked >= LOOPLESS_RECHECK_NS) {
		/* The span stays void (it began before any new loop), but a new
		 * loop may poll another fd: tell the kernel side at once. */
		t->loop_checked = now;
		if (!stall_sampler_runs_no_loop(m->sampler, c->tid))
			m->next_discovery = 0;
	}
	return t->loopless;
}

/* Blocked in an epoll wait on the fd Python says its loop polls: idle,
 * though the kernel side has not learned that fd yet (a new loop). */
bool loops_idle_in_own_poll(const struct stall_monitor *m, int slot, const struct slot_copy *c)
{
	const struct ls_loop *l = &c->loop;
	int fd = m->track[slot].py_epfd;

	return l->off_since && syscall_is_epoll_wait(l->off_sys) && fd >= 0 && l->off_arg0 == fd;
}

/* A loop whose heartbeat cannot be read (uvloop) is followed by tracing
 * syscall entries instead: exact, at a cost to every process. */
static void no_heartbeat(struct stall_monitor *m, pid_t tid)
{
	if (stall_tracer_syscalls_on(m->tracer) || stall_tracer_trace_syscalls(m->tracer))
		return;
	fprintf(stderr, "loopscope: thread %d runs a loop without a readable heartbeat (uvloop): "
		"tracing every syscall entry instead, which costs every process ~0.1 us per "
		"syscall\n", tid);
}

static void count_cut(struct ls_totals *t, uint64_t ns)
{
	t->busy_ns += ns;
	t->spans++;
	t->hist[ls_hist_bucket(ns)]++;
}

/* Reads the heartbeat of every loop busy for a while; when it moved, the
 * loop has run another callback without blocking in its poll: the kernel
 * side cuts the span there. Not needed while syscall entries are traced. */
void loops_watch_heartbeats(struct stall_monitor *m, const struct slot_copy *copies,
			     const bool *valid, uint64_t now)
{
	m->beating = false;
	m->busy = false;
	for (int i = 0; i < LS_MAX_LOOPS; i++) {
		const struct slot_copy *c = &copies[i];
		struct span_track *t = &m->track[i];
		uint64_t beat;
		int err;

		if (!valid[i] || !c->tid || !c->busy_since || c->busy_since > now)
			continue;
		m->busy = true;
		if (!m->sampler || stall_tracer_syscalls_on(m->tracer) ||
		    now - c->busy_since < HEARTBEAT_AFTER_NS)
			continue;
		m->beating = true;
		err = stall_sampler_heartbeat(m->sampler, c->tid, now, &beat);
		if (err == -LS_EUNSUPPORTED)
			no_heartbeat(m, c->tid);
		if (err)
			continue;
		if (t->hb_tid == c->tid && t->hb_span == c->busy_since && beat != t->hb_beat) {
			/* the loop took its next callback: the span ended at a poll
			 * that did not block, a stall if it was long */
			stall_tracer_restart(m->tracer, i, now);
			count_cut(&m->cuts, now - c->busy_since);
			if (now - c->busy_since >= m->opts.threshold_ns &&
			    !(t->done_tid == c->tid && t->done_start == c->busy_since))
				monitor_report_copy(m, i, c, now, false);
			t->hb_span = now;
		} else if (t->hb_tid != c->tid || t->hb_span != c->busy_since) {
			t->hb_span = c->busy_since; /* the first look at this span */
		}
		t->hb_tid = c->tid;
		t->hb_beat = beat;
	}
}

#define DISCOVERY_EVERY_NS 1000000000ULL

/* The epoll fd thread tid is blocked on (from /proc), -1 when it is not. */
static int epoll_wait_fd(pid_t pid, pid_t tid)
{
	unsigned long arg0;
	long nr;

	if (proc_thread_syscall(pid, tid, &nr, &arg0) || !syscall_is_epoll_wait(nr))
		return -1;
	return (int)arg0;
}

static int slot_of(const struct slot_copy *copies, const bool *valid, pid_t tid)
{
	for (int i = 0; i < LS_MAX_LOOPS; i++)
		if (valid[i] && copies[i].tid == tid)
			return i;
	return -1;
}

/* Loops that never block in their poll are not seen by the kernel side:
 * find them from Python, once a second; and tell it the epoll fd of a
 * known thread's loop when it changed (a new loop after the first closed). */
void loops_discover(struct stall_monitor *m, const struct slot_copy *copies,
			   const bool *valid, uint64_t now)
{
	struct sampler_loop loops[64];
	size_t n;

	if (!m->sampler || now < m->next_discovery)
		return;
	m->next_discovery = now + DISCOVERY_EVERY_NS;
	if (stall_sampler_loops(m->sampler, loops, 64, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		int slot = slot_of(copies, valid, loops[i].tid);

		if (loops[i].uvloop)
			no_heartbeat(m, loops[i].tid);
		else if (loops[i].epfd < 0)
			continue;
		else if (slot < 0)
			stall_tracer_seed_loop(m->tracer, loops[i].tid, loops[i].epfd,
					       epoll_wait_fd(m->opts.pid, loops[i].tid) < 0);
		else {
			m->track[slot].py_epfd = loops[i].epfd;
			if (copies[slot].loop.epfd != loops[i].epfd)
				stall_tracer_hint_epfd(m->tracer, slot, loops[i].epfd);
		}
	}
}

/* Threads already blocked in an epoll wait when we attach are loop threads
 * whose next iteration we want to measure from its very start. */
void loops_seed_waiting(struct stall_monitor *m)
{
	pid_t *tids;
	size_t n;

	if (proc_threads(m->opts.pid, &tids, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		int fd = epoll_wait_fd(m->opts.pid, tids[i]);

		if (fd >= 0)
			stall_tracer_seed_loop(m->tracer, tids[i], fd, false);
	}
	free(tids);
}
