/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hashtab.h"

static size_t slot_size(const struct hashtab *t)
{
	return sizeof(uint64_t) + t->esize;
}

static uint64_t *slot_hash(const struct hashtab *t, unsigned char *slots, size_t i)
{
	return (uint64_t *)(void *)(slots + i * slot_size(t));
}

/* 0 marks an empty slot: a key whose hash is 0 is stored as 1. */
static uint64_t stored_hash(uint64_t hash)
{
	return hash ? hash : 1;
}

/* Fibonacci hashing spreads keys that differ only in low or high bits
 * (page numbers, aligned addresses). */
static size_t home(uint64_t hash, size_t cap)
{
	return (size_t)((hash * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

int hashtab_init(struct hashtab *t, size_t esize, size_t cap)
{
	size_t c = 16;

	while (c < cap)
		c *= 2;
	/* entries padded to 8 bytes keep every slot's hash aligned */
	*t = (struct hashtab){ .cap = c, .esize = (esize + 7) & ~(size_t)7 };
	t->slots = calloc(c, slot_size(t));
	return t->slots ? 0 : -ENOMEM;
}

void hashtab_done(struct hashtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->used = 0;
}

static size_t first_empty(const struct hashtab *t, unsigned char *slots, size_t cap,
			  uint64_t hash)
{
	size_t i = home(hash, cap);

	while (*slot_hash(t, slots, i))
		i = (i + 1) & (cap - 1);
	return i;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t probe(const struct hashtab *t, unsigned char *slots, size_t cap, uint64_t hash,
		    const void *key, hashtab_match_fn match)
{
	size_t i = home(hash, cap);

	for (;;) {
		uint64_t *h = slot_hash(t, slots, i);

		if (!*h || (*h == hash && match(h + 1, key)))
			return i;
		i = (i + 1) & (cap - 1);
	}
}

void *hashtab_find(const struct hashtab *t, uint64_t hash, const void *key,
		   hashtab_match_fn match)
{
	uint64_t *h;

	hash = stored_hash(hash);
	h = slot_hash(t, t->slots, probe(t, t->slots, t->cap, hash, key, match));
	return *h ? h + 1 : NULL;
}

static int grow(struct hashtab *t)
{
	size_t cap = t->cap * 2;
	unsigned char *slots = calloc(cap, slot_size(t));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		uint64_t *h = slot_hash(t, t->slots, i);

		if (*h) /* stored keys are distinct: no match to look for */
			memcpy(slot_hash(t, slots, first_empty(t, slots, cap, *h)), h, slot_size(t));
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

void *hashtab_get(struct hashtab *t, uint64_t hash, const void *key,
		  hashtab_match_fn match, bool *fresh)
{
	void *e = hashtab_find(t, hash, key, match);
	uint64_t *h;

	*fresh = !e;
	if (e)
		return e;
	if ((t->used + 1) * 2 > t->cap && grow(t))
		return NULL;
	hash = stored_hash(hash);
	h = slot_hash(t, t->slots, probe(t, t->slots, t->cap, hash, key, match));
	*h = hash;
	t->used++;
	return h + 1;
}

void *hashtab_slot(const struct hashtab *t, size_t i)
{
	uint64_t *h = slot_hash(t, t->slots, i);

	return *h ? h + 1 : NULL;
}
