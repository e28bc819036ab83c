/* SPDX-License-Identifier: GPL-2.0-only */
/* Whole stacks of on-CPU stalls, read in the kernel: a cpu-clock perf
 * event on each loop thread that is stalling, whose BPF program
 * (bpf/stall_sample.bpf.c) walks the Python frames at the sample, while
 * the thread is stopped. Events exist only while stall_kstack_keep names
 * their threads: a healthy loop costs nothing. Only this file sees the
 * skeleton. */
#ifndef LOOPSCOPE_STALL_KSTACK_H
#define LOOPSCOPE_STALL_KSTACK_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "pyproc.h"
#include "stall_sample.h"

struct stall_kstack;

typedef void (*kstack_fn)(const struct kstack_event *e, void *ctx);

/* Loads the program for p's layout (the sampler does at its first stall);
 * events go to cb from stall_kstack_drain. */
int stall_kstack_new(const struct py_proc *p, kstack_fn cb, void *ctx, struct stall_kstack **out);
/* Samples exactly these threads (host tids and their thread states) from
 * now on: events are opened for new ones, closed for the others. */
int stall_kstack_keep(struct stall_kstack *k, const pid_t *tids, const uint64_t *tstates, size_t n);
/* Hands every sample taken so far to the callback. */
int stall_kstack_drain(struct stall_kstack *k);
void stall_kstack_free(struct stall_kstack *k);

#endif
