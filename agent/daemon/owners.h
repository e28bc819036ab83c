/* SPDX-License-Identifier: GPL-2.0-only */
/* Who owns each target (its real uid), for the targets watched and for
 * those gone while the history may still name them: a request about a
 * gone pid is judged by the owner it had. Pure code, no I/O. */
#ifndef LOOPSCOPE_OWNERS_H
#define LOOPSCOPE_OWNERS_H

#include <stdbool.h>
#include <sys/types.h>

/* The owner of what belongs to no target (agent_exit): everyone sees it. */
#define OWNER_EVERYONE ((uid_t)-1)

struct owners;

struct owners *owners_new(void);
void owners_free(struct owners *o);
/* pid is watched (again: a reused pid's record is replaced) by uid; 0 or -ENOMEM. */
int owners_set(struct owners *o, pid_t pid, uid_t uid);
/* pid is no longer watched: its record is kept until owners_prune. */
void owners_gone(struct owners *o, pid_t pid, double now);
/* The owner of pid, watched or remembered; false when unknown. */
bool owners_get(const struct owners *o, pid_t pid, uid_t *uid);
/* Forgets the pids gone before `before`. */
void owners_prune(struct owners *o, double before);

#endif
