#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "errors.h"
#include "proc.h"
#include "stall_monitor.h"
#include "stall_report.h"
#include "stall_sampler.h"
#include "stall_tracer.h"
#include "syscalls.h"

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
 * read at every poll (~1 kHz): each move cuts the span (restart_at). */
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

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int64_t mono_to_unix_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL +
	       ((int64_t)rt.tv_nsec - mono.tv_nsec);
}

static void fill_common(struct stall_monitor *m, struct stall_report *r, pid_t tid,
			uint64_t start, uint64_t end, uint64_t on_cpu)
{
	r->pid = m->opts.pid;
	r->tid = tid;
	proc_thread_name(m->opts.pid, tid, r->thread_name, sizeof(r->thread_name));
	r->ts = (double)((int64_t)start + m->mono_to_unix_ns) / 1e9;
	r->duration_ms = (end - start) / 1e6;
	if (on_cpu > end - start)
		on_cpu = end - start;
	r->on_cpu_ms = on_cpu / 1e6;
	r->off_cpu_ms = r->duration_ms - r->on_cpu_ms;
}

/* The stack, task and GIL holder the samples of this span saw most. */
static void attach_profile(struct stall_monitor *m, int slot, pid_t tid, uint64_t start,
			   struct stall_report *r)
{
	const struct span_profile *prof;
	const struct span_bucket *top, *gil;

	if (!m->profiles)
		return;
	prof = &m->profiles[slot];
	if (prof->tid != tid || prof->start != start)
		return;
	r->samples = prof->samples;
	top = span_profile_top(prof);
	if (!top)
		return;
	r->stack = &top->sample.stack;
	r->task = top->sample.has_task ? &top->sample.task : NULL;
	gil = span_profile_gil(prof);
	if (gil) {
		r->gil_holder = gil->sample.gil_holder;
		r->gil_holder_stack = &gil->sample.holder_stack;
	}
}

static void note_stall(struct stall_monitor *m, const struct stall_report *r)
{
	if (r->duration_ms > m->worst_ms)
		m->worst_ms = r->duration_ms;
}

/* A finished stall from the kernel. */
static void on_stall_event(const struct stall_event *e, void *ctx)
{
	struct stall_monitor *m = ctx;
	struct span_track *t = &m->track[e->slot % LS_MAX_LOOPS];
	struct stall_report r = { 0 };

	if (t->done_tid == (pid_t)e->tid && t->done_start == e->start_ns)
		return; /* reported already, when the heartbeat moved */
	if (t->loopless && t->loop_tid == (pid_t)e->tid && t->loop_start == e->start_ns)
		return; /* the time between two loops of the thread */
	if (t->tid == (pid_t)e->tid && t->start == e->start_ns && t->id)
		r.id = t->id;
	else
		r.id = ++m->next_id;
	fill_common(m, &r, (pid_t)e->tid, e->start_ns, e->end_ns, e->on_cpu_ns);
	attach_profile(m, (int)(e->slot % LS_MAX_LOOPS), (pid_t)e->tid, e->start_ns, &r);
	r.thread_exited = e->thread_exited;
	stall_report_add_counts(&r, e->sc, e->nsc, e->sc_other_count, e->sc_other_ns);
	stall_report_sort(&r);
	t->done_tid = (pid_t)e->tid;
	t->done_start = e->start_ns;
	t->id = 0;
	t->start = 0;
	m->stalls++;
	note_stall(m, &r);
	m->cb(&r, m->ctx);
}

/* A copy of one slot, taken before the ring buffer is drained: events for
 * spans that ended before the copy are then already in the buffer. */
struct slot_copy {
	pid_t tid;
	uint64_t busy_since;    /* the span's start, the heartbeat's cut included */
	bool restart_pending;   /* a cut the kernel side has not applied yet */
	uint64_t seq;
	struct ls_loop loop;
};

static bool copy_slot(const volatile struct ls_loop *src, struct slot_copy *c)
{
	for (int tries = 0; tries < 8; tries++) {
		uint64_t seq = src->seq;

		if (seq & 1)
			continue; /* being written on another CPU: a few ns */
		__sync_synchronize();
		memcpy(&c->loop, (const void *)src, sizeof(c->loop));
		__sync_synchronize();
		if (src->seq == seq) {
			c->tid = (pid_t)c->loop.tid;
			c->busy_since = c->loop.busy_since;
			c->restart_pending = c->busy_since && c->loop.restart_at > c->busy_since;
			if (c->restart_pending)
				c->busy_since = c->loop.restart_at;
			c->seq = seq;
			return true;
		}
	}
	return false;
}

/* A report from a copy of the slot, for a span still under way (ongoing)
 * or one that ended at `now` at a poll that did not block (final). */
static void report_from_copy(struct stall_monitor *m, int slot, const struct slot_copy *c,
			     uint64_t now, bool ongoing)
{
	struct span_track *t = &m->track[slot];
	const struct ls_loop *l = &c->loop;
	struct stall_report r = { 0 };
	uint64_t on_cpu = c->restart_pending ? 0 : l->on_cpu_ns;
	uint64_t from = l->last_on > c->busy_since ? l->last_on : c->busy_since;

	if (l->last_on && now > from)
		on_cpu += now - from;
	if (t->tid != c->tid || t->start != c->busy_since) {
		t->tid = c->tid;
		t->start = c->busy_since;
		t->id = 0;
		t->ongoing_sent = false;
	}
	if (ongoing && t->ongoing_sent)
		return;
	if (!t->id)
		t->id = ++m->next_id;
	r.id = t->id;
	r.ongoing = ongoing;
	fill_common(m, &r, c->tid, c->busy_since, now, on_cpu);
	attach_profile(m, slot, c->tid, c->busy_since, &r);
	if (!c->restart_pending)
		stall_report_add_counts(&r, l->sc, l->nsc, l->sc_other_count, l->sc_other_ns);
	if (l->off_since && l->off_sys >= 0 && now > l->off_since) /* blocked in it now */
		stall_report_add_syscall(&r, l->off_sys, 1, now - l->off_since, ongoing);
	stall_report_sort(&r);
	if (ongoing) {
		t->ongoing_sent = true;
	} else {
		t->done_tid = c->tid;
		t->done_start = c->busy_since;
		t->id = 0;
		t->start = 0;
		m->stalls++;
		note_stall(m, &r);
	}
	m->cb(&r, m->ctx);
}

static void report_ongoing(struct stall_monitor *m, int slot, const struct slot_copy *c,
			   uint64_t now)
{
	report_from_copy(m, slot, c, now, true);
}

/* True when the span's thread is known to run no event loop (checked from
 * Python at most every LOOP_RECHECK_NS): its span is no loop iteration. */
static bool span_loopless(struct stall_monitor *m, int slot, const struct slot_copy *c,
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
static bool idle_in_own_poll(const struct stall_monitor *m, int slot, const struct slot_copy *c)
{
	const struct ls_loop *l = &c->loop;
	int fd = m->track[slot].py_epfd;

	return l->off_since && syscall_is_epoll_wait(l->off_sys) && fd >= 0 && l->off_arg0 == fd;
}

/* A span of at least the threshold that still runs a loop. */
static bool span_is_stall(struct stall_monitor *m, int slot, const struct slot_copy *c,
			  uint64_t now)
{
	if (!c->tid || !c->busy_since || c->busy_since > now ||
	    now - c->busy_since < m->opts.threshold_ns)
		return false;
	return !span_loopless(m, slot, c, now) && !idle_in_own_poll(m, slot, c);
}

static void scan_ongoing(struct stall_monitor *m, const struct slot_copy *copies,
			 const bool *valid, uint64_t now)
{
	for (int i = 0; i < LS_MAX_LOOPS; i++) {
		const struct slot_copy *c = &copies[i];
		const struct span_track *t = &m->track[i];

		if (!valid[i] || !span_is_stall(m, i, c, now))
			continue;
		if (t->done_tid == c->tid && t->done_start == c->busy_since)
			continue; /* finished while we drained the ring buffer */
		report_ongoing(m, i, c, now);
	}
}

/* True when the span in the copy is still the slot's current one (or the
 * one a pending heartbeat cut will start). */
static bool span_unchanged(const volatile struct ls_loop *l, const struct slot_copy *c)
{
	uint64_t since = l->busy_since;

	return since == c->loop.busy_since || since == c->busy_since;
}

static bool sample_due(struct stall_monitor *m, int slot, uint64_t now)
{
	if (m->profiles[slot].samples < FAST_SAMPLES)
		return true;
	return now - m->last_sample_ns[slot] >= SLOW_SAMPLE_NS;
}

/* Reads the stack of every loop thread busy for over half the threshold.
 * A reading counts only if the span is still the same one afterwards: a
 * stack must never come from after the stall ended. */
static void sample_busy(struct stall_monitor *m, const struct slot_copy *copies,
			const bool *valid, uint64_t now)
{
	const volatile struct ls_loop *loops = stall_tracer_loops(m->tracer);
	uint64_t half = m->opts.threshold_ns / 2;

	m->sampling = false;
	if (!m->sampler || !m->opts.stacks)
		return;
	for (int i = 0; i < LS_MAX_LOOPS; i++) {
		const struct slot_copy *c = &copies[i];
		struct span_profile *prof = &m->profiles[i];

		if (!valid[i] || !c->tid || !c->busy_since || c->busy_since > now ||
		    now - c->busy_since < half || span_loopless(m, i, c, now))
			continue;
		m->sampling = true;
		if (prof->tid != c->tid || prof->start != c->busy_since)
			span_profile_reset(prof, c->tid, c->busy_since);
		if (!sample_due(m, i, now))
			continue;
		m->last_sample_ns[i] = now;
		if (stall_sampler_read(m->sampler, c->tid,
				       c->loop.off_since && c->loop.off_sys == SYS_futex, &m->scratch))
			continue;
		if (loops[i].tid == c->loop.tid && span_unchanged(&loops[i], c))
			span_profile_add(prof, &m->scratch);
	}
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
	int b = 0;

	for (uint64_t us = ns / 1000; us > 1 && b < LS_HIST_SLOTS - 1; us >>= 1)
		b++;
	t->busy_ns += ns;
	t->spans++;
	t->hist[b]++;
}

/* Reads the heartbeat of every loop busy for a while; when it moved, the
 * loop has run another callback without blocking in its poll: the kernel
 * side cuts the span there. Not needed while syscall entries are traced. */
static void watch_heartbeats(struct stall_monitor *m, const struct slot_copy *copies,
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
				report_from_copy(m, i, c, now, false);
			t->hb_span = now;
		} else if (t->hb_tid != c->tid || t->hb_span != c->busy_since) {
			t->hb_span = c->busy_since; /* the first look at this span */
		}
		t->hb_tid = c->tid;
		t->hb_beat = beat;
	}
}

#define DISCOVERY_EVERY_NS 1000000000ULL

static bool in_epoll_wait(pid_t pid, pid_t tid)
{
	unsigned long arg0;
	long nr;

	return proc_thread_syscall(pid, tid, &nr, &arg0) == 0 && syscall_is_epoll_wait(nr);
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
static void discover_loops(struct stall_monitor *m, const struct slot_copy *copies,
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
					       !in_epoll_wait(m->opts.pid, loops[i].tid));
		else if ((m->track[slot].py_epfd = loops[i].epfd) != copies[slot].loop.epfd)
			stall_tracer_hint_epfd(m->tracer, slot, loops[i].epfd);
	}
}

int stall_monitor_poll(struct stall_monitor *m, int timeout_ms)
{
	static struct slot_copy copies[LS_MAX_LOOPS];
	bool valid[LS_MAX_LOOPS];
	const volatile struct ls_loop *loops = stall_tracer_loops(m->tracer);
	uint64_t now;
	int err;

	err = stall_tracer_poll(m->tracer, timeout_ms);
	if (err)
		return err;
	for (int i = 0; i < LS_MAX_LOOPS; i++)
		valid[i] = loops[i].tid && copy_slot(&loops[i], &copies[i]);
	/* after the copies: no span in them can start after `now` */
	now = mono_now();
	err = stall_tracer_poll(m->tracer, 0);
	if (err)
		return err;
	watch_heartbeats(m, copies, valid, now);
	discover_loops(m, copies, valid, now);
	sample_busy(m, copies, valid, now);
	scan_ongoing(m, copies, valid, now);
	return 0;
}

int stall_monitor_step(struct stall_monitor *m)
{
	uint64_t quarter_ms = m->opts.threshold_ns / 4000000;
	int wait_ms;

	if (m->sampling || m->beating)
		wait_ms = 1; /* ~1 kHz while a stall may be under way */
	else if (m->busy)
		wait_ms = 2;
	else
		wait_ms = quarter_ms < 1 ? 1 : quarter_ms > 10 ? 10 : (int)quarter_ms;
	return stall_monitor_poll(m, wait_ms);
}

int stall_monitor_loops(struct stall_monitor *m)
{
	const volatile struct ls_loop *loops = stall_tracer_loops(m->tracer);
	int n = 0;

	for (int i = 0; i < LS_MAX_LOOPS; i++)
		n += loops[i].tid != 0;
	return n;
}

/* Threads already blocked in an epoll wait when we attach are loop threads
 * whose next iteration we want to measure from its very start. */
static void seed_waiting_loops(struct stall_monitor *m)
{
	pid_t *tids;
	size_t n;

	if (proc_threads(m->opts.pid, &tids, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned long arg0;
		long nr;

		if (proc_thread_syscall(m->opts.pid, tids[i], &nr, &arg0) == 0 &&
		    syscall_is_epoll_wait(nr))
			stall_tracer_seed_loop(m->tracer, tids[i], (int)arg0, false);
	}
	free(tids);
}

/* Warnings for the user, joined into one line. */
static void __attribute__((format(printf, 2, 3))) add_warning(struct stall_monitor *m, const char *fmt, ...)
{
	size_t used = strlen(m->warning);
	va_list ap;

	if (used && used + 2 < sizeof(m->warning)) {
		strcat(m->warning, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(m->warning + used, sizeof(m->warning) - used, fmt, ap);
	va_end(ap);
}

static void start_sampler(struct stall_monitor *m)
{
	char why[256];
	int err = stall_sampler_new(m->opts.pid, &m->sampler, why, sizeof(why));

	if (!err) {
		m->profiles = calloc(LS_MAX_LOOPS, sizeof(*m->profiles));
		m->last_sample_ns = calloc(LS_MAX_LOOPS, sizeof(*m->last_sample_ns));
		if (m->profiles && m->last_sample_ns)
			return;
		snprintf(why, sizeof(why), "out of memory");
		stall_sampler_free(m->sampler);
		m->sampler = NULL;
	}
	add_warning(m, "stalls are reported without Python stacks, and loop iterations are found "
		    "by tracing every syscall entry (which costs every process): %s",
		    why[0] ? why : ls_strerror(err));
}

int stall_monitor_new(const struct stall_monitor_opts *opts, stall_report_fn cb,
		      void *ctx, struct stall_monitor **out)
{
	struct stall_tracer_opts topts = {
		.pid = opts->pid, .threshold_ns = opts->threshold_ns, .verbose = opts->verbose,
		.precise = opts->precise,
	};
	struct stall_monitor *m;
	int err;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->opts = *opts;
	m->cb = cb;
	m->ctx = ctx;
	m->mono_to_unix_ns = mono_to_unix_offset();
	for (int i = 0; i < LS_MAX_LOOPS; i++)
		m->track[i].py_epfd = -1;
	err = stall_tracer_new(&topts, on_stall_event, m, &m->tracer);
	if (err) {
		free(m);
		return err;
	}
	seed_waiting_loops(m);
	start_sampler(m);
	if (!opts->precise && !m->sampler) /* no heartbeat to read: not an asyncio process */
		stall_tracer_trace_syscalls(m->tracer);
	*out = m;
	return 0;
}

void stall_monitor_summary(struct stall_monitor *m, struct stall_summary *out)
{
	const volatile struct ls_loop *loops = stall_tracer_loops(m->tracer);
	struct ls_totals t;
	uint64_t now = mono_now();
	double busy, idle;

	stall_tracer_totals(m->tracer, &t);
	t.busy_ns += m->cuts.busy_ns;
	t.spans += m->cuts.spans;
	for (int b = 0; b < LS_HIST_SLOTS; b++)
		t.hist[b] += m->cuts.hist[b];
	memset(out, 0, sizeof(*out));
	out->stalls = m->stalls;
	out->worst_ms = m->worst_ms;
	busy = (double)t.busy_ns;
	idle = (double)t.idle_ns;
	for (int i = 0; i < LS_MAX_LOOPS; i++) {
		uint64_t since = loops[i].busy_since;

		const struct span_track *t = &m->track[i];

		if (since && loops[i].restart_at > since) /* cut by the heartbeat */
			since = loops[i].restart_at;
		if (!loops[i].tid)
			continue;
		out->loops_seen++;
		if (t->loopless && t->loop_tid == (pid_t)loops[i].tid && t->loop_start == since)
			continue; /* its loop was closed: not busy, not stalled */
		if (since && now > since) {
			double ms = (now - since) / 1e6;

			busy += (double)(now - since);
			if (now - since >= m->opts.threshold_ns) {
				out->stalls++; /* still under way */
				if (ms > out->worst_ms)
					out->worst_ms = ms;
			}
		}
	}
	out->busy_p50_ms = ls_hist_percentile_ms(&t, 0.50);
	out->busy_p99_ms = ls_hist_percentile_ms(&t, 0.99);
	out->utilisation = busy + idle > 0 ? busy / (busy + idle) : 0;
	out->iterations = t.spans;
	out->dropped = t.dropped;
	out->precise = stall_tracer_syscalls_on(m->tracer);
}

const char *stall_monitor_warning(const struct stall_monitor *m)
{
	return m->warning[0] ? m->warning : NULL;
}

void stall_monitor_free(struct stall_monitor *m)
{
	if (!m)
		return;
	stall_tracer_free(m->tracer);
	for (int i = 0; m->profiles && i < LS_MAX_LOOPS; i++)
		span_profile_free(&m->profiles[i]);
	free(m->profiles);
	free(m->last_sample_ns);
	stall_sample_free(&m->scratch);
	stall_sampler_free(m->sampler);
	free(m);
}
