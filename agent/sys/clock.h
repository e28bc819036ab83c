/* SPDX-License-Identifier: GPL-2.0-only */
/* The clocks loopscope uses: CLOCK_MONOTONIC (what bpf_ktime_get_ns reads,
 * so kernel and user-space timestamps compare) and the offset that turns it
 * into wall-clock time for reports. */
#ifndef LOOPSCOPE_CLOCK_H
#define LOOPSCOPE_CLOCK_H

#include <stdint.h>

uint64_t clock_mono_ns(void);
double clock_mono_s(void);
/* CLOCK_REALTIME - CLOCK_MONOTONIC, in ns: add it to a monotonic time. */
int64_t clock_mono_to_unix_ns(void);
/* Now, in Unix seconds, on the monotonic clock plus that offset: the
 * time base of every event's "ts". */
double clock_unix_s(void);
/* Whole milliseconds from now until monotonic time due_ns, rounded up
 * (a poll timeout that does not wake before due_ns); 0 once it is past. */
int clock_ms_until(uint64_t due_ns);
/* The same for times in seconds (due_s < 0: nothing due, -1): what a
 * poll loop waits for an event that is due at due_s, now being now_s. */
int clock_ms_between(double now_s, double due_s);

#endif
