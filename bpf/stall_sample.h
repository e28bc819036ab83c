/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between bpf/stall_sample.bpf.c and agent/stall/stall_kstack.c:
 * whole Python stacks of a stalled loop thread, read at a cpu-clock
 * sample, while the thread is stopped. */
#ifndef LOOPSCOPE_STALL_SAMPLE_H
#define LOOPSCOPE_STALL_SAMPLE_H

#include "pyframes.h"

/* Threads sampled at once at most (the loops of one target). */
#define KSTACK_MAX_THREADS 64

struct kstack_config {
	__u32 minor;
	__u32 pad;
#define KSTACK_CONFIG_FIELD(name) __s32 name;
	PYFRAMES_CONFIG_FIELDS(KSTACK_CONFIG_FIELD)
#undef KSTACK_CONFIG_FIELD
};

struct kstack_event {
	__u32 tid;         /* host tid */
	__u32 pad;
	__u64 ts;          /* CLOCK_MONOTONIC */
	struct py_raw_stack stack;
};

#endif
