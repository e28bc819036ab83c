/* SPDX-License-Identifier: GPL-2.0-only */
/* Thread ids of a process in its own PID namespace: it knows its threads
 * by the namespace's ids (CPython's native_thread_id, glibc's tids), the
 * kernel and BPF by ours. NSpid: in /proc/PID/task/TID/status has both. */
#ifndef LOOPSCOPE_NS_TIDS_H
#define LOOPSCOPE_NS_TIDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ns_tid {
	pid_t host, ns;   /* our id, the innermost namespace's */
};

struct ns_tids {
	struct ns_tid *v;
	size_t n;
};

/* Whether PID lives in a PID namespace below ours (NSpid: has more than
 * one id); false when it cannot be told. */
bool ns_tids_nested(pid_t pid);
/* Reads the pair of every thread of PID; 0 or -errno (ns_tids_free after). */
int ns_tids_read(pid_t pid, struct ns_tids *out);
/* Our id of the thread the namespace calls ns_tid, 0 when none. */
pid_t ns_tids_host(const struct ns_tids *t, pid_t ns_tid);
void ns_tids_free(struct ns_tids *t);

#endif
