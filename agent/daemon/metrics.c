/* SPDX-License-Identifier: GPL-2.0-only */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"
#include "log.h"
#include "metrics.h"

#define MAX_CONNS 32
#define IDLE_MS 10000

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	uv_shutdown_t sd;
	struct metrics_server *m;
	struct conn *next;
	char *out;
	size_t len;
	int open;              /* handles not closed yet */
	bool done;             /* answered or closing: read nothing more */
	char buf[HTTP_HEAD_MAX];
};

struct metrics_server {
	uv_tcp_t listener;
	metrics_render_fn render;
	void *ctx;
	struct conn *conns;
	size_t nconns;
	int open;              /* the listener and every connection */
	bool closing;
};

int metrics_parse_addr(const char *spec, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[64] = "127.0.0.1", *end;
	const char *colon = strrchr(spec, ':'), *port_s = colon ? colon + 1 : spec;
	size_t hl = colon ? (size_t)(colon - spec) : 0;
	long port = strtol(port_s, &end, 10);
	bool v6 = hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']';

	if (!*port_s || *end || port < 0 || port > 65535 || hl >= sizeof(host)) {
		snprintf(err, errlen, "'%s' is not [HOST:]PORT (e.g. 9464, 0.0.0.0:9464, [::1]:9464)", spec);
		return -EINVAL;
	}
	if (hl) {
		memcpy(host, spec + v6, hl - 2 * v6);
		host[hl - 2 * v6] = 0;
	}
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	memset(ss, 0, sizeof(*ss));
	if ((v6 ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss)
		: uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss))) {
		snprintf(err, errlen, "'%s' is not a numeric IP address (IPv6 in brackets)", host);
		return -EINVAL;
	}
	return 0;
}

static void maybe_free(struct metrics_server *m)
{
	if (m->closing && !m->open)
		free(m);
}

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct metrics_server *m = c->m;

	if (--c->open)
		return;
	for (struct conn **p = &m->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	m->nconns--;
	free(c->out);
	free(c);
	m->open--;
	maybe_free(m);
}

static void conn_close(struct conn *c)
{
	c->done = true;
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void on_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	conn_close(req->data);
}

static void on_written(uv_write_t *req, int status)
{
	struct conn *c = req->data;

	/* a FIN after the answer, not a reset: the client reads it all */
	c->sd.data = c;
	if (status || uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, on_shutdown))
		conn_close(c);
}

static void respond(struct conn *c, int status, const char *extra, const char *body, size_t blen,
		    bool head_only)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", status, http_reason(status),
			 status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8",
			 blen, extra);
	size_t send = head_only ? 0 : blen;
	uv_buf_t b;

	c->done = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	c->out = malloc((size_t)n + send);
	if (!c->out) {
		conn_close(c);
		return;
	}
	memcpy(c->out, hdr, (size_t)n);
	if (send)
		memcpy(c->out + n, body, send);
	b = uv_buf_init(c->out, (unsigned)((size_t)n + send));
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written))
		conn_close(c);
}

static void respond_error(struct conn *c, int status)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));

	respond(c, status, status == 405 ? "Allow: GET, HEAD\r\n" : "", body, (size_t)n, false);
}

static void route(struct conn *c, const struct http_request *req)
{
	bool head = !strcmp(req->method, "HEAD");
	size_t len = 0;
	char *body;

	if (strcmp(req->path, "/metrics")) {
		respond_error(c, 404);
		return;
	}
	if (!head && strcmp(req->method, "GET")) {
		respond_error(c, 405);
		return;
	}
	body = c->m->render(c->m->ctx, &len);
	if (!body) {
		respond_error(c, 503);
		return;
	}
	respond(c, 200, "", body, len, head);
	free(body);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;

	*buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	struct http_request req;
	long rc;

	if (c->done)
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	rc = http_parse(c->buf, c->len, &req);
	if (!rc && c->len >= sizeof(c->buf))
		rc = -431;
	if (rc < 0) {
		log_info("metrics: %d %s for a client", (int)-rc, http_reason((int)-rc));
		respond_error(c, (int)-rc);
	} else if (rc > 0) {
		route(c, &req);
	}
}

static void on_connection(uv_stream_t *l, int status)
{
	struct metrics_server *m = l->data;
	struct conn *c;

	if (status < 0 || m->closing || !(c = calloc(1, sizeof(*c))))
		return;
	c->m = m;
	uv_tcp_init(l->loop, &c->tcp);
	uv_timer_init(l->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open = 2;
	c->next = m->conns;
	m->conns = c;
	m->nconns++;
	m->open++;
	if (uv_accept(l, (uv_stream_t *)&c->tcp) || m->nconns > MAX_CONNS) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_idle, IDLE_MS, 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int metrics_server_new(uv_loop_t *loop, const struct sockaddr_storage *addr, metrics_render_fn render,
		       void *ctx, struct metrics_server **out)
{
	struct metrics_server *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return UV_ENOMEM;
	m->render = render;
	m->ctx = ctx;
	uv_tcp_init(loop, &m->listener);
	m->listener.data = m;
	m->open = 1;
	err = uv_tcp_bind(&m->listener, (const struct sockaddr *)addr, 0);
	if (!err)
		err = uv_listen((uv_stream_t *)&m->listener, 64, on_connection);
	if (err) {
		metrics_server_close(m);
		return err;
	}
	*out = m;
	return 0;
}

void metrics_server_name(const struct metrics_server *m, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	int n = sizeof(ss);
	char host[64] = "?";
	int port = 0;

	if (!uv_tcp_getsockname(&m->listener, (struct sockaddr *)&ss, &n)) {
		if (ss.ss_family == AF_INET6) {
			uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof(host));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			snprintf(buf, len, "[%s]:%d", host, port);
			return;
		}
		uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	snprintf(buf, len, "%s:%d", host, port);
}

static void listener_closed(uv_handle_t *h)
{
	struct metrics_server *m = h->data;

	m->open--;
	maybe_free(m);
}

void metrics_server_close(struct metrics_server *m)
{
	if (!m || m->closing)
		return;
	m->closing = true;
	for (struct conn *c = m->conns; c; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&m->listener, listener_closed);
}
