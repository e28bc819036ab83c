/* SPDX-License-Identifier: GPL-2.0-only */
/* Lines of a target's source file for the agent's `source` request, read
 * through /proc/PID/root (the target's view of its files). */
#ifndef LOOPSCOPE_SOURCE_H
#define LOOPSCOPE_SOURCE_H

#include <sys/types.h>
#include <jansson.h>
#include "access.h"
#include "intern.h"

#define SOURCE_MAX_BYTES (8 << 20)

/* {"pid","file","first":N,"lines":[S]}: lines line-context .. line+context.
 * Only regular .py files (the request comes from a socket client, and the
 * agent reads as root), and, for a peer (NULL: the agent itself), files
 * whose mode bits, and those of the directories above, let it read them.
 * NULL with err written when it cannot. */
json_t *source_lines(pid_t pid, const char *file, long long line, long long context,
		     const struct access_peer *peer, char *err, size_t errlen);

/* Every "file" string of doc (an event: stacks, call sites) into seen. */
void source_note_files(struct intern *seen, const json_t *doc);

/* The whole file (regular, at most SOURCE_MAX_BYTES), NUL-terminated,
 * malloc'd; NULL with err written. Only absolute paths of .py files. */
char *source_read(pid_t pid, const char *file, size_t *len, char *err, size_t errlen);

#endif
