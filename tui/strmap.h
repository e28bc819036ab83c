/* SPDX-License-Identifier: GPL-2.0-only */
/* A string-keyed hash map (open addressing, keys copied) for the model's
 * indexes: task ids, lost-work sites, source lines, folded tree nodes. */
#ifndef LOOPSCOPE_TUI_STRMAP_H
#define LOOPSCOPE_TUI_STRMAP_H

#include <stddef.h>

struct strmap_val {
	double d;
	void *p;
};

struct strmap;

/* NULL when out of memory. free_p: how values' p are freed (or NULL). */
struct strmap *strmap_new(void (*free_p)(void *));
/* Keys not copied: they must outlive the map (strings of a document the
 * map is freed with); sized for `expect` keys. One allocation for 100k
 * task ids where a copy each took a malloc and a free every snapshot. */
struct strmap *strmap_new_borrowing(size_t expect);
void strmap_free(struct strmap *m);
void strmap_clear(struct strmap *m);
/* The value of key, NULL when absent. */
struct strmap_val *strmap_get(const struct strmap *m, const char *key);
/* The value of key, added (zeroed) when absent; NULL when out of memory. */
struct strmap_val *strmap_put(struct strmap *m, const char *key);
size_t strmap_count(const struct strmap *m);

#endif
