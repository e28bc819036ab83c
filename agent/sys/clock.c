/* SPDX-License-Identifier: GPL-2.0-only */
#include <time.h>
#include "clock.h"

uint64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

double clock_mono_s(void)
{
	return (double)clock_mono_ns() / 1e9;
}

double clock_unix_s(void)
{
	return (double)clock_mono_to_unix_ns() / 1e9 + clock_mono_s();
}

int clock_ms_until(uint64_t due_ns)
{
	uint64_t now = clock_mono_ns();

	return now >= due_ns ? 0 : (int)((due_ns - now + 999999) / 1000000);
}

int clock_ms_between(double now_s, double due_s)
{
	if (due_s < 0)
		return -1;
	return due_s <= now_s ? 0 : (int)((due_s - now_s) * 1000.0) + 1;
}

int64_t clock_mono_to_unix_ns(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL +
	       ((int64_t)rt.tv_nsec - mono.tv_nsec);
}
