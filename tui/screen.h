/* SPDX-License-Identifier: GPL-2.0-only */
/* The terminal: ncurses set up and always restored (also on a crash
 * signal), colour roles with a monochrome fallback (NO_COLOR, or no
 * colours), and text drawing that makes hostile strings safe (control
 * characters shown as '?', cut on a character boundary to a cell width),
 * with ASCII stand-ins when the locale is not UTF-8. */
#ifndef LOOPSCOPE_TUI_SCREEN_H
#define LOOPSCOPE_TUI_SCREEN_H

#include <stdbool.h>

enum role {
	R_NORMAL, R_LABEL, R_VALUE, R_BANNER, R_SELECTED, R_KEY, R_KEYLABEL, R_COLHEAD,
	R_TAB, R_TAB_ACTIVE, R_DIM, R_WARN, R_BAD, R_GOOD, R_BAR, R_CURLINE, R_STATUS,
	R_ROLES,
};

enum glyph {
	G_SPARK0, G_SPARK1, G_SPARK2, G_SPARK3, G_SPARK4, G_SPARK5, G_SPARK6, G_SPARK7,
	G_BAR, G_TREE_MID, G_TREE_LAST, G_TREE_PIPE, G_TREE_FOLDED, G_MARK, G_GLYPHS,
};

/* 0, or -1 when there is no terminal (the reason on stderr). */
int screen_open(void);
/* Idempotent; safe to call from atexit and the crash handler. */
void screen_close(void);
bool screen_utf8(void);
bool screen_color(void);
int screen_attr(enum role r);
const char *screen_glyph(enum glyph g);
/* Draws s at (y, x) in at most width cells (never past the screen's right
 * edge); returns the cells used. */
int screen_text(int y, int x, int width, const char *s, enum role r);
int screen_textf(int y, int x, int width, enum role r, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Spaces over [x, x+width) in role r. */
void screen_fill(int y, int x, int width, enum role r);
/* Cells s takes (what screen_text would draw with no limit). */
int screen_width(const char *s);

#endif
