/* SPDX-License-Identifier: GPL-2.0-only */
/* What the main loop, the chrome (header, tabs, key bar) and the panels
 * share: htop's pattern. A panel draws into its rectangle from the model
 * and handles keys by returning H_* flags that the loop acts on; it never
 * draws from a key handler. Each panel keeps its own state in its file. */
#ifndef LOOPSCOPE_TUI_UI_H
#define LOOPSCOPE_TUI_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include "model.h"

enum handler_result {
	H_IGNORED = 0,
	H_HANDLED = 1 << 0,
	H_REDRAW = 1 << 1,
	H_QUIT = 1 << 2,
	H_REFRESH = 1 << 3,    /* ask the agent again now */
};

struct rect {
	int y, x, h, w;
};

/* One key of the key bar; a bar is an array ending with { NULL }. */
struct key_label {
	const char *key, *label;
};

enum view { V_TARGETS, V_TASKS, V_STALLS, V_WARNINGS, V_THREADS, V_TERMINATED, V_VIEWS };

struct ui;

struct panel_class {
	const char *title;                 /* its tab */
	const struct key_label *keys;
	void (*draw)(struct ui *u, struct rect r);
	int (*key)(struct ui *u, int ch);
	/* The requests it needs on each refresh (NULL: none). */
	void (*fetch)(struct ui *u);
};

struct ui {
	struct model *m;
	enum view view;
	bool detail;          /* the detail text view is open over the panel */
	bool help;
	bool paused;
	bool live;            /* an agent to ask (not a replay) */
	bool filtering;       /* typing into the filter */
	char filter[128];
	const char *replay_status;
	/* Asks the agent (no-op in a replay); params stolen. */
	void (*ask)(void *ctx, const char *method, pid_t pid, const char *arg, json_t *params);
	void *ask_ctx;
	struct strmap *asked; /* source keys already asked for */
	/* what the Tasks view sorts by (an enum task_col, -1 before it is
	 * drawn): the parser's thread sorts the next snapshots so */
	int task_sort;
	bool task_invert;
};

extern const struct panel_class panel_targets, panel_tasks, panel_stalls, panel_warnings,
	panel_threads, panel_terminated, panel_detail;

const struct panel_class *ui_panel(const struct ui *u);

/* Shared by the panels. */
struct listview {
	size_t sel, top, n;
};
/* Arrows, j/k, PgUp/PgDn, g/G, Home/End: H_REDRAW when it moved. */
int listview_key(struct listview *l, int ch, int page);
/* Keeps the selection inside n and visible in rows. */
void listview_fit(struct listview *l, size_t n, int rows);

/* One list row: text over the whole width, in role (or selected). */
void list_row(int y, struct rect r, const char *text, bool sel, int role);
/* Enter, however the terminal sends it. */
bool key_enter(int ch);
/* Rows a PgUp/PgDn moves. */
int list_page(void);

/* The source lines around file:line (asked for once when not known):
 * the lines array and the first one's number, else NULL. */
const json_t *ui_source(struct ui *u, pid_t pid, const char *file, int line, int *first);

/* Detail view content: lines made again on every draw (answers such as
 * source lines arrive later). */
struct detail_out;
typedef void (*detail_fn)(struct ui *u, struct detail_out *o, const void *arg);
void detail_open(struct ui *u, const char *title, detail_fn fn, const char *arg);
void detail_line(struct detail_out *o, int role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* text over as many lines as the view's width needs (cut at spaces). */
void detail_wrap(struct detail_out *o, int role, const char *text);
/* Calls line(ctx, role, piece) for each piece of text cut at spaces to
 * at most width cells (a word longer than that is cut). */
void text_wrap(const char *text, int width, int role, void (*line)(void *ctx, int role, const char *s),
	       void *ctx);
/* A stack (JSON frames, innermost first) with `ctx` source lines around
 * the first `with_source` frames, the frame's own line marked. */
void detail_stack(struct ui *u, struct detail_out *o, pid_t pid, const json_t *stack,
		  size_t with_source, int ctx);

/* Chrome (chrome.c). */
int chrome_header_height(const struct ui *u);
void chrome_header(struct ui *u, int cols);
void chrome_tabs(struct ui *u, int y, int cols);
void chrome_keybar(struct ui *u, int y, int cols);
void chrome_help(struct ui *u, int rows, int cols);
/* "1.2 s", "340 ms", "12 us": a duration in at most 7 cells. */
void fmt_ms(double ms, char *out, size_t len);
/* "3m12s", "1h02m" */
void fmt_age(double s, char *out, size_t len);
/* "12:04:33", local time */
void fmt_clock(double ts, char *out, size_t len);
/* Case-insensitive substring match (the `/` filter). */
bool text_match(const char *hay, const char *needle);

#endif
