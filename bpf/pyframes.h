/* SPDX-License-Identifier: GPL-2.0-only */
/* A Python thread's stack as a BPF program reads it: (frame, code object,
 * instruction offset, owner) per frame, innermost first, which user space
 * turns into func/file/line through its code cache (py_frame_push).
 * Shared by bpf/lost.bpf.c, bpf/stall_sample.bpf.c and their user sides;
 * the walker itself is bpf/pyframes.bpf.h. */
#ifndef LOOPSCOPE_PYFRAMES_H
#define LOOPSCOPE_PYFRAMES_H

#define PYFRAMES_MAX 64   /* a power of two: indexes are masked */
_Static_assert((PYFRAMES_MAX & (PYFRAMES_MAX - 1)) == 0, "PYFRAMES_MAX must be a power of two");

struct py_raw_frame {
	__u64 frame;      /* the frame's address: tells a task's coroutine frame */
	__u64 code;
	__s32 lasti;      /* in code units; tracebacks: in bytes */
	__s32 line;       /* a traceback's tb_lineno when known, else -1 */
	__s32 owner;      /* 3.11+ frame owner (incomplete frames are skipped) */
	__s32 pad;
};

struct py_raw_stack {
	__u32 nframes;
	__u32 truncated;  /* deeper than PYFRAMES_MAX: the innermost are kept */
	__u32 faulted;    /* a read failed (memory not resident at an
			     interrupt): frames may be missing */
	__u32 pad;
	struct py_raw_frame frames[PYFRAMES_MAX];
};

/* The layout fields the walker reads (struct cpy_layout's names): each
 * program's config has them, filled one for one from the version's table. */
#define PYFRAMES_CONFIG_FIELDS(L)						\
	L(ts_frame) L(cf_current_frame)						\
	L(fo_back) L(fo_code) L(fo_lasti)					\
	L(if_previous) L(if_code) L(if_instr) L(if_owner)			\
	L(stackref_tag_bits) L(co_code_adaptive)

#endif
