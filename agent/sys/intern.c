#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "intern.h"

struct intern {
	size_t cap, used;
	char **slots;  /* open addressing, power-of-two capacity */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct intern *intern_new(void)
{
	struct intern *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 1024;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

static char **find_slot(char **slots, size_t cap, const char *s)
{
	size_t i = hash_str(s) & (cap - 1);

	while (slots[i] && strcmp(slots[i], s))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct intern *t)
{
	size_t cap = t->cap * 2;
	char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i])
			*find_slot(slots, cap, t->slots[i]) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

const char *intern_str(struct intern *t, const char *s)
{
	char **slot;

	if (!t)
		return "?";
	if (t->used * 2 >= t->cap && grow(t))
		return "?";
	slot = find_slot(t->slots, t->cap, s);
	if (!*slot) {
		*slot = strdup(s);
		if (!*slot)
			return "?";
		t->used++;
	}
	return *slot;
}

void intern_free(struct intern *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
	free(t);
}
