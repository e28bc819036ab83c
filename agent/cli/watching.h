/* SPDX-License-Identifier: GPL-2.0-only */
/* What `stalls` and `watch` share besides their options: the errors of
 * loading the BPF detectors and the thin loop that drives them (the
 * detectors never block; the commands wait on their fds with poll(2)). */
#ifndef LOOPSCOPE_WATCHING_H
#define LOOPSCOPE_WATCHING_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include "proc.h"
#include "stall_monitor.h"

/* Explains why the detectors for pid could not start (err from
 * stall_monitor_new or lost_tracer_new) in one line; returns EXIT_FAIL. */
int cli_load_error(pid_t pid, int err);
/* Takes hold of the target before anything else reads it (proc_ref): 0,
 * or prints why not and returns EXIT_FAIL. */
int cli_target_open(struct proc_ref *t, pid_t pid);
/* Once attached: 0 when the process opened is still there, else prints
 * that it exited while attaching (its PID may be another's by now) and
 * returns EXIT_FAIL. */
int cli_target_attached(const struct proc_ref *t);
/* Set (with cli_stop) once stdout's reader has gone (EPIPE): the commands
 * stop, detach and exit 0 without a summary nobody would read. */
extern volatile sig_atomic_t cli_reader_gone;
/* Whether stdout can no longer be written (flushes it to know). */
bool cli_output_failed(void);
/* poll(2) for the commands' loops: 0 (a signal too: it sets cli_stop,
 * revents are then 0) or -errno. timeout_ms -1: no limit. Also wakes when
 * stdout's reader goes away (then cli_reader_gone and cli_stop are set).
 * At most 7 fds. */
int cli_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
/* The sooner of two poll timeouts (-1: none). */
int cli_sooner_ms(int a, int b);
/* Once the target has exited: its exit tracepoint has flushed the stalls
 * it cut short; waits for them (50 ms at most), delivers them, and says
 * (text mode) that the target exited. */
void cli_target_exit(struct stall_monitor *m, pid_t pid);
struct stall_printer;
/* After the target exec'd and the monitor read the new program: prints
 * the target_exec event (JSON) or line (text); false when there was none. */
bool cli_take_exec(struct stall_monitor *m, const struct stall_printer *p, pid_t pid);
/* Prints the notes the monitor queued while it watched. */
void cli_stall_notes(struct stall_monitor *m);

#endif
