/* SPDX-License-Identifier: GPL-2.0-only */
/* A live session with an agent: what to ask after hello (history, then
 * subscribe, then the snapshots), what to ask again on each refresh (never
 * a second one of a kind while the first is unanswered), events held back
 * while paused, and reconnecting when the agent goes away. */
#ifndef LOOPSCOPE_TUI_SESSION_H
#define LOOPSCOPE_TUI_SESSION_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>
#include "model.h"

struct session;

/* path: the socket to (re)connect to, NULL to find the only one in dir
 * again each time; fd >= 0: already connected (then path, if any, is
 * only for reconnecting); name: what the status line calls the agent
 * (NULL: its socket's path). */
struct session *session_new(struct model *m, const char *path, const char *dir, int fd,
			    const char *name);
void session_free(struct session *s);
/* Connects (if not yet) and says hello: 0 or -errno (message in err). */
int session_start(struct session *s, char *err, size_t errlen);
int session_fd(const struct session *s);
bool session_want_write(const struct session *s);
/* Readable when answers parsed off the key loop wait (-1: none). */
int session_parse_fd(const struct session *s);
/* Reads and writes what poll said is ready; parsed: session_parse_fd is
 * readable. */
void session_io(struct session *s, bool readable, bool writable, bool parsed);
/* The agent's refusal ("forbidden": this user may not connect), NULL
 * while none came; then the session is over. */
const char *session_refusal(const struct session *s);
/* The periodic requests; or, while disconnected, one reconnect attempt. */
void session_refresh(struct session *s);
/* For ui->ask: one request (skipped while one of that method, pid and arg
 * is unanswered). */
void session_ask(void *s, const char *method, pid_t pid, const char *arg, json_t *params);
/* Whether the current target's snapshot is wanted every refresh (its
 * tasks are shown) or only now and then. */
void session_want_tasks(struct session *s, bool on);
/* The Tasks view's sort (task_snap_chain_want_order): ps answers come
 * sorted so off the key loop. */
void session_want_order(struct session *s, int sort, bool invert);
/* While paused, events wait (bounded) and are applied on resume. */
void session_pause(struct session *s, bool paused);

#endif
