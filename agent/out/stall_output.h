/* SPDX-License-Identifier: GPL-2.0-only */
/* Stall reports and summaries, as the NDJSON contract and as text. */
#ifndef LOOPSCOPE_STALL_OUTPUT_H
#define LOOPSCOPE_STALL_OUTPUT_H

#include <stdio.h>
#include <jansson.h>
#include "stall_monitor.h"

struct stall_run {
	pid_t pid;
	double duration_s;
	bool target_exited;
};

json_t *stall_report_json(const struct stall_report *r);
json_t *stall_summary_json(const struct stall_summary *s, const struct stall_run *run);
void stall_report_print(FILE *f, const struct stall_report *r);
void stall_summary_print(FILE *f, const struct stall_summary *s, const struct stall_run *run);
/* The summary's line on loop threads that could not be tracked, if any. */
void stall_untracked_print(FILE *f, const struct stall_summary *s);

#endif
