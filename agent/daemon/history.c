/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "access.h"
#include "history.h"

/* What an entry costs besides its line: the struct and malloc's overhead. */
#define ENTRY_OVERHEAD 64

struct entry {
	char kind[24];
	pid_t pid;
	uid_t owner;
	double ts;
	char *line;
	size_t len;
};

/* A ring of entries: head is the oldest, n the count. */
struct history {
	struct entry *ring;
	size_t cap, head, n;
	size_t bytes, max_bytes;
	double retain_s;
	uint64_t evicted;
};

struct history *history_new(double retain_s, size_t max_bytes)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->retain_s = retain_s;
	h->max_bytes = max_bytes;
	return h;
}

static struct entry *at(const struct history *h, size_t i)
{
	return &h->ring[(h->head + i) % h->cap];
}

static void drop_oldest(struct history *h)
{
	struct entry *e = at(h, 0);

	h->bytes -= e->len + ENTRY_OVERHEAD;
	free(e->line);
	h->head = (h->head + 1) % h->cap;
	h->n--;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	while (h->n)
		drop_oldest(h);
	free(h->ring);
	free(h);
}

static int grow(struct history *h)
{
	size_t cap = h->cap ? h->cap * 2 : 256;
	struct entry *r = malloc(cap * sizeof(*r));

	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < h->n; i++)
		r[i] = *at(h, i);
	free(h->ring);
	h->ring = r;
	h->cap = cap;
	h->head = 0;
	return 0;
}

int history_add(struct history *h, const char *kind, pid_t pid, uid_t owner, double ts,
		const char *line, size_t len)
{
	struct entry *e;

	if (!len || line[len - 1] != '\n')
		return -EINVAL;
	if (len + ENTRY_OVERHEAD > h->max_bytes)
		return 0;  /* larger than all the history may hold: never kept */
	while (h->n && h->bytes + len + ENTRY_OVERHEAD > h->max_bytes) {
		drop_oldest(h);
		h->evicted++;
	}
	if (h->n == h->cap && grow(h))
		return -ENOMEM;
	e = &h->ring[(h->head + h->n) % h->cap];
	e->line = malloc(len);
	if (!e->line)
		return -ENOMEM;
	memcpy(e->line, line, len);
	e->len = len;
	e->pid = pid;
	e->owner = owner;
	e->ts = ts;
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	h->n++;
	h->bytes += len + ENTRY_OVERHEAD;
	return 0;
}

void history_prune(struct history *h, double now)
{
	while (h->n && at(h, 0)->ts < now - h->retain_s)
		drop_oldest(h);
}

/* What a query selects, and who asks. */
struct want {
	const struct proto_filter *f;
	uid_t viewer;
	double since;
};

static bool wanted(const struct entry *e, const struct want *w)
{
	return e->ts >= w->since && proto_filter_match(w->f, e->kind, e->pid) &&
	       (e->owner == OWNER_EVERYONE || access_sees(w->viewer, e->owner));
}

char *history_query(const struct history *h, const struct proto_filter *f, uid_t viewer,
		    double since, size_t limit, size_t *len)
{
	const struct want w = { .f = f, .viewer = viewer, .since = since };
	size_t total = 0, first = h->n, bytes = 64, off, taken = 0;
	char *out;

	/* newest first, to find where the last `limit` matches begin */
	for (size_t i = h->n; i-- > 0;) {
		const struct entry *e = at(h, i);

		if (!wanted(e, &w))
			continue;
		if (total++ < limit) {
			first = i;
			bytes += e->len + 1;
		}
	}
	out = malloc(bytes);
	if (!out)
		return NULL;
	off = (size_t)sprintf(out, "{\"events\":[");
	for (size_t i = first; i < h->n && taken < limit; i++) {
		const struct entry *e = at(h, i);

		if (!wanted(e, &w))
			continue;
		if (taken++)
			out[off++] = ',';
		memcpy(out + off, e->line, e->len - 1);  /* without its '\n' */
		off += e->len - 1;
	}
	off += (size_t)snprintf(out + off, bytes - off, "],\"total\":%zu,\"more\":%s}", total,
				total > taken ? "true" : "false");
	*len = off;
	return out;
}

size_t history_count(const struct history *h)
{
	return h->n;
}

size_t history_bytes(const struct history *h)
{
	return h->bytes;
}

uint64_t history_evicted(const struct history *h)
{
	return h->evicted;
}
