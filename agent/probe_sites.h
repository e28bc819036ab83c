#ifndef LOOPSCOPE_PROBE_SITES_H
#define LOOPSCOPE_PROBE_SITES_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>
#include "lostwork.h"
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
/* The C finalizers of _asyncio.Task and _asyncio.Future; -LS_ENOTFOUND
 * until asyncio is imported. */
int probe_sites_finalizers(struct py_proc *p, struct probe_site *task, struct probe_site *future,
			   uint64_t *task_type);

#endif
