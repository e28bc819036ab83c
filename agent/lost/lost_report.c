/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "code.h"
#include "exc_text.h"
#include "intern.h"
#include "lost_report.h"

const char *lost_kind_name(int kind)
{
	switch (kind) {
	case LOST_NEVER_AWAITED:
		return "never_awaited";
	case LOST_UNRETRIEVED:
		return "unretrieved_exception";
	case LOST_DESTROYED_PENDING:
		return "destroyed_pending";
	default:
		return "?";
	}
}

static void decode_str(const struct lost_str *s, char *buf, size_t len)
{
	size_t at;

	buf[0] = 0;
	if (s->kind == LOST_STR_INT) { /* an int: a 3.12+ task name not asked for yet */
		snprintf(buf, len, "Task-%lld", (long long)s->as_int);
		return;
	}
	if (s->kind != 1 && s->kind != 2 && s->kind != 4)
		return;
	at = py_decode_units(s->data, s->kind, s->len, buf, len);
	if (s->total > s->len && at + 4 < len)
		strcat(buf, "...");
}

static void decode_frames(struct py_proc *p, const struct lost_event *e, struct py_stack *out)
{
	bool traceback = e->kind == LOST_UNRETRIEVED;
	uint32_t n = e->stack.nframes < PYFRAMES_MAX ? e->stack.nframes : PYFRAMES_MAX;

	py_stack_clear(out);
	for (uint32_t i = 0; i < n; i++) {
		const struct py_raw_frame *f = &e->stack.frames[i];
		const struct code_info *ci;
		int err, line;

		if (!traceback) {
			if (py_frame_push(p, out, f->frame, f->code, f->lasti, f->owner))
				py_stack_push(out, "?", "?", -1, 0);
			continue;
		}
		ci = code_get(p, f->code, &err);
		if (!ci) {
			py_stack_push(out, "?", "?", -1, 0);
			continue;
		}
		line = f->line > 0 ? f->line : code_line(p, ci, f->lasti);
		py_stack_push(out, ci->func, ci->file, line, 0);
	}
	out->truncated = e->stack.truncated;
}

static void decode_definition(struct py_proc *p, const struct lost_event *e, struct lost_report *r)
{
	const struct code_info *ci;
	int err;

	r->defined_file = NULL;
	r->defined_line = -1;
	ci = e->coro_code ? code_get(p, e->coro_code, &err) : NULL;
	if (!ci)
		return;
	r->defined_file = ci->file;
	r->defined_line = ci->firstlineno;
}

/* The origin's strings are read now: they belong to the creating code
 * objects, alive as long as their functions are. One that cannot be read
 * ends the list (what follows would be out of order). */
static void decode_origin(struct py_proc *p, const struct lost_event *e, struct py_stack *out)
{
	uint32_t n = e->norigin < LOST_ORIGIN_MAX ? e->norigin : LOST_ORIGIN_MAX;
	char file[1024], func[256];

	py_stack_clear(out);
	for (uint32_t i = 0; i < n; i++) {
		const struct lost_origin *o = &e->origin[i];

		if (py_read_str(p, o->file, file, sizeof(file)) ||
		    py_read_str(p, o->func, func, sizeof(func)))
			break;
		py_stack_push(out, intern_str(p->strings, func), intern_str(p->strings, file),
			      o->line > 0 && o->line < (1 << 30) ? (int)o->line : -1, 0);
	}
}

void lost_report_decode(struct py_proc *p, const struct lost_event *e, int64_t mono_to_unix_ns,
			struct lost_report *r)
{
	r->kind = (int)e->kind;
	r->pid = p->pid;
	r->tid = (pid_t)e->tid;
	r->ts = (double)((int64_t)e->ts + mono_to_unix_ns) / 1e9;
	r->obj = e->obj;
	r->suppressed = 0;
	decode_str(&e->coro, r->coro, sizeof(r->coro));
	decode_str(&e->name, r->task, sizeof(r->task));
	r->exception[0] = 0;
	if (e->kind == LOST_UNRETRIEVED)
		exc_text_render(e, py_exc_str_kind(p, e->exc_str), r->exception, sizeof(r->exception));
	decode_frames(p, e, &r->stack);
	decode_definition(p, e, r);
	decode_origin(p, e, &r->created);
	if (e->kind != LOST_NEVER_AWAITED) /* chains and tracebacks come outermost first */
		py_stack_reverse(&r->stack);
}

const struct py_frame *lost_report_site(const struct lost_report *r)
{
	for (size_t i = 0; i < r->stack.depth; i++)
		if (!strstr(r->stack.frames[i].file, "/asyncio/"))
			return &r->stack.frames[i];
	return r->stack.depth ? &r->stack.frames[0] : NULL;
}

void lost_report_clear(struct lost_report *r)
{
	py_stack_clear(&r->stack);
	py_stack_clear(&r->created);
	r->defined_file = NULL;
}

void lost_report_free(struct lost_report *r)
{
	py_stack_free(&r->stack);
	py_stack_free(&r->created);
}

void lost_site_of(const struct lost_report *r, struct lost_site *k)
{
	const struct py_frame *f = lost_report_site(r);

	k->kind = r->kind;
	snprintf(k->coro, sizeof(k->coro), "%s", r->coro);
	k->file = f ? f->file : "";
	k->line = f ? f->line : -1;
}

static bool same_site(const struct lost_site *a, const struct lost_site *b)
{
	return a->kind == b->kind && a->file == b->file && a->line == b->line && !strcmp(a->coro, b->coro);
}

int lost_site_table_init(struct lost_site_table *t, size_t esize, size_t max)
{
	t->v = calloc(max, esize);
	t->esize = esize;
	t->n = 0;
	t->max = max;
	return t->v ? 0 : -ENOMEM;
}

void lost_site_table_done(struct lost_site_table *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

void *lost_site_table_at(const struct lost_site_table *t, size_t i)
{
	return i < t->n ? t->v + i * t->esize : NULL;
}

/* The key is made once per event, not once per site compared: making it
 * walks the stack for the innermost frame outside asyncio. */
void *lost_site_table_of(struct lost_site_table *t, const struct lost_report *r)
{
	struct lost_site key;
	char *e;

	lost_site_of(r, &key);
	for (size_t i = 0; i < t->n; i++) {
		e = t->v + i * t->esize;
		if (same_site((const struct lost_site *)e, &key))
			return e;
	}
	if (t->n == t->max)
		return NULL;
	e = t->v + t->n++ * t->esize;
	*(struct lost_site *)e = key;
	return e;
}
