/* SPDX-License-Identifier: GPL-2.0-only */
/* The TUI's protocol client (docs/protocol.md): one non-blocking Unix
 * socket to an agent, requests sent with an id and remembered so that each
 * answer comes back with what was asked, events passed on as they come.
 * Every line from the socket is hostile: garbage, lines past the limit and
 * answers nobody asked for are counted and dropped, never trusted. */
#ifndef LOOPSCOPE_TUI_CLIENT_H
#define LOOPSCOPE_TUI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "parser.h"

/* A ps answer for 100k tasks is tens of MB; a line longer than this is
 * dropped (its bytes skipped), not buffered. */
#define CLIENT_LINE_MAX (128u << 20)
#define CLIENT_ARG_MAX 512

enum client_msg_type { CLIENT_RESULT, CLIENT_ERROR, CLIENT_EVENT };

/* What came in. body: the result, the error object or the event (borrowed
 * for the callback's duration; incref to keep). For answers, the request's
 * method, pid and arg as they were sent. */
struct client_msg {
	enum client_msg_type type;
	const char *method;
	pid_t pid;
	const char *arg;
	json_t *body;
	/* What the parser's hook made of the line (client_parse_async), NULL
	 * when none; borrowed like body. */
	void *prepared;
};

typedef void (*client_msg_fn)(const struct client_msg *m, void *ctx);

struct client;

struct client *client_new(void);
void client_free(struct client *c);
/* Connects to path (0 or -errno); any earlier connection is closed. */
int client_connect(struct client *c, const char *path);
/* Takes over an already-connected socket. */
int client_adopt(struct client *c, int fd);
void client_close(struct client *c);
bool client_connected(const struct client *c);
int client_fd(const struct client *c);
/* Queues {"method":M,"id":N,...params} (params stolen, may be NULL; pid
 * added when > 0, arg is only remembered). 0 or -errno. */
int client_request(struct client *c, const char *method, pid_t pid, const char *arg,
		   json_t *params);
/* Writes what is queued, as far as the socket takes it; -EPIPE when the
 * agent hung up (the rest is dropped; read what it sent before, then the
 * connection is closed by client_read). */
int client_flush(struct client *c);
bool client_want_write(const struct client *c);
/* Reads what is there and calls fn for every message (an error of no
 * request, id null, with method ""). 0, or -EPIPE when the agent closed
 * the connection (then the client is closed). */
int client_read(struct client *c, client_msg_fn fn, void *ctx);
/* From now on, whole lines are parsed on a thread of their own (parser.h;
 * hook, may be NULL: what else that thread makes of each line, passed on
 * as the message's prepared) and delivered by client_deliver, in order,
 * when client_parse_fd is readable; before, client_read parses them
 * itself. 0 or -ENOMEM. */
int client_parse_async(struct client *c, const struct line_prepare *hook);
/* -1 until client_parse_async. */
int client_parse_fd(const struct client *c);
/* Calls fn for the lines parsed so far, in order, stopping after a big
 * one (the key loop runs in between); with wait, for every line read so
 * far. How many were delivered. At the end of the connection client_read
 * delivers what came before it first. */
int client_deliver(struct client *c, bool wait, client_msg_fn fn, void *ctx);
/* Lets go of doc: on the parser's thread when there is one. */
void client_dispose(struct client *c, json_t *doc);
/* Lines that were not messages (bad JSON, too long, unknown ids). */
uint64_t client_bad_lines(const struct client *c);

/* The agent socket in dir when there is exactly one: 0 with its path,
 * -ENOENT for none, -EACCES when dir may not be read, -E2BIG for several
 * (their paths listed in out, one a line). */
int client_find_socket(const char *dir, char *out, size_t len);

#endif
