/* SPDX-License-Identifier: GPL-2.0-only */
/* The detail view: a scrollable page of lines over the current panel (a
 * task, a stall, a warning, a thread), built again on every draw by the
 * panel that opened it, so that answers arriving later (source lines,
 * where) show up without reopening it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ncurses.h>
#include "screen.h"
#include "ui.h"

#define DETAIL_LINES_MAX 4000
#define DETAIL_LINE_LEN 512

struct detail_out {
	size_t n;
	int width;          /* of the view, for detail_wrap */
	struct dline {
		int role;
		char text[DETAIL_LINE_LEN];
	} *lines;
};

static struct {
	char title[128];
	char arg[256];
	detail_fn fn;
	size_t top, rows;
	struct detail_out out;
} d;

void detail_open(struct ui *u, const char *title, detail_fn fn, const char *arg)
{
	snprintf(d.title, sizeof(d.title), "%s", title);
	snprintf(d.arg, sizeof(d.arg), "%s", arg ? arg : "");
	d.fn = fn;
	d.top = 0;
	u->detail = true;
}

static void detail_put(void *o, int role, const char *line)
{
	detail_line(o, role, "%s", line);
}

void detail_line(struct detail_out *o, int role, const char *fmt, ...)
{
	va_list ap;

	if (o->n >= DETAIL_LINES_MAX)
		return;
	o->lines[o->n].role = role;
	va_start(ap, fmt);
	vsnprintf(o->lines[o->n].text, DETAIL_LINE_LEN, fmt, ap);
	va_end(ap);
	o->n++;
}

void detail_wrap(struct detail_out *o, int role, const char *text)
{
	int width = o->width > 20 ? o->width : 20;

	text_wrap(text, width, role, detail_put, o);
}

static void frame_source(struct ui *u, struct detail_out *o, pid_t pid, struct m_frame f, int ctx)
{
	int first = 0;
	const json_t *lines = ui_source(u, pid, f.file, f.line, &first), *l;
	size_t i;

	if (!lines) {
		detail_line(o, R_DIM, "        %s", u->live ? "(source: asking the agent)" : "(no source recorded)");
		return;
	}
	json_array_foreach(lines, i, l) {
		int no = first + (int)i;

		if (no < f.line - ctx || no > f.line + ctx)
			continue;
		detail_line(o, no == f.line ? R_CURLINE : R_DIM, "  %s %5d  %s", no == f.line ? screen_glyph(G_MARK) : " ",
			    no, json_string_value(l) ? json_string_value(l) : "");
	}
}

void detail_stack(struct ui *u, struct detail_out *o, pid_t pid, const json_t *stack,
		  size_t with_source, int ctx)
{
	const json_t *f;
	size_t i;

	if (!json_array_size(stack))
		detail_line(o, R_DIM, "  (no stack)");
	json_array_foreach(stack, i, f) {
		struct m_frame fr = j_frame(f);

		detail_line(o, R_VALUE, "  %s (%s:%d)", fr.func, fr.file, fr.line);
		if (i < with_source)
			frame_source(u, o, pid, fr, ctx);
	}
}

static void draw(struct ui *u, struct rect r)
{
	size_t rows = r.h > 1 ? (size_t)r.h - 1 : 1;

	if (!d.out.lines && !(d.out.lines = calloc(DETAIL_LINES_MAX, sizeof(*d.out.lines))))
		return;
	d.out.n = 0;
	if (d.fn)
		d.out.width = r.w, d.fn(u, &d.out, d.arg);
	d.rows = rows;
	if (d.top + rows > d.out.n)
		d.top = d.out.n > rows ? d.out.n - rows : 0;
	screen_fill(r.y, r.x, r.w, R_COLHEAD);
	screen_text(r.y, r.x, r.w, d.title, R_COLHEAD);
	for (size_t i = 0; i < rows && d.top + i < d.out.n; i++) {
		const struct dline *l = &d.out.lines[d.top + i];

		screen_text(r.y + 1 + (int)i, r.x, r.w, l->text, l->role);
	}
}

/* This view has no rows to pick: keys move its top line. */
static int key(struct ui *u, int ch)
{
	size_t page = d.rows > 1 ? d.rows - 1 : 1;

	switch (ch) {
	case 27: case KEY_BACKSPACE: case KEY_LEFT: case 'h': case '\n': case '\r': case KEY_ENTER:
		u->detail = false;
		break;
	case KEY_UP: case 'k':
		d.top = d.top ? d.top - 1 : 0;
		break;
	case KEY_DOWN: case 'j':
		d.top++;
		break;
	case KEY_PPAGE:
		d.top = d.top > page ? d.top - page : 0;
		break;
	case KEY_NPAGE:
		d.top += page;
		break;
	case KEY_HOME: case 'g':
		d.top = 0;
		break;
	case KEY_END: case 'G':
		d.top = (size_t)-1 / 2;
		break;
	default:
		return H_IGNORED;
	}
	return H_REDRAW;
}

static void fetch(struct ui *u)
{
	const struct panel_class *under;

	u->detail = false;
	under = ui_panel(u);
	u->detail = true;
	if (under->fetch)
		under->fetch(u);
}

static const struct key_label keys[] = {
	{ "Esc", "Back" }, { "j/k", "Scroll" }, { "PgDn", "Page" }, { NULL, NULL },
};

const struct panel_class panel_detail = {
	.title = "Detail", .keys = keys, .draw = draw, .key = key, .fetch = fetch,
};
