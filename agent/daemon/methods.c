/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's requests, one handler each, in a table keyed by method
 * (docs/protocol.md documents every one). Each gets a parsed request and
 * answers it exactly once: a result or an error; none ends the session. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "agent_int.h"
#include "clock.h"
#include "output.h"
#include "proc.h"
#include "source.h"

#define HISTORY_DEFAULT_LIMIT 1000
#define HISTORY_MAX_LIMIT 100000

struct call {
	struct agent *a;
	struct client *c;
	const json_t *req;
	const json_t *id;
};

static void reply(struct call *k, json_t *result)
{
	client_result_json(k->c, k->id, result);
}

static void bad_param(struct call *k, const char *msg)
{
	client_error(k->c, k->id, "bad_request", msg);
}

static json_t *method_names(void);

static void m_hello(struct call *k)
{
	struct agent *a = k->a;
	json_t *targets = json_array(), *events = json_array();

	for (size_t i = 0; i < a->ntargets; i++)
		if (agent_client_sees(k->c, a->targets[i]))
			json_array_append_new(targets, target_hello_json(a->targets[i]));
	for (size_t i = 0; proto_event_kinds[i]; i++)
		json_array_append_new(events, json_string(proto_event_kinds[i]));
	reply(k, json_pack("{s:i, s:s, s:i, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:I, s:i}}",
		"protocol", PROTO_VERSION, "agent", "loopscope 0.1", "pid", (int)getpid(),
		"started", json_round(a->started, 3), "methods", method_names(), "events", events,
		"targets", targets, "limits", "threshold_ms", json_round(a->opts.threshold_ms, 3),
		"retain_s", json_round(a->opts.retain_s, 3), "history_bytes", (json_int_t)a->opts.history_bytes,
		"line_max", PROTO_LINE_MAX));
}

static void m_ps(struct call *k)
{
	struct target *t = agent_request_target(k->a, k->c, k->req, k->id);

	if (t)
		target_answer_snapshot(t, k->c, k->id, false);
}

static void m_pstree(struct call *k)
{
	struct target *t = agent_request_target(k->a, k->c, k->req, k->id);

	if (t)
		target_answer_snapshot(t, k->c, k->id, true);
}

static void m_dump(struct call *k)
{
	struct target *t = agent_request_target(k->a, k->c, k->req, k->id);

	if (t)
		target_queue_job(t, JOB_DUMP, k->c, k->id, NULL);
}

static void m_where(struct call *k)
{
	char err[160];
	const char *task;
	struct target *t;
	int rc = proto_param_str(k->req, "task", 255, &task, err, sizeof(err));

	if (rc == -ENOENT)
		snprintf(err, sizeof(err), "\"task\" (an id 0x... or a unique name) is required");
	if (rc) {
		bad_param(k, err);
		return;
	}
	t = agent_request_target(k->a, k->c, k->req, k->id);
	if (t)
		target_queue_job(t, JOB_WHERE, k->c, k->id, task);
}

/* {"targets":[each(target)...]} for every target the client sees, or the
 * one "pid" names. */
static void per_target(struct call *k, json_t *(*each)(const struct target *))
{
	struct agent *a = k->a;
	json_t *arr = json_array();
	pid_t pid = 0;
	char err[160];
	int rc = proto_param_pid(k->req, "pid", &pid, err, sizeof(err));

	if (rc == -EINVAL) {
		bad_param(k, err);
		return;
	}
	if (pid && !agent_client_may(a, k->c, k->id, pid)) {
		json_decref(arr);
		return;
	}
	for (size_t i = 0; i < a->ntargets; i++)
		if (pid ? target_pid(a->targets[i]) == pid : agent_client_sees(k->c, a->targets[i]))
			json_array_append_new(arr, each(a->targets[i]));
	reply(k, json_pack("{s:o}", "targets", arr));
}

static void m_stalls(struct call *k)
{
	per_target(k, target_stalls_json);
}

static void m_lints(struct call *k)
{
	per_target(k, target_lints_json);
}

/* Whether the client may ask about each pid of f (else it was told). */
static bool may_ask_all(struct call *k, const struct proto_filter *f)
{
	for (size_t i = 0; i < f->npids; i++)
		if (!agent_client_may(k->a, k->c, k->id, f->pids[i]))
			return false;
	return true;
}

/* history: {"kinds":[S],"pids":[N],"since":unix s,"limit":N} */
static void m_history(struct call *k)
{
	struct proto_filter f;
	long long limit = HISTORY_DEFAULT_LIMIT;
	double since = 0;
	json_t *s = json_object_get(k->req, "since");
	char err[200];
	size_t len;
	char *body;

	if (proto_filter_parse(k->req, &f, err, sizeof(err)) ||
	    proto_param_int(k->req, "limit", 1, HISTORY_MAX_LIMIT, &limit, err, sizeof(err)) == -EINVAL) {
		bad_param(k, err);
		return;
	}
	if (s && !json_is_null(s) && !json_is_number(s)) {
		bad_param(k, "\"since\" must be a Unix time in seconds");
		return;
	}
	if (s && json_is_number(s))
		since = json_number_value(s);
	if (!may_ask_all(k, &f))
		return;
	body = history_query(k->a->hist, &f, client_uid(k->c), since, (size_t)limit, &len);
	if (!body) {
		client_error(k->c, k->id, "internal", "out of memory");
		return;
	}
	client_result(k->c, k->id, body, len);
	free(body);
}

static long rss_kb(void)
{
	unsigned long long rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%*u %llu", &rss) != 1)
			rss = 0;
		fclose(f);
	}
	return (long)(rss * (unsigned long long)sysconf(_SC_PAGESIZE) / 1024);
}

static void m_stats(struct call *k)
{
	struct agent *a = k->a;
	json_t *targets = json_array(), *doc;

	for (size_t i = 0; i < a->ntargets; i++)
		if (agent_client_sees(k->c, a->targets[i]))
			json_array_append_new(targets, target_stats_json(a->targets[i]));
	doc = json_pack("{s:{s:i, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o}", "agent",
		"pid", (int)getpid(), "uptime_s", json_round(clock_mono_s() - a->started_mono, 3),
		"clients", (json_int_t)server_clients(a->srv),
		"history_events", (json_int_t)history_count(a->hist),
		"history_bytes", (json_int_t)history_bytes(a->hist),
		"history_evicted", (json_int_t)history_evicted(a->hist),
		"events_dropped", (json_int_t)server_dropped(a->srv), "rss_kb", (json_int_t)rss_kb(),
		"recorded_bytes", (json_int_t)recorder_bytes(a->rec),
		"record_errors", (json_int_t)recorder_errors(a->rec),
		"targets", targets);

	if (doc)
		json_object_set_new(json_object_get(doc, "agent"), "attaching", agent_attaching_json(a, k->c));
	reply(k, doc);
}

static void m_source(struct call *k)
{
	long long line = 1, context = 20;
	const struct access_peer *as;
	const char *file;
	char err[200];
	struct target *t;
	json_t *doc;
	int rc = proto_param_str(k->req, "file", 4096, &file, err, sizeof(err));

	if (rc == -ENOENT)
		snprintf(err, sizeof(err), "\"file\" is required");
	if (rc || proto_param_int(k->req, "line", 1, 100000000, &line, err, sizeof(err)) == -EINVAL ||
	    proto_param_int(k->req, "context", 0, 1000, &context, err, sizeof(err)) == -EINVAL) {
		bad_param(k, err);
		return;
	}
	if (!(t = agent_request_target(k->a, k->c, k->req, k->id)))
		return;
	/* a target names any file its owner likes: its owner reads what it may */
	as = access_sees_all(client_uid(k->c)) ? NULL : client_peer(k->c);
	if (!target_named_file(t, file)) {
		target_queue_source(t, k->c, k->id, file, line, context, as);  /* its code objects tell */
		return;
	}
	doc = source_lines(target_pid(t), file, line, context, as, err, sizeof(err));
	if (doc)
		reply(k, doc);
	else
		client_error(k->c, k->id, "not_found", err);
}

static void m_subscribe(struct call *k)
{
	struct proto_filter f;
	char err[200];

	if (proto_filter_parse(k->req, &f, err, sizeof(err))) {
		bad_param(k, err);
		return;
	}
	if (!may_ask_all(k, &f))
		return;
	client_subscribe(k->c, &f);
	reply(k, json_pack("{s:b}", "subscribed", true));
}

static void m_unsubscribe(struct call *k)
{
	client_unsubscribe(k->c);
	reply(k, json_pack("{s:b}", "subscribed", false));
}

static const struct method {
	const char *name;
	void (*run)(struct call *k);
} methods[] = {
	{ "hello", m_hello },
	{ "ps", m_ps },
	{ "where", m_where },
	{ "pstree", m_pstree },
	{ "dump", m_dump },
	{ "stalls", m_stalls },
	{ "history", m_history },
	{ "stats", m_stats },
	{ "source", m_source },
	{ "lints", m_lints },
	{ "subscribe", m_subscribe },
	{ "unsubscribe", m_unsubscribe },
};

static json_t *method_names(void)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		json_array_append_new(arr, json_string(methods[i].name));
	return arr;
}

void methods_dispatch(struct agent *a, struct client *c, const char *line, size_t len)
{
	struct proto_request req;
	char err[300];
	const char *code = proto_request_parse(line, len, &req, err, sizeof(err));
	struct call k = { .a = a, .c = c, .req = req.doc, .id = req.id };

	if (code) {
		client_error(c, req.id, code, err);
		proto_request_done(&req);
		return;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!strcmp(methods[i].name, req.method)) {
			methods[i].run(&k);
			proto_request_done(&req);
			return;
		}
	}
	snprintf(err, sizeof(err), "unknown method '%.64s' (hello lists them)", req.method);
	client_error(c, req.id, "unknown_method", err);
	proto_request_done(&req);
}
