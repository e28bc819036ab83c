/* SPDX-License-Identifier: GPL-2.0-only */
/* Walking the Python frames of a thread: PyFrameObject chains on 3.10,
 * _PyInterpreterFrame chains on 3.11+. The thread keeps running while we
 * read, so the walk is bounded and checked for change. */
#include <errno.h>
#include <string.h>
#include "code.h"
#include "errors.h"
#include "pyproc.h"

#define FRAME_COPY 256
#define STACK_TRIES 3

/* The innermost frame of a thread state. */
static int top_frame(struct py_proc *p, uint64_t tstate, uint64_t *frame)
{
	const struct cpy_layout *L = &p->L;
	uint64_t v;
	int err = remote_read_ptr(&p->mem, tstate + (uint64_t)L->ts_frame, &v);

	if (err)
		return err;
	if (L->cf_current_frame >= 0 && v) /* 3.11-3.12: through the _PyCFrame */
		err = remote_read_ptr(&p->mem, v + (uint64_t)L->cf_current_frame, &v);
	*frame = v;
	return err;
}

static int push_frame(struct py_proc *p, struct py_stack *out, const struct code_info *ci,
		      int byte_offset, uint64_t frame)
{
	return py_stack_push(out, ci->func, ci->file, code_line(p, ci, byte_offset), frame);
}

int py_frame_push(struct py_proc *p, struct py_stack *out, uint64_t frame, uint64_t code,
		  int lasti, int owner)
{
	const struct code_info *ci;
	int err;

	if (cpy_frame_is_shim(&p->L, owner))
		return 0;
	ci = code_get(p, code, &err);
	if (!ci) /* 3.13+: f_executable is not always a code object */
		return err == -LS_EBADDATA && p->minor >= 13 ? 0 : err;
	if (cpy_frame_incomplete(&p->L, owner, lasti, ci->firsttraceable))
		return 0;
	return push_frame(p, out, ci, code_unit_offset(lasti), frame);
}

/* 3.10: f_back chain of frame objects; f_lasti counts code units. */
static int walk_310(struct py_proc *p, uint64_t frame, struct py_stack *out, size_t max_depth)
{
	const struct cpy_layout *L = &p->L;
	size_t size = (size_t)L->fo_state + 4;
	char f[FRAME_COPY];

	if (size > sizeof(f))
		return -LS_EBADDATA;
	while (frame) {
		int err;

		if (out->depth >= max_depth) {
			out->truncated = true;
			return 0;
		}
		err = remote_read(&p->mem, frame, f, size);
		if (err)
			return err;
		err = py_frame_push(p, out, frame, field_ptr(f, size, L->fo_code),
				    field_i32(f, size, L->fo_lasti), -1);
		if (err)
			return err;
		frame = field_ptr(f, size, L->fo_back);
	}
	return 0;
}

/* 3.11+: `previous` chain of interpreter frames. Shim frames (owned by the
 * C stack) and frames still being set up are not user code: skipped. */
static int walk_311(struct py_proc *p, uint64_t frame, struct py_stack *out, size_t max_depth)
{
	const struct cpy_layout *L = &p->L;
	size_t size = (size_t)L->if_localsplus, steps = 0;
	char f[FRAME_COPY];

	if (size > sizeof(f))
		return -LS_EBADDATA;
	while (frame) {
		uint64_t code, here;
		int err;

		if (out->depth >= max_depth || ++steps > 4 * max_depth) {
			out->truncated = true;
			return 0;
		}
		err = remote_read(&p->mem, frame, f, size);
		if (err)
			return err;
		here = frame;
		frame = field_ptr(f, size, L->if_previous);
		code = cpy_stackref_ptr(L, field_ptr(f, size, L->if_code));
		err = py_frame_push(p, out, here, code,
				    code_instr_unit(L, code, field_ptr(f, size, L->if_instr)),
				    field_i8(f, size, L->if_owner));
		if (err)
			return err;
	}
	return 0;
}

static int walk(struct py_proc *p, uint64_t frame, struct py_stack *out, size_t max_depth)
{
	return p->minor >= 11 ? walk_311(p, frame, out, max_depth)
			      : walk_310(p, frame, out, max_depth);
}

/* The top frame as it is now, past any snapshot cache. */
static int top_frame_now(struct py_proc *p, uint64_t tstate, uint64_t *frame)
{
	struct remote_cache *cache = remote_pause_cache(&p->mem);
	int err = top_frame(p, tstate, frame);

	remote_resume_cache(&p->mem, cache);
	return err;
}

int py_proc_stack(struct py_proc *p, uint64_t tstate, struct py_stack *out, size_t max_depth)
{
	int err = 0;

	for (int tries = 0; tries < STACK_TRIES; tries++) {
		uint64_t before, after;

		py_stack_clear(out);
		err = top_frame_now(p, tstate, &before);
		if (err)
			break;
		/* a snapshot's cached pages are older than `before`: a retry
		 * reads the live memory */
		struct remote_cache *cache = tries ? remote_pause_cache(&p->mem) : NULL;

		err = walk(p, before, out, max_depth);
		if (tries)
			remote_resume_cache(&p->mem, cache);
		if (err == -ESRCH || err == -ENOMEM)
			return err;
		if (top_frame_now(p, tstate, &after))
			return -ESRCH;
		if (before == after && !err)
			return 0;
	}
	if (err == -ESRCH)
		return err;
	/* it kept changing: keep what the last walk read */
	out->partial = true;
	return out->depth ? 0 : (err ? err : -LS_ECHANGED);
}
