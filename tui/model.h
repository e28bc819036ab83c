/* SPDX-License-Identifier: GPL-2.0-only */
/* What the TUI knows, built only from the agent's answers and events (live
 * or replayed): per target its tasks, stalls, lost work, lints, threads
 * and ended tasks, plus the connection's state. model.c and model_feed.c
 * change it (a target's tasks only by swapping in a whole task_snap.h
 * snapshot, most often built on the parser's thread); panels read it through const pointers and never keep them
 * across a message. Strings point into the JSON documents the model
 * holds (valid UTF-8 from jansson, still hostile: drawn through
 * screen_text). */
#ifndef LOOPSCOPE_TUI_MODEL_H
#define LOOPSCOPE_TUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "client.h"

#define MODEL_TARGETS_MAX 64
#define MODEL_STALLS_MAX 2000
#define MODEL_ENDED_MAX 10000
#define MODEL_LOST_SITES_MAX 4096
#define MODEL_LINTS_MAX 512
#define MODEL_LAG_SECONDS 60

enum m_state { M_PENDING, M_RUNNING, M_DONE, M_CANCELLED, M_UNKNOWN };

struct m_frame {
	const char *func, *file;
	int line;
};

struct m_task {
	const char *id, *name, *state, *coro, *awaiting;
	struct m_frame top;       /* its innermost frame of the program (j_user_frame) */
	const json_t *stack, *awaited_by;
	enum m_state st;
	double first_seen;
	size_t parent;            /* index of the first awaiter, or (size_t)-1 */
	size_t kid0, nkids;       /* children: kids[kid0 .. kid0+nkids) */
};

struct m_stall {
	uint64_t id;
	double ts, dur_ms, on_ms, off_ms;
	double seen;              /* model time of the last report */
	bool ongoing;
	int tid;
	const char *syscall;      /* the one with the most time, or "" */
	const char *task, *coro;
	struct m_frame culprit;   /* the innermost frame outside the stdlib */
	json_t *doc;              /* the event, owned */
};

enum m_lost_kind { LOST_NEVER_AWAITED, LOST_UNRETRIEVED, LOST_DESTROYED, LOST_KINDS };

struct m_lost {
	enum m_lost_kind kind;
	const char *coro, *task, *exception;
	struct m_frame site;
	uint64_t count;
	double last_ts;
	json_t *doc;              /* the last event of this site, owned */
};

struct m_lint {
	const char *name, *advice;
	char key[320];            /* what it is about: its site or coroutine */
	char message[320];        /* made from its fields */
	uint64_t count;
	double ts;
	json_t *doc;
};

struct m_thread {
	int tid;
	const char *name, *os_name, *task;
	bool gil;
	const json_t *stack;
};

struct m_ended {
	const char *id, *name, *coro, *how;
	struct m_frame where;
	double first_seen, last_seen;
	json_t *doc;
};

struct m_target {
	pid_t pid;
	const char *comm, *cmdline, *python;
	char loop[16];            /* asyncio, uvloop, "" */
	json_t *hello;            /* its hello (or target_attached) object */
	bool gone;
	char gone_why[128];
	/* the last ps answer, shown whole (task_snap.h): the fields below
	 * are snap's, all set at once when a snapshot is swapped in */
	struct task_snap *snap;
	const json_t *ps;
	const struct m_task *tasks;
	size_t ntasks, by_state[M_UNKNOWN + 1];
	const size_t *kids;
	uint64_t tasks_gen;       /* bumped with every snapshot */
	double snap_time;
	/* stalls, oldest first */
	struct m_stall *stalls;
	size_t nstalls;
	uint64_t stalls_gen;
	double lag_ms[MODEL_LAG_SECONDS];
	long lag_sec[MODEL_LAG_SECONDS];
	/* lost work by site, lints */
	struct m_lost *lost;
	size_t nlost;
	struct strmap *lost_index;
	uint64_t lost_totals[LOST_KINDS];
	struct m_lint *lints;
	size_t nlints;
	/* dump, ended tasks */
	json_t *dump;
	struct m_thread *threads;
	size_t nthreads;
	struct m_ended *ended;
	size_t nended;
	/* stats */
	double util, busy_p99_ms, worst_ms, watched_s;
	uint64_t stalls_total, missed_tasks;
	bool have_stats;
	size_t stat_tasks, stat_by_state[M_UNKNOWN + 1];   /* the agent's counts (stats) */
	/* the last where answer */
	json_t *where;
};

struct model {
	struct m_target targets[MODEL_TARGETS_MAX];
	size_t ntargets, cur;
	double now;               /* Unix seconds: wall clock, or the replay's */
	bool connected;
	char status[256];         /* "agent gone: reconnecting", replay progress... */
	pid_t agent_pid;
	json_t *agent_hello;
	struct strmap *sources;   /* "pid\tfile\tline" -> json lines array */
	uint64_t gen;             /* bumped by any change: redraw */
	uint64_t events, dropped;
	double last_event_ts;     /* the newest event's ts: history after a reconnect */
	/* lets go of a replaced snapshot (freed elsewhere); NULL: json_decref */
	void (*dispose)(json_t *doc, void *ctx);
	void *dispose_ctx;
};

struct model *model_new(void);
void model_free(struct model *m);
/* Who frees replaced ps answers (NULL: freed at once, on this thread). */
void model_set_dispose(struct model *m, void (*fn)(json_t *doc, void *ctx), void *ctx);
/* Applies one answer or event. */
void model_on_msg(const struct client_msg *msg, void *model);
void model_set_now(struct model *m, double now);
void model_set_status(struct model *m, bool connected, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Every target marked gone (the agent left); their data stays. */
void model_all_gone(struct model *m, const char *why);

const struct m_target *model_current(const struct model *m);
void model_select(struct model *m, size_t i);
struct m_target *model_target_of(struct model *m, pid_t pid, bool create);

/* The source lines around file:line of pid: the array of lines and the
 * number of the first, NULL when not (yet) known. */
const json_t *model_source(const struct model *m, pid_t pid, const char *file, int line,
			   int *first);
/* The key a source answer is kept under (also the request's arg). */
void model_source_key(pid_t pid, const char *file, int line, char *out, size_t len);

/* Derived numbers for the header and panels (model_stats.c). */
/* Tasks in all and in state st (or all for M_UNKNOWN): the agent's counts
 * when known (they come every second, snapshots may not). */
size_t model_task_count(const struct m_target *t, enum m_state st);
const struct m_stall *model_ongoing(const struct m_target *t);
double model_stall_elapsed_ms(const struct model *m, const struct m_stall *s);
size_t model_stalls_per_min(const struct model *m, const struct m_target *t);
/* Over the stalls held, ongoing ones as long as they are by now. */
double model_stall_p99(const struct model *m, const struct m_target *t);
double model_stall_worst(const struct model *m, const struct m_target *t);
/* The worst loop lag in second `ago` seconds back (0: this one), ms. */
double model_lag(const struct model *m, const struct m_target *t, int ago);
const char *model_state_name(enum m_state s);

/* JSON field helpers that never fail: "" / 0 for absent or mistyped. */
const char *j_str(const json_t *o, const char *key);
double j_num(const json_t *o, const char *key);   /* within +-1e15 */
uint64_t j_count(const json_t *o, const char *key);
pid_t j_pid(const json_t *o, const char *key);    /* 0 unless a plausible pid */
bool j_bool(const json_t *o, const char *key);
/* The line to blame in a stack: its innermost frame of the program
 * itself (a stall in json.dumps is its caller's), else the innermost. */
struct m_frame j_user_frame(const json_t *stack);
/* The file's last path component. */
const char *path_base(const char *path);
/* The frame object f, or an empty frame. */
struct m_frame j_frame(const json_t *f);

#endif
