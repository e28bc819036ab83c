/* SPDX-License-Identifier: GPL-2.0-only */
/* One watched process, as target.c (its detectors on the loop) and
 * target_jobs.c (its memory reads on the thread pool) share it. The
 * `reader` half is touched only by the job running on the pool (one at a
 * time per target); everything else only on the loop thread. */
#ifndef LOOPSCOPE_TARGET_H
#define LOOPSCOPE_TARGET_H

#include <uv.h>
#include "agent_int.h"
#include "aio.h"
#include "lint.h"
#include "lint_guard.h"
#include "lost_report.h"
#include "lost_sites.h"
#include "lost_tracer.h"
#include "pyproc.h"
#include "stall_monitor.h"
#include "task_diff.h"

/* A detector that never blocks, on a poll handle and a timer. */
struct driver {
	uv_poll_t poll;
	uv_timer_t timer;
	struct target *t;
	int (*process)(struct target *t);
	int (*next_ms)(const struct target *t);
};

struct job {
	struct job *next;
	enum job_kind kind;
	uint64_t client;
	json_t *id;
	char spec[4097];           /* where: the task; source: the file */
	long long line, context;   /* source */
	struct access_peer as;     /* source: read only what this peer may */
	bool as_peer;
	/* results, made on the pool */
	char *body;                /* serialized answer, or the ps document to record */
	size_t body_len;
	bool record;               /* snapshot: make the ps document for --record */
	double interval_s;         /* snapshot: the interval it was taken at */
	json_t *ended;             /* snapshot: task_done events */
	json_t *lints_raised;      /* snapshot: lint events that start now */
	json_t *lints_active;      /* snapshot: the task lints in force */
	const char *err_code;      /* NULL: success */
	char err_msg[256];
	int err;
	struct snap_stats {
		size_t tasks, loops, by_state[4], threads;
		bool uvloop;
		double ms;             /* how long the snapshot took */
		double cpu_ms;         /* ... of its thread's CPU */
		uint64_t ended, missed; /* task_diff's counts */
		size_t names;          /* task names etc. the reader holds */
	} stats;
};

/* An exec being followed: the new program opened and probed on the pool. */
struct exec_follow {
	uv_work_t work;
	bool busy;                 /* work queued */
	bool discarding;           /* ... to free what it made */
	bool again;                /* exec'd again meanwhile: open anew */
	struct py_proc *proc;
	struct lost_tracer *lost;
	/* the old program's probes, freed on the pool first: removing
	 * uprobes takes the kernel hundreds of ms too */
	struct lost_tracer *old_lost;
	int err;
	char why[400];
};

/* Snapshots are this far apart at least; further when they cost more
 * (target_jobs.c). */
#define SNAPSHOT_INTERVAL_MS 1000

struct reader {
	struct py_proc *p;
	struct aio_snapshot snap;
	bool have_snap;
	struct task_diff *diff;
	struct lint_tasks *lints;
	struct lint_guard *guard;
	uint64_t execs;            /* the target's exec p was opened after */
};

struct target {
	struct agent *agent;
	pid_t pid;
	uid_t owner;               /* its real uid: who may see it (access_sees) */
	char comm[32];
	char cmdline[512];
	struct py_proc *proc;      /* for the lost tracer and hello */
	struct stall_monitor *stalls;
	struct lost_tracer *lost;
	struct driver stall_drv, lost_drv;
	/* freed on the thread pool once the target stops (target_stop) */
	struct stall_monitor *dying_stalls;
	struct lost_tracer *dying_lost;
	uv_work_t detach_work;
	bool detaching;
	uv_poll_t exit_poll;
	uv_timer_t snap_timer, exit_timer;
	int pidfd;
	/* The lost tracer's events, through an epoll fd of ours that stays
	 * while the tracer is replaced after an exec (its fd changes). */
	int lost_epfd;
	/* Execs followed; read by the pool's jobs (atomically) to open the
	 * new program's reader. */
	uint64_t execs;
	struct exec_follow exec;
	int open_handles;
	bool stopping, exiting;
	int64_t mono_to_unix_ns;
	double started;            /* monotonic seconds */
	struct lost_report report;
	uint64_t lost_totals[4];
	struct lost_sites *lost_sites;  /* events to subscribers, per call site */
	struct intern *event_files;  /* the files its events named (source serves them) */
	json_t *ongoing;           /* stall id -> its last ongoing report */
	struct lint_sites *sites;  /* blocking-call */
	json_t *task_lints;        /* the last snapshot's lints in force */
	uint64_t lints_raised[LINT_KINDS];
	struct metrics_target finished;   /* finished stalls: count, sum, buckets */
	/* the thread pool's side */
	struct reader reader;
	uv_work_t work;
	struct job *running, *queue;
	/* the last snapshot's failure ("": it was read) */
	char snap_err_code[32], snap_err[256];
	struct snap_stats stats;
	uint64_t snapshots;
	uint64_t snap_interval_ms; /* snapshots this far apart (target_snapshot_every) */
	uint64_t snap_ticked;      /* the last tick, in the loop's ms (uv_now) */
};

/* target.c's, for target_exec.c. */
void driver_timer(uv_timer_t *h);
void on_lost(const struct lost_event *e, void *ctx);
/* The lost tracer's fd in ours (lost_epfd), which the loop polls. */
int watch_lost(struct target *t);
void close_lost(struct target *t);
struct lost_tracer *unwatch_lost(struct target *t);
/* The sites' held events due at now (INFINITY: all) to subscribers. */
void flush_sites(struct target *t, double now);
/* The stall monitor has read the program the target exec'd (target_exec.c). */
int target_follow_exec(struct target *t, const struct stall_exec *e);

/* Reads its owner again (it may have called setuid or exec'd). */
void target_read_owner(struct target *t);
/* Frees a target once its handles are closed and no job runs. */
void target_maybe_free(struct target *t);
/* Snapshots from now on every ms, counted from the last tick. */
void target_snapshot_every(struct target *t, uint64_t ms);
/* The snapshot timer's work: queue a snapshot unless one is pending. */
void target_queue_snapshot(struct target *t);
void target_jobs_free(struct target *t);
/* A lint event (stolen) to subscribers and the history, and counted. */
void target_publish_lint(struct target *t, json_t *ev);

#endif
