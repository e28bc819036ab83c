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

/* NULL when out of memory or when no thread can be started. */
struct line_parser *line_parser_new(void);
void line_parser_free(struct line_parser *p);
/* Takes line (malloc'd, len bytes, no '\n'; the parser frees it). 0 or
 * -ENOMEM (then line is freed). */
int line_parser_push(struct line_parser *p, char *line, size_t len);
/* The oldest parsed line: 1 with *doc (NULL when it was not JSON) and
 * *len (its size in bytes), 0 when none is ready yet. With wait, blocks
 * until the lines pushed so far are parsed (0 only when none are left). */
int line_parser_pop(struct line_parser *p, bool wait, json_t **doc, size_t *len);
/* Readable while parsed lines wait to be popped. */
int line_parser_fd(const struct line_parser *p);
/* Lets the thread drop doc's reference: freeing a 100k-task answer takes
 * as long as parsing it. */
void line_parser_dispose(struct line_parser *p, json_t *doc);
/* Forgets every line pushed and not yet popped (a new connection). */
void line_parser_discard(struct line_parser *p);

#endif
