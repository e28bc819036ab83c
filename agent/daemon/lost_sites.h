/* SPDX-License-Identifier: GPL-2.0-only */
/* Lost-work events to subscribers, per call site: a site that makes
 * thousands of never-awaited coroutines a second must not flood them (nor
 * the history). Per (kind, coroutine, site) the first event goes out at
 * once; after it, at most one a second: the last occurrence with
 * "repeat": N, the occurrences since the one sent before, also once the
 * site has gone quiet. Pure code, no I/O: the caller publishes. */
#ifndef LOOPSCOPE_LOST_SITES_H
#define LOOPSCOPE_LOST_SITES_H

#include <jansson.h>
#include "lost_report.h"

#define LOST_SITES_INTERVAL 1.0   /* seconds between two events of a site */

struct lost_sites;

struct lost_sites *lost_sites_new(void);
void lost_sites_free(struct lost_sites *s);
/* r happened, ev (stolen) its event; now: monotonic seconds. Returns the
 * event to send now (owned by the caller), or NULL when it is held for the
 * site's next aggregated event. */
json_t *lost_sites_event(struct lost_sites *s, const struct lost_report *r, json_t *ev, double now);
/* Appends to out the aggregated events due at now (INFINITY: all held). */
void lost_sites_flush(struct lost_sites *s, double now, json_t *out);
/* Milliseconds until one is due, 0 now, -1 none. */
int lost_sites_next_ms(const struct lost_sites *s, double now);

#endif
