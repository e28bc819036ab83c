/* SPDX-License-Identifier: GPL-2.0-only */
/* Everything `dump` shows about one Python thread, read in one pass. */
#ifndef LOOPSCOPE_THREAD_VIEW_H
#define LOOPSCOPE_THREAD_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "pyproc.h"
#include "pystack.h"

struct thread_view {
	pid_t tid;
	uint64_t tstate;
	uint64_t pthread_id;
	char name[64];      /* threading's name when readable, else the OS name */
	char os_name[32];
	bool gil;
	bool has_task;
	struct py_task_ref task;
	struct py_stack stack;
};

int thread_views_read(struct py_proc *p, size_t max_depth, struct thread_view **out, size_t *n);
/* The process's OS threads that have no Python thread state (a C
 * library's pool, uvloop's resolver threads), in an array to free(); the
 * count. */
size_t thread_views_others(pid_t pid, const struct thread_view *v, size_t n, pid_t **out);
void thread_views_free(struct thread_view *v, size_t n);

#endif
