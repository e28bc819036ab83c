/* SPDX-License-Identifier: GPL-2.0-only */
/* What `stalls` and `watch` share besides their options: the errors of
 * loading the BPF detectors and the thin loop that drives them (the
 * detectors never block; the commands wait on their fds with poll(2)). */
#ifndef LOOPSCOPE_WATCHING_H
#define LOOPSCOPE_WATCHING_H

#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>
#include "stall_monitor.h"

/* Explains why the detectors for pid could not start (err from
 * stall_monitor_new or lost_tracer_new) in one line; returns EXIT_FAIL. */
int cli_load_error(pid_t pid, int err);
/* pidfd: from proc_pidfd, -1 when there is none (then /proc is asked). */
bool cli_target_exited(int pidfd, pid_t pid);
/* poll(2) for the commands' loops: 0 (a signal too: it sets cli_stop,
 * revents are then 0) or -errno. timeout_ms -1: no limit. */
int cli_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
/* The sooner of two poll timeouts (-1: none). */
int cli_sooner_ms(int a, int b);
/* Once the target has exited: its exit tracepoint has flushed the stalls
 * it cut short; waits for them (50 ms at most) and delivers them. */
void cli_last_stalls(struct stall_monitor *m);
/* Prints the notes the monitor queued while it watched. */
void cli_stall_notes(struct stall_monitor *m);

#endif
