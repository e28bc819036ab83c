/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hashtab.h"
#include "intern.h"

struct intern {
	struct hashtab strings;  /* entries: char * */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool same_str(const void *entry, const void *key)
{
	return !strcmp(*(char *const *)entry, key);
}

struct intern *intern_new(void)
{
	struct intern *t = calloc(1, sizeof(*t));

	if (t && hashtab_init(&t->strings, sizeof(char *), 1024)) {
		free(t);
		return NULL;
	}
	return t;
}

const char *intern_str(struct intern *t, const char *s)
{
	uint64_t h = hash_str(s);
	char **slot, *copy;
	bool fresh;

	if (!t)
		return "?";
	slot = hashtab_find(&t->strings, h, s, same_str);
	if (slot)
		return *slot;
	copy = strdup(s);
	slot = copy ? hashtab_get(&t->strings, h, s, same_str, &fresh) : NULL;
	if (!slot) {
		free(copy);
		return "?";
	}
	*slot = copy;
	return copy;
}

bool intern_has(const struct intern *t, const char *s)
{
	return t && hashtab_find(&t->strings, hash_str(s), s, same_str) != NULL;
}

void intern_free(struct intern *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->strings.cap; i++) {
		char **slot = hashtab_slot(&t->strings, i);

		if (slot)
			free(*slot);
	}
	hashtab_done(&t->strings);
	free(t);
}
