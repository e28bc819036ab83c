/* SPDX-License-Identifier: GPL-2.0-only */
/* Opening a target for the Python commands, with one clear line on error. */
#ifndef LOOPSCOPE_ATTACH_H
#define LOOPSCOPE_ATTACH_H

#include <sys/types.h>
#include "aio.h"
#include "pyproc.h"

/* 0, or prints why and returns EXIT_FAIL. */
int attach_python(pid_t pid, struct py_proc **out);
/* Reads every task; 0, or prints why (no loop, exited) and returns EXIT_FAIL. */
int attach_tasks(struct py_proc *p, struct aio_snapshot *snap);
/* Both: a process and its tasks, or prints why and returns EXIT_FAIL. */
int attach_snapshot(pid_t pid, struct py_proc **p, struct aio_snapshot *snap);

#endif
