/* SPDX-License-Identifier: GPL-2.0-only */
/* What model.c, model_feed.c and model_stats.c share; no panel includes it. */
#ifndef LOOPSCOPE_TUI_MODEL_INT_H
#define LOOPSCOPE_TUI_MODEL_INT_H

#include "model.h"

void model_target_info(struct model *m, const json_t *info);
/* One event ({"event":S,...}), from the socket, history or a replay. */
void model_on_event(struct model *m, json_t *ev);
void model_stall_event(struct model *m, json_t *ev);
void model_on_history(struct model *m, pid_t pid, const char *arg, json_t *body);
void model_on_lints(struct model *m, pid_t pid, const char *arg, json_t *body);
/* A stall's share of the per-second lag ring. */
void model_lag_add(struct m_target *t, double ts, double dur_ms);

#endif
