/* SPDX-License-Identifier: GPL-2.0-only */
/* Facts about a live process from /proc: existence, threads, names. */
#ifndef LOOPSCOPE_PROC_H
#define LOOPSCOPE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 0 if PID is a user process we may attach to; -ESRCH, -EPERM,
 * -LS_EKTHREAD or -LS_EEXITING otherwise. */
int proc_check(pid_t pid);
/* Field `field` (proc(5)'s numbering, 4 or more: 9 flags, 22 starttime) of
 * /proc/PID/stat as a number; 0, -ESRCH or -EINVAL. */
int proc_stat_field(pid_t pid, int field, unsigned long long *value);

/* Parses a PID argument; 0 or -EINVAL. */
int proc_parse_pid(const char *arg, pid_t *pid);
/* The process a task (thread) id belongs to (Tgid: in /proc/ID/status):
 * itself for a process; 0 or -ESRCH. */
int proc_tgid(pid_t pid, pid_t *tgid);
/* Its real uid (Uid: in /proc/PID/status): who owns it; 0 or -ESRCH. */
int proc_uid(pid_t pid, uid_t *uid);

/* Whether tid is (still) a thread of pid. */
bool proc_has_thread(pid_t pid, pid_t tid);
/* The OS name of a thread (comm), "?" when it cannot be read. */
void proc_thread_name(pid_t pid, pid_t tid, char *buf, size_t len);

/* The tids of PID's threads, in /proc order; free() *tids. */
int proc_threads(pid_t pid, pid_t **tids, size_t *count);

/* A pidfd that polls readable when the process exits, or -errno. */
int proc_pidfd(pid_t pid);

/* The one process a PID named when it was opened: a pidfd taken before
 * anything else, and its start time. A PID freed while we attach and
 * taken by another process is then noticed: the pidfd still names the
 * first one (readable once it is gone), the start time differs. */
struct proc_ref {
	pid_t pid;
	int pidfd;                  /* -1: no pidfd (then only the start time) */
	unsigned long long start;   /* /proc/PID/stat field 22, in clock ticks */
};
/* 0, or -ESRCH when there is no such process. */
int proc_ref_open(struct proc_ref *r, pid_t pid);
/* True when the process opened is gone (or its PID names another). */
bool proc_ref_gone(const struct proc_ref *r);
void proc_ref_close(struct proc_ref *r);

/* Whether the process still exists (not a zombie, not exiting). */
int proc_alive(pid_t pid);

/* The path through which the target's files are read: /proc/PID/root/PATH,
 * so that targets in other mount namespaces work. */
void proc_root_path(pid_t pid, const char *path, char *out, size_t len);

/* The syscall a blocked thread is in and its first argument, from
 * /proc/PID/task/TID/syscall; -EBUSY when it is running. */
int proc_thread_syscall(pid_t pid, pid_t tid, long *nr, unsigned long *arg0);
/* The thread's CPU time so far (the kernel's sum_exec_runtime, from
 * /proc/PID/task/TID/schedstat; a running thread's lags by up to a tick). */
/* The executable pid runs, as the target names it (a chroot's root taken
 * off); "" when unknown. */
void proc_exe_path(pid_t pid, char *out, size_t len);
int proc_thread_runtime(pid_t pid, pid_t tid, uint64_t *ns);

#endif
