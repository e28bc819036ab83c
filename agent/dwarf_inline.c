/* Inlined copies of a function, from DWARF (libdw): where each copy starts
 * and where its first parameter lives there, the way `perf probe` places
 * probes on inlined code. Debian's LTO-built python3.11 inlines the
 * never-awaited warning; python3.11-dbg's DWARF says where. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "dwarf_inline.h"
#include "errors.h"

#define MAX_DIE_DEPTH 64

struct search {
	const char *func;
	struct inline_site *out;
	size_t max, n;
};

static bool is_inline_of(Dwarf_Die *die, const char *func)
{
	Dwarf_Attribute attr;
	Dwarf_Die origin;
	const char *name;

	if (!dwarf_attr(die, DW_AT_abstract_origin, &attr) || !dwarf_formref_die(&attr, &origin))
		return false;
	name = dwarf_diename(&origin);
	return name && !strcmp(name, func);
}

/* A location we can read from a uprobe: a register, or memory at
 * register + offset. */
static void read_location(Dwarf_Die *param, struct inline_site *site)
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

static void record(struct search *s, Dwarf_Die *die)
{
	struct inline_site *site;
	Dwarf_Addr pc;
	Dwarf_Die child;

	if (s->n >= s->max || dwarf_entrypc(die, &pc))
		return;
	site = &s->out[s->n++];
	memset(site, 0, sizeof(*site));
	site->pc = pc;
	if (dwarf_child(die, &child) != 0)
		return;
	do {
		if (dwarf_tag(&child) == DW_TAG_formal_parameter) {
			read_location(&child, site);
			return;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* Only code-bearing DIEs can contain inlined copies: skip types. */
static bool may_contain_code(int tag)
{
	return tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit ||
	       tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_lexical_block;
}

static void walk(struct search *s, Dwarf_Die *die, int depth)
{
	Dwarf_Die child;

	if (depth > MAX_DIE_DEPTH || dwarf_child(die, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);

		if (tag == DW_TAG_inlined_subroutine && is_inline_of(&child, s->func))
			record(s, &child);
		if (may_contain_code(tag))
			walk(s, &child, depth + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
}

int dwarf_inline_sites(const char *debug_path, const char *func, struct inline_site *out,
		       size_t max, size_t *n)
{
	struct search s = { func, out, max, 0 };
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw;
	int fd;

	*n = 0;
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
			walk(&s, &cu, 0);
		off = next;
	}
	dwarf_end(dw);
	close(fd);
	*n = s.n;
	return s.n ? 0 : -LS_ENOSYMBOL;
}
