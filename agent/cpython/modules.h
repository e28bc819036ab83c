/* SPDX-License-Identifier: GPL-2.0-only */
/* Reaching Python-level state from outside: the main interpreter, sys,
 * and the globals of imported modules. */
#ifndef LOOPSCOPE_MODULES_H
#define LOOPSCOPE_MODULES_H

#include "pyproc.h"

int py_main_interp(struct py_proc *p, uint64_t *interp);
/* sys.modules[name]; -LS_ENOTFOUND when not imported. */
int py_module_object(struct py_proc *p, const char *name, uint64_t *module);
/* sys.modules[name].__dict__; -LS_ENOTFOUND when not imported. */
int py_module_dict(struct py_proc *p, const char *name, uint64_t *dict);
/* A global of an imported module: sys.modules[module].name */
int py_module_attr(struct py_proc *p, const char *module, const char *name, uint64_t *value);
/* sys.<name> */
int py_sys_attr(struct py_proc *p, const char *name, uint64_t *value);

#endif
