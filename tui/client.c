/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "client.h"
#include "parser.h"

/* Requests waiting for their answer; an agent answers in order per target
 * but not across them, so a ring looked up by id. Past this many
 * outstanding, the oldest is forgotten (its answer then counts as bad). */
#define PENDING_MAX 512
/* A line past this goes to the parser's thread as it is, not copied. */
#define HAND_OVER_MIN (1u << 20)

struct pending {
	uint64_t id;            /* 0: free */
	char method[16];
	pid_t pid;
	char arg[CLIENT_ARG_MAX];
};

struct client {
	int fd;
	uint64_t next_id;
	struct pending pending[PENDING_MAX];
	char *in;               /* a partial line */
	size_t in_len, in_cap;
	bool discarding;        /* inside a line past CLIENT_LINE_MAX */
	struct line_parser *parser;  /* NULL: lines parsed as they are read */
	char *out;
	size_t out_len, out_off, out_cap;
	uint64_t bad;
};

struct client *client_new(void)
{
	struct client *c = calloc(1, sizeof(*c));

	if (c) {
		c->fd = -1;
		c->next_id = 1;
	}
	return c;
}

void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in_len = c->out_len = c->out_off = 0;
	c->discarding = false;
	memset(c->pending, 0, sizeof(c->pending));
	if (c->parser)
		line_parser_discard(c->parser);
}

void client_free(struct client *c)
{
	if (!c)
		return;
	client_close(c);
	line_parser_free(c->parser);
	free(c->in);
	free(c->out);
	free(c);
}

int client_parse_async(struct client *c, const struct line_prepare *hook)
{
	if (!c->parser)
		c->parser = line_parser_new(hook);
	return c->parser ? 0 : -ENOMEM;
}

void client_dispose(struct client *c, json_t *doc)
{
	if (c->parser)
		line_parser_dispose(c->parser, doc);
	else
		json_decref(doc);
}

int client_parse_fd(const struct client *c)
{
	return c->parser ? line_parser_fd(c->parser) : -1;
}

int client_adopt(struct client *c, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	client_close(c);
	c->fd = fd;
	return 0;
}

int client_connect(struct client *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a local connect completes at once or fails: no EINPROGRESS dance */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = client_adopt(c, fd);
	if (err)
		close(fd);
	return err;
}

bool client_connected(const struct client *c)
{
	return c->fd >= 0;
}

int client_fd(const struct client *c)
{
	return c->fd;
}

uint64_t client_bad_lines(const struct client *c)
{
	return c->bad;
}

/* Appends n bytes to a growing buffer (doubling from 64 KiB). */
static int buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 65536;
		char *b;

		while (c < *len + n)
			c *= 2;
		b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	return 0;
}

static int out_append(struct client *c, const char *s, size_t n)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	return buf_append(&c->out, &c->out_len, &c->out_cap, s, n);
}

int client_request(struct client *c, const char *method, pid_t pid, const char *arg,
		   json_t *params)
{
	json_t *req = params ? params : json_object();
	struct pending *p;
	char *line;
	int err;

	if (c->fd < 0) {
		json_decref(req);
		return -ENOTCONN;
	}
	p = &c->pending[c->next_id % PENDING_MAX];
	json_object_set_new(req, "method", json_string(method));
	json_object_set_new(req, "id", json_integer((json_int_t)c->next_id));
	if (pid > 0)
		json_object_set_new(req, "pid", json_integer(pid));
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!line)
		return -ENOMEM;
	err = out_append(c, line, strlen(line));
	if (!err)
		err = out_append(c, "\n", 1);
	free(line);
	if (err)
		return err;
	p->id = c->next_id++;
	snprintf(p->method, sizeof(p->method), "%s", method);
	p->pid = pid;
	snprintf(p->arg, sizeof(p->arg), "%s", arg ? arg : "");
	return 0;
}

bool client_want_write(const struct client *c)
{
	return c->fd >= 0 && c->out_off < c->out_len;
}

int client_flush(struct client *c)
{
	while (c->fd >= 0 && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			/* the agent hung up: what it said first is still to be read */
			c->out_off = c->out_len;
			return -EPIPE;
		}
		c->out_off += (size_t)n;
	}
	return 0;
}

static struct pending *find_pending(struct client *c, const json_t *id)
{
	struct pending *p;
	json_int_t v;

	if (!json_is_integer(id) || (v = json_integer_value(id)) <= 0)
		return NULL;
	p = &c->pending[(uint64_t)v % PENDING_MAX];
	return p->id == (uint64_t)v ? p : NULL;
}

/* An error of no request (id null: a refused connection, a line too
 * long): method "" tells it apart. */
static int agent_error(json_t *doc, client_msg_fn fn, void *ctx)
{
	struct client_msg m = { .type = CLIENT_ERROR, .method = "", .body = json_object_get(doc, "error") };

	fn(&m, ctx);
	return 0;
}

/* An answer ({"id","result"|"error"}) or an event ({"event":S}); doc
 * (NULL: the line was not JSON) is the caller's. */
static int dispatch(struct client *c, json_t *doc, void *prepared, client_msg_fn fn, void *ctx)
{
	struct client_msg m = { .prepared = prepared };
	json_t *body;
	struct pending *p;

	if (!json_is_object(doc))
		goto bad;
	if (json_is_string(json_object_get(doc, "event"))) {
		m.type = CLIENT_EVENT;
		m.body = doc;
		fn(&m, ctx);
		return 0;
	}
	if (json_is_null(json_object_get(doc, "id")) && json_is_object(json_object_get(doc, "error")))
		return agent_error(doc, fn, ctx);
	p = find_pending(c, json_object_get(doc, "id"));
	if (!p)
		goto bad;
	body = json_object_get(doc, "result");
	m.type = CLIENT_RESULT;
	if (!body) {
		body = json_object_get(doc, "error");
		m.type = CLIENT_ERROR;
	}
	if (!json_is_object(body))
		goto bad;
	m.method = p->method;
	m.pid = p->pid;
	m.arg = p->arg;
	m.body = body;
	fn(&m, ctx);
	p->id = 0;
	return 0;
bad:
	c->bad++;
	return -EINVAL;
}

/* A whole line: parsed here, or queued for the parser's thread (taken
 * over when it is the big partial-line buffer, else copied). */
static int take_line(struct client *c, const char *line, size_t len, client_msg_fn fn, void *ctx)
{
	char *copy;
	json_t *doc;

	if (!c->parser) {
		doc = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
		dispatch(c, doc, NULL, fn, ctx);
		json_decref(doc);
		return 0;
	}
	if (line == c->in && len >= HAND_OVER_MIN) {
		copy = c->in;
		c->in = NULL;
		c->in_cap = 0;
	} else if ((copy = malloc(len ? len : 1))) {
		memcpy(copy, line, len);
	}
	return copy ? line_parser_push(c->parser, copy, len) : -ENOMEM;
}

/* Lines not seen through a big one: the key loop runs between two. */
int client_deliver(struct client *c, bool wait, client_msg_fn fn, void *ctx)
{
	json_t *doc;
	size_t len;
	void *prepared;
	int n = 0;

	while (c->parser && line_parser_pop(c->parser, wait, &doc, &len, &prepared)) {
		dispatch(c, doc, prepared, fn, ctx);
		line_parser_release(c->parser, prepared);
		json_decref(doc);
		n++;
		if (!wait && len >= HAND_OVER_MIN)
			break;
	}
	return n;
}

static int in_keep(struct client *c, const char *s, size_t n)
{
	if (c->in_len + n > CLIENT_LINE_MAX) {
		c->in_len = 0;
		c->discarding = true;
		c->bad++;
		return 0;
	}
	return buf_append(&c->in, &c->in_len, &c->in_cap, s, n);
}

/* Splits data into lines: whole lines in data are parsed in place, a
 * partial one is kept for the next read. */
static int feed(struct client *c, const char *data, size_t n, client_msg_fn fn, void *ctx)
{
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t part = nl ? (size_t)(nl - data) : n;

		if (c->discarding) {
			c->discarding = !nl;
		} else if (!nl) {
			return in_keep(c, data, part);
		} else if (c->in_len) {
			if (in_keep(c, data, part))
				return -ENOMEM;
			if (!c->discarding && c->in_len && take_line(c, c->in, c->in_len, fn, ctx))
				return -ENOMEM;
			c->in_len = 0;
			c->discarding = false;
		} else if (part && take_line(c, data, part, fn, ctx)) {
			return -ENOMEM;
		}
		if (!nl)
			return 0;
		data = nl + 1;
		n -= part + 1;
	}
	return 0;
}

int client_read(struct client *c, client_msg_fn fn, void *ctx)
{
	char buf[65536];

	/* bounded per call (2 MiB: a few ms of recv and copying), so neither
	 * a flood of events nor a 30 MB answer holds the keys */
	for (int rounds = 0; c->fd >= 0 && rounds < 32; rounds++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* what came before the end is delivered first */
			client_deliver(c, true, fn, ctx);
			client_close(c);
			return -EPIPE;
		}
		if (feed(c, buf, (size_t)n, fn, ctx) == -ENOMEM) {
			client_close(c);
			return -ENOMEM;
		}
	}
	return 0;
}

static bool is_socket(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISSOCK(st.st_mode);
}

int client_find_socket(const char *dir, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t found = 0, used = 0;
	char path[4096];

	if (!d)
		return errno == EACCES ? -EACCES : -ENOENT;
	if (len)
		out[0] = 0;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 6 || strcmp(e->d_name + n - 5, ".sock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!is_socket(path))
			continue;
		if (found++ == 0 && len)
			snprintf(out, len, "%s", path);
		else if (found == 2)
			used = strlen(out);
		if (found >= 2 && used < len)
			used += (size_t)snprintf(out + used, len - used, "\n%s", path);
	}
	closedir(d);
	if (!found)
		return -ENOENT;
	return found == 1 ? 0 : -E2BIG;
}
