/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's metrics endpoint: a TCP listener on the agent's loop that
 * answers GET /metrics (and HEAD) with the Prometheus exposition, one
 * request per connection (Connection: close). Requests are parsed by
 * http.c; bad ones get 400, other paths 404, other methods 405; a head over
 * HTTP_HEAD_MAX gets 431; a client idle for 10 s, or past 32 at once, is
 * cut off. */
#ifndef LOOPSCOPE_METRICS_H
#define LOOPSCOPE_METRICS_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

struct metrics_server;

/* The exposition now: malloc'd (*len), NULL when out of memory (503). */
typedef char *(*metrics_render_fn)(void *ctx, size_t *len);

/* "[HOST:]PORT": HOST a numeric IPv4 or [IPv6] address or "localhost";
 * no HOST binds 127.0.0.1. 0, or -EINVAL with err written. */
int metrics_parse_addr(const char *spec, struct sockaddr_storage *ss, char *err, size_t errlen);
/* Listens on addr: 0 or a negative libuv code. */
int metrics_server_new(uv_loop_t *loop, const struct sockaddr_storage *addr, metrics_render_fn render,
		       void *ctx, struct metrics_server **out);
/* "127.0.0.1:9100": where it listens (the port the kernel chose for 0). */
void metrics_server_name(const struct metrics_server *m, char *buf, size_t len);
/* Closes the listener and every connection; frees itself once closed. */
void metrics_server_close(struct metrics_server *m);

#endif
