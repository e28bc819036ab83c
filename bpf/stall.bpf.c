// SPDX-License-Identifier: GPL-2.0
/* Event-loop stall detector.
 *
 * A loop thread is a thread of the target that waits in epoll_wait (asyncio's
 * selector, libuv). Between returning from a wait on its own epoll fd and the
 * next wait on it, the thread is "busy": that span is one loop iteration.
 * Spans longer than the threshold are stalls and are sent to user space with
 * their on-CPU time and the syscalls made inside them. Nothing else leaves
 * the kernel per iteration: totals and a histogram stay in .bss, and the
 * current span's start is readable there (mmap) to see a stall under way.
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
#elif defined(__TARGET_ARCH_arm64)
#define NR_close        57
#define NR_epoll_wait   (-1) /* arm64 has only epoll_pwait */
#define NR_epoll_pwait  22
#define NR_epoll_pwait2 441
#else
#error "loopscope: syscall numbers not defined for this architecture"
#endif

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_tgid = 0;
const volatile __u64 threshold_ns = 100000000ULL;

struct ls_loop loops[LS_MAX_LOOPS] = {};
struct ls_totals totals = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LS_MAX_LOOPS);
	__type(key, __u32);   /* tid */
	__type(value, __u32); /* index in loops[] */
} loop_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline bool is_epoll_wait(long nr)
{
	return nr == NR_epoll_wait || nr == NR_epoll_pwait || nr == NR_epoll_pwait2;
}

static __always_inline struct ls_loop *loop_of(__u32 tid)
{
	__u32 *slot = bpf_map_lookup_elem(&loop_slot, &tid);
	__u32 idx;

	if (!slot)
		return NULL;
	idx = *slot;
	if (idx >= LS_MAX_LOOPS)
		return NULL;
	return &loops[idx];
}

struct claim_ctx {
	__u32 tid;
	__s32 epfd;
	struct ls_loop *loop;
};

static long claim_one(__u32 i, struct claim_ctx *c)
{
	struct ls_loop *l;

	if (i >= LS_MAX_LOOPS)
		return 1;
	l = &loops[i];
	if (l->tid || __sync_val_compare_and_swap(&l->tid, 0, c->tid) != 0)
		return 0;
	l->epfd = c->epfd;
	l->index = i;
	l->busy_since = 0;
	l->last_on = bpf_ktime_get_ns();
	l->last_end = 0;
	l->sys_nr = -1;
	l->nsc = 0;
	l->foreign_count = 0;
	if (bpf_map_update_elem(&loop_slot, &c->tid, &i, BPF_NOEXIST)) {
		l->tid = 0;
		return 1;
	}
	c->loop = l;
	return 1;
}

/* Claims a free slot for a thread seen waiting in epoll for the first time. */
static struct ls_loop *loop_claim(__u32 tid, __s32 epfd)
{
	struct claim_ctx c = { .tid = tid, .epfd = epfd };

	bpf_loop(LS_MAX_LOOPS, claim_one, &c, 0);
	return c.loop;
}

static __always_inline __u32 log2_bucket(__u64 v)
{
	__u32 r = 0;

	for (int i = 0; i < LS_HIST_SLOTS - 1 && v > 1; i++) {
		v >>= 1;
		r++;
	}
	return r;
}

static __always_inline __u64 span_on_cpu(struct ls_loop *l, __u64 now)
{
	__u64 on = l->on_cpu_ns;
	__u64 from = l->last_on > l->busy_since ? l->last_on : l->busy_since;

	if (l->last_on && now > from)
		on += now - from;
	return on;
}

static void emit_stall(struct ls_loop *l, __u32 slot, __u64 now, bool exited)
{
	struct stall_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&totals.dropped, 1);
		return;
	}
	e->tid = l->tid;
	e->slot = slot;
	e->start_ns = l->busy_since;
	e->end_ns = now;
	e->on_cpu_ns = span_on_cpu(l, now);
	e->nsc = l->nsc;
	e->thread_exited = exited;
	e->sc_other_count = l->sc_other_count;
	e->sc_other_ns = l->sc_other_ns;
	__builtin_memcpy(e->sc, l->sc, sizeof(e->sc));
	bpf_ringbuf_submit(e, 0);
}

/* The thread is back in its poll (or gone): close the busy span. */
static void span_end(struct ls_loop *l, __u64 now, bool exited)
{
	__u64 busy;

	if (!l->busy_since)
		return;
	busy = now - l->busy_since;
	__sync_fetch_and_add(&totals.busy_ns, busy);
	__sync_fetch_and_add(&totals.spans, 1);
	__u32 b = log2_bucket(busy / 1000);
	if (b < LS_HIST_SLOTS)
		__sync_fetch_and_add(&totals.hist[b], 1);
	if (busy >= threshold_ns)
		emit_stall(l, l->index, now, exited);
	l->busy_since = 0;
	l->last_end = now;
	l->seq++;
}

/* Back from the loop's poll: a new iteration starts. */
static void span_start(struct ls_loop *l, __u64 now)
{
	if (l->last_end)
		__sync_fetch_and_add(&totals.idle_ns, now - l->last_end);
	l->on_cpu_ns = 0;
	l->nsc = 0;
	l->sc_other_count = 0;
	l->sc_other_ns = 0;
	l->busy_since = now;
	l->seq++;
}

static void account_syscall(struct ls_loop *l, __u32 nr, __u64 ns)
{
	__u32 n = l->nsc;

	for (__u32 i = 0; i < LS_MAX_SC; i++) {
		if (i >= n)
			break;
		if (l->sc[i].nr == nr) {
			l->sc[i].count++;
			l->sc[i].ns += ns;
			return;
		}
	}
	if (n < LS_MAX_SC) {
		l->sc[n].nr = nr;
		l->sc[n].count = 1;
		l->sc[n].ns = ns;
		l->nsc = n + 1;
		return;
	}
	l->sc_other_count++;
	l->sc_other_ns += ns;
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
	return (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ls_sys_enter, struct pt_regs *regs, long id)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ls_loop *l;
	__u64 now;

	if (!is_target())
		return 0;
	l = loop_of(tid);
	if (!l && !is_epoll_wait(id))
		return 0;
	now = bpf_ktime_get_ns();
	if (is_epoll_wait(id)) {
		__s32 fd = (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);

		if (!l)
			l = loop_claim(tid, fd);
		if (!l)
			return 0;
		if (l->epfd < 0)
			l->epfd = fd;
		if (fd == l->epfd || foreign_wait_is_loop(l, fd)) {
			l->foreign_count = 0;
			span_end(l, now, false);
			l->sys_nr = -1;
			return 0;
		}
	} else if (id == NR_close && l->epfd >= 0 &&
		   (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs) == l->epfd) {
		/* The loop is being closed (asyncio.run ends): the time until the
		 * next loop polls is not a loop iteration. Learn the next fd. */
		l->epfd = -1;
		l->busy_since = 0;
		l->seq++;
		l->sys_nr = -1;
		return 0;
	}
	l->sys_nr = id;
	l->sys_enter_ns = now;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ls_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ls_loop *l;
	__u64 now;

	if (!is_target())
		return 0;
	l = loop_of(tid);
	if (!l)
		return 0;
	now = bpf_ktime_get_ns();
	if (l->sys_nr < 0) {
		/* returning from the loop's own poll */
		if (!l->busy_since && l->epfd >= 0)
			span_start(l, now);
		return 0;
	}
	if (l->busy_since && l->sys_enter_ns >= l->busy_since)
		account_syscall(l, (__u32)l->sys_nr, now - l->sys_enter_ns);
	l->sys_nr = -1;
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(ls_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	__u64 now = 0;
	struct ls_loop *l;

	if (BPF_CORE_READ(prev, tgid) == targ_tgid) {
		l = loop_of(BPF_CORE_READ(prev, pid));
		if (l) {
			now = bpf_ktime_get_ns();
			if (l->busy_since)
				l->on_cpu_ns = span_on_cpu(l, now);
			l->last_on = 0;
		}
	}
	if (BPF_CORE_READ(next, tgid) == targ_tgid) {
		l = loop_of(BPF_CORE_READ(next, pid));
		if (l)
			l->last_on = now ? now : bpf_ktime_get_ns();
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ls_thread_exit, struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	struct ls_loop *l;

	if (BPF_CORE_READ(p, tgid) != targ_tgid)
		return 0;
	l = loop_of(tid);
	if (!l)
		return 0;
	/* A thread that dies mid-stall (the process exits while hung) still
	 * reports the stall, up to its death. */
	span_end(l, bpf_ktime_get_ns(), true);
	bpf_map_delete_elem(&loop_slot, &tid);
	l->tid = 0;
	return 0;
}
