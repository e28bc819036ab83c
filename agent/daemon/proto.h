/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's protocol without any I/O (docs/protocol.md): NDJSON framing
 * with a line limit, requests parsed and checked, answers, errors and
 * events as ready-to-send lines, and the subscription filter. Everything
 * here takes hostile input: no message can crash it or make it grow past
 * its limits. */
#ifndef LOOPSCOPE_PROTO_H
#define LOOPSCOPE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#define PROTO_VERSION 1
/* Like the commands' NDJSON: 250.612, not 250.61200000000002. */
#define PROTO_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_PRESERVE_ORDER)
#define PROTO_LINE_MAX (64 * 1024)   /* a request line longer than this is refused */

/* Splits a byte stream into lines of at most `limit` bytes. */
struct proto_lines {
	char *buf;
	size_t len, cap, limit;
	bool discarding;   /* inside a line that was too long: skip to its end */
};

/* One complete line (no '\n'), or too_long (line NULL) once per line over
 * the limit, whose bytes are dropped. Returns false to stop reading (the
 * reader is saturated): proto_lines_feed then returns what it used. */
typedef bool (*proto_line_fn)(const char *line, size_t len, bool too_long, void *ctx);

void proto_lines_init(struct proto_lines *l, size_t limit);
/* The bytes of data used (n unless fn said stop: feed the rest later), or
 * -ENOMEM (the lines before are delivered). */
ssize_t proto_lines_feed(struct proto_lines *l, const char *data, size_t n, proto_line_fn fn, void *ctx);
void proto_lines_free(struct proto_lines *l);

/* A request: {"method":S, "id":any (echoed), ...its parameters}. */
struct proto_request {
	json_t *doc;          /* owned */
	const char *method;   /* in doc */
	json_t *id;           /* in doc, NULL when absent */
};

/* 0, or an error code (a static string: "parse_error", "bad_request") with
 * a message in err; the request is then empty (id kept when readable). */
const char *proto_request_parse(const char *line, size_t len, struct proto_request *req,
				char *err, size_t errlen);
void proto_request_done(struct proto_request *req);

/* Parameters, checked: 0 when present and valid, -ENOENT when absent,
 * -EINVAL (with err written) when of the wrong type or range. */
int proto_param_pid(const json_t *doc, const char *key, pid_t *out, char *err, size_t errlen);
int proto_param_int(const json_t *doc, const char *key, long long min, long long max,
		    long long *out, char *err, size_t errlen);
int proto_param_str(const json_t *doc, const char *key, size_t maxlen, const char **out,
		    char *err, size_t errlen);

/* Lines to send (malloc'd, '\n'-terminated, *len set), NULL when out of
 * memory. body: serialized JSON (spliced in as is). */
char *proto_result(const json_t *id, const char *body, size_t body_len, size_t *len);
/* The same from a document (stolen). */
char *proto_result_json(const json_t *id, json_t *body, size_t *len);
char *proto_error(const json_t *id, const char *code, const char *message, size_t *len);
/* An event object (stolen) as one line. */
char *proto_event_line(json_t *ev, size_t *len);

/* subscribe's filter: kinds and pids, each "any" when empty. */
#define PROTO_FILTER_MAX 32
struct proto_filter {
	size_t nkinds, npids;
	char kinds[PROTO_FILTER_MAX][32];
	pid_t pids[PROTO_FILTER_MAX];
};

/* From a subscribe request ("kinds":[S], "pids":[N], both optional);
 * 0 or -EINVAL with err written. */
int proto_filter_parse(const json_t *doc, struct proto_filter *f, char *err, size_t errlen);
bool proto_filter_match(const struct proto_filter *f, const char *kind, pid_t pid);
/* The kinds an event can have (for checking and for hello). */
extern const char *const proto_event_kinds[];

#endif
