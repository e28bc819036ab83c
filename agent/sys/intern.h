/* SPDX-License-Identifier: GPL-2.0-only */
/* Interned strings: one copy of each, so equal strings have equal
 * pointers (stacks compare by pointer) and live until intern_free. */
#ifndef LOOPSCOPE_INTERN_H
#define LOOPSCOPE_INTERN_H

#include <stddef.h>
#include <stdbool.h>

struct intern;

struct intern *intern_new(void);
/* The interned copy of s, or a static "?" when out of memory. */
const char *intern_str(struct intern *t, const char *s);
/* Whether s was interned in t. */
bool intern_has(const struct intern *t, const char *s);
void intern_free(struct intern *t);

#endif
