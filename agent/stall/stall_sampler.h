/* SPDX-License-Identifier: GPL-2.0-only */
/* Python stacks of stalled loop threads. While a span is under way and
 * past half the threshold, the monitor takes the loop thread's stack about
 * every millisecond: on CPU in the kernel, at a cpu-clock sample of the
 * stopped thread (stall_kstack.h), off CPU (or when that read fails) from
 * user space; a stall reports the stack seen most often, the task that was
 * running, and the GIL holder when the loop was waiting for it. */
#ifndef LOOPSCOPE_STALL_SAMPLER_H
#define LOOPSCOPE_STALL_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "pystack.h"
#include "span_key.h"
#include "stall_monitor.h"

struct stall_sampler;

/* One reading of a loop thread. */
struct stall_sample {
	struct py_stack stack;
	bool has_task;
	struct py_task_ref task;
	enum stall_wait wait;         /* what the thread's futex wait is on */
	uint64_t futex;               /* its address (0: not in a futex wait) */
	pid_t gil_holder;             /* another thread held the GIL, 0: no */
	struct py_stack holder_stack;
};

#define SPAN_MAX_BUCKETS 16

/* The samples of one busy span, grouped by identical stack and task. */
struct span_profile {
	struct span_key key;
	int samples;
	int gil_samples;              /* samples where another thread held the GIL */
	int lock_samples;             /* samples waiting on a futex not the GIL's */
	int nbuckets;
	struct span_bucket {
		struct stall_sample sample;
		int count;
		int gil_count;
		int lock_count;
	} buckets[SPAN_MAX_BUCKETS];
};

/* Fails (with why) when the target is not a supported Python: stalls are
 * then reported without stacks. */
int stall_sampler_new(pid_t pid, struct stall_sampler **out, char *why, size_t whylen);
/* Reads tid's stack now; futex: the address of the futex wait the thread
 * is in (0: none), which is where a thread waiting for the GIL sleeps, and
 * one waiting on a lock too: the address tells them apart. */
int stall_sampler_read(struct stall_sampler *s, pid_t tid, uint64_t futex, struct stall_sample *out);
void stall_sampler_free(struct stall_sampler *s);
/* Whether the interpreter has a thread yet (a program just exec'd may
 * not have initialised it). */
bool stall_sampler_started(struct stall_sampler *s);
/* Its version, "3.12.1". */
const char *stall_sampler_python(const struct stall_sampler *s);
/* Whether the target has imported asyncio (sys.modules). */
bool stall_sampler_has_asyncio(struct stall_sampler *s);

/* A thread running an asyncio loop, as Python sees it. */
struct sampler_loop {
	pid_t tid;
	int epfd;     /* the loop's epoll fd, -1 when unknown */
	bool uvloop;
};
/* The threads that run a loop now (found even if they never block). */
int stall_sampler_loops(struct stall_sampler *s, struct sampler_loop *out, size_t max, size_t *n);
/* True only when thread tid is known to run no event loop now (its loop
 * was closed, e.g. after asyncio.run): its busy span is not a stall. */
bool stall_sampler_runs_no_loop(struct stall_sampler *s, pid_t tid);
/* The heartbeat of the asyncio loop tid runs: the left end of its ready
 * queue, which moves with every callback the loop takes from it. -LS_EUNSUPPORTED
 * for loops without one we can read (uvloop), -LS_ENOLOOP when the thread
 * runs no loop now. */
int stall_sampler_heartbeat(struct stall_sampler *s, pid_t tid, uint64_t now_ns, uint64_t *beat);

/* A stack read in the kernel at a cpu-clock sample of a loop thread
 * (CLOCK_MONOTONIC ts): whole, since the thread was stopped. smp is NULL
 * when the walk failed (memory not resident at the interrupt): that tick
 * falls back on a read from user space. */
typedef void (*stall_kernel_fn)(pid_t tid, uint64_t ts, const struct stall_sample *smp, void *ctx);
/* Samples these loop threads in the kernel from now on, and only them
 * (none: no perf event is open, nothing costs). False when the kernel
 * cannot sample them (user-space reads are all there is). */
bool stall_sampler_kernel_keep(struct stall_sampler *s, const pid_t *tids, size_t n);
/* Hands the kernel's samples taken so far to fn. */
void stall_sampler_kernel_drain(struct stall_sampler *s, stall_kernel_fn fn, void *ctx);

void stall_sample_free(struct stall_sample *smp);

void span_profile_reset(struct span_profile *sp, struct span_key key);
void span_profile_add(struct span_profile *sp, const struct stall_sample *smp);
/* The most frequent reading, NULL when there was none. */
const struct span_bucket *span_profile_top(const struct span_profile *sp);
/* The reading that shows the GIL holder most often, NULL unless most
 * samples saw another thread holding the GIL. */
const struct span_bucket *span_profile_gil(const struct span_profile *sp);
/* The reading that shows a lock wait most often, NULL unless most samples
 * saw the thread wait on a futex that is not the GIL's. */
const struct span_bucket *span_profile_lock(const struct span_profile *sp);
void span_profile_free(struct span_profile *sp);

#endif
