/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope's live TUI: an htop-like view of what agents report. Talks to
 * an agent only through its protocol (docs/protocol.md), over a Unix
 * socket, or replays an agent's --record files. The only header of tui/
 * that the rest of loopscope includes. */
#ifndef LOOPSCOPE_TUI_H
#define LOOPSCOPE_TUI_H

#include <stdbool.h>
#include <stddef.h>

struct tui_opts {
	/* Live: an already-connected socket (e.g. `top`'s own agent), else
	 * socket_path, else the only socket in TUI_SOCKET_DIR. fd < 0: none. */
	int socket_fd;
	const char *socket_path;
	const char *socket_dir;   /* where to look without a path; NULL: TUI_SOCKET_DIR */
	const char *agent_name;   /* the status line's name for the agent; NULL: its socket */
	/* Replay instead: the --record files, in any order (sorted by time). */
	const char *const *replay_files;
	size_t nreplay;
	double replay_speed;   /* 0: real time (1.0) */
	int refresh_ms;        /* 0: 1000 */
};

#define TUI_SOCKET_DIR "/run/loopscope"

/* Runs until `q` (or SIGINT/SIGTERM/SIGHUP): 0, or 1 when it could not
 * start (the reason on stderr). The terminal is restored on every path. */
int tui_run(const struct tui_opts *o);

#endif
