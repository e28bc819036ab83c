/* SPDX-License-Identifier: GPL-2.0-only */
/* Who may talk to the agent (--allow): root, the agent's own user, and the
 * users and groups allowed, decided on the peer's SO_PEERCRED credentials
 * (its uid, gid and supplementary groups as they were at connect()), the
 * D-Bus system bus way. */
#ifndef LOOPSCOPE_ACCESS_H
#define LOOPSCOPE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ACCESS_MAX 32         /* --allow entries of each kind */
#define ACCESS_SEEN_MAX 256   /* refusals remembered, to log each once */
#define ACCESS_PEER_GROUPS 64 /* supplementary groups of a peer looked at */

struct access_list {
	uid_t uids[ACCESS_MAX];
	size_t nuids;
	gid_t gids[ACCESS_MAX];       /* gid_t is uid_t's type: one code fills both */
	size_t ngids;
};

struct access_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gid_t groups[ACCESS_PEER_GROUPS];
	size_t ngroups;
};

/* Refusals already logged: uids refused, or (uid, pid) pairs forbidden
 * (access_pair). */
struct access_seen {
	uint64_t keys[ACCESS_SEEN_MAX];
	size_t n;
};

/* Adds "USER", "UID", "@GROUP" or "@GID" to l: 0, or -ENOENT (no such
 * user or group), -ENOSPC (too many), with a one-line reason in err. */
int access_add(struct access_list *l, const char *spec, char *err, size_t errlen);
bool access_any(const struct access_list *l);
/* Whether peer p may connect; if not, the line it is told in msg. */
bool access_check(const struct access_list *l, const struct access_peer *p, char *msg, size_t len);
/* True the first time key (a uid, or access_pair) is refused (then it is
 * logged), false after. */
bool access_first_refusal(struct access_seen *s, uint64_t key);
uint64_t access_pair(uid_t uid, pid_t pid);

struct stat;
/* Whether mode bits let peer p read (want 4) or search (want 1) the file
 * st describes, the kernel's way: the owner's bits for its owner, the
 * group's for its groups, the others' else (ACLs are not looked at). */
bool access_peer_may(const struct access_peer *p, const struct stat *st, unsigned want);

/* Whether a peer of uid peer sees a target owned by owner: root and the
 * agent's own user see every target, others only those they own. */
bool access_sees(uid_t peer, uid_t owner);
bool access_sees_all(uid_t peer);
/* Why peer may not see pid (owned by owner): the "forbidden" message. */
void access_forbidden_msg(uid_t peer, pid_t pid, uid_t owner, char *msg, size_t len);

#endif
