/* SPDX-License-Identifier: GPL-2.0-only */
/* Probe sites from DWARF (libdw), the way `perf probe` finds them:
 *  - the inlined copies of a function, and where its first parameter
 *    lives at each copy's entry (Debian's LTO python3.11 inlines the
 *    never-awaited warning);
 *  - the calls a function makes to a given callee, and where the
 *    function's first parameter lives when that call returns: a probe
 *    there fires only on the code path that makes the call (the "exception
 *    never retrieved" branch of a finalizer, not every finalization).
 * A location may be a stack slot relative to the frame base (DW_OP_fbreg:
 * 3.14's TaskObj_finalize keeps the task there in its reporting branch);
 * gcc's frame base is the CFA (DW_OP_call_frame_cfa), which the call
 * frame information turns into a register plus an offset at the probe's
 * pc, so the BPF program reads the slot from the uprobe's registers. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
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

struct search {
	const char *func;              /* the function whose sites we want */
	const char *const *callees;    /* NULL: inlined copies of func */
	struct dwarf_site *out;
	size_t max, n;
	/* call frame information: the debug file's .debug_frame, the
	 * binary's .eh_frame (Debian's debug files keep it as NOBITS) */
	Dwarf_CFI *debug_frame, *eh_frame;
};

/* DW_OP_bregN / DW_OP_bregx: a register plus an offset. */
static bool reg_plus_offset(const Dwarf_Op *op, int *reg, int64_t *off)
{
	if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg31) {
		*reg = op->atom - DW_OP_breg0;
		*off = (int64_t)op->number;
		return true;
	}
	if (op->atom == DW_OP_bregx) { /* libdw's form of a CFA rule */
		*reg = (int)op->number;
		*off = (int64_t)op->number2;
		return true;
	}
	return false;
}

/* The canonical frame address at pc, as a register plus an offset. */
static bool cfa_at(const struct search *s, Dwarf_Addr pc, int *reg, int64_t *off)
{
	Dwarf_CFI *cfis[2] = { s->debug_frame, s->eh_frame };

	for (int i = 0; i < 2; i++) {
		Dwarf_Frame *frame;
		Dwarf_Op *ops;
		size_t nops;
		bool ok = false;

		if (!cfis[i] || dwarf_cfi_addrframe(cfis[i], pc, &frame))
			continue;
		if (!dwarf_frame_cfa(frame, &ops, &nops) && nops == 1)
			ok = reg_plus_offset(&ops[0], reg, off);
		free(frame);
		if (ok)
			return true;
	}
	return false;
}

/* The frame base of the subprogram around pc (inlined code uses its
 * caller's), as a register plus an offset. */
static bool frame_base_at(const struct search *s, Dwarf_Die *die, Dwarf_Addr pc, int *reg,
			  int64_t *off)
{
	Dwarf_Attribute attr;
	Dwarf_Die cu, *scopes = NULL;
	Dwarf_Op *ops = NULL;
	size_t nops = 0;
	int n;

	if (!dwarf_diecu(die, &cu, NULL, NULL) || (n = dwarf_getscopes(&cu, pc, &scopes)) <= 0)
		return false;
	for (int i = 0; i < n; i++) {
		if (dwarf_tag(&scopes[i]) != DW_TAG_subprogram ||
		    !dwarf_attr(&scopes[i], DW_AT_frame_base, &attr))
			continue;
		if (dwarf_getlocation_addr(&attr, pc, &ops, &nops, 1) != 1)
			nops = 0;
		break;
	}
	free(scopes);
	if (nops != 1)
		return false;
	if (ops[0].atom == DW_OP_call_frame_cfa)
		return cfa_at(s, pc, reg, off);
	if (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) {
		*reg = ops[0].atom - DW_OP_reg0;
		*off = 0;
		return true;
	}
	return reg_plus_offset(&ops[0], reg, off);
}

/* A location a uprobe can read: a register, or memory at register+offset
 * (a frame-base slot becomes one: memory at CFA register + offset). */
static void read_location(const struct search *s, Dwarf_Die *param, struct dwarf_site *site)
{
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t nops;
	int64_t off;
	int reg;

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
	} else if (reg_plus_offset(&ops[0], &reg, &off) ||
		   (ops[0].atom == DW_OP_fbreg && frame_base_at(s, param, site->pc, &reg, &off))) {
		if (ops[0].atom == DW_OP_fbreg)
			off += (int64_t)ops[0].number;
		site->dwarf_reg = reg;
		site->deref = true;
		site->offset = off;
		site->usable = off >= INT32_MIN && off <= INT32_MAX; /* the cookie's width */
	}
}

/* The first formal parameter of a function instance, at pc. */
static void first_param_at(const struct search *s, Dwarf_Die *fn, struct dwarf_site *site)
{
	Dwarf_Die child;

	if (dwarf_child(fn, &child) != 0)
		return;
	do {
		if (dwarf_tag(&child) == DW_TAG_formal_parameter) {
			read_location(s, &child, site);
			return;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static void add_site(struct search *s, Dwarf_Die *fn, Dwarf_Addr pc)
{
	struct dwarf_site *site;

	if (s->n >= s->max)
		return;
	site = &s->out[s->n++];
	memset(site, 0, sizeof(*site));
	site->pc = pc;
	first_param_at(s, fn, site);
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

/* The binary's .eh_frame, for the frame bases of sites in it. */
static Elf *open_eh_frame(const char *path, struct search *s, int *fd)
{
	Elf *elf;

	*fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (*fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (elf)
		s->eh_frame = dwarf_getcfi_elf(elf);
	return elf;
}

static void walk_units(Dwarf *dw, struct search *s)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;

		if (dwarf_offdie(dw, off + hsize, &cu))
			walk(s, &cu, NULL, 0);
		off = next;
	}
}

static int search_file(const char *debug_path, const char *binary, struct search *s)
{
	int fd, elf_fd;
	Dwarf *dw;
	Elf *elf;

	fd = open(debug_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		close(fd);
		return -LS_EBADDATA;
	}
	s->debug_frame = dwarf_getcfi(dw);
	elf = open_eh_frame(binary, s, &elf_fd);
	walk_units(dw, s);
	if (s->eh_frame)
		dwarf_cfi_end(s->eh_frame);
	if (elf)
		elf_end(elf);
	if (elf_fd >= 0)
		close(elf_fd);
	dwarf_end(dw);
	close(fd);
	return s->n ? 0 : -LS_ENOSYMBOL;
}

int dwarf_inline_sites(const char *debug_path, const char *binary, const char *func,
		       struct dwarf_site *out, size_t max, size_t *n)
{
	struct search s = { .func = func, .out = out, .max = max };
	int err = search_file(debug_path, binary, &s);

	*n = s.n;
	return err;
}

int dwarf_call_sites(const char *debug_path, const char *binary, const char *func,
		     const char *const *callees, struct dwarf_site *out, size_t max, size_t *n)
{
	struct search s = { .func = func, .callees = callees, .out = out, .max = max };
	int err = search_file(debug_path, binary, &s);

	*n = s.n;
	return err;
}
