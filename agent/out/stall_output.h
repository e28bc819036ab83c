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

/* How `stalls` and `watch` show each report: NDJSON, every one; text, a
 * finished stall as a block (its line, task, stack), a stall under way once
 * it has lasted a second (or the threshold, if longer) as a block, then one
 * line each time it is reported again (about once a second). */
struct stall_printer {
	bool json;
	double threshold_ms;
	uint64_t shown_id;    /* the stall under way whose block was printed */
};
void stall_report_emit(struct stall_printer *p, FILE *f, const struct stall_report *r);
void stall_summary_print(FILE *f, const struct stall_summary *s, const struct stall_run *run);
/* The target exec'd, at Unix time ts: the event (JSON), one line (text). */
json_t *stall_exec_json(pid_t pid, const struct stall_exec *e, double ts);
void stall_exec_emit(const struct stall_printer *p, FILE *f, pid_t pid, const struct stall_exec *e,
		     double ts);
/* The summary's line on loop threads that could not be tracked, if any. */
void stall_untracked_print(FILE *f, const struct stall_summary *s);

#endif
