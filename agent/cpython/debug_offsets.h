/* SPDX-License-Identifier: GPL-2.0-only */
/* CPython 3.13+ publishes its own structure offsets at the start of
 * _PyRuntime (_Py_DebugOffsets, the data `python -m asyncio ps` and
 * debuggers use). We read them and let them override the generated table,
 * so a micro release that moved a field still reads right. */
#ifndef LOOPSCOPE_DEBUG_OFFSETS_H
#define LOOPSCOPE_DEBUG_OFFSETS_H

struct py_proc;

/* 0 when the cookie and version matched and the offsets were applied. */
int debug_offsets_apply(struct py_proc *p);

#endif
