/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "debug_offsets.h"
#include "errors.h"
#include "pyproc.h"

/* The 3.13 _Py_DebugOffsets layout (Include/internal/pycore_runtime.h):
 * every field a uint64_t, in this order. */
struct debug_offsets_313 {
	char cookie[8];
	uint64_t version, free_threaded;
	struct { uint64_t size, finalizing, interpreters_head; } runtime_state;
	struct {
		uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins,
			 ceval_gil, gil_runtime_state, gil_runtime_state_enabled,
			 gil_runtime_state_locked, gil_runtime_state_holder;
	} interpreter_state;
	struct {
		uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id,
			 datastack_chunk, status;
	} thread_state;
	struct { uint64_t size, previous, executable, instr_ptr, localsplus, owner; } interpreter_frame;
	struct {
		uint64_t size, filename, name, qualname, linetable, firstlineno, argcount,
			 localsplusnames, localspluskinds, co_code_adaptive;
	} code_object;
	struct { uint64_t size, ob_type; } pyobject;
	struct { uint64_t size, tp_name, tp_repr, tp_flags; } type_object;
	struct { uint64_t size, ob_item, ob_size; } tuple_object;
	struct { uint64_t size, ob_item, ob_size; } list_object;
	struct { uint64_t size, ma_keys, ma_values; } dict_object;
	struct { uint64_t size, ob_fval; } float_object;
	struct { uint64_t size, lv_tag, ob_digit; } long_object;
	struct { uint64_t size, ob_size, ob_sval; } bytes_object;
	struct { uint64_t size, state, length, asciiobject_size; } unicode_object;
	struct { uint64_t size, collecting; } gc;
};

/* Note: gil_runtime_state_locked/holder are offsets into the interpreter
 * state (interp->_gil), not into the struct ceval.gil points to: the
 * generated table keeps those. */

/* Offsets are small; anything else means we are not reading what we think. */
static int set(int *field, uint64_t value)
{
	if (value > 1 << 20)
		return -LS_EBADDATA;
	*field = (int)value;
	return 0;
}

int debug_offsets_apply(struct py_proc *p)
{
	struct debug_offsets_313 d;
	struct cpy_layout L = p->L;
	uint64_t want = ((uint64_t)p->major << 24) | ((uint64_t)p->minor << 16) |
			((uint64_t)p->micro << 8);
	int err;

	err = remote_read(&p->mem, p->runtime, &d, sizeof(d));
	if (err)
		return err;
	if (memcmp(d.cookie, "xdebugpy", 8) || (d.version & ~0xffULL) != want || d.free_threaded)
		return -LS_EBADDATA;
	err = set(&L.rt_interpreters_head, d.runtime_state.interpreters_head) ||
	      set(&L.is_next, d.interpreter_state.next) ||
	      set(&L.is_threads_head, d.interpreter_state.threads_head) ||
	      set(&L.is_modules, d.interpreter_state.imports_modules) ||
	      set(&L.is_sysdict, d.interpreter_state.sysdict) ||
	      set(&L.is_gil, d.interpreter_state.ceval_gil) ||
	      set(&L.ts_next, d.thread_state.next) ||
	      set(&L.ts_interp, d.thread_state.interp) ||
	      set(&L.ts_frame, d.thread_state.current_frame) ||
	      set(&L.ts_thread_id, d.thread_state.thread_id) ||
	      set(&L.ts_native_thread_id, d.thread_state.native_thread_id) ||
	      set(&L.if_previous, d.interpreter_frame.previous) ||
	      set(&L.if_code, d.interpreter_frame.executable) ||
	      set(&L.if_instr, d.interpreter_frame.instr_ptr) ||
	      set(&L.if_localsplus, d.interpreter_frame.localsplus) ||
	      set(&L.if_owner, d.interpreter_frame.owner) ||
	      set(&L.co_filename, d.code_object.filename) ||
	      set(&L.co_name, d.code_object.name) ||
	      set(&L.co_qualname, d.code_object.qualname) ||
	      set(&L.co_linetable, d.code_object.linetable) ||
	      set(&L.co_firstlineno, d.code_object.firstlineno) ||
	      set(&L.co_code_adaptive, d.code_object.co_code_adaptive) ||
	      set(&L.ob_type, d.pyobject.ob_type) ||
	      set(&L.tp_name, d.type_object.tp_name) ||
	      set(&L.tp_flags, d.type_object.tp_flags) ||
	      set(&L.tuple_item, d.tuple_object.ob_item) ||
	      set(&L.list_item, d.list_object.ob_item) ||
	      set(&L.bytes_sval, d.bytes_object.ob_sval) ||
	      set(&L.u_state, d.unicode_object.state) ||
	      set(&L.u_length, d.unicode_object.length) ||
	      set(&L.u_ascii_size, d.unicode_object.asciiobject_size) ||
	      set(&L.float_value, d.float_object.ob_fval) ||
	      set(&L.long_tag, d.long_object.lv_tag) ||
	      set(&L.long_digits, d.long_object.ob_digit);
	if (err)
		return -LS_EBADDATA;
	p->L = L;
	return 0;
}
