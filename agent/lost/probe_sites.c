/* SPDX-License-Identifier: GPL-2.0-only */
/* Where to put the lost-work uprobes in a given CPython build.
 *
 * The never-awaited warning: the symbol _PyErr_WarnUnawaitedCoroutine
 * where the build has it (pyenv builds: .symtab of libpython), else its
 * inlined copies found in the build's debug info (Debian: python3.X-dbg
 * under /usr/lib/debug/.build-id). The finalizers of _asyncio.Task and
 * _asyncio.Future: their tp_finalize slots, read from the type objects in
 * the target's memory, which tell the truth even on stripped builds. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "dwarf_sites.h"
#include "elf_file.h"
#include "errors.h"
#include "maps.h"
#include "modules.h"
#include "probe_sites.h"
#include "proc.h"
#include "pt_regs.h"

#define WARN_FUNC "_PyErr_WarnUnawaitedCoroutine"
#define MAX_INLINE 32

static int site_at_vaddr(struct py_proc *p, struct elf_file *ef, uint64_t vaddr, uint64_t cookie,
			 struct probe_site *site)
{
	snprintf(site->path, sizeof(site->path), "%s", p->binary_local);
	site->cookie = cookie;
	return elf_file_vaddr_to_offset(ef, vaddr, &site->offset);
}

/* /usr/lib/debug/.build-id/ab/cdef....debug, in the target's root first. */
static bool find_debug_file(struct py_proc *p, struct elf_file *ef, char *out, size_t len)
{
	char id[128], rel[300];

	elf_file_build_id(ef, id, sizeof(id));
	if (strlen(id) < 4)
		return false;
	snprintf(rel, sizeof(rel), "/usr/lib/debug/.build-id/%.2s/%s.debug", id, id + 2);
	proc_root_path(p->pid, rel, out, len);
	if (!access(out, R_OK))
		return true;
	snprintf(out, len, "%s", rel);
	return !access(out, R_OK);
}

static uint64_t cookie_for(const struct dwarf_site *s)
{
	uint64_t cookie = (uint64_t)pt_regs_offset_of_dwarf_reg(s->dwarf_reg);

	if (s->deref)
		cookie |= LOST_COOKIE_DEREF | ((uint64_t)(uint32_t)(int32_t)s->offset << 32);
	return cookie;
}

/* The function itself, when the debug file's .symtab has it (Debian's
 * 3.14 and 3.15 keep it out of line, as a local symbol): its entry, where
 * the coroutine is the first argument. */
static void debug_symbol_site(struct py_proc *p, struct elf_file *ef, const char *debug,
			      struct probe_site *out, size_t max, size_t *n)
{
	struct elf_file *dbg;
	uint64_t vaddr;

	if (*n >= max || elf_file_open(debug, &dbg))
		return;
	if (!elf_file_symbol(dbg, WARN_FUNC, &vaddr, NULL) &&
	    !site_at_vaddr(p, ef, vaddr, pt_regs_offset_of_dwarf_reg(5 /* rdi */), &out[*n]))
		(*n)++;
	elf_file_close(dbg);
}

/* Its copies inlined into its callers (Debian's 3.11, built with LTO). */
static void dwarf_inlined_sites(struct py_proc *p, struct elf_file *ef, const char *debug,
				struct probe_site *out, size_t max, size_t *n)
{
	struct dwarf_site sites[MAX_INLINE];
	size_t found = 0;

	if (dwarf_inline_sites(debug, p->binary_local, WARN_FUNC, sites, MAX_INLINE, &found))
		return;
	for (size_t i = 0; i < found && *n < max; i++) {
		if (!sites[i].usable || pt_regs_offset_of_dwarf_reg(sites[i].dwarf_reg) < 0)
			continue;
		if (!site_at_vaddr(p, ef, sites[i].pc, cookie_for(&sites[i]), &out[*n]))
			(*n)++;
	}
}

/* A stripped build: the sites come from its debug file (python3.X-dbg). */
static int debug_sites(struct py_proc *p, struct elf_file *ef, struct probe_site *out, size_t max,
		       size_t *n, char *why, size_t whylen)
{
	char debug[400];

	if (!find_debug_file(p, ef, debug, sizeof(debug))) {
		snprintf(why, whylen, "never-awaited coroutines are not detected: %s has no symbol "
			 "for %s; install its debug symbols (apt-get install python%d.%d-dbg) to "
			 "enable it", p->binary, WARN_FUNC, p->major, p->minor);
		return -LS_ENOSYMBOL;
	}
	debug_symbol_site(p, ef, debug, out, max, n);
	dwarf_inlined_sites(p, ef, debug, out, max, n);
	if (*n)
		return 0;
	snprintf(why, whylen, "never-awaited coroutines are not detected: %s has neither a "
		 "symbol for %s nor inlined copies a probe can read the coroutine in", debug, WARN_FUNC);
	return -LS_ENOSYMBOL;
}

int probe_sites_never_awaited(struct py_proc *p, struct probe_site *out, size_t max, size_t *n,
			      char *why, size_t whylen)
{
	struct elf_file *ef;
	uint64_t vaddr;
	int err;

	*n = 0;
	why[0] = 0;
	err = elf_file_open(p->binary_local, &ef);
	if (err) {
		snprintf(why, whylen, "never-awaited coroutines are not detected: cannot open %s",
			 p->binary);
		return err;
	}
	if (!elf_file_symbol(ef, WARN_FUNC, &vaddr, NULL)) {
		err = site_at_vaddr(p, ef, vaddr, pt_regs_offset_of_dwarf_reg(5 /* rdi */), &out[0]);
		*n = err ? 0 : 1;
	} else {
		err = debug_sites(p, ef, out, max, n, why, whylen);
	}
	elf_file_close(ef);
	return err;
}

/* The code a type's tp_finalize slot points to, as a file and offset,
 * and the mapping it lives in. */
static int finalizer_site(struct py_proc *p, const struct maps *maps, uint64_t type,
			  struct probe_site *site, const struct map_entry **where)
{
	const struct map_entry *m;
	uint64_t fn;
	int err = remote_read_ptr(&p->mem, type + (uint64_t)p->L.tp_finalize, &fn);

	if (err || !fn)
		return err ? err : -LS_ENOSYMBOL;
	m = maps_find(maps, fn);
	if (!m || !m->path[0] || m->perms[2] != 'x')
		return -LS_EBADDATA;
	err = py_mapped_path(p, maps_first_of(maps, m->path), site->path, sizeof(site->path));
	if (err)
		return err;
	site->offset = fn - m->start + m->offset;
	site->cookie = 0;
	*where = m;
	return 0;
}

/* The DWARF of a module: its own sections, or its build-id debug file. */
static bool module_debug_info(struct py_proc *p, const char *path, char *out, size_t len)
{
	struct elf_file *ef;
	bool found = false;

	if (elf_file_open(path, &ef))
		return false;
	if (elf_file_has_section(ef, ".debug_info")) {
		snprintf(out, len, "%s", path);
		found = true;
	} else {
		found = find_debug_file(p, ef, out, len);
	}
	elf_file_close(ef);
	return found;
}

/* The single return site of the first call made by func's reporting
 * branch (PyErr_Fetch before 3.12, PyErr_GetRaisedException since). */
static int branch_site(const char *debug, const char *module, const char *func, uint64_t kind,
		       struct probe_site *site)
{
	static const char *const first_calls[] = { "PyErr_Fetch", "PyErr_GetRaisedException", NULL };
	struct dwarf_site found[4];
	struct elf_file *ef;
	size_t n;
	int err;

	err = dwarf_call_sites(debug, module, func, first_calls, found, 4, &n);
	if (err || n != 1 || !found[0].usable || pt_regs_offset_of_dwarf_reg(found[0].dwarf_reg) < 0)
		return err ? err : -LS_ENOSYMBOL;
	err = elf_file_open(module, &ef);
	if (err)
		return err;
	err = elf_file_vaddr_to_offset(ef, found[0].pc, &site->offset);
	elf_file_close(ef);
	snprintf(site->path, sizeof(site->path), "%s", module);
	site->cookie = cookie_for(&found[0]) | kind;
	return err;
}

static void find_branches(struct py_proc *p, struct finalizer_probes *out)
{
	const char *module = out->future_entry.path;
	char debug[400];

	if (!module_debug_info(p, module, debug, sizeof(debug))) {
		snprintf(out->why, sizeof(out->why), "no debug info for _asyncio (apt-get install "
			 "python%d.%d-dbg): task checks cost about a microsecond per finished task",
			 p->major, p->minor);
		return;
	}
	out->in_branches =
		!branch_site(debug, module, "FutureObj_finalize", 0, &out->exception_branch) &&
		!branch_site(debug, module, "TaskObj_finalize", LOST_COOKIE_PENDING, &out->pending_branch);
	if (!out->in_branches)
		snprintf(out->why, sizeof(out->why), "the finalizers' reporting branches were not "
			 "found in %s: task checks cost about a microsecond per finished task", debug);
}

int probe_sites_finalizers(struct py_proc *p, struct finalizer_probes *out)
{
	const struct map_entry *task_map, *future_map;
	uint64_t future_type;
	struct maps maps;
	int err;

	memset(out, 0, sizeof(*out));
	err = py_module_attr(p, "_asyncio", "Task", &out->task_type);
	if (!err)
		err = py_module_attr(p, "_asyncio", "Future", &future_type);
	if (err)
		return err;
	err = maps_read(p->pid, &maps);
	if (err)
		return err;
	err = finalizer_site(p, &maps, out->task_type, &out->task_entry, &task_map);
	if (!err)
		err = finalizer_site(p, &maps, future_type, &out->future_entry, &future_map);
	if (!err && task_map->start == future_map->start)
		find_branches(p, out);
	maps_free(&maps);
	return err;
}
