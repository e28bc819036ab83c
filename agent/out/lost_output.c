/* SPDX-License-Identifier: GPL-2.0-only */
/* Lost-work events as NDJSON and as text, one block per call site: a site
 * that fires again and again is shown once, then as a running count. */
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "lost_output.h"
#include "output.h"
#include "text.h"

#define MAX_SITES 4096
#define JSON_SITE_INTERVAL 1.0   /* at most one JSON event per site per second */
#define TEXT_REPEAT_INTERVAL 5.0 /* a repeating site's count line, at most every 5 s */

struct site {
	struct lost_site key;
	uint64_t count;
	uint64_t suppressed;  /* not shown since the last time shown */
	uint64_t shown;       /* text: the count last said */
	double last_shown;
	double last_ts;       /* Unix time of its last event */
};

struct lost_output {
	bool json;
	struct lost_site_table sites;  /* of struct site */
	uint64_t totals[4];
	uint64_t unlisted;   /* events at sites past the first MAX_SITES */
};

struct lost_output *lost_output_new(bool json)
{
	struct lost_output *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->json = json;
	if (lost_site_table_init(&o->sites, sizeof(struct site), MAX_SITES)) {
		free(o);
		return NULL;
	}
	return o;
}

void lost_output_free(struct lost_output *o)
{
	if (!o)
		return;
	lost_site_table_done(&o->sites);
	free(o);
}

static struct site *site_of(struct lost_output *o, const struct lost_report *r)
{
	struct site *s = lost_site_table_of(&o->sites, r);

	if (s && !s->count)  /* new */
		s->last_shown = -1e9;
	return s;
}

json_t *lost_report_json(const struct lost_report *r)
{
	const char *frames_key = r->kind == LOST_UNRETRIEVED ? "traceback" : "stack";
	json_t *o = json_pack("{s:s, s:i, s:i, s:o, s:o}", "event", lost_kind_name(r->kind),
			      "pid", r->pid, "tid", r->tid, "ts", json_round(r->ts, 6),
			      "coro", json_text(r->coro));

	if (r->kind != LOST_NEVER_AWAITED)
		json_object_set_new(o, "task", json_text(r->task));
	if (r->kind == LOST_UNRETRIEVED)
		json_object_set_new(o, "exception", json_text(r->exception));
	json_object_set_new(o, frames_key, py_stack_json(&r->stack));
	if (r->defined_file)
		json_object_set_new(o, "defined", json_pack("{s:o, s:i}", "file",
				    json_text(r->defined_file), "line", r->defined_line));
	if (r->created.depth)
		json_object_set_new(o, "created", py_stack_json(&r->created));
	if (r->suppressed)
		json_object_set_new(o, "suppressed", json_integer((json_int_t)r->suppressed));
	return o;
}

/* Text: the creating frames, unless they say what the stack below says
 * (a coroutine never awaited is mostly dropped where it was made). */
static bool created_elsewhere(const struct lost_report *r)
{
	const struct py_frame *made = r->created.depth ? &r->created.frames[0] : NULL;
	const struct py_frame *at = r->stack.depth ? &r->stack.frames[0] : NULL;

	if (!made)
		return false;
	return r->kind != LOST_NEVER_AWAITED || !at || at->file != made->file || at->line != made->line;
}

static void print_block(FILE *f, const struct lost_report *r)
{
	const struct colors *c = colors_for(f);

	output_clock_print(f, r->ts);
	switch (r->kind) {
	case LOST_NEVER_AWAITED:
		fprintf(f, "  %s%sNEVER AWAITED%s  coroutine %s'%s'%s was created and dropped without "
			"await (tid %d)\n", c->bold, c->yellow, c->reset, c->bold, text_safe(r->coro), c->reset, r->tid);
		break;
	case LOST_UNRETRIEVED:
		fprintf(f, "  %s%sEXCEPTION NEVER RETRIEVED%s  task %s%s%s (%s): %s%s%s\n", c->bold, c->red,
			c->reset, c->cyan, r->task[0] ? text_safe(r->task) : "-", c->reset,
			r->coro[0] ? text_safe(r->coro) : "-", c->bold, text_safe(r->exception), c->reset);
		break;
	case LOST_DESTROYED_PENDING:
		fprintf(f, "  %s%sTASK DESTROYED PENDING%s  task %s%s%s (%s)\n", c->bold,
			c->red, c->reset, c->cyan, text_safe(r->task), c->reset, text_safe(r->coro));
		break;
	}
	if (r->defined_file)
		fprintf(f, "    coroutine %s defined at %s:%d\n", r->coro[0] ? text_safe(r->coro) : "-",
			text_safe(r->defined_file), r->defined_line);
	if (created_elsewhere(r)) {
		fprintf(f, "    created at, innermost first:\n");
		py_stack_print(f, &r->created, "    ", 4);
		if (r->kind == LOST_NEVER_AWAITED)
			fprintf(f, "    dropped at, innermost first:\n");
	}
	if (r->kind == LOST_UNRETRIEVED)
		fprintf(f, "    traceback, innermost first:\n");
	else if (r->kind == LOST_DESTROYED_PENDING)
		fprintf(f, "    suspended at, innermost first:\n");
	py_stack_print(f, &r->stack, "    ", 10);
}

/* The headline of each kind, as the first block of a site says it. */
static const char *kind_title(int kind)
{
	switch (kind) {
	case LOST_NEVER_AWAITED:
		return "NEVER AWAITED";
	case LOST_UNRETRIEVED:
		return "EXCEPTION NEVER RETRIEVED";
	case LOST_DESTROYED_PENDING:
		return "TASK DESTROYED PENDING";
	}
	return "?";
}

static void print_repeat(FILE *f, struct site *s, double now)
{
	const struct colors *c = colors_for(f);

	output_clock_print(f, s->last_ts);
	fprintf(f, "  %s%s again (%s) at %s:%d: %llu times so far%s\n", c->dim, kind_title(s->key.kind),
		s->key.coro[0] ? text_safe(s->key.coro) : "-", text_safe(s->key.file), s->key.line,
		(unsigned long long)s->count, c->reset);
	s->shown = s->count;
	s->last_shown = now;
}

/* Text: a site that fired since its count was last said, and not said for
 * TEXT_REPEAT_INTERVAL: due now. */
static bool repeat_due(const struct site *s, double now)
{
	return s->count > s->shown && now - s->last_shown >= TEXT_REPEAT_INTERVAL;
}

void lost_output_tick(struct lost_output *o, FILE *f, double now)
{
	bool printed = false;

	for (size_t i = 0; !o->json && i < o->sites.n; i++) {
		struct site *s = lost_site_table_at(&o->sites, i);

		if (repeat_due(s, now)) {
			print_repeat(f, s, now);
			printed = true;
		}
	}
	if (printed)
		fflush(f);
}

int lost_output_next_ms(const struct lost_output *o, double now)
{
	double next = -1;

	for (size_t i = 0; !o->json && i < o->sites.n; i++) {
		const struct site *s = lost_site_table_at(&o->sites, i);
		double at = s->last_shown + TEXT_REPEAT_INTERVAL;

		if (s->count > s->shown && (next < 0 || at < next))
			next = at;
	}
	return clock_ms_between(now, next);
}

void lost_output_event(struct lost_output *o, FILE *f, struct lost_report *r, double now)
{
	struct site *s = site_of(o, r);

	if (r->kind >= 1 && r->kind <= 3)
		o->totals[r->kind]++;
	if (!s) { /* more distinct sites than we track: show them all */
		o->unlisted++;
		if (o->json)
			ndjson_print(f, lost_report_json(r));
		else
			print_block(f, r);
		return;
	}
	s->count++;
	s->last_ts = r->ts;
	if (o->json) {
		if (now - s->last_shown < JSON_SITE_INTERVAL) {
			s->suppressed++;
			return;
		}
		r->suppressed = s->suppressed;
		s->suppressed = 0;
		s->last_shown = now;
		ndjson_print(f, lost_report_json(r));
		return;
	}
	if (s->count == 1) {
		print_block(f, r);
		s->shown = 1;
		s->last_shown = now;
	} else if (repeat_due(s, now)) {
		print_repeat(f, s, now);
	}
	fflush(f);
}

uint64_t lost_output_total(const struct lost_output *o, int kind)
{
	return kind >= 1 && kind <= 3 ? o->totals[kind] : 0;
}

void lost_output_sites_print(const struct lost_output *o, FILE *f)
{
	for (size_t i = 0; i < o->sites.n; i++) {
		const struct site *s = lost_site_table_at(&o->sites, i);

		fprintf(f, "  %-22s %6llu x  %s at %s:%d\n", lost_kind_name(s->key.kind),
			(unsigned long long)s->count, s->key.coro[0] ? text_safe(s->key.coro) : "-",
			text_safe(s->key.file), s->key.line);
	}
	if (o->unlisted)
		fprintf(f, "  ... and %llu more events at sites past the first %d, not listed\n",
			(unsigned long long)o->unlisted, MAX_SITES);
}
