/* SPDX-License-Identifier: GPL-2.0-only */
/* Turns the kernel's stall events and the live loop state into stall
 * reports: assigns ids, reports stalls still under way ("ongoing"), and
 * keeps the numbers of the summary. */
#ifndef LOOPSCOPE_STALL_MONITOR_H
#define LOOPSCOPE_STALL_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "pystack.h"

#define STALL_MAX_SYSCALLS 18

struct stall_syscall {
	int nr;               /* -1: the "other" bucket */
	uint64_t count;
	double ms;
	bool in_progress;     /* the call the thread is in right now */
};

/* What a loop thread asleep in a futex waits for. */
enum stall_wait {
	STALL_WAIT_NONE = 0,  /* no futex wait, or not known */
	STALL_WAIT_GIL,       /* the GIL's condition variable or mutex */
	STALL_WAIT_LOCK,      /* another futex: a lock, a condition, a semaphore */
};

struct stall_report {
	uint64_t id;          /* the same for the ongoing and final reports */
	pid_t pid;
	pid_t tid;
	char thread_name[32];
	double ts;            /* Unix seconds, start of the stall */
	double duration_ms;
	double on_cpu_ms;
	double off_cpu_ms;
	bool ongoing;
	bool unfinished;      /* ongoing when watching ended: its last report */
	bool thread_exited;
	size_t nsyscalls;     /* longest first */
	struct stall_syscall syscalls[STALL_MAX_SYSCALLS];
	const struct py_stack *stack;   /* NULL: no Python stack known */
	const struct py_task_ref *task; /* NULL: no task was running */
	enum stall_wait wait; /* most samples saw the loop wait on this */
	uint64_t futex;       /* ... at this address (STALL_WAIT_LOCK) */
	pid_t gil_holder;     /* >0: the loop waited for the GIL held by it */
	const struct py_stack *gil_holder_stack;
	int samples;          /* stack samples taken during the stall */
};

struct stall_summary {
	uint64_t stalls;      /* every stall reported, the unfinished ones too */
	uint64_t unfinished;  /* ... still under way when watching ended */
	double worst_ms;
	double busy_p50_ms;
	double busy_p99_ms;
	double utilisation;   /* busy / (busy + idle), 0..1 */
	uint64_t iterations;
	uint64_t dropped;
	uint64_t untracked;   /* threads that found no slot: their stalls are missed */
	int loops_seen;       /* loop threads seen while watching, ended ones too */
	bool precise;         /* every poll entry was traced (else: heartbeat cuts) */
};

typedef void (*stall_report_fn)(const struct stall_report *r, void *ctx);

struct stall_monitor_opts {
	pid_t pid;
	uint64_t threshold_ns;
	bool verbose;
	bool stacks;           /* read the Python stack of stalls */
	bool precise;          /* trace every syscall entry, always */
};

struct stall_monitor;

int stall_monitor_new(const struct stall_monitor_opts *opts, stall_report_fn cb,
		      void *ctx, struct stall_monitor **out);
/* The monitor never blocks. Wait until its fd is readable (the kernel
 * side reported stalls; an epoll fd) or its next deadline has come,
 * whichever is first (poll(2), or a libuv poll handle and timer), then
 * call stall_monitor_process. */
int stall_monitor_fd(const struct stall_monitor *m);
/* Delivers the stalls reported, and does the timed work that is due
 * (heartbeat reads, stack samples, ongoing stalls: a stall under way is
 * reported when it passes the threshold, then at most once a second with
 * the same id): 0 or -errno. */
int stall_monitor_process(struct stall_monitor *m);
/* Milliseconds until the next timed work (from ~1 ms while a stall is
 * sampled to 10 ms), 0 when it is due. */
int stall_monitor_next_ms(const struct stall_monitor *m);
/* A message for the user that came up while watching (e.g. a loop that
 * makes us trace every syscall), NULL when none; each is returned once. */
const char *stall_monitor_take_note(struct stall_monitor *m);
/* The target exec'd (the same PID runs a new program): the monitor reads
 * the new interpreter and finds its loops again, as it does at start.
 * Handed out once per exec, when that is done (or given up: not Python). */
struct stall_exec {
	uint64_t execs;       /* execs since watching began */
	const char *python;   /* the new program's Python version, NULL: none read */
	char exe[256];        /* its executable (/proc/PID/exe), "" when unknown */
};
bool stall_monitor_take_exec(struct stall_monitor *m, struct stall_exec *out);
/* Number of loop threads seen so far (those that ended too). */
int stall_monitor_loops(const struct stall_monitor *m);
/* What the target is, for a loop to appear in it. */
enum stall_target {
	STALL_TARGET_OTHER,       /* not a Python we read: any epoll loop (libuv) */
	STALL_TARGET_NO_ASYNCIO,  /* Python without asyncio imported (yet) */
	STALL_TARGET_ASYNCIO,
	STALL_TARGET_UNREADABLE,  /* its interpreter's files cannot be opened (the warning says which) */
};
enum stall_target stall_monitor_target(const struct stall_monitor *m);
/* Watching ends now: each stall still under way is reported one last
 * time (ongoing and unfinished), and counted; the summary's numbers stop
 * here, so that they agree with what was reported. */
void stall_monitor_stop(struct stall_monitor *m);
/* Stops the monitor first (stall_monitor_stop), if it was not. */
void stall_monitor_summary(struct stall_monitor *m, struct stall_summary *out);
struct ls_totals;
/* The finished busy spans (iterations) of every loop thread: their time,
 * count and log2(us) histogram (bpf/stall.h), the kernel's and the
 * heartbeat's together. */
void stall_monitor_totals(struct stall_monitor *m, struct ls_totals *out);
/* Non-fatal problems found at start (e.g. no stacks for this Python). */
const char *stall_monitor_warning(const struct stall_monitor *m);
void stall_monitor_free(struct stall_monitor *m);

#endif
