/* Shared between bpf/lostwork.bpf.c and agent/lostwork_tracer.c. */
#ifndef LOOPSCOPE_LOSTWORK_H
#define LOOPSCOPE_LOSTWORK_H

#define LW_MAX_FRAMES 64   /* a power of two: indexes are masked */
#define LW_STR_MAX    128
#define LW_TYPE_MAX   64

enum lw_kind {
	LW_NEVER_AWAITED = 1,
	LW_UNRETRIEVED = 2,
	LW_DESTROYED_PENDING = 3,
};

/* A Python frame as the probe saw it: user space turns the code object and
 * instruction offset into func/file/line (code objects outlive the event:
 * they belong to functions, not to the dying coroutine). */
struct lw_frame {
	__u64 code;
	__s32 lasti;      /* in code units; tracebacks: in bytes */
	__s32 line;       /* a traceback's tb_lineno when known, else -1 */
	__s32 owner;      /* 3.11+ frame owner (incomplete frames are skipped) */
	__s32 pad;
};

/* A str copied at the probe: raw code units, decoded in user space. */
struct lw_str {
	__u32 len;        /* code units copied */
	__u32 total;      /* code units in the string */
	__u8 kind;        /* 1, 2, 4; 0: not a str */
	__u8 pad[7];
	__s64 as_int;     /* task names that are still ints (3.12+) */
	char data[LW_STR_MAX];
};

struct lw_event {
	__u32 kind;
	__u32 tid;
	__u64 ts;          /* CLOCK_MONOTONIC */
	__u64 obj;         /* the coroutine, task or future */
	__u32 nframes;     /* never awaited: the dropping thread's stack;
			      destroyed: the coroutine chain; unretrieved: the
			      traceback (innermost first, all three) */
	__u32 truncated;
	struct lw_str coro;
	struct lw_str name;
	struct lw_str msg;
	char exc_type[LW_TYPE_MAX];
	struct lw_frame frames[LW_MAX_FRAMES];
};

/* Where an inlined probe site keeps the coroutine pointer (BPF cookie):
 * low 16 bits: pt_regs offset of a register; bit 16: read memory at
 * register + offset (bits 32..63, signed) instead of the register. */
#define LW_COOKIE_DEREF (1ULL << 16)
/* For probes inside a finalizer's reporting branch (bit 17 set: the
 * "destroyed while pending" branch of TaskObj_finalize; clear: the
 * "exception never retrieved" branch of FutureObj_finalize, which has
 * already cleared log_tb). */
#define LW_COOKIE_PENDING (1ULL << 17)

/* Everything the probes need to read CPython objects (set before load). */
struct lw_config {
	__u32 tgid;
	__u32 minor;
	__u64 runtime;           /* &_PyRuntime */
	__u64 coro_type, long_type, unicode_type;
	__s32 rt_interpreters_head, rt_gil_holder, is_gil, gil_holder;
	__s32 ts_frame, cf_current_frame;
	__s32 fo_back, fo_code, fo_lasti, fo_frame, fo_state, fo_stackdepth, fo_valuestack;
	__s32 if_previous, if_code, if_instr, if_owner, if_stacktop, if_localsplus;
	__s32 co_code_adaptive;
	__s32 ob_type, tp_name, tp_base, ob_size, tuple_item, long_digits, long_tag;
	__s32 u_length, u_state, u_ascii_size, u_compact_size;
	__s32 gen_qualname, gen_frame, gen_iframe, gen_frame_state;
	__s32 fut_state, fut_log_tb, fut_log_tb_bit, fut_exception, fut_exception_tb;
	__s32 task_name, task_coro, task_log_destroy_pending, task_log_destroy_pending_bit;
	__s32 exc_args, exc_traceback, tb_next, tb_frame, tb_lasti, tb_lineno;
};

#endif
