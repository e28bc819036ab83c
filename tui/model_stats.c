/* SPDX-License-Identifier: GPL-2.0-only */
/* Numbers derived from the model: the await links between tasks, loop lag
 * per second, stall rates and percentiles. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model_int.h"
#include "strmap.h"

void model_lag_add(struct m_target *t, double ts, double dur_ms)
{
	long first, last;

	if (!(ts > 0 && ts < 1e11 && dur_ms >= 0 && dur_ms < 1e12))
		return;   /* no such time: it would only overflow */
	first = (long)floor(ts);
	last = (long)floor(ts + dur_ms / 1e3);
	if (last - first >= MODEL_LAG_SECONDS)
		first = last - MODEL_LAG_SECONDS + 1;
	for (long s = first; s <= last; s++) {
		size_t i = (size_t)(s % MODEL_LAG_SECONDS);

		if (t->lag_sec[i] != s) {
			t->lag_sec[i] = s;
			t->lag_ms[i] = 0;
		}
		if (dur_ms > t->lag_ms[i])
			t->lag_ms[i] = dur_ms;
	}
}

double model_lag(const struct model *m, const struct m_target *t, int ago)
{
	long s = (long)floor(m->now) - ago;
	const struct m_stall *on = model_ongoing(t);
	double lag = 0;
	size_t i;

	if (s < 0)
		return 0;
	i = (size_t)(s % MODEL_LAG_SECONDS);
	if (t->lag_sec[i] == s)
		lag = t->lag_ms[i];
	/* an ongoing stall holds every second since it began, as far as it got */
	if (on && on->ts > 0 && on->ts < 1e11 && s >= (long)floor(on->ts)) {
		double so_far = fmin(model_stall_elapsed_ms(m, on), ((double)s + 1 - on->ts) * 1e3);

		lag = fmax(lag, so_far);
	}
	return lag;
}

const struct m_stall *model_ongoing(const struct m_target *t)
{
	for (size_t i = t->nstalls; i-- > 0 && i + 64 >= t->nstalls;)
		if (t->stalls[i].ongoing)
			return &t->stalls[i];
	return NULL;
}

/* An ongoing stall keeps growing between its reports. */
double model_stall_elapsed_ms(const struct model *m, const struct m_stall *s)
{
	double extra = s->ongoing && m->connected && m->now > s->seen ? (m->now - s->seen) * 1e3 : 0;

	return s->dur_ms + extra;
}

size_t model_stalls_per_min(const struct model *m, const struct m_target *t)
{
	size_t n = 0;

	for (size_t i = t->nstalls; i-- > 0;) {
		if (t->stalls[i].ts < m->now - 60)
			break;
		n++;
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double model_stall_p99(const struct model *m, const struct m_target *t)
{
	double *d, p;

	if (!t->nstalls || !(d = malloc(t->nstalls * sizeof(*d))))
		return 0;
	for (size_t i = 0; i < t->nstalls; i++)
		d[i] = model_stall_elapsed_ms(m, &t->stalls[i]);
	qsort(d, t->nstalls, sizeof(*d), cmp_double);
	p = d[(size_t)ceil(0.99 * (double)t->nstalls) - 1];
	free(d);
	return p;
}

double model_stall_worst(const struct model *m, const struct m_target *t)
{
	double w = t->worst_ms;

	for (size_t i = 0; i < t->nstalls; i++)
		if (model_stall_elapsed_ms(m, &t->stalls[i]) > w)
			w = model_stall_elapsed_ms(m, &t->stalls[i]);
	return w;
}

size_t model_task_count(const struct m_target *t, enum m_state st)
{
	bool stats = t->have_stats && t->stat_tasks;

	if (st >= M_UNKNOWN)
		return stats ? t->stat_tasks : t->ntasks;
	return stats ? t->stat_by_state[st] : t->by_state[st];
}
