/* SPDX-License-Identifier: GPL-2.0-only */
/* Stalls: the current target's recent stalls, newest first, each with a
 * duration bar, its on-CPU share, main syscall, task and culprit line;
 * a histogram of their durations below; Enter shows the whole stack with
 * source lines and the syscall table. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <ncurses.h>
#include "screen.h"
#include "ui.h"

#define BAR_CELLS 10
#define HIST_BUCKETS 7

static struct {
	struct listview lv;
	size_t shown[MODEL_STALLS_MAX];   /* stall indices, newest first */
	size_t n;
	char open_id[32];
} s;

static bool stall_matches(const struct m_stall *st, const char *f)
{
	return !f[0] || text_match(st->task, f) || text_match(st->syscall, f) ||
	       text_match(st->culprit.file, f) || text_match(st->culprit.func, f) || text_match(st->coro, f);
}

static void collect(const struct m_target *t, const char *filter)
{
	s.n = 0;
	for (size_t i = t->nstalls; i-- > 0 && s.n < MODEL_STALLS_MAX;)
		if (stall_matches(&t->stalls[i], filter))
			s.shown[s.n++] = i;
}

static void bar(int y, int x, double frac, bool sel)
{
	int full = (int)(frac * BAR_CELLS + 0.5);

	for (int i = 0; i < BAR_CELLS; i++)
		screen_text(y, x + i, 1, i < full ? screen_glyph(G_BAR) : " ", sel ? R_SELECTED : R_BAR);
}

static void draw_row(struct ui *u, const struct m_stall *st, double worst, int y, struct rect r, bool sel)
{
	int role = sel ? R_SELECTED : st->ongoing ? R_BAD : R_NORMAL, x = r.x;
	double dur = model_stall_elapsed_ms(u->m, st), tot = st->on_ms + st->off_ms;
	char clock[16], d[16], line[512];

	screen_fill(y, r.x, r.w, role);
	if (st->ongoing)
		snprintf(clock, sizeof(clock), "ONGOING");
	else
		fmt_clock(st->ts, clock, sizeof(clock));
	fmt_ms(dur, d, sizeof(d));
	x += screen_textf(y, x, r.w, role, "%-8s %7s ", clock, d);
	bar(y, x, worst > 0 ? dur / worst : 0, sel);
	x += BAR_CELLS + 1;
	/* the culprit before the task: it is what a narrow screen must keep */
	snprintf(line, sizeof(line), "%3.0f%% %-13.13s %s:%d %s  %s",
		 tot > 0 ? st->on_ms * 100 / tot : 0, st->syscall[0] ? st->syscall : "(on CPU)",
		 path_base(st->culprit.file), st->culprit.line, st->culprit.func, st->task);
	screen_text(y, x, r.x + r.w - x, line, role);
}

/* Durations from the threshold up, one row per bucket. */
static void histogram(const struct model *m, const struct m_target *t, struct rect r)
{
	static const double edges[HIST_BUCKETS] = { 0, 200, 500, 1000, 2000, 5000, 10000 };
	static const char *const names[HIST_BUCKETS] = { "< 200 ms", "< 500 ms", "< 1 s", "< 2 s",
							 "< 5 s", "< 10 s", ">= 10 s" };
	size_t count[HIST_BUCKETS] = { 0 }, most = 1;
	int width = r.w - 20;

	for (size_t i = 0; i < t->nstalls; i++) {
		int b = HIST_BUCKETS - 1;

		while (b > 0 && model_stall_elapsed_ms(m, &t->stalls[i]) < edges[b])
			b--;
		count[b]++;
	}
	for (int b = 0; b < HIST_BUCKETS; b++)
		most = count[b] > most ? count[b] : most;
	screen_fill(r.y, r.x, r.w, R_COLHEAD);
	screen_text(r.y, r.x, r.w, "Stall durations", R_COLHEAD);
	for (int b = 0; b < HIST_BUCKETS && b + 1 < r.h; b++) {
		int cells = width > 0 ? (int)((double)count[b] * width / (double)most + 0.5) : 0;

		screen_textf(r.y + 1 + b, r.x, 10, R_LABEL, "%9s", names[b]);
		for (int i = 0; i < cells; i++)
			screen_text(r.y + 1 + b, r.x + 10 + i, 1, screen_glyph(G_BAR), R_BAR);
		screen_textf(r.y + 1 + b, r.x + 11 + cells, 9, R_NORMAL, "%zu", count[b]);
	}
}

static void draw(struct ui *u, struct rect r)
{
	const struct m_target *t = model_current(u->m);
	int hist_h = r.h >= 14 ? HIST_BUCKETS + 1 : 0, rows = r.h - 1 - hist_h;
	double worst = 0;

	screen_fill(r.y, r.x, r.w, R_COLHEAD);
	screen_text(r.y, r.x, r.w, "TIME     DURATION BAR        CPU SYSCALL       CULPRIT  TASK",
		    R_COLHEAD);
	if (!t)
		return;
	collect(t, u->filter);
	for (size_t i = 0; i < s.n; i++)
		if (model_stall_elapsed_ms(u->m, &t->stalls[s.shown[i]]) > worst)
			worst = model_stall_elapsed_ms(u->m, &t->stalls[s.shown[i]]);
	listview_fit(&s.lv, s.n, rows);
	for (int i = 0; i < rows && s.lv.top + (size_t)i < s.n; i++) {
		size_t k = s.lv.top + (size_t)i;

		draw_row(u, &t->stalls[s.shown[k]], worst, r.y + 1 + i, r, k == s.lv.sel);
	}
	if (!s.n)
		screen_text(r.y + 1, r.x, r.w, "(no stalls seen)", R_DIM);
	if (hist_h)
		histogram(u->m, t, (struct rect){ r.y + r.h - hist_h, r.x, hist_h, r.w });
}

static const struct m_stall *find_stall(const struct m_target *t, const char *id)
{
	for (size_t i = t ? t->nstalls : 0; i-- > 0;) {
		char k[32];

		snprintf(k, sizeof(k), "%llu", (unsigned long long)t->stalls[i].id);
		if (!strcmp(k, id))
			return &t->stalls[i];
	}
	return NULL;
}

static void syscall_table(struct detail_out *o, const json_t *calls)
{
	const json_t *c;
	size_t i;

	detail_line(o, R_LABEL, "Syscalls during the stall:   count        time");
	if (!json_array_size(calls))
		detail_line(o, R_DIM, "  (none: on CPU)");
	json_array_foreach(calls, i, c) {
		char d[16];

		fmt_ms(j_num(c, "ms"), d, sizeof(d));
		detail_line(o, R_NORMAL, "  %-24s %7.0f %11s%s", j_str(c, "name"), j_num(c, "count"), d,
			    j_bool(c, "in_progress") ? "  (in progress)" : "");
	}
}

static void stall_detail(struct ui *u, struct detail_out *o, const void *arg)
{
	const struct m_target *t = model_current(u->m);
	const struct m_stall *st = find_stall(t, arg);
	char d[16], on[16], off[16], clock[16];

	if (!st) {
		detail_line(o, R_DIM, "This stall is no longer held.");
		return;
	}
	fmt_ms(model_stall_elapsed_ms(u->m, st), d, sizeof(d));
	fmt_ms(st->on_ms, on, sizeof(on));
	fmt_ms(st->off_ms, off, sizeof(off));
	fmt_clock(st->ts, clock, sizeof(clock));
	detail_line(o, st->ongoing ? R_BAD : R_VALUE, "Stall #%llu at %s: %s%s (on CPU %s, blocked %s)",
		    (unsigned long long)st->id, clock, d, st->ongoing ? " and going on" : "", on, off);
	detail_line(o, R_NORMAL, "thread %d, task %s (%s)", st->tid, st->task[0] ? st->task : "-",
		    st->coro[0] ? st->coro : "-");
	detail_line(o, R_NORMAL, "culprit %s:%d %s", st->culprit.file, st->culprit.line, st->culprit.func);
	syscall_table(o, json_object_get(st->doc, "syscalls"));
	detail_line(o, R_LABEL, "Stack (innermost first):");
	detail_stack(u, o, t->pid, json_object_get(st->doc, "stack"), 3, 2);
}

static int key(struct ui *u, int ch)
{
	const struct m_target *t = model_current(u->m);

	if (key_enter(ch) && t && s.lv.sel < s.n) {
		snprintf(s.open_id, sizeof(s.open_id), "%llu",
			 (unsigned long long)t->stalls[s.shown[s.lv.sel]].id);
		detail_open(u, "Stall", stall_detail, s.open_id);
		return H_REDRAW;
	}
	return listview_key(&s.lv, ch, list_page());
}

static const struct key_label keys[] = {
	{ "Enter", "Stack" }, { "/", "Filter" }, { NULL, NULL },
};

const struct panel_class panel_stalls = {
	.title = "Stalls", .keys = keys, .draw = draw, .key = key,
};
