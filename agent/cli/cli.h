/* SPDX-License-Identifier: GPL-2.0-only */
/* What every subcommand shares: exit codes, error lines, number parsing,
 * Ctrl-C handling. */
#ifndef LOOPSCOPE_CLI_H
#define LOOPSCOPE_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* "loopscope: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "loopscope: <msg>" on stderr; nothing for NULL or "". */
void cli_warn(const char *msg);
/* Explains why PID cannot be attached to (err from proc_check or an
 * attach step) in one line; returns EXIT_FAIL. */
int cli_attach_error(pid_t pid, int err);
/* Positive decimal numbers: 0 or -EINVAL. */
int cli_parse_double(const char *arg, double min, double max, double *out);

#include <argp.h>

/* A PID argument, checked (or an argp usage error); a thread id is taken
 * as its process, with a note on stderr. */
void cli_parse_pid(const char *arg, struct argp_state *state, pid_t *pid);
/* The PID argument of a one-PID command (ARGP_KEY_ARG, ARGP_KEY_END);
 * ARGP_ERR_UNKNOWN for any other key. Use as a parser's default case. */
error_t cli_pid_arg(int key, char *arg, struct argp_state *state, pid_t *pid);
/* A whole number in [min, max], or an argp usage error naming `what`. */
long cli_count_arg(const char *arg, struct argp_state *state, long min, long max,
		   const char *what);
/* --threshold MS and --duration S, checked, or an argp usage error. */
void cli_threshold_arg(const char *arg, struct argp_state *state, double *ms);
void cli_duration_arg(const char *arg, struct argp_state *state, double *seconds);

/* SIGINT/SIGTERM set cli_stop; SIGPIPE is ignored (a closed reader). */
extern volatile sig_atomic_t cli_stop;
void cli_handle_signals(void);


#endif
