/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "server.h"

#define READ_PAUSE_BYTES (4u << 20)   /* queued answers over this: stop reading the client */
#define READ_CHUNK 65536

/* A line shared by every client it is queued for. */
struct sbuf {
	unsigned refs;
	size_t len;
	char *data;   /* malloc'd, owned */
};

struct wreq {
	uv_write_t req;
	struct sbuf *buf;
};

struct client {
	uv_pipe_t pipe;             /* first: the handle's address is the client's */
	struct server *srv;
	struct client *prev, *next;
	uint64_t id;
	struct access_peer peer;   /* SO_PEERCRED, SO_PEERGROUPS at accept */
	struct proto_lines lines;
	bool subscribed, paused, closing;
	struct proto_filter filter;
	size_t queued;              /* bytes written but not yet taken by the kernel */
	uint64_t dropped;           /* events not sent since the client was last told */
	char rbuf[READ_CHUNK];
	size_t rpos, rlen;          /* rbuf[rpos..rlen): read, not yet taken (paused) */
};

struct server {
	uv_pipe_t listener;
	uv_loop_t *loop;
	char path[108];
	struct server_ops ops;
	void *ctx;
	struct client *clients;
	size_t nclients;
	uint64_t next_id, dropped;
	uv_timer_t close_timer;
	uint64_t close_deadline;    /* uv_now() after which queued lines are given up */
	int open_handles;
	void (*done)(void *);
	void *done_ctx;
};

/* Takes data over (an answer, made once, is never copied again). */
static struct sbuf *sbuf_take(char *data, size_t len)
{
	struct sbuf *b = malloc(sizeof(*b));

	if (!b) {
		free(data);
		return NULL;
	}
	b->refs = 1;
	b->len = len;
	b->data = data;
	return b;
}

static struct sbuf *sbuf_new(const char *data, size_t len)
{
	char *copy = malloc(len);

	if (!copy)
		return NULL;
	memcpy(copy, data, len);
	return sbuf_take(copy, len);
}

static void sbuf_put(struct sbuf *b)
{
	if (b && !--b->refs) {
		free(b->data);
		free(b);
	}
}

static void handle_closed(uv_handle_t *h)
{
	struct server *s = h->data;

	if (--s->open_handles == 0 && s->done) {
		s->done(s->done_ctx);
		free(s);
	}
}

static void client_closed(uv_handle_t *h)
{
	struct client *c = (struct client *)h;
	struct server *s = c->srv;

	proto_lines_free(&c->lines);
	free(c);
	handle_closed((uv_handle_t *)&s->listener);
}

static void client_close(struct client *c)
{
	struct server *s = c->srv;

	if (c->closing)
		return;
	c->closing = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nclients--;
	uv_close((uv_handle_t *)&c->pipe, client_closed);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void take_requests(struct client *c);

static void resume(struct client *c)
{
	c->paused = false;
	take_requests(c);
	if (!c->paused && !c->closing)
		uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct client *c = req->handle->data;

	c->queued -= w->buf->len;
	sbuf_put(w->buf);
	free(w);
	if (status && status != UV_ECANCELED && !c->closing)
		client_close(c);  /* the peer went away mid-answer */
	else if (c->paused && !c->closing && c->queued < READ_PAUSE_BYTES / 2)
		resume(c);
}

static void queue(struct client *c, struct sbuf *b)
{
	struct wreq *w = malloc(sizeof(*w));
	uv_buf_t ub = uv_buf_init(b->data, (unsigned)b->len);

	if (!w)
		return;
	b->refs++;
	w->buf = b;
	c->queued += b->len;
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &ub, 1, write_done)) {
		c->queued -= b->len;
		sbuf_put(b);
		free(w);
		client_close(c);
	}
}

void client_send(struct client *c, char *line, size_t len)
{
	struct sbuf *b;

	if (!line) {
		client_error(c, NULL, "internal", "out of memory");
		return;
	}
	if (c->closing) {
		free(line);
		return;
	}
	if (c->queued + len > SERVER_ANSWER_QUEUE_MAX) {
		log_warn("client %llu (uid %u) reads no answers: disconnected", (unsigned long long)c->id,
			 (unsigned)c->peer.uid);
		free(line);
		client_close(c);
		return;
	}
	b = sbuf_take(line, len);
	if (b)
		queue(c, b);
	sbuf_put(b);
	if (!c->closing && !c->paused && c->queued > READ_PAUSE_BYTES) {
		c->paused = true;  /* it asks faster than it reads: wait for it */
		uv_read_stop((uv_stream_t *)&c->pipe);
	}
}

void client_result(struct client *c, const json_t *id, const char *body, size_t len)
{
	size_t n = 0;
	char *line = proto_result(id, body, len, &n);

	client_send(c, line, n);
}

void client_result_json(struct client *c, const json_t *id, json_t *body)
{
	size_t n = 0;
	char *line = proto_result_json(id, body, &n);

	client_send(c, line, n);
}

void client_error(struct client *c, const json_t *id, const char *code, const char *message)
{
	size_t len;
	char *line = proto_error(id, code, message, &len);

	if (line)
		client_send(c, line, len);
}

uint64_t client_id(const struct client *c)
{
	return c->id;
}

uid_t client_uid(const struct client *c)
{
	return c->peer.uid;
}

const struct access_peer *client_peer(const struct client *c)
{
	return &c->peer;
}

void client_subscribe(struct client *c, const struct proto_filter *f)
{
	c->filter = *f;
	c->subscribed = true;
}

void client_unsubscribe(struct client *c)
{
	c->subscribed = false;
}

struct client *server_client(struct server *s, uint64_t id)
{
	for (struct client *c = s->clients; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

size_t server_clients(const struct server *s)
{
	return s->nclients;
}

uint64_t server_dropped(const struct server *s)
{
	return s->dropped;
}

/* Tells a client that caught up how many events it missed. */
static void tell_dropped(struct client *c)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "{\"event\":\"dropped\",\"count\":%llu}\n",
			 (unsigned long long)c->dropped);
	struct sbuf *b = sbuf_new(line, (size_t)n);

	if (!b)
		return;
	c->dropped = 0;
	queue(c, b);
	sbuf_put(b);
}

/* Whether c wants the event: subscribed, its filter, and its uid's right
 * to see the target's events. */
static bool wants(const struct client *c, const char *kind, pid_t pid, uid_t owner)
{
	return c->subscribed && proto_filter_match(&c->filter, kind, pid) &&
	       (owner == OWNER_EVERYONE || access_sees(c->peer.uid, owner));
}

void server_publish(struct server *s, const char *kind, pid_t pid, uid_t owner, const char *line,
		    size_t len)
{
	struct sbuf *b = NULL;
	struct client *next;

	for (struct client *c = s->clients; c; c = next) {
		next = c->next;  /* queue() may close c */
		if (!wants(c, kind, pid, owner))
			continue;
		if (c->queued + len > SERVER_EVENT_QUEUE_MAX) {
			c->dropped++;
			s->dropped++;
			continue;
		}
		if (!b && !(b = sbuf_new(line, len)))
			return;
		if (c->dropped)
			tell_dropped(c);
		if (!c->closing)
			queue(c, b);
	}
	sbuf_put(b);
}

static bool on_line(const char *line, size_t len, bool too_long, void *ctx)
{
	struct client *c = ctx;
	char msg[96];

	if (c->closing)
		return false;
	if (too_long) {
		snprintf(msg, sizeof(msg), "request line longer than %d bytes: ignored", PROTO_LINE_MAX);
		client_error(c, NULL, "line_too_long", msg);
	} else if (len && !(len == 1 && line[0] == '\r')) {  /* an empty line is no request */
		c->srv->ops.request(c, line, len, c->srv->ctx);
	}
	return !c->paused && !c->closing;
}

/* Takes the requests read; stops (keeping the rest) once the client is
 * paused, so that one read of many small requests cannot queue without
 * bound. */
static void take_requests(struct client *c)
{
	ssize_t used = proto_lines_feed(&c->lines, c->rbuf + c->rpos, c->rlen - c->rpos, on_line, c);

	if (used < 0) {
		client_close(c);
		return;
	}
	c->rpos += (size_t)used;
	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct client *c = (struct client *)h;

	*buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct client *c = (struct client *)st;

	if (n < 0) {
		client_close(c);
		return;
	}
	if (n > 0) {
		c->rpos = 0;
		c->rlen = (size_t)n;
		take_requests(c);
	}
}

/* Who connected, as the kernel saw it at connect(): uid -1 when unknown
 * (then every access check fails). */
static void peer_creds(struct client *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred), glen = sizeof(c->peer.groups);
	uv_os_fd_t fd;

	c->peer.uid = (uid_t)-1;
	c->peer.gid = (gid_t)-1;
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.pid = cred.pid;
	/* more groups than we look at: ERANGE, and those are not counted */
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->peer.groups, &glen))
		c->peer.ngroups = glen / sizeof(gid_t);
}

static void shutdown_done(uv_shutdown_t *req, int status)
{
	struct client *c = req->handle->data;

	free(req);
	client_close(c);
}

/* A refused peer gets its reason (written before the end), then EOF. */
static void refuse(struct client *c, const char *message)
{
	uv_shutdown_t *req = malloc(sizeof(*req));

	client_error(c, NULL, "forbidden", message);
	if (!req || c->closing || uv_shutdown(req, (uv_stream_t *)&c->pipe, shutdown_done)) {
		free(req);
		client_close(c);
	}
}

static void on_connection(uv_stream_t *l, int status)
{
	struct server *s = l->data;
	struct client *c;
	char why[200] = "";

	if (status < 0 || !(c = calloc(1, sizeof(*c))))
		return;
	c->srv = s;
	c->id = ++s->next_id;
	proto_lines_init(&c->lines, PROTO_LINE_MAX);
	uv_pipe_init(s->loop, &c->pipe, 0);
	c->pipe.data = c;
	s->open_handles++;
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->nclients++;
	if (uv_accept(l, (uv_stream_t *)&c->pipe)) {
		client_close(c);
		return;
	}
	peer_creds(c);
	if (s->ops.accept && !s->ops.accept(&c->peer, s->ctx, why, sizeof(why))) {
		refuse(c, why);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

int server_new(uv_loop_t *loop, const char *path, bool open_to_all, const struct server_ops *ops,
	       void *ctx, struct server **out)
{
	struct server *s = calloc(1, sizeof(*s));
	bool bound;
	mode_t old;
	int err;

	if (!s)
		return -ENOMEM;
	if (strlen(path) >= sizeof(s->path)) {
		free(s);
		return -ENAMETOOLONG;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->loop = loop;
	s->ops = *ops;
	s->ctx = ctx;
	uv_pipe_init(loop, &s->listener, 0);
	s->listener.data = s;
	s->open_handles = 1;
	old = umask(0177);  /* the socket is born 0600: no window where others may connect */
	err = uv_pipe_bind(&s->listener, path);
	umask(old);
	bound = !err;
	/* widened before listen(): until then nobody can connect at all */
	if (!err && open_to_all)
		err = uv_pipe_chmod(&s->listener, UV_READABLE | UV_WRITABLE);
	if (!err)
		err = uv_listen((uv_stream_t *)&s->listener, 64, on_connection);
	if (err) {
		if (bound)
			unlink(path);  /* ours; a path in use (EADDRINUSE) is not */
		uv_close((uv_handle_t *)&s->listener, NULL);
		uv_run(loop, UV_RUN_NOWAIT);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

static void close_all(struct server *s)
{
	while (s->clients)
		client_close(s->clients);
	if (!uv_is_closing((uv_handle_t *)&s->close_timer))
		uv_close((uv_handle_t *)&s->close_timer, handle_closed);
	if (!uv_is_closing((uv_handle_t *)&s->listener)) {
		uv_close((uv_handle_t *)&s->listener, handle_closed);
		unlink(s->path);
	}
}

static void flush_check(uv_timer_t *t)
{
	struct server *s = t->data;
	bool pending = false;

	for (struct client *c = s->clients; c; c = c->next)
		pending |= c->queued > 0;
	if (!pending || uv_now(s->loop) >= s->close_deadline)
		close_all(s);
}

void server_close(struct server *s, unsigned timeout_ms, void (*done)(void *), void *ctx)
{
	s->done = done;
	s->done_ctx = ctx;
	uv_close((uv_handle_t *)&s->listener, handle_closed);
	unlink(s->path);
	for (struct client *c = s->clients; c; c = c->next)
		uv_read_stop((uv_stream_t *)&c->pipe);
	/* clients that read get what is queued; the others are cut at timeout */
	uv_timer_init(s->loop, &s->close_timer);
	s->close_timer.data = s;
	s->open_handles++;
	s->close_deadline = uv_now(s->loop) + timeout_ms;
	uv_timer_start(&s->close_timer, flush_check, 0, 10);
}
