/* Shared between bpf/lost.bpf.c and agent/lost/lost_tracer.c. */
#ifndef LOOPSCOPE_LOSTWORK_H
#define LOOPSCOPE_LOSTWORK_H

#define LOST_MAX_FRAMES 64   /* a power of two: indexes are masked */
_Static_assert((LOST_MAX_FRAMES & (LOST_MAX_FRAMES - 1)) == 0, "LOST_MAX_FRAMES must be a power of two");
#define LOST_STR_MAX    128
#define LOST_TYPE_MAX   64

enum lost_kind {
	LOST_NEVER_AWAITED = 1,
	LOST_UNRETRIEVED = 2,
	LOST_DESTROYED_PENDING = 3,
};

/* A Python frame as the probe saw it: user space turns the code object and
 * instruction offset into func/file/line (code objects outlive the event:
 * they belong to functions, not to the dying coroutine). */
struct lost_frame {
	__u64 code;
	__s32 lasti;      /* in code units; tracebacks: in bytes */
	__s32 line;       /* a traceback's tb_lineno when known, else -1 */
	__s32 owner;      /* 3.11+ frame owner (incomplete frames are skipped) */
	__s32 pad;
};

/* lost_str.kind of an int copied instead of a str (as_int holds it). */
#define LOST_STR_INT 8

/* A str copied at the probe: raw code units, decoded in user space. */
struct lost_str {
	__u32 len;        /* code units copied */
	__u32 total;      /* code units in the string */
	__u8 kind;        /* bytes per code unit, 1, 2, 4; LOST_STR_INT; 0: not a str */
	__u8 pad[7];
	__s64 as_int;     /* task names that are still ints (3.12+) */
	char data[LOST_STR_MAX];
};

struct lost_event {
	__u32 kind;
	__u32 tid;
	__u64 ts;          /* CLOCK_MONOTONIC */
	__u64 obj;         /* the coroutine, task or future */
	__u32 nframes;     /* never awaited: the dropping thread's stack;
			      destroyed: the coroutine chain; unretrieved: the
			      traceback (innermost first, all three) */
	__u32 truncated;
	struct lost_str coro;
	struct lost_str name;
	struct lost_str msg;
	char exc_type[LOST_TYPE_MAX];
	struct lost_frame frames[LOST_MAX_FRAMES];
};

/* Where an inlined probe site keeps the coroutine pointer (BPF cookie):
 * low 16 bits: pt_regs offset of a register; bit 16: read memory at
 * register + offset (bits 32..63, signed) instead of the register. */
#define LOST_COOKIE_DEREF (1ULL << 16)
/* For probes inside a finalizer's reporting branch (bit 17 set: the
 * "destroyed while pending" branch of TaskObj_finalize; clear: the
 * "exception never retrieved" branch of FutureObj_finalize, which has
 * already cleared log_tb). */
#define LOST_COOKIE_PENDING (1ULL << 17)

/* Everything the probes need to read CPython objects (set before load). */
struct lost_config {
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
