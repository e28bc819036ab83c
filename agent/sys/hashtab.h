/* SPDX-License-Identifier: GPL-2.0-only */
/* One open-addressing hash table (linear probing, power-of-two capacity,
 * grown at half full) for the caches that need one: the remote page cache,
 * interned strings, code objects. Entries are the caller's fixed-size
 * structs, stored in the table beside their hash; nothing is ever removed
 * (an entry that goes stale is overwritten in place). */
#ifndef LOOPSCOPE_HASHTAB_H
#define LOOPSCOPE_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashtab {
	size_t cap, used, esize;
	unsigned char *slots;   /* cap x (uint64_t hash, entry); hash 0: empty */
};

/* Does this entry hold the key? */
typedef bool (*hashtab_match_fn)(const void *entry, const void *key);

/* 0 or -ENOMEM. cap is rounded up to a power of two. */
int hashtab_init(struct hashtab *t, size_t esize, size_t cap);
void hashtab_done(struct hashtab *t);
/* The entry holding key (hash is the caller's hash of it), or NULL. */
void *hashtab_find(const struct hashtab *t, uint64_t hash, const void *key,
		   hashtab_match_fn match);
/* The entry holding key (*fresh = false), or a new zeroed one reserved for
 * it (*fresh = true) that the caller fills. NULL when out of memory. */
void *hashtab_get(struct hashtab *t, uint64_t hash, const void *key,
		  hashtab_match_fn match, bool *fresh);
/* Slot i's entry (i < t->cap), NULL when empty: to walk every entry. */
void *hashtab_slot(const struct hashtab *t, size_t i);

#endif
