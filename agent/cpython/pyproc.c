/* SPDX-License-Identifier: GPL-2.0-only */
/* Attaching to a CPython process: find the file that holds the interpreter,
 * its version, the addresses of _PyRuntime and of the type objects. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "code.h"
#include "debug_offsets.h"
#include "elf_file.h"
#include "errors.h"
#include "intern.h"
#include "maps.h"
#include "modules.h"
#include "proc.h"
#include "pyproc.h"
#include "pthread_tid.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Files worth looking into for _PyRuntime: the executable and anything
 * named like Python (libpython3.X.so, python3.X, uwsgi's python plugin). */
static bool is_candidate(const char *path, const char *exe)
{
	return path[0] == '/' && (!strcmp(path, exe) || strstr(base_name(path), "python"));
}

/* A container root whose files vanished under a running target (deleted,
 * the root taken away): one line naming the file and both ways tried. */
static void say_unopenable(struct py_proc *p, const char *file, int root_err, int map_err)
{
	snprintf(p->file_error, sizeof(p->file_error),
		 "PID %d: cannot open %s, a file it has mapped: not in its root /proc/%d/root (%s), "
		 "nor through /proc/%d/map_files (%s%s)", p->pid, file, p->pid, strerror(root_err),
		 p->pid, strerror(map_err),
		 map_err == EPERM || map_err == EACCES ? "; it takes root or CAP_SYS_ADMIN" : "");
}

/* 0 when path opens for reading (with our effective capabilities, which
 * access() would not use), else errno. */
static int open_errno(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* A mapped file, as we can open it: through the target's root (other
 * mount namespaces), else through map_files (a file deleted or replaced
 * since it was mapped, a root taken away). -LS_ENOFILE, and file_error
 * says why, when neither opens. */
int py_mapped_path(struct py_proc *p, const struct map_entry *m, char *out, size_t len)
{
	int root_err, map_err;

	proc_root_path(p->pid, m->path, out, len);
	root_err = open_errno(out);
	if (!root_err)
		return 0;
	snprintf(out, len, "/proc/%d/map_files/%llx-%llx", p->pid, (unsigned long long)m->start,
		 (unsigned long long)m->end);
	map_err = open_errno(out);
	if (!map_err)
		return 0;
	say_unopenable(p, m->path, root_err, map_err);
	return -LS_ENOFILE;
}

int py_open_mapped(struct py_proc *p, const struct map_entry *m, struct elf_file **ef,
		   char *local, size_t len)
{
	char path[sizeof(p->binary_local)];
	int err = py_mapped_path(p, m, path, sizeof(path));

	if (!err)
		err = elf_file_open(path, ef);
	if (!err && local)
		snprintf(local, len, "%s", path);
	return err;
}

/* "python3.10", "libpython3.10.so.1.0" -> 3, 10; nothing else ("python",
 * "_asyncio.cpython-311-x86_64-linux-gnu.so" would read as -311). The
 * outputs change only on a match. */
static bool version_from_name(const char *path, int *major, int *minor)
{
	const char *b = strstr(base_name(path), "python");
	unsigned int maj, min;
	int end = 0;

	if (!b || sscanf(b, "python%1u.%2u%n", &maj, &min, &end) != 2 || !end)
		return false;
	*major = (int)maj;
	*minor = (int)min;
	return true;
}

static int read_version(struct py_proc *p, struct elf_file *ef)
{
	uint64_t sym;

	if (!elf_file_symbol(ef, "Py_Version", &sym, NULL)) { /* 3.11+ */
		uint64_t hex;
		int err = remote_read_ptr(&p->mem, p->bias + sym, &hex);

		if (err)
			return err;
		p->major = (int)((hex >> 24) & 0xff);
		p->minor = (int)((hex >> 16) & 0xff);
		p->micro = (int)((hex >> 8) & 0xff);
		return 0;
	}
	/* 3.10 and older: the file name says which minor version; the micro
	 * one comes from sys.hexversion once the layout is known. */
	if (version_from_name(p->binary, &p->major, &p->minor))
		return 0;
	return -LS_EUNSUPPORTED;
}

static void refine_micro(struct py_proc *p)
{
	uint64_t obj;
	int64_t hex;

	if (p->micro || py_sys_attr(p, "hexversion", &obj) || py_read_long(p, obj, &hex))
		return;
	if (((hex >> 24) & 0xff) == p->major && ((hex >> 16) & 0xff) == p->minor)
		p->micro = (int)((hex >> 8) & 0xff);
}

static void resolve_types(struct py_proc *p, struct elf_file *ef)
{
	static const struct { const char *sym; size_t off; } names[] = {
		{ "PyCode_Type", offsetof(struct py_types, code) },
		{ "PyUnicode_Type", offsetof(struct py_types, unicode) },
		{ "PyBytes_Type", offsetof(struct py_types, bytes) },
		{ "PyDict_Type", offsetof(struct py_types, dict) },
		{ "PySet_Type", offsetof(struct py_types, set) },
		{ "PyFrozenSet_Type", offsetof(struct py_types, frozenset) },
		{ "PyList_Type", offsetof(struct py_types, list) },
		{ "PyTuple_Type", offsetof(struct py_types, tuple) },
		{ "PyLong_Type", offsetof(struct py_types, long_) },
		{ "PyFloat_Type", offsetof(struct py_types, float_) },
		{ "_Py_NoneStruct", offsetof(struct py_types, none) },
		{ "PyBool_Type", offsetof(struct py_types, bool_) },
		{ "PyCoro_Type", offsetof(struct py_types, coro) },
		{ "PyGen_Type", offsetof(struct py_types, gen) },
		{ "PyAsyncGen_Type", offsetof(struct py_types, asyncgen) },
		{ "_PyWeakref_RefType", offsetof(struct py_types, weakref) },
		{ "PyModule_Type", offsetof(struct py_types, module) },
		{ "PyType_Type", offsetof(struct py_types, type) },
		{ "PyCFunction_Type", offsetof(struct py_types, cfunction) },
		{ "PyMethod_Type", offsetof(struct py_types, method) },
		{ "PyFunction_Type", offsetof(struct py_types, function) },
		{ "PyCell_Type", offsetof(struct py_types, cell) },
		{ "PyExc_BaseException", offsetof(struct py_types, exc_base_var) },
		{ "PyExc_OSError", offsetof(struct py_types, exc_oserror_var) },
		{ "PyExc_KeyError", offsetof(struct py_types, exc_keyerror_var) },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t v;

		if (!elf_file_symbol(ef, names[i].sym, &v, NULL))
			*(uint64_t *)((char *)&p->types + names[i].off) = p->bias + v;
	}
}

/* The tp_str of the type a PyExc_* variable points to, 0 when unknown. */
static uint64_t exc_tp_str(struct py_proc *p, uint64_t var)
{
	uint64_t type = 0, fn = 0;

	if (!var || p->L.tp_str < 0 || remote_read_ptr(&p->mem, var, &type) || !type ||
	    remote_read_ptr(&p->mem, type + (uint64_t)p->L.tp_str, &fn))
		return 0;
	return fn;
}

uint64_t py_exc_oserror_str(struct py_proc *p)
{
	return exc_tp_str(p, p->types.exc_oserror_var);
}

enum py_exc_str py_exc_str_kind(struct py_proc *p, uint64_t tp_str)
{
	if (!tp_str)
		return PY_EXC_STR_OTHER;
	if (tp_str == exc_tp_str(p, p->types.exc_base_var))
		return PY_EXC_STR_ARGS;
	if (tp_str == exc_tp_str(p, p->types.exc_oserror_var))
		return PY_EXC_STR_OSERROR;
	if (tp_str == exc_tp_str(p, p->types.exc_keyerror_var))
		return PY_EXC_STR_KEYERROR;
	return PY_EXC_STR_OTHER;
}

/* Looks for _PyRuntime in one mapped file; 0 when this is the interpreter. */
static int try_file(struct py_proc *p, const struct maps *maps, const struct map_entry *m)
{
	const struct map_entry *first = maps_first_of(maps, m->path);
	struct elf_file *ef;
	uint64_t sym;
	int err;

	err = py_open_mapped(p, first, &ef, p->binary_local, sizeof(p->binary_local));
	if (err)
		return err;
	err = elf_file_symbol(ef, "_PyRuntime", &sym, NULL);
	if (!err) {
		snprintf(p->binary, sizeof(p->binary), "%s", m->path);
		p->bias = first->start - elf_file_base_vaddr(ef);
		p->runtime = p->bias + sym;
		err = read_version(p, ef);
		resolve_types(p, ef);
	}
	elf_file_close(ef);
	return err;
}

static int find_interpreter(struct py_proc *p, char *why, size_t whylen)
{
	char exe_link[64], shown[PATH_MAX] = "", exe[PATH_MAX];
	struct maps maps;
	int err, maj = 0, min = 0;
	char first_error[sizeof(p->file_error)];
	int unopened = 0;
	ssize_t n;

	snprintf(exe_link, sizeof(exe_link), "/proc/%d/exe", p->pid);
	n = readlink(exe_link, shown, sizeof(shown) - 1);
	if (n > 0)
		shown[n] = 0;
	maps_target_path(p->pid, shown, exe, sizeof(exe)); /* as maps names it */
	err = maps_read(p->pid, &maps);
	if (err)
		return err;
	err = -LS_ENOTPYTHON;
	for (size_t i = 0; i < maps.count; i++) {
		const struct map_entry *m = &maps.entries[i];
		int ret;

		if (!is_candidate(m->path, exe) || maps_first_of(&maps, m->path) != m)
			continue;
		ret = try_file(p, &maps, m);
		if (p->runtime) {
			err = ret;
			break;
		}
		if (ret == -LS_ENOFILE && !unopened++) /* the first such file: the interpreter's */
			snprintf(first_error, sizeof(first_error), "%s", p->file_error);
		if (version_from_name(m->path, &maj, &min))
			err = -LS_EUNSUPPORTED; /* unless a libpython comes later */
	}
	maps_free(&maps);
	if (!p->runtime && unopened) /* its files vanished: neither "not Python" nor "unsupported" */
		err = -LS_ENOFILE;
	if (err == -LS_ENOFILE)
		snprintf(why, whylen, "%s", unopened ? first_error : p->file_error);
	else if (err == -LS_ENOTPYTHON)
		snprintf(why, whylen, "PID %d is not a Python process", p->pid);
	else if (err == -LS_EUNSUPPORTED && !p->major)
		snprintf(why, whylen, "PID %d runs Python %d.%d, which is not supported "
			 "(supported: %s)", p->pid, maj, min, cpy_layout_supported());
	return err;
}

static int check_runtime(struct py_proc *p, char *why, size_t whylen)
{
	uint64_t head;
	int err = remote_read_ptr(&p->mem, p->runtime + (uint64_t)p->L.rt_interpreters_head, &head);

	if (err == -ESRCH)
		return err;
	if (err || !head) {
		snprintf(why, whylen, "PID %d: the Python interpreter is not initialised "
			 "(starting up or shutting down)", p->pid);
		return -LS_EBADDATA;
	}
	return 0;
}

int py_proc_open(pid_t pid, struct py_proc **out, char *why, size_t whylen)
{
	const struct cpy_layout *layout;
	struct py_proc *p;
	int err;

	why[0] = 0;
	err = proc_check(pid);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->mem.pid = pid;
	p->pthread_tid_off = -1;
	err = find_interpreter(p, why, whylen);
	if (err)
		goto fail;
	layout = cpy_layout_lookup(p->major, p->minor);
	if (!layout) {
		snprintf(p->version, sizeof(p->version), p->micro ? "%d.%d.%d" : "%d.%d",
			 p->major, p->minor, p->micro);
		snprintf(why, whylen, "PID %d runs Python %s, which is not supported "
			 "(supported: %s)", pid, p->version, cpy_layout_supported());
		err = -LS_EUNSUPPORTED;
		goto fail;
	}
	p->L = *layout;
	p->A = *cpy_aio_layout_lookup(p->major, p->minor);
	if (p->minor >= 13) {
		err = debug_offsets_apply(p, why, whylen);
		if (err)
			goto fail;
		p->debug_offsets = true;
		p->asyncio_offsets = debug_offsets_asyncio(p) == 0;
	}
	err = check_runtime(p, why, whylen);
	if (err)
		goto fail;
	refine_micro(p);
	snprintf(p->version, sizeof(p->version), "%d.%d.%d", p->major, p->minor, p->micro);
	if (p->L.ts_native_thread_id < 0)
		p->pthread_tid_off = pthread_tid_offset();
	p->pid_ns = ns_tids_nested(pid);
	p->strings = intern_new();
	p->code_files = intern_new();
	p->names = intern_new();
	p->codes = code_cache_new();
	if (!p->strings || !p->code_files || !p->names || !p->codes) {
		err = -ENOMEM;
		goto fail;
	}
	*out = p;
	return 0;
fail:
	if (!why[0])
		snprintf(why, whylen, "cannot read Python in PID %d: %s", pid, ls_strerror(err));
	py_proc_free(p);
	return err;
}

void py_proc_free(struct py_proc *p)
{
	if (!p)
		return;
	ns_tids_free(&p->ns_tids);
	code_cache_free(p->codes);
	intern_free(p->strings);
	intern_free(p->code_files);
	intern_free(p->names);
	free(p);
}
