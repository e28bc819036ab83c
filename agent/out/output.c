/* SPDX-License-Identifier: GPL-2.0-only */
#include <time.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "output.h"
#include "text.h"

json_t *json_text(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char small[256], *buf = n * 4 + 1 <= sizeof(small) ? small : malloc(n * 4 + 1);
	json_t *j;

	if (!s || !buf)
		return json_string("");
	text_utf8_clean(s, buf, n * 4 + 1); /* "\xNN" for each bad byte: 4x at most */
	j = json_string(buf);
	if (buf != small)
		free(buf);
	return j ? j : json_string("");
}

/* A document that could not be built (out of memory) is still a line. */
static json_t *or_error(json_t *obj)
{
	return obj ? obj : json_pack("{s:s}", "error", "an event could not be encoded");
}

void ndjson_print(FILE *f, json_t *obj)
{
	obj = or_error(obj);
	json_dumpf(obj, f, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	fflush(f);
	json_decref(obj);
}

void json_doc_print(FILE *f, json_t *obj)
{
	obj = or_error(obj);
	json_dumpf(obj, f, JSON_INDENT(2) | JSON_REAL_PRECISION(15) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	fflush(f);
	json_decref(obj);
}

#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_PRESERVE_ORDER)

void json_stream_begin(FILE *f, json_t *header, const char *key)
{
	char *text = json_dumps(header, JSON_FLAGS);
	size_t n = text ? strlen(text) : 0;

	if (n >= 2 && text[n - 1] == '}') {
		text[n - 1] = 0;
		fprintf(f, "%s%s\"%s\":[\n", text, n > 2 ? "," : "", key);
	} else {
		fprintf(f, "{\"%s\":[\n", key);
	}
	free(text);
	json_decref(header);
}

void json_stream_item(FILE *f, json_t *item, bool first)
{
	if (!first)
		fputs(",\n", f);
	item = or_error(item);
	json_dumpf(item, f, JSON_FLAGS);
	json_decref(item);
}

void json_stream_end(FILE *f)
{
	fputs("\n]}\n", f);
	fflush(f);
}

json_t *json_round(double v, int decimals)
{
	double scale = pow(10, decimals);

	if (!isfinite(v))
		return json_null();
	return json_real(round(v * scale) / scale);
}

json_t *py_stack_json(const struct py_stack *s)
{
	json_t *arr = json_array();

	for (size_t i = 0; s && i < s->depth; i++) {
		const struct py_frame *fr = &s->frames[i];

		json_array_append_new(arr, json_pack("{s:o, s:o, s:i}",
			"func", json_text(fr->func ? fr->func : "?"),
			"file", json_text(fr->file ? fr->file : "?"),
			"line", fr->line));
	}
	return arr;
}

json_t *py_task_json(const struct py_task_ref *t)
{
	char id[32];

	if (!t)
		return json_null();
	snprintf(id, sizeof(id), "0x%llx", (unsigned long long)t->addr);
	return json_pack("{s:s, s:o, s:o}", "id", id, "name", json_text(t->name),
			 "coro", json_text(t->coro));
}

/* One line for what is not shown: frames left out here, and frames never
 * read (deeper than the reader's limit), so the count is never taken for
 * the stack's real depth. */
static void stack_elision_print(FILE *f, const struct py_stack *s, const char *indent,
				size_t max_frames)
{
	size_t more = s->depth > max_frames ? s->depth - max_frames : 0;

	if (more && s->truncated)
		fprintf(f, "%s... %zu more frames read, and more not read (stack deeper than %zu)\n",
			indent, more, s->depth);
	else if (more)
		fprintf(f, "%s... %zu more frames\n", indent, more);
	else if (s->truncated)
		fprintf(f, "%s... more frames not read (stack truncated at %zu)\n", indent, s->depth);
}

void py_stack_print(FILE *f, const struct py_stack *s, const char *indent, size_t max_frames)
{
	const struct colors *c = colors_for(f);

	for (size_t i = 0; s && i < s->depth && i < max_frames; i++) {
		const struct py_frame *fr = &s->frames[i];

		fprintf(f, "%s%s%s%s (%s%s:%d%s)\n", indent, c->bold, fr->func ? text_safe(fr->func) : "?",
			c->reset, c->dim, fr->file ? text_safe(fr->file) : "?", fr->line, c->reset);
	}
	if (s)
		stack_elision_print(f, s, indent, max_frames);
}

const struct colors *colors_for(FILE *f)
{
	static const struct colors on = {
		"\033[1m", "\033[2m", "\033[31m", "\033[33m", "\033[32m", "\033[36m", "\033[0m",
	};
	static const struct colors off = { "", "", "", "", "", "", "" };

	const char *term = getenv("TERM");
	bool dumb = !term || !*term || !strcmp(term, "dumb");

	/* https://no-color.org: any NO_COLOR, even empty, turns colour off */
	return isatty(fileno(f)) && !getenv("NO_COLOR") && !dumb ? &on : &off;
}

void output_clock_print(FILE *f, double ts)
{
	time_t secs = (time_t)ts;
	struct tm tm;

	localtime_r(&secs, &tm);
	fprintf(f, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		(int)((ts - (double)secs) * 1000));
}
