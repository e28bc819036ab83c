/* SPDX-License-Identifier: GPL-2.0-only */
/* Containers of a live interpreter: dict, set, list, tuple, weakref, and
 * attributes of instances. Keys are compared as strings. */
#ifndef LOOPSCOPE_CONTAINERS_H
#define LOOPSCOPE_CONTAINERS_H

#include "pyproc.h"

/* No container is believed larger than this many entries. */
#define PY_MAX_CONTAINER (1 << 22)

/* Visitors return 0 to go on, nonzero to stop (that value is returned). */
typedef int (*py_dict_visit_fn)(struct py_proc *p, uint64_t key, uint64_t value, void *ctx);
typedef int (*py_set_visit_fn)(struct py_proc *p, uint64_t key, void *ctx);

int py_dict_items(struct py_proc *p, uint64_t dict, py_dict_visit_fn fn, void *ctx);
/* dict[key] for a str key; -LS_ENOTFOUND when absent. */
int py_dict_get_str(struct py_proc *p, uint64_t dict, const char *key, uint64_t *value);
int py_set_items(struct py_proc *p, uint64_t set, py_set_visit_fn fn, void *ctx);
/* The items of a list or tuple; free() *items. */
int py_seq_items(struct py_proc *p, uint64_t obj, uint64_t **items, size_t *n);
/* The referent of a weakref, 0 when dead. */
int py_weakref_get(struct py_proc *p, uint64_t ref, uint64_t *obj);
/* obj.name from the instance's own dict or values (not the class). */
int py_getattr_str(struct py_proc *p, uint64_t obj, const char *name, uint64_t *value);

#endif
