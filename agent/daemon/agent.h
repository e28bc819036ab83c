/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope agent: one libuv loop that keeps watching targets and serves
 * what it sees on a Unix socket (docs/protocol.md). */
#ifndef LOOPSCOPE_AGENT_H
#define LOOPSCOPE_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "access.h"
#include "lint.h"

#define AGENT_MAX_TARGETS 64

struct agent_opts {
	pid_t pids[AGENT_MAX_TARGETS];
	size_t npids;
	pid_t masters[AGENT_MAX_TARGETS];   /* --children: watch their Python descendants */
	size_t nmasters;
	const char *socket_path;   /* NULL: /run/loopscope/agent-PID.sock */
	struct access_list allow;  /* --allow: who else may connect */
	double threshold_ms;
	double retain_s;
	size_t history_bytes;      /* the history's memory cap */
	struct lint_opts lint;
	bool metrics;              /* serve Prometheus metrics on metrics_addr */
	struct sockaddr_storage metrics_addr;
	const char *record_path;   /* NULL: no recording */
	size_t record_bytes;       /* rotated past this */
	unsigned record_keep;      /* FILE.1 .. FILE.keep */
	bool verbose;
};

/* Runs until SIGINT/SIGTERM or the last target is gone: 0, or 1 when it
 * could not start (the reason on stderr). */
int agent_main(const struct agent_opts *opts);

#endif
