// SPDX-License-Identifier: GPL-2.0-only
/* Lost work: coroutines never awaited, task exceptions never retrieved,
 * tasks destroyed while pending.
 *
 * Uprobes sit on CPython's rare paths only: the never-awaited warning
 * (_PyErr_WarnUnawaitedCoroutine, or its inlined copies), and the C
 * finalizers of _asyncio.Task and _asyncio.Future. The objects die right
 * after the probe, so everything the event needs is copied here: names,
 * the exception's type and message, and frames as (code object, offset)
 * pairs that user space resolves (code objects belong to functions and
 * outlive the event). Filtering happens here too: only a coroutine still
 * in its CREATED state, only a pending task marked log_destroy_pending,
 * only a future with an exception and log_tb set.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lost.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct lost_config cfg = {};

#include "pyframes.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

__u64 dropped = 0;
/* _asyncio.Task's address: known only once asyncio is imported, so it is
 * written by user space after load (.bss), not fixed before it. */
__u64 task_type = 0;

#define MAX_CHAIN 16
#define MAX_TB 64

static __always_inline __u64 type_of(__u64 obj)
{
	return obj ? rd_ptr(obj + cfg.ob_type) : 0;
}

/* A flag that 3.13 keeps as a bit of a bitfield word, older ones as int. */
static __always_inline bool rd_flag(__u64 obj, __s32 off, __s32 bit)
{
	__u32 word = (__u32)rd_i32(obj + off);

	if (bit < 0)
		return word != 0;
	return (word >> (bit & 31)) & 1;
}

/* An int of up to two digits (60 bits), which is every line number. */
static __always_inline bool small_int(__u64 obj, __s64 *out)
{
	__s64 ndigits, v;
	bool neg;

	if (cfg.long_tag >= 0) {
		__u64 tag = (__u64)rd_i64(obj + cfg.long_tag);

		ndigits = (__s64)(tag >> 3);
		neg = (tag & 3) == 2;
	} else {
		ndigits = rd_i64(obj + cfg.ob_size);
		neg = ndigits < 0;
		if (neg)
			ndigits = -ndigits;
	}
	if (ndigits > 2)
		return false;
	v = rd_i32(obj + cfg.long_digits) & 0x3fffffff;
	if (ndigits == 2)
		v |= (__s64)(rd_i32(obj + cfg.long_digits + 4) & 0x3fffffff) << 30;
	if (ndigits == 0)
		v = 0;
	*out = neg ? -v : v;
	return true;
}

static __always_inline void copy_int(struct lost_str *out, __u64 obj)
{
	if (small_int(obj, &out->as_int))
		out->kind = LOST_STR_INT;
}

/* A str as code units, an int's or a float's value, or any other object's
 * type name: what str() and repr() of an exception's args are made of. */
static __noinline void copy_str(struct lost_str *out, __u64 obj)
{
	__u64 type = type_of(obj), data;
	__u32 state, kind, n;
	__s64 length;

	out->kind = 0;
	out->len = 0;
	if (!type)
		return;
	if (type == cfg.long_type) {
		copy_int(out, obj);
		return;
	}
	if (type == cfg.float_type) {
		out->as_int = rd_i64(obj + cfg.float_value);
		out->kind = LOST_STR_FLOAT;
		return;
	}
	if (type != cfg.unicode_type) {
		bpf_probe_read_user_str(out->data, LOST_STR_MAX, (void *)rd_ptr(type + cfg.tp_name));
		out->as_int = (__s64)obj;
		out->kind = LOST_STR_OBJ;
		return;
	}
	length = rd_i64(obj + cfg.u_length);
	state = (__u32)rd_i32(obj + cfg.u_state);
	kind = (state >> 2) & 7;
	if (kind != 1 && kind != 2 && kind != 4)
		return;
	if (!((state >> 5) & 1))
		data = rd_ptr(obj + cfg.u_compact_size);
	else if ((state >> 6) & 1)
		data = obj + cfg.u_ascii_size;
	else
		data = obj + cfg.u_compact_size;
	if (length < 0)
		return;
	n = length * kind > LOST_STR_MAX - 1 ? LOST_STR_MAX - 1 : (__u32)(length * kind);
	n &= LOST_STR_MAX - 1;
	bpf_probe_read_user(out->data, n, (void *)data);
	out->kind = kind;
	out->total = (__u32)length;
	out->len = n / kind;
}

/* The thread running the finalizer holds the GIL: its thread state is the
 * GIL's last holder. */
static __u64 current_tstate(void)
{
	__u64 interp, gil;

	if (cfg.rt_gil_holder >= 0)
		return rd_ptr(cfg.runtime + cfg.rt_gil_holder);
	interp = rd_ptr(cfg.runtime + cfg.rt_interpreters_head);
	gil = rd_ptr(interp + cfg.is_gil);
	return gil ? rd_ptr(gil + cfg.gil_holder) : 0;
}

/* What a 3.11+ frame suspended in an await awaits: frame_yf_depth slots
 * below its stack top (3.14+: a stack pointer; before: a depth); 0. */
static __u64 iframe_awaited(__u64 frame, __s8 state)
{
	__u64 base = frame + cfg.if_localsplus;
	__s64 depth;

	if (state != cfg.frame_suspended_yf)
		return 0;
	if (cfg.if_stackpointer >= 0) {
		__u64 sp = rd_ptr(frame + cfg.if_stackpointer);

		if (sp <= base || sp - base > 4096 * 8)
			return 0;
		depth = (__s64)((sp - base) / 8);
	} else {
		depth = rd_i32(frame + cfg.if_stacktop);
	}
	depth -= cfg.frame_yf_depth;
	if (depth < 0 || depth > 4096)
		return 0;
	return stackref(rd_ptr(base + (__u64)depth * 8));
}

/* The coroutine chain from the task's own coroutine down to what it
 * awaits: each suspended frame's top of stack is the awaited object. */
static void walk_coro_chain(struct lost_event *e, __u64 coro)
{
	for (int i = 0; i < MAX_CHAIN && coro; i++) {
		__u64 frame, code;
		__s32 depth;
		__s8 state;

		if (type_of(coro) != cfg.coro_type)
			return;
		if (cfg.minor < 11) {
			frame = rd_ptr(coro + cfg.gen_frame);
			if (!frame)
				return;
			code = rd_ptr(frame + cfg.fo_code);
			pyframes_push(&e->stack, frame, code, rd_i32(frame + cfg.fo_lasti), -1, -1);
			state = rd_i8(frame + cfg.fo_state);
			depth = rd_i32(frame + cfg.fo_stackdepth);
			if (state != cfg.frame_suspended_yf || depth <= 0 || depth > 4096)
				return;
			coro = rd_ptr(rd_ptr(frame + cfg.fo_valuestack) + (__u64)(depth - 1) * 8);
			continue;
		}
		state = rd_i8(coro + cfg.gen_frame_state);
		frame = coro + cfg.gen_iframe;
		code = stackref(rd_ptr(frame + cfg.if_code));
		if (state >= cfg.frame_completed) {
			/* The garbage collector may finalize (close) the coroutine
			 * before its task: its frame still says where it stood. */
			if (i == 0 && code)
				pyframes_push(&e->stack, frame, code, iframe_lasti(frame, code), -1, cfg.owner_generator);
			return;
		}
		pyframes_push(&e->stack, frame, code, iframe_lasti(frame, code), -1, cfg.owner_generator);
		coro = iframe_awaited(frame, state);
	}
}

/* The coroutine's code object: where its function is defined. */
static __u64 coro_code(__u64 coro)
{
	if (cfg.gen_code >= 0)
		return rd_ptr(coro + cfg.gen_code);
	return stackref(rd_ptr(coro + cfg.gen_iframe + cfg.if_code));
}

/* cr_origin, when origin tracking recorded it: a tuple of (filename,
 * lineno, funcname) tuples. Every element's type is checked, so a field
 * that holds something else (garbage, an async generator's finalizer)
 * yields nothing. */
static void copy_origin(struct lost_event *e, __u64 coro)
{
	__u64 origin = rd_ptr(coro + cfg.coro_origin);
	__s64 n = origin ? rd_i64(origin + cfg.ob_size) : 0;

	e->norigin = 0;
	if (n <= 0 || n > 4096)
		return;
	for (int i = 0; i < LOST_ORIGIN_MAX && i < n; i++) {
		__u64 entry = rd_ptr(origin + cfg.tuple_item + i * 8);
		__u64 file = rd_ptr(entry + cfg.tuple_item);
		__u64 line = rd_ptr(entry + cfg.tuple_item + 8);
		__u64 func = rd_ptr(entry + cfg.tuple_item + 16);
		struct lost_origin *o = &e->origin[i & (LOST_ORIGIN_MAX - 1)];

		if (rd_i64(entry + cfg.ob_size) != 3 || type_of(file) != cfg.unicode_type ||
		    type_of(func) != cfg.unicode_type || type_of(line) != cfg.long_type ||
		    !small_int(line, &o->line))
			return;
		o->file = file;
		o->func = func;
		e->norigin = i + 1;
	}
}

/* What the event says of its coroutine: name, definition, creation. */
static void copy_coro(struct lost_event *e, __u64 coro)
{
	copy_str(&e->coro, rd_ptr(coro + cfg.gen_qualname));
	if (type_of(coro) != cfg.coro_type)
		return;
	e->coro_code = coro_code(coro);
	copy_origin(e, coro);
}

/* Traceback entries, outermost first (user space reverses them). */
static void walk_traceback(struct lost_event *e, __u64 tb)
{
	for (int i = 0; i < MAX_TB && tb; i++) {
		__u64 fobj = rd_ptr(tb + cfg.tb_frame), code;

		if (cfg.minor < 11)
			code = rd_ptr(fobj + cfg.fo_code);
		else
			code = stackref(rd_ptr(rd_ptr(fobj + cfg.fo_frame) + cfg.if_code));
		pyframes_push(&e->stack, fobj, code, rd_i32(tb + cfg.tb_lasti), rd_i32(tb + cfg.tb_lineno), -1);
		tb = rd_ptr(tb + cfg.tb_next);
	}
}

static struct lost_event *new_event(__u32 kind, __u64 obj)
{
	struct lost_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return NULL;
	}
	e->kind = kind;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->ts = bpf_ktime_get_ns();
	e->obj = obj;
	e->stack.nframes = 0;
	e->stack.truncated = 0;
	e->stack.faulted = 0;
	e->coro.kind = e->name.kind = 0;
	e->coro.len = e->name.len = 0;
	e->exc_type[0] = 0;
	e->exc_str = 0;
	e->nargs = 0;
	e->coro_code = 0;
	e->norigin = 0;
	return e;
}

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == cfg.tgid;
}

/* Inlined copies and reporting branches keep the object wherever the
 * compiler put it: the cookie says which register, or which memory at a
 * register plus an offset (a slot of the function's stack frame, the
 * frame base resolved in user space to the CFA's register at the pc). */
static __u64 reg_by_offset(struct pt_regs *ctx, __u32 off)
{
	__u64 regs[sizeof(struct pt_regs) / 8];
	__u32 idx = off / 8;

	if (idx >= sizeof(struct pt_regs) / 8)
		return 0;
	if (bpf_probe_read_kernel(regs, sizeof(regs), ctx))
		return 0;
	return regs[idx];
}

/* The object a probe is about, where the cookie says it is. */
static __u64 coro_arg(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u64 reg = reg_by_offset(ctx, (__u32)(cookie & 0xffff));

	if (!(cookie & LOST_COOKIE_DEREF))
		return reg;
	return rd_ptr(reg + (__s64)(__s32)(cookie >> 32));
}

SEC("uprobe")
int lost_never_awaited(struct pt_regs *ctx)
{
	__u64 coro, tstate;
	struct lost_event *e;
	__s8 state;

	if (!is_target())
		return 0;
	coro = coro_arg(ctx);
	if (type_of(coro) != cfg.coro_type)
		return 0;
	if (cfg.minor < 11)
		state = rd_i8(rd_ptr(coro + cfg.gen_frame) + cfg.fo_state);
	else
		state = rd_i8(coro + cfg.gen_frame_state);
	if (state != cfg.frame_created) /* never started */
		return 0;
	e = new_event(LOST_NEVER_AWAITED, coro);
	if (!e)
		return 0;
	copy_coro(e, coro);
	tstate = current_tstate();
	if (tstate)
		pyframes_walk_thread(&e->stack, tstate);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static void report_destroyed(__u64 task)
{
	struct lost_event *e = new_event(LOST_DESTROYED_PENDING, task);

	if (!e)
		return;
	copy_str(&e->name, rd_ptr(task + cfg.task_name));
	copy_coro(e, rd_ptr(task + cfg.task_coro));
	walk_coro_chain(e, rd_ptr(task + cfg.task_coro));
	bpf_ringbuf_submit(e, 0);
}

static bool is_task(__u64 obj)
{
	__u64 type = type_of(obj);

	for (int i = 0; i < 4 && type; i++) {
		if (type == task_type)
			return true;
		type = rd_ptr(type + cfg.tp_base);
	}
	return false;
}

/* What str(exc) is made of, copied before the exception is freed; user
 * space renders it the way the type's own str() would. */
static void copy_exc_text(struct lost_event *e, __u64 exc)
{
	__u64 args = rd_ptr(exc + cfg.exc_args);
	__s64 n = args ? rd_i64(args + cfg.ob_size) : 0;

	e->exc_str = rd_ptr(type_of(exc) + cfg.tp_str);
	e->nargs = n > 0 && n < (1 << 20) ? (__u32)n : 0;
	for (int i = 0; i < LOST_EXC_ARGS; i++) {
		e->args[i].kind = 0;
		if (i < (int)e->nargs)
			copy_str(&e->args[i], rd_ptr(args + cfg.tuple_item + i * 8));
	}
	e->os_errno.kind = e->os_strerror.kind = e->os_filename.kind = e->os_filename2.kind = 0;
	if (!e->exc_str || e->exc_str != cfg.oserror_str)
		return;
	copy_str(&e->os_errno, rd_ptr(exc + cfg.os_errno));
	copy_str(&e->os_strerror, rd_ptr(exc + cfg.os_strerror));
	copy_str(&e->os_filename, rd_ptr(exc + cfg.os_filename));
	copy_str(&e->os_filename2, rd_ptr(exc + cfg.os_filename2));
}

static void report_exception(__u64 fut, __u64 task)
{
	__u64 exc = rd_ptr(fut + cfg.fut_exception), tb;
	struct lost_event *e;

	if (!exc)
		return;
	e = new_event(LOST_UNRETRIEVED, fut);
	if (!e)
		return;
	if (task) {
		copy_str(&e->name, rd_ptr(task + cfg.task_name));
		copy_coro(e, rd_ptr(task + cfg.task_coro));
	}
	bpf_probe_read_user_str(e->exc_type, sizeof(e->exc_type),
				(void *)rd_ptr(type_of(exc) + cfg.tp_name));
	copy_exc_text(e, exc);
	tb = rd_ptr(exc + cfg.exc_traceback);
	if (!tb && cfg.fut_exception_tb >= 0)
		tb = rd_ptr(fut + cfg.fut_exception_tb);
	walk_traceback(e, tb);
	bpf_ringbuf_submit(e, 0);
}

SEC("uprobe")
int lost_task_finalize(struct pt_regs *ctx)
{
	__u64 task = PT_REGS_PARM1(ctx);
	__s32 state;

	if (!is_target() || !task)
		return 0;
	state = rd_i32(task + cfg.fut_state);
	if (state == cfg.fut_pending) {
		if (rd_flag(task, cfg.task_log_destroy_pending, cfg.task_log_destroy_pending_bit))
			report_destroyed(task);
		return 0;
	}
	if (state == cfg.fut_finished && rd_flag(task, cfg.fut_log_tb, cfg.fut_log_tb_bit))
		report_exception(task, task);
	return 0;
}

/* Futures that are not tasks (tasks are reported by lost_task_finalize). */
SEC("uprobe")
int lost_future_finalize(struct pt_regs *ctx)
{
	__u64 fut = PT_REGS_PARM1(ctx);

	if (!is_target() || !fut || is_task(fut))
		return 0;
	if (rd_i32(fut + cfg.fut_state) == cfg.fut_finished && rd_flag(fut, cfg.fut_log_tb, cfg.fut_log_tb_bit))
		report_exception(fut, 0);
	return 0;
}

/* Inside a finalizer's reporting branch (found in DWARF): it fires only for
 * lost work, so the finalization of every healthy task costs nothing. */
SEC("uprobe")
int lost_finalize_branch(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), obj;

	if (!is_target())
		return 0;
	obj = coro_arg(ctx); /* the same cookie encoding: where the object is */
	if (!obj)
		return 0;
	if (cookie & LOST_COOKIE_PENDING) {
		if (rd_i32(obj + cfg.fut_state) == cfg.fut_pending)
			report_destroyed(obj);
		return 0;
	}
	if (rd_i32(obj + cfg.fut_state) == cfg.fut_finished)
		report_exception(obj, is_task(obj) ? obj : 0);
	return 0;
}
