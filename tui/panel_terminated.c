/* SPDX-License-Identifier: GPL-2.0-only */
/* Terminated: tasks the agent saw end (its history and task_done events),
 * newest first, aiomonitor's ps-terminated; Enter: where-terminated, the
 * last location and the stack when the agent kept one. */
#include <stdio.h>
#include <stdlib.h>
#include <ncurses.h>
#include "screen.h"
#include "ui.h"

static struct {
	struct listview lv;
	size_t shown[MODEL_ENDED_MAX];
	size_t n;
	char open[32];
} s;

static bool ended_matches(const struct m_ended *e, const char *f)
{
	return !f[0] || text_match(e->name, f) || text_match(e->coro, f) || text_match(e->where.file, f) ||
	       text_match(e->how, f);
}

static void draw(struct ui *u, struct rect r)
{
	const struct m_target *t = model_current(u->m);
	int rows = r.h - 1;

	screen_fill(r.y, r.x, r.w, R_COLHEAD);
	screen_text(r.y, r.x, r.w, "AT       LIVED  ENDED             NAME                 CORO                 LAST AT", R_COLHEAD);
	if (!t)
		return;
	s.n = 0;
	for (size_t i = t->nended; i-- > 0;)
		if (ended_matches(&t->ended[i], u->filter))
			s.shown[s.n++] = i;
	listview_fit(&s.lv, s.n, rows);
	for (int i = 0; i < rows && s.lv.top + (size_t)i < s.n; i++) {
		const struct m_ended *e = &t->ended[s.shown[s.lv.top + (size_t)i]];
		bool sel = s.lv.top + (size_t)i == s.lv.sel;
		char clock[16], lived[16], at[300], line[700];

		fmt_clock(e->last_seen, clock, sizeof(clock));
		fmt_age(e->last_seen - e->first_seen, lived, sizeof(lived));
		/* no location: the snapshot saw it with no frame of its own */
		if (e->where.file[0])
			snprintf(at, sizeof(at), "%s:%d", path_base(e->where.file), e->where.line);
		else
			snprintf(at, sizeof(at), "-");
		snprintf(line, sizeof(line), "%-8s %6s %-17.17s %-20.20s %-20.20s %s", clock, lived,
			 e->how[0] ? e->how : "?", e->name, e->coro, at);
		list_row(r.y + 1 + i, r, line, sel, R_NORMAL);
	}
	if (!s.n)
		screen_text(r.y + 1, r.x, r.w, "(no task seen ending yet)", R_DIM);
}

static void ended_detail(struct ui *u, struct detail_out *o, const void *arg)
{
	const struct m_target *t = model_current(u->m);
	size_t i = (size_t)strtoul(arg, NULL, 10);
	const struct m_ended *e = t && i < t->nended ? &t->ended[i] : NULL;
	const json_t *stack;

	if (!e)
		return;
	detail_line(o, R_VALUE, "%s (%s) %s: %s", e->name, e->coro, e->id, e->how[0] ? e->how : "ended (how: unknown)");
	detail_line(o, R_NORMAL, "lived %.1f s; last seen at %s:%d %s", e->last_seen - e->first_seen,
		    e->where.file, e->where.line, e->where.func);
	stack = json_object_get(e->doc, "stack");
	detail_line(o, R_LABEL, "Last stack:");
	if (stack)
		detail_stack(u, o, t->pid, stack, 2, 2);
	else
		detail_line(o, R_DIM, "  (not kept: the snapshot that last saw it had no stacks)");
}

static int key(struct ui *u, int ch)
{
	if (key_enter(ch) && s.lv.sel < s.n) {
		snprintf(s.open, sizeof(s.open), "%zu", s.shown[s.lv.sel]);
		detail_open(u, "Terminated task", ended_detail, s.open);
		return H_REDRAW;
	}
	return listview_key(&s.lv, ch, list_page());
}

static const struct key_label keys[] = {
	{ "Enter", "Where" }, { "/", "Filter" }, { NULL, NULL },
};

const struct panel_class panel_terminated = {
	.title = "Terminated", .keys = keys, .draw = draw, .key = key,
};
