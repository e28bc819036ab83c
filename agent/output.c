#include <math.h>
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
