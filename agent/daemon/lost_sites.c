/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdlib.h>
#include "clock.h"
#include "lost_sites.h"

/* Past this many sites, every event of a new site goes out as it comes:
 * nothing is lost, only not aggregated. */
#define MAX_SITES 4096

struct site {
	struct lost_site key;
	uint64_t count;       /* occurrences so far */
	double last_sent;     /* monotonic */
	uint64_t held;        /* occurrences since the event last sent */
	json_t *latest;       /* the last one held, NULL: none */
};

struct lost_sites {
	struct lost_site_table t;  /* of struct site */
};

struct lost_sites *lost_sites_new(void)
{
	struct lost_sites *s = calloc(1, sizeof(*s));

	if (s && lost_site_table_init(&s->t, sizeof(struct site), MAX_SITES)) {
		free(s);
		return NULL;
	}
	return s;
}

void lost_sites_free(struct lost_sites *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->t.n; i++)
		json_decref(((struct site *)lost_site_table_at(&s->t, i))->latest);
	lost_site_table_done(&s->t);
	free(s);
}

/* The site's held occurrences as one event: the last of them, with how many. */
static json_t *take_held(struct site *x, double now)
{
	json_t *ev = x->latest;

	json_object_set_new(ev, "repeat", json_integer((json_int_t)x->held));
	x->latest = NULL;
	x->held = 0;
	x->last_sent = now;
	return ev;
}

json_t *lost_sites_event(struct lost_sites *s, const struct lost_report *r, json_t *ev, double now)
{
	struct site *x = s ? lost_site_table_of(&s->t, r) : NULL;

	if (!x || !ev)
		return ev;
	if (!x->count++) {
		x->last_sent = now;
		return ev;
	}
	json_decref(x->latest);
	x->latest = ev;
	x->held++;
	return now - x->last_sent >= LOST_SITES_INTERVAL ? take_held(x, now) : NULL;
}

void lost_sites_flush(struct lost_sites *s, double now, json_t *out)
{
	for (size_t i = 0; s && i < s->t.n; i++) {
		struct site *x = lost_site_table_at(&s->t, i);

		if (x->latest && now - x->last_sent >= LOST_SITES_INTERVAL)
			json_array_append_new(out, take_held(x, now));
	}
}

int lost_sites_next_ms(const struct lost_sites *s, double now)
{
	double next = -1;

	for (size_t i = 0; s && i < s->t.n; i++) {
		const struct site *x = lost_site_table_at(&s->t, i);
		double at = x->last_sent + LOST_SITES_INTERVAL;

		if (x->latest && (next < 0 || at < next))
			next = at;
	}
	return clock_ms_between(now, next);
}
