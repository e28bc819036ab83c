/* Shared between bpf/stall.bpf.c and agent/stall.c: fixed-width types only,
 * so both sides see the same layout. */
#ifndef LOOPSCOPE_STALL_H
#define LOOPSCOPE_STALL_H

#define LS_MAX_LOOPS   256 /* loop threads tracked at once, per target */
#define LS_MAX_SC      16  /* distinct syscalls kept per busy span */
#define LS_HIST_SLOTS  32  /* log2(µs) buckets of busy-span length */

/* How many waits on another epoll fd in a row make us believe the thread's
 * loop moved to that fd (we learned the wrong one, e.g. attached mid-stall). */
#define LS_EPFD_RELEARN 64

struct ls_sc_stat {
	__u32 nr;
	__u32 count;
	__u64 ns;
};

/* One per loop thread, in the program's .bss: user space reads it through
 * the skeleton's mmap to see a stall while it is still under way. */
struct ls_loop {
	__u32 tid;          /* 0: slot free */
	__s32 epfd;         /* the loop's own epoll fd, -1 until learned */
	__u64 seq;          /* +1 at every span start and end: odd while busy */
	__u64 busy_since;   /* start of the current busy span, 0 in poll */
	__u64 last_on;      /* last time the thread went on CPU, 0 when off */
	__u64 on_cpu_ns;    /* on-CPU time of the current span, closed runs */
	__u64 sys_enter_ns; /* start of the syscall in progress */
	__s32 sys_nr;       /* syscall in progress, -1 when none */
	__u32 nsc;          /* used entries of sc[] in this span */
	__u64 sc_other_count;
	__u64 sc_other_ns;
	struct ls_sc_stat sc[LS_MAX_SC];
	__s32 foreign_epfd;
	__u32 foreign_count;
	__u64 last_end;     /* end of the last span (for idle time) */
	__u32 index;        /* this slot's index in loops[] */
	__u32 pad;
};

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

/* Totals over every loop thread, for the summary. */
struct ls_totals {
	__u64 busy_ns;
	__u64 idle_ns;
	__u64 spans;
	__u64 dropped;
	__u64 hist[LS_HIST_SLOTS];
};

#endif
