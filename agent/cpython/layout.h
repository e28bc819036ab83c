/* SPDX-License-Identifier: GPL-2.0-only */
/* CPython structure offsets, one table per minor version, kept as data
 * (austin's approach): code reads target memory through these numbers,
 * never through CPython's own structs. The tables in layout_3_X.c are
 * generated from each version's headers by tools/layout_gen.c (`make
 * layouts`), and tests/test_layout.py checks them against every installed
 * CPython. versions.def lists the versions.
 * An offset of -1 means the field does not exist in that version. */
#ifndef LOOPSCOPE_CPY_LAYOUT_H
#define LOOPSCOPE_CPY_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

struct cpy_layout {
	int major, minor;

	/* _PyRuntimeState, PyInterpreterState, the GIL */
	int rt_interpreters_head;
	int rt_gil_locked, rt_gil_holder;  /* <= 3.11: the GIL is in _PyRuntime */
	int is_gil;                        /* >= 3.12: interp->ceval.gil pointer */
	int gil_locked, gil_holder;        /* >= 3.12: in struct _gil_runtime_state */
	int rt_gil;                        /* <= 3.11: the struct's offset in _PyRuntime */
	int gil_cond, gil_size;            /* its condition variable (then mutexes), its size */
	int is_next, is_threads_head, is_modules, is_sysdict;

	/* PyThreadState */
	int ts_next, ts_interp, ts_thread_id, ts_dict, ts_native_thread_id;
	int ts_asyncio_running_loop;  /* 3.13+: _PyThreadStateImpl field */
	/* 3.14+: the running task, the head of the thread's task list and of
	 * its interpreter's (struct llist_node, linked through Task.task_node) */
	int ts_asyncio_running_task, ts_asyncio_tasks_head, is_asyncio_tasks_head;
	int ts_frame;          /* 3.10: frame, 3.11-12: cframe, 3.13: current_frame */
	int cf_current_frame;  /* 3.11-12: _PyCFrame.current_frame */

	/* 3.10 PyFrameObject */
	int fo_back, fo_code, fo_lasti, fo_gen, fo_valuestack, fo_stackdepth, fo_state, fo_size,
	    fo_localsplus;

	/* 3.11+ _PyInterpreterFrame */
	int if_previous, if_code, if_instr, if_owner, if_is_entry, if_stacktop,
	    if_stackpointer, if_localsplus, if_size;  /* stackpointer: 3.14+ */

	/* PyCodeObject */
	int co_filename, co_name, co_firstlineno, co_linetable, co_flags, co_qualname,
	    co_code, co_code_adaptive, co_firsttraceable, co_nlocalsplus;

	/* PyGenObject / PyCoroObject */
	int gen_name, gen_qualname, gen_frame, gen_iframe, gen_frame_state, gen_code;
	int coro_origin;  /* cr_origin (3.12+ cr_origin_or_finalizer): set by origin tracking */

	/* objects, types, strings, containers, numbers */
	int ob_type, ob_size;
	int tp_name, tp_basicsize, tp_flags, tp_dictoffset, tp_base, tp_dealloc, tp_finalize, tp_str;
	int bytes_sval, tuple_item, list_item;
	int u_length, u_state, u_ascii_size, u_compact_size;
	int long_digits, long_tag, float_value;

	/* dict (keys: 3.10 dk_size, 3.11+ log2 sizes and kind), set, weakref */
	int dict_used, dict_keys, dict_values, dk_nentries, dk_indices, dict_entry_size;
	int dk_size, dk_log2_size, dk_log2_index_bytes, dk_kind, dict_uentry_size, dv_values;
	int ht_cached_keys, mod_dict, mod_state;
	int set_fill, set_used, set_mask, set_table, set_entry_size;
	int wr_object;

	/* callables: builtin methods, bound methods, functions, cells, partial */
	int cfunc_ml, cfunc_self, ml_name, method_func, method_self, func_code, func_closure,
	    func_qualname, cell_ref, partial_fn, partial_args;

	/* exceptions and tracebacks; fo_frame: 3.11+ frame object's frame data */
	int exc_args, exc_traceback, tb_next, tb_frame, tb_lasti, tb_lineno, fo_frame;
	int os_errno, os_strerror, os_filename, os_filename2;  /* PyOSErrorObject */

	/* Values, not offsets. Frame states (gi_frame_state, 3.10's f_state):
	 * created, suspended with what it awaits frame_yf_depth slots below
	 * its stack pointer, finished (at frame_completed or past it);
	 * frame owners (3.11+; -1 before): a generator's frame, the lowest
	 * owner of a frame that runs no code (3.12+, see cpy_frame_is_shim).
	 * stackref_tag_bits: the tag bits of a _PyStackRef (3.14+; 0 before). */
	int frame_created, frame_suspended_yf, frame_completed, frame_yf_depth,
	    owner_generator, owner_cstack, stackref_tag_bits;
	/* Where 3.11+ keeps an object's managed dict (3.11: and its values)
	 * before the object: negative offsets, 0 when there is none. */
	int ob_managed_dict, ob_managed_values;
};

/* cpy_layout_3_10 and the others: one per line of versions.def. */
#define PY_VERSION(maj, min) extern const struct cpy_layout cpy_layout_##maj##_##min;
#include "versions.def"

/* The table for a minor version, NULL when unsupported. */
const struct cpy_layout *cpy_layout_lookup(int major, int minor);
/* "3.10, 3.11, 3.12, 3.13" (versions.def), for error messages. */
const char *cpy_layout_supported(void);

/* 3.12+: a frame that runs no code (a C-stack shim; 3.14+ also an
 * interpreter entry frame or the thread's base frame): skipped in stacks. */
static inline bool cpy_frame_is_shim(const struct cpy_layout *L, int owner)
{
	return L->owner_cstack >= 0 && owner >= L->owner_cstack;
}

/* A generator's frame state that means it has finished. */
static inline bool cpy_frame_finished(const struct cpy_layout *L, int state)
{
	return state >= L->frame_completed;
}

/* The object a _PyStackRef (3.14+: f_executable, the value stack) refers
 * to: the tag bits masked off. A plain pointer before 3.14. */
static inline uint64_t cpy_stackref_ptr(const struct cpy_layout *L, uint64_t ref)
{
	return ref & ~(uint64_t)L->stackref_tag_bits;
}

/* 3.11+: a frame still being set up, before its first RESUME (lasti and
 * firsttraceable in code units), is not user code; a generator's frame
 * always is. */
static inline bool cpy_frame_incomplete(const struct cpy_layout *L, int owner, int lasti,
					int firsttraceable)
{
	return owner != L->owner_generator && lasti < firsttraceable;
}

#endif
