/* SPDX-License-Identifier: GPL-2.0-only */
/* What the panels share: list navigation and source lines on demand. */
#include <ncurses.h>
#include <stdio.h>
#include <string.h>
#include "screen.h"
#include "strmap.h"
#include "ui.h"

int listview_key(struct listview *l, int ch, int page)
{
	size_t old = l->sel, last = l->n ? l->n - 1 : 0;
	size_t step = page > 1 ? (size_t)page - 1 : 1;

	switch (ch) {
	case KEY_UP: case 'k':
		l->sel = l->sel ? l->sel - 1 : 0;
		break;
	case KEY_DOWN: case 'j':
		l->sel = l->sel < last ? l->sel + 1 : last;
		break;
	case KEY_PPAGE:
		l->sel = l->sel > step ? l->sel - step : 0;
		break;
	case KEY_NPAGE: case ' ' | 0x100:
		l->sel = l->sel + step < last ? l->sel + step : last;
		break;
	case KEY_HOME: case 'g':
		l->sel = 0;
		break;
	case KEY_END: case 'G':
		l->sel = last;
		break;
	default:
		return H_IGNORED;
	}
	return l->sel != old ? H_REDRAW : H_HANDLED;
}

void list_row(int y, struct rect r, const char *text, bool sel, int role)
{
	screen_fill(y, r.x, r.w, sel ? R_SELECTED : role);
	screen_text(y, r.x, r.w, text, sel ? R_SELECTED : role);
}

void text_wrap(const char *text, int width, int role, void (*line)(void *ctx, int role, const char *s),
	       void *ctx)
{
	char buf[1024];

	while (*text) {
		size_t n = strlen(text), cut = n;

		if ((int)n > width) {
			cut = (size_t)width;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (!cut)
				cut = (size_t)width;
		}
		if (cut >= sizeof(buf))
			cut = sizeof(buf) - 1;
		memcpy(buf, text, cut);
		buf[cut] = 0;
		line(ctx, role, buf);
		text += cut;
		while (*text == ' ')
			text++;
	}
}

bool key_enter(int ch)
{
	return ch == '\n' || ch == '\r' || ch == KEY_ENTER;
}

int list_page(void)
{
	return LINES > 12 ? LINES - 10 : 1;
}

void listview_fit(struct listview *l, size_t n, int rows)
{
	size_t r = rows > 0 ? (size_t)rows : 1;

	l->n = n;
	if (l->sel >= n)
		l->sel = n ? n - 1 : 0;
	if (l->sel < l->top)
		l->top = l->sel;
	if (l->sel >= l->top + r)
		l->top = l->sel - r + 1;
	if (l->top + r > n)
		l->top = n > r ? n - r : 0;
}

const json_t *ui_source(struct ui *u, pid_t pid, const char *file, int line, int *first)
{
	const json_t *lines = model_source(u->m, pid, file, line, first);
	char key[CLIENT_ARG_MAX];
	struct strmap_val *v;

	if (lines || !file[0] || line <= 0 || !u->live)
		return lines;
	model_source_key(pid, file, line, key, sizeof(key));
	if (strmap_get(u->asked, key) || !(v = strmap_put(u->asked, key)))
		return NULL;
	u->ask(u->ask_ctx, "source", pid, key,
	       json_pack("{s:s, s:i, s:i}", "file", file, "line", line, "context", 3));
	return NULL;
}
