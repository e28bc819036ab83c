/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's memory of what happened: events (stalls, lost work, tasks
 * that ended, lints...) as the lines subscribers got, oldest first,
 * bounded by age and by bytes. Pure code, no I/O. */
#ifndef LOOPSCOPE_HISTORY_H
#define LOOPSCOPE_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "owners.h"
#include "proto.h"

struct history;

/* retain_s: entries older than this go; max_bytes: the oldest go first
 * while the lines held weigh more. NULL when out of memory. */
struct history *history_new(double retain_s, size_t max_bytes);
void history_free(struct history *h);
/* Keeps a copy of line (one NDJSON event, '\n' at its end); owner: the
 * target's uid then (OWNER_EVERYONE: any client may read it); ts: Unix
 * seconds, the time pruning compares with `now`. 0 or -ENOMEM. */
int history_add(struct history *h, const char *kind, pid_t pid, uid_t owner, double ts,
		const char *line, size_t len);
/* Drops what is older than now - retain. */
void history_prune(struct history *h, double now);
/* {"events":[...],"total":N,"more":B}: the last `limit` entries matching f
 * with ts >= since that a client of uid viewer sees (access_sees), oldest
 * first; a malloc'd string (*len), NULL on ENOMEM. */
char *history_query(const struct history *h, const struct proto_filter *f, uid_t viewer,
		    double since, size_t limit, size_t *len);
size_t history_count(const struct history *h);
size_t history_bytes(const struct history *h);
/* Entries dropped for the byte cap (not for age) so far. */
uint64_t history_evicted(const struct history *h);

#endif
