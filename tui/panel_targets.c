/* SPDX-License-Identifier: GPL-2.0-only */
/* Targets (`0`): every process the agent watches, a summary line each;
 * Enter makes one the current target ([ and ] step through them too). */
#include <stdio.h>
#include <ncurses.h>
#include "screen.h"
#include "ui.h"

static struct listview lv;
static size_t shown_cur;   /* the current target when last drawn */

static void draw(struct ui *u, struct rect r)
{
	struct model *m = u->m;
	int rows = r.h - 1;

	screen_fill(r.y, r.x, r.w, R_COLHEAD);
	screen_text(r.y, r.x, r.w, "  PID      PYTHON  LOOP     TASKS STALLS  WORST   LOST  COMMAND", R_COLHEAD);
	if (m->cur != shown_cur)
		lv.sel = shown_cur = m->cur;   /* [ and ] move the selection along */
	listview_fit(&lv, m->ntargets, rows);
	for (int i = 0; i < rows && lv.top + (size_t)i < m->ntargets; i++) {
		size_t k = lv.top + (size_t)i;
		const struct m_target *t = &m->targets[k];
		bool sel = k == lv.sel;
		char worst[16], line[800];

		fmt_ms(model_stall_worst(m, t), worst, sizeof(worst));
		snprintf(line, sizeof(line), "%s %-8d %-7.7s %-8.8s %5zu %6zu %6s %6llu  %s%s",
			 k == m->cur ? "*" : " ", t->pid, t->python, t->loop, t->ntasks, t->nstalls, worst,
			 (unsigned long long)(t->lost_totals[0] + t->lost_totals[1] + t->lost_totals[2]),
			 t->gone ? "[gone] " : "", t->cmdline[0] ? t->cmdline : t->comm);
		list_row(r.y + 1 + i, r, line, sel, t->gone ? R_DIM : R_NORMAL);
	}
	if (!m->ntargets)
		screen_text(r.y + 1, r.x, r.w, "(no targets yet)", R_DIM);
}

static int key(struct ui *u, int ch)
{
	if (key_enter(ch) && lv.sel < u->m->ntargets) {
		model_select(u->m, lv.sel);
		shown_cur = lv.sel;
		u->view = V_TASKS;
		return H_REDRAW | H_REFRESH;
	}
	return listview_key(&lv, ch, list_page());
}

static const struct key_label keys[] = {
	{ "Enter", "Pick" }, { "[]", "Step" }, { NULL, NULL },
};

const struct panel_class panel_targets = {
	.title = "Targets", .keys = keys, .draw = draw, .key = key,
};
