/* SPDX-License-Identifier: GPL-2.0-only */
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <ncurses.h>
#include "screen.h"

static bool active, utf8, color;
static int attrs[R_ROLES];

static const char *const glyphs_utf8[G_GLYPHS] = {
	"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588",
	"\u2588", "\u251c\u2500", "\u2514\u2500", "\u2502 ", "+", "\u25b6",
};
static const char *const glyphs_ascii[G_GLYPHS] = {
	"_", ".", ",", "-", "=", "+", "*", "#", "#", "|-", "`-", "| ", "+", ">",
};

/* fg, bg (-1: the terminal's default), and the monochrome stand-in. */
static const struct role_style {
	short fg, bg;
	int attr, mono;
} styles[R_ROLES] = {
	[R_NORMAL] = { -1, -1, 0, 0 },
	[R_LABEL] = { COLOR_CYAN, -1, 0, 0 },
	[R_VALUE] = { -1, -1, A_BOLD, A_BOLD },
	[R_BANNER] = { COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD },
	[R_SELECTED] = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
	[R_KEY] = { -1, -1, A_BOLD, A_BOLD },
	[R_KEYLABEL] = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
	[R_COLHEAD] = { COLOR_BLACK, COLOR_GREEN, 0, A_REVERSE },
	[R_TAB] = { -1, -1, 0, 0 },
	[R_TAB_ACTIVE] = { COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD },
	[R_DIM] = { COLOR_BLUE, -1, A_BOLD, A_DIM },
	[R_WARN] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
	[R_BAD] = { COLOR_RED, -1, A_BOLD, A_BOLD },
	[R_GOOD] = { COLOR_GREEN, -1, 0, 0 },
	[R_BAR] = { COLOR_RED, -1, 0, 0 },
	[R_CURLINE] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD | A_UNDERLINE },
	[R_STATUS] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
};

static void init_roles(void)
{
	const char *no = getenv("NO_COLOR");

	color = has_colors() && !(no && no[0]) && start_color() == OK;
	if (color)
		use_default_colors();
	for (int r = 0; r < R_ROLES; r++) {
		if (!color) {
			attrs[r] = styles[r].mono;
			continue;
		}
		init_pair((short)(r + 1), styles[r].fg, styles[r].bg);
		attrs[r] = (int)COLOR_PAIR(r + 1) | styles[r].attr;
	}
}

static void crash(int sig)
{
	screen_close();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_crash_signals(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa = { .sa_handler = crash, .sa_flags = SA_RESETHAND };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

int screen_open(void)
{
	const char *cs;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	utf8 = cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
	if (!newterm(NULL, stdout, stdin)) {
		fprintf(stderr, "loopscope: tui needs a terminal (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "");
		return -1;
	}
	active = true;
	atexit(screen_close);
	on_crash_signals();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	init_roles();
	return 0;
}

void screen_close(void)
{
	if (!active)
		return;
	active = false;
	endwin();
}

bool screen_utf8(void)
{
	return utf8;
}

bool screen_color(void)
{
	return color;
}

int screen_attr(enum role r)
{
	return r >= 0 && r < R_ROLES ? attrs[r] : 0;
}

const char *screen_glyph(enum glyph g)
{
	return (utf8 ? glyphs_utf8 : glyphs_ascii)[g];
}

/* The next code point of s (advanced), or -1 for a byte that starts no
 * valid sequence (then one byte is skipped). */
static long next_cp(const unsigned char **s)
{
	const unsigned char *p = *s;
	int n = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 :
		(p[0] & 0xf8) == 0xf0 ? 4 : 0;
	long cp = n == 1 ? p[0] : n == 2 ? p[0] & 0x1f : n == 3 ? p[0] & 0x0f : p[0] & 0x07;

	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			n = 0;
			break;
		}
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	*s += n ? n : 1;
	return n ? cp : -1;
}

/* What a code point is drawn as, and how many cells: control characters,
 * invalid bytes and (outside UTF-8) anything non-ASCII become '?'. */
static wchar_t cell_of(long cp, int *w)
{
	int cw;

	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp < 0xe000) || (!utf8 && cp >= 0x80)) {
		*w = 1;
		return L'?';
	}
	cw = wcwidth((wchar_t)cp);
	if (cw < 0) {
		*w = 1;
		return L'?';
	}
	*w = cw;
	return (wchar_t)cp;
}

int screen_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int total = 0, w;

	while (*p) {
		cell_of(next_cp(&p), &w);
		total += w;
	}
	return total;
}

int screen_text(int y, int x, int width, const char *s, enum role r)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	wchar_t buf[512];
	int used = 0, n = 0, w;

	if (x + width > COLS)
		width = COLS - x;
	if (y < 0 || y >= LINES || x < 0 || width <= 0)
		return 0;
	while (*p && n < (int)(sizeof(buf) / sizeof(buf[0])) - 1) {
		wchar_t c = cell_of(next_cp(&p), &w);

		if (used + w > width)
			break;
		if (w == 0 && n == 0)
			continue;   /* a combining mark with nothing to combine with */
		buf[n++] = c;
		used += w;
	}
	buf[n] = 0;
	attrset(screen_attr(r));
	mvaddnwstr(y, x, buf, n);
	attrset(A_NORMAL);
	return used;
}

int screen_textf(int y, int x, int width, enum role r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return screen_text(y, x, width, buf, r);
}

void screen_fill(int y, int x, int width, enum role r)
{
	if (x + width > COLS)
		width = COLS - x;
	if (y < 0 || y >= LINES || x < 0 || width <= 0)
		return;
	attrset(screen_attr(r));
	mvhline(y, x, ' ', width);
	attrset(A_NORMAL);
}
