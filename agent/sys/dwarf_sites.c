/* SPDX-License-Identifier: GPL-2.0-only */
/* Probe sites from DWARF (libdw), the way `perf probe` finds them:
 *  - the inlined copies of a function, and where its first parameter
 *    lives at each copy's entry (Debian's LTO python3.11 inlines the
 *    never-awaited warning);
 *  - the calls a function makes to a given callee, and where the
 *    function's first parameter lives when that call returns: a probe
 *    there fires only on the code path that makes the call (the "exception
 *    never retrieved" branch of a finalizer, not every finalization). */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "dwarf_sites.h"
#include "errors.h"

#define MAX_DIE_DEPTH 64

/* The name of a DIE, following abstract origins and specifications. */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	Dwarf_Die ref;
	const char *name = dwarf_diename(die);

	for (int hops = 0; !name && hops < 4; hops++) {
		if (!(dwarf_attr(die, DW_AT_abstract_origin, &attr) ||
		      dwarf_attr(die, DW_AT_specification, &attr) ||
		      dwarf_attr(die, DW_AT_call_origin, &attr)) || !dwarf_formref_die(&attr, &ref))
			return NULL;
		*die = ref;
		name = dwarf_diename(die);
	}
	return name;
}

static const char *origin_name(Dwarf_Die *die, unsigned int at)
{
	Dwarf_Attribute attr;
	Dwarf_Die ref;

	if (!dwarf_attr(die, at, &attr) || !dwarf_formref_die(&attr, &ref))
		return NULL;
	return die_name(&ref);
}

/* A location a uprobe can read: a register, or memory at register+offset. */
static void read_location(Dwarf_Die *param, struct dwarf_site *site)
{
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t nops;

	site->usable = false;
	if (!dwarf_attr(param, DW_AT_location, &attr) ||
	    dwarf_getlocation_addr(&attr, site->pc, &ops, &nops, 1) != 1 || nops != 1)
		return;
	if (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) {
		site->dwarf_reg = ops[0].atom - DW_OP_reg0;
		site->usable = true;
	} else if (ops[0].atom == DW_OP_regx) {
		site->dwarf_reg = (int)ops[0].number;
		site->usable = true;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		site->dwarf_reg = ops[0].atom - DW_OP_breg0;
		site->deref = true;
		site->offset = (int64_t)ops[0].number;
		site->usable = true;
	}
}

/* The first formal parameter of a function instance, at pc. */
static void first_param_at(Dwarf_Die *fn, struct dwarf_site *site)
{
	Dwarf_Die child;

	if (dwarf_child(fn, &child) != 0)
		return;
	do {
		if (dwarf_tag(&child) == DW_TAG_formal_parameter) {
			read_location(&child, site);
			return;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

struct search {
	const char *func;              /* the function whose sites we want */
	const char *const *callees;    /* NULL: inlined copies of func */
	struct dwarf_site *out;
	size_t max, n;
};

static void add_site(struct search *s, Dwarf_Die *fn, Dwarf_Addr pc)
{
	struct dwarf_site *site;

	if (s->n >= s->max)
		return;
	site = &s->out[s->n++];
	memset(site, 0, sizeof(*site));
	site->pc = pc;
	first_param_at(fn, site);
}

static bool is_callee(const struct search *s, const char *name)
{
	for (int i = 0; name && s->callees[i]; i++)
		if (!strcmp(name, s->callees[i]))
			return true;
	return false;
}

/* A call made from an instance of func: probe where it returns. */
static void consider_call(struct search *s, Dwarf_Die *call, Dwarf_Die *scope)
{
	Dwarf_Attribute attr;
	Dwarf_Addr pc;
	const char *callee = origin_name(call, DW_AT_call_origin);

	if (!callee)
		callee = origin_name(call, DW_AT_abstract_origin);
	if (!is_callee(s, callee))
		return;
	if (!(dwarf_attr(call, DW_AT_call_return_pc, &attr) || dwarf_attr(call, DW_AT_low_pc, &attr)) ||
	    dwarf_formaddr(&attr, &pc))
		return;
	add_site(s, scope, pc);
}

static bool is_instance_of(Dwarf_Die *die, const char *func)
{
	Dwarf_Die d = *die;
	const char *name = die_name(&d);

	return name && !strcmp(name, func);
}

static bool may_contain_code(int tag)
{
	return tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit ||
	       tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_lexical_block;
}

/* scope: the innermost function instance (subprogram or inlined copy)
 * around die's children, or NULL. */
static void walk(struct search *s, Dwarf_Die *die, Dwarf_Die *scope, int depth)
{
	Dwarf_Die child;

	if (depth > MAX_DIE_DEPTH || dwarf_child(die, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		Dwarf_Addr pc;

		if (s->callees && (tag == DW_TAG_call_site || tag == DW_TAG_GNU_call_site)) {
			if (scope && is_instance_of(scope, s->func))
				consider_call(s, &child, scope);
			continue;
		}
		if (!s->callees && tag == DW_TAG_inlined_subroutine && is_instance_of(&child, s->func) &&
		    !dwarf_entrypc(&child, &pc))
			add_site(s, &child, pc);
		if (!may_contain_code(tag))
			continue;
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			Dwarf_Die inner = child;

			walk(s, &child, &inner, depth + 1);
		} else {
			walk(s, &child, scope, depth + 1);
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static int search_file(const char *debug_path, struct search *s)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw;
	int fd;

	fd = open(debug_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		close(fd);
		return -LS_EBADDATA;
	}
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;

		if (dwarf_offdie(dw, off + hsize, &cu))
			walk(s, &cu, NULL, 0);
		off = next;
	}
	dwarf_end(dw);
	close(fd);
	return s->n ? 0 : -LS_ENOSYMBOL;
}

int dwarf_inline_sites(const char *debug_path, const char *func, struct dwarf_site *out,
		       size_t max, size_t *n)
{
	struct search s = { func, NULL, out, max, 0 };
	int err = search_file(debug_path, &s);

	*n = s.n;
	return err;
}

int dwarf_call_sites(const char *debug_path, const char *func, const char *const *callees,
		     struct dwarf_site *out, size_t max, size_t *n)
{
	struct search s = { func, callees, out, max, 0 };
	int err = search_file(debug_path, &s);

	*n = s.n;
	return err;
}
