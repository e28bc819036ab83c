/* SPDX-License-Identifier: GPL-2.0-only */
/* Prints agent/cpython/layout_3_X.c for the CPython whose headers it is
 * compiled against (see tools/gen-layouts.sh):
 *
 *   cc -DPy_BUILD_CORE -I$PREFIX/include/python3.X -I$PREFIX/include/python3.X/internal
 *
 * The structure offsets loopscope uses to read a live interpreter are data,
 * one table per minor version; this program is how they are made and how
 * tests/test_layout.py checks them against every installed CPython. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdio.h>
#include <internal/pycore_runtime.h>
#include <internal/pycore_interp.h>
#if PY_VERSION_HEX >= 0x030B0000
#include <internal/pycore_frame.h>
#include <internal/pycore_code.h>
#include <internal/pycore_dict.h>
#endif
#if PY_VERSION_HEX >= 0x030C0000
#include <internal/pycore_gil.h>
#endif
#if PY_VERSION_HEX >= 0x030D0000
#include <internal/pycore_tstate.h>
#endif

#define FIELD(name, value) printf("\t.%s = %d,\n", #name, (int)(value))
#define ABSENT(name) printf("\t.%s = -1,\n", #name)

static void runtime_and_threads(void)
{
	FIELD(rt_interpreters_head, offsetof(_PyRuntimeState, interpreters.head));
#if PY_VERSION_HEX < 0x030C0000
	FIELD(rt_gil_locked, offsetof(_PyRuntimeState, ceval.gil.locked));
	FIELD(rt_gil_holder, offsetof(_PyRuntimeState, ceval.gil.last_holder));
	FIELD(rt_gil, offsetof(_PyRuntimeState, ceval.gil));
	ABSENT(is_gil);
	ABSENT(gil_locked);
	ABSENT(gil_holder);
#else
	ABSENT(rt_gil_locked);
	ABSENT(rt_gil_holder);
	ABSENT(rt_gil);
	FIELD(is_gil, offsetof(PyInterpreterState, ceval.gil));
	FIELD(gil_locked, offsetof(struct _gil_runtime_state, locked));
	FIELD(gil_holder, offsetof(struct _gil_runtime_state, last_holder));
#endif
	/* what a thread waiting for the GIL sleeps on: its condition variables
	 * and mutexes, from cond to the end of the struct */
	FIELD(gil_cond, offsetof(struct _gil_runtime_state, cond));
	FIELD(gil_size, sizeof(struct _gil_runtime_state));
	FIELD(is_next, offsetof(PyInterpreterState, next));
#if PY_VERSION_HEX < 0x030B0000
	FIELD(is_threads_head, offsetof(PyInterpreterState, tstate_head));
#else
	FIELD(is_threads_head, offsetof(PyInterpreterState, threads.head));
#endif
#if PY_VERSION_HEX < 0x030C0000
	FIELD(is_modules, offsetof(PyInterpreterState, modules));
#else
	FIELD(is_modules, offsetof(PyInterpreterState, imports.modules));
#endif
	FIELD(is_sysdict, offsetof(PyInterpreterState, sysdict));
	FIELD(ts_next, offsetof(PyThreadState, next));
	FIELD(ts_interp, offsetof(PyThreadState, interp));
	FIELD(ts_thread_id, offsetof(PyThreadState, thread_id));
	FIELD(ts_dict, offsetof(PyThreadState, dict));
#if PY_VERSION_HEX >= 0x030D0000
	FIELD(ts_asyncio_running_loop, offsetof(_PyThreadStateImpl, asyncio_running_loop));
#else
	ABSENT(ts_asyncio_running_loop);
#endif
#if PY_VERSION_HEX >= 0x030E0000
	/* 3.14+: the running task and the list of the thread's tasks; the
	 * interpreter's list keeps the tasks of threads that ended */
	FIELD(ts_asyncio_running_task, offsetof(_PyThreadStateImpl, asyncio_running_task));
	FIELD(ts_asyncio_tasks_head, offsetof(_PyThreadStateImpl, asyncio_tasks_head));
	FIELD(is_asyncio_tasks_head, offsetof(PyInterpreterState, asyncio_tasks_head));
#else
	ABSENT(ts_asyncio_running_task);
	ABSENT(ts_asyncio_tasks_head);
	ABSENT(is_asyncio_tasks_head);
#endif
#if PY_VERSION_HEX < 0x030B0000
	ABSENT(ts_native_thread_id);
	FIELD(ts_frame, offsetof(PyThreadState, frame));
	ABSENT(cf_current_frame);
#elif PY_VERSION_HEX < 0x030D0000
	FIELD(ts_native_thread_id, offsetof(PyThreadState, native_thread_id));
	FIELD(ts_frame, offsetof(PyThreadState, cframe));
	FIELD(cf_current_frame, offsetof(_PyCFrame, current_frame));
#else
	FIELD(ts_native_thread_id, offsetof(PyThreadState, native_thread_id));
	FIELD(ts_frame, offsetof(PyThreadState, current_frame));
	ABSENT(cf_current_frame);
#endif
}

static void frames(void)
{
#if PY_VERSION_HEX < 0x030B0000
	FIELD(fo_back, offsetof(PyFrameObject, f_back));
	FIELD(fo_code, offsetof(PyFrameObject, f_code));
	FIELD(fo_lasti, offsetof(PyFrameObject, f_lasti));
	FIELD(fo_gen, offsetof(PyFrameObject, f_gen));
	FIELD(fo_valuestack, offsetof(PyFrameObject, f_valuestack));
	FIELD(fo_stackdepth, offsetof(PyFrameObject, f_stackdepth));
	FIELD(fo_state, offsetof(PyFrameObject, f_state));
	FIELD(fo_size, sizeof(PyFrameObject));
	FIELD(fo_localsplus, offsetof(PyFrameObject, f_localsplus));
	ABSENT(if_previous);
	ABSENT(if_code);
	ABSENT(if_instr);
	ABSENT(if_owner);
	ABSENT(if_is_entry);
	ABSENT(if_stacktop);
	ABSENT(if_stackpointer);
	ABSENT(if_localsplus);
	ABSENT(if_size);
#else
	ABSENT(fo_back);
	ABSENT(fo_code);
	ABSENT(fo_lasti);
	ABSENT(fo_gen);
	ABSENT(fo_valuestack);
	ABSENT(fo_stackdepth);
	ABSENT(fo_state);
	ABSENT(fo_size);
	ABSENT(fo_localsplus);
	FIELD(if_previous, offsetof(_PyInterpreterFrame, previous));
#if PY_VERSION_HEX < 0x030D0000
	FIELD(if_code, offsetof(_PyInterpreterFrame, f_code));
	FIELD(if_instr, offsetof(_PyInterpreterFrame, prev_instr));
#else
	FIELD(if_code, offsetof(_PyInterpreterFrame, f_executable));
	FIELD(if_instr, offsetof(_PyInterpreterFrame, instr_ptr));
#endif
	FIELD(if_owner, offsetof(_PyInterpreterFrame, owner));
#if PY_VERSION_HEX < 0x030C0000
	FIELD(if_is_entry, offsetof(_PyInterpreterFrame, is_entry));
#else
	ABSENT(if_is_entry);
#endif
#if PY_VERSION_HEX < 0x030E0000
	FIELD(if_stacktop, offsetof(_PyInterpreterFrame, stacktop));
	ABSENT(if_stackpointer);
#else
	ABSENT(if_stacktop);
	FIELD(if_stackpointer, offsetof(_PyInterpreterFrame, stackpointer));
#endif
	FIELD(if_localsplus, offsetof(_PyInterpreterFrame, localsplus));
	FIELD(if_size, sizeof(_PyInterpreterFrame));
#endif
}

static void code_objects(void)
{
	FIELD(co_filename, offsetof(PyCodeObject, co_filename));
	FIELD(co_name, offsetof(PyCodeObject, co_name));
	FIELD(co_firstlineno, offsetof(PyCodeObject, co_firstlineno));
	FIELD(co_linetable, offsetof(PyCodeObject, co_linetable));
	FIELD(co_flags, offsetof(PyCodeObject, co_flags));
#if PY_VERSION_HEX < 0x030B0000
	ABSENT(co_qualname);
	FIELD(co_code, offsetof(PyCodeObject, co_code));
	ABSENT(co_code_adaptive);
	ABSENT(co_firsttraceable);
	FIELD(co_nlocalsplus, offsetof(PyCodeObject, co_nlocals));
#else
	FIELD(co_qualname, offsetof(PyCodeObject, co_qualname));
	ABSENT(co_code);
	FIELD(co_code_adaptive, offsetof(PyCodeObject, co_code_adaptive));
	FIELD(co_firsttraceable, offsetof(PyCodeObject, _co_firsttraceable));
	FIELD(co_nlocalsplus, offsetof(PyCodeObject, co_nlocalsplus));
#endif
}

static void generators(void)
{
	FIELD(gen_name, offsetof(PyGenObject, gi_name));
	FIELD(gen_qualname, offsetof(PyGenObject, gi_qualname));
#if PY_VERSION_HEX < 0x030B0000
	FIELD(gen_frame, offsetof(PyGenObject, gi_frame));
	ABSENT(gen_iframe);
	ABSENT(gen_frame_state);
	FIELD(gen_code, offsetof(PyGenObject, gi_code));
#else
	ABSENT(gen_frame);
	FIELD(gen_iframe, offsetof(PyGenObject, gi_iframe));
	FIELD(gen_frame_state, offsetof(PyGenObject, gi_frame_state));
#if PY_VERSION_HEX < 0x030C0000
	FIELD(gen_code, offsetof(PyGenObject, gi_code));
#else
	ABSENT(gen_code);
#endif
#endif
#if PY_VERSION_HEX < 0x030B0000
	FIELD(coro_origin, offsetof(PyCoroObject, cr_origin));
#else
	FIELD(coro_origin, offsetof(PyCoroObject, cr_origin_or_finalizer)); /* 3.11+ */
#endif
}

static void basic_objects(void)
{
	FIELD(ob_type, offsetof(PyObject, ob_type));
	FIELD(ob_size, offsetof(PyVarObject, ob_size));
	FIELD(tp_name, offsetof(PyTypeObject, tp_name));
	FIELD(tp_basicsize, offsetof(PyTypeObject, tp_basicsize));
	FIELD(tp_flags, offsetof(PyTypeObject, tp_flags));
	FIELD(tp_dictoffset, offsetof(PyTypeObject, tp_dictoffset));
	FIELD(tp_base, offsetof(PyTypeObject, tp_base));
	FIELD(tp_dealloc, offsetof(PyTypeObject, tp_dealloc));
	FIELD(tp_finalize, offsetof(PyTypeObject, tp_finalize));
	FIELD(tp_str, offsetof(PyTypeObject, tp_str));
	FIELD(bytes_sval, offsetof(PyBytesObject, ob_sval));
	FIELD(tuple_item, offsetof(PyTupleObject, ob_item));
	FIELD(list_item, offsetof(PyListObject, ob_item));
	FIELD(u_length, offsetof(PyASCIIObject, length));
	FIELD(u_state, offsetof(PyASCIIObject, state));
	FIELD(u_ascii_size, sizeof(PyASCIIObject));
	FIELD(u_compact_size, sizeof(PyCompactUnicodeObject));
#if PY_VERSION_HEX < 0x030C0000
	FIELD(long_digits, offsetof(PyLongObject, ob_digit));
	ABSENT(long_tag);
#else
	FIELD(long_digits, offsetof(PyLongObject, long_value.ob_digit));
	FIELD(long_tag, offsetof(PyLongObject, long_value.lv_tag));
#endif
	FIELD(float_value, offsetof(PyFloatObject, ob_fval));
}

#if PY_VERSION_HEX < 0x030B0000
/* 3.10 keeps these in Objects/dict-common.h, not in installed headers. */
typedef struct {
	Py_hash_t me_hash;
	PyObject *me_key;
	PyObject *me_value;
} PyDictKeyEntry;
struct _dictkeysobject {
	Py_ssize_t dk_refcnt;
	Py_ssize_t dk_size;
	void *dk_lookup;
	Py_ssize_t dk_usable;
	Py_ssize_t dk_nentries;
	char dk_indices[];
};
#endif

#if PY_VERSION_HEX < 0x030B0000
/* 3.10 keeps it in Objects/moduleobject.c. */
typedef struct {
	PyObject_HEAD
	PyObject *md_dict;
	struct PyModuleDef *md_def;
	void *md_state;
} PyModuleObject;
#else
#include <internal/pycore_moduleobject.h>
#endif

static void containers(void)
{
	FIELD(mod_dict, offsetof(PyModuleObject, md_dict));
	FIELD(mod_state, offsetof(PyModuleObject, md_state));
	FIELD(dict_used, offsetof(PyDictObject, ma_used));
	FIELD(dict_keys, offsetof(PyDictObject, ma_keys));
	FIELD(dict_values, offsetof(PyDictObject, ma_values));
	FIELD(dk_nentries, offsetof(PyDictKeysObject, dk_nentries));
	FIELD(dk_indices, offsetof(PyDictKeysObject, dk_indices));
	FIELD(dict_entry_size, sizeof(PyDictKeyEntry));
#if PY_VERSION_HEX < 0x030B0000
	FIELD(dk_size, offsetof(PyDictKeysObject, dk_size));
	ABSENT(dk_log2_size);
	ABSENT(dk_log2_index_bytes);
	ABSENT(dk_kind);
	ABSENT(dict_uentry_size);
	FIELD(dv_values, 0);
#else
	ABSENT(dk_size);
	FIELD(dk_log2_size, offsetof(PyDictKeysObject, dk_log2_size));
	FIELD(dk_log2_index_bytes, offsetof(PyDictKeysObject, dk_log2_index_bytes));
	FIELD(dk_kind, offsetof(PyDictKeysObject, dk_kind));
	FIELD(dict_uentry_size, sizeof(PyDictUnicodeEntry));
	FIELD(dv_values, offsetof(PyDictValues, values));
#endif
	FIELD(ht_cached_keys, offsetof(PyHeapTypeObject, ht_cached_keys));
	FIELD(set_fill, offsetof(PySetObject, fill));
	FIELD(set_used, offsetof(PySetObject, used));
	FIELD(set_mask, offsetof(PySetObject, mask));
	FIELD(set_table, offsetof(PySetObject, table));
	FIELD(set_entry_size, sizeof(setentry));
	FIELD(wr_object, offsetof(PyWeakReference, wr_object));
}

/* functools.partial lives in Modules/_functoolsmodule.c; its head is the
 * same from 3.10 to 3.13. */
typedef struct {
	PyObject_HEAD
	PyObject *fn;
	PyObject *args;
	PyObject *kw;
} partialobject_head;

static void exceptions(void)
{
	FIELD(exc_args, offsetof(PyBaseExceptionObject, args));
	FIELD(exc_traceback, offsetof(PyBaseExceptionObject, traceback));
	/* what OSError's str() is made of */
	FIELD(os_errno, offsetof(PyOSErrorObject, myerrno));
	FIELD(os_strerror, offsetof(PyOSErrorObject, strerror));
	FIELD(os_filename, offsetof(PyOSErrorObject, filename));
	FIELD(os_filename2, offsetof(PyOSErrorObject, filename2));
	FIELD(tb_next, offsetof(PyTracebackObject, tb_next));
	FIELD(tb_frame, offsetof(PyTracebackObject, tb_frame));
	FIELD(tb_lasti, offsetof(PyTracebackObject, tb_lasti));
	FIELD(tb_lineno, offsetof(PyTracebackObject, tb_lineno));
#if PY_VERSION_HEX >= 0x030B0000
	FIELD(fo_frame, offsetof(PyFrameObject, f_frame));
#else
	ABSENT(fo_frame);
#endif
}

/* Values, not offsets, that changed across versions: the frame states
 * (3.13 inserted FRAME_SUSPENDED_YIELD_FROM, the state in which a
 * generator's top of stack is what it awaits, where FRAME_SUSPENDED was)
 * and the frame owners (3.11+; 3.12+ pushes shim frames owned by the C
 * stack). */
static void frame_constants(void)
{
	FIELD(frame_created, FRAME_CREATED);
#if PY_VERSION_HEX >= 0x030D0000
	FIELD(frame_suspended_yf, FRAME_SUSPENDED_YIELD_FROM);
#else
	FIELD(frame_suspended_yf, FRAME_SUSPENDED);
#endif
	/* A state at or past this one is a finished frame: 3.15 renumbered
	 * the states (CREATED 0 ... EXECUTING 4, CLEARED 5, no COMPLETED). */
#if PY_VERSION_HEX < 0x030B0000
	FIELD(frame_completed, FRAME_RETURNED);
#elif PY_VERSION_HEX < 0x030F0000
	FIELD(frame_completed, FRAME_COMPLETED);
#else
	FIELD(frame_completed, FRAME_CLEARED);
#endif
	/* How deep below the stack pointer a frame suspended in an await
	 * keeps the awaited object: what _PyGen_yf (3.15:
	 * gen_getyieldfrom) reads, checked in their code in the -dbg builds
	 * (3.15 reads stackpointer[-2]). */
#if PY_VERSION_HEX < 0x030F0000
	FIELD(frame_yf_depth, 1);
#else
	FIELD(frame_yf_depth, 2);
#endif
#if PY_VERSION_HEX >= 0x030B0000
	FIELD(owner_generator, FRAME_OWNED_BY_GENERATOR);
#else
	ABSENT(owner_generator);
#endif
	/* The lowest owner of a frame that runs no code: 3.12-3.13 C-stack
	 * shims; 3.14+ interpreter entry frames and the thread's base frame
	 * (FRAME_OWNED_BY_INTERPRETER, below 3.14's FRAME_OWNED_BY_CSTACK). */
#if PY_VERSION_HEX >= 0x030E0000
	FIELD(owner_cstack, FRAME_OWNED_BY_INTERPRETER);
#elif PY_VERSION_HEX >= 0x030C0000
	FIELD(owner_cstack, FRAME_OWNED_BY_CSTACK);
#else
	ABSENT(owner_cstack);
#endif
	/* 3.14+: f_executable and the value stack hold _PyStackRefs whose low
	 * bits are tags (which and how many differ by build). */
#if PY_VERSION_HEX >= 0x030E0000
	FIELD(stackref_tag_bits, Py_TAG_BITS);
#else
	FIELD(stackref_tag_bits, 0);
#endif
}

#if PY_VERSION_HEX >= 0x030B0000
#include <internal/pycore_object.h>

/* 3.11+ keeps a managed dict (3.11: and a values pointer) before the
 * object: asked of CPython's own accessors on a stand-in object, with room
 * before it, whose type has a managed dict. */
static PyTypeObject managed_type = { .tp_flags = Py_TPFLAGS_MANAGED_DICT };
static PyObject *room[8];

static int before(const void *at, PyObject *obj)
{
	return (int)((const char *)at - (const char *)obj);
}
#endif

static void managed_dict(void)
{
#if PY_VERSION_HEX >= 0x030B0000
	PyObject *obj = (PyObject *)&room[4];

	obj->ob_type = &managed_type;
#endif
#if PY_VERSION_HEX < 0x030B0000
	FIELD(ob_managed_dict, 0);
	FIELD(ob_managed_values, 0);
#elif PY_VERSION_HEX < 0x030C0000
	FIELD(ob_managed_dict, before(_PyObject_ManagedDictPointer(obj), obj));
	FIELD(ob_managed_values, before(_PyObject_ValuesPointer(obj), obj));
#elif PY_VERSION_HEX < 0x030D0000
	FIELD(ob_managed_dict, before(_PyObject_DictOrValuesPointer(obj), obj));
	FIELD(ob_managed_values, 0);
#else
	FIELD(ob_managed_dict, before(_PyObject_ManagedDictPointer(obj), obj));
	FIELD(ob_managed_values, 0);
#endif
}

static void callables(void)
{
	FIELD(cfunc_ml, offsetof(PyCFunctionObject, m_ml));
	FIELD(cfunc_self, offsetof(PyCFunctionObject, m_self));
	FIELD(ml_name, offsetof(PyMethodDef, ml_name));
	FIELD(method_func, offsetof(PyMethodObject, im_func));
	FIELD(method_self, offsetof(PyMethodObject, im_self));
	FIELD(func_code, offsetof(PyFunctionObject, func_code));
	FIELD(func_closure, offsetof(PyFunctionObject, func_closure));
	FIELD(func_qualname, offsetof(PyFunctionObject, func_qualname));
	FIELD(cell_ref, offsetof(PyCellObject, ob_ref));
	FIELD(partial_fn, offsetof(partialobject_head, fn));
	FIELD(partial_args, offsetof(partialobject_head, args));
}

int main(void)
{
	printf("/* SPDX-License-Identifier: GPL-2.0-only */\n"
	       "/* Generated by tools/layout_gen.c from CPython %d.%d headers:\n"
	       " * do not edit; run `make layouts`. */\n"
	       "#include \"layout.h\"\n\n"
	       "const struct cpy_layout cpy_layout_%d_%d = {\n",
	       PY_MAJOR_VERSION, PY_MINOR_VERSION, PY_MAJOR_VERSION, PY_MINOR_VERSION);
	FIELD(major, PY_MAJOR_VERSION);
	FIELD(minor, PY_MINOR_VERSION);
	runtime_and_threads();
	frames();
	code_objects();
	generators();
	basic_objects();
	containers();
	callables();
	exceptions();
	frame_constants();
	managed_dict();
	printf("};\n");
	return 0;
}
