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
uint64_t lost_output_total(const struct lost_output *o, int kind);
/* One line per call site with its count, for the text summary. */
void lost_output_sites_print(const struct lost_output *o, FILE *f);
void lost_output_free(struct lost_output *o);

#endif
