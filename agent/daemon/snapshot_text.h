/* SPDX-License-Identifier: GPL-2.0-only */
/* The ps and pstree documents of a snapshot (the JSON of `loopscope ps
 * --json` and `pstree --json`), serialized one task at a time: the JSON
 * tree of 100,000 tasks weighs hundreds of MB, one task's a few hundred
 * bytes. */
#ifndef LOOPSCOPE_SNAPSHOT_TEXT_H
#define LOOPSCOPE_SNAPSHOT_TEXT_H

#include <stddef.h>
#include "aio.h"
#include "pyproc.h"

/* malloc'd, *len bytes (no newline); NULL when out of memory. */
char *ps_text(const struct py_proc *p, const struct aio_snapshot *snap, size_t *len);
char *pstree_text(const struct py_proc *p, const struct aio_snapshot *snap, size_t *len);

#endif
