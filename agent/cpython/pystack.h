/* SPDX-License-Identifier: GPL-2.0-only */
/* A Python stack as loopscope reports it: frames innermost first. The
 * strings belong to the reader that produced them (its code-object cache)
 * and live as long as it does. */
#ifndef LOOPSCOPE_PYSTACK_H
#define LOOPSCOPE_PYSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct py_frame {
	const char *func;  /* qualified name when the version has one */
	const char *file;
	int line;          /* -1 when unknown */
	uint64_t addr;     /* the frame's address in the target (not compared) */
};

struct py_stack {
	size_t depth;
	size_t cap;
	bool truncated;    /* deeper than the reader's limit */
	bool partial;      /* the stack changed while read: frames may be missing */
	struct py_frame *frames;
};

/* The asyncio task running on a thread, as `ps` and `dump` name it. */
struct py_task_ref {
	uint64_t addr;     /* the Task object's address: the task id */
	char name[128];
	char coro[256];
};

int py_stack_push(struct py_stack *s, const char *func, const char *file, int line, uint64_t addr);
int py_stack_copy(struct py_stack *dst, const struct py_stack *src);
bool py_stack_equal(const struct py_stack *a, const struct py_stack *b);
/* Whether s is deeper than outer and its outermost frames are outer's:
 * outer is what s runs under. */
bool py_stack_extends(const struct py_stack *s, const struct py_stack *outer);
/* Innermost first <-> outermost first. */
void py_stack_reverse(struct py_stack *s);
void py_stack_clear(struct py_stack *s);
void py_stack_free(struct py_stack *s);

#endif
