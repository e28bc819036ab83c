/* SPDX-License-Identifier: GPL-2.0-only */
/* Building stall reports from the kernel's per-span counters. */
#include <stdlib.h>
#include "stall_report.h"

static int cmp_syscall_ms(const void *a, const void *b)
{
	const struct stall_syscall *x = a, *y = b;

	return (x->ms < y->ms) - (x->ms > y->ms);
}

void stall_report_add_syscall(struct stall_report *r, int nr, uint64_t count, uint64_t ns,
			      bool in_progress)
{
	for (size_t i = 0; nr >= 0 && i < r->nsyscalls; i++) {
		struct stall_syscall *sc = &r->syscalls[i];

		if (sc->nr != nr)
			continue;
		sc->count += in_progress ? 0 : count; /* the call in progress is already counted */
		sc->ms += ns / 1e6;
		sc->in_progress |= in_progress;
		return;
	}
	if (r->nsyscalls >= STALL_MAX_SYSCALLS || !count)
		return;
	r->syscalls[r->nsyscalls++] = (struct stall_syscall){
		.nr = nr, .count = count, .ms = ns / 1e6, .in_progress = in_progress,
	};
}

void stall_report_add_counts(struct stall_report *r, const struct ls_sc_stat *sc,
			     uint32_t nsc, uint64_t other_count, uint64_t other_ns)
{
	if (nsc > LS_MAX_SC)
		nsc = LS_MAX_SC;
	for (uint32_t i = 0; i < nsc; i++)
		stall_report_add_syscall(r, (int)sc[i].nr, sc[i].count, sc[i].ns, false);
	stall_report_add_syscall(r, -1, other_count, other_ns, false);
}

void stall_report_sort(struct stall_report *r)
{
	qsort(r->syscalls, r->nsyscalls, sizeof(r->syscalls[0]), cmp_syscall_ms);
}

void ls_totals_count(struct ls_totals *t, uint64_t ns)
{
	t->busy_ns += ns;
	t->spans++;
	t->hist[ls_hist_bucket(ns)]++;
	ls_totals_count_bounds(t, ns);
}

void ls_totals_merge(struct ls_totals *dst, const struct ls_totals *src)
{
	dst->busy_ns += src->busy_ns;
	dst->idle_ns += src->idle_ns;
	dst->spans += src->spans;
	dst->dropped += src->dropped;
	for (int b = 0; b < LS_HIST_SLOTS; b++)
		dst->hist[b] += src->hist[b];
	if (src->min_ns && (!dst->min_ns || src->min_ns < dst->min_ns))
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

void ls_totals_void(struct ls_totals *t, const struct ls_totals *voided, uint64_t longest_ns)
{
	t->busy_ns -= voided->busy_ns < t->busy_ns ? voided->busy_ns : t->busy_ns;
	t->spans -= voided->spans < t->spans ? voided->spans : t->spans;
	for (int b = 0; b < LS_HIST_SLOTS; b++)
		t->hist[b] -= voided->hist[b] < t->hist[b] ? voided->hist[b] : t->hist[b];
	if (voided->spans && t->max_ns > longest_ns)
		t->max_ns = longest_ns;
}

/* The value under which a fraction p of the spans fall, interpolated
 * inside its log2 bucket, the bucket cut to the shortest and longest span
 * seen: one 3000.5 ms span is 3000.5 ms at every percentile, not the
 * middle of 2097-4194 ms. */
double ls_hist_percentile_ms(const struct ls_totals *t, double p)
{
	uint64_t total = 0, seen = 0;
	double want;

	for (int b = 0; b < LS_HIST_SLOTS; b++)
		total += t->hist[b];
	if (!total)
		return 0;
	want = p * (double)total;
	for (int b = 0; b < LS_HIST_SLOTS; b++) {
		double lo = b ? (double)(1ULL << b) * 1000.0 : 0, hi = (double)(1ULL << (b + 1)) * 1000.0;

		if (!t->hist[b])
			continue;
		if ((double)(seen + t->hist[b]) >= want || b == LS_HIST_SLOTS - 1) {
			double frac = (want - (double)seen) / (double)t->hist[b];

			if (t->min_ns && lo < (double)t->min_ns)
				lo = (double)t->min_ns;
			if (t->max_ns && hi > (double)t->max_ns)
				hi = (double)t->max_ns;
			if (hi < lo)
				hi = lo;
			return (lo + frac * (hi - lo)) / 1e6;
		}
		seen += t->hist[b];
	}
	return (double)t->max_ns / 1e6;
}
