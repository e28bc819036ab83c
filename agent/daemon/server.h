/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's Unix socket: the listener and its client sessions. Each
 * client's requests come in as lines (proto.h framing, line limit), its
 * answers and events go out through a bounded queue: events past the
 * queue's limit are dropped and counted (the client is told how many when
 * it catches up), a client that lets answers pile up past a larger limit
 * is disconnected, one that sends faster than it reads is no longer read
 * until its queue drains. Nothing a client does stalls the agent. */
#ifndef LOOPSCOPE_SERVER_H
#define LOOPSCOPE_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>
#include "access.h"
#include "owners.h"
#include "proto.h"

#define SERVER_EVENT_QUEUE_MAX (1u << 20)    /* events beyond this are dropped */
#define SERVER_ANSWER_QUEUE_MAX (256u << 20) /* answers beyond this: disconnect */

struct server;
struct client;

struct server_ops {
	/* A complete request line of c (too-long lines are answered here). */
	void (*request)(struct client *c, const char *line, size_t len, void *ctx);
	/* Whether a peer may connect (its SO_PEERCRED credentials); NULL:
	 * everyone who can open the socket. A refused client gets `message`
	 * as a "forbidden" error line, then the end of the connection. */
	bool (*accept)(const struct access_peer *peer, void *ctx, char *message, size_t len);
};

/* Binds path (which must not exist) with mode 0600 (0666 when open_to_all:
 * then ops->accept decides) and listens. 0 or a negative libuv/errno code. */
int server_new(uv_loop_t *loop, const char *path, bool open_to_all, const struct server_ops *ops,
	       void *ctx, struct server **out);
/* Queues an answer line (malloc'd, taken over; NULL: out of memory, the
 * client is told so). */
void client_send(struct client *c, char *line, size_t len);
/* Sends a result answer: body is serialized JSON (copied), or a document (stolen). */
void client_result(struct client *c, const json_t *id, const char *body, size_t len);
void client_result_json(struct client *c, const json_t *id, json_t *body);
/* Sends an error answer. */
void client_error(struct client *c, const json_t *id, const char *code, const char *message);
uint64_t client_id(const struct client *c);
uid_t client_uid(const struct client *c);
/* Its credentials as SO_PEERCRED and SO_PEERGROUPS gave them. */
const struct access_peer *client_peer(const struct client *c);
void client_subscribe(struct client *c, const struct proto_filter *f);
void client_unsubscribe(struct client *c);
/* The client with that id, NULL once it has gone. */
struct client *server_client(struct server *s, uint64_t id);
/* Sends an event line to every subscriber whose filter matches and who
 * sees targets of owner (access_sees; OWNER_EVERYONE: all of them). */
void server_publish(struct server *s, const char *kind, pid_t pid, uid_t owner, const char *line,
		    size_t len);
size_t server_clients(const struct server *s);
/* Events dropped for slow clients so far. */
uint64_t server_dropped(const struct server *s);
/* Flushes what is queued (for at most timeout_ms), closes every client and
 * the listener, removes the socket file; done(ctx) when all are closed. */
void server_close(struct server *s, unsigned timeout_ms, void (*done)(void *), void *ctx);

#endif
