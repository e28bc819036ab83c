/* SPDX-License-Identifier: GPL-2.0-only */
/* loopscope ps PID: every asyncio task of every running loop. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "attach.h"
#include "cli.h"
#include "commands.h"
#include "output.h"
#include "proc.h"
#include "task_output.h"
#include "text.h"

enum sort_key { SORT_NONE, SORT_NAME, SORT_STATE, SORT_LOCATION };

static struct ps_env {
	pid_t pid;
	bool json;
	enum sort_key sort;
	const char *filter;
} env;

static const char doc[] =
"List every asyncio task of a running process, like aiomonitor's ps.\n"
"\n"
"For each pending task of each running loop (the tasks asyncio.all_tasks()\n"
"returns): its id (the Task's address), name, state, coroutine, where it is\n"
"suspended, what it awaits, the tasks awaiting it, and its loop's thread.\n"
"Works with asyncio and uvloop, on CPython 3.10 to 3.15, without any change\n"
"to the target.\n"
"\n"
"USAGE: loopscope ps PID [--sort name|state|location] [--filter TEXT] [--json]\n"
"\n"
"EXAMPLES:\n"
"    loopscope ps 1234                   # the task table\n"
"    loopscope ps 1234 --filter worker   # tasks whose name, coroutine, location\n"
"                                        # or awaited thing contains 'worker'\n"
"    loopscope ps 1234 --json            # the JSON document";

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "Print one JSON document", 0 },
	{ "sort", 's', "KEY", 0, "Sort by name, state or location", 0 },
	{ "filter", 'f', "TEXT", 0, "Only tasks mentioning TEXT", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j':
		env.json = true;
		break;
	case 's':
		if (!strcmp(arg, "name"))
			env.sort = SORT_NAME;
		else if (!strcmp(arg, "state"))
			env.sort = SORT_STATE;
		else if (!strcmp(arg, "location"))
			env.sort = SORT_LOCATION;
		else
			argp_error(state, "invalid sort key '%s' (name, state or location)", arg);
		break;
	case 'f':
		env.filter = arg;
		break;
	default:
		return cli_pid_arg(key, arg, state, &env.pid);
	}
	return 0;
}

static int cmp_tasks(const void *a, const void *b)
{
	const struct aio_task *x = *(const struct aio_task *const *)a;
	const struct aio_task *y = *(const struct aio_task *const *)b;
	char lx[512], ly[512];

	switch (env.sort) {
	case SORT_NAME:
		return strcmp(x->name, y->name);
	case SORT_STATE:
		return (x->state < y->state) ? -1 : x->state > y->state;
	case SORT_LOCATION:
		task_location(x, lx, sizeof(lx));
		task_location(y, ly, sizeof(ly));
		return strcmp(lx, ly);
	default:
		return (x->addr > y->addr) - (x->addr < y->addr);
	}
}

static bool matches(const struct aio_task *t)
{
	char loc[512];

	if (!env.filter)
		return true;
	task_location(t, loc, sizeof(loc));
	return strstr(t->name, env.filter) || strstr(t->coro_name, env.filter) ||
	       strstr(loc, env.filter) || strstr(t->awaiting, env.filter);
}

/* The selected tasks, in display order. */
static const struct aio_task **select_tasks(const struct aio_snapshot *snap, size_t *n)
{
	const struct aio_task **v = calloc(snap->n ? snap->n : 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < snap->n; i++)
		if (matches(&snap->tasks[i]))
			v[(*n)++] = &snap->tasks[i];
	if (v)
		qsort(v, *n, sizeof(*v), cmp_tasks);
	return v;
}

static const char *short_file(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The columns that hold target strings, in display order. */
enum col { COL_NAME, COL_CORO, COL_WHERE, COL_AWAITING, NCOLS };

static const char *const col_title[NCOLS] = { "NAME", "CORO", "LOCATION", "AWAITING" };
static const size_t col_default[NCOLS] = { 20, 24, 26, 28 }; /* width unknown */
#define COL_MIN 8
/* ID, STATE, AWAITED BY and TID, with the spaces between all columns */
#define FIXED_WIDTH (14 + 1 + 9 + 1 + 18 + 1 + 7 + NCOLS)

/* A row's strings, escaped: what the columns are measured by. */
struct row {
	const char *cell[NCOLS];
};

static void row_cells(const struct aio_task *t, struct row *r)
{
	const struct py_frame *f = task_user_frame(t);
	char loc[300] = "-";

	if (f)
		snprintf(loc, sizeof(loc), "%s:%d", short_file(f->file), f->line);
	r->cell[COL_NAME] = text_safe(t->name);
	r->cell[COL_CORO] = text_safe(t->coro_name);
	r->cell[COL_WHERE] = text_safe(loc);
	r->cell[COL_AWAITING] = t->awaiting[0] ? text_safe(t->awaiting) : "-";
}

/* The terminal's width: COLUMNS, else the terminal's own, 0 when unknown. */
static size_t screen_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	long v = env ? strtol(env, NULL, 10) : 0;

	if (v > 0)
		return (size_t)v;
	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col;
	return 0;
}

/* The column to narrow by one: the widest of NAME, CORO and AWAITING
 * (LOCATION, short and what the user looks for, gives way last); -1 when
 * every one is at COL_MIN. */
static int column_to_narrow(const size_t *width)
{
	static const int order[] = { COL_NAME, COL_CORO, COL_AWAITING };
	int widest = -1;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (width[order[i]] > COL_MIN && (widest < 0 || width[order[i]] > width[widest]))
			widest = order[i];
	return widest >= 0 || width[COL_WHERE] <= COL_MIN ? widest : COL_WHERE;
}

/* Each column as wide as its widest cell; on a screen too narrow, the
 * widest columns give way first, down to COL_MIN. */
static void fit_columns(const struct aio_task **v, size_t n, size_t *width)
{
	size_t screen = screen_width(), total = FIXED_WIDTH;
	struct row r;

	for (int c = 0; c < NCOLS; c++)
		width[c] = screen ? strlen(col_title[c]) : col_default[c];
	for (size_t i = 0; screen && i < n; i++) {
		row_cells(v[i], &r);
		for (int c = 0; c < NCOLS; c++)
			width[c] = text_width(r.cell[c]) > width[c] ? text_width(r.cell[c]) : width[c];
	}
	for (int c = 0; c < NCOLS; c++)
		total += width[c];
	while (screen && total > screen) {
		int c = column_to_narrow(width);

		if (c < 0)
			break;
		width[c]--;
		total--;
	}
}

/* Cells are cut on a character boundary with "…": names keep both ends
 * (task-1…-17), coroutines and locations their end (the method name, the
 * line number); target strings are escaped first, so no name can forge a
 * row. */
static void print_row(const struct aio_task *t, const size_t *width)
{
	char id[32], by[64] = "", cell[NCOLS][4 * 256 + 1];
	struct row r;

	row_cells(t, &r);
	task_id(t->addr, id, sizeof(id));
	if (t->n_awaited_by)
		snprintf(by, sizeof(by), t->n_awaited_by > 1 ? "0x%llx +%zu" : "0x%llx",
			 (unsigned long long)t->awaited_by[0], t->n_awaited_by - 1);
	for (int c = 0; c < NCOLS; c++) {
		size_t w = width[c] < 256 ? width[c] : 256;

		if (c == COL_NAME)
			text_column_middle(r.cell[c], w, cell[c], sizeof(cell[c]));
		else if (c == COL_AWAITING)
			text_column(r.cell[c], w, cell[c], sizeof(cell[c]));
		else
			text_column_end(r.cell[c], w, cell[c], sizeof(cell[c]));
	}
	printf("%-14s %s %-9s %s %s %s %-18s %d\n", id, cell[COL_NAME], task_state_name(t->state),
	       cell[COL_CORO], cell[COL_WHERE], cell[COL_AWAITING], by[0] ? by : "-", t->loop_tid);
}

static void print_text(const struct py_proc *p, const struct aio_snapshot *snap,
		       const struct aio_task **v, size_t n)
{
	const struct colors *c = colors_for(stdout);
	size_t width[NCOLS];

	printf("%sPID %d: Python %s, %zu loop%s, %zu task%s%s", c->bold, p->pid, p->version,
	       snap->nloops, snap->nloops == 1 ? "" : "s", snap->n, snap->n == 1 ? "" : "s", c->reset);
	for (size_t i = 0; i < snap->nloops; i++)
		printf("%s thread %d (%s)", i ? "," : "  loops:", snap->loops[i].tid,
		       snap->loops[i].uvloop ? "uvloop" : "asyncio");
	printf("\n");
	if (snap->partial)
		printf("%s%d task(s) changed while read and are incomplete%s\n", c->yellow,
		       snap->partial, c->reset);
	fit_columns(v, n, width);
	printf("%s%-14s %-*s %-9s %-*s %-*s %-*s %-18s %s%s\n", c->bold, "ID",
	       (int)width[COL_NAME], "NAME", "STATE", (int)width[COL_CORO], "CORO",
	       (int)width[COL_WHERE], "LOCATION", (int)width[COL_AWAITING], "AWAITING",
	       "AWAITED BY", "TID", c->reset);
	for (size_t i = 0; i < n; i++)
		print_row(v[i], width);
}

int cmd_ps(int argc, char **argv)
{
	const struct argp argp = { .options = opts, .parser = parse_arg, .args_doc = "PID", .doc = doc };
	const struct aio_task **v;
	struct aio_snapshot snap;
	struct py_proc *p;
	size_t n;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_USAGE;
	if (attach_snapshot(env.pid, &p, &snap))
		return EXIT_FAIL;
	v = select_tasks(&snap, &n);
	if (env.json) {
		json_stream_begin(stdout, snapshot_header_json(p, &snap), "tasks");
		for (size_t i = 0; v && i < n; i++)
			json_stream_item(stdout, task_json(v[i]), i == 0);
		json_stream_end(stdout);
	} else if (v) {
		print_text(p, &snap, v, n);
	}
	free(v);
	aio_snapshot_free(&snap);
	py_proc_free(p);
	return EXIT_OK;
}
