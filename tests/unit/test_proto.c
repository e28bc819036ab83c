/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's protocol (agent/daemon/proto.c) and history, without sockets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "history.h"
#include "proto.h"
#include "unit.h"

struct got {
	int lines, too_long, stop_after;
	char last[64];
};

static bool on_line(const char *line, size_t len, bool too_long, void *ctx)
{
	struct got *g = ctx;

	if (too_long) {
		g->too_long++;
		return true;
	}
	g->lines++;
	snprintf(g->last, sizeof(g->last), "%.*s", (int)len, line);
	return !g->stop_after || g->lines < g->stop_after;
}

static void test_lines_split_and_join(void)
{
	struct proto_lines l;
	struct got g = { 0 };

	proto_lines_init(&l, 16);
	CHECK_EQ_INT(proto_lines_feed(&l, "ab\ncd", 5, on_line, &g), 5);
	CHECK_EQ_INT(g.lines, 1);
	CHECK_EQ_STR(g.last, "ab");
	CHECK_EQ_INT(proto_lines_feed(&l, "ef\n", 3, on_line, &g), 3);
	CHECK_EQ_INT(g.lines, 2);
	CHECK_EQ_STR(g.last, "cdef");
	proto_lines_free(&l);
}

static void test_lines_too_long(void)
{
	struct proto_lines l;
	struct got g = { 0 };
	char big[100];

	memset(big, 'x', sizeof(big));
	proto_lines_init(&l, 16);
	proto_lines_feed(&l, big, sizeof(big), on_line, &g);   /* no newline yet */
	proto_lines_feed(&l, big, sizeof(big), on_line, &g);
	proto_lines_feed(&l, "x\nok\n", 5, on_line, &g);
	CHECK_EQ_INT(g.too_long, 1);
	CHECK_EQ_INT(g.lines, 1);
	CHECK_EQ_STR(g.last, "ok");
	CHECK(l.cap <= 16);
	proto_lines_feed(&l, "0123456789abcdefgh\nok2\n", 23, on_line, &g);  /* in one piece */
	CHECK_EQ_INT(g.too_long, 2);
	CHECK_EQ_STR(g.last, "ok2");
	proto_lines_free(&l);
}

static void test_lines_stop(void)
{
	struct proto_lines l;
	struct got g = { .stop_after = 1 };

	proto_lines_init(&l, 16);
	CHECK_EQ_INT(proto_lines_feed(&l, "a\nb\nc\n", 6, on_line, &g), 2);
	CHECK_EQ_INT(g.lines, 1);
	proto_lines_free(&l);
}

static void test_request_parse(void)
{
	struct proto_request r;
	char err[200];
	const char *bad[] = { "garbage", "[1]", "{\"method\":7}", "{\"method\":\"\"}", "{\"a\":1,\"a\":2}",
			      "{\"method\":\"ps\"}\xff" };

	CHECK(proto_request_parse("{\"id\":3,\"method\":\"ps\"}", 22, &r, err, sizeof(err)) == NULL);
	CHECK_EQ_STR(r.method, "ps");
	CHECK_EQ_INT(json_integer_value(r.id), 3);
	proto_request_done(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(proto_request_parse(bad[i], strlen(bad[i]), &r, err, sizeof(err)) != NULL);
		proto_request_done(&r);
	}
}

static void test_params(void)
{
	json_t *doc = json_pack("{s:i, s:s, s:i}", "pid", 42, "task", "job-1", "neg", -1);
	const char *s;
	char err[100];
	pid_t pid;

	CHECK_EQ_INT(proto_param_pid(doc, "pid", &pid, err, sizeof(err)), 0);
	CHECK_EQ_INT(pid, 42);
	CHECK_EQ_INT(proto_param_pid(doc, "neg", &pid, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(proto_param_pid(doc, "task", &pid, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(proto_param_pid(doc, "none", &pid, err, sizeof(err)), -ENOENT);
	CHECK_EQ_INT(proto_param_str(doc, "task", 3, &s, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(proto_param_str(doc, "task", 64, &s, err, sizeof(err)), 0);
	json_decref(doc);
}

static void test_answers(void)
{
	json_t *id = json_string("a\"b");
	size_t len;
	char *line = proto_result(id, "{\"x\":1}", 7, &len);

	CHECK_EQ_STR(line, "{\"id\":\"a\\\"b\",\"result\":{\"x\":1}}\n");
	CHECK_EQ_INT(len, strlen(line));
	free(line);
	line = proto_error(NULL, "bad_request", "bad \xff byte", &len);
	CHECK(line && strstr(line, "\"code\":\"bad_request\"") && strstr(line, "\\\\xff"));
	free(line);
	json_decref(id);
}

static void test_filter(void)
{
	json_t *doc = json_pack("{s:[s], s:[i]}", "kinds", "stall", "pids", 7);
	json_t *bad = json_pack("{s:[s]}", "kinds", "nope");
	struct proto_filter f;
	char err[100];

	CHECK_EQ_INT(proto_filter_parse(doc, &f, err, sizeof(err)), 0);
	CHECK(proto_filter_match(&f, "stall", 7));
	CHECK(!proto_filter_match(&f, "stall", 8));
	CHECK(!proto_filter_match(&f, "task_done", 7));
	CHECK(proto_filter_match(&f, "stall", 0));   /* agent-wide events */
	CHECK_EQ_INT(proto_filter_parse(bad, &f, err, sizeof(err)), -EINVAL);
	json_decref(doc);
	json_decref(bad);
}

static void test_history_bounds(void)
{
	struct history *h = history_new(10, 64 * 4 + 40);
	struct proto_filter all = { 0 };
	size_t len;
	char *q;

	CHECK_EQ_INT(history_add(h, "stall", 1, OWNER_EVERYONE, 100, "{\"n\":1}\n", 8), 0);
	CHECK_EQ_INT(history_add(h, "stall", 1, OWNER_EVERYONE, 101, "{\"n\":2}\n", 8), 0);
	CHECK_EQ_INT(history_add(h, "lint", 2, OWNER_EVERYONE, 102, "{\"n\":3}\n", 8), 0);
	CHECK_EQ_INT(history_add(h, "stall", 1, OWNER_EVERYONE, 103, "no newline", 10), -EINVAL);
	CHECK_EQ_INT(history_count(h), 3);
	q = history_query(h, &all, 0, 0, 2, &len);
	CHECK_EQ_STR(q, "{\"events\":[{\"n\":2},{\"n\":3}],\"total\":3,\"more\":true}");
	free(q);
	history_add(h, "stall", 1, OWNER_EVERYONE, 104, "{\"n\":4}\n", 8);
	history_add(h, "stall", 1, OWNER_EVERYONE, 105, "{\"n\":5}\n", 8);   /* over the byte cap: the oldest goes */
	CHECK_EQ_INT(history_count(h), 4);
	CHECK_EQ_INT(history_evicted(h), 1);
	history_prune(h, 113.5);                            /* older than 10 s: 100..103 */
	CHECK_EQ_INT(history_count(h), 2);
	history_free(h);
}

/* A non-root viewer reads the entries of its own targets and everyone's. */
static void test_history_owners(void)
{
	struct history *h = history_new(10, 1 << 20);
	struct proto_filter all = { 0 };
	size_t len;
	char *q;

	history_add(h, "stall", 1, 0, 100, "{\"n\":1}\n", 8);
	history_add(h, "stall", 2, 4242, 101, "{\"n\":2}\n", 8);
	history_add(h, "agent", 0, OWNER_EVERYONE, 102, "{\"n\":3}\n", 8);
	q = history_query(h, &all, 4242, 0, 10, &len);
	CHECK_EQ_STR(q, geteuid() == 4242 ? "{\"events\":[{\"n\":1},{\"n\":2},{\"n\":3}],\"total\":3,\"more\":false}"
					 : "{\"events\":[{\"n\":2},{\"n\":3}],\"total\":2,\"more\":false}");
	free(q);
	q = history_query(h, &all, 0, 0, 10, &len);
	CHECK_EQ_STR(q, "{\"events\":[{\"n\":1},{\"n\":2},{\"n\":3}],\"total\":3,\"more\":false}");
	free(q);
	history_free(h);
}

int main(void)
{
	RUN(test_lines_split_and_join);
	RUN(test_lines_too_long);
	RUN(test_lines_stop);
	RUN(test_request_parse);
	RUN(test_params);
	RUN(test_answers);
	RUN(test_filter);
	RUN(test_history_bounds);
	RUN(test_history_owners);
	return unit_done();
}
