/* SPDX-License-Identifier: GPL-2.0-only */
/* Turns the kernel's stall events and copies of its per-loop slots into
 * stall reports. Owns what was reported of each slot's spans (ids, the
 * ongoing report, the last span finished) and the summary's numbers; the
 * loop watcher (stall_loops.c) owns what Python says about the loops. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "errors.h"
#include "proc.h"
#include "span_key.h"
#include "stall_loops.h"
#include "stall_monitor.h"
#include "stall_monitor_int.h"
#include "stall_report.h"
#include "stall_sampler.h"
#include "stall_tracer.h"

/* After this many samples of one span, sample it every SLOW_SAMPLE_NS only:
 * a loop hung for minutes should not cost us a core. */
#define FAST_SAMPLES 200
#define SLOW_SAMPLE_NS 20000000ULL

/* A stall under way is reported again at most this often: someone
 * watching a hang sees it grow. */
#define ONGOING_EVERY_NS 1000000000ULL

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
static void attach_profile(struct stall_monitor *m, int slot, struct span_key span,
			   struct stall_report *r)
{
	const struct span_profile *prof;
	const struct span_bucket *top, *gil, *lock;

	if (!m->profiles)
		return;
	prof = &m->profiles[slot];
	if (!span_key_eq(prof->key, span))
		return;
	r->samples = prof->samples;
	top = span_profile_top(prof);
	if (!top)
		return;
	r->stack = &top->sample.stack;
	r->task = top->sample.has_task ? &top->sample.task : NULL;
	gil = span_profile_gil(prof);
	lock = span_profile_lock(prof);
	if (gil) {
		r->wait = gil->sample.wait == STALL_WAIT_GIL ? STALL_WAIT_GIL : STALL_WAIT_NONE;
		r->gil_holder = gil->sample.gil_holder;
		r->gil_holder_stack = &gil->sample.holder_stack;
	} else if (lock) {
		r->wait = STALL_WAIT_LOCK;
		r->futex = lock->sample.futex;
	}
}

/* Span `span` of slot ended as the stall in r: counted once, and any
 * later report of it (the kernel's event after a heartbeat cut) dropped. */
static void finish(struct stall_monitor *m, int slot, struct span_key span,
		   const struct stall_report *r)
{
	struct slot_reports *t = &m->slots[slot];

	t->done = span;
	t->id = 0;
	t->cur.start = 0;
	m->stalls++;
	if (r->duration_ms > m->worst_ms)
		m->worst_ms = r->duration_ms;
}

/* A finished stall from the kernel. */
static void on_stall_event(const struct stall_event *e, void *ctx)
{
	struct stall_monitor *m = ctx;
	int slot = (int)(e->slot % LS_MAX_LOOPS);
	const struct slot_reports *t = &m->slots[slot];
	struct span_key span = span_key_of((pid_t)e->tid, e->start_ns);
	struct stall_report r = { 0 };

	if (span_key_eq(t->done, span))
		return; /* reported already, when the heartbeat moved */
	if (stall_loops_known_loopless(m->loops, slot, span)) {
		/* the time between two loops of the thread: the kernel side
		 * counted it as an iteration, the summary takes it out */
		ls_totals_count(&m->voided, e->end_ns - e->start_ns);
		return;
	}
	if (span_key_eq(t->cur, span) && t->id)
		r.id = t->id;
	else
		r.id = ++m->next_id;
	fill_common(m, &r, span.tid, e->start_ns, e->end_ns, e->on_cpu_ns);
	attach_profile(m, slot, span, &r);
	r.thread_exited = e->thread_exited;
	stall_report_add_counts(&r, e->sc, e->nsc, e->sc_other_count, e->sc_other_ns);
	stall_report_sort(&r);
	finish(m, slot, span, &r);
	m->cb(&r, m->ctx);
}

/* Where a slot's current span starts for user space: a heartbeat cut the
 * kernel side has not applied yet moves it to the cut. */
static uint64_t span_start(uint64_t busy_since, uint64_t restart_at)
{
	return busy_since && restart_at > busy_since ? restart_at : busy_since;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static bool copy_slot(const volatile struct ls_loop *src, struct slot_copy *c)
{
	if (!src->tid)
		return false;
	for (int tries = 0; tries < 8; tries++) {
		uint64_t seq = src->seq;

		if (seq & 1)
			continue; /* being written on another CPU: a few ns */
		__sync_synchronize();
		memcpy(&c->loop, (const void *)src, sizeof(c->loop));
		__sync_synchronize();
		if (src->seq == seq) {
			c->span = span_key_of((pid_t)c->loop.tid,
					      span_start(c->loop.busy_since, c->loop.restart_at));
			c->restart_pending = c->span.start != c->loop.busy_since;
			c->seq = seq;
			return true;
		}
	}
	return false;
}

/* A report from a copy of the slot, for a span still under way (ongoing)
 * or one that ended at `now` at a poll that did not block (final). */
static void report_copy(struct stall_monitor *m, int slot, const struct slot_copy *c,
			uint64_t now, bool ongoing)
{
	struct slot_reports *t = &m->slots[slot];
	const struct ls_loop *l = &c->loop;
	struct stall_report r = { 0 };
	/* a cut the kernel has not applied yet starts the span at busy_since */
	uint64_t base = c->restart_pending ? ls_runtime_at(l, c->span.start) : l->run_base;
	uint64_t run = ls_runtime_at(l, now);
	uint64_t on_cpu = run > base ? run - base : 0;

	if (!span_key_eq(t->cur, c->span)) {
		t->cur = c->span;
		t->id = 0;
		t->ongoing_at = 0;
	}
	if (ongoing && t->ongoing_at && now - t->ongoing_at < ONGOING_EVERY_NS && !m->stopped_ns)
		return;
	if (!t->id)
		t->id = ++m->next_id;
	r.id = t->id;
	r.ongoing = ongoing;
	r.unfinished = ongoing && m->stopped_ns;
	fill_common(m, &r, c->span.tid, c->span.start, now, on_cpu);
	attach_profile(m, slot, c->span, &r);
	if (!c->restart_pending)
		stall_report_add_counts(&r, l->sc, l->nsc, l->sc_other_count, l->sc_other_ns);
	if (l->off_since && l->off_sys >= 0 && now > l->off_since) /* blocked in it now */
		stall_report_add_syscall(&r, l->off_sys, 1, now - l->off_since, ongoing);
	stall_report_sort(&r);
	if (ongoing)
		t->ongoing_at = now;
	else
		finish(m, slot, c->span, &r);
	m->cb(&r, m->ctx);
}

/* The span in the copy has lasted min_ns, its thread still runs a loop,
 * and it is not idle in a poll the kernel side has not learned. */
static bool span_runs_long(struct stall_monitor *m, int slot, const struct slot_copy *c,
			   uint64_t now, uint64_t min_ns)
{
	if (!c->valid || !c->span.tid || !c->span.start || c->span.start > now ||
	    now - c->span.start < min_ns)
		return false;
	return !stall_loops_loopless(m->loops, slot, c, now) &&
	       !stall_loops_idle_in_own_poll(m->loops, slot, c);
}

static bool span_is_stall(struct stall_monitor *m, int slot, const struct slot_copy *c,
			  uint64_t now)
{
	return span_runs_long(m, slot, c, now, m->opts.threshold_ns);
}

static void scan_ongoing(struct stall_monitor *m, uint64_t now)
{
	for (int i = 0; i < LS_MAX_LOOPS; i++) {
		const struct slot_copy *c = &m->copies[i];

		if (!span_is_stall(m, i, c, now))
			continue;
		if (span_key_eq(m->slots[i].done, c->span))
			continue; /* finished while we drained the ring buffer */
		report_copy(m, i, c, now, true);
	}
}

/* True when the span in the copy is still the slot's current one (or the
 * one a pending heartbeat cut will start). */
static bool span_unchanged(const volatile struct ls_loop *l, const struct slot_copy *c)
{
	uint64_t since = l->busy_since;

	return since == c->loop.busy_since || since == c->span.start;
}

/* The futex a busy loop thread is asleep on now, 0 when it is not. */
static uint64_t futex_waited(const struct ls_loop *l)
{
	return l->off_since && l->off_sys == SYS_futex ? l->off_addr : 0;
}

static bool sample_due(struct stall_monitor *m, int slot, uint64_t now)
{
	if (m->profiles[slot].samples < FAST_SAMPLES)
		return true;
	return now - m->last_sample_ns[slot] >= SLOW_SAMPLE_NS;
}

/* A stack the kernel read at a cpu-clock sample: it counts for the span
 * of its thread's slot if taken inside it, and the span still runs (as
 * for a read from user space). */
static void on_kernel_sample(pid_t tid, uint64_t ts, const struct stall_sample *smp, void *ctx)
{
	struct stall_monitor *m = ctx;
	const volatile struct ls_loop *loops = stall_tracer_loops(m->tracer);

	for (int i = 0; i < LS_MAX_LOOPS; i++) {
		const struct slot_copy *c = &m->copies[i];

		if (!c->valid || c->span.tid != tid || !span_key_eq(m->profiles[i].key, c->span))
			continue;
		if (ts < c->span.start || ts > m->kernel_until)
			return;
		if (!smp) {
			m->kernel[i].faulted = true;
			return;
		}
		m->kernel[i].span = c->span;
		if (!sample_due(m, i, m->kernel_until) || loops[i].tid != c->loop.tid ||
		    !span_unchanged(&loops[i], c))
			return;
		m->last_sample_ns[i] = m->kernel_until;
		span_profile_add(&m->profiles[i], smp);
		return;
	}
}

static void drain_kernel_samples(struct stall_monitor *m, uint64_t now)
{
	for (int i = 0; i < LS_MAX_LOOPS; i++)
		m->kernel[i].faulted = false;
	m->kernel_until = now;
	stall_sampler_kernel_drain(m->sampler, on_kernel_sample, m);
}

/* The kernel samples this span on CPU: a read from user space would race
 * the running thread and is taken only while it is off CPU (where no
 * sample fires) or when the kernel's read failed this tick. */
static bool kernel_covers(const struct stall_monitor *m, int slot, const struct slot_copy *c)
{
	const struct kernel_reads *k = &m->kernel[slot];

	return span_key_eq(k->span, c->span) && !k->faulted && !c->loop.off_since;
}

/* Where the kernel samples the span, a read from user space is taken only
 * while the thread is off CPU: if it ran during the read (it is not off
 * CPU since the same time), the read raced it and may be torn. */
static bool ran_while_read(const struct stall_monitor *m, int slot, const struct slot_copy *c,
			   const volatile struct ls_loop *now)
{
	if (!span_key_eq(m->kernel[slot].span, c->span) || !c->loop.off_since)
		return false;
	return now->off_since != c->loop.off_since;
}

/* Samples the stack of every loop thread busy for over half the threshold
 * (and only theirs, in the kernel as well); true when there was one. A
 * reading counts only if the span is still the same one afterwards: a
 * stack must never come from after the stall ended. */
static bool sample_busy(struct stall_monitor *m, uint64_t now)
{
	const volatile struct ls_loop *loops = stall_tracer_loops(m->tracer);
	uint64_t half = m->opts.threshold_ns / 2;
	pid_t stalling[LS_MAX_LOOPS];
	size_t nstalling = 0;

	if (!m->sampler || !m->opts.stacks)
		return false;
	drain_kernel_samples(m, now);
	for (int i = 0; i < LS_MAX_LOOPS; i++) {
		const struct slot_copy *c = &m->copies[i];
		struct span_profile *prof = &m->profiles[i];

		if (!span_runs_long(m, i, c, now, half))
			continue;
		stalling[nstalling++] = c->span.tid;
		if (!span_key_eq(prof->key, c->span))
			span_profile_reset(prof, c->span);
		if (!sample_due(m, i, now) || kernel_covers(m, i, c))
			continue;
		m->last_sample_ns[i] = now;
		if (stall_sampler_read(m->sampler, c->span.tid, futex_waited(&c->loop), &m->scratch))
			continue;
		if (loops[i].tid == c->loop.tid && span_unchanged(&loops[i], c) &&
		    !ran_while_read(m, i, c, &loops[i]))
			span_profile_add(prof, &m->scratch);
	}
	stall_sampler_kernel_keep(m->sampler, stalling, nstalling);
	return nstalling > 0;
}

/* Some loop has run for half the threshold without coming back (and is not
 * idle in a poll we have not learned): a stall may be under way, its
 * syscalls are worth counting one by one. */
static bool any_long_span(struct stall_monitor *m, uint64_t now)
{
	for (int i = 0; i < LS_MAX_LOOPS; i++)
		if (span_runs_long(m, i, &m->copies[i], now, m->opts.threshold_ns / 2))
			return true;
	return false;
}

/* The heartbeat ended these spans at a poll that did not block: the
 * kernel side starts the next iteration there, and a long one is a stall. */
static void apply_cuts(struct stall_monitor *m, const struct loops_seen *seen)
{
	for (int k = 0; k < seen->ncuts; k++) {
		const struct loop_cut *cut = &seen->cuts[k];
		uint64_t ns = cut->at - cut->span.start;

		stall_tracer_restart(m->tracer, cut->slot, cut->at);
		/* A new loop's heartbeat ends the time its thread ran none (the
		 * gap between two asyncio.run calls): no iteration, no stall. */
		if (stall_loops_known_loopless(m->loops, cut->slot, cut->span))
			continue;
		ls_totals_count(&m->cuts, ns);
		if (ns >= m->opts.threshold_ns && !span_key_eq(m->slots[cut->slot].done, cut->span))
			report_copy(m, cut->slot, &m->copies[cut->slot], cut->at, false);
	}
}

static int clamp_ms(uint64_t ms, uint64_t max)
{
	return ms < 1 ? 1 : ms > max ? (int)max : (int)ms;
}

/* How long the monitor may wait before it looks again (from now). */
static int wait_ms(const struct stall_monitor *m, bool sampling, bool active)
{
	/* a saturated loop's heartbeat: read often enough to place a stall's
	 * ends within 2% of the threshold, and no more (ours is a CPU too) */
	uint64_t beat_ms = m->opts.threshold_ns / 50000000;
	/* no loop busy: a span that starts just after this look is seen by
	 * the next one before it is half the threshold old, when sampling
	 * begins (stall ends come on the ring buffer, which wakes us). Each
	 * look costs ~60 us of a CPU here, mostly the wake-up itself: at
	 * 10 ms an idle target cost 0.65% of a CPU, at 40 ms 0.16%. */
	uint64_t idle_ms = m->opts.threshold_ns * 2 / 5000000;

	if (sampling)
		return 1; /* ~1 kHz stack samples while a stall is under way */
	return active ? clamp_ms(beat_ms, 10) : clamp_ms(idle_ms, 100);
}

int stall_monitor_fd(const struct stall_monitor *m)
{
	return stall_tracer_fd(m->tracer);
}

int stall_monitor_process(struct stall_monitor *m)
{
	const volatile struct ls_loop *loops = stall_tracer_loops(m->tracer);
	struct loops_seen seen;
	bool sampling;
	uint64_t now;
	int err;

	err = stall_tracer_consume(m->tracer);
	if (err)
		return err;
	for (int i = 0; i < LS_MAX_LOOPS; i++) {
		m->copies[i].valid = copy_slot(&loops[i], &m->copies[i]);
		if (m->copies[i].valid && (pid_t)m->copies[i].loop.tid != m->seen_tids[i]) {
			m->seen_tids[i] = (pid_t)m->copies[i].loop.tid;
			m->loops_had++;
		}
	}
	/* after the copies: no span in them can start after `now` */
	now = clock_mono_ns();
	err = stall_tracer_consume(m->tracer);
	if (err)
		return err;
	err = stall_python_follow_exec(m, now);
	if (err)
		return err;
	stall_loops_heartbeats(m->loops, m->copies, now, &seen);
	apply_cuts(m, &seen);
	stall_loops_discover(m->loops, m->copies, now);
	sampling = sample_busy(m, now);
	scan_ongoing(m, now);
	stall_tracer_syscall_window(m->tracer, any_long_span(m, now));
	m->due_ns = clock_mono_ns() + (uint64_t)wait_ms(m, sampling, seen.busy || seen.beating) *
				     1000000;
	return 0;
}

int stall_monitor_next_ms(const struct stall_monitor *m)
{
	return clock_ms_until(m->due_ns);
}

const char *stall_monitor_take_note(struct stall_monitor *m)
{
	return stall_loops_take_note(m->loops);
}

int stall_monitor_loops(const struct stall_monitor *m)
{
	return m->loops_had;
}

enum stall_target stall_monitor_target(const struct stall_monitor *m)
{
	if (!m->sampler)
		return m->sampler_err == -LS_ENOFILE ? STALL_TARGET_UNREADABLE : STALL_TARGET_OTHER;
	return stall_sampler_has_asyncio(m->sampler) ? STALL_TARGET_ASYNCIO : STALL_TARGET_NO_ASYNCIO;
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
	m->mono_to_unix_ns = clock_mono_to_unix_ns();
	err = stall_tracer_new(&topts, on_stall_event, m, &m->tracer);
	if (err) {
		free(m);
		return err;
	}
	m->execs = stall_tracer_execs(m->tracer);
	stall_loops_seed_waiting(opts->pid, m->tracer);
	stall_python_start(m);
	err = stall_python_renew_loops(m);
	if (err) {
		stall_monitor_free(m);
		return err;
	}
	stall_python_trace_without(m);
	m->due_ns = clock_mono_ns() + (uint64_t)wait_ms(m, false, false) * 1000000;
	*out = m;
	return 0;
}

/* Watching ends: each span under way ends here too, as an iteration cut
 * short, and a stall among them is reported one last time, unfinished. */
void stall_monitor_stop(struct stall_monitor *m)
{
	uint64_t now;

	if (m->stopped_ns)
		return;
	stall_monitor_process(m); /* fresh copies, and the stalls that just ended */
	now = clock_mono_ns();
	m->stopped_ns = now;
	for (int i = 0; i < LS_MAX_LOOPS; i++) {
		const struct slot_copy *c = &m->copies[i];
		uint64_t ns;

		if (!span_runs_long(m, i, c, now, 0) || span_key_eq(m->slots[i].done, c->span))
			continue; /* idle, loopless, or finished while we drained */
		ns = now - c->span.start;
		ls_totals_count(&m->cuts, ns);
		if (ns < m->opts.threshold_ns)
			continue;
		report_copy(m, i, c, now, true);
		m->unfinished++;
		if (ns / 1e6 > m->worst_ms)
			m->worst_ms = ns / 1e6;
	}
}

void stall_monitor_totals(struct stall_monitor *m, struct ls_totals *t)
{
	stall_tracer_totals(m->tracer, t);
	ls_totals_merge(t, &m->cuts);
	/* no-loop gaps out, the maximum bound by what was reported */
	ls_totals_void(t, &m->voided, max_u64(m->opts.threshold_ns, (uint64_t)(m->worst_ms * 1e6)));
}

void stall_monitor_summary(struct stall_monitor *m, struct stall_summary *out)
{
	struct ls_totals t;
	double busy, idle;

	stall_monitor_stop(m);
	stall_monitor_totals(m, &t);
	memset(out, 0, sizeof(*out));
	out->stalls = m->stalls + m->unfinished;
	out->unfinished = m->unfinished;
	out->worst_ms = m->worst_ms;
	busy = (double)t.busy_ns;
	idle = (double)t.idle_ns;
	out->loops_seen = m->loops_had;
	out->busy_p50_ms = ls_hist_percentile_ms(&t, 0.50);
	out->busy_p99_ms = ls_hist_percentile_ms(&t, 0.99);
	out->utilisation = busy + idle > 0 ? busy / (busy + idle) : 0;
	out->iterations = t.spans;
	out->dropped = t.dropped;
	out->untracked = stall_tracer_untracked(m->tracer);
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
	stall_loops_free(m->loops);
	stall_tracer_free(m->tracer);
	for (int i = 0; m->profiles && i < LS_MAX_LOOPS; i++)
		span_profile_free(&m->profiles[i]);
	free(m->profiles);
	free(m->last_sample_ns);
	stall_sample_free(&m->scratch);
	stall_sampler_free(m->sampler);
	free(m);
}
