#ifndef LOOPSCOPE_DWARF_INLINE_H
#define LOOPSCOPE_DWARF_INLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct inline_site {
	uint64_t pc;        /* where the inlined copy starts (a vaddr of the binary) */
	bool usable;        /* the first parameter's location is one we can read */
	int dwarf_reg;      /* DWARF register number */
	bool deref;         /* the value is in memory at reg + offset */
	int64_t offset;
};

/* Every inlined copy of func in the DWARF of debug_path. */
int dwarf_inline_sites(const char *debug_path, const char *func, struct inline_site *out,
		       size_t max, size_t *n);

#endif
