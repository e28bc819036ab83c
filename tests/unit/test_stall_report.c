/* SPDX-License-Identifier: GPL-2.0-only */
/* stall_report.c: merging the kernel's per-span syscall counters and the
 * call in progress into a report, sorting them, and the busy-span
 * percentiles read from the log2 histogram: in the right bucket,
 * interpolated inside it, never outside the shortest and longest span. */
#include <linux/types.h>
#include "stall_report.h"
#include "unit.h"

#define MS 1000000ULL

static const struct stall_syscall *find(const struct stall_report *r, int nr)
{
	for (size_t i = 0; i < r->nsyscalls; i++)
		if (r->syscalls[i].nr == nr)
			return &r->syscalls[i];
	return NULL;
}

static void test_same_syscall_merges(void)
{
	struct stall_report r = { 0 };
	const struct stall_syscall *sc;

	stall_report_add_syscall(&r, 7, 3, 2 * MS, false);
	stall_report_add_syscall(&r, 7, 2, 1 * MS, false);
	stall_report_add_syscall(&r, 0, 1, MS / 2, false);
	CHECK_EQ_INT(r.nsyscalls, 2);
	sc = find(&r, 7);
	CHECK(sc != NULL);
	if (sc) {
		CHECK_EQ_INT(sc->count, 5);
		CHECK_NEAR(sc->ms, 3.0, 1e-9);
		CHECK(!sc->in_progress);
	}
}

/* The call in progress was counted at its entry: it adds time, not a call,
 * unless the span's table had no entry for it. */
static void test_call_in_progress(void)
{
	struct stall_report r = { 0 };
	const struct stall_syscall *sc;

	stall_report_add_syscall(&r, 202, 1, 180 * MS, false);
	stall_report_add_syscall(&r, 202, 1, 20 * MS, true);
	sc = find(&r, 202);
	CHECK(sc && sc->count == 1 && sc->in_progress);
	if (sc)
		CHECK_NEAR(sc->ms, 200.0, 1e-9);
	stall_report_add_syscall(&r, 35, 1, 4 * MS, true);
	sc = find(&r, 35);
	CHECK(sc && sc->count == 1 && sc->in_progress);
	CHECK_EQ_INT(r.nsyscalls, 2);
}

static void test_zero_counts_are_not_listed(void)
{
	struct stall_report r = { 0 };

	stall_report_add_syscall(&r, 9, 0, MS, false);
	stall_report_add_counts(&r, NULL, 0, 0, 0);
	CHECK_EQ_INT(r.nsyscalls, 0);
}

/* A full report keeps merging into what it has and drops new names. */
static void test_full_report(void)
{
	struct stall_report r = { 0 };
	const struct stall_syscall *sc;

	for (int nr = 0; nr < STALL_MAX_SYSCALLS + 4; nr++)
		stall_report_add_syscall(&r, nr, 1, MS, false);
	CHECK_EQ_INT(r.nsyscalls, STALL_MAX_SYSCALLS);
	CHECK(find(&r, STALL_MAX_SYSCALLS) == NULL);
	stall_report_add_syscall(&r, 3, 4, MS, false);
	sc = find(&r, 3);
	CHECK(sc && sc->count == 5);
}

/* A span's table as the kernel sends it, and the "other" bucket after it;
 * a table longer than LS_MAX_SC is not read past its end. */
static void test_add_counts(void)
{
	struct ls_sc_stat sc[LS_MAX_SC];
	struct stall_report r = { 0 };
	const struct stall_syscall *other;

	for (int i = 0; i < LS_MAX_SC; i++)
		sc[i] = (struct ls_sc_stat){ .nr = (__u32)(100 + i), .count = 2, .ns = MS };
	stall_report_add_counts(&r, sc, 1000, 7, 3 * MS);
	CHECK_EQ_INT(r.nsyscalls, LS_MAX_SC + 1);
	CHECK(find(&r, 100) && find(&r, 100 + LS_MAX_SC - 1));
	other = find(&r, -1);
	CHECK(other && other->count == 7);
	if (other)
		CHECK_NEAR(other->ms, 3.0, 1e-9);
}

/* What the monitor does for a stall: the span's table, the syscall the
 * thread is blocked in now, then longest first. */
static void test_report_of_a_stall(void)
{
	struct ls_sc_stat sc[] = {
		{ .nr = 7, .count = 3, .ns = 1 * MS },      /* poll */
		{ .nr = 202, .count = 1, .ns = 180 * MS },  /* futex */
		{ .nr = 1, .count = 9, .ns = 0 },           /* write: on CPU */
	};
	struct stall_report r = { 0 };

	stall_report_add_counts(&r, sc, 3, 2, MS / 2);
	stall_report_add_syscall(&r, 202, 1, 20 * MS, true);
	stall_report_sort(&r);
	CHECK_EQ_INT(r.nsyscalls, 4);
	CHECK_EQ_INT(r.syscalls[0].nr, 202);
	CHECK_NEAR(r.syscalls[0].ms, 200.0, 1e-9);
	CHECK(r.syscalls[0].in_progress);
	CHECK_EQ_INT(r.syscalls[1].nr, 7);
	CHECK_EQ_INT(r.syscalls[2].nr, -1);
	CHECK_EQ_INT(r.syscalls[3].nr, 1);
	for (size_t i = 1; i < r.nsyscalls; i++)
		CHECK(r.syscalls[i - 1].ms >= r.syscalls[i].ms);
}

/* Bucket b holds [2^b, 2^(b+1)) µs (bucket 0 from 0); in ms. */
static double bucket_lo_ms(int b)
{
	return b ? (double)(1ULL << b) / 1000.0 : 0;
}

static double bucket_hi_ms(int b)
{
	return (double)(1ULL << (b + 1)) / 1000.0;
}

static void add_spans(struct ls_totals *t, __u64 ns, int n)
{
	for (int i = 0; i < n; i++)
		ls_totals_count(t, ns);
}

#define CHECK_IN_BUCKET(v, b) do { \
	double v_ = (v); \
	CHECK(v_ >= bucket_lo_ms(b) && v_ <= bucket_hi_ms(b)); \
} while (0)

static void test_percentile_of_nothing(void)
{
	struct ls_totals t = { 0 };

	CHECK_NEAR(ls_hist_percentile_ms(&t, 0.5), 0, 0);
	CHECK_NEAR(ls_hist_percentile_ms(&t, 0.99), 0, 0);
}

/* Spans all of one length: every percentile is that length, whatever the
 * bucket (issue 10: one 3000.5 ms span read "p50 3145.728, p99 4173.332"). */
static void test_percentile_of_equal_spans(void)
{
	static const __u64 spans_ns[] = { 500, 40 * 1000, 150 * MS, 3000 * MS + MS / 2 };

	for (size_t i = 0; i < sizeof(spans_ns) / sizeof(spans_ns[0]); i++) {
		struct ls_totals t = { 0 };
		int b = (int)ls_hist_bucket(spans_ns[i]);

		add_spans(&t, spans_ns[i], i ? 10 : 1);
		CHECK_IN_BUCKET(ls_hist_percentile_ms(&t, 0.0), b);
		CHECK_NEAR(ls_hist_percentile_ms(&t, 0.0), spans_ns[i] / 1e6, 1e-9);
		CHECK_NEAR(ls_hist_percentile_ms(&t, 0.5), spans_ns[i] / 1e6, 1e-9);
		CHECK_NEAR(ls_hist_percentile_ms(&t, 0.99), spans_ns[i] / 1e6, 1e-9);
	}
}

/* A percentile in the top bucket never passes the longest span (issue 10:
 * worst 150.7 ms, p99 259.086 ms), nor one in the lowest the shortest. */
static void test_percentile_within_min_and_max(void)
{
	struct ls_totals t = { 0 };

	add_spans(&t, 3 * MS, 90);
	add_spans(&t, 140 * MS, 9);
	add_spans(&t, 150 * MS + 700 * 1000, 1);
	CHECK(ls_hist_percentile_ms(&t, 0.99) <= 150.7 + 1e-9);
	CHECK(ls_hist_percentile_ms(&t, 0.99) >= 140.0);
	CHECK_NEAR(ls_hist_percentile_ms(&t, 1.0), 150.7, 1e-9);
	CHECK_NEAR(ls_hist_percentile_ms(&t, 0.0), 3.0, 1e-9);
	CHECK_IN_BUCKET(ls_hist_percentile_ms(&t, 0.5), (int)ls_hist_bucket(3 * MS));
}

/* Inside a bucket the spans are taken as spread evenly between its edges
 * (cut to what was seen): the median of 2.1, 3 and 3.9 ms spans (bucket
 * 2048-4095 µs, cut to 2.1-3.9 ms) is the middle of that range. */
static void test_percentile_interpolates(void)
{
	struct ls_totals t = { 0 };

	add_spans(&t, 2100 * 1000, 1);
	add_spans(&t, 3 * MS, 1);
	add_spans(&t, 3900 * 1000, 1);
	CHECK_NEAR(ls_hist_percentile_ms(&t, 0.5), 3.0, 1e-9);
}

/* Merging what the kernel counted and what the heartbeat cut keeps both
 * bounds. */
static void test_merge_keeps_bounds(void)
{
	struct ls_totals a = { 0 }, b = { 0 };

	add_spans(&a, 5 * MS, 3);
	add_spans(&b, 1 * MS, 2);
	add_spans(&b, 900 * MS, 1);
	ls_totals_merge(&a, &b);
	CHECK_EQ_INT(a.spans, 6);
	CHECK_EQ_INT(a.min_ns, 1 * MS);
	CHECK_EQ_INT(a.max_ns, 900 * MS);
	CHECK_NEAR(ls_hist_percentile_ms(&a, 1.0), 900.0, 1e-9);
}

/* 90 quick iterations and 10 stalls: the median is a quick one, p99 and
 * p95 are stalls, p85 is still quick. */
static void test_percentile_picks_the_bucket(void)
{
	struct ls_totals t = { 0 };

	add_spans(&t, 100 * 1000, 90);      /* 100 µs: bucket 6 */
	add_spans(&t, 200 * MS, 10);        /* 200 ms: bucket 17 */
	CHECK_IN_BUCKET(ls_hist_percentile_ms(&t, 0.5), 6);
	CHECK_IN_BUCKET(ls_hist_percentile_ms(&t, 0.85), 6);
	CHECK_IN_BUCKET(ls_hist_percentile_ms(&t, 0.95), 17);
	CHECK_IN_BUCKET(ls_hist_percentile_ms(&t, 0.99), 17);
}

static void test_percentile_grows_with_p(void)
{
	struct ls_totals t = { 0 };
	double last = -1;

	for (int b = 0; b < 20; b += 3)
		add_spans(&t, (1ULL << b) * 1000 + 500, b + 1);
	for (int i = 0; i <= 99; i++) {
		double v = ls_hist_percentile_ms(&t, i / 100.0);

		CHECK(v >= last);
		last = v;
	}
}

/* Spans found to be no iteration (a thread between two loops) are taken
 * out again, and the longest left is bounded by what is known of it. */
static void test_void_spans(void)
{
	struct ls_totals t = { 0 }, voided = { 0 };

	add_spans(&t, 1 * MS, 98);
	add_spans(&t, 150 * MS, 1);
	add_spans(&t, 250 * MS, 1);
	add_spans(&voided, 250 * MS, 1);
	ls_totals_void(&t, &voided, 150 * MS);
	CHECK_EQ_INT(t.spans, 99);
	CHECK_EQ_INT(t.busy_ns, 98 * MS + 150 * MS);
	CHECK(ls_hist_percentile_ms(&t, 1.0) <= 150.0 + 1e-9);
	ls_totals_void(&t, &voided, 150 * MS); /* more than there is: none left, never negative */
	ls_totals_void(&t, &t, 0);
	CHECK_EQ_INT(t.spans, 0);
	CHECK_EQ_INT(t.busy_ns, 0);
}

int main(void)
{
	RUN(test_same_syscall_merges);
	RUN(test_call_in_progress);
	RUN(test_zero_counts_are_not_listed);
	RUN(test_full_report);
	RUN(test_add_counts);
	RUN(test_report_of_a_stall);
	RUN(test_percentile_of_nothing);
	RUN(test_percentile_of_equal_spans);
	RUN(test_percentile_within_min_and_max);
	RUN(test_percentile_interpolates);
	RUN(test_merge_keeps_bounds);
	RUN(test_void_spans);
	RUN(test_percentile_picks_the_bucket);
	RUN(test_percentile_grows_with_p);
	return unit_done();
}
