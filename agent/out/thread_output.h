/* SPDX-License-Identifier: GPL-2.0-only */
/* Thread dumps as the JSON contract of `dump` (and the agent's dump). */
#ifndef LOOPSCOPE_THREAD_OUTPUT_H
#define LOOPSCOPE_THREAD_OUTPUT_H

#include <jansson.h>
#include "pyproc.h"
#include "thread_view.h"

/* {"pid","python","threads":[{"tid","name","os_name","gil","task","stack"}],
 *  "other_threads":[{"tid","name"}]} */
json_t *dump_json(const struct py_proc *p, const struct thread_view *v, size_t n);

#endif
