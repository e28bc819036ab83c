/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "proto.h"

const char *const proto_event_kinds[] = {
	"stall", "never_awaited", "unretrieved_exception", "destroyed_pending", "task_done",
	"lint", "target_attached", "target_exec", "target_exit", "agent_exit", "dropped", NULL,
};

void proto_lines_init(struct proto_lines *l, size_t limit)
{
	memset(l, 0, sizeof(*l));
	l->limit = limit;
}

void proto_lines_free(struct proto_lines *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* Keeps a partial line; the buffer never grows past the limit. */
static int keep(struct proto_lines *l, const char *data, size_t n, proto_line_fn fn, void *ctx)
{
	if (l->len + n > l->limit) {
		l->len = 0;
		l->discarding = true;
		fn(NULL, 0, true, ctx);
		return 0;
	}
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap : 1024;
		char *b;

		while (cap < l->len + n)
			cap *= 2;
		if (cap > l->limit)
			cap = l->limit;
		b = realloc(l->buf, cap);
		if (!b)
			return -ENOMEM;
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, data, n);
	l->len += n;
	return 0;
}

/* One line's end seen at data[part]: deliver it; false when told to stop. */
static int line_end(struct proto_lines *l, const char *data, size_t part, proto_line_fn fn, void *ctx)
{
	bool go = true;
	int err;

	if (l->discarding) {
		l->discarding = false;
		return 1;
	}
	if (!l->len)
		return part > l->limit ? fn(NULL, 0, true, ctx) : fn(data, part, false, ctx);
	err = keep(l, data, part, fn, ctx);
	if (err)
		return err;
	if (!l->discarding)
		go = fn(l->buf, l->len, false, ctx);
	l->len = 0;
	l->discarding = false;
	return go;
}

ssize_t proto_lines_feed(struct proto_lines *l, const char *data, size_t n, proto_line_fn fn, void *ctx)
{
	size_t used = 0;

	while (used < n) {
		const char *p = data + used, *nl = memchr(p, '\n', n - used);
		int rc;

		if (!nl) {
			rc = l->discarding ? 0 : keep(l, p, n - used, fn, ctx);
			return rc ? rc : (ssize_t)n;
		}
		rc = line_end(l, p, (size_t)(nl - p), fn, ctx);
		if (rc < 0)
			return rc;
		used = (size_t)(nl - data) + 1;
		if (!rc)
			break;
	}
	return (ssize_t)used;
}

const char *proto_request_parse(const char *line, size_t len, struct proto_request *req,
				char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *m;

	memset(req, 0, sizeof(*req));
	req->doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req->doc) {
		snprintf(err, errlen, "invalid JSON: %s (at byte %d)", jerr.text, jerr.position);
		return "parse_error";
	}
	if (!json_is_object(req->doc)) {
		snprintf(err, errlen, "a request is a JSON object");
		return "bad_request";
	}
	req->id = json_object_get(req->doc, "id");
	m = json_object_get(req->doc, "method");
	if (!json_is_string(m) || !json_string_length(m) || json_string_length(m) > 64) {
		snprintf(err, errlen, "\"method\" must be a non-empty string");
		return "bad_request";
	}
	req->method = json_string_value(m);
	return NULL;
}

void proto_request_done(struct proto_request *req)
{
	json_decref(req->doc);
	memset(req, 0, sizeof(*req));
}

int proto_param_int(const json_t *doc, const char *key, long long min, long long max,
		    long long *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(doc, key);

	if (!v || json_is_null(v))
		return -ENOENT;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, errlen, "\"%s\" must be an integer from %lld to %lld", key, min, max);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

int proto_param_pid(const json_t *doc, const char *key, pid_t *out, char *err, size_t errlen)
{
	long long v;
	int rc = proto_param_int(doc, key, 1, 0x3fffffff, &v, err, errlen);

	if (!rc)
		*out = (pid_t)v;
	return rc;
}

int proto_param_str(const json_t *doc, const char *key, size_t maxlen, const char **out,
		    char *err, size_t errlen)
{
	json_t *v = json_object_get(doc, key);

	if (!v || json_is_null(v))
		return -ENOENT;
	if (!json_is_string(v) || json_string_length(v) > maxlen ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "\"%s\" must be a string of at most %zu bytes (no NUL)", key, maxlen);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

/* {"id":ID,"KEY":BODY}\n */
static char *envelope(const json_t *id, const char *key, const char *body, size_t body_len, size_t *len)
{
	char *ids = json_dumps(id ? id : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
	size_t n;
	char *out;

	if (!ids)
		return NULL;
	n = strlen(ids) + strlen(key) + body_len + 16;
	out = malloc(n);
	if (out) {
		int head = snprintf(out, n, "{\"id\":%s,\"%s\":", ids, key);

		memcpy(out + head, body, body_len);
		memcpy(out + head + body_len, "}\n", 3);
		*len = (size_t)head + body_len + 2;
	}
	free(ids);
	return out;
}

char *proto_result(const json_t *id, const char *body, size_t body_len, size_t *len)
{
	return envelope(id, "result", body, body_len, len);
}

char *proto_result_json(const json_t *id, json_t *body, size_t *len)
{
	char *s = body ? json_dumps(body, PROTO_JSON_FLAGS) : NULL;
	char *out = s ? proto_result(id, s, strlen(s), len) : NULL;

	json_decref(body);
	free(s);
	return out;
}

char *proto_error(const json_t *id, const char *code, const char *message, size_t *len)
{
	json_t *e = json_pack("{s:s, s:o}", "code", code, "message", json_text(message));
	char *s = e ? json_dumps(e, PROTO_JSON_FLAGS) : NULL;
	char *out = s ? envelope(id, "error", s, strlen(s), len) : NULL;

	json_decref(e);
	free(s);
	return out;
}

char *proto_event_line(json_t *ev, size_t *len)
{
	char *s = ev ? json_dumps(ev, PROTO_JSON_FLAGS) : NULL;
	size_t n;
	char *out;

	json_decref(ev);
	if (!s)
		return NULL;
	n = strlen(s);
	out = realloc(s, n + 2);
	if (!out) {
		free(s);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = 0;
	*len = n + 1;
	return out;
}

static bool known_kind(const char *k)
{
	for (size_t i = 0; proto_event_kinds[i]; i++)
		if (!strcmp(proto_event_kinds[i], k))
			return true;
	return false;
}

static int filter_kinds(const json_t *arr, struct proto_filter *f, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || !known_kind(json_string_value(v))) {
			snprintf(err, errlen, "\"kinds\" holds an unknown event kind (see hello's \"events\")");
			return -EINVAL;
		}
		snprintf(f->kinds[f->nkinds++], sizeof(f->kinds[0]), "%s", json_string_value(v));
	}
	return 0;
}

static int filter_pids(const json_t *arr, struct proto_filter *f, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 0x3fffffff) {
			snprintf(err, errlen, "\"pids\" must hold process ids");
			return -EINVAL;
		}
		f->pids[f->npids++] = (pid_t)json_integer_value(v);
	}
	return 0;
}

static bool list_param(const json_t *doc, const char *key, json_t **out, char *err, size_t errlen)
{
	json_t *v = json_object_get(doc, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_array(v) || json_array_size(v) > PROTO_FILTER_MAX) {
		snprintf(err, errlen, "\"%s\" must be an array of at most %d items", key, PROTO_FILTER_MAX);
		return false;
	}
	*out = v;
	return true;
}

int proto_filter_parse(const json_t *doc, struct proto_filter *f, char *err, size_t errlen)
{
	json_t *kinds, *pids;

	memset(f, 0, sizeof(*f));
	if (!list_param(doc, "kinds", &kinds, err, errlen) || !list_param(doc, "pids", &pids, err, errlen))
		return -EINVAL;
	if ((kinds && filter_kinds(kinds, f, err, errlen)) || (pids && filter_pids(pids, f, err, errlen)))
		return -EINVAL;
	return 0;
}

bool proto_filter_match(const struct proto_filter *f, const char *kind, pid_t pid)
{
	bool kind_ok = !f->nkinds, pid_ok = !f->npids || !pid;

	for (size_t i = 0; i < f->nkinds && !kind_ok; i++)
		kind_ok = !strcmp(f->kinds[i], kind);
	for (size_t i = 0; i < f->npids && !pid_ok; i++)
		pid_ok = f->pids[i] == pid;
	return kind_ok && pid_ok;
}
