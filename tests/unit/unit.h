/* SPDX-License-Identifier: GPL-2.0-only */
/* A tiny unit-test harness for loopscope's pure code (no root, no BPF, no
 * target process), in the spirit of libbpf-tools' test helpers.
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_EQ_INT(a, b); }
 *   int main(void) { RUN(test_something); return unit_done(); }
 *
 * Each RUN prints "ok NAME" or "FAIL NAME" with every failed check under
 * it; unit_done() prints "N passed, N failed" for the file and returns the
 * exit status (1 when anything failed). */
#ifndef LOOPSCOPE_UNIT_H
#define LOOPSCOPE_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_passed, unit_failed;

#define CHECK(cond) do { \
	if (!(cond)) { \
		unit_failed_checks++; \
		printf("    %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_EQ_INT(a, b) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) { \
		unit_failed_checks++; \
		printf("    %s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b, a_, b_); \
	} \
} while (0)

#define CHECK_EQ_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_)) { \
		unit_failed_checks++; \
		printf("    %s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
		       a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} \
} while (0)

#define CHECK_NEAR(a, b, eps) do { \
	double a_ = (a), b_ = (b); \
	if (a_ - b_ > (eps) || b_ - a_ > (eps)) { \
		unit_failed_checks++; \
		printf("    %s:%d: %s ~ %s: %g != %g (+-%g)\n", __FILE__, __LINE__, #a, #b, a_, b_, \
		       (double)(eps)); \
	} \
} while (0)

#define RUN(fn) do { \
	int before_ = unit_failed_checks; \
	fn(); \
	if (unit_failed_checks == before_) { \
		unit_passed++; \
		printf("ok %s\n", #fn); \
	} else { \
		unit_failed++; \
		printf("FAIL %s\n", #fn); \
	} \
	fflush(stdout); \
} while (0)

static inline int unit_done(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
