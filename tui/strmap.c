/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "strmap.h"

struct slot {
	char *key;
	uint64_t h;        /* key's hash: most probes end on it, not on strcmp */
	struct strmap_val v;
};

struct strmap {
	struct slot *slots;
	size_t cap, n;     /* cap: a power of two */
	void (*free_p)(void *);
	bool borrowed;     /* keys are the caller's */
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

struct strmap *strmap_new(void (*free_p)(void *))
{
	struct strmap *m = calloc(1, sizeof(*m));

	if (m)
		m->free_p = free_p;
	return m;
}

static int grow_to(struct strmap *m, size_t cap);

struct strmap *strmap_new_borrowing(size_t expect)
{
	struct strmap *m = strmap_new(NULL);
	size_t cap = 64;

	while (cap * 3 < expect * 4 + 4)
		cap *= 2;
	if (m && grow_to(m, cap)) {
		free(m);
		return NULL;
	}
	if (m)
		m->borrowed = true;
	return m;
}

void strmap_clear(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].key)
			continue;
		if (m->free_p && m->slots[i].v.p)
			m->free_p(m->slots[i].v.p);
		if (!m->borrowed)
			free(m->slots[i].key);
	}
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	strmap_clear(m);
	free(m);
}

static struct slot *find_hashed(const struct slot *slots, size_t cap, const char *key, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (slots[i].key && (slots[i].h != h || strcmp(slots[i].key, key)))
		i = (i + 1) & (cap - 1);
	return (struct slot *)&slots[i];
}

static struct slot *find(const struct slot *slots, size_t cap, const char *key)
{
	return find_hashed(slots, cap, key, hash(key));
}

struct strmap_val *strmap_get(const struct strmap *m, const char *key)
{
	struct slot *s;

	if (!m->cap)
		return NULL;
	s = find(m->slots, m->cap, key);
	return s->key ? &s->v : NULL;
}

static int grow_to(struct strmap *m, size_t cap)
{
	struct slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			*find_hashed(slots, cap, m->slots[i].key, m->slots[i].h) = m->slots[i];
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

struct strmap_val *strmap_put(struct strmap *m, const char *key)
{
	struct slot *s;
	uint64_t h;

	if ((m->n + 1) * 4 > m->cap * 3 && grow_to(m, m->cap ? m->cap * 2 : 64))
		return NULL;
	h = hash(key);
	s = find_hashed(m->slots, m->cap, key, h);
	if (s->key)
		return &s->v;
	s->h = h;
	s->key = m->borrowed ? (char *)key : strdup(key);
	if (!s->key)
		return NULL;
	memset(&s->v, 0, sizeof(s->v));
	m->n++;
	return &s->v;
}

size_t strmap_count(const struct strmap *m)
{
	return m->n;
}
