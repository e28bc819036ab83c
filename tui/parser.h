/* SPDX-License-Identifier: GPL-2.0-only */
/* JSON lines parsed on a thread of their own, in the order they came, so
 * that the TUI's key loop never waits while a ps answer of tens of MB is
 * parsed (80-190 ms for 10k-100k tasks). The main thread pushes whole
 * lines and pops parsed documents when the fd says some are ready. */
#ifndef LOOPSCOPE_TUI_PARSER_H
#define LOOPSCOPE_TUI_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct line_parser;

/* What else the thread makes of each parsed line (NULL: nothing): prepare
 * runs on the thread right after parsing (doc NULL never comes to it) and
 * returns something to hand to the main thread with the line (or NULL);
 * release frees that, on the thread, once the main thread let go of it. */
struct line_prepare {
	void *(*prepare)(const json_t *doc, void *ctx);
	void (*release)(void *extra, void *ctx);
	void *ctx;
};

/* NULL when out of memory or when no thread can be started; hook (may be
 * NULL) is copied. */
struct line_parser *line_parser_new(const struct line_prepare *hook);
void line_parser_free(struct line_parser *p);
/* Takes line (malloc'd, len bytes, no '\n'; the parser frees it). 0 or
 * -ENOMEM (then line is freed). */
int line_parser_push(struct line_parser *p, char *line, size_t len);
/* The oldest parsed line: 1 with *doc (NULL when it was not JSON), *len
 * (its size in bytes) and *extra (what the hook prepared from it, or
 * NULL; give it back with line_parser_release), 0 when none is ready yet.
 * With wait, blocks until the lines pushed so far are parsed (0 only when
 * none are left). */
int line_parser_pop(struct line_parser *p, bool wait, json_t **doc, size_t *len, void **extra);
/* Readable while parsed lines wait to be popped. */
int line_parser_fd(const struct line_parser *p);
/* Lets the thread drop doc's reference: freeing a 100k-task answer takes
 * as long as parsing it. */
void line_parser_dispose(struct line_parser *p, json_t *doc);
/* Lets the thread release what its hook prepared (NULL: nothing). */
void line_parser_release(struct line_parser *p, void *extra);
/* Forgets every line pushed and not yet popped (a new connection). */
void line_parser_discard(struct line_parser *p);

#endif
