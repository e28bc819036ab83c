/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "access.h"

/* A number that fits an id_t (not -1, which means "no id" to the kernel). */
static bool parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out < 0xffffffffUL;
}

/* A user's or group's id from its name or number; -1: no such one. */
static long user_id(const char *name)
{
	struct passwd *pw = getpwnam(name);
	unsigned long id;

	return pw ? (long)pw->pw_uid : parse_id(name, &id) ? (long)id : -1;
}

static long group_id(const char *name)
{
	struct group *g = getgrnam(name);
	unsigned long id;

	return g ? (long)g->gr_gid : parse_id(name, &id) ? (long)id : -1;
}

/* uid_t and gid_t are the same unsigned int: one list type serves both. */
static int put(uid_t *ids, size_t *n, long id, const char *spec, const char *what, char *err,
	       size_t errlen)
{
	if (id < 0) {
		snprintf(err, errlen, "--allow %s: no such %s", spec, what);
		return -ENOENT;
	}
	if (*n == ACCESS_MAX) {
		snprintf(err, errlen, "--allow: at most %d of each kind", ACCESS_MAX);
		return -ENOSPC;
	}
	ids[(*n)++] = (uid_t)id;
	return 0;
}

int access_add(struct access_list *l, const char *spec, char *err, size_t errlen)
{
	if (spec[0] == '@')
		return put(l->gids, &l->ngids, group_id(spec + 1), spec, "group (a name or a gid)", err, errlen);
	return put(l->uids, &l->nuids, user_id(spec), spec, "user (a name or a uid; @GROUP for a group)",
		   err, errlen);
}

bool access_any(const struct access_list *l)
{
	return l->nuids || l->ngids;
}

static bool in_groups(const struct access_list *l, const struct access_peer *p)
{
	for (size_t i = 0; i < l->ngids; i++) {
		if (l->gids[i] == p->gid)
			return true;
		for (size_t j = 0; j < p->ngroups; j++)
			if (l->gids[i] == p->groups[j])
				return true;
	}
	return false;
}

static bool allowed(const struct access_list *l, const struct access_peer *p)
{
	if (p->uid == (uid_t)-1)
		return false;  /* credentials unknown */
	if (p->uid == 0 || p->uid == geteuid())
		return true;
	for (size_t i = 0; i < l->nuids; i++)
		if (l->uids[i] == p->uid)
			return true;
	return in_groups(l, p);
}

/* "uid 1 (daemon)", or "uid 4242" for a uid with no name. */
static void uid_name(uid_t uid, char *out, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(out, len, "uid %u (%s)", (unsigned)uid, pw->pw_name);
	else
		snprintf(out, len, "uid %u", (unsigned)uid);
}

bool access_check(const struct access_list *l, const struct access_peer *p, char *msg, size_t len)
{
	struct passwd *pw;
	char who[96];

	if (allowed(l, p))
		return true;
	if (p->uid == (uid_t)-1) {
		snprintf(msg, len, "the peer's credentials cannot be read: refused");
		return false;
	}
	pw = getpwuid(p->uid);
	uid_name(p->uid, who, sizeof(who));
	if (pw)
		snprintf(msg, len, "%s is not allowed: start the agent with --allow %s", who, pw->pw_name);
	else
		snprintf(msg, len, "%s is not allowed: start the agent with --allow %u", who, (unsigned)p->uid);
	return false;
}

bool access_first_refusal(struct access_seen *s, uint64_t key)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->keys[i] == key)
			return false;
	if (s->n < ACCESS_SEEN_MAX)
		s->keys[s->n++] = key;
	return true;
}

uint64_t access_pair(uid_t uid, pid_t pid)
{
	return (uint64_t)uid << 32 | (uint32_t)pid;
}

static bool peer_in_group(const struct access_peer *p, gid_t gid)
{
	if (p->gid == gid)
		return true;
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i] == gid)
			return true;
	return false;
}

bool access_peer_may(const struct access_peer *p, const struct stat *st, unsigned want)
{
	if (p->uid == 0)
		return true;
	if (st->st_uid == p->uid)
		return (st->st_mode >> 6) & want;
	if (peer_in_group(p, st->st_gid))
		return (st->st_mode >> 3) & want;
	return st->st_mode & want;
}

bool access_sees_all(uid_t peer)
{
	return peer == 0 || peer == geteuid();
}

bool access_sees(uid_t peer, uid_t owner)
{
	return access_sees_all(peer) || peer == owner;
}

void access_forbidden_msg(uid_t peer, pid_t pid, uid_t owner, char *msg, size_t len)
{
	char whose[96], who[96];

	uid_name(owner, whose, sizeof(whose));
	uid_name(peer, who, sizeof(who));
	snprintf(msg, len, "PID %d belongs to %s: %s sees only the targets it owns", pid, whose, who);
}
