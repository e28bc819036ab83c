/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>
#include "owners.h"

struct record {
	pid_t pid;
	uid_t uid;
	double gone;   /* Unix seconds; 0 while watched */
};

struct owners {
	struct record *r;
	size_t n, cap;
};

struct owners *owners_new(void)
{
	return calloc(1, sizeof(struct owners));
}

void owners_free(struct owners *o)
{
	if (o)
		free(o->r);
	free(o);
}

static struct record *find(const struct owners *o, pid_t pid)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->r[i].pid == pid)
			return &o->r[i];
	return NULL;
}

int owners_set(struct owners *o, pid_t pid, uid_t uid)
{
	struct record *r = find(o, pid);

	if (!r) {
		if (o->n == o->cap) {
			size_t cap = o->cap ? o->cap * 2 : 16;
			struct record *grown = realloc(o->r, cap * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			o->r = grown;
			o->cap = cap;
		}
		r = &o->r[o->n++];
	}
	*r = (struct record){ .pid = pid, .uid = uid };
	return 0;
}

void owners_gone(struct owners *o, pid_t pid, double now)
{
	struct record *r = find(o, pid);

	if (r && !r->gone)
		r->gone = now;
}

bool owners_get(const struct owners *o, pid_t pid, uid_t *uid)
{
	const struct record *r = find(o, pid);

	if (r)
		*uid = r->uid;
	return r != NULL;
}

void owners_prune(struct owners *o, double before)
{
	size_t kept = 0;

	for (size_t i = 0; i < o->n; i++)
		if (!o->r[i].gone || o->r[i].gone >= before)
			o->r[kept++] = o->r[i];
	o->n = kept;
}
