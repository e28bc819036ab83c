/* SPDX-License-Identifier: GPL-2.0-only */
/* Threads: the target's dump, one row per thread (the GIL holder marked,
 * the task a loop thread runs, its innermost frame); Enter: its stack.
 * Asked for on every fetch while shown (a dump reads every stack). */
#include <stdio.h>
#include <stdlib.h>
#include <ncurses.h>
#include "screen.h"
#include "ui.h"

static struct {
	struct listview lv;
	char open[16];
} s;

static void draw(struct ui *u, struct rect r)
{
	const struct m_target *t = model_current(u->m);
	int rows = r.h - 1;

	screen_fill(r.y, r.x, r.w, R_COLHEAD);
	screen_text(r.y, r.x, r.w, "TID      GIL NAME             OS NAME          TASK            FRAME", R_COLHEAD);
	if (!t || !t->dump) {
		screen_text(r.y + 1, r.x, r.w, u->live ? "(asking the agent for a dump)" : "(no dump recorded)", R_DIM);
		return;
	}
	listview_fit(&s.lv, t->nthreads, rows);
	for (int i = 0; i < rows && s.lv.top + (size_t)i < t->nthreads; i++) {
		const struct m_thread *th = &t->threads[s.lv.top + (size_t)i];
		struct m_frame f = j_frame(json_array_get(th->stack, 0));
		bool sel = s.lv.top + (size_t)i == s.lv.sel;
		char line[700];

		snprintf(line, sizeof(line), "%-8d %-3s %-16.16s %-16.16s %-15.15s %s (%s:%d)", th->tid,
			 th->gil ? "*" : "", th->name, th->os_name, th->task[0] ? th->task : "-", f.func,
			 path_base(f.file), f.line);
		list_row(r.y + 1 + i, r, line, sel, th->gil ? R_WARN : R_NORMAL);
	}
}

static void thread_detail(struct ui *u, struct detail_out *o, const void *arg)
{
	const struct m_target *t = model_current(u->m);
	int tid = atoi(arg);

	for (size_t i = 0; t && i < t->nthreads; i++) {
		const struct m_thread *th = &t->threads[i];

		if (th->tid != tid)
			continue;
		detail_line(o, R_VALUE, "Thread %d %s (%s)%s", th->tid, th->name, th->os_name,
			    th->gil ? ", holds the GIL" : "");
		if (th->task[0])
			detail_line(o, R_NORMAL, "running task %s", th->task);
		detail_stack(u, o, t->pid, th->stack, 3, 2);
		return;
	}
	detail_line(o, R_DIM, "Thread %d is not in the last dump.", tid);
}

static int key(struct ui *u, int ch)
{
	const struct m_target *t = model_current(u->m);

	if (key_enter(ch) && t && s.lv.sel < t->nthreads) {
		snprintf(s.open, sizeof(s.open), "%d", t->threads[s.lv.sel].tid);
		detail_open(u, "Thread", thread_detail, s.open);
		return H_REDRAW;
	}
	return listview_key(&s.lv, ch, list_page());
}

static void fetch(struct ui *u)
{
	const struct m_target *t = model_current(u->m);

	if (t && !t->gone)
		u->ask(u->ask_ctx, "dump", t->pid, NULL, NULL);
}

static const struct key_label keys[] = {
	{ "Enter", "Stack" }, { NULL, NULL },
};

const struct panel_class panel_threads = {
	.title = "Threads", .keys = keys, .draw = draw, .key = key, .fetch = fetch,
};
