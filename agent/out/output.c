#include <time.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "output.h"

void ndjson_print(FILE *f, json_t *obj)
{
	if (!obj)
		return;
	json_dumpf(obj, f, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	fflush(f);
	json_decref(obj);
}

void json_doc_print(FILE *f, json_t *obj)
{
	if (!obj)
		return;
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

		json_array_append_new(arr, json_pack("{s:s, s:s, s:i}",
			"func", fr->func ? fr->func : "?",
			"file", fr->file ? fr->file : "?",
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
	return json_pack("{s:s, s:s, s:s}", "id", id, "name", t->name, "coro", t->coro);
}

void py_stack_print(FILE *f, const struct py_stack *s, const char *indent, size_t max_frames)
{
	const struct colors *c = colors_for(f);

	for (size_t i = 0; s && i < s->depth && i < max_frames; i++) {
		const struct py_frame *fr = &s->frames[i];

		fprintf(f, "%s%s%s%s (%s%s:%d%s)\n", indent, c->bold, fr->func ? fr->func : "?",
			c->reset, c->dim, fr->file ? fr->file : "?", fr->line, c->reset);
	}
	if (s && s->depth > max_frames)
		fprintf(f, "%s... %zu more frames\n", indent, s->depth - max_frames);
	if (s && s->truncated)
		fprintf(f, "%s... (stack truncated)\n", indent);
}

const struct colors *colors_for(FILE *f)
{
	static const struct colors on = {
		"\033[1m", "\033[2m", "\033[31m", "\033[33m", "\033[32m", "\033[36m", "\033[0m",
	};
	static const struct colors off = { "", "", "", "", "", "", "" };

	return isatty(fileno(f)) && !getenv("NO_COLOR") ? &on : &off;
}

void output_clock_print(FILE *f, double ts)
{
	time_t secs = (time_t)ts;
	struct tm tm;

	localtime_r(&secs, &tm);
	fprintf(f, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		(int)((ts - (double)secs) * 1000));
}
