/* SPDX-License-Identifier: GPL-2.0-only */
/* Task snapshots built on the parser's thread (task_snap.h) and swapped
 * into the model: the very rows built there are the ones shown, in the
 * order the answers came; first-seen times carry over per target; while
 * a new answer is being built the view shows the old one whole; a
 * presorted snapshot gives the same rows as one sorted by the view. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "client.h"
#include "model.h"
#include "strmap.h"
#include "task_rows.h"
#include "task_snap.h"
#include "unit.h"

/* A TUI session's plumbing without the terminal: a socketpair standing
 * for the agent, the client parsing on its thread with the snapshot hook. */
struct rig {
	struct client *c;
	struct task_snap_chain *chain;
	struct model *m;
	int agent;
	void *last_prepared;    /* what came with the last ps answer */
	int answers;
};

static void dispose(json_t *doc, void *c)
{
	client_dispose(c, doc);
}

static void rig_open(struct rig *r)
{
	int sv[2];
	struct line_prepare hook = { task_snap_prepare, task_snap_release, NULL };

	memset(r, 0, sizeof(*r));
	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	r->chain = task_snap_chain_new();
	hook.ctx = r->chain;
	r->c = client_new();
	r->m = model_new();
	CHECK(r->chain && r->c && r->m);
	CHECK(!client_parse_async(r->c, &hook));
	CHECK(!client_adopt(r->c, sv[0]));
	model_set_dispose(r->m, dispose, r->c);
	r->agent = sv[1];
}

static void rig_close(struct rig *r)
{
	model_set_dispose(r->m, NULL, NULL);
	close(r->agent);
	client_free(r->c);
	task_snap_chain_free(r->chain);
	model_free(r->m);
}

static void on_msg(const struct client_msg *msg, void *ctx)
{
	struct rig *r = ctx;

	if (msg->type == CLIENT_RESULT && !strcmp(msg->method, "ps")) {
		r->last_prepared = msg->prepared;
		r->answers++;
	}
	model_on_msg(msg, r->m);
}

/* {"id":ID,"result":{"pid":PID,"tasks":[...]}}: tasks named name-I with
 * ids 0x(base+I), every fourth awaited by the one before it. */
static char *ps_answer(int id, pid_t pid, int base, int n, size_t *len)
{
	size_t cap = 256 + (size_t)n * 200, used;
	char *s = malloc(cap);

	used = (size_t)snprintf(s, cap, "{\"id\":%d,\"result\":{\"pid\":%d,\"loops\":[{\"type\":\"asyncio\"}],"
				"\"tasks\":[", id, (int)pid);
	for (int i = 0; i < n; i++) {
		char by[32] = "";

		if (i % 4 == 1)
			snprintf(by, sizeof(by), "\"0x%x\"", base + i - 1);
		used += (size_t)snprintf(s + used, cap - used, "%s{\"id\":\"0x%x\",\"name\":\"t%05d\",\"state\":\"%s\","
					 "\"coro\":\"c%d\",\"stack\":[{\"func\":\"f\",\"file\":\"/app/a.py\",\"line\":%d}],"
					 "\"awaited_by\":[%s]}", i ? "," : "", base + i, (n - i) * 7 % n,
					 i % 3 ? "pending" : "running", i % 5, i, by);
	}
	used += (size_t)snprintf(s + used, cap - used, "]}}\n");
	*len = used;
	return s;
}

/* Asks for pid's tasks and answers (the request's id read back); the
 * answer is read into the client (pushed to its thread), not delivered. */
static void send_ps(struct rig *r, pid_t pid, int base, int n)
{
	char req[256] = "";
	size_t len, off = 0;
	json_t *asked;
	char *line;

	CHECK(!client_request(r->c, "ps", pid, NULL, NULL));
	CHECK(!client_flush(r->c));
	CHECK(read(r->agent, req, sizeof(req) - 1) > 0);
	asked = json_loads(req, JSON_DISABLE_EOF_CHECK, NULL);
	line = ps_answer((int)j_num(asked, "id"), pid, base, n, &len);
	json_decref(asked);
	while (off < len) {
		ssize_t k = send(r->agent, line + off, len - off, MSG_DONTWAIT);

		if (k > 0)
			off += (size_t)k;
		client_read(r->c, on_msg, r);
	}
	client_read(r->c, on_msg, r);
	free(line);
}

/* Until the thread has parsed (and prepared) what was sent. */
static void wait_parsed(struct rig *r)
{
	struct pollfd p = { .fd = client_parse_fd(r->c), .events = POLLIN };

	CHECK(poll(&p, 1, 10000) == 1);
}

static void deliver_all(struct rig *r)
{
	client_deliver(r->c, true, on_msg, r);
}

static size_t counted(const struct m_target *t)
{
	size_t n = 0;

	for (int s = 0; s <= M_UNKNOWN; s++)
		n += t->by_state[s];
	return n;
}

static const struct m_task *task_by_id(const struct m_target *t, const char *id)
{
	for (size_t i = 0; i < t->ntasks; i++)
		if (!strcmp(t->tasks[i].id, id))
			return &t->tasks[i];
	return NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* The rows the thread built are the rows shown: swapped, not rebuilt;
 * links and counts are there; sorted as the view asked. */
static void test_prepared_is_swapped_in(void)
{
	struct rig r;
	const struct m_target *t;
	const struct task_snap *s;

	rig_open(&r);
	task_snap_chain_want_order(r.chain, TC_NAME, false);
	send_ps(&r, 4242, 0x1000, 40);
	deliver_all(&r);
	t = model_current(r.m);
	s = r.last_prepared;
	CHECK(t && s);
	if (!t || !s)
		goto out;
	CHECK(t->snap == s);
	CHECK(t->tasks == s->tasks);
	CHECK_EQ_INT(t->ntasks, 40);
	CHECK_EQ_INT(counted(t), 40);
	CHECK_EQ_INT(t->by_state[M_RUNNING], 14);
	CHECK_EQ_STR(t->tasks[t->tasks[1].parent].id, "0x1000");   /* 0x1001 awaited by 0x1000 */
	CHECK_EQ_INT(t->tasks[0].nkids, 1);
	CHECK(s->order && s->order_sort == TC_NAME);
	for (size_t i = 1; s->order && i < s->ntasks; i++)
		CHECK(strcmp(s->tasks[s->order[i - 1]].name, s->tasks[s->order[i]].name) <= 0);
	CHECK_EQ_STR(t->loop, "asyncio");
	/* then only the model and the thread's chain hold it (the delivery's
	 * reference is let go on the thread) */
	for (int i = 0; i < 5000 && atomic_load(&t->snap->refs) != 2; i++)
		sleep_ms(1);
	CHECK_EQ_INT(atomic_load(&t->snap->refs), 2);
out:
	rig_close(&r);
}

/* Answers apply in the order they came; a task keeps the first-seen time
 * of its own target's earlier snapshot, not another target's with the
 * same id; a new task is seen later. */
static void test_order_and_first_seen(void)
{
	struct rig r;
	const struct m_target *a, *b;
	double a_first, b_first;

	rig_open(&r);
	send_ps(&r, 100, 0x1000, 8);          /* A: 0x1000..0x1007 */
	deliver_all(&r);
	sleep_ms(30);
	send_ps(&r, 200, 0x1000, 8);          /* B: the same ids */
	deliver_all(&r);
	sleep_ms(30);
	send_ps(&r, 100, 0x1004, 8);          /* A again: 0x1004.. kept, 0x1008.. new */
	send_ps(&r, 100, 0x1006, 8);          /* and again, before the first was delivered */
	deliver_all(&r);
	a = model_target_of(r.m, 100, false);
	b = model_target_of(r.m, 200, false);
	CHECK(a && b);
	if (!a || !b)
		goto out;
	CHECK_EQ_INT(r.answers, 4);
	CHECK_EQ_STR(a->tasks[0].id, "0x1006");                   /* the last one is shown */
	CHECK_EQ_INT(a->tasks_gen, 3);
	b_first = task_by_id(b, "0x1006")->first_seen;
	a_first = task_by_id(a, "0x1006")->first_seen;
	CHECK(a_first < b_first);                                  /* A's own, from its first */
	CHECK(task_by_id(a, "0x100d")->first_seen > b_first);      /* new in the last */
	CHECK(task_by_id(a, "0x1009")->first_seen > b_first);      /* new in A's second */
	CHECK(r.last_prepared == a->snap);
out:
	rig_close(&r);
}

/* While the thread builds a new snapshot the model shows the old one,
 * whole and readable (the thread let go of it; the model still holds it);
 * after delivery, the new one, whole. */
static void test_never_half(void)
{
	struct rig r;
	const struct m_target *t;
	uint64_t gen;

	rig_open(&r);
	send_ps(&r, 4242, 0x1000, 30);
	deliver_all(&r);
	t = model_current(r.m);
	CHECK(t != NULL);
	if (!t)
		goto out;
	gen = t->tasks_gen;
	send_ps(&r, 4242, 0x2000, 20000);
	wait_parsed(&r);                       /* built on the thread, not delivered */
	CHECK_EQ_INT(t->tasks_gen, gen);
	CHECK_EQ_INT(t->ntasks, 30);
	CHECK_EQ_INT(counted(t), 30);
	CHECK_EQ_STR(t->tasks[29].id, "0x101d");
	CHECK_EQ_STR(t->tasks[t->tasks[29].parent].id, "0x101c");
	CHECK_EQ_INT(atomic_load(&t->snap->refs), 1);             /* the chain moved on */
	deliver_all(&r);
	CHECK_EQ_INT(t->tasks_gen, gen + 1);
	CHECK_EQ_INT(t->ntasks, 20000);
	CHECK_EQ_INT(counted(t), 20000);
	CHECK(t->tasks == ((struct task_snap *)r.last_prepared)->tasks);
	CHECK_EQ_STR(t->tasks[19999].id, "0x6e1f");
out:
	rig_close(&r);
}

/* A prepared snapshot of another pid than asked (a hostile answer) is not
 * shown: the model builds the rows from the answer for the pid it asked. */
static void test_other_pid_rebuilt(void)
{
	struct rig r;
	char req[256], line[256];
	const struct m_target *t;
	int n;

	rig_open(&r);
	CHECK(!client_request(r.c, "ps", 4242, NULL, NULL));
	CHECK(!client_flush(r.c));
	CHECK(read(r.agent, req, sizeof(req)) > 0);
	n = snprintf(line, sizeof(line), "{\"id\":1,\"result\":{\"pid\":77,\"tasks\":[{\"id\":\"0x1\",\"name\":\"x\","
		     "\"state\":\"pending\"}]}}\n");
	CHECK(write(r.agent, line, (size_t)n) == n);
	while (!r.answers) {
		client_read(r.c, on_msg, &r);
		client_deliver(r.c, false, on_msg, &r);
	}
	t = model_target_of(r.m, 4242, false);
	CHECK(t && r.last_prepared);
	if (t) {
		CHECK(t->snap != r.last_prepared);
		CHECK_EQ_INT(t->ntasks, 1);
		CHECK_EQ_STR(t->tasks[0].name, "x");
	}
	CHECK(!model_target_of(r.m, 77, false) || !model_target_of(r.m, 77, false)->ntasks);
	rig_close(&r);
}

static void rows_of(const struct m_target *t, struct task_rows_opts *o, struct task_row **rows, size_t *n)
{
	*rows = NULL;
	CHECK(!task_rows_build(t, o, rows, n));
}

/* The rows of o with the snapshot's order and without it are the same. */
static void same_rows(struct m_target *t, struct task_rows_opts *o, size_t c)
{
	struct task_row *pre, *own;
	size_t npre, nown;
	uint32_t *order = t->snap->order;

	rows_of(t, o, &pre, &npre);
	t->snap->order = NULL;             /* as if not presorted */
	rows_of(t, o, &own, &nown);
	t->snap->order = order;
	CHECK_EQ_INT(npre, nown);
	CHECK(npre > 0);
	for (size_t i = 0; i < npre && i < nown; i++)
		if (pre[i].task != own[i].task || pre[i].depth != own[i].depth || pre[i].last != own[i].last) {
			CHECK_EQ_INT(c * 100000 + i, c * 100000 + nown);   /* the case and row that differ */
			break;
		}
	free(pre);
	free(own);
}

/* The presorted order gives the rows the view's own sort gives: flat and
 * as the tree, with and without a filter, either direction; a snapshot
 * sorted another way is sorted again. */
static void test_presorted_rows_match(void)
{
	struct rig r;
	struct m_target *t;
	static const struct { enum task_col sort; bool invert, tree; const char *filter; } cases[] = {
		{ TC_NAME, false, false, "" }, { TC_NAME, true, false, "t000" }, { TC_STATE, false, true, "" },
		{ TC_CORO, true, true, "c3" }, { TC_AGE, false, false, "" },
	};

	rig_open(&r);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct task_rows_opts o = { cases[c].sort, cases[c].invert, cases[c].tree, cases[c].filter, NULL, 0 };

		task_snap_chain_want_order(r.chain, cases[c].sort, cases[c].invert);
		send_ps(&r, 4242, 0x1000, 300);
		deliver_all(&r);
		t = model_target_of(r.m, 4242, false);
		CHECK(t && t->snap && t->snap->order);
		if (!t || !t->snap || !t->snap->order)
			break;
		same_rows(t, &o, c);
		o.invert = !o.invert;              /* sorted another way than the snapshot */
		same_rows(t, &o, c + 50);
	}
	rig_close(&r);
}

int main(void)
{
	RUN(test_prepared_is_swapped_in);
	RUN(test_order_and_first_seen);
	RUN(test_never_half);
	RUN(test_other_pid_rebuilt);
	RUN(test_presorted_rows_match);
	return unit_done();
}
