/* SPDX-License-Identifier: GPL-2.0-only */
/* Replay of an agent's --record files: every line an event or a recorded
 * answer with its timestamp, fed to the model on a clock that runs at real
 * time or faster, can stop and step. Rotated files are put in order by
 * their first timestamp. A file that stops being readable (truncated,
 * garbled) is replayed up to that line, and where it stopped is said. */
#ifndef LOOPSCOPE_TUI_REPLAY_H
#define LOOPSCOPE_TUI_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include "client.h"

struct replay;

/* 0, or -errno with err written when no file could be read at all. */
int replay_open(const char *const *files, size_t n, double speed, struct replay **out,
		char *err, size_t errlen);
void replay_free(struct replay *r);
/* Feeds every record due by wall time `now`; true when it fed any. */
bool replay_advance(struct replay *r, double now, client_msg_fn fn, void *ctx);
/* The next record at once (and the clock stopped there). */
bool replay_step(struct replay *r, double now, client_msg_fn fn, void *ctx);
void replay_pause(struct replay *r, bool paused, double now);
/* Multiplies the speed (within 1/16 .. 1024). */
void replay_speed(struct replay *r, double factor, double now);
/* The replayed moment (Unix seconds). */
double replay_clock(const struct replay *r, double now);
/* Milliseconds until the next record is due (-1: none, or paused). */
int replay_next_ms(const struct replay *r, double now);
/* One line for the header: position, speed, and where a file stopped. */
const char *replay_status(struct replay *r, double now);

#endif
