/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef LOOPSCOPE_LOST_OUTPUT_H
#define LOOPSCOPE_LOST_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include "lost_report.h"

struct lost_output;

/* One lost-work event as its NDJSON object ("event": its kind). */
json_t *lost_report_json(const struct lost_report *r);

struct lost_output *lost_output_new(bool json);
/* Prints r (or counts it against its call site); now: monotonic seconds. */
void lost_output_event(struct lost_output *o, FILE *f, struct lost_report *r, double now);
/* Text: says the count of each site that fired again since it was last
 * said, at most every 5 s, also once it has stopped firing (call when
 * lost_output_next_ms says so). */
void lost_output_tick(struct lost_output *o, FILE *f, double now);
/* Milliseconds until a count is due, 0 now, -1 none (now: monotonic s). */
int lost_output_next_ms(const struct lost_output *o, double now);
uint64_t lost_output_total(const struct lost_output *o, int kind);
/* One line per call site with its count, for the text summary. */
void lost_output_sites_print(const struct lost_output *o, FILE *f);
void lost_output_free(struct lost_output *o);

#endif
