/* SPDX-License-Identifier: GPL-2.0-only */
/* The BPF stall tracer: loads bpf/stall.bpf.c for one target process and
 * hands over the stalls it reports. Only this file sees the skeleton. */
#ifndef LOOPSCOPE_STALL_TRACER_H
#define LOOPSCOPE_STALL_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "stall.h"

struct stall_tracer;

/* Called for each stall the kernel side reports; e is a private copy. */
typedef void (*stall_event_fn)(const struct stall_event *e, void *ctx);

struct stall_tracer_opts {
	pid_t pid;
	uint64_t threshold_ns;
	bool verbose;          /* libbpf's own messages on stderr */
	bool precise;          /* trace every syscall entry (exact counts) */
};

int stall_tracer_new(const struct stall_tracer_opts *opts, stall_event_fn cb,
		     void *ctx, struct stall_tracer **out);
/* Delivers the stalls reported so far, without waiting; 0 or -errno. */
int stall_tracer_consume(struct stall_tracer *t);
/* The fd to wait on for new stalls (epoll), for event-loop users. */
int stall_tracer_fd(struct stall_tracer *t);
/* The live per-loop-thread state, LS_MAX_LOOPS entries, shared with the
 * kernel (read it, never write it; it changes while you read). */
const volatile struct ls_loop *stall_tracer_loops(struct stall_tracer *t);
/* Registers a loop thread found from outside: blocked in its epoll wait
 * (its next iteration is measured from its start), or running (a loop that
 * never blocks in its poll; its heartbeat will cut it into iterations).
 * -ENOSPC when its slots are taken: counted as untracked. */
int stall_tracer_seed_loop(struct stall_tracer *t, pid_t tid, int epfd, bool running);
void stall_tracer_totals(struct stall_tracer *t, struct ls_totals *out);
/* Threads that waited in epoll (or were seeded) when every slot they may
 * use was taken: their stalls are missed. At most LS_MAX_UNTRACKED. */
uint64_t stall_tracer_untracked(struct stall_tracer *t);
/* Traces every syscall entry from now on: exact poll entries, at a cost to
 * every process of the machine (see bpf/stall.bpf.c). */
int stall_tracer_trace_syscalls(struct stall_tracer *t);
/* Whether syscall entries are traced for good (not during a window). */
bool stall_tracer_syscalls_on(const struct stall_tracer *t);
/* Traces syscall entries only while open: opened while a loop runs long,
 * so a stall's syscalls are counted one by one from then on, at a cost to
 * the machine only while a stall is under way. */
void stall_tracer_syscall_window(struct stall_tracer *t, bool open);
/* Tells the kernel side the loop in slot moved on at `at` (heartbeat). */
void stall_tracer_restart(struct stall_tracer *t, int slot, uint64_t at);
/* Tells the kernel side which epoll fd the loop in slot polls now. */
void stall_tracer_hint_epfd(struct stall_tracer *t, int slot, int epfd);
/* How many times the target exec'd since the tracer was loaded: the
 * kernel side follows the PID across it, user space must read the new
 * program again. */
uint64_t stall_tracer_execs(const struct stall_tracer *t);
void stall_tracer_free(struct stall_tracer *t);

#endif
