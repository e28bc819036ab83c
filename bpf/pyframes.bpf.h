/* SPDX-License-Identifier: GPL-2.0-only */
/* The one Python frame walker of the BPF programs (BPF only). The program
 * that includes it defines `cfg` first: a const volatile struct with
 * `minor` and the PYFRAMES_CONFIG_FIELDS of bpf/pyframes.h. */
#ifndef LOOPSCOPE_PYFRAMES_BPF_H
#define LOOPSCOPE_PYFRAMES_BPF_H

#include "pyframes.h"

/* Typed reads of target memory: 0 when unreadable (a freed object reads
 * as zeros, which every caller treats as "none"). */
#define DEFINE_RD(name, type)						\
	static __always_inline type name(__u64 addr)			\
	{								\
		type v = 0;						\
									\
		bpf_probe_read_user(&v, sizeof(v), (void *)addr);	\
		return v;						\
	}
DEFINE_RD(rd_ptr, __u64)
DEFINE_RD(rd_i64, __s64)
DEFINE_RD(rd_i32, __s32)
DEFINE_RD(rd_i8, __s8)

/* A pointer the walk needs: a failed read is noted, since in interrupt
 * context a page not resident fails rather than faults in, and a chain
 * cut there would look whole. */
static __always_inline __u64 rd_ptr_noted(__u64 addr, struct py_raw_stack *s)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		s->faulted = 1;
	return v;
}

/* 3.14+: the object a _PyStackRef refers to (tag bits off); a pointer as
 * it is before. */
static __always_inline __u64 stackref(__u64 ref)
{
	return ref & ~(__u64)cfg.stackref_tag_bits;
}

static __always_inline __s32 iframe_lasti(__u64 frame, __u64 code)
{
	__u64 instr = rd_ptr(frame + cfg.if_instr);

	return (__s32)(((__s64)instr - (__s64)(code + cfg.co_code_adaptive)) >> 1);
}

static __always_inline void pyframes_push(struct py_raw_stack *s, __u64 frame, __u64 code,
					  __s32 lasti, __s32 line, __s32 owner)
{
	__u32 n = s->nframes;

	if (n >= PYFRAMES_MAX) {
		s->truncated = 1;
		return;
	}
	s->frames[n & (PYFRAMES_MAX - 1)] = (struct py_raw_frame){ frame, code, lasti, line, owner, 0 };
	s->nframes = n + 1;
}

/* The stack of the thread whose thread state is tstate, from its current
 * frame out. */
static void pyframes_walk_thread(struct py_raw_stack *s, __u64 tstate)
{
	__u64 frame = rd_ptr_noted(tstate + cfg.ts_frame, s);

	if (cfg.cf_current_frame >= 0 && frame) /* 3.11-3.12: through the _PyCFrame */
		frame = rd_ptr_noted(frame + cfg.cf_current_frame, s);
	for (int i = 0; i < PYFRAMES_MAX && frame; i++) {
		__u64 code;

		if (cfg.minor < 11) {
			code = rd_ptr_noted(frame + cfg.fo_code, s);
			pyframes_push(s, frame, code, rd_i32(frame + cfg.fo_lasti), -1, -1);
			frame = rd_ptr_noted(frame + cfg.fo_back, s);
			continue;
		}
		code = stackref(rd_ptr_noted(frame + cfg.if_code, s));
		pyframes_push(s, frame, code, iframe_lasti(frame, code), -1, rd_i8(frame + cfg.if_owner));
		frame = rd_ptr_noted(frame + cfg.if_previous, s);
	}
	if (frame)
		s->truncated = 1;
}

#endif
