/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"

/* Records are kept as offsets: the lines are read again when their time
 * comes, so an hour of snapshots is not held in memory twice. */
struct record {
	double ts;
	long off;
	size_t len;
	unsigned file;
};

struct rfile {
	const char *path;
	FILE *f;
	double first_ts;
	char stopped[300];   /* "" when read to its end */
};

struct replay {
	struct rfile *files;
	size_t nfiles;
	struct record *recs;
	size_t n, cap, next;
	double speed;
	bool paused;
	double base_wall, base_clock;   /* the clock = base_clock + (now - base_wall) * speed */
	char status[1024];
};

/* A record's time: its "ts" (or a wrapped event's), else the one before. */
static double record_ts(const json_t *doc, double prev)
{
	static const char *const keys[] = { "ts", "time", "t" };
	const json_t *inner = json_object_get(doc, "event");

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(doc, keys[i]);

		if (json_is_number(v) && json_number_value(v) > 0)
			return json_number_value(v);
	}
	if (json_is_object(inner))
		return record_ts(inner, prev);
	return prev;
}

static int add_record(struct replay *r, const struct record *rec)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		struct record *b = realloc(r->recs, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		r->recs = b;
		r->cap = cap;
	}
	r->recs[r->n++] = *rec;
	return 0;
}

/* Indexes one file; stops at its first line that is not a JSON object.
 * first_only: only learn its first timestamp (for the order of files). */
static void index_file(struct replay *r, unsigned fi, bool first_only)
{
	struct rfile *f = &r->files[fi];
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	double prev = 0;
	long off = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, f->f)) > 0) {
		json_error_t jerr;
		json_t *doc;
		struct record rec;

		lineno++;
		doc = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &jerr);
		if (!json_is_object(doc)) {
			snprintf(f->stopped, sizeof(f->stopped), "%s: stopped at line %zu: %s", f->path, lineno,
				 doc ? "not a JSON object" : line[len - 1] != '\n' ? "truncated" : jerr.text);
			json_decref(doc);
			break;
		}
		rec = (struct record){ record_ts(doc, prev), off, (size_t)len, fi };
		json_decref(doc);
		if (!f->first_ts && rec.ts > 0)
			f->first_ts = rec.ts;
		if (first_only && f->first_ts)
			break;
		prev = rec.ts;
		if (add_record(r, &rec))
			break;
		off += len;
	}
	free(line);
}

/* Records before the first timestamp (a history's target_attached) take it. */
static void backfill(struct replay *r)
{
	size_t i = 0;

	while (i < r->n && r->recs[i].ts <= 0)
		i++;
	for (size_t k = 0; k < i && i < r->n; k++)
		r->recs[k].ts = r->recs[i].ts;
}

static int cmp_files(const void *a, const void *b)
{
	const struct rfile *x = a, *y = b;

	return x->first_ts < y->first_ts ? -1 : x->first_ts > y->first_ts;
}

int replay_open(const char *const *files, size_t n, double speed, struct replay **out,
		char *err, size_t errlen)
{
	struct replay *r = calloc(1, sizeof(*r));
	size_t opened = 0;

	if (!r || !(r->files = calloc(n ? n : 1, sizeof(*r->files)))) {
		free(r);
		return -ENOMEM;
	}
	r->speed = speed > 0 ? speed : 1;
	for (size_t i = 0; i < n; i++) {
		struct rfile *f = &r->files[r->nfiles];

		f->path = files[i];
		f->f = fopen(files[i], "r");
		if (!f->f) {
			snprintf(err, errlen, "cannot open %s: %s", files[i], strerror(errno));
			continue;
		}
		r->nfiles++;
		opened++;
	}
	if (!opened) {
		replay_free(r);
		return -ENOENT;
	}
	/* first timestamps decide the order: learn them, sort, then index */
	for (unsigned i = 0; i < r->nfiles; i++)
		index_file(r, i, true);
	qsort(r->files, r->nfiles, sizeof(*r->files), cmp_files);
	r->n = 0;
	for (unsigned i = 0; i < r->nfiles; i++) {
		rewind(r->files[i].f);
		r->files[i].stopped[0] = 0;
		r->files[i].first_ts = 0;
		index_file(r, i, false);
	}
	backfill(r);
	r->base_clock = r->n ? r->recs[0].ts : 0;
	*out = r;
	return 0;
}

void replay_free(struct replay *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfiles; i++)
		if (r->files[i].f)
			fclose(r->files[i].f);
	free(r->files);
	free(r->recs);
	free(r);
}

double replay_clock(const struct replay *r, double now)
{
	if (!r->base_wall)
		return r->base_clock;
	return r->paused ? r->base_clock : r->base_clock + (now - r->base_wall) * r->speed;
}

static void rebase(struct replay *r, double now)
{
	r->base_clock = replay_clock(r, now);
	r->base_wall = now;
}

/* A recorded line as a message: an event, or an answer kept with the
 * method it answered ({"method":M,"pid":N,"result":{...}}). */
static void feed(struct replay *r, const struct record *rec, client_msg_fn fn, void *ctx)
{
	struct rfile *f = &r->files[rec->file];
	char *buf = malloc(rec->len + 1);
	json_t *doc = NULL, *body;
	struct client_msg m = { 0 };

	if (buf && fseek(f->f, rec->off, SEEK_SET) == 0 && fread(buf, 1, rec->len, f->f) == rec->len)
		doc = json_loadb(buf, rec->len, JSON_ALLOW_NUL, NULL);
	free(buf);
	if (json_is_string(json_object_get(doc, "event"))) {
		m.type = CLIENT_EVENT;
		m.body = doc;
		fn(&m, ctx);
	} else if (json_is_object(json_object_get(doc, "event"))) {
		m.type = CLIENT_EVENT;
		m.body = json_object_get(doc, "event");
		fn(&m, ctx);
	} else if (json_is_object(body = json_object_get(doc, "result"))) {
		m.type = CLIENT_RESULT;
		m.method = json_string_value(json_object_get(doc, "method"));
		if (!m.method)
			m.method = json_string_value(json_object_get(doc, "kind"));
		m.method = m.method ? m.method : "";
		m.pid = (pid_t)json_integer_value(json_object_get(doc, "pid"));
		m.arg = "";
		m.body = body;
		fn(&m, ctx);
	}
	json_decref(doc);
}

bool replay_advance(struct replay *r, double now, client_msg_fn fn, void *ctx)
{
	double clock;
	bool any = false;

	if (!r->base_wall)
		r->base_wall = now;
	clock = replay_clock(r, now);
	while (r->next < r->n && r->recs[r->next].ts <= clock) {
		feed(r, &r->recs[r->next++], fn, ctx);
		any = true;
	}
	return any;
}

bool replay_step(struct replay *r, double now, client_msg_fn fn, void *ctx)
{
	if (r->next >= r->n)
		return false;
	r->paused = true;
	r->base_wall = now;
	r->base_clock = r->recs[r->next].ts;
	feed(r, &r->recs[r->next++], fn, ctx);
	return true;
}

void replay_pause(struct replay *r, bool paused, double now)
{
	rebase(r, now);
	r->paused = paused;
}

void replay_speed(struct replay *r, double factor, double now)
{
	double s = r->speed * factor;

	rebase(r, now);
	r->speed = s < 1.0 / 16 ? 1.0 / 16 : s > 1024 ? 1024 : s;
}

int replay_next_ms(const struct replay *r, double now)
{
	double wait;

	if (r->paused || r->next >= r->n)
		return -1;
	wait = (r->recs[r->next].ts - replay_clock(r, now)) / r->speed * 1e3;
	return wait <= 0 ? 0 : wait > 1e6 ? 1000000 : (int)wait + 1;
}

const char *replay_status(struct replay *r, double now)
{
	size_t used;

	used = (size_t)snprintf(r->status, sizeof(r->status), "REPLAY x%g %s record %zu/%zu%s", r->speed,
				r->paused ? "paused" : "playing", r->next, r->n,
				r->next >= r->n ? " (end)" : "");
	for (size_t i = 0; i < r->nfiles && used < sizeof(r->status); i++)
		if (r->files[i].stopped[0])
			used += (size_t)snprintf(r->status + used, sizeof(r->status) - used, "; %s",
						 r->files[i].stopped);
	return r->status;
}
