// SPDX-License-Identifier: GPL-2.0-only
/* Event-loop stall detector.
 *
 * A loop thread is a thread of the target that waits in epoll_wait (asyncio's
 * selector, libuv). From entering a wait on its own epoll fd to entering the
 * next one, minus the time blocked in that wait, the thread is "busy": one
 * loop iteration. Spans longer than the threshold are stalls, sent to user
 * space with their on-CPU time and the syscalls made inside them. Nothing
 * else leaves the kernel per iteration: totals and a histogram stay in .bss,
 * and the current span's start is readable there (mmap) to see a stall
 * under way.
 *
 * Cost. Context switches are the only default hook: a loop switched out
 * in its poll idles, switched back in it starts an iteration, and the task's
 * registers name the syscall any other switch-out blocks in. A loop that
 * never blocks in its poll (saturated) is cut into iterations by user space,
 * which watches its heartbeat (the asyncio ready queue's mutation counter)
 * and writes restart_at when it moves. Poll entries are traced exactly only
 * through the syscall entry tracepoint (ls_sys_enter: --precise, uvloop and
 * non-Python loops), which every syscall of every process pays (~0.1 us on
 * a VM; uprobes or hardware breakpoints on libc's poll cost ~9 us per poll
 * there, measured). Syscall exits are never traced.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "stall.h"

#if defined(__TARGET_ARCH_x86)
#define NR_close        3
#define NR_epoll_wait   232
#define NR_epoll_pwait  281
#define NR_epoll_pwait2 441
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#define SYSCALL_ARG0(regs) BPF_CORE_READ(regs, di)
#elif defined(__TARGET_ARCH_arm64)
#define NR_close        57
#define NR_epoll_wait   (-1) /* arm64 has only epoll_pwait */
#define NR_epoll_pwait  22
#define NR_epoll_pwait2 441
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#define SYSCALL_ARG0(regs) BPF_CORE_READ(regs, orig_x0)
#else
#error "loopscope: syscall numbers not defined for this architecture"
#endif

char LICENSE[] SEC("license") = "GPL";

const volatile pid_t targ_tgid = 0;
const volatile __u64 threshold_ns = 100000000ULL;

struct ls_loop loops[LS_MAX_LOOPS] = {};
struct ls_totals totals = {};
__u64 execs = 0;  /* how many times the target exec'd (ls_exec) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Threads that waited in epoll but found all LS_PROBES of their slots
 * taken (or that user space could not seed): not tracked, their stalls are
 * missed. A set, so that the summary counts threads, not waits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_MAX_UNTRACKED);
	__type(key, __u32);
	__type(value, __u8);
} untracked SEC(".maps");

static __always_inline bool is_epoll_wait(long nr)
{
	return nr == NR_epoll_wait || nr == NR_epoll_pwait || nr == NR_epoll_pwait2;
}

/* A thread's slot is one of LS_PROBES from tid % LS_MAX_LOOPS: no hash
 * lookup on the path every syscall of the target takes. */
static __always_inline struct ls_loop *loop_of(__u32 tid)
{
	for (__u32 i = 0; i < LS_PROBES; i++) {
		struct ls_loop *l = &loops[(tid + i) & (LS_MAX_LOOPS - 1)];

		if (l->tid == tid)
			return l;
	}
	return NULL;
}

/* Every change to a slot is bracketed by these: seq is odd while the slot
 * is being written, so user space, reading it from another CPU through the
 * mmap, retries a copy that straddled a change (a torn copy could pair
 * one switch's on-CPU total with another's last_on, and lose a run). */
static __always_inline void slot_write_begin(struct ls_loop *l)
{
	__sync_fetch_and_add(&l->seq, 1);
}

static __always_inline void slot_write_end(struct ls_loop *l)
{
	__sync_fetch_and_add(&l->seq, 1);
}

static __always_inline void note_untracked(__u32 tid)
{
	__u8 one = 1;

	bpf_map_update_elem(&untracked, &tid, &one, BPF_NOEXIST);
}

/* Claims a slot for a thread seen waiting in epoll for the first time. */
static struct ls_loop *loop_claim(__u32 tid, __s32 epfd, __u64 now, __u64 runtime)
{
	for (__u32 i = 0; i < LS_PROBES; i++) {
		__u32 idx = (tid + i) & (LS_MAX_LOOPS - 1);
		struct ls_loop *l = &loops[idx];

		if (l->tid || __sync_val_compare_and_swap(&l->tid, 0, tid) != 0)
			continue;
		slot_write_begin(l);
		l->epfd = epfd;
		l->index = idx;
		l->state = LS_IDLE;
		l->busy_since = 0;
		l->last_on = now;
		l->run_at_on = runtime;
		l->run_at_out = runtime;
		l->out_at = 0;
		l->last_end = 0;
		l->nsc = 0;
		l->foreign_count = 0;
		slot_write_end(l);
		return l;
	}
	note_untracked(tid);
	return NULL;
}

static void emit_stall(struct ls_loop *l, __u64 now, bool exited)
{
	struct stall_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&totals.dropped, 1);
		return;
	}
	e->tid = l->tid;
	e->slot = l->index;
	e->start_ns = l->busy_since;
	e->end_ns = now;
	e->on_cpu_ns = ls_span_on_cpu(l, now);
	e->nsc = l->nsc;
	e->thread_exited = exited;
	e->sc_other_count = l->sc_other_count;
	e->sc_other_ns = l->sc_other_ns;
	__builtin_memcpy(e->sc, l->sc, sizeof(e->sc));
	bpf_ringbuf_submit(e, 0);
}

/* A new span starts at `now`: its counters start from zero. */
static void span_begin(struct ls_loop *l, __u64 now)
{
	l->busy_since = now;
	l->run_base = ls_runtime_at(l, now);
	l->nsc = 0;
	l->last_sc = 0;
	l->sc_other_count = 0;
	l->sc_other_ns = 0;
	l->off_since = 0;
}

static __always_inline void count_span(__u64 busy)
{
	__u32 b = ls_hist_bucket(busy);

	__sync_fetch_and_add(&totals.busy_ns, busy);
	__sync_fetch_and_add(&totals.spans, 1);
	if (b < LS_HIST_SLOTS)
		__sync_fetch_and_add(&totals.hist[b], 1);
	ls_totals_count_bounds(&totals, busy);
}

/* User space saw the loop's heartbeat move at restart_at: the iterations
 * before it are done (without the loop blocking in its poll), the current
 * one started then. Each cut is consumed once (a cut left in place would
 * be applied again at every event and reset the span's counters each
 * time). `now` bounds it: the two sides read the clock on different CPUs. */
static void apply_restart(struct ls_loop *l, __u64 now)
{
	__u64 want = l->restart_at, at = want, off = l->off_since;

	if (!want)
		return;
	/* a newer cut written meanwhile stays for the next event */
	__sync_val_compare_and_swap(&l->restart_at, want, 0);
	if (at > now)
		at = now;
	if (l->state == LS_IDLE || !l->busy_since || at <= l->busy_since)
		return;
	/* User space counted the pieces before `at` (one per heartbeat move it
	 * saw) and reported any stall among them (agent/stall/stall_monitor.c). */
	span_begin(l, at);
	if (off) /* blocked since before the cut: the new span's share counts */
		l->off_since = off > at ? off : at;
}

/* User space read the loop's epoll fd from Python: trust it over what we
 * learned (see foreign_wait_is_loop). */
static __always_inline void apply_epfd_hint(struct ls_loop *l)
{
	__s32 hint = l->epfd_hint;

	if (!hint)
		return;
	__sync_val_compare_and_swap(&l->epfd_hint, hint, 0);
	l->epfd = hint - 1;
	l->foreign_count = 0;
}

/* The thread is back at its poll (or gone): close the busy span. */
static void span_end(struct ls_loop *l, __u64 now, bool exited)
{
	__u64 busy;

	apply_restart(l, now);
	if (l->state == LS_IDLE || !l->busy_since || now < l->busy_since)
		return;
	busy = now - l->busy_since;
	count_span(busy);
	if (busy >= threshold_ns)
		emit_stall(l, now, exited);
}

/* Entering the loop's own poll: the previous span ends, a new one starts
 * tentatively here (it stays here if the poll returns without blocking). */
static void poll_enter(struct ls_loop *l, __u64 now)
{
	span_end(l, now, false);
	l->state = LS_POLLING;
	l->last_end = now;
	span_begin(l, now);
}

/* Counts one more entry of syscall nr in this span. */
static void count_syscall(struct ls_loop *l, __u32 nr)
{
	__u32 n = l->nsc, last = l->last_sc;

	if (last < LS_MAX_SC && last < n && l->sc[last].nr == nr) {
		l->sc[last].count++;
		return;
	}
	for (__u32 i = 0; i < LS_MAX_SC; i++) {
		if (i >= n)
			break;
		if (l->sc[i].nr == nr) {
			l->sc[i].count++;
			l->last_sc = i;
			return;
		}
	}
	if (n < LS_MAX_SC) {
		l->sc[n].nr = nr;
		l->sc[n].count = 1;
		l->sc[n].ns = 0;
		l->nsc = n + 1;
		l->last_sc = n;
		return;
	}
	l->sc_other_count++;
}

/* The table is full (a span of many distinct syscalls: spawning a child
 * makes dozens) and syscall nr blocked for ns: it takes the place of the
 * entry with the least blocked time if it is longer, so that the calls that
 * held the loop stay named; the loser joins "other". */
static void displace_shortest(struct ls_loop *l, __s32 nr, __u64 ns)
{
	__u32 min = 0;

	for (__u32 i = 1; i < LS_MAX_SC; i++)
		if (l->sc[i].ns < l->sc[min].ns)
			min = i;
	if (l->sc[min].ns >= ns) {
		l->sc_other_ns += ns;
		return;
	}
	l->sc_other_count += l->sc[min].count;
	l->sc_other_ns += l->sc[min].ns;
	if (l->sc_other_count)
		l->sc_other_count--; /* this call, counted there when it was entered */
	l->sc[min].nr = (__u32)nr;
	l->sc[min].count = 1;
	l->sc[min].ns = ns;
}

/* Time spent blocked in syscall nr (from a context switch out to in). A
 * call entered before syscalls were traced gets its entry here. */
static void add_blocked_time(struct ls_loop *l, __s32 nr, __u64 ns)
{
	__u32 n = l->nsc;

	for (__u32 i = 0; i < LS_MAX_SC; i++) {
		if (i >= n)
			break;
		if (l->sc[i].nr == (__u32)nr) {
			l->sc[i].ns += ns;
			return;
		}
	}
	if (n < LS_MAX_SC) {
		l->sc[n].nr = (__u32)nr;
		l->sc[n].count = 1;
		l->sc[n].ns = ns;
		l->nsc = n + 1;
		return;
	}
	displace_shortest(l, nr, ns);
}

/* The thread runs again: a blocking episode inside the span is over. */
static void back_on_cpu(struct ls_loop *l, __u64 now)
{
	l->last_on = now;
	if (l->state == LS_BUSY && l->off_since) {
		if (l->off_sys >= 0)
			add_blocked_time(l, l->off_sys, now - l->off_since);
		l->off_since = 0;
	}
}

/* A wait on an epoll fd that is not the loop's: it may be a blocking call's
 * own selector (inside a stall), or the loop itself if we learned wrong. */
static bool foreign_wait_is_loop(struct ls_loop *l, __s32 fd)
{
	if (l->foreign_epfd != fd) {
		l->foreign_epfd = fd;
		l->foreign_count = 0;
	}
	if (++l->foreign_count < LS_EPFD_RELEARN)
		return false;
	l->epfd = fd;
	l->foreign_count = 0;
	return true;
}

static __always_inline bool is_target(void)
{
	return (pid_t)(bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

/* True when this was the loop's own poll (a wait on another epoll fd is
 * a blocking call's own selector: an ordinary syscall of the span). */
static bool epoll_wait_entered(struct ls_loop *l, __s32 fd)
{
	if (l->epfd < 0)
		l->epfd = fd;
	if (fd == l->epfd || foreign_wait_is_loop(l, fd)) {
		l->foreign_count = 0;
		poll_enter(l, bpf_ktime_get_ns());
		return true;
	}
	return false;
}

/* A syscall entry of loop thread l (claimed just now if this is its first
 * poll). */
static void syscall_entered(struct ls_loop *l, long id, __s32 arg0, __u64 now)
{
	/* A thread entering a syscall is on CPU, whatever we believed: its slot
	 * may have been made (seeded from /proc, claimed at a switch-out) after
	 * the switch-in we would have learned it from, or that switch-in went
	 * unseen. Its CPU-time anchor comes from the task itself (current to
	 * the last scheduler tick), so the run is not lost. */
	if (!l->last_on) {
		l->run_at_on = bpf_get_current_task_btf()->se.sum_exec_runtime;
		back_on_cpu(l, now ? now : bpf_ktime_get_ns());
	}
	apply_epfd_hint(l);
	if (is_epoll_wait(id) && epoll_wait_entered(l, arg0))
		return;
	if (id == NR_close && l->epfd >= 0 && arg0 == l->epfd) {
		/* The loop is being closed (asyncio.run ends): the time until the
		 * next loop polls is not a loop iteration. Learn the next fd. */
		l->epfd = -1;
		l->state = LS_IDLE;
		l->busy_since = 0;
		return;
	}
	if (l->state == LS_POLLING)
		l->state = LS_BUSY; /* the poll returned without blocking */
	if (l->state == LS_BUSY)
		count_syscall(l, (__u32)id);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ls_sys_enter, struct pt_regs *regs, long id)
{
	__s32 arg0;
	__u32 tid;
	__u64 now = 0;
	struct ls_loop *l;

	if (!is_target())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	l = loop_of(tid);
	if (!l && !is_epoll_wait(id))
		return 0;
	arg0 = (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);
	if (!l) {
		now = bpf_ktime_get_ns();
		l = loop_claim(tid, arg0, now, bpf_get_current_task_btf()->se.sum_exec_runtime);
		if (!l)
			return 0;
	}
	if (l->state == LS_BUSY && l->last_on && !l->epfd_hint && !is_epoll_wait(id) &&
	    !(id == NR_close && arg0 == l->epfd)) {
		/* The common case, one more call in a busy span: statistics only,
		 * outside the seq bracket, so that user space can still copy the
		 * slot while the loop makes millions of calls a second. */
		count_syscall(l, (__u32)id);
		return 0;
	}
	slot_write_begin(l);
	syscall_entered(l, id, arg0, now);
	slot_write_end(l);
	return 0;
}

/* Blocked in its own poll: the span (if one ran) ends, the loop idles. */
static void blocked_in_poll(struct ls_loop *l, __u64 now)
{
	if (l->state == LS_BUSY) {
		span_end(l, now, false);
		l->last_end = now;
	}
	l->state = LS_IDLE;
	l->busy_since = 0;
}

/* Loop thread l goes off CPU (its CPU-time anchors already taken), inside
 * syscall nr (negative: preempted in user space) whose first argument is
 * arg (an fd as arg0). */
static void slot_switched_out(struct ls_loop *l, long nr, __u64 arg, __u64 now)
{
	__s32 arg0 = (__s32)arg;

	if (l->state != LS_IDLE && is_epoll_wait(nr) && l->epfd >= 0 &&
	    (arg0 == l->epfd || foreign_wait_is_loop(l, arg0))) {
		blocked_in_poll(l, now);
		return;
	}
	if (l->state == LS_POLLING)
		l->state = LS_BUSY; /* preempted after the poll returned */
	if (l->state == LS_BUSY) {
		l->off_since = now;
		l->off_sys = nr;
		l->off_arg0 = arg0;
		l->off_addr = arg;
	}
}

static void switched_out(struct task_struct *prev, __u64 now)
{
	__u32 tid = prev->pid;
	struct ls_loop *l = loop_of(tid);
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	long nr = SYSCALL_NR(regs);
	__u64 arg = SYSCALL_ARG0(regs);

	if (!l && is_epoll_wait(nr)) /* a loop found blocked in its poll */
		l = loop_claim(tid, (__s32)arg, now, prev->se.sum_exec_runtime);
	if (!l)
		return;
	slot_write_begin(l);
	/* user space's writes first, judged by the run that is ending */
	apply_epfd_hint(l);
	apply_restart(l, now);
	/* prev's runtime is up to date here (put_prev_task ran) */
	l->run_at_out = prev->se.sum_exec_runtime;
	l->out_at = now;
	l->last_on = 0;
	slot_switched_out(l, nr, arg, now);
	slot_write_end(l);
}

static void slot_switched_in(struct ls_loop *l, __u64 now)
{
	if (l->state == LS_BUSY && l->off_since && is_epoll_wait(l->off_sys) &&
	    l->epfd >= 0 && l->off_arg0 == l->epfd) {
		/* It was blocked in its loop's poll: an fd learned meanwhile from
		 * the hint. The span ended when it blocked; it may hold earlier
		 * polls on that fd taken for syscalls: counted, not reported. */
		count_span(l->off_since - l->busy_since);
		l->last_end = l->off_since;
		l->off_since = 0;
		l->state = LS_IDLE;
		l->busy_since = 0;
	}
	if (l->state == LS_IDLE && l->epfd >= 0) {
		/* woken in its poll: the next iteration starts now */
		if (l->last_end && now > l->last_end)
			__sync_fetch_and_add(&totals.idle_ns, now - l->last_end);
		l->state = LS_BUSY;
		span_begin(l, now);
	}
	back_on_cpu(l, now);
}

static void switched_in(struct task_struct *next, __u64 now)
{
	struct ls_loop *l = loop_of(next->pid);

	if (!l)
		return;
	slot_write_begin(l);
	apply_epfd_hint(l);
	apply_restart(l, now);
	l->run_at_on = next->se.sum_exec_runtime;
	l->last_on = now;
	slot_switched_in(l, now);
	slot_write_end(l);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(ls_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	/* Every context switch of the machine runs this: direct loads (tp_btf
	 * gives typed pointers), no helper call before the filter. */
	bool out = prev->tgid == targ_tgid;
	bool in = next->tgid == targ_tgid;
	__u64 now;

	if (!out && !in)
		return 0;
	now = bpf_ktime_get_ns();
	if (out)
		switched_out(prev, now);
	if (in)
		switched_in(next, now);
	return 0;
}

/* Slot l's thread leaves its loop for good: a span under way ends here
 * (a thread that dies mid-stall, the process exiting while hung, still
 * reports the stall, up to its death) and the slot is free. */
static void slot_release(struct ls_loop *l)
{
	slot_write_begin(l);
	span_end(l, bpf_ktime_get_ns(), true);
	l->state = LS_IDLE;
	l->busy_since = 0;
	l->tid = 0;
	slot_write_end(l);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ls_thread_exit, struct task_struct *p)
{
	struct ls_loop *l;

	if (p->tgid != targ_tgid)
		return 0;
	l = loop_of(p->pid);
	if (l)
		slot_release(l);
	return 0;
}

/* The target replaced its program (exec keeps the PID, and its start
 * time): the thread that exec'd runs no loop now (the others are gone,
 * through the exit above), and user space must read the new interpreter.
 * Counted after the slot's last stall is in the ring buffer. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ls_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ls_loop *l;

	if (p->tgid != targ_tgid)
		return 0;
	l = loop_of((__u32)old_pid);
	if (l)
		slot_release(l);
	__sync_fetch_and_add(&execs, 1);
	return 0;
}
