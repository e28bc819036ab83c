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
#include "dwarf_inline.h"
#include "elf_file.h"
#include "errors.h"
#include "maps.h"
#include "modules.h"
#include "probe_sites.h"
#include "proc.h"
#include "vmlinux_regs.h"

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

static uint64_t cookie_for(const struct inline_site *s)
{
	uint64_t cookie = (uint64_t)pt_regs_offset_of_dwarf_reg(s->dwarf_reg);

	if (s->deref)
		cookie |= LW_COOKIE_DEREF | ((uint64_t)(uint32_t)(int32_t)s->offset << 32);
	return cookie;
}

static int inline_sites(struct py_proc *p, struct elf_file *ef, struct probe_site *out, size_t max,
			size_t *n, char *why, size_t whylen)
{
	struct inline_site sites[MAX_INLINE];
	char debug[400];
	size_t found = 0;

	if (!find_debug_file(p, ef, debug, sizeof(debug))) {
		snprintf(why, whylen, "never-awaited coroutines are not detected: %s inlines %s and "
			 "has no symbol for it; install its debug symbols (apt-get install "
			 "python%d.%d-dbg) to enable it", p->binary, WARN_FUNC, p->major, p->minor);
		return -LS_ENOSYMBOL;
	}
	if (dwarf_inline_sites(debug, WARN_FUNC, sites, MAX_INLINE, &found)) {
		snprintf(why, whylen, "never-awaited coroutines are not detected: no inlined %s in %s",
			 WARN_FUNC, debug);
		return -LS_ENOSYMBOL;
	}
	for (size_t i = 0; i < found && *n < max; i++) {
		if (!sites[i].usable || pt_regs_offset_of_dwarf_reg(sites[i].dwarf_reg) < 0)
			continue;
		if (!site_at_vaddr(p, ef, sites[i].pc, cookie_for(&sites[i]), &out[*n]))
			(*n)++;
	}
	if (*n)
		return 0;
	snprintf(why, whylen, "never-awaited coroutines are not detected: the inlined copies of %s "
		 "keep the coroutine where a probe cannot read it", WARN_FUNC);
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
		err = inline_sites(p, ef, out, max, n, why, whylen);
	}
	elf_file_close(ef);
	return err;
}

/* The code a type's tp_finalize slot points to, as a file and offset. */
static int finalizer_site(struct py_proc *p, const struct maps *maps, uint64_t type,
			  struct probe_site *site)
{
	const struct map_entry *m;
	uint64_t fn;
	int err = remote_read_ptr(&p->mem, type + (uint64_t)p->L.tp_finalize, &fn);

	if (err || !fn)
		return err ? err : -LS_ENOSYMBOL;
	m = maps_find(maps, fn);
	if (!m || !m->path[0] || m->perms[2] != 'x')
		return -LS_EBADDATA;
	proc_root_path(p->pid, m->path, site->path, sizeof(site->path));
	site->offset = fn - m->start + m->offset;
	site->cookie = 0;
	return 0;
}

int probe_sites_finalizers(struct py_proc *p, struct probe_site *task, struct probe_site *future,
			   uint64_t *task_type)
{
	uint64_t future_type;
	struct maps maps;
	int err;

	err = py_module_attr(p, "_asyncio", "Task", task_type);
	if (!err)
		err = py_module_attr(p, "_asyncio", "Future", &future_type);
	if (err)
		return err;
	err = maps_read(p->pid, &maps);
	if (err)
		return err;
	err = finalizer_site(p, &maps, *task_type, task);
	if (!err)
		err = finalizer_site(p, &maps, future_type, future);
	maps_free(&maps);
	return err;
}
