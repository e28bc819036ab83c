/* SPDX-License-Identifier: GPL-2.0-only */
/* --children PID: the Python descendants of master processes (a gunicorn
 * or uvicorn master and its workers), today's and those that replace them
 * after a restart: /proc is walked every 100 ms, so a new worker is
 * watched within a second. Owned by the agent; it asks the agent to
 * attach through a callback and is told nothing else. */
#ifndef LOOPSCOPE_CHILDREN_H
#define LOOPSCOPE_CHILDREN_H

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

struct children;

/* watched(pid, ctx): whether the agent watches pid already; attach(pid,
 * ctx): watch it, 0 or an error (it is then not tried again). */
struct children_ops {
	bool (*watched)(pid_t pid, void *ctx);
	int (*attach)(pid_t pid, void *ctx);
	void (*masters_gone)(void *ctx);   /* the last master has exited */
};

int children_new(uv_loop_t *loop, const pid_t *masters, size_t n, const struct children_ops *ops,
		 void *ctx, struct children **out);
/* pid could not be watched: it is not tried again. */
void children_refuse(struct children *c, pid_t pid);
/* Masters still alive. */
size_t children_masters(const struct children *c);
/* Stops walking; frees itself once its handles are closed. */
void children_stop(struct children *c);
/* The descendants of pid (not pid), at most max, from /proc: how many. */
size_t children_of(pid_t pid, pid_t *out, size_t max);

#endif
