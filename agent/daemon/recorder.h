/* SPDX-License-Identifier: GPL-2.0-only */
/* --record FILE: every event and task snapshot appended to FILE as NDJSON
 * (docs/protocol.md, "Recording": the format `loopscope tui --replay`
 * reads), each line stamped with the agent's time. FILE is rotated at a
 * size limit (FILE -> FILE.1 -> ... -> FILE.KEEP, the oldest dropped), so
 * a recording never takes more than (KEEP + 1) x the limit. Plain write(2)
 * on the caller's thread: lines land in the page cache. */
#ifndef LOOPSCOPE_RECORDER_H
#define LOOPSCOPE_RECORDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RECORDER_FORMAT 1

struct recorder;

/* Creates (or appends to) path, mode 0600, never through a symlink.
 * 0 or -errno. */
int recorder_open(const char *path, size_t max_bytes, unsigned keep, struct recorder **out);
/* An event line as subscribers get it ('{"event":...}\n'), stamped. */
void recorder_event(struct recorder *r, double now, const char *line, size_t len);
/* A ps document (serialized JSON) of target pid, as a "snapshot" record. */
void recorder_snapshot(struct recorder *r, double now, pid_t pid, const char *ps, size_t len);
/* Bytes written and write failures so far. */
uint64_t recorder_bytes(const struct recorder *r);
uint64_t recorder_errors(const struct recorder *r);
void recorder_close(struct recorder *r);

#endif
