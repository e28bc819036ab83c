/* SPDX-License-Identifier: GPL-2.0-only */
/* CPython 3.13+ publishes its own structure offsets at the start of
 * _PyRuntime (_Py_DebugOffsets), 3.14+ those of asyncio in _asyncio's
 * AsyncioDebug section: the data `python -m asyncio ps` and debuggers use.
 * We read them and let them override the generated tables, so a micro
 * release that moved a field still reads right. */
#ifndef LOOPSCOPE_DEBUG_OFFSETS_H
#define LOOPSCOPE_DEBUG_OFFSETS_H

#include <stddef.h>

struct py_proc;

/* 0 when the cookie and version matched and the offsets were applied;
 * -LS_EBADDATA (a mismatch, an offset past its struct) or -LS_EUNSUPPORTED
 * (a free-threaded build) with why written. */
int debug_offsets_apply(struct py_proc *p, char *why, size_t whylen);
/* 3.14+: AsyncioDebug from the executable or the _asyncio module mapped
 * in the target: 0 when applied (or before 3.14), -LS_ENOTFOUND when
 * _asyncio is not loaded (yet), -LS_EBADDATA when not believable. */
int debug_offsets_asyncio(struct py_proc *p);

#endif
