/* SPDX-License-Identifier: GPL-2.0-only */
/* bpf/stall.h, the helpers both sides share: the log2 histogram bucket of
 * a busy span and the thread's CPU time at a given moment. */
#include <linux/types.h>
#include "stall.h"
#include "unit.h"

#define US 1000ULL

static void test_bucket_is_log2_of_microseconds(void)
{
	CHECK_EQ_INT(ls_hist_bucket(0), 0);
	CHECK_EQ_INT(ls_hist_bucket(999), 0);           /* 0 µs */
	CHECK_EQ_INT(ls_hist_bucket(1999), 0);          /* 1 µs */
	CHECK_EQ_INT(ls_hist_bucket(2 * US), 1);
	CHECK_EQ_INT(ls_hist_bucket(4 * US - 1), 1);
	CHECK_EQ_INT(ls_hist_bucket(4 * US), 2);
	CHECK_EQ_INT(ls_hist_bucket(1000 * US), 9);     /* 1 ms: 512..1023 µs */
	CHECK_EQ_INT(ls_hist_bucket(1024 * US), 10);
	CHECK_EQ_INT(ls_hist_bucket(100000 * US), 16);  /* 100 ms: 65536..131071 µs */
	CHECK_EQ_INT(ls_hist_bucket(3000500 * US), 21); /* 3 s: 2^21..2^22 µs */
}

/* Each power of two of µs opens its bucket; the last one takes the rest. */
static void test_bucket_edges(void)
{
	for (int b = 1; b < LS_HIST_SLOTS; b++) {
		__u64 edge = (1ULL << b) * US;

		CHECK_EQ_INT(ls_hist_bucket(edge), b);
		CHECK_EQ_INT(ls_hist_bucket(edge - 1), b - 1);
	}
	CHECK_EQ_INT(ls_hist_bucket((1ULL << 40) * US), LS_HIST_SLOTS - 1);
	CHECK_EQ_INT(ls_hist_bucket(~0ULL), LS_HIST_SLOTS - 1);
}

/* Switched out at 800 ns with 500 ns of CPU time, back on at 1000. */
static struct ls_loop running(void)
{
	return (struct ls_loop){
		.last_on = 1000, .run_at_on = 500, .run_at_out = 500, .out_at = 800,
	};
}

static void test_runtime_while_on_cpu(void)
{
	struct ls_loop l = running();

	CHECK_EQ_INT(ls_runtime_at(&l, 1000), 500);     /* exact at the switch */
	CHECK_EQ_INT(ls_runtime_at(&l, 1500), 1000);    /* all of it CPU time since */
	CHECK_EQ_INT(ls_runtime_at(&l, 900), 500);      /* off CPU between 800 and 1000 */
	CHECK_EQ_INT(ls_runtime_at(&l, 800), 500);
	CHECK_EQ_INT(ls_runtime_at(&l, 700), 400);      /* back over the run that ended at 800 */
	CHECK_EQ_INT(ls_runtime_at(&l, 300), 0);        /* never below zero */
	CHECK_EQ_INT(ls_runtime_at(&l, 0), 0);
}

static void test_runtime_while_off_cpu(void)
{
	struct ls_loop l = { .run_at_on = 100, .run_at_out = 600, .out_at = 2000 };

	CHECK_EQ_INT(ls_runtime_at(&l, 2000), 600);
	CHECK_EQ_INT(ls_runtime_at(&l, 5000), 600);     /* off CPU: it does not grow */
	CHECK_EQ_INT(ls_runtime_at(&l, 1900), 500);
	l.out_at = 0;                                    /* never switched out: the base */
	CHECK_EQ_INT(ls_runtime_at(&l, 10), 600);
	l = (struct ls_loop){ 0 };
	CHECK_EQ_INT(ls_runtime_at(&l, 12345), 0);
}

/* CPU time never goes back as t moves forward, whatever the state. */
static void test_runtime_is_monotonic(void)
{
	struct ls_loop on = running(), off = { .run_at_out = 700, .out_at = 1200 };
	__u64 last_on = 0, last_off = 0;

	for (__u64 t = 0; t <= 3000; t += 10) {
		__u64 a = ls_runtime_at(&on, t), b = ls_runtime_at(&off, t);

		CHECK(a >= last_on);
		CHECK(b >= last_off);
		last_on = a;
		last_off = b;
	}
}

static void test_span_on_cpu(void)
{
	struct ls_loop l = running();

	l.run_base = 450;
	CHECK_EQ_INT(ls_span_on_cpu(&l, 1500), 550);
	CHECK_EQ_INT(ls_span_on_cpu(&l, 1000), 50);
	l.run_base = 2000;                               /* a base from a later reading */
	CHECK_EQ_INT(ls_span_on_cpu(&l, 1500), 0);
}

int main(void)
{
	RUN(test_bucket_is_log2_of_microseconds);
	RUN(test_bucket_edges);
	RUN(test_runtime_while_on_cpu);
	RUN(test_runtime_while_off_cpu);
	RUN(test_runtime_is_monotonic);
	RUN(test_span_on_cpu);
	return unit_done();
}
