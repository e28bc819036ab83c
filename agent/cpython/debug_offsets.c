/* SPDX-License-Identifier: GPL-2.0-only */
/* The structure offsets CPython publishes for out-of-process readers:
 * _Py_DebugOffsets at the start of _PyRuntime (3.13+) and _asyncio's
 * AsyncioDebug section (3.14+), the data `python -m asyncio ps` reads.
 *
 * Both are a sequence of uint64_t whose fields each version adds to: one
 * table below says, per field, which versions have it and which field of
 * our layouts it sets, so one parser reads every version. The target
 * wrote these numbers: each struct's published size bounds the offsets
 * into it, every value is checked once, then they override the generated
 * tables (a micro release that moved a field still reads right). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "debug_offsets.h"
#include "elf_file.h"
#include "errors.h"
#include "maps.h"
#include "pyproc.h"

enum kind {
	SIZE,     /* a struct's size: bounds the offsets that follow */
	OFFSET,   /* an offset into the last sized struct */
	VALUE,    /* a size or flag: only bounded by MAX_VALUE */
	UNSIZED,  /* (no word) a struct that publishes no size follows */
};

struct debug_field {
	uint8_t since, until;   /* minor versions since <= minor < until; 0: no end */
	uint8_t kind;
	uint8_t aio;            /* dest is in struct cpy_aio_layout */
	int16_t dest;           /* offsetof the int field it sets, -1: none */
};

#define MAX_VALUE (1u << 20)   /* no CPython struct is a megabyte */
#define ANY 13, 0
#define V14 14, 0
#define V15 15, 0
#define L_(f) (int16_t)offsetof(struct cpy_layout, f)
#define A_(f) (int16_t)offsetof(struct cpy_aio_layout, f)
#define SZ(v, d) { v, SIZE, 0, d }
#define F(v, d) { v, OFFSET, 0, d }
#define FA(v, d) { v, OFFSET, 1, d }
#define SZA(v, d) { v, SIZE, 1, d }
#define X(v) { v, OFFSET, 0, -1 }
#define XV(v) { v, VALUE, 0, -1 }
#define UNSIZED_(v) { v, UNSIZED, 0, -1 }

/* Include/internal/pycore_debug_offsets.h, after cookie, version and
 * free_threaded, in order (3.13 from pycore_runtime.h). */
static const struct debug_field runtime_fields[] = {
	/* runtime_state */
	SZ(ANY, -1), X(ANY), F(ANY, L_(rt_interpreters_head)),
	/* interpreter_state */
	SZ(ANY, -1), X(ANY), F(ANY, L_(is_next)), F(ANY, L_(is_threads_head)), X(V14),
	X(ANY), F(ANY, L_(is_modules)), F(ANY, L_(is_sysdict)), X(ANY), F(ANY, L_(is_gil)),
	X(ANY), XV(ANY), X(ANY), X(ANY), XV(V14), XV(V14),
	/* thread_state: 3.15 adds base_frame, profiling and GIL fields */
	SZ(ANY, -1), X(ANY), F(ANY, L_(ts_next)), F(ANY, L_(ts_interp)), F(ANY, L_(ts_frame)),
	X(V15), X(V15), X(V15), F(ANY, L_(ts_thread_id)), F(ANY, L_(ts_native_thread_id)),
	X(ANY), X(ANY), X(V15), X(V15), X(V15), X(V15),
	/* err_stackitem (3.15) */
	UNSIZED_(V15), X(V15),
	/* interpreter_frame: 3.14 adds stackpointer, tlbc_index */
	SZ(ANY, L_(if_size)), F(ANY, L_(if_previous)), F(ANY, L_(if_code)), F(ANY, L_(if_instr)),
	F(ANY, L_(if_localsplus)), F(ANY, L_(if_owner)), F(V14, L_(if_stackpointer)), X(V14),
	/* code_object: 3.14 adds co_tlbc */
	SZ(ANY, -1), F(ANY, L_(co_filename)), F(ANY, L_(co_name)), F(ANY, L_(co_qualname)),
	F(ANY, L_(co_linetable)), F(ANY, L_(co_firstlineno)), X(ANY), X(ANY), X(ANY),
	F(ANY, L_(co_code_adaptive)), X(V14),
	/* pyobject */
	SZ(ANY, -1), F(ANY, L_(ob_type)),
	/* type_object: 3.15 adds tp_basicsize, tp_dictoffset */
	SZ(ANY, -1), F(ANY, L_(tp_name)), X(ANY), F(ANY, L_(tp_flags)),
	F(V15, L_(tp_basicsize)), F(V15, L_(tp_dictoffset)),
	/* heap_type_object (3.15) */
	SZ(V15, -1), F(V15, L_(ht_cached_keys)),
	/* tuple_object, list_object */
	SZ(ANY, -1), F(ANY, L_(tuple_item)), X(ANY),
	SZ(ANY, -1), F(ANY, L_(list_item)), X(ANY),
	/* set_object (3.14) */
	SZ(V14, -1), F(V14, L_(set_used)), F(V14, L_(set_table)), F(V14, L_(set_mask)),
	/* dict_object, float_object, long_object, bytes_object */
	SZ(ANY, -1), F(ANY, L_(dict_keys)), F(ANY, L_(dict_values)),
	SZ(ANY, -1), F(ANY, L_(float_value)),
	SZ(ANY, -1), F(ANY, L_(long_tag)), F(ANY, L_(long_digits)),
	SZ(ANY, -1), X(ANY), F(ANY, L_(bytes_sval)),
	/* unicode_object: 3.15 adds compactunicodeobject_size */
	SZ(ANY, -1), F(ANY, L_(u_state)), F(ANY, L_(u_length)), XV(ANY), XV(V15),
	/* gc: 3.15 adds frame, generation_stats_size, generation_stats */
	SZ(ANY, -1), X(ANY), X(V15), XV(V15), X(V15),
	/* gen_object (3.14) */
	SZ(V14, -1), F(V14, L_(gen_name)), F(V14, L_(gen_iframe)),
	F(V14, L_(gen_frame_state)),
	/* llist_node, debugger_support (3.14) */
	UNSIZED_(V14), X(V14), X(V14),
	UNSIZED_(V14), X(V14), XV(V14), XV(V14), X(V14), X(V14), XV(V14),
};

/* Modules/_asynciomodule.c, _Py_AsyncioModuleDebugOffsets (3.14+). */
static const struct debug_field asyncio_fields[] = {
	/* asyncio_task_object */
	SZA(V14, A_(task_size)), FA(V14, A_(task_name)), X(V14), X(V14), X(V14),
	FA(V14, A_(task_coro)), FA(V14, A_(task_node)),
	/* asyncio_interpreter_state */
	SZ(V14, -1), F(V14, L_(is_asyncio_tasks_head)),
	/* asyncio_thread_state */
	SZ(V14, -1), F(V14, L_(ts_asyncio_running_loop)), F(V14, L_(ts_asyncio_running_task)),
	F(V14, L_(ts_asyncio_tasks_head)),
};

#define MAX_WORDS 160

static bool has_field(const struct debug_field *f, int minor)
{
	return minor >= f->since && (!f->until || minor < f->until);
}

/* The words a version's struct has (what to read). */
static size_t words_of(const struct debug_field *tab, size_t n, int minor)
{
	size_t words = 0;

	for (size_t i = 0; i < n; i++)
		words += has_field(&tab[i], minor) && tab[i].kind != UNSIZED;
	return words;
}

/* Checks every word against its struct's size, then writes the fields into
 * L and A: nothing is written unless all of it is believable. */
static int apply(const struct debug_field *tab, size_t n, const uint64_t *w, int minor,
		 struct cpy_layout *L, struct cpy_aio_layout *A)
{
	struct cpy_layout l = *L;
	struct cpy_aio_layout a = *A;
	uint64_t bound = MAX_VALUE;
	size_t at = 0;

	for (size_t i = 0; i < n; i++) {
		const struct debug_field *f = &tab[i];
		uint64_t v;

		if (!has_field(f, minor))
			continue;
		if (f->kind == UNSIZED) {
			bound = MAX_VALUE;
			continue;
		}
		v = w[at++];
		if (f->kind == SIZE ? !v || v > MAX_VALUE : v >= (f->kind == VALUE ? MAX_VALUE : bound))
			return -LS_EBADDATA;
		if (f->kind == SIZE)
			bound = v;
		if (f->dest >= 0)
			*(int *)((f->aio ? (char *)&a : (char *)&l) + f->dest) = (int)v;
	}
	*L = l;
	*A = a;
	return 0;
}

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))

int debug_offsets_apply(struct py_proc *p, char *why, size_t whylen)
{
	struct { char cookie[8]; uint64_t version, free_threaded, w[MAX_WORDS]; } d;
	size_t words = words_of(runtime_fields, COUNT(runtime_fields), p->minor);
	uint64_t want = ((uint64_t)p->major << 24) | ((uint64_t)p->minor << 16) |
			((uint64_t)p->micro << 8);
	int err;

	if (words > MAX_WORDS)
		return -LS_EBADDATA;
	err = remote_read(&p->mem, p->runtime, &d, offsetof(typeof(d), w) + words * 8);
	if (err)
		return err;
	if (memcmp(d.cookie, "xdebugpy", 8) || (d.version & ~0xffULL) != want) {
		snprintf(why, whylen, "PID %d: the _Py_DebugOffsets of %s (cookie \"%.8s\", "
			 "version 0x%llx) do not match its Python %d.%d.%d: not reading it",
			 p->pid, p->binary, d.cookie[0] >= ' ' && d.cookie[0] < 127 ? d.cookie : "?",
			 (unsigned long long)d.version, p->major, p->minor, p->micro);
		return -LS_EBADDATA;
	}
	if (d.free_threaded) {
		snprintf(why, whylen, "PID %d runs a free-threaded Python %d.%d (%s), which is not "
			 "supported", p->pid, p->major, p->minor, p->binary);
		return -LS_EUNSUPPORTED;
	}
	err = apply(runtime_fields, COUNT(runtime_fields), d.w, p->minor, &p->L, &p->A);
	if (err)
		snprintf(why, whylen, "PID %d: the _Py_DebugOffsets of %s hold an offset past its "
			 "struct: not reading it", p->pid, p->binary);
	return err;
}

/* The AsyncioDebug section of one mapped file, read from the target's
 * memory (where the section was loaded); -ENOENT when it has none. */
static int asyncio_section(struct py_proc *p, const struct maps *maps, const struct map_entry *m,
			   uint64_t *w, size_t words)
{
	const struct map_entry *first = maps_first_of(maps, m->path);
	struct elf_file *ef;
	uint64_t vaddr, size;
	int err = py_open_mapped(p, first, &ef, NULL, 0);

	if (err)
		return err;
	err = elf_file_section(ef, ".AsyncioDebug", &vaddr, &size);
	if (!err && size < words * 8)
		err = -LS_EBADDATA;
	if (!err)
		err = remote_read(&p->mem, first->start - elf_file_base_vaddr(ef) + vaddr, w, words * 8);
	elf_file_close(ef);
	return err;
}

static bool holds_asyncio(const struct py_proc *p, const char *path)
{
	const char *base = strrchr(path, '/');

	return !strcmp(path, p->binary) || (base && !strncmp(base + 1, "_asyncio.", 9));
}

int debug_offsets_asyncio(struct py_proc *p)
{
	size_t words = words_of(asyncio_fields, COUNT(asyncio_fields), p->minor);
	uint64_t w[MAX_WORDS];
	struct maps maps;
	int err;

	if (p->minor < 14)
		return 0;
	if (words > MAX_WORDS)
		return -LS_EBADDATA;
	err = maps_read(p->pid, &maps);
	if (err)
		return err;
	err = -LS_ENOTFOUND;
	for (size_t i = 0; i < maps.count && err != 1; i++) {
		const struct map_entry *m = &maps.entries[i];
		int ret;

		if (m->path[0] != '/' || maps_first_of(&maps, m->path) != m || !holds_asyncio(p, m->path))
			continue;
		ret = asyncio_section(p, &maps, m, w, words);
		if (!ret || ret == -LS_ENOFILE) /* a file that vanished: say which, not "not imported" */
			err = ret ? ret : 1;
	}
	maps_free(&maps);
	if (err == 1)
		err = apply(asyncio_fields, COUNT(asyncio_fields), w, p->minor, &p->L, &p->A);
	return err;
}
