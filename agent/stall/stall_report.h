/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers that fill a stall_report from the kernel side's counters
 * (bpf/stall.h) and read the busy-span histogram. */
#ifndef LOOPSCOPE_STALL_REPORT_H
#define LOOPSCOPE_STALL_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "stall.h"
#include "stall_monitor.h"

/* Adds ns (and count calls) of syscall nr (-1: the "other" bucket); the
 * call in progress adds its time to its finished calls, not a count. */
void stall_report_add_syscall(struct stall_report *r, int nr, uint64_t count, uint64_t ns,
			      bool in_progress);
/* Adds a span's syscall table. */
void stall_report_add_counts(struct stall_report *r, const struct ls_sc_stat *sc,
			     uint32_t nsc, uint64_t other_count, uint64_t other_ns);
/* Longest first. */
void stall_report_sort(struct stall_report *r);
/* Counts a busy span of ns (one the heartbeat cut, in user space). */
void ls_totals_count(struct ls_totals *t, uint64_t ns);
/* Adds src's spans and time to dst. */
void ls_totals_merge(struct ls_totals *dst, const struct ls_totals *src);
/* Takes out of t the spans in voided (counted, then found to be no
 * iteration); the longest span left is at most longest_ns (the kernel's
 * maximum may have been a voided one). */
void ls_totals_void(struct ls_totals *t, const struct ls_totals *voided, uint64_t longest_ns);
/* The busy time under which a fraction p of the spans fall, in ms: to the
 * resolution of a log2 bucket (interpolated inside it, linearly), never
 * below the shortest span seen nor above the longest. */
double ls_hist_percentile_ms(const struct ls_totals *t, double p);

#endif
