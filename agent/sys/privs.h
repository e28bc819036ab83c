/* SPDX-License-Identifier: GPL-2.0-only */
/* Giving up capabilities for good: what a long-running process keeps once
 * its setup is done (effective = permitted = keep, nothing inheritable or
 * ambient, the bounding set cut to keep, no_new_privs). Capabilities are
 * per thread: call it while the process has one thread, so that every
 * thread made later inherits the reduced sets. */
#ifndef LOOPSCOPE_PRIVS_H
#define LOOPSCOPE_PRIVS_H

#include <stddef.h>
#include <stdint.h>

#define PRIVS_BIT(cap) (1ull << (cap))

/* Keeps the capabilities of mask `keep` that this thread has, drops every
 * other one from all its sets. 0 or -errno (what failed in err). */
int privs_drop(uint64_t keep, char *err, size_t errlen);
/* Threads of this process now (/proc/self/task), 0 if unknown. */
unsigned privs_threads(void);
/* "CAP_BPF, CAP_PERFMON" for the capabilities in mask. */
void privs_names(uint64_t mask, char *out, size_t len);

#endif
