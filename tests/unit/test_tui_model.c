/* SPDX-License-Identifier: GPL-2.0-only */
/* The TUI's pure code: the protocol client's framing and id matching over
 * a socketpair (parsed there and on the parser's thread), the model from hostile answers and events, the task rows
 * (sort, filter, await tree with a cycle), the string map, the replay's
 * order of rotated files and where a truncated one stops. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "client.h"
#include "model.h"
#include "replay.h"
#include "strmap.h"
#include "task_rows.h"
#include "unit.h"

static void feed(struct model *m, const char *method, pid_t pid, const char *json)
{
	json_t *doc = json_loads(json, JSON_ALLOW_NUL, NULL);
	struct client_msg msg = { method ? CLIENT_RESULT : CLIENT_EVENT, method, pid, "", doc };

	CHECK(doc != NULL);
	model_on_msg(&msg, m);
	json_decref(doc);
}

static void test_strmap(void)
{
	struct strmap *s = strmap_new(NULL);
	char key[32];

	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		strmap_put(s, key)->d = i;
	}
	CHECK_EQ_INT(strmap_count(s), 5000);
	CHECK_EQ_INT(strmap_get(s, "k4321")->d, 4321);
	CHECK(strmap_get(s, "nope") == NULL);
	strmap_free(s);
}

struct got {
	int results, events, errors;
	char last_method[16];
	char order[16];     /* R, E, X: result, event, error, as delivered */
};

static void on_msg(const struct client_msg *m, void *ctx)
{
	struct got *g = ctx;
	size_t n = strlen(g->order);

	if (m->type == CLIENT_EVENT)
		g->events++;
	else if (m->type == CLIENT_ERROR)
		g->errors++;
	else
		g->results++;
	if (m->method)
		snprintf(g->last_method, sizeof(g->last_method), "%s", m->method);
	if (n + 1 < sizeof(g->order))
		g->order[n] = m->type == CLIENT_EVENT ? 'E' : m->type == CLIENT_ERROR ? 'X' : 'R';
}

/* Answers come back with their method; garbage, unknown ids, a line split
 * across reads and a line past nothing are counted, not delivered. */
static void test_client_framing(void)
{
	struct client *c = client_new();
	struct got g = { 0 };
	int sv[2];
	char buf[256];
	const char *junk = "not json\n{\"id\":999,\"result\":{}}\n{\"event\":\"stall\"}\n{\"id\":1,\"res";

	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK(!client_adopt(c, sv[0]));
	CHECK(!client_request(c, "ps", 42, NULL, NULL));
	CHECK(!client_flush(c));
	CHECK(read(sv[1], buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"method\":\"ps\"") && strstr(buf, "\"pid\":42"));
	CHECK(write(sv[1], junk, strlen(junk)) > 0);
	client_read(c, on_msg, &g);
	CHECK_EQ_INT(g.events, 1);
	CHECK_EQ_INT(g.results, 0);
	CHECK(write(sv[1], "ult\":{\"tasks\":[]}}\n", 19) == 19);
	client_read(c, on_msg, &g);
	CHECK_EQ_INT(g.results, 1);
	CHECK_EQ_STR(g.last_method, "ps");
	CHECK_EQ_INT(client_bad_lines(c), 2);
	close(sv[1]);
	CHECK_EQ_INT(client_read(c, on_msg, &g), -EPIPE);
	CHECK(!client_connected(c));
	client_free(c);
}

/* Writes all of data, reading it into c as the socket fills up. */
static void write_reading(int fd, struct client *c, const char *data, size_t len, struct got *g)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_DONTWAIT);

		if (n > 0) {
			data += n;
			len -= (size_t)n;
		}
		client_read(c, on_msg, g);
	}
	client_read(c, on_msg, g);
}

/* Parsed on the thread: a 2 MB answer, then an event, then garbage, come
 * back in that order, one delivery stopping after the big answer; the
 * end of the connection delivers what came before it. */
static void test_client_async(void)
{
	struct client *c = client_new();
	struct got g = { 0 };
	size_t big = 2u << 20;
	char *line = malloc(big + 64);
	const char *tail = "{\"event\":\"stall\"}\nnot json\n{\"event\":\"lint\"}\n";
	int sv[2], n;

	CHECK(line && !socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK(!client_parse_async(c, NULL) && client_parse_fd(c) >= 0);
	CHECK(!client_adopt(c, sv[0]));
	CHECK(!client_request(c, "ps", 7, NULL, NULL));
	CHECK(!client_flush(c));
	n = snprintf(line, 64, "{\"id\":1,\"result\":{\"pad\":\"");
	memset(line + n, 'x', big);
	memcpy(line + n + big, "\"}}\n", 4);
	write_reading(sv[1], c, line, (size_t)n + big + 4, &g);
	write_reading(sv[1], c, tail, strlen(tail), &g);
	CHECK_EQ_INT(g.results + g.events, 0);           /* nothing parsed on this thread */
	while (!g.results)
		client_deliver(c, false, on_msg, &g);
	CHECK_EQ_STR(g.order, "R");                      /* it stopped after the big one */
	CHECK_EQ_STR(g.last_method, "ps");
	close(sv[1]);
	while (client_read(c, on_msg, &g) != -EPIPE)
		;
	CHECK_EQ_STR(g.order, "REE");
	CHECK_EQ_INT(client_bad_lines(c), 1);
	CHECK(!client_connected(c));
	client_free(c);
	free(line);
}

static void test_model_stalls(void)
{
	struct model *m = model_new();
	const struct m_target *t;

	model_set_now(m, 1000);
	m->connected = true;
	feed(m, NULL, 0, "{\"event\":\"stall\",\"pid\":7,\"id\":3,\"ts\":999,\"duration_ms\":150,\"ongoing\":true,"
			  "\"syscalls\":[{\"name\":\"read\",\"ms\":1},{\"name\":\"clock_nanosleep\",\"ms\":140}],"
			  "\"stack\":[{\"func\":\"dumps\",\"file\":\"/usr/lib/python3.11/json/__init__.py\",\"line\":1},"
			  "{\"func\":\"report\",\"file\":\"/srv/app.py\",\"line\":44}]}");
	t = model_current(m);
	CHECK(t && model_ongoing(t));
	CHECK_EQ_STR(model_ongoing(t)->syscall, "clock_nanosleep");
	CHECK_EQ_STR(model_ongoing(t)->culprit.file, "/srv/app.py");
	model_set_now(m, 1002);
	CHECK(model_stall_elapsed_ms(m, model_ongoing(t)) > 2000);
	feed(m, NULL, 0, "{\"event\":\"stall\",\"pid\":7,\"id\":3,\"ts\":999,\"duration_ms\":2500,\"ongoing\":false}");
	CHECK(!model_ongoing(t));
	CHECK_EQ_INT(t->nstalls, 1);
	/* an ongoing report of a stall that already ended (history order) is ignored */
	feed(m, NULL, 0, "{\"event\":\"stall\",\"pid\":7,\"id\":3,\"ts\":999,\"duration_ms\":100,\"ongoing\":true}");
	CHECK(!model_ongoing(t));
	/* hostile numbers: no overflow, no crash */
	feed(m, NULL, 0, "{\"event\":\"stall\",\"pid\":1e300,\"id\":-5,\"ts\":1e308,\"duration_ms\":-1e308}");
	feed(m, NULL, 0, "{\"event\":\"stall\",\"pid\":7,\"id\":\"x\",\"ts\":1e300,\"duration_ms\":1e308,\"stack\":5}");
	CHECK(model_stall_worst(m, t) <= 1e15);
	model_free(m);
}

static void test_model_lost_and_lints(void)
{
	struct model *m = model_new();
	const struct m_target *t;

	feed(m, "hello", 0, "{\"pid\":1,\"targets\":[{\"pid\":7,\"python\":\"3.11.2\",\"loop\":null}]}");
	for (int i = 0; i < 3; i++)
		feed(m, NULL, 0, "{\"event\":\"never_awaited\",\"pid\":7,\"coro\":\"save\","
				  "\"stack\":[{\"func\":\"h\",\"file\":\"/a.py\",\"line\":9}]}");
	feed(m, NULL, 0, "{\"event\":\"never_awaited\",\"pid\":7,\"coro\":\"save\",\"stack\":[{\"file\":\"/a.py\",\"line\":10}]}");
	feed(m, NULL, 0, "{\"event\":\"lint\",\"pid\":7,\"lint\":\"unbounded-concurrency\",\"coro\":\"fetch\","
			  "\"pending\":5000,\"limit\":1000,\"advice\":\"use a Semaphore\"}");
	feed(m, NULL, 0, "{\"event\":\"lint\",\"pid\":7,\"lint\":5,\"site\":\"x\",\"count\":-3}");
	t = model_current(m);
	CHECK_EQ_STR(t->python, "3.11.2");
	CHECK_EQ_INT(t->nlost, 2);
	CHECK_EQ_INT(t->lost[0].count, 3);
	CHECK_EQ_INT(t->lost_totals[LOST_NEVER_AWAITED], 4);
	CHECK_EQ_INT(t->nlints, 2);
	CHECK(strstr(t->lints[0].message, "fetch: 5000 pending tasks") != NULL);
	feed(m, "lints", 0, "{\"targets\":[{\"pid\":7,\"lints\":[]}]}");
	CHECK_EQ_INT(t->nlints, 0);
	model_free(m);
}

/* a <- b <- c (b awaits... c awaited by b, b by a), d and e await each other */
static const char *const PS =
	"{\"pid\":7,\"loops\":[{\"type\":\"uvloop\"}],\"tasks\":["
	"{\"id\":\"0xa\",\"name\":\"alpha\",\"state\":\"pending\",\"awaited_by\":[]},"
	"{\"id\":\"0xb\",\"name\":\"beta\",\"state\":\"running\",\"awaited_by\":[\"0xa\"]},"
	"{\"id\":\"0xc\",\"name\":\"gamma\",\"state\":\"pending\",\"awaited_by\":[\"0xb\"]},"
	"{\"id\":\"0xd\",\"name\":\"delta\",\"state\":\"pending\",\"awaited_by\":[\"0xe\"]},"
	"{\"id\":\"0xe\",\"name\":\"eps\",\"state\":\"pending\",\"awaited_by\":[\"0xd\"]},"
	"null, 5, {\"id\":{}, \"awaited_by\":\"x\", \"stack\":\"y\"}]}";

static void test_task_rows(void)
{
	struct model *m = model_new();
	struct task_row *rows = NULL;
	struct task_rows_opts o = { .sort = TC_STATE, .filter = "" };
	const struct m_target *t;
	size_t n = 0;

	model_target_of(m, 7, true);
	feed(m, "ps", 7, PS);
	t = model_current(m);
	CHECK_EQ_INT(t->ntasks, 8);
	CHECK_EQ_STR(t->loop, "uvloop");
	CHECK(!task_rows_build(t, &o, &rows, &n));
	CHECK_EQ_INT(n, 8);
	CHECK_EQ_STR(t->tasks[rows[0].task].name, "beta");   /* running first */
	o.tree = true;
	CHECK(!task_rows_build(t, &o, &rows, &n));
	CHECK_EQ_INT(n, 8);                                   /* the cycle shown too, once each */
	for (size_t i = 0; i + 1 < n; i++)
		if (!strcmp(t->tasks[rows[i].task].name, "alpha")) {
			CHECK_EQ_STR(t->tasks[rows[i + 1].task].name, "beta");
			CHECK_EQ_INT(rows[i + 1].depth, 1);
			CHECK_EQ_INT(rows[i + 2].depth, 2);
		}
	o.filter = "gam";
	CHECK(!task_rows_build(t, &o, &rows, &n));
	CHECK_EQ_INT(n, 3);                                   /* gamma and its awaiters */
	o.tree = false;
	CHECK(!task_rows_build(t, &o, &rows, &n));
	CHECK_EQ_INT(n, 1);
	free(rows);
	model_free(m);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void count_events(const struct client_msg *m, void *ctx)
{
	(*(int *)ctx)++;
}

static void test_replay_order_and_stop(void)
{
	char dir[] = "/tmp/ls-unit-XXXXXX", a[64], b[64];
	const char *files[2] = { a, b };
	struct replay *r = NULL;
	char err[256] = "";
	int n = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(a, sizeof(a), "%s/rec", dir);
	snprintf(b, sizeof(b), "%s/rec.1", dir);
	write_file(a, "{\"event\":\"stall\",\"pid\":1,\"ts\":200}\n{\"event\":\"stall\",\"pid\":1,\"ts\":201}\n{\"event\":\"st");
	write_file(b, "{\"event\":\"target_attached\",\"pid\":1}\n{\"event\":\"stall\",\"pid\":1,\"ts\":100}\n");
	CHECK(!replay_open(files, 2, 1000, &r, err, sizeof(err)));
	CHECK(strstr(replay_status(r, 0), "record 0/4") != NULL);
	CHECK(strstr(replay_status(r, 0), "rec: stopped at line 3: truncated") != NULL);
	/* wall times as the TUI gives them (0 means "not started") */
	CHECK(replay_step(r, 5000, count_events, &n));
	CHECK_EQ_INT((long long)replay_clock(r, 5000), 100);  /* the older file first */
	replay_pause(r, false, 5000);
	replay_advance(r, 5001, count_events, &n);            /* 1 s at x1000 covers all */
	CHECK_EQ_INT(n, 4);
	replay_free(r);
	unlink(a);
	unlink(b);
	rmdir(dir);
}

int main(void)
{
	RUN(test_strmap);
	RUN(test_client_framing);
	RUN(test_client_async);
	RUN(test_model_stalls);
	RUN(test_model_lost_and_lints);
	RUN(test_task_rows);
	RUN(test_replay_order_and_stop);
	return unit_done();
}
