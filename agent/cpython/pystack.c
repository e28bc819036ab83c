/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pystack.h"

int py_stack_push(struct py_stack *s, const char *func, const char *file, int line, uint64_t addr)
{
	if (s->depth == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct py_frame *f = realloc(s->frames, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		s->frames = f;
		s->cap = cap;
	}
	s->frames[s->depth++] = (struct py_frame){ func, file, line, addr };
	return 0;
}

int py_stack_copy(struct py_stack *dst, const struct py_stack *src)
{
	py_stack_clear(dst);
	for (size_t i = 0; i < src->depth; i++) {
		const struct py_frame *f = &src->frames[i];
		int err = py_stack_push(dst, f->func, f->file, f->line, f->addr);

		if (err)
			return err;
	}
	dst->truncated = src->truncated;
	dst->partial = src->partial;
	return 0;
}

/* Strings come from one interning cache, so pointers compare. */
static bool same_frame(const struct py_frame *x, const struct py_frame *y)
{
	return x->line == y->line && x->func == y->func && x->file == y->file;
}

bool py_stack_equal(const struct py_stack *a, const struct py_stack *b)
{
	if (a->depth != b->depth)
		return false;
	for (size_t i = 0; i < a->depth; i++)
		if (!same_frame(&a->frames[i], &b->frames[i]))
			return false;
	return true;
}

bool py_stack_extends(const struct py_stack *s, const struct py_stack *outer)
{
	size_t skip = s->depth - outer->depth;

	if (s->depth <= outer->depth)
		return false;
	for (size_t i = 0; i < outer->depth; i++)
		if (!same_frame(&s->frames[skip + i], &outer->frames[i]))
			return false;
	return true;
}

void py_stack_clear(struct py_stack *s)
{
	s->depth = 0;
	s->truncated = false;
	s->partial = false;
}

void py_stack_free(struct py_stack *s)
{
	free(s->frames);
	memset(s, 0, sizeof(*s));
}

void py_stack_reverse(struct py_stack *s)
{
	for (size_t i = 0, j = s->depth ? s->depth - 1 : 0; i < j; i++, j--) {
		struct py_frame tmp = s->frames[i];

		s->frames[i] = s->frames[j];
		s->frames[j] = tmp;
	}
}
