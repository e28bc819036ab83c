/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "proto.h"
#include "snapshot_text.h"
#include "task_output.h"
#include "task_tree.h"

struct text {
	char *s;
	size_t len, cap;
	bool oom;
};

static void text_add(struct text *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *n;

		while (cap < b->len + len + 1)
			cap *= 2;
		n = realloc(b->s, cap);
		if (!n) {
			b->oom = true;
			return;
		}
		b->s = n;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = 0;
}

/* v (stolen) with its last object given an empty "key" array, serialized
 * without that array's closing "]}": what follows goes in the array. */
static void text_add_open(struct text *b, json_t *v, const char *key)
{
	char *s = v && !json_object_set_new(v, key, json_array()) ? json_dumps(v, PROTO_JSON_FLAGS)
								  : NULL;
	size_t len = s ? strlen(s) : 0;

	json_decref(v);
	if (len < 2)
		b->oom = true;
	else
		text_add(b, s, len - 2);
	free(s);
}

static char *text_done(struct text *b, size_t *len)
{
	text_add(b, "]}", 2);
	if (b->oom) {
		free(b->s);
		b->s = NULL;
	}
	*len = b->s ? b->len : 0;
	return b->s;
}

char *ps_text(const struct py_proc *p, const struct aio_snapshot *snap, size_t *len)
{
	struct text b = { 0 };

	text_add_open(&b, snapshot_header_json(p, snap), "tasks");
	for (size_t i = 0; i < snap->n && !b.oom; i++) {
		json_t *v = task_json(&snap->tasks[i]);
		char *s = v ? json_dumps(v, PROTO_JSON_FLAGS) : NULL;

		json_decref(v);
		if (i)
			text_add(&b, ",", 1);
		if (!s)
			b.oom = true;
		else
			text_add(&b, s, strlen(s));
		free(s);
	}
	return text_done(&b, len);
}

/* Each task is left open ("children":[) until the walk comes back up. */
struct tree_text {
	struct text b;
	int depth;           /* of the node last written, -1 before the first */
};

static void close_to(struct tree_text *tt, int depth)
{
	for (; tt->depth >= depth; tt->depth--)
		text_add(&tt->b, "]}", 2);
}

static void visit_text(const struct aio_task *t, int depth, bool cycle, void *ctx)
{
	struct tree_text *tt = ctx;
	json_t *o = task_json(t);

	if (depth <= tt->depth) {
		close_to(tt, depth);
		text_add(&tt->b, ",", 1);
	}
	if (cycle)
		json_object_set_new(o, "cycle", json_true());
	text_add_open(&tt->b, o, "children");
	tt->depth = depth;
}

char *pstree_text(const struct py_proc *p, const struct aio_snapshot *snap, size_t *len)
{
	struct tree_text tt = { .depth = -1 };

	text_add_open(&tt.b, snapshot_header_json(p, snap), "tasks");
	if (task_tree_walk(snap, visit_text, &tt))
		tt.b.oom = true;
	close_to(&tt, 0);
	return text_done(&tt.b, len);
}
