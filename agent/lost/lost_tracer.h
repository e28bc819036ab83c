/* SPDX-License-Identifier: GPL-2.0-only */
/* The lost-work probes of one CPython process (bpf/lost.bpf.c). */
#ifndef LOOPSCOPE_LOSTWORK_TRACER_H
#define LOOPSCOPE_LOSTWORK_TRACER_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include "lost.h"
#include "pyproc.h"

struct lost_tracer;

typedef void (*lost_event_fn)(const struct lost_event *e, void *ctx);

/* Loads the probes and attaches what can be attached now; warn gets one
 * line about a detector this build cannot have (and what would enable it).
 * p must outlive the tracer. */
int lost_tracer_new(struct py_proc *p, lost_event_fn cb, void *ctx,
			struct lost_tracer **out, char *warn, size_t warnlen);
/* Attaches the Task/Future finalizer probes once asyncio is imported:
 * 0 when attached (now or before), -LS_ENOTFOUND while it is not. */
int lost_tracer_attach_asyncio(struct lost_tracer *t);
bool lost_tracer_has_asyncio(const struct lost_tracer *t);
bool lost_tracer_has_never_awaited(const struct lost_tracer *t);
/* Set when the finalizer probes had to go on the finalizers' entries. */
const char *lost_tracer_asyncio_note(const struct lost_tracer *t);
/* Set when the file holding the finalizers cannot be opened (a container
 * root whose files vanished): one line naming it. */
const char *lost_tracer_asyncio_error(const struct lost_tracer *t);
/* Set when asyncio's Task or Future is the pure-Python class, whose lost
 * work the probes cannot see. */
const char *lost_tracer_pure_python_note(const struct lost_tracer *t);
/* The tracer never blocks. Wait until its fd is readable (the probes
 * reported events; an epoll fd) or lost_tracer_next_ms has passed,
 * whichever is first (poll(2), or a libuv poll handle and timer), then
 * call lost_tracer_process. */
int lost_tracer_fd(const struct lost_tracer *t);
/* Delivers the events reported, and tries again to attach the task probes
 * when that is due (once a second until asyncio is imported): 0 or -errno. */
int lost_tracer_process(struct lost_tracer *t);
/* Milliseconds until that attempt, 0 when due, -1 when none is pending. */
int lost_tracer_next_ms(const struct lost_tracer *t);
uint64_t lost_tracer_dropped(const struct lost_tracer *t);
void lost_tracer_free(struct lost_tracer *t);

#endif
