/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's log: one timestamped line per event on stderr (journald
 * keeps it under systemd). */
#ifndef LOOPSCOPE_LOG_H
#define LOOPSCOPE_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
