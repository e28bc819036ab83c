/* SPDX-License-Identifier: GPL-2.0-only */
/* Warnings: lost work grouped by site (never-awaited coroutines,
 * exceptions nobody retrieved, tasks destroyed while pending) with their
 * counts, most frequent first, then the agent's lints with their advice.
 * Enter shows a site's last event: its stack or traceback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ncurses.h>
#include "screen.h"
#include "ui.h"

static struct {
	struct listview lv;
	size_t order[MODEL_LOST_SITES_MAX];
	size_t nlost;      /* rows: order[0..nlost) lost sites, then lints */
	size_t nrows;
	char open[32];
} s;

static const char *const kind_names[LOST_KINDS] = {
	"never awaited", "exception lost", "destroyed pending",
};

static const struct m_lost *sort_lost;

static int cmp_count(const void *a, const void *b)
{
	const struct m_lost *x = &sort_lost[*(const size_t *)a], *y = &sort_lost[*(const size_t *)b];

	return x->count != y->count ? (x->count < y->count ? 1 : -1) :
	       (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

static bool lost_matches(const struct m_lost *l, const char *f)
{
	return !f[0] || text_match(l->coro, f) || text_match(l->site.file, f) ||
	       text_match(kind_names[l->kind], f) || text_match(l->exception, f) || text_match(l->task, f);
}

static bool lint_matches(const struct m_lint *l, const char *f)
{
	return !f[0] || text_match(l->name, f) || text_match(l->message, f) || text_match(l->advice, f);
}

static void collect(const struct m_target *t, const char *filter)
{
	s.nlost = 0;
	for (size_t i = 0; i < t->nlost; i++)
		if (lost_matches(&t->lost[i], filter))
			s.order[s.nlost++] = i;
	sort_lost = t->lost;
	qsort(s.order, s.nlost, sizeof(s.order[0]), cmp_count);
	s.nrows = s.nlost;
	for (size_t i = 0; i < t->nlints; i++)
		s.nrows += lint_matches(&t->lints[i], filter);
}

static const struct m_lint *lint_row(const struct m_target *t, size_t row, const char *filter)
{
	size_t k = row - s.nlost;

	for (size_t i = 0; i < t->nlints; i++)
		if (lint_matches(&t->lints[i], filter) && k-- == 0)
			return &t->lints[i];
	return NULL;
}

static void draw_lost(const struct m_lost *l, int y, struct rect r, bool sel)
{
	char line[600];

	snprintf(line, sizeof(line), "%-17s %6llu  %-22.22s %s:%d%s%s", kind_names[l->kind],
		 (unsigned long long)l->count, l->coro, path_base(l->site.file), l->site.line,
		 l->exception[0] ? "  " : "", l->exception);
	list_row(y, r, line, sel, l->kind == LOST_UNRETRIEVED ? R_BAD : R_WARN);
}

/* A lint takes one row: its name and message, then its advice. */
static void draw_lint(const struct m_lint *l, int y, struct rect r, bool sel)
{
	int role = sel ? R_SELECTED : R_NORMAL, x = r.x;

	screen_fill(y, r.x, r.w, role);
	x += screen_textf(y, x, r.w, sel ? role : R_WARN, "lint %-18s ", l->name);
	x += screen_textf(y, x, r.x + r.w - x, role, "%s", l->message[0] ? l->message : "-");
	if (l->advice[0])
		screen_textf(y, x, r.x + r.w - x, sel ? role : R_GOOD, "  => %s", l->advice);
}

struct preview {
	struct rect r;
	int used;
};

static void preview_line(void *ctx, int role, const char *text)
{
	struct preview *p = ctx;

	if (p->used < p->r.h)
		screen_text(p->r.y + p->used++, p->r.x, p->r.w, text, role);
}

/* Under the list: the selected row's advice or exception, in full. */
static void preview(const struct m_target *t, struct rect r, const char *filter)
{
	struct preview p = { r, 0 };
	const struct m_lint *l = s.lv.sel >= s.nlost ? lint_row(t, s.lv.sel, filter) : NULL;
	const struct m_lost *lost = s.lv.sel < s.nlost ? &t->lost[s.order[s.lv.sel]] : NULL;

	screen_fill(r.y, r.x, r.w, R_COLHEAD);
	screen_text(r.y, r.x, r.w, l ? "Advice" : "Details", R_COLHEAD);
	p.r.y++;
	p.r.h--;
	if (l)
		text_wrap(l->advice[0] ? l->advice : l->message, r.w, R_GOOD, preview_line, &p);
	else if (lost)
		text_wrap(lost->exception[0] ? lost->exception : lost->coro, r.w, R_NORMAL, preview_line, &p);
}

static void draw(struct ui *u, struct rect r)
{
	const struct m_target *t = model_current(u->m);
	int pre_h = r.h >= 12 ? 4 : 0, rows = r.h - 1 - pre_h;

	screen_fill(r.y, r.x, r.w, R_COLHEAD);
	screen_text(r.y, r.x, r.w, "KIND               COUNT  COROUTINE              SITE", R_COLHEAD);
	if (!t)
		return;
	collect(t, u->filter);
	listview_fit(&s.lv, s.nrows, rows);
	for (int i = 0; i < rows && s.lv.top + (size_t)i < s.nrows; i++) {
		size_t k = s.lv.top + (size_t)i;
		const struct m_lint *l;

		if (k < s.nlost)
			draw_lost(&t->lost[s.order[k]], r.y + 1 + i, r, k == s.lv.sel);
		else if ((l = lint_row(t, k, u->filter)))
			draw_lint(l, r.y + 1 + i, r, k == s.lv.sel);
	}
	if (!s.nrows)
		screen_text(r.y + 1, r.x, r.w, "(no lost work and no lints: all good)", R_GOOD);
	else if (pre_h)
		preview(t, (struct rect){ r.y + r.h - pre_h, r.x, pre_h, r.w }, u->filter);
}

/* Where the coroutine is defined, and where it was created when the
 * target tracks coroutine origins (else the agent cannot know). */
static void origin_lines(struct ui *u, struct detail_out *o, pid_t pid, const json_t *ev)
{
	const json_t *def = json_object_get(ev, "defined"), *created = json_object_get(ev, "created");

	if (json_is_object(def))
		detail_line(o, R_NORMAL, "coroutine defined at %s:%lld",
			    json_string_value(json_object_get(def, "file")) ?: "?",
			    (long long)json_integer_value(json_object_get(def, "line")));
	if (json_is_array(created) && json_array_size(created)) {
		detail_line(o, R_LABEL, "Created at:");
		detail_stack(u, o, pid, created, 0, 0);
	} else {
		detail_line(o, R_DIM, "created at: unknown (the target does not track coroutine origins)");
	}
}

static void lost_detail(struct ui *u, struct detail_out *o, const void *arg)
{
	const struct m_target *t = model_current(u->m);
	size_t i = (size_t)strtoul(arg, NULL, 10);
	const struct m_lost *l = t && i < t->nlost ? &t->lost[i] : NULL;
	const json_t *tb;

	if (!l)
		return;
	detail_line(o, R_VALUE, "%s: %s, %llu times", kind_names[l->kind], l->coro,
		    (unsigned long long)l->count);
	detail_line(o, R_NORMAL, "at %s:%d %s", l->site.file, l->site.line, l->site.func);
	if (l->task[0])
		detail_line(o, R_NORMAL, "task %s", l->task);
	if (l->exception[0])
		detail_line(o, R_BAD, "%s", l->exception);
	origin_lines(u, o, t->pid, l->doc);
	tb = json_object_get(l->doc, "traceback");
	detail_line(o, R_LABEL, "%s of the last one:", tb ? "Traceback" : "Stack");
	detail_stack(u, o, t->pid, tb ? tb : json_object_get(l->doc, "stack"), 2, 2);
}

static void lint_detail(struct ui *u, struct detail_out *o, const void *arg)
{
	const struct m_target *t = model_current(u->m);
	const struct m_lint *l = t ? lint_row(t, (size_t)strtoul(arg, NULL, 10), u->filter) : NULL;
	char *all;

	if (!l)
		return;
	detail_line(o, R_WARN, "lint %s (%llu)", l->name, (unsigned long long)l->count);
	detail_line(o, R_NORMAL, "%s", l->message);
	detail_wrap(o, R_GOOD, l->advice[0] ? l->advice : "no advice");
	all = json_dumps(l->doc, JSON_COMPACT);
	detail_line(o, R_DIM, "%s", all ? all : "");
	free(all);
}

static int key(struct ui *u, int ch)
{
	const struct m_target *t = model_current(u->m);

	if (key_enter(ch) && t && s.lv.sel < s.nrows) {
		bool lost = s.lv.sel < s.nlost;

		snprintf(s.open, sizeof(s.open), "%zu", lost ? s.order[s.lv.sel] : s.lv.sel);
		detail_open(u, lost ? "Lost work" : "Lint", lost ? lost_detail : lint_detail, s.open);
		return H_REDRAW;
	}
	return listview_key(&s.lv, ch, list_page());
}

static const struct key_label keys[] = {
	{ "Enter", "Details" }, { "/", "Filter" }, { NULL, NULL },
};

const struct panel_class panel_warnings = {
	.title = "Warnings", .keys = keys, .draw = draw, .key = key,
};
