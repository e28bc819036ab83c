/* The lost-work probes of one CPython process (bpf/lostwork.bpf.c). */
#ifndef LOOPSCOPE_LOSTWORK_TRACER_H
#define LOOPSCOPE_LOSTWORK_TRACER_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include "lostwork.h"
#include "pyproc.h"

struct lostwork_tracer;

typedef void (*lostwork_event_fn)(const struct lw_event *e, void *ctx);

/* Loads the probes and attaches what can be attached now; warn gets one
 * line about a detector this build cannot have (and what would enable it).
 * p must outlive the tracer. */
int lostwork_tracer_new(struct py_proc *p, lostwork_event_fn cb, void *ctx,
			struct lostwork_tracer **out, char *warn, size_t warnlen);
/* Attaches the Task/Future finalizer probes once asyncio is imported:
 * 0 when attached (now or before), -LS_ENOTFOUND while it is not. */
int lostwork_tracer_attach_asyncio(struct lostwork_tracer *t);
bool lostwork_tracer_has_asyncio(const struct lostwork_tracer *t);
bool lostwork_tracer_has_never_awaited(const struct lostwork_tracer *t);
/* Set when the finalizer probes had to go on the finalizers' entries. */
const char *lostwork_tracer_asyncio_note(const struct lostwork_tracer *t);
int lostwork_tracer_poll(struct lostwork_tracer *t, int timeout_ms);
uint64_t lostwork_tracer_dropped(const struct lostwork_tracer *t);
void lostwork_tracer_free(struct lostwork_tracer *t);

#endif
