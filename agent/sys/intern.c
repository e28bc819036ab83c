/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hashtab.h"
#include "intern.h"

struct entry {
	char *s;
	uint64_t gen;      /* the last generation that asked for it */
};

struct intern {
	struct hashtab strings;  /* entries: struct entry */
	uint64_t gen;
};

#define INITIAL_CAP 1024

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool same_str(const void *entry, const void *key)
{
	return !strcmp(((const struct entry *)entry)->s, key);
}

struct intern *intern_new(void)
{
	struct intern *t = calloc(1, sizeof(*t));

	if (t && hashtab_init(&t->strings, sizeof(struct entry), INITIAL_CAP)) {
		free(t);
		return NULL;
	}
	return t;
}

const char *intern_str(struct intern *t, const char *s)
{
	uint64_t h = hash_str(s);
	struct entry *e;
	char *copy;
	bool fresh;

	if (!t)
		return "?";
	e = hashtab_find(&t->strings, h, s, same_str);
	if (e) {
		e->gen = t->gen;
		return e->s;
	}
	copy = strdup(s);
	e = copy ? hashtab_get(&t->strings, h, s, same_str, &fresh) : NULL;
	if (!e) {
		free(copy);
		return "?";
	}
	*e = (struct entry){ copy, t->gen };
	return copy;
}

bool intern_has(const struct intern *t, const char *s)
{
	return t && hashtab_find(&t->strings, hash_str(s), s, same_str) != NULL;
}

static bool stale(const struct intern *t, const struct entry *e, unsigned keep)
{
	return e->gen + keep <= t->gen;
}

static size_t count_stale(const struct intern *t, unsigned keep)
{
	size_t n = 0;

	for (size_t i = 0; i < t->strings.cap; i++) {
		const struct entry *e = hashtab_slot(&t->strings, i);

		n += e && stale(t, e, keep);
	}
	return n;
}

/* The table without its stale strings, sized for what is left (the
 * hashtab removes nothing: the live entries move to a new one). */
static void rebuild(struct intern *t, unsigned keep, size_t live)
{
	struct hashtab next;
	bool fresh;

	if (hashtab_init(&next, sizeof(struct entry), live * 2 > INITIAL_CAP ? live * 2 : INITIAL_CAP))
		return; /* out of memory: kept as it is, to try again */
	for (size_t i = 0; i < t->strings.cap; i++) {
		struct entry *e = hashtab_slot(&t->strings, i), *moved;

		if (!e)
			continue;
		if (stale(t, e, keep)) {
			free(e->s);
			continue;
		}
		moved = hashtab_get(&next, hash_str(e->s), e->s, same_str, &fresh);
		*moved = *e; /* cannot fail: sized for every live entry */
	}
	hashtab_done(&t->strings);
	t->strings = next;
}

void intern_next_generation(struct intern *t, unsigned keep)
{
	size_t n;

	if (!t)
		return;
	t->gen++;
	n = count_stale(t, keep);
	if (n)
		rebuild(t, keep, t->strings.used - n);
}

size_t intern_count(const struct intern *t)
{
	return t ? t->strings.used : 0;
}

void intern_free(struct intern *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->strings.cap; i++) {
		struct entry *e = hashtab_slot(&t->strings, i);

		if (e)
			free(e->s);
	}
	hashtab_done(&t->strings);
	free(t);
}
