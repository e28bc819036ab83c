/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between bpf/lost.bpf.c and agent/lost/lost_tracer.c. */
#ifndef LOOPSCOPE_LOSTWORK_H
#define LOOPSCOPE_LOSTWORK_H

#include "pyframes.h"

#define LOST_STR_MAX    128
#define LOST_TYPE_MAX   64

enum lost_kind {
	LOST_NEVER_AWAITED = 1,
	LOST_UNRETRIEVED = 2,
	LOST_DESTROYED_PENDING = 3,
};

/* lost_str.kind of an int copied instead of a str (as_int holds it), of a
 * float (as_int holds its bits), and of any other object (data holds its
 * type's name, as_int its address). */
#define LOST_STR_INT 8
#define LOST_STR_FLOAT 9
#define LOST_STR_OBJ 10

/* Exception args copied: enough for str(exc) of the usual ones. */
#define LOST_EXC_ARGS 3

/* A str copied at the probe: raw code units, decoded in user space. */
struct lost_str {
	__u32 len;        /* code units copied */
	__u32 total;      /* code units in the string */
	__u8 kind;        /* bytes per code unit, 1, 2, 4; LOST_STR_INT; 0: not a str */
	__u8 pad[7];
	__s64 as_int;     /* task names that are still ints (3.12+) */
	char data[LOST_STR_MAX];
};

/* Where a coroutine was created, as origin tracking records it
 * (sys.set_coroutine_origin_tracking_depth, on in asyncio's debug mode):
 * cr_origin's (filename, lineno, funcname) entries, innermost first. The
 * strings are the creating code objects' own, which outlive the event:
 * user space reads them. */
#define LOST_ORIGIN_MAX 8
struct lost_origin {
	__u64 file, func;
	__s64 line;
};

struct lost_event {
	__u32 kind;
	__u32 tid;
	__u64 ts;          /* CLOCK_MONOTONIC */
	__u64 obj;         /* the coroutine, task or future */
	struct lost_str coro;
	struct lost_str name;
	char exc_type[LOST_TYPE_MAX];
	/* what str(exc) is made of: its type's tp_str (which str() it has),
	 * len(args) and the first args, and OSError's own fields (kind 0:
	 * not set) */
	__u64 exc_str;
	__u32 nargs;
	__u32 pad;
	struct lost_str args[LOST_EXC_ARGS];
	struct lost_str os_errno, os_strerror, os_filename, os_filename2;
	__u64 coro_code;   /* the coroutine's code object: where it is defined */
	__u32 norigin;
	__u32 pad2;
	struct lost_origin origin[LOST_ORIGIN_MAX];
	/* Frames as the probe saw them: user space turns each code object
	 * and offset into func/file/line (code objects outlive the event:
	 * they belong to functions, not to the dying coroutine). Never
	 * awaited: the dropping thread's stack; destroyed: the coroutine
	 * chain; unretrieved: the traceback (innermost first, all three). */
	struct py_raw_stack stack;
};

/* Where an inlined probe site keeps the coroutine pointer (BPF cookie):
 * low 16 bits: pt_regs offset of a register; bit 16: read memory at
 * register + offset (bits 32..63, signed) instead of the register: a
 * stack slot (DW_OP_fbreg) is memory at the CFA's register, rsp or rbp,
 * plus the CFA's offset and the slot's. */
#define LOST_COOKIE_DEREF (1ULL << 16)
/* For probes inside a finalizer's reporting branch (bit 17 set: the
 * "destroyed while pending" branch of TaskObj_finalize; clear: the
 * "exception never retrieved" branch of FutureObj_finalize, which has
 * already cleared log_tb). */
#define LOST_COOKIE_PENDING (1ULL << 17)

/* The table fields the probes read, copied one for one by fill_config
 * (agent/lost/lost_tracer.c) from the version's tables: L(name) from
 * struct cpy_layout, A(name) from struct cpy_aio_layout; offsets, then
 * the values the tables hold (frame states and owner, future states). One
 * list makes both the fields of struct lost_config and the copy. */
#define LOST_CONFIG_FIELDS(L, A)						\
	L(rt_interpreters_head) L(rt_gil_holder) L(is_gil) L(gil_holder)	\
	PYFRAMES_CONFIG_FIELDS(L)						\
	L(fo_frame) L(fo_state) L(fo_stackdepth) L(fo_valuestack)		\
	L(if_stacktop) L(if_stackpointer) L(frame_completed) L(frame_yf_depth)	\
	L(if_localsplus)							\
	L(ob_type) L(tp_name) L(tp_base) L(ob_size) L(tuple_item)		\
	L(long_digits) L(long_tag)						\
	L(u_length) L(u_state) L(u_ascii_size) L(u_compact_size)		\
	L(gen_qualname) L(gen_frame) L(gen_iframe) L(gen_frame_state)		\
	L(gen_code) L(coro_origin)						\
	A(fut_state) A(fut_log_tb) A(fut_log_tb_bit) A(fut_exception)		\
	A(fut_exception_tb) A(task_name) A(task_coro)				\
	A(task_log_destroy_pending) A(task_log_destroy_pending_bit)		\
	L(exc_args) L(exc_traceback) L(tb_next) L(tb_frame) L(tb_lasti)		\
	L(tb_lineno) L(tp_str) L(float_value)					\
	L(os_errno) L(os_strerror) L(os_filename) L(os_filename2)		\
	L(frame_created) L(frame_suspended_yf) L(owner_generator)		\
	A(fut_pending) A(fut_finished)

/* Everything the probes need to read CPython objects (set before load). */
struct lost_config {
	__u32 tgid;
	__u32 minor;
	__u64 runtime;           /* &_PyRuntime */
	__u64 coro_type, long_type, unicode_type, float_type;
	__u64 oserror_str;       /* OSError's tp_str: its fields are copied */
#define LOST_CONFIG_FIELD(name) __s32 name;
	LOST_CONFIG_FIELDS(LOST_CONFIG_FIELD, LOST_CONFIG_FIELD)
#undef LOST_CONFIG_FIELD
};

#endif
