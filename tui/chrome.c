/* SPDX-License-Identifier: GPL-2.0-only */
/* Around the panels: the header (the target, its loop, tasks, stalls, lost
 * work, the stall banner), the view tabs, the key bar and the help. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include "screen.h"
#include "ui.h"

#define HEADER_LINES 5

void fmt_ms(double ms, char *out, size_t len)
{
	if (!(ms < 1e9) && !(ms < 0))
		snprintf(out, len, "%s", ms >= 1e9 ? "> 11 d" : "?");
	else if (ms >= 10000)
		snprintf(out, len, "%.0f s", ms / 1e3);
	else if (ms >= 1000)
		snprintf(out, len, "%.1f s", ms / 1e3);
	else if (ms >= 1)
		snprintf(out, len, "%.0f ms", ms);
	else
		snprintf(out, len, "%.0f us", ms * 1e3);
}

void fmt_age(double s, char *out, size_t len)
{
	long v = s > 0 && s < 1e9 ? (long)s : 0;

	if (v >= 3600)
		snprintf(out, len, "%ldh%02ldm", v / 3600, v / 60 % 60);
	else if (v >= 60)
		snprintf(out, len, "%ldm%02lds", v / 60, v % 60);
	else
		snprintf(out, len, "%lds", v);
}

void fmt_clock(double ts, char *out, size_t len)
{
	time_t tt = (time_t)ts;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(out, len, "%H:%M:%S", &tm))
		snprintf(out, len, "--:--:--");
}

bool text_match(const char *hay, const char *needle)
{
	return !needle[0] || strcasestr(hay, needle);
}

int chrome_header_height(const struct ui *u)
{
	return HEADER_LINES;
}

static int spark_level(double ms)
{
	static const double steps[] = { 1, 5, 20, 50, 100, 250, 1000 };
	int l = 0;

	while (l < 7 && ms >= steps[l])
		l++;
	return l;
}

/* Oldest left, now at the right end. */
static int sparkline(struct ui *u, const struct m_target *t, int y, int x, int cells)
{
	int n = cells < MODEL_LAG_SECONDS ? cells : MODEL_LAG_SECONDS;

	for (int i = 0; i < n; i++) {
		double ms = model_lag(u->m, t, n - 1 - i);
		int lvl = spark_level(ms);

		screen_text(y, x + i, 1, screen_glyph((enum glyph)(G_SPARK0 + lvl)),
			    lvl >= 5 ? R_BAD : lvl >= 3 ? R_WARN : R_GOOD);
	}
	return n;
}

static void line_target(struct ui *u, const struct m_target *t, int cols)
{
	struct model *m = u->m;
	char up[32];
	int x = screen_text(0, 0, cols, "loopscope ", R_VALUE);

	if (!t) {
		screen_text(0, x, cols - x, m->status[0] ? m->status : "waiting for the agent...",
			    m->connected ? R_NORMAL : R_BAD);
		return;
	}
	x += screen_textf(0, x, cols - x, R_LABEL, "PID %d ", t->pid);
	fmt_age(t->watched_s, up, sizeof(up));
	x += screen_textf(0, x, cols - x, R_NORMAL, "Py %s %s up %s ", t->python[0] ? t->python : "?",
			  t->loop[0] ? t->loop : "-", up);
	if (t->gone)
		x += screen_textf(0, x, cols - x, R_BAD, "[TARGET GONE: %s] ", t->gone_why);
	else if (!m->connected && u->live)
		x += screen_textf(0, x, cols - x, R_BAD, "[%s] ", m->status);
	if (m->ntargets > 1)
		x += screen_textf(0, x, cols - x, R_DIM, "[%zu/%zu] ", m->cur + 1, m->ntargets);
	screen_text(0, x, cols - x, t->cmdline[0] ? t->cmdline : t->comm, R_DIM);
}

/* "-" rather than "0 us" when there is nothing to measure. */
static void fmt_ms_or_dash(double ms, char *out, size_t len)
{
	if (ms > 0)
		fmt_ms(ms, out, len);
	else
		snprintf(out, len, "-");
}

static void line_loop(struct ui *u, const struct m_target *t, int cols)
{
	int x = screen_text(1, 0, cols, "Loop ", R_LABEL);
	char w[16];

	x += screen_textf(1, x, cols - x, R_VALUE, "%5.1f%% busy ", t->util * 100);
	x += screen_text(1, x, cols - x, "lag ", R_LABEL);
	x += sparkline(u, t, 1, x, cols - x - 12 > 0 ? cols - x - 12 : 0);
	fmt_ms_or_dash(model_lag(u->m, t, 0), w, sizeof(w));
	screen_textf(1, x, cols - x, R_DIM, " now %s", w);
}

static void line_counts(struct ui *u, const struct m_target *t, int cols)
{
	char p99[16], worst[16];
	int x = screen_text(2, 0, cols, "Tasks ", R_LABEL);

	x += screen_textf(2, x, cols - x, R_VALUE, "%zu", model_task_count(t, M_UNKNOWN));
	x += screen_textf(2, x, cols - x, R_NORMAL, " (%zu pend %zu run)  ",
			  model_task_count(t, M_PENDING), model_task_count(t, M_RUNNING));
	fmt_ms_or_dash(model_stall_p99(u->m, t), p99, sizeof(p99));
	fmt_ms_or_dash(model_stall_worst(u->m, t), worst, sizeof(worst));
	x += screen_text(2, x, cols - x, "Stalls ", R_LABEL);
	screen_textf(2, x, cols - x, R_VALUE, "%zu/min p99 %s worst %s (%llu)",
		     model_stalls_per_min(u->m, t), p99, worst,
		     (unsigned long long)(t->stalls_total > t->nstalls ? t->stalls_total : t->nstalls));
}

static void line_lost(struct ui *u, const struct m_target *t, int cols)
{
	const uint64_t *l = t->lost_totals;
	int x = screen_text(3, 0, cols, "Lost  ", R_LABEL);
	bool any = l[0] || l[1] || l[2];

	x += screen_textf(3, x, cols - x, any ? R_WARN : R_NORMAL,
			  "%llu never awaited, %llu exceptions, %llu destroyed  ",
			  (unsigned long long)l[LOST_NEVER_AWAITED], (unsigned long long)l[LOST_UNRETRIEVED],
			  (unsigned long long)l[LOST_DESTROYED]);
	if (t->nlints)
		screen_textf(3, x, cols - x, R_WARN, "Lints %zu", t->nlints);
}

/* The red banner while a stall is under way; else the status line.
 * Paused comes first: a stall's end waits with the other events, so its
 * banner would count on while nothing is live. */
static void line_banner(struct ui *u, const struct m_target *t, int cols)
{
	const struct m_stall *s = t ? model_ongoing(t) : NULL;
	char d[16];

	if (u->paused && !u->replay_status) {
		screen_textf(4, 0, cols, R_STATUS, "PAUSED (Space resumes)%s",
			     s ? ": a stall was under way" : "");
		return;
	}
	if (s) {
		fmt_ms(model_stall_elapsed_ms(u->m, s), d, sizeof(d));
		screen_fill(4, 0, cols, R_BANNER);
		screen_textf(4, 0, cols, R_BANNER, " LOOP STALLED %s at %s:%d %s (%s)", d,
			     path_base(s->culprit.file), s->culprit.line, s->culprit.func,
			     s->syscall[0] ? s->syscall : s->on_ms > s->off_ms ? "on CPU" : "blocked");
		return;
	}
	if (u->replay_status)
		screen_text(4, 0, cols, u->replay_status, R_STATUS);
	else if (u->m->status[0] && t)
		screen_text(4, 0, cols, u->m->status, u->m->connected ? R_DIM : R_BAD);
}

void chrome_header(struct ui *u, int cols)
{
	const struct m_target *t = model_current(u->m);

	line_target(u, t, cols);
	if (t) {
		line_loop(u, t, cols);
		line_counts(u, t, cols);
		line_lost(u, t, cols);
	}
	line_banner(u, t, cols);
}

static const struct panel_class *const views[V_VIEWS] = {
	&panel_targets, &panel_tasks, &panel_stalls, &panel_warnings, &panel_threads,
	&panel_terminated,
};

const struct panel_class *ui_panel(const struct ui *u)
{
	return u->detail ? &panel_detail : views[u->view < V_VIEWS ? u->view : V_TASKS];
}

void chrome_tabs(struct ui *u, int y, int cols)
{
	int x = 0;

	screen_fill(y, 0, cols, R_TAB);
	for (int v = 1; v <= V_VIEWS && x < cols; v++) {
		int i = v % V_VIEWS;   /* 1..5 first, the target list (0) last */

		x += screen_textf(y, x, cols - x, i == (int)u->view ? R_TAB_ACTIVE : R_TAB, " %d %s ",
				  i, views[i]->title);
		x += screen_text(y, x, cols - x, " ", R_TAB);
	}
	if (u->filtering || u->filter[0])
		screen_textf(y, x, cols - x, R_WARN, "/%s%s", u->filter, u->filtering ? "_" : "");
}

static const struct key_label global_keys[] = {
	{ "?", "Help" }, { "Tab", "View" }, { "Spc", "Pause" }, { "q", "Quit" }, { NULL, NULL },
};

static int keys_draw(const struct key_label *k, int y, int x, int cols)
{
	for (; k && k->key && x < cols; k++) {
		if (x + screen_width(k->key) + screen_width(k->label) + 1 > cols)
			break;
		x += screen_text(y, x, cols - x, k->key, R_KEY);
		x += screen_text(y, x, cols - x, k->label, R_KEYLABEL);
		x += screen_text(y, x, cols - x, " ", R_NORMAL);
	}
	return x;
}

void chrome_keybar(struct ui *u, int y, int cols)
{
	static const struct key_label filter_keys[] = {
		{ "Enter", "Done" }, { "Esc", "Clear" }, { NULL, NULL },
	};
	int x;

	screen_fill(y, 0, cols, R_NORMAL);
	if (u->filtering) {
		keys_draw(filter_keys, y, 0, cols);
		return;
	}
	x = keys_draw(ui_panel(u)->keys, y, 0, cols);
	keys_draw(global_keys, y, x, cols);
}

static const char *const help_lines[] = {
	"loopscope tui: keys",
	"",
	"  1-5, Tab      Tasks, Stalls, Warnings, Threads, Terminated",
	"  0             the targets (Enter picks one); [ ] previous/next",
	"  Up/Down j/k   move     PgUp/PgDn  page     g/G  first/last",
	"  Enter / Esc   open the selected row / back",
	"  /             filter (type, Enter keeps it, Esc clears)",
	"  < > s         sort column     i  invert the order",
	"  t             the await tree (Tasks); Left/Right or +/- fold",
	"  Space         pause (replay: stop the clock)",
	"  n             replay: next record    f/F  replay faster/slower",
	"  q             quit",
	"",
	"Any key closes this help.",
};

void chrome_help(struct ui *u, int rows, int cols)
{
	int n = (int)(sizeof(help_lines) / sizeof(help_lines[0]));
	int w = cols > 72 ? 70 : cols - 2, y0 = rows > n + 2 ? (rows - n) / 2 : 0, x0 = (cols - w) / 2;

	for (int i = 0; i < n && y0 + i < rows; i++) {
		screen_fill(y0 + i, x0, w, R_SELECTED);
		screen_text(y0 + i, x0 + 1, w - 2, help_lines[i], R_SELECTED);
	}
}
