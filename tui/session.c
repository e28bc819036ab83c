/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "client.h"
#include "session.h"
#include "strmap.h"
#include "task_snap.h"

#define HISTORY_LIMIT 5000
#define HELD_EVENTS_MAX 100000

struct session {
	struct model *m;
	struct client *c;
	struct task_snap_chain *chain;   /* the parser thread's, for ps answers */
	char path[4096];
	char name[128];            /* "" : the path */
	const char *dir;
	bool fixed_path, hello_done, has_lints, paused;
	bool want_tasks;           /* the current target's tasks are on screen */
	struct strmap *inflight;   /* "method\tpid\targ" of requests not yet answered */
	json_t *held;              /* events while paused */
	char refusal[512];         /* the agent's "forbidden" message, once refused */
	unsigned ticks;
};

static void dispose(json_t *doc, void *c)
{
	client_dispose(c, doc);
}

struct session *session_new(struct model *m, const char *path, const char *dir, int fd,
			    const char *name)
{
	struct session *s = calloc(1, sizeof(*s));
	struct line_prepare hook = { task_snap_prepare, task_snap_release, NULL };

	/* ps answers are made into task rows on the parser's thread too */
	if (s)
		hook.ctx = s->chain = task_snap_chain_new();
	if (!s || !s->chain || !(s->c = client_new()) || client_parse_async(s->c, &hook) ||
	    !(s->inflight = strmap_new(NULL)) || !(s->held = json_array())) {
		session_free(s);
		return NULL;
	}
	s->m = m;
	model_set_dispose(m, dispose, s->c);
	s->dir = dir;
	s->fixed_path = path != NULL;
	s->want_tasks = true;
	snprintf(s->path, sizeof(s->path), "%s", path ? path : "");
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
	if (fd >= 0 && client_adopt(s->c, fd)) {
		session_free(s);
		return NULL;
	}
	return s;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	if (s->m)
		model_set_dispose(s->m, NULL, NULL);
	client_free(s->c);   /* its thread first: the chain is that thread's */
	task_snap_chain_free(s->chain);
	strmap_free(s->inflight);
	json_decref(s->held);
	free(s);
}

static void inflight_key(const char *method, pid_t pid, const char *arg, char *out, size_t len)
{
	snprintf(out, len, "%s\t%d\t%s", method, (int)pid, arg ? arg : "");
}

void session_ask(void *ctx, const char *method, pid_t pid, const char *arg, json_t *params)
{
	struct session *s = ctx;
	char key[CLIENT_ARG_MAX + 64];
	struct strmap_val *v;

	inflight_key(method, pid, arg, key, sizeof(key));
	v = strmap_get(s->inflight, key);
	if ((v && v->d) || !client_connected(s->c)) {
		json_decref(params);
		return;
	}
	if (!client_request(s->c, method, pid, arg, params) && (v = strmap_put(s->inflight, key)))
		v->d = 1;
}

/* What the model needs first: what happened before (history, asked
 * before subscribing so nothing comes twice), then the live events. */
static void after_hello(struct session *s)
{
	const json_t *methods = json_object_get(s->m->agent_hello, "methods"), *v;
	json_t *hist = json_pack("{s:i}", "limit", HISTORY_LIMIT);
	size_t i;

	s->has_lints = false;
	json_array_foreach(methods, i, v)
		s->has_lints |= json_is_string(v) && !strcmp(json_string_value(v), "lints");
	if (s->m->last_event_ts > 0)
		json_object_set_new(hist, "since", json_real(s->m->last_event_ts + 1e-6));
	session_ask(s, "history", 0, NULL, hist);
	session_ask(s, "subscribe", 0, NULL, NULL);
	session_ask(s, "stalls", 0, NULL, NULL);
	s->hello_done = true;
	session_refresh(s);
}

/* An error of no request: a refusal ends the session; others (a line
 * too long) are nothing to act on. */
static void on_agent_error(struct session *s, const json_t *err)
{
	if (!strcmp(j_str(err, "code"), "forbidden"))
		snprintf(s->refusal, sizeof(s->refusal), "the agent refused this user: %s",
			 j_str(err, "message"));
}

static void on_msg(const struct client_msg *msg, void *ctx)
{
	struct session *s = ctx;
	char key[CLIENT_ARG_MAX + 64];
	struct strmap_val *v;

	if (msg->type == CLIENT_ERROR && !msg->method[0]) {
		on_agent_error(s, msg->body);
		return;
	}
	if (msg->type == CLIENT_EVENT && s->paused && json_array_size(s->held) < HELD_EVENTS_MAX) {
		json_array_append(s->held, msg->body);
		return;
	}
	if (msg->type != CLIENT_EVENT) {
		inflight_key(msg->method, msg->pid, msg->arg, key, sizeof(key));
		if ((v = strmap_get(s->inflight, key)))
			v->d = 0;
	}
	model_on_msg(msg, s->m);
	if (msg->type == CLIENT_RESULT && !strcmp(msg->method, "hello"))
		after_hello(s);
	if (msg->type == CLIENT_EVENT && !strcmp(j_str(msg->body, "event"), "agent_exit"))
		model_set_status(s->m, true, "the agent is stopping: %s", j_str(msg->body, "reason"));
}

static int connect_once(struct session *s, char *err, size_t errlen)
{
	int rc;

	if (!s->fixed_path) {
		rc = client_find_socket(s->dir, s->path, sizeof(s->path));
		if (rc == -ENOENT)
			snprintf(err, errlen, "no agent socket in %s (start one: loopscope agent PID)", s->dir);
		else if (rc == -EACCES)
			snprintf(err, errlen, "cannot read %s: %s (the agent lets only root in unless "
				 "started with --allow USER)", s->dir, strerror(-rc));
		else if (rc == -E2BIG)
			snprintf(err, errlen, "several agents listen in %s; pick one with --socket:\n%s", s->dir, s->path);
		if (rc)
			return rc;
	}
	if (!s->path[0]) {
		snprintf(err, errlen, "no socket to reconnect to");
		return -ENOENT;
	}
	rc = client_connect(s->c, s->path);
	if (rc)
		snprintf(err, errlen, "cannot connect to %s: %s%s", s->path, strerror(-rc),
			 rc == -EACCES ? " (the agent lets only root in unless started with --allow USER)" : "");
	return rc;
}

int session_start(struct session *s, char *err, size_t errlen)
{
	int rc = client_connected(s->c) ? 0 : connect_once(s, err, errlen);

	if (rc)
		return rc;
	strmap_clear(s->inflight);
	s->hello_done = false;
	session_ask(s, "hello", 0, NULL, NULL);
	model_set_status(s->m, true, "connected to %s",
			 s->name[0] ? s->name : s->path[0] ? s->path : "the agent");
	return 0;
}

int session_fd(const struct session *s)
{
	return client_fd(s->c);
}

bool session_want_write(const struct session *s)
{
	return client_want_write(s->c);
}

static void lost_connection(struct session *s)
{
	model_all_gone(s->m, "agent gone");
	model_set_status(s->m, false, "agent gone: reconnecting");
	s->hello_done = false;
}

int session_parse_fd(const struct session *s)
{
	return client_parse_fd(s->c);
}

void session_io(struct session *s, bool readable, bool writable, bool parsed)
{
	bool hung_up;

	if (parsed)
		client_deliver(s->c, false, on_msg, s);
	hung_up = writable && client_flush(s->c) < 0;
	/* after a hang-up its last words (a refusal) are read, then the end */
	if ((readable || hung_up) && client_read(s->c, on_msg, s) < 0) {
		lost_connection(s);
		return;
	}
	if (client_want_write(s->c) && client_flush(s->c) < 0 && client_read(s->c, on_msg, s) < 0)
		lost_connection(s);
}

const char *session_refusal(const struct session *s)
{
	return s->refusal[0] ? s->refusal : NULL;
}

void session_refresh(struct session *s)
{
	char err[512];

	if (s->refusal[0])
		return;  /* asking again would be refused again */
	if (!client_connected(s->c)) {
		if (session_start(s, err, sizeof(err)))
			model_set_status(s->m, false, "agent gone: %s; retrying", err);
		return;
	}
	if (!s->hello_done || s->paused)
		return;
	s->ticks++;
	session_ask(s, "stats", 0, NULL, NULL);
	for (size_t i = 0; i < s->m->ntargets; i++) {
		const struct m_target *t = &s->m->targets[i];

		/* a snapshot of 100k tasks is tens of MB: every second only
		 * for the one whose tasks are shown, the others now and then */
		if (!t->gone && ((i == s->m->cur && s->want_tasks) || s->ticks % 5 == 0))
			session_ask(s, "ps", t->pid, NULL, NULL);
	}
	if (s->has_lints && s->ticks % 5 == 1)
		session_ask(s, "lints", 0, NULL, NULL);
	client_flush(s->c);
}

void session_want_tasks(struct session *s, bool on)
{
	s->want_tasks = on;
}

void session_want_order(struct session *s, int sort, bool invert)
{
	task_snap_chain_want_order(s->chain, sort, invert);
}

void session_pause(struct session *s, bool paused)
{
	size_t i;
	json_t *ev;

	s->paused = paused;
	if (paused)
		return;
	json_array_foreach(s->held, i, ev) {
		struct client_msg m = { .type = CLIENT_EVENT, .body = ev };

		model_on_msg(&m, s->m);
	}
	json_array_clear(s->held);
}
