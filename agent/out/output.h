/* SPDX-License-Identifier: GPL-2.0-only */
/* Output helpers shared by every command: NDJSON lines, Python stacks as
 * JSON and as text, terminal colours. */
#ifndef LOOPSCOPE_OUTPUT_H
#define LOOPSCOPE_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include "pystack.h"

/* Prints obj as one compact line and flushes; steals the reference. */
void ndjson_print(FILE *f, json_t *obj);
/* Pretty JSON document (for one-shot commands); steals the reference. */
void json_doc_print(FILE *f, json_t *obj);
/* A large document printed as it is made: the header object's fields, then
 * "key": [ items, one per line ]. Each call steals its reference. */
void json_stream_begin(FILE *f, json_t *header, const char *key);
void json_stream_item(FILE *f, json_t *item, bool first);
void json_stream_end(FILE *f);
/* A string from the target as JSON: valid UTF-8 whatever its bytes (bad
 * ones as "\xNN"), never NULL, so it never takes its neighbours down. Use
 * it (with "s:o") for every string that came from the target. */
json_t *json_text(const char *s);
/* Rounds to `decimals` places, so JSON shows 250.612, not 250.61200000000002. */
json_t *json_round(double v, int decimals);
/* [{"func":S,"file":S,"line":N}], innermost first; never NULL. */
json_t *py_stack_json(const struct py_stack *s);
/* {"id":"0x…","name":S,"coro":S} or null. */
json_t *py_task_json(const struct py_task_ref *t);
/* Frames as "    func (file:line)" lines, innermost first. */
void py_stack_print(FILE *f, const struct py_stack *s, const char *indent, size_t max_frames);

/* A Unix time as local HH:MM:SS.mmm, the first column of event lines. */
void output_clock_print(FILE *f, double ts);

/* Colours, only when writing to a terminal. */
struct colors {
	const char *bold, *dim, *red, *yellow, *green, *cyan, *reset;
};
const struct colors *colors_for(FILE *f);

#endif
