/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef LOOPSCOPE_PROBE_SITES_H
#define LOOPSCOPE_PROBE_SITES_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>
#include "lost.h"
#include "pyproc.h"

/* One uprobe: a file (as we open it), an offset in it, and the BPF cookie
 * telling the program where its argument is. */
struct probe_site {
	char path[320];
	uint64_t offset;
	uint64_t cookie;
};

/* Where the never-awaited warning runs; on failure, why says what would
 * enable it (one line). */
int probe_sites_never_awaited(struct py_proc *p, struct probe_site *out, size_t max, size_t *n,
			      char *why, size_t whylen);
/* The Task and Future finalizers' probes. With debug info they sit inside
 * the two reporting branches (nothing fires for a healthy task); without,
 * at the finalizers' entries (every finished task traps once). */
struct finalizer_probes {
	uint64_t task_type;
	bool in_branches;
	struct probe_site exception_branch;  /* FutureObj_finalize's report */
	struct probe_site pending_branch;    /* TaskObj_finalize's report */
	struct probe_site task_entry, future_entry;
	char why[512];                       /* why the entries are used */
};

/* -LS_ENOTFOUND until asyncio is imported. */
int probe_sites_finalizers(struct py_proc *p, struct finalizer_probes *out);

#endif
