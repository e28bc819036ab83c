/* SPDX-License-Identifier: GPL-2.0-only */
/* A live CPython process, read from outside: where its interpreter is, which
 * version, its threads, their stacks. Nothing here stops the target. */
#ifndef LOOPSCOPE_PYPROC_H
#define LOOPSCOPE_PYPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "aio_layout.h"
#include "layout.h"
#include "ns_tids.h"
#include "pystack.h"
#include "remote.h"

struct intern;
struct code_cache;

/* Addresses of the type objects loopscope recognises objects by. */
struct py_types {
	uint64_t code, unicode, bytes, dict, set, frozenset, list, tuple, long_, float_,
		 none, bool_, coro, gen, asyncgen, weakref, module, type, cfunction, method, function, cell;
	/* the variables PyExc_BaseException, PyExc_OSError, PyExc_KeyError
	 * (pointers to the types) */
	uint64_t exc_base_var, exc_oserror_var, exc_keyerror_var;
};

struct py_proc {
	pid_t pid;
	struct remote mem;
	struct cpy_layout L;      /* the version's table (3.13+: from _Py_DebugOffsets) */
	struct cpy_aio_layout A;  /* _asyncio's (3.14+: from its AsyncioDebug) */
	int major, minor, micro;
	char version[24];         /* "3.11.7" */
	char binary[256];         /* the file that holds the interpreter, as the target sees it */
	char binary_local[300];   /* the same file, as we open it (/proc/PID/root/...) */
	uint64_t bias;            /* load bias of that file */
	uint64_t runtime;         /* &_PyRuntime */
	bool debug_offsets;       /* _Py_DebugOffsets were read */
	bool asyncio_offsets;     /* 3.14+: AsyncioDebug was read */
	double asyncio_next_lookup;  /* when to look for it again (monotonic s) */
	struct py_types types;
	struct intern *strings;   /* code objects' files and names: kept */
	/* Task names, coroutine names, awaits, exception types: asked for
	 * again by each snapshot, aged by aio_snapshot_read (a target that
	 * names each task anew must not grow us without bound). */
	struct intern *names;
	struct intern *code_files; /* every code object's co_filename read: the files it loaded */
	struct code_cache *codes;
	int pthread_tid_off;      /* 3.10: tid inside glibc's struct pthread */
	bool pid_ns;              /* in a PID namespace below ours: tids mapped */
	struct ns_tids ns_tids;   /* its threads' ids there and here */
	double ns_tids_read_at;   /* when they were read (monotonic s) */
	uint64_t aio_current_tasks;  /* asyncio.tasks._current_tasks, once found */
	double aio_next_lookup;      /* when to look for it again (monotonic s) */
	char file_error[600];     /* the last mapped file that could not be opened, why (one line) */
};

/* Maximum frames read per stack: deeper stacks are cut and marked. */
#define PY_MAX_DEPTH 2048

/* Finds and checks the interpreter of PID. On failure returns -ESRCH,
 * -EPERM, -LS_ENOTPYTHON, -LS_EUNSUPPORTED or -LS_ENOFILE (its files
 * cannot be opened) and writes why (one line). */
int py_proc_open(pid_t pid, struct py_proc **out, char *why, size_t whylen);
void py_proc_free(struct py_proc *p);

struct map_entry;
struct elf_file;
/* The path through which a file mapped in the target opens: as the target
 * sees it (/proc/PID/root/...), else /proc/PID/map_files/START-END (the
 * file deleted, the root gone); -LS_ENOFILE, file_error naming the file,
 * when neither does. */
int py_mapped_path(struct py_proc *p, const struct map_entry *m, char *out, size_t len);
/* Opens such a file (py_mapped_path); the path opened goes to local when
 * given. */
int py_open_mapped(struct py_proc *p, const struct map_entry *m, struct elf_file **ef,
		   char *local, size_t len);

/* One PyThreadState. */
struct py_thread {
	uint64_t tstate;
	uint64_t interp;
	uint64_t pthread_id;  /* threading.get_ident() */
	pid_t tid;            /* kernel thread id, 0 when unknown */
};

/* A thread list longer than this is not believed (a cycle, or garbage). */
#define PY_MAX_THREADS 65536

/* The Python threads of every interpreter, at most max. */
int py_proc_threads(struct py_proc *p, struct py_thread *out, size_t max, size_t *count);
/* Every Python thread (up to PY_MAX_THREADS), in an array to free(). */
int py_proc_thread_list(struct py_proc *p, struct py_thread **out, size_t *count);
/* The thread state holding the GIL of interp, 0 when it is free. */
int py_proc_gil_holder(struct py_proc *p, uint64_t interp, uint64_t *tstate);
/* Whether a thread asleep in a futex wait on address futex waits for
 * interp's GIL (its condition variables and mutexes), or on something
 * else (a lock). */
int py_proc_gil_waits_on(struct py_proc *p, uint64_t interp, uint64_t futex, bool *is_gil);
/* The stack of a thread, innermost first. -ESRCH when the target is gone,
 * -LS_ECHANGED when it changed too much under the reader to be trusted. */
int py_proc_stack(struct py_proc *p, uint64_t tstate, struct py_stack *out, size_t max_depth);
/* One frame as a reader took it (its address, code object, offset in code
 * units, 3.11+ owner, -1 before): pushed onto out, or skipped when it runs
 * no user code (a shim, one still being set up); an error when its code
 * object cannot be read. Every stack reader decodes frames through it. */
int py_frame_push(struct py_proc *p, struct py_stack *out, uint64_t frame, uint64_t code,
		  int lasti, int owner);

/* Which str() an exception type has, by its tp_str slot: the one of
 * BaseException (str of args), OSError's, KeyError's (repr of its one
 * arg), or another (a custom __str__, not runnable from outside). */
enum py_exc_str { PY_EXC_STR_ARGS, PY_EXC_STR_OSERROR, PY_EXC_STR_KEYERROR, PY_EXC_STR_OTHER };
enum py_exc_str py_exc_str_kind(struct py_proc *p, uint64_t tp_str);
/* OSError's tp_str, 0 when unknown. */
uint64_t py_exc_oserror_str(struct py_proc *p);

/* Readers of basic objects (objects.c). Strings come out as UTF-8 and are
 * cut to fit buf; a non-str object gives -LS_EBADDATA. */
int py_read_str(struct py_proc *p, uint64_t obj, char *buf, size_t len);
/* The contents of a bytes object, at most max bytes; free() *out. */
int py_read_bytes(struct py_proc *p, uint64_t obj, uint8_t **out, size_t *len, size_t max);
uint64_t py_type_of(struct py_proc *p, uint64_t obj);
/* A type, its tp_base, its base's base...: at most PY_MAX_BASES (deeper
 * chains are not believed); the count. */
#define PY_MAX_BASES 16
size_t py_type_chain(struct py_proc *p, uint64_t type, uint64_t *chain, size_t max);
bool py_type_is_subtype(struct py_proc *p, uint64_t type, uint64_t base);
/* A NUL-terminated C string of the target, cut to fit buf. */
int py_read_cstr(struct py_proc *p, uint64_t addr, char *buf, size_t len);
/* tp_name of an object's type. */
int py_type_name(struct py_proc *p, uint64_t obj, char *buf, size_t len);
/* UTF-8 of n code units of `kind` bytes each (1, 2, 4); returns bytes. */
size_t py_decode_units(const void *data, int kind, size_t n, char *buf, size_t len);
/* An int object's value (small ints only: up to 60 bits). */
int py_read_long(struct py_proc *p, uint64_t obj, int64_t *out);
int py_read_float(struct py_proc *p, uint64_t obj, double *out);

#endif
