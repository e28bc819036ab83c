/* SPDX-License-Identifier: GPL-2.0-only */
/* The coroutine chain of a task (A awaits B awaits C) and what its
 * innermost coroutine waits on. A suspended coroutine's frame holds the
 * awaited object on top of its value stack (CPython's _PyGen_yf); the
 * chain goes on through async generators (`async for`, and the anext() of
 * @asynccontextmanager's __aenter__) to the real wait. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aio.h"
#include "code.h"
#include "containers.h"
#include "errors.h"
#include "intern.h"

#define MAX_CHAIN 256           /* frames kept: the innermost ones */
#define CHAIN_LINKS (16 * 1024) /* links followed: past this the chain is not believed */
#define IFRAME_COPY 256

/* One coroutine, as read from its frame. */
struct coro_frame {
	uint64_t frame;         /* frame address (matches py_frame.addr) */
	const struct code_info *code;
	int line;
	uint64_t awaited;       /* top of stack when suspended in an await */
	uint64_t locals;        /* address of localsplus[0] */
	bool finished;
};

/* What a frame suspended in an await awaits: frame_yf_depth slots below
 * its stack top (3.14+: a stack pointer holding tagged refs; before: a
 * depth). 0 when the stack does not look like one. */
static int awaited_311(struct py_proc *p, const char *f, size_t size, uint64_t locals,
		       uint64_t *awaited)
{
	const struct cpy_layout *L = &p->L;
	int64_t depth;
	uint64_t ref;
	int err;

	if (L->if_stackpointer >= 0) {
		uint64_t sp = field_ptr(f, size, L->if_stackpointer);

		depth = sp > locals && sp - locals < (8 << 16) && !(sp & 7) ? (int64_t)(sp - locals) / 8 : -1;
	} else {
		depth = field_i32(f, size, L->if_stacktop);
	}
	depth -= L->frame_yf_depth;
	if (depth < 0 || depth >= (1 << 16))
		return 0;
	err = remote_read_ptr(&p->mem, locals + (uint64_t)depth * 8, &ref);
	*awaited = err ? 0 : cpy_stackref_ptr(L, ref);
	return err;
}

static int read_frame_311(struct py_proc *p, uint64_t coro, struct coro_frame *out)
{
	const struct cpy_layout *L = &p->L;
	size_t size = (size_t)L->if_localsplus;
	char f[IFRAME_COPY];
	int8_t state;
	uint64_t code, instr;
	int err, lasti;

	out->frame = coro + (uint64_t)L->gen_iframe;
	err = remote_read(&p->mem, coro + (uint64_t)L->gen_frame_state, &state, 1);
	if (!err && size <= sizeof(f))
		err = remote_read(&p->mem, out->frame, f, size);
	if (err || size > sizeof(f))
		return err ? err : -LS_EBADDATA;
	if (cpy_frame_finished(L, state)) {
		out->finished = true;
		return 0;
	}
	code = cpy_stackref_ptr(L, field_ptr(f, size, L->if_code));
	out->code = code_get(p, code, &err);
	if (!out->code)
		return err;
	instr = field_ptr(f, size, L->if_instr);
	lasti = code_instr_unit(L, code, instr);
	out->line = state == L->frame_created ? out->code->firstlineno
					      : code_line(p, out->code, code_unit_offset(lasti));
	out->locals = out->frame + (uint64_t)L->if_localsplus;
	if (state == L->frame_suspended_yf)
		err = awaited_311(p, f, size, out->locals, &out->awaited);
	return err;
}

static int read_frame_310(struct py_proc *p, uint64_t coro, struct coro_frame *out)
{
	const struct cpy_layout *L = &p->L;
	size_t size = (size_t)L->fo_state + 4;
	char f[IFRAME_COPY];
	int8_t state;
	int32_t depth;
	int err;

	err = remote_read_ptr(&p->mem, coro + (uint64_t)L->gen_frame, &out->frame);
	if (err || !out->frame) {
		out->finished = true;
		return err;
	}
	if (size > sizeof(f))
		return -LS_EBADDATA;
	err = remote_read(&p->mem, out->frame, f, size);
	if (err)
		return err;
	state = field_i8(f, size, L->fo_state);
	if (cpy_frame_finished(L, state)) {
		out->finished = true;
		return 0;
	}
	out->code = code_get(p, field_ptr(f, size, L->fo_code), &err);
	if (!out->code)
		return err;
	out->line = code_line(p, out->code, code_unit_offset(field_i32(f, size, L->fo_lasti)));
	out->locals = out->frame + (uint64_t)L->fo_localsplus;
	depth = field_i32(f, size, L->fo_stackdepth);
	if (state == L->frame_suspended_yf && depth > 0 && depth < (1 << 16))
		err = remote_read_ptr(&p->mem, field_ptr(f, size, L->fo_valuestack) +
				      (uint64_t)(depth - 1) * 8, &out->awaited);
	return err;
}

/* An object with a frame of its own that a chain goes through. */
static bool is_native_coroutine(struct py_proc *p, uint64_t obj)
{
	uint64_t type = py_type_of(p, obj);

	return type && (type == p->types.coro || type == p->types.gen ||
			type == p->types.asyncgen);
}

static bool type_name_ends(struct py_proc *p, uint64_t obj, const char *suffix)
{
	char name[96];
	size_t n, s = strlen(suffix);

	if (py_type_name(p, obj, name, sizeof(name)))
		return false;
	n = strlen(name);
	return n >= s && !strcmp(name + n - s, suffix);
}

/* `async for` and anext() await an asend awaitable, which has no frame:
 * the async generator it runs has. 0 when obj is no such awaitable. */
static uint64_t asend_generator(struct py_proc *p, uint64_t obj)
{
	const struct cpy_aio_layout *A = cpy_aio_layout_lookup(p->major, p->minor);
	uint64_t gen = 0;

	/* a coroutine (nearly every link) is no asend: its type says so
	 * without reading the type's name, which at 10,000 tasks was a
	 * sixth of a snapshot */
	if (!obj || !A || A->asend_gen < 0 || !p->types.asyncgen || is_native_coroutine(p, obj) ||
	    !type_name_ends(p, obj, "async_generator_asend"))
		return 0;
	if (remote_read_ptr(&p->mem, obj + (uint64_t)A->asend_gen, &gen) ||
	    py_type_of(p, gen) != p->types.asyncgen)
		return 0;
	return gen;
}

/* A local of a frame (index into localsplus), 0 when unreadable. */
static uint64_t frame_local(struct py_proc *p, const struct coro_frame *f, int index)
{
	uint64_t v = 0;

	if (f->locals)
		remote_read_ptr(&p->mem, f->locals + (uint64_t)index * 8, &v);
	return cpy_stackref_ptr(&p->L, v);
}

static size_t container_len(struct py_proc *p, uint64_t obj)
{
	int64_t n = 0;

	remote_read_i64(&p->mem, obj + (uint64_t)(py_type_of(p, obj) == p->types.set ||
						  py_type_of(p, obj) == p->types.frozenset
						  ? p->L.set_used : p->L.ob_size), &n);
	return n > 0 ? (size_t)n : 0;
}

/* asyncio's own coroutines say best what a task waits for. */
static bool describe_asyncio_frame(struct py_proc *p, const struct coro_frame *f, char *buf, size_t len)
{
	const char *func = f->code->func;
	char type[64];
	uint64_t v, tasks;
	double secs;
	int64_t isecs;

	if (!strstr(f->code->file, "asyncio/"))
		return false;
	if (!strcmp(func, "sleep")) {
		v = frame_local(p, f, 0);
		if (!py_read_float(p, v, &secs) && py_type_of(p, v) == p->types.float_)
			snprintf(buf, len, "sleep %gs", secs);
		else if (!py_read_long(p, v, &isecs))
			snprintf(buf, len, "sleep %llds", (long long)isecs);
		else
			snprintf(buf, len, "sleep");
		return true;
	}
	/* 3.14+ waits in TaskGroup._aexit, which __aexit__ calls */
	if ((!strcmp(func, "TaskGroup.__aexit__") || !strcmp(func, "TaskGroup._aexit")) &&
	    !py_getattr_str(p, frame_local(p, f, 0), "_tasks", &tasks)) {
		snprintf(buf, len, "TaskGroup of %zu", container_len(p, tasks));
		return true;
	}
	if (!strchr(func, '.') && p->minor < 11 &&
	    !py_type_name(p, frame_local(p, f, 0), type, sizeof(type)) && !strchr(type, '.')) {
		snprintf(buf, len, "%s.%s", type, func); /* 3.10 has no qualname: self's class */
		return true;
	}
	snprintf(buf, len, "%s", func);
	return true;
}

static void describe_awaited(struct py_proc *p, const struct aio_snapshot *snap, struct aio_task *t,
			     const struct coro_frame *inner, uint64_t awaited, char *buf, size_t len)
{
	const struct cpy_aio_layout *A = &p->A;
	uint64_t children;
	struct py_task_ref ref;

	if (awaited && type_name_ends(p, awaited, "FutureIter"))
		remote_read_ptr(&p->mem, awaited + (uint64_t)A->futureiter_future, &awaited);
	if (awaited && aio_is_task(p, snap, awaited) && !aio_task_ref(p, awaited, &ref)) {
		snprintf(buf, len, "Task 0x%llx %s", (unsigned long long)awaited, ref.name);
		t->awaiting_task = awaited;
		return;
	}
	if (awaited && type_name_ends(p, awaited, "_GatheringFuture") &&
	    !py_getattr_str(p, awaited, "_children", &children)) {
		snprintf(buf, len, "gather of %zu", container_len(p, children));
		return;
	}
	if (inner && inner->code && describe_asyncio_frame(p, inner, buf, len))
		return;
	if (awaited && aio_is_future(p, snap, awaited))
		snprintf(buf, len, "Future 0x%llx", (unsigned long long)awaited);
	else if (awaited && !py_type_name(p, awaited, buf, len))
		return;
	else
		buf[0] = 0;
}

/* Keeps the innermost MAX_CHAIN frames of a chain read innermost first. */
static void keep_innermost(struct py_stack *s)
{
	if (s->depth > MAX_CHAIN) {
		s->depth = MAX_CHAIN;
		s->truncated = true;
	}
}

/* The running task's frames: up to its coroutine's. A stack too deep to
 * reach it is still the task's (it runs on this thread): its innermost
 * frames, marked truncated. */
static bool running_chain_cut(struct aio_task *t, uint64_t coro_frame)
{
	bool found = false;

	for (size_t k = 0; !found && k < t->stack.depth; k++) {
		if (t->stack.frames[k].addr == coro_frame) {
			t->stack.depth = k + 1;
			found = true;
		}
	}
	if (!found && !t->stack.truncated)
		return false;
	keep_innermost(&t->stack);
	t->awaiting = "(running)";
	return true;
}

/* A running task's chain is on its thread's stack: the frames above and
 * including its coroutine's frame. */
static int running_chain(struct py_proc *p, struct aio_task *t)
{
	struct py_thread *threads;
	uint64_t coro_frame = aio_coro_frame(p, t->coro);
	size_t n;
	int err = py_proc_thread_list(p, &threads, &n);

	for (size_t i = 0; !err && i < n; i++) {
		if (threads[i].tid != t->loop_tid)
			continue;
		err = py_proc_stack(p, threads[i].tstate, &t->stack, PY_MAX_DEPTH);
		if (!err && running_chain_cut(t, coro_frame)) {
			free(threads);
			return 0;
		}
	}
	free(threads);
	py_stack_clear(&t->stack);
	return err ? err : -LS_ECHANGED;
}

/* Follows the chain from coro, outermost first, into t->stack; *inner is
 * the last frame read, *last what it awaits. false when the chain is
 * longer than anyone's (a cycle of garbage): nothing is known of its end. */
static bool walk_chain(struct py_proc *p, struct aio_task *t, uint64_t coro,
		       struct coro_frame *inner, uint64_t *last, int *err)
{
	for (size_t i = 0; i < CHAIN_LINKS; i++) {
		struct coro_frame f = { 0 };
		uint64_t gen = asend_generator(p, coro);

		*last = gen ? gen : coro;
		if (!is_native_coroutine(p, *last))
			return true;
		*err = p->minor >= 11 ? read_frame_311(p, *last, &f) : read_frame_310(p, *last, &f);
		if (*err || f.finished)
			return true;
		*err = py_stack_push(&t->stack, f.code->func, f.code->file, f.line, f.frame);
		if (*err)
			return true;
		*inner = f;
		coro = f.awaited;
	}
	return false;
}

int aio_read_chain(struct py_proc *p, const struct aio_snapshot *snap, struct aio_task *t)
{
	struct coro_frame inner = { 0 };
	uint64_t last = 0;
	char awaiting[192] = "";
	int err = 0;
	bool whole;

	if (t->state == AIO_RUNNING)
		return running_chain(p, t);
	whole = walk_chain(p, t, t->coro, &inner, &last, &err);
	py_stack_reverse(&t->stack);
	keep_innermost(&t->stack);
	if (!whole)
		t->stack.truncated = true; /* its innermost frames were never reached */
	if (err)
		return err;
	if (whole)
		describe_awaited(p, snap, t, inner.code ? &inner : NULL,
				 is_native_coroutine(p, last) ? 0 : last, awaiting, sizeof(awaiting));
	t->awaiting = intern_str(p->names, awaiting);
	return 0;
}
