/* SPDX-License-Identifier: GPL-2.0-only */
/* Tasks: every task of the current target, sortable by any column, the
 * `/` filter, `t` the await tree with folding; Enter opens the task: its
 * coroutine chain with source lines, who awaits it and what it awaits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ncurses.h>
#include "screen.h"
#include "strmap.h"
#include "task_rows.h"
#include "ui.h"

static const struct column {
	const char *title;
	int base, grow;      /* cells, and a share of what is left (up to COL_MAX) */
	int min_cols;        /* shown from this screen width on */
} columns[TC_COLS] = {
	[TC_ID] = { "ID", 14, 0, 150 },
	[TC_NAME] = { "NAME", 12, 3, 0 },
	[TC_STATE] = { "STATE", 7, 0, 0 },
	[TC_CORO] = { "CORO", 12, 3, 0 },
	[TC_LOCATION] = { "LOCATION", 14, 3, 0 },
	[TC_AWAITING] = { "AWAITING", 12, 2, 110 },
	[TC_BY] = { "BY", 3, 0, 96 },
	[TC_AGE] = { "AGE", 6, 0, 0 },
};

#define COL_MAX 48

static struct {
	struct listview lv;
	struct task_row *rows;
	size_t nrows;
	struct task_rows_opts o;
	struct strmap *folded;
	uint64_t fold_gen, built_fold_gen, built_gen;
	pid_t built_pid;
	char built_filter[128];
	struct task_rows_opts built;
	char sel_id[64];
	int widths[TC_COLS];
} s = { .o = { .sort = TC_STATE } };   /* the running task on top */

static void layout(int w)
{
	int used = 0, grow = 0, left;

	for (int c = 0; c < TC_COLS; c++) {
		s.widths[c] = w >= columns[c].min_cols ? columns[c].base : 0;
		used += s.widths[c] ? s.widths[c] + 1 : 0;
		grow += s.widths[c] ? columns[c].grow : 0;
	}
	left = w - used;
	for (int c = 0; c < TC_COLS && left > 0 && grow; c++)
		if (s.widths[c] && s.widths[c] + left * columns[c].grow / grow <= COL_MAX)
			s.widths[c] += left * columns[c].grow / grow;
		else if (s.widths[c] && columns[c].grow)
			s.widths[c] = COL_MAX;
}

static bool stale(const struct m_target *t, const char *filter)
{
	return !s.rows || s.built_pid != t->pid || s.built_gen != t->tasks_gen ||
	       strcmp(s.built_filter, filter) || s.built.sort != s.o.sort ||
	       s.built.invert != s.o.invert || s.built.tree != s.o.tree || s.built_fold_gen != s.fold_gen;
}

/* The selection stays on the same task across snapshots and re-sorts. */
static void rebuild(struct ui *u, const struct m_target *t)
{
	if (!s.folded)
		s.folded = strmap_new(NULL);
	s.o.filter = u->filter;
	s.o.folded = s.folded;
	s.o.now = u->m->now;
	if (task_rows_build(t, &s.o, &s.rows, &s.nrows))
		return;
	s.built = s.o;
	s.built_pid = t->pid;
	s.built_gen = t->tasks_gen;
	s.built_fold_gen = s.fold_gen;
	snprintf(s.built_filter, sizeof(s.built_filter), "%s", u->filter);
	for (size_t i = 0; s.sel_id[0] && i < s.nrows; i++) {
		if (!strcmp(t->tasks[s.rows[i].task].id, s.sel_id)) {
			s.lv.sel = i;
			break;
		}
	}
}

static void cell(int y, int *x, enum task_col c, const char *text, int role)
{
	if (!s.widths[c])
		return;
	screen_fill(y, *x, s.widths[c] + 1, role);
	screen_text(y, *x, s.widths[c], text, role);
	*x += s.widths[c] + 1;
}

static bool is_folded(const struct m_task *k)
{
	const struct strmap_val *v = s.folded ? strmap_get(s.folded, k->id) : NULL;

	return v && v->d != 0;
}

/* "│ │ ├─" for a row at depth 3: a pipe for each ancestor with siblings
 * below it, then the row's own branch. */
static void tree_prefix(const struct task_row *r, char *out, size_t len)
{
	size_t used = 0;

	out[0] = 0;
	for (int d = 1; d <= r->depth && used + 8 < len; d++) {
		bool last = (r->last >> d) & 1;
		const char *g = d < r->depth ? (last ? "  " : screen_glyph(G_TREE_PIPE)) :
				screen_glyph(last ? G_TREE_LAST : G_TREE_MID);

		used += (size_t)snprintf(out + used, len - used, "%s", g);
	}
}

static void draw_row(struct ui *u, const struct m_target *t, size_t i, int y, int x0, bool sel)
{
	const struct task_row *r = &s.rows[i];
	const struct m_task *k = &t->tasks[r->task];
	int role = sel ? R_SELECTED : R_NORMAL, x = x0;
	char buf[512], pre[256], age[16];

	tree_prefix(r, pre, sizeof(pre));
	cell(y, &x, TC_ID, k->id, role);
	snprintf(buf, sizeof(buf), "%s%s%s", pre, k->nkids && is_folded(k) ?
		 screen_glyph(G_TREE_FOLDED) : "", k->name);
	cell(y, &x, TC_NAME, buf, role);
	cell(y, &x, TC_STATE, k->state, sel ? role : k->st == M_RUNNING ? R_GOOD : R_NORMAL);
	cell(y, &x, TC_CORO, k->coro, role);
	if (k->top.file[0])
		snprintf(buf, sizeof(buf), "%s:%d", path_base(k->top.file), k->top.line);
	else
		snprintf(buf, sizeof(buf), "-");
	cell(y, &x, TC_LOCATION, buf, role);
	cell(y, &x, TC_AWAITING, k->awaiting[0] ? k->awaiting : "-", role);
	snprintf(buf, sizeof(buf), "%zu", json_array_size(k->awaited_by));
	cell(y, &x, TC_BY, buf, role);
	fmt_age(u->m->now - k->first_seen, age, sizeof(age));
	cell(y, &x, TC_AGE, age, role);
}

static void draw_head(struct rect r)
{
	int x = r.x;

	screen_fill(r.y, r.x, r.w, R_COLHEAD);
	for (int c = 0; c < TC_COLS; c++) {
		char t[32];

		if (!s.widths[c])
			continue;
		snprintf(t, sizeof(t), "%s%s", columns[c].title,
			 (int)s.o.sort == c ? (s.o.invert ? "^" : "v") : "");
		screen_text(r.y, x, s.widths[c], t, c == (int)s.o.sort ? R_TAB_ACTIVE : R_COLHEAD);
		x += s.widths[c] + 1;
	}
}

static void draw(struct ui *u, struct rect r)
{
	const struct m_target *t = model_current(u->m);
	int rows = r.h - 1;

	layout(r.w);
	draw_head(r);
	u->task_sort = (int)s.o.sort;
	u->task_invert = s.o.invert;
	if (!t || !t->ps) {
		screen_text(r.y + 1, r.x, r.w, t && t->gone ? "(the target is gone; no snapshot)" :
			    "(no task snapshot yet)", R_DIM);
		return;
	}
	if (stale(t, u->filter))
		rebuild(u, t);
	listview_fit(&s.lv, s.nrows, rows);
	for (int i = 0; i < rows && s.lv.top + (size_t)i < s.nrows; i++)
		draw_row(u, t, s.lv.top + (size_t)i, r.y + 1 + i, r.x, s.lv.top + (size_t)i == s.lv.sel);
	if (!s.nrows)
		screen_text(r.y + 1, r.x, r.w, u->filter[0] ? "(no task matches the filter)" : "(no tasks)", R_DIM);
	if (s.nrows && s.lv.sel < s.nrows)
		snprintf(s.sel_id, sizeof(s.sel_id), "%s", t->tasks[s.rows[s.lv.sel].task].id);
}

static const struct m_task *find_task(const struct m_target *t, const char *id)
{
	for (size_t i = 0; t && i < t->ntasks; i++)
		if (!strcmp(t->tasks[i].id, id))
			return &t->tasks[i];
	return NULL;
}

static void detail_links(const struct m_target *t, const struct m_task *k, struct detail_out *o)
{
	size_t p = k->parent, steps = 0;

	detail_line(o, R_LABEL, "Awaited by (up the tree):");
	if (p == (size_t)-1)
		detail_line(o, R_DIM, "  (nobody: a root task)");
	for (; p != (size_t)-1 && steps < 64; p = t->tasks[p].parent, steps++)
		detail_line(o, R_NORMAL, "  %*s%s  %s  %s:%d", (int)steps * 2, "", t->tasks[p].name,
			    t->tasks[p].coro, path_base(t->tasks[p].top.file), t->tasks[p].top.line);
	detail_line(o, R_LABEL, "Awaits: %s", k->awaiting[0] ? k->awaiting : "-");
	for (size_t c = 0; c < k->nkids && c < 200; c++) {
		const struct m_task *kid = &t->tasks[t->kids[k->kid0 + c]];

		detail_line(o, R_NORMAL, "  %s  %s  %s  %s:%d", kid->name, kid->state, kid->coro,
			    path_base(kid->top.file), kid->top.line);
	}
}

static void task_detail(struct ui *u, struct detail_out *o, const void *arg)
{
	const struct m_target *t = model_current(u->m);
	const struct m_task *k = find_task(t, arg);
	const json_t *wt = t ? json_object_get(t->where, "task") : NULL, *stack;

	if (!k) {
		detail_line(o, R_DIM, "Task %s is no longer in the snapshot.", (const char *)arg);
		return;
	}
	detail_line(o, R_VALUE, "%s  %s  %s", k->name, k->state, k->id);
	detail_line(o, R_NORMAL, "coroutine %s, seen for %.0f s", k->coro, u->m->now - k->first_seen);
	/* where's answer has the whole chain; the snapshot's may be cut */
	stack = wt && !strcmp(j_str(wt, "id"), k->id) ? json_object_get(wt, "stack") : k->stack;
	detail_line(o, R_LABEL, "Coroutine chain (innermost first):");
	detail_stack(u, o, t->pid, stack, 4, 2);
	detail_links(t, k, o);
}

static void fetch(struct ui *u)
{
	const struct m_target *t = model_current(u->m);

	if (u->detail && t && s.sel_id[0])
		u->ask(u->ask_ctx, "where", t->pid, s.sel_id, json_pack("{s:s}", "task", s.sel_id));
}

static int fold(const struct m_target *t, bool on)
{
	const struct m_task *k = t && s.lv.sel < s.nrows ? &t->tasks[s.rows[s.lv.sel].task] : NULL;
	struct strmap_val *v;

	if (!k || !s.o.tree || !s.folded || (on && !k->nkids))
		return H_HANDLED;
	v = strmap_put(s.folded, k->id);
	if (v)
		v->d = on;
	s.fold_gen++;
	return H_REDRAW;
}

/* The sort column moves over the columns shown. */
static void sort_step(int dir)
{
	int c = (int)s.o.sort;

	for (int i = 0; i < TC_COLS; i++) {
		c = (c + dir + TC_COLS) % TC_COLS;
		if (s.widths[c])
			break;
	}
	s.o.sort = (enum task_col)c;
}

static int key(struct ui *u, int ch)
{
	const struct m_target *t = model_current(u->m);
	char title[160];

	switch (ch) {
	case '<': case ',':
		sort_step(-1);
		return H_REDRAW;
	case '>': case '.': case 's':
		sort_step(1);
		return H_REDRAW;
	case 'i':
		s.o.invert = !s.o.invert;
		return H_REDRAW;
	case 't':
		s.o.tree = !s.o.tree;
		return H_REDRAW;
	case KEY_LEFT: case '-':
		return fold(t, true);
	case KEY_RIGHT: case '+': case '=':
		return fold(t, false);
	default:
		if (!key_enter(ch))
			break;
		if (!t || s.lv.sel >= s.nrows)
			return H_HANDLED;
		snprintf(s.sel_id, sizeof(s.sel_id), "%s", t->tasks[s.rows[s.lv.sel].task].id);
		snprintf(title, sizeof(title), "Task %s", t->tasks[s.rows[s.lv.sel].task].name);
		detail_open(u, title, task_detail, s.sel_id);
		return H_REDRAW | H_REFRESH;
	}
	return listview_key(&s.lv, ch, list_page());
}

static const struct key_label keys[] = {
	{ "Enter", "Task" }, { "/", "Filter" }, { "t", "Tree" }, { "<>", "Sort" }, { "i", "Invert" },
	{ NULL, NULL },
};

const struct panel_class panel_tasks = {
	.title = "Tasks", .keys = keys, .draw = draw, .key = key, .fetch = fetch,
};
