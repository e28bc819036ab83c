/* SPDX-License-Identifier: GPL-2.0-only */
/* Probe sites found in DWARF (see dwarf_sites.c). */
#ifndef LOOPSCOPE_DWARF_SITES_H
#define LOOPSCOPE_DWARF_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dwarf_site {
	uint64_t pc;        /* a vaddr of the binary */
	bool usable;        /* the first parameter's location is one we can read */
	int dwarf_reg;      /* DWARF register number */
	bool deref;         /* the value is in memory at reg + offset (a
			       frame-base slot: the CFA's register) */
	int64_t offset;
};

/* binary: the file the code is in (its .eh_frame gives frame bases when
 * the debug file has no .debug_frame), or NULL. */
/* Every inlined copy of func, at its entry. */
int dwarf_inline_sites(const char *debug_path, const char *binary, const char *func,
		       struct dwarf_site *out, size_t max, size_t *n);
/* Where calls from func (out-of-line or inlined) to any of callees (a
 * NULL-terminated list) return. */
int dwarf_call_sites(const char *debug_path, const char *binary, const char *func,
		     const char *const *callees, struct dwarf_site *out, size_t max, size_t *n);

#endif
