/* SPDX-License-Identifier: GPL-2.0-only */
#include "containers.h"
#include "errors.h"
#include "modules.h"

int py_main_interp(struct py_proc *p, uint64_t *interp)
{
	int err = remote_read_ptr(&p->mem, p->runtime + (uint64_t)p->L.rt_interpreters_head, interp);

	if (!err && !*interp)
		err = -LS_EBADDATA;
	return err;
}

int py_module_object(struct py_proc *p, const char *name, uint64_t *module)
{
	uint64_t interp, modules;
	int err;

	err = py_main_interp(p, &interp);
	if (!err)
		err = remote_read_ptr(&p->mem, interp + (uint64_t)p->L.is_modules, &modules);
	return err ? err : py_dict_get_str(p, modules, name, module);
}

int py_module_dict(struct py_proc *p, const char *name, uint64_t *dict)
{
	uint64_t module;
	int err = py_module_object(p, name, &module);

	if (!err)
		err = remote_read_ptr(&p->mem, module + (uint64_t)p->L.mod_dict, dict);
	if (!err && !*dict)
		err = -LS_ENOTFOUND;
	return err;
}

int py_module_attr(struct py_proc *p, const char *module, const char *name, uint64_t *value)
{
	uint64_t dict;
	int err = py_module_dict(p, module, &dict);

	return err ? err : py_dict_get_str(p, dict, name, value);
}

int py_sys_attr(struct py_proc *p, const char *name, uint64_t *value)
{
	uint64_t interp, sysdict;
	int err;

	err = py_main_interp(p, &interp);
	if (!err)
		err = remote_read_ptr(&p->mem, interp + (uint64_t)p->L.is_sysdict, &sysdict);
	return err ? err : py_dict_get_str(p, sysdict, name, value);
}
