/* SPDX-License-Identifier: GPL-2.0-only */
/* Interned strings: one copy of each, so equal strings have equal
 * pointers (stacks compare by pointer). They live until intern_free, or,
 * in a table that is aged with intern_next_generation, until no caller
 * has asked for them for a few generations: a table of task names, which
 * a target can make unique by the million, stays as big as the names in
 * use. */
#ifndef LOOPSCOPE_INTERN_H
#define LOOPSCOPE_INTERN_H

#include <stddef.h>
#include <stdbool.h>

struct intern;

struct intern *intern_new(void);
/* The interned copy of s, or a static "?" when out of memory. Marks it
 * asked for in the current generation. */
const char *intern_str(struct intern *t, const char *s);
/* Whether s was interned in t. */
bool intern_has(const struct intern *t, const char *s);
/* Starts the next generation and frees every string last asked for
 * `keep` or more generations before it: with keep = 2, the strings of the
 * generation that just ended stay valid (and keep their pointers) through
 * the new one, older ones go. Pointers to freed strings must be dropped
 * by then. */
void intern_next_generation(struct intern *t, unsigned keep);
/* Strings held. */
size_t intern_count(const struct intern *t);
void intern_free(struct intern *t);

#endif
