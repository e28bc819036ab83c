/* SPDX-License-Identifier: GPL-2.0-only */
/* The TUI's main loop, htop's way: poll on the terminal and the agent's
 * socket with the refresh as timeout, keys to the panel first and then
 * to the global bindings, a redraw only when something changed, a full
 * relayout on KEY_RESIZE. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ncurses.h>
#include "replay.h"
#include "screen.h"
#include "session.h"
#include "strmap.h"
#include "tui.h"
#include "ui.h"

#define MIN_COLS 50
#define MIN_ROWS 12
#define BANNER_TICK_MS 100   /* an ongoing stall's banner counts up */

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	stop = sig;
}

static void handle_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };   /* no SA_RESTART: poll returns */

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* LOOPSCOPE_TUI_TIMINGS=FILE: one line per frame, "apply MS AT" for what
 * came in and "draw MS AT" for the redraw, "key 0 AT" for a key read (AT:
 * CLOCK_MONOTONIC ms when it began; bench/tui reads them). */
static FILE *timings;

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void timing(const char *what, double since)
{
	if (timings)
		fprintf(timings, "%s %.3f %.1f\n", what, mono_ms() - since, since);
}

struct tui {
	struct ui u;
	struct model *m;
	struct session *s;
	struct replay *r;
	int refresh_ms;
	double next_refresh;
	bool dirty;
	uint64_t drawn_gen;
};

static void no_ask(void *ctx, const char *method, pid_t pid, const char *arg, json_t *params)
{
	json_decref(params);
}

static void draw(struct tui *t)
{
	struct ui *u = &t->u;
	int hh = chrome_header_height(u);
	double t0 = mono_ms();

	erase();
	if (LINES < MIN_ROWS || COLS < MIN_COLS) {
		screen_textf(0, 0, COLS, R_BAD, "Terminal too small (%dx%d):", COLS, LINES);
		screen_textf(1, 0, COLS, R_BAD, "loopscope needs %dx%d.", MIN_COLS, MIN_ROWS);
		screen_text(2, 0, COLS, "Resize it, or q to quit.", R_NORMAL);
	} else {
		chrome_header(u, COLS);
		chrome_tabs(u, hh, COLS);
		ui_panel(u)->draw(u, (struct rect){ hh + 1, 0, LINES - hh - 2, COLS });
		chrome_keybar(u, LINES - 1, COLS);
		if (u->help)
			chrome_help(u, LINES, COLS);
	}
	wnoutrefresh(stdscr);
	doupdate();
	timing("draw", t0);
	t->drawn_gen = t->m->gen;
	t->dirty = false;
}

static int filter_key(struct ui *u, int ch)
{
	size_t n = strlen(u->filter);

	if (ch == 27) {
		u->filter[0] = 0;
		u->filtering = false;
	} else if (key_enter(ch)) {
		u->filtering = false;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (n)
			u->filter[n - 1] = 0;
	} else if (ch >= 0x20 && ch < 0x7f && n + 1 < sizeof(u->filter)) {
		u->filter[n] = (char)ch;
		u->filter[n + 1] = 0;
	}
	return H_REDRAW;
}

static void set_pause(struct tui *t, bool on)
{
	t->u.paused = on;
	if (t->s)
		session_pause(t->s, on);
	if (t->r)
		replay_pause(t->r, on, wall_now());
}

static int replay_key(struct tui *t, int ch)
{
	double now = wall_now();

	if (!t->r)
		return H_IGNORED;
	if (ch == 'n') {
		t->u.paused = true;
		replay_step(t->r, now, model_on_msg, t->m);
	} else if (ch == 'f') {
		replay_speed(t->r, 2, now);
	} else if (ch == 'F') {
		replay_speed(t->r, 0.5, now);
	} else {
		return H_IGNORED;
	}
	return H_REDRAW;
}

static void step_target(struct model *m, int dir)
{
	if (m->ntargets)
		model_select(m, (m->cur + m->ntargets + (size_t)(dir > 0 ? 1 : m->ntargets - 1)) % m->ntargets);
}

static int global_key(struct tui *t, int ch)
{
	struct ui *u = &t->u;

	switch (ch) {
	case 'q': case 'Q':
		return H_QUIT;
	case '?': case 'h': case KEY_F(1):
		u->help = true;
		return H_REDRAW;
	case '0': case '1': case '2': case '3': case '4': case '5':
		u->view = (enum view)(ch - '0');
		u->detail = false;
		return H_REDRAW | H_REFRESH;
	case '\t':
		u->view = (enum view)(u->view % (V_VIEWS - 1) + 1);
		u->detail = false;
		return H_REDRAW | H_REFRESH;
	case KEY_BTAB:
		u->view = (enum view)(u->view <= 1 ? V_VIEWS - 1 : u->view - 1);
		u->detail = false;
		return H_REDRAW | H_REFRESH;
	case '/':
		u->filtering = true;
		return H_REDRAW;
	case 27:
		u->filter[0] = 0;
		return H_REDRAW;
	case ' ':
		set_pause(t, !u->paused);
		return H_REDRAW;
	case '[': case ']':
		step_target(t->m, ch == ']' ? 1 : -1);
		return H_REDRAW | H_REFRESH;
	case KEY_RESIZE:
		clear();
		return H_REDRAW;
	}
	return replay_key(t, ch);
}

static int handle_key(struct tui *t, int ch)
{
	struct ui *u = &t->u;
	int r;

	if (ch == KEY_RESIZE)
		return global_key(t, ch);
	if (u->help) {
		u->help = false;
		return H_REDRAW;
	}
	if (u->filtering)
		return filter_key(u, ch);
	r = ui_panel(u)->key(u, ch);
	return r != H_IGNORED ? r : global_key(t, ch);
}

static void refresh_now(struct tui *t, double now)
{
	const struct panel_class *p = ui_panel(&t->u);

	t->next_refresh = now + t->refresh_ms / 1e3;
	if (!t->s || t->u.paused)
		return;
	session_want_tasks(t->s, t->u.view == V_TASKS || t->u.view == V_TARGETS);
	session_want_order(t->s, t->u.task_sort, t->u.task_invert);
	session_refresh(t->s);
	if (p->fetch)
		p->fetch(&t->u);
}

/* How long poll may sleep: until the next refresh, the next replayed
 * record, or the banner's next tick. */
static int poll_timeout(struct tui *t, double now)
{
	const struct m_target *cur = model_current(t->m);
	int ms = (int)((t->next_refresh - now) * 1e3) + 1;

	if (t->r) {
		int next = replay_next_ms(t->r, now);

		ms = next >= 0 && next < ms ? next : ms;
	}
	if (cur && model_ongoing(cur) && ms > BANNER_TICK_MS)
		ms = BANNER_TICK_MS;
	return ms < 0 ? 0 : ms;
}

static int keys(struct tui *t)
{
	int ch, flags = 0;

	while ((ch = getch()) != ERR) {
		timing("key", mono_ms());
		flags |= handle_key(t, ch);
		if (flags & H_QUIT)
			break;
	}
	return flags;
}

static void step(struct tui *t)
{
	struct pollfd fds[3] = { { .fd = 0, .events = POLLIN }, { .fd = -1 }, { .fd = -1 } };
	double now = wall_now(), t0 = mono_ms();
	int flags;

	model_set_now(t->m, t->r ? replay_clock(t->r, now) : now);
	if (t->r && replay_advance(t->r, now, model_on_msg, t->m)) {
		t->dirty = true;
		timing("apply", t0);
	}
	if (t->r)
		t->u.replay_status = replay_status(t->r, now);
	if (now >= t->next_refresh) {
		refresh_now(t, now);
		t->dirty = true;
	}
	if (t->dirty || t->drawn_gen != t->m->gen || (model_current(t->m) && model_ongoing(model_current(t->m))))
		draw(t);
	if (t->s && session_fd(t->s) >= 0) {
		fds[1].fd = session_fd(t->s);
		fds[1].events = POLLIN | (session_want_write(t->s) ? POLLOUT : 0);
	}
	if (t->s) {
		fds[2].fd = session_parse_fd(t->s);
		fds[2].events = POLLIN;
	}
	if (poll(fds, 3, poll_timeout(t, wall_now())) < 0 && errno != EINTR)
		stop = 1;
	/* keys first, and drawn: a key that came with an answer does not
	 * wait while that answer is applied */
	flags = keys(t);
	if (flags & H_QUIT)
		stop = 1;
	if (flags & H_REFRESH)
		t->next_refresh = 0;
	if (flags & (H_REDRAW | H_HANDLED) && !stop)
		draw(t);
	if ((fds[1].fd >= 0 && fds[1].revents) || (fds[2].fd >= 0 && fds[2].revents)) {
		t0 = mono_ms();
		session_io(t->s, fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)),
			   fds[1].fd >= 0 && (fds[1].revents & POLLOUT), fds[2].fd >= 0 && fds[2].revents);
		timing("apply", t0);
	}
	if (t->s && session_refusal(t->s))
		stop = 1;
}

static int start(struct tui *t, const struct tui_opts *o)
{
	char err[4096] = "";
	int rc;

	if (o->nreplay) {
		rc = replay_open(o->replay_files, o->nreplay, o->replay_speed, &t->r, err, sizeof(err));
		if (rc)
			fprintf(stderr, "loopscope: %s\n", err[0] ? err : strerror(-rc));
		else if (err[0])
			fprintf(stderr, "loopscope: %s\n", err);
		return rc;
	}
	t->s = session_new(t->m, o->socket_path, o->socket_dir ? o->socket_dir : TUI_SOCKET_DIR,
			   o->socket_fd, o->agent_name);
	if (!t->s)
		return -ENOMEM;
	rc = session_start(t->s, err, sizeof(err));
	if (rc)
		fprintf(stderr, "loopscope: %s\n", err);
	t->u.live = true;
	t->u.ask = session_ask;
	t->u.ask_ctx = t->s;
	return rc;
}

int tui_run(const struct tui_opts *o)
{
	struct tui t = { .refresh_ms = o->refresh_ms > 0 ? o->refresh_ms : 1000 };
	int rc = 1;

	t.m = model_new();
	t.u.m = t.m;
	t.u.view = V_TASKS;
	t.u.task_sort = -1;
	t.u.ask = no_ask;
	t.u.asked = strmap_new(NULL);
	if (!t.m || !t.u.asked || start(&t, o))
		goto out;
	handle_signals();
	if (getenv("LOOPSCOPE_TUI_TIMINGS"))
		timings = fopen(getenv("LOOPSCOPE_TUI_TIMINGS"), "w");
	if (timings)
		setvbuf(timings, NULL, _IOLBF, 0);
	if (screen_open())
		goto out;
	while (!stop)
		step(&t);
	screen_close();
	rc = 0;
	if (t.s && session_refusal(t.s)) {
		fprintf(stderr, "loopscope: %s\n", session_refusal(t.s));
		rc = 1;
	}
out:
	if (timings)
		fclose(timings);
	session_free(t.s);
	replay_free(t.r);
	strmap_free(t.u.asked);
	model_free(t.m);
	return rc;
}
