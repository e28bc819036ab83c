/* SPDX-License-Identifier: GPL-2.0-only */
/* What the agent's files share (agent.c, target.c, target_jobs.c,
 * methods.c); nothing outside agent/daemon includes it. */
#ifndef LOOPSCOPE_AGENT_INT_H
#define LOOPSCOPE_AGENT_INT_H

#include <uv.h>
#include <jansson.h>
#include "agent.h"
#include "children.h"
#include "history.h"
#include "metrics.h"
#include "metrics_text.h"
#include "owners.h"
#include "recorder.h"
#include "server.h"

struct target;

struct agent {
	uv_loop_t *loop;
	struct agent_opts opts;
	struct target *targets[AGENT_MAX_TARGETS];
	size_t ntargets;
	struct history *hist;
	struct server *srv;
	struct metrics_server *metrics;
	struct recorder *rec;
	struct children *kids;
	/* targets being attached, in order; the first one on the thread pool */
	struct attach *attaching;
	uv_work_t attach_work;
	bool attach_running;
	/* the last numbers of targets gone, for loopscope_target_up 0 */
	struct metrics_target gone[AGENT_MAX_TARGETS];
	size_t ngone, gone_next;
	uv_signal_t sigint, sigterm;
	uv_timer_t prune_timer;
	struct owners *owners;     /* pid -> uid, for targets watched and gone */
	struct access_seen refused; /* uids refused so far (each logged once) */
	struct access_seen forbidden; /* (uid, pid) refused so far (each logged once) */
	double started;            /* Unix seconds */
	double started_mono;
	bool stopping;
	char socket_path[108];
	char socket_dir[108];      /* the directory we made for it, "" when none */
};

/* An event (stolen; "event" and "pid" set) to subscribers, and to the
 * history when keep. */
void agent_publish(struct agent *a, json_t *ev, bool keep);
/* Whether --record wants each snapshot's ps document. */
bool agent_recording(const struct agent *a);
/* A target's new ps document to the recording, if any. */
void agent_record_snapshot(struct agent *a, pid_t pid, const char *ps, size_t len);
/* A target is gone (exited, or its detectors failed): drops it; the agent
 * stops when none is left. */
void agent_target_gone(struct agent *a, struct target *t, const char *why);
/* The target_exit event of pid, for why (kept in the history). */
void agent_publish_exit(struct agent *a, pid_t pid, const char *why);
/* The target a request names ("pid"; optional with one target), or NULL
 * after answering the error. */
struct target *agent_request_target(struct agent *a, struct client *c, const json_t *req,
				    const json_t *id);
void agent_stop(struct agent *a, const char *reason);

/* --- who sees what (agent.c): a client sees the targets its uid owns,
 * root and the agent's own user see all (access_sees) --- */
void agent_owner_set(struct agent *a, pid_t pid, uid_t uid);
/* pid's owner is kept for the history's lifetime. */
void agent_owner_gone(struct agent *a, pid_t pid);
bool agent_client_sees(const struct client *c, const struct target *t);
/* Whether c may ask about pid (watched, or remembered); if not, answers
 * "forbidden" (logged once per uid and pid) and returns false. */
bool agent_client_may(struct agent *a, struct client *c, const json_t *id, pid_t pid);

/* --- attaching (attaching.c) --- */
/* Attaches now (the command line's PIDs): 0 or an error. */
int agent_attach_now(struct agent *a, pid_t pid);
/* Attaches on the thread pool; listed once done. 0, or an error now. */
int agent_attach_later(struct agent *a, pid_t pid);
bool agent_attaching(const struct agent *a, pid_t pid);
/* [pid, ...] of those being attached that c sees, in order. */
json_t *agent_attaching_json(const struct agent *a, const struct client *c);
/* The agent stops: drops the attaches not started. */
void agent_attach_stop(struct agent *a);

/* --- targets (target.c) --- */
/* Attaching is three steps: target_new and target_start on the loop
 * (cheap), target_open between them anywhere (the slow part: ELF and
 * DWARF reads, BPF load and attach, hundreds of ms), so the agent runs it
 * on the thread pool. After a failure at any step, target_stop. */
int target_new(struct agent *a, pid_t pid, struct target **out);
int target_open(struct target *t);
/* -ESRCH when the process has exited since target_new. */
int target_start(struct target *t);
bool target_exited(const struct target *t);
/* Closes its handles and detaches its probes; freed once all are closed. */
void target_stop(struct target *t);
pid_t target_pid(const struct target *t);
uid_t target_owner(const struct target *t);
json_t *target_hello_json(const struct target *t);
json_t *target_stats_json(const struct target *t);
/* {"pid","lints":[lint...],"raised":{kind:N}} */
json_t *target_lints_json(const struct target *t);
/* Its numbers for /metrics. */
void target_metrics(const struct target *t, struct metrics_target *out);
/* {"pid","summary","ongoing":[stall...]} */
json_t *target_stalls_json(const struct target *t);

/* --- what needs the target's memory (target_jobs.c) --- */
enum job_kind { JOB_SNAPSHOT, JOB_DUMP, JOB_WHERE, JOB_PS, JOB_PSTREE, JOB_SOURCE };
/* ps / pstree from the last snapshot, built on the thread pool. */
void target_answer_snapshot(struct target *t, struct client *c, const json_t *id, bool tree);
/* dump / where: read on the thread pool, answered when done. */
void target_queue_job(struct target *t, enum job_kind kind, struct client *c, const json_t *id,
		      const char *spec);

/* source: lines of a file the target loaded (its code objects' files), on
 * the thread pool; read only if `as` may read it (NULL: anyone). */
void target_queue_source(struct target *t, struct client *c, const json_t *id, const char *file,
			 long long line, long long context, const struct access_peer *as);
/* Whether an event of the target named file (then source serves it now). */
bool target_named_file(const struct target *t, const char *file);
/* The files an event of the target names, remembered for source. */
void target_note_files(struct target *t, const json_t *ev);

/* --- requests (methods.c) --- */
void methods_dispatch(struct agent *a, struct client *c, const char *line, size_t len);

#endif
