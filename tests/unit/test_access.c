/* SPDX-License-Identifier: GPL-2.0-only */
/* --allow: who passes the agent's access check on given credentials, what
 * a refused peer is told, bad --allow entries, each refused uid logged once;
 * who sees which target, and the owners remembered. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "access.h"
#include "owners.h"
#include "unit.h"

#define NOBODY 65534u

static struct access_peer peer(uid_t uid, gid_t gid)
{
	return (struct access_peer){ .uid = uid, .gid = gid, .pid = 1 };
}

static void test_who_passes(void)
{
	struct access_list l = { 0 };
	char err[160], msg[200];
	struct access_peer p = peer(NOBODY, NOBODY);

	CHECK(!access_any(&l));
	CHECK(access_check(&l, &(struct access_peer){ .uid = 0, .gid = 0 }, msg, sizeof(msg)));
	CHECK(access_check(&l, &(struct access_peer){ .uid = geteuid(), .gid = 7 }, msg, sizeof(msg)));
	CHECK(!access_check(&l, &p, msg, sizeof(msg)));
	CHECK_EQ_INT(access_add(&l, "4242", err, sizeof(err)), 0);
	CHECK_EQ_INT(access_add(&l, "@4343", err, sizeof(err)), 0);
	CHECK(access_any(&l));
	CHECK(access_check(&l, &(struct access_peer){ .uid = 4242, .gid = 1 }, msg, sizeof(msg)));
	CHECK(access_check(&l, &(struct access_peer){ .uid = 5000, .gid = 4343 }, msg, sizeof(msg)));
	p.groups[0] = 10, p.groups[1] = 4343, p.ngroups = 2;   /* a supplementary group */
	CHECK(access_check(&l, &p, msg, sizeof(msg)));
	p.ngroups = 1;
	CHECK(!access_check(&l, &p, msg, sizeof(msg)));
	CHECK(!access_check(&l, &(struct access_peer){ .uid = (uid_t)-1, .gid = 4343 }, msg, sizeof(msg)));
}

static void test_refusal_message(void)
{
	struct access_list l = { 0 };
	struct access_peer p = peer(NOBODY, NOBODY);
	char msg[200];

	CHECK(!access_check(&l, &p, msg, sizeof(msg)));
	CHECK_EQ_STR(msg, "uid 65534 (nobody) is not allowed: start the agent with --allow nobody");
	p.uid = 3999999;   /* no such user: named by number */
	CHECK(!access_check(&l, &p, msg, sizeof(msg)));
	CHECK_EQ_STR(msg, "uid 3999999 is not allowed: start the agent with --allow 3999999");
}

static void test_bad_entries(void)
{
	struct access_list l = { 0 };
	char err[160];

	CHECK_EQ_INT(access_add(&l, "no-such-user-ls", err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "--allow no-such-user-ls: no such user") == err);
	CHECK_EQ_INT(access_add(&l, "@no-such-group-ls", err, sizeof(err)), -ENOENT);
	CHECK_EQ_INT(access_add(&l, "4294967295", err, sizeof(err)), -ENOENT);  /* (uid_t)-1 */
	CHECK_EQ_INT(access_add(&l, "-1", err, sizeof(err)), -ENOENT);
	CHECK_EQ_INT(access_add(&l, "nobody", err, sizeof(err)), 0);
	CHECK_EQ_INT(l.uids[0], NOBODY);
	for (int i = 1; i < ACCESS_MAX; i++)
		CHECK_EQ_INT(access_add(&l, "7", err, sizeof(err)), 0);
	CHECK_EQ_INT(access_add(&l, "7", err, sizeof(err)), -ENOSPC);
	CHECK(!access_any(&(struct access_list){ 0 }));
}

static void test_logged_once(void)
{
	struct access_seen s = { 0 };

	CHECK(access_first_refusal(&s, NOBODY));
	CHECK(!access_first_refusal(&s, NOBODY));
	CHECK(access_first_refusal(&s, 1001));
	for (uid_t u = 2000; u < 2000 + 2 * ACCESS_SEEN_MAX; u++)
		CHECK(access_first_refusal(&s, u));   /* past the table: every one told */
	CHECK(!access_first_refusal(&s, 1001));
}

static void test_who_sees(void)
{
	char msg[300];

	CHECK(access_sees(0, 1));
	CHECK(access_sees(geteuid(), NOBODY));
	CHECK(access_sees(NOBODY, NOBODY));
	CHECK(geteuid() == NOBODY || !access_sees(NOBODY, 1));
	access_forbidden_msg(1, 42, 0, msg, sizeof(msg));
	CHECK_EQ_STR(msg, "PID 42 belongs to uid 0 (root): uid 1 (daemon) sees only the targets it owns");
	access_forbidden_msg(4242, 42, 4343, msg, sizeof(msg));
	CHECK_EQ_STR(msg, "PID 42 belongs to uid 4343: uid 4242 sees only the targets it owns");
	CHECK(access_first_refusal(&(struct access_seen){ 0 }, access_pair(1, 42)));
	CHECK(access_pair(1, 42) != access_pair(42, 1));
}

static void test_owners_kept(void)
{
	struct owners *o = owners_new();
	uid_t uid = 7;

	CHECK(!owners_get(o, 10, &uid) && uid == 7);
	CHECK_EQ_INT(owners_set(o, 10, 1), 0);
	for (pid_t pid = 100; pid < 140; pid++)   /* past the first allocation */
		CHECK_EQ_INT(owners_set(o, pid, 0), 0);
	CHECK(owners_get(o, 10, &uid) && uid == 1);
	owners_gone(o, 10, 100.0);
	owners_prune(o, 50.0);                      /* gone after 50: kept */
	CHECK(owners_get(o, 10, &uid) && uid == 1);
	owners_prune(o, 150.0);                     /* gone before 150: forgotten */
	CHECK(!owners_get(o, 10, &uid));
	CHECK(owners_get(o, 139, &uid) && uid == 0);  /* still watched: never pruned */
	CHECK_EQ_INT(owners_set(o, 139, NOBODY), 0);  /* a reused pid: its new owner */
	CHECK(owners_get(o, 139, &uid) && uid == NOBODY);
	owners_free(o);
}

int main(void)
{
	RUN(test_who_passes);
	RUN(test_refusal_message);
	RUN(test_bad_entries);
	RUN(test_logged_once);
	RUN(test_who_sees);
	RUN(test_owners_kept);
	return unit_done();
}
