/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's lints on made-up stalls and snapshots: sites, advice,
 * episodes raised once, the timeout found in the source or the chain. */
#include <stdlib.h>
#include <string.h>
#include "lint.h"
#include "lint_guard.h"
#include "unit.h"

static const char SRC[] =
	"import asyncio\n"                              /* 1 */
	"async def f(ev):\n"                            /* 2 */
	"    async with asyncio.timeout(5):\n"          /* 3 */
	"        x = 1\n"                               /* 4 */
	"\n"                                            /* 5 */
	"        # a comment at column 0 would not end the block\n"
	"        await ev.wait()\n"                     /* 7 */
	"    await ev.wait()\n"                         /* 8 */
	"async def g(ev):\n"                            /* 9 */
	"    async with asyncio.timeout(1): await ev.wait()\n"  /* 10 */
	"    with open('x'):\n"                         /* 11 */
	"\tawait ev.wait()\n";                          /* 12 */

static void test_guard_text(void)
{
	size_t n = strlen(SRC);

	CHECK(lint_guard_text(SRC, n, 4));
	CHECK(lint_guard_text(SRC, n, 7));
	CHECK(!lint_guard_text(SRC, n, 8));
	CHECK(lint_guard_text(SRC, n, 10));
	CHECK(!lint_guard_text(SRC, n, 12));
	CHECK(!lint_guard_text(SRC, n, 5));      /* blank */
	CHECK(!lint_guard_text(SRC, n, 0));
	CHECK(!lint_guard_text(SRC, n, 1000));
	CHECK(!lint_guard_text(SRC, 0, 1));
	CHECK(!lint_guard_text("\n\n\n", 3, 2));
}

static struct py_frame frames[] = {
	{ "sleep", "/usr/lib/python3.11/asyncio/tasks.py", 639, 0 },
	{ "get", "/usr/lib/python3/dist-packages/aiohttp/client.py", 10, 0 },
	{ "handler", "/srv/app.py", 42, 0 },
};

static void test_site_frame(void)
{
	struct py_stack s = { .depth = 3, .frames = frames };
	struct py_stack std = { .depth = 1, .frames = frames };
	struct py_stack none = { 0 };

	CHECK(lint_site_frame(&s) == &frames[1]);   /* site-packages is code */
	CHECK(lint_site_frame(&std) == &frames[0]);
	CHECK(lint_site_frame(&none) == NULL);
	CHECK(lint_site_frame(NULL) == NULL);
}

static struct stall_report stall(const struct py_stack *s, double ms, double on_cpu, int nr)
{
	struct stall_report r = { .pid = 7, .ts = 100, .duration_ms = ms, .on_cpu_ms = on_cpu,
				  .off_cpu_ms = ms - on_cpu, .stack = s, .nsyscalls = nr >= 0 };

	r.syscalls[0].nr = nr;
	return r;
}

static void test_blocking_call(void)
{
	struct py_stack at = { .depth = 1, .frames = &frames[2] }, other = { .depth = 1, .frames = frames };
	struct lint_sites *s = lint_sites_new(7, 3);
	struct stall_report r = stall(&at, 200, 150, -1);
	json_t *ev, *arr = json_array();

	CHECK(!lint_sites_stall(s, &r, 1));
	r.ongoing = true;
	CHECK(!lint_sites_stall(s, &r, 1));   /* an ongoing report is not a stall yet */
	r.ongoing = false;
	CHECK(!lint_sites_stall(s, &r, 2));
	r = stall(&other, 100, 0, -1);
	CHECK(!lint_sites_stall(s, &r, 2));
	r = stall(&at, 300, 250, -1);
	ev = lint_sites_stall(s, &r, 3);
	CHECK(ev != NULL);
	CHECK_EQ_STR(json_string_value(json_object_get(ev, "lint")), "blocking-call");
	CHECK_EQ_INT(json_integer_value(json_object_get(ev, "count")), 3);
	CHECK_NEAR(json_number_value(json_object_get(ev, "total_ms")), 700, 1e-9);
	CHECK(strstr(json_string_value(json_object_get(ev, "advice")), "asyncio.to_thread") != NULL);
	json_decref(ev);
	CHECK(!lint_sites_stall(s, &r, 4));   /* raised once */
	lint_sites_append(s, arr);
	CHECK_EQ_INT(json_array_size(arr), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(arr, 0), "count")), 4);
	json_decref(arr);
	lint_sites_free(s);
}

static int guard_calls;

static bool guard_line_7(void *ctx, const char *file, int line)
{
	guard_calls++;
	return line == 7;
}

static void task(struct aio_task *t, uint64_t addr, const char *coro, struct py_frame *f)
{
	memset(t, 0, sizeof(*t));
	t->addr = addr;
	t->name = coro;
	t->coro_name = coro;
	t->state = AIO_PENDING;
	t->awaiting = "Event.wait";
	t->stack.depth = 1;
	t->stack.frames = f;
}

static size_t count_kind(json_t *arr, const char *kind)
{
	size_t i, n = 0;
	json_t *v;

	json_array_foreach(arr, i, v)
		n += !strcmp(json_string_value(json_object_get(v, "lint")), kind);
	return n;
}

static void test_tasks(void)
{
	static struct py_frame at7 = { "f", "/srv/a.py", 7, 0 }, at8 = { "f", "/srv/a.py", 8, 0 };
	struct lint_opts o = { .pending_max = 3, .await_s = 10 };
	struct lint_tasks *l = lint_tasks_new(7, &o, guard_line_7, NULL);
	struct aio_task tasks[6];
	struct aio_snapshot snap = { .tasks = tasks, .n = 6 };
	json_t *raised = json_array(), *active = json_array();

	for (int i = 0; i < 4; i++)
		task(&tasks[i], 0x1000 + (uint64_t)i * 16, "crowd", &at8);
	task(&tasks[4], 0x2000, "guarded", &at7);
	task(&tasks[5], 0x3000, "sleeper", &at8);
	tasks[5].awaiting = "sleep 3600s";
	CHECK(!lint_tasks_update(l, &snap, 100, raised, active));
	CHECK_EQ_INT(count_kind(raised, "unbounded-concurrency"), 1);
	CHECK_EQ_INT(count_kind(raised, "long-await"), 0);
	json_array_clear(raised);
	json_array_clear(active);
	CHECK(!lint_tasks_update(l, &snap, 111, raised, active));
	CHECK_EQ_INT(count_kind(raised, "unbounded-concurrency"), 0);   /* same episode */
	CHECK_EQ_INT(count_kind(active, "unbounded-concurrency"), 1);
	CHECK_EQ_INT(count_kind(raised, "long-await"), 1);             /* crowd at line 8 only */
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(raised, 0), "tasks")), 4);
	CHECK_EQ_INT(guard_calls, 2);   /* lines 8 and 7, once each */
	json_array_clear(raised);
	json_array_clear(active);
	tasks[0].stack.frames = &at7;   /* moved: its wait starts again */
	snap.n = 3;
	CHECK(!lint_tasks_update(l, &snap, 112, raised, active));
	CHECK_EQ_INT(json_array_size(raised), 0);
	CHECK_EQ_INT(count_kind(active, "unbounded-concurrency"), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(active, 0), "tasks")), 2);
	json_decref(raised);
	json_decref(active);
	lint_tasks_free(l);
}

static void test_rising(void)
{
	static struct py_frame f = { "g", "/srv/g.py", 1, 0 };
	struct lint_opts o = { .pending_max = 1000, .await_s = 1e9 };
	struct lint_tasks *l = lint_tasks_new(7, &o, NULL, NULL);
	struct aio_task tasks[12];
	struct aio_snapshot snap = { .tasks = tasks };
	json_t *raised = json_array(), *active = json_array();
	size_t fired = 0;

	for (int i = 0; i < 12; i++)
		task(&tasks[i], 0x1000 + (uint64_t)i * 16, "grower", &f);
	for (size_t n = 1; n <= 12; n++) {
		snap.n = n;
		json_array_clear(raised);
		CHECK(!lint_tasks_update(l, &snap, (double)n, raised, active));
		fired += json_array_size(raised);
		if (n == 10)
			CHECK_EQ_INT(fired, 0);   /* 9 rises so far */
	}
	CHECK_EQ_INT(fired, 1);
	json_decref(raised);
	json_decref(active);
	lint_tasks_free(l);
}

int main(void)
{
	RUN(test_guard_text);
	RUN(test_site_frame);
	RUN(test_blocking_call);
	RUN(test_tasks);
	RUN(test_rising);
	return unit_done();
}
