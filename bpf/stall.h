/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between bpf/stall.bpf.c and agent/stall/stall_tracer.c: fixed-width types only,
 * so both sides see the same layout. */
#ifndef LOOPSCOPE_STALL_H
#define LOOPSCOPE_STALL_H

#define LS_MAX_LOOPS   256 /* loop threads tracked at once, per target */
#define LS_PROBES      4   /* a thread lives in one of 4 slots from tid % 256 */
#define LS_MAX_SC      16  /* distinct syscalls kept per busy span */
#define LS_HIST_SLOTS  32  /* log2(µs) buckets of busy-span length */
#define LS_MAX_UNTRACKED 1024 /* threads counted that found no slot */

/* Slot indexes are masked, never taken modulo: keep these powers of two. */
_Static_assert((LS_MAX_LOOPS & (LS_MAX_LOOPS - 1)) == 0, "LS_MAX_LOOPS must be a power of two");
_Static_assert(LS_PROBES <= LS_MAX_LOOPS, "more probes than slots");
_Static_assert(LS_HIST_SLOTS == 32, "ls_hist_bucket caps buckets at 31");

/* How many waits on another epoll fd in a row make us believe the thread's
 * loop moved to that fd (we learned the wrong one, e.g. attached mid-stall). */
#define LS_EPFD_RELEARN 64

/* One syscall in a span: how many times it was entered, and how long the
 * thread was blocked (off CPU) inside it. */
struct ls_sc_stat {
	__u32 nr;
	__u32 count;
	__u64 ns;
};

/* Where a loop thread is in its iteration. Poll entries and context
 * switches are seen, not the return from the poll: it is inferred when a
 * thread that blocked in its poll is switched back in, and otherwise taken
 * to be the poll entry itself (a poll with events ready returns at once). */
enum ls_state {
	LS_IDLE = 0,     /* blocked in its poll, or not in a loop iteration */
	LS_POLLING = 1,  /* entered its poll and has not blocked (yet) */
	LS_BUSY = 2,     /* running the iteration since busy_since */
};

/* One per loop thread, in the program's .bss: user space reads it through
 * the skeleton's mmap to see a stall while it is still under way. */
struct ls_loop {
	__u32 tid;          /* 0: slot free */
	__s32 epfd;         /* the loop's own epoll fd, -1 until learned */
	__u64 seq;          /* odd while the slot is being written */
	__u64 busy_since;   /* start of the current span (BUSY, POLLING), else 0 */
	__u64 last_on;      /* last time the thread went on CPU, 0 when off */
	/* The thread's own CPU time (the kernel's sum_exec_runtime), read at
	 * its context switches: on-CPU time is a difference of two of them,
	 * exact whatever switch was missed (see ls_runtime_at). */
	__u64 run_at_on;    /* at the last switch in */
	__u64 run_at_out;   /* at the last switch out */
	__u64 out_at;       /* time of the last switch out */
	__u64 run_base;     /* at the start of the current span */
	__u64 off_since;    /* BUSY and off CPU: since when */
	__s32 off_sys;      /* ... blocked in this syscall (-1: preempted) */
	__s32 off_arg0;     /* ... and that syscall's first argument */
	__u32 state;        /* enum ls_state */
	__u32 nsc;          /* used entries of sc[] in this span */
	__u64 sc_other_count;
	__u64 sc_other_ns;
	struct ls_sc_stat sc[LS_MAX_SC];
	__s32 foreign_epfd;
	__u32 foreign_count;
	__u64 last_end;     /* end of the last span (for idle time) */
	__u32 index;        /* this slot's index in loops[] */
	__u32 last_sc;      /* sc[] entry of the last syscall counted */
	/* Written by user space: the loop's heartbeat (its ready queue)
	 * moved at this time, so the current iteration started no earlier.
	 * Applied and cleared at the slot's next event (apply_restart). */
	__u64 restart_at;
	/* Written by user space: 1 + the epoll fd of the loop the thread runs
	 * now, as Python sees it (a new loop after asyncio.run returned may
	 * poll another fd). Applied and cleared at the next event. */
	__s32 epfd_hint;
	__u32 pad;
	/* BUSY and off CPU: the syscall's first argument in full (off_arg0
	 * is an fd's width): the address of a futex it waits on. */
	__u64 off_addr;
};

/* The thread's CPU time at time t (near its last switches): exact at a
 * switch, extrapolated while it runs (all of that time is CPU time) and
 * back over the run that ended at out_at. Shared by both sides. */
static inline __attribute__((always_inline)) __u64
ls_runtime_at(const struct ls_loop *l, __u64 t)
{
	__u64 base, back;

	if (l->last_on && t >= l->last_on)
		return l->run_at_on + (t - l->last_on);
	base = l->last_on ? l->run_at_on : l->run_at_out;
	if (!l->out_at || t >= l->out_at)
		return base;
	back = l->out_at - t;
	return back < base ? base - back : 0;
}

/* CPU time of the current span up to t. */
static inline __attribute__((always_inline)) __u64
ls_span_on_cpu(const struct ls_loop *l, __u64 t)
{
	__u64 now = ls_runtime_at(l, t);

	return now > l->run_base ? now - l->run_base : 0;
}

/* Sent through the ring buffer for every busy span over the threshold. */
struct stall_event {
	__u32 tid;
	__u32 slot;
	__u64 start_ns;     /* CLOCK_MONOTONIC */
	__u64 end_ns;
	__u64 on_cpu_ns;
	__u32 nsc;
	__u32 thread_exited;
	__u64 sc_other_count;
	__u64 sc_other_ns;
	struct ls_sc_stat sc[LS_MAX_SC];
};

/* floor(log2(v)) of a 32-bit value, 0 for 0, without a loop or branch
 * (libbpf-tools' bits.bpf.h): the verifier sees straight-line code. */
static inline __attribute__((always_inline)) __u32 ls_log2_u32(__u32 v)
{
	__u32 shift, r;

	r = (__u32)(v > 0xFFFF) << 4;
	v >>= r;
	shift = (__u32)(v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (__u32)(v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (__u32)(v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	return r | (v >> 1);
}

/* The histogram bucket of a busy span of ns: floor(log2) of its
 * microseconds (0 and 1 us in bucket 0), at most LS_HIST_SLOTS - 1.
 * Shared by both sides (user space adds the spans its heartbeat cuts). */
static inline __attribute__((always_inline)) __u32 ls_hist_bucket(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 hi = (__u32)(us >> 32);

	/* 2^32 us is over an hour: such a span is the last bucket anyway */
	return hi ? LS_HIST_SLOTS - 1 : ls_log2_u32((__u32)us);
}

/* Totals over every loop thread, for the summary. */
struct ls_totals {
	__u64 busy_ns;
	__u64 idle_ns;
	__u64 spans;
	__u64 dropped;
	__u64 hist[LS_HIST_SLOTS];
	/* The shortest and longest span: a percentile is interpolated inside
	 * its log2 bucket, never past what was seen (updated without atomics:
	 * two loop threads ending spans at once on two CPUs may lose one
	 * update, which moves a bound only within its bucket). */
	__u64 min_ns;       /* 0: no span yet */
	__u64 max_ns;
};

/* Counts one busy span of ns. Shared by both sides. */
static inline __attribute__((always_inline)) void
ls_totals_count_bounds(struct ls_totals *t, __u64 ns)
{
	if (!t->min_ns || ns < t->min_ns)
		t->min_ns = ns ? ns : 1;
	if (ns > t->max_ns)
		t->max_ns = ns;
}

#endif
