/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's life: its socket (in a directory it owns), its targets, its
 * history, signals, and the clean exit (a last event to subscribers, the
 * socket removed, every probe detached). */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>
#include "clock.h"
#include "errors.h"
#include "log.h"
#include "output.h"
#include "privs.h"
#include "agent_int.h"

#define DEFAULT_SOCKET_DIR "/run/loopscope"
#define PRUNE_INTERVAL_MS 5000
#define FLUSH_TIMEOUT_MS 1000

/* Whose event it is: its target's owner; pid 0 (the agent's own) is
 * everyone's, an unknown pid root's. */
static uid_t owner_of(const struct agent *a, pid_t pid)
{
	uid_t uid = 0;

	if (!pid)
		return OWNER_EVERYONE;
	owners_get(a->owners, pid, &uid);
	return uid;
}

void agent_publish(struct agent *a, json_t *ev, bool keep)
{
	const char *kind = json_string_value(json_object_get(ev, "event"));
	pid_t pid = (pid_t)json_integer_value(json_object_get(ev, "pid"));
	uid_t owner = owner_of(a, pid);
	char k[32];
	size_t len;
	char *line;

	snprintf(k, sizeof(k), "%s", kind ? kind : "?");
	for (size_t i = 0; i < a->ntargets && pid; i++)
		if (target_pid(a->targets[i]) == pid)
			target_note_files(a->targets[i], ev);
	line = proto_event_line(ev, &len);
	if (!line)
		return;
	if (keep && history_add(a->hist, k, pid, owner, clock_unix_s(), line, len))
		log_warn("out of memory: a %s event is not kept in the history", k);
	if (a->srv)
		server_publish(a->srv, k, pid, owner, line, len);
	recorder_event(a->rec, clock_unix_s(), line, len);
	free(line);
}

bool agent_recording(const struct agent *a)
{
	return a->rec != NULL;
}

void agent_record_snapshot(struct agent *a, pid_t pid, const char *ps, size_t len)
{
	recorder_snapshot(a->rec, clock_unix_s(), pid, ps, len);
}

static int open_record(struct agent *a)
{
	int err;

	if (!a->opts.record_path)
		return 0;
	err = recorder_open(a->opts.record_path, a->opts.record_bytes, a->opts.record_keep, &a->rec);
	if (err)
		fprintf(stderr, "loopscope: cannot record to %s: %s\n", a->opts.record_path,
			err == -ELOOP ? "it is a symbolic link" : err == -EINVAL ? "not a regular file"
								   : strerror(-err));
	return err;
}

static void remove_target(struct agent *a, struct target *t)
{
	for (size_t i = 0; i < a->ntargets; i++) {
		if (a->targets[i] != t)
			continue;
		memmove(&a->targets[i], &a->targets[i + 1], (a->ntargets - i - 1) * sizeof(t));
		a->ntargets--;
		return;
	}
}

void agent_publish_exit(struct agent *a, pid_t pid, const char *why)
{
	agent_publish(a, json_pack("{s:s, s:i, s:o, s:s}", "event", "target_exit", "pid", pid,
				   "ts", json_round(clock_unix_s(), 6), "reason", why), true);
}

void agent_target_gone(struct agent *a, struct target *t, const char *why)
{
	pid_t pid = target_pid(t);

	log_info("PID %d: %s; no longer watched", pid, why);
	target_metrics(t, &a->gone[a->gone_next]);
	a->gone[a->gone_next].up = false;
	a->gone_next = (a->gone_next + 1) % AGENT_MAX_TARGETS;
	if (a->ngone < AGENT_MAX_TARGETS)
		a->ngone++;
	agent_publish_exit(a, pid, why);
	remove_target(a, t);
	target_stop(t);
	if (!a->ntargets && !children_masters(a->kids))
		agent_stop(a, a->opts.nmasters ? "no target and no master left" : "no target left");
}

void agent_owner_set(struct agent *a, pid_t pid, uid_t uid)
{
	if (owners_set(a->owners, pid, uid))
		log_warn("out of memory: PID %d's owner is not remembered (only root sees it)", pid);
}

void agent_owner_gone(struct agent *a, pid_t pid)
{
	owners_gone(a->owners, pid, clock_unix_s());
}

bool agent_client_sees(const struct client *c, const struct target *t)
{
	return access_sees(client_uid(c), target_owner(t));
}

bool agent_client_may(struct agent *a, struct client *c, const json_t *id, pid_t pid)
{
	uid_t owner, uid = client_uid(c);
	char msg[300];

	if (!owners_get(a->owners, pid, &owner) || access_sees(uid, owner))
		return true;  /* unknown pids are answered as such */
	access_forbidden_msg(uid, pid, owner, msg, sizeof(msg));
	if (access_first_refusal(&a->forbidden, access_pair(uid, pid)))
		log_warn("client %llu: %s (refused; not logged again)",
			 (unsigned long long)client_id(c), msg);
	client_error(c, id, "forbidden", msg);
	return false;
}

/* The one target c sees, NULL when it sees none or several. */
static struct target *only_target(struct agent *a, const struct client *c, size_t *seen)
{
	struct target *found = NULL;

	*seen = 0;
	for (size_t i = 0; i < a->ntargets; i++) {
		if (agent_client_sees(c, a->targets[i])) {
			found = a->targets[i];
			++*seen;
		}
	}
	return *seen == 1 ? found : NULL;
}

struct target *agent_request_target(struct agent *a, struct client *c, const json_t *req,
				    const json_t *id)
{
	struct target *only;
	char err[160];
	pid_t pid = 0;
	size_t seen;
	int rc = proto_param_pid(req, "pid", &pid, err, sizeof(err));

	if (rc == -EINVAL) {
		client_error(c, id, "bad_request", err);
		return NULL;
	}
	if (pid && !agent_client_may(a, c, id, pid))
		return NULL;
	only = only_target(a, c, &seen);
	if (rc == -ENOENT && only)
		return only;
	for (size_t i = 0; i < a->ntargets && pid; i++)
		if (target_pid(a->targets[i]) == pid)
			return a->targets[i];
	if (pid)
		snprintf(err, sizeof(err), "PID %d is not watched by this agent (hello lists targets)", pid);
	else if (!seen && a->ntargets)
		snprintf(err, sizeof(err), "this agent watches no target of uid %u", (unsigned)client_uid(c));
	else
		snprintf(err, sizeof(err), "\"pid\" is required: this agent watches %zu targets", seen);
	client_error(c, id, "no_target", err);
	return NULL;
}

/* Every target watched, then the last numbers of those gone (up 0). */
static char *render_metrics(void *ctx, size_t *len)
{
	struct agent *a = ctx;
	struct metrics_target *v = calloc(a->ntargets + a->ngone + 1, sizeof(*v));
	char *text;

	if (!v)
		return NULL;
	for (size_t i = 0; i < a->ntargets; i++)
		target_metrics(a->targets[i], &v[i]);
	memcpy(v + a->ntargets, a->gone, a->ngone * sizeof(*v));
	text = metrics_text(v, a->ntargets + a->ngone, len);
	free(v);
	return text;
}

static int open_metrics(struct agent *a)
{
	char name[80];
	int err;

	if (!a->opts.metrics)
		return 0;
	err = metrics_server_new(a->loop, &a->opts.metrics_addr, render_metrics, a, &a->metrics);
	if (err) {
		fprintf(stderr, "loopscope: cannot serve metrics: %s\n", uv_strerror(err));
		return err;
	}
	metrics_server_name(a->metrics, name, sizeof(name));
	log_info("metrics on http://%s/metrics", name);
	return 0;
}

static void on_request(struct client *c, const char *line, size_t len, void *ctx)
{
	methods_dispatch(ctx, c, line, len);
}

static void server_done(void *ctx)
{
	struct agent *a = ctx;

	a->srv = NULL;
	if (a->socket_dir[0] && rmdir(a->socket_dir) && errno != ENOTEMPTY && errno != EEXIST)
		log_warn("cannot remove %s: %s", a->socket_dir, strerror(errno));
}

void agent_stop(struct agent *a, const char *reason)
{
	if (a->stopping)
		return;
	a->stopping = true;
	log_info("stopping: %s", reason);
	agent_publish(a, json_pack("{s:s, s:i, s:o, s:s}", "event", "agent_exit", "pid", 0,
				   "ts", json_round(clock_unix_s(), 6), "reason", reason), false);
	while (a->ntargets)
		target_stop(a->targets[--a->ntargets]);
	agent_attach_stop(a);
	uv_close((uv_handle_t *)&a->sigint, NULL);
	uv_close((uv_handle_t *)&a->sigterm, NULL);
	uv_close((uv_handle_t *)&a->prune_timer, NULL);
	children_stop(a->kids);
	a->kids = NULL;
	metrics_server_close(a->metrics);
	a->metrics = NULL;
	if (a->srv)
		server_close(a->srv, FLUSH_TIMEOUT_MS, server_done, a);
}

static void on_signal(uv_signal_t *h, int sig)
{
	agent_stop(h->data, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static void on_prune(uv_timer_t *h)
{
	struct agent *a = h->data;

	double now = clock_unix_s();

	history_prune(a->hist, now);
	owners_prune(a->owners, now - a->opts.retain_s);
}

/* Root (or the agent's own user) only, unless --allow opens the socket
 * to others: then every peer's credentials are checked here. */
static bool on_accept(const struct access_peer *p, void *ctx, char *msg, size_t len)
{
	struct agent *a = ctx;

	if (access_check(&a->opts.allow, p, msg, len))
		return true;
	if (access_first_refusal(&a->refused, p->uid))
		log_warn("refused a client (uid %u, pid %d): %s (its next attempts are not logged)",
			 (unsigned)p->uid, p->pid, msg);
	return false;
}

/* /run/loopscope: made 0700 if absent (0755 with --allow, so that others
 * can reach the socket); if present, a real directory of ours that nobody
 * else may write to (else someone could swap the socket). */
static int socket_dir(struct agent *a, const char *dir)
{
	mode_t mode = access_any(&a->opts.allow) ? 0755 : 0700;
	struct stat st;

	if (!mkdir(dir, 0700)) {
		snprintf(a->socket_dir, sizeof(a->socket_dir), "%s", dir);
		return chmod(dir, mode) ? -errno : 0;
	}
	if (errno != EEXIST || lstat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		fprintf(stderr, "loopscope: %s is not a directory of this user that only it may "
			"write to: refusing to put the agent's socket there\n", dir);
		return -EPERM;
	}
	/* another agent's 0700 directory: searchable now, its socket stays 0600 */
	if ((st.st_mode & mode) != mode && chmod(dir, (st.st_mode & 07777) | mode))
		return -errno;
	return 0;
}

static int open_socket(struct agent *a)
{
	static const struct server_ops ops = { .request = on_request, .accept = on_accept };
	int err;

	if (a->opts.socket_path) {
		snprintf(a->socket_path, sizeof(a->socket_path), "%s", a->opts.socket_path);
	} else {
		err = socket_dir(a, DEFAULT_SOCKET_DIR);
		if (err)
			return err;
		snprintf(a->socket_path, sizeof(a->socket_path), DEFAULT_SOCKET_DIR "/agent-%d.sock",
			 (int)getpid());
	}
	err = server_new(a->loop, a->socket_path, access_any(&a->opts.allow), &ops, a, &a->srv);
	if (err)
		fprintf(stderr, "loopscope: cannot listen on %s: %s\n", a->socket_path,
			err == UV_EADDRINUSE ? "it exists (another agent's socket, or a stale one: remove it)"
					     : uv_strerror(err));
	return err;
}

/* What the rest of the agent's life needs: attaching targets found later
 * (--children, a target's exec): CAP_BPF and CAP_PERFMON to load and
 * attach programs; CAP_SYS_ADMIN because the kernel creates uprobes only
 * with it (perf_uprobe_event_init: CAP_PERFMON sufficed from 5.8 until
 * commit ba677dbe77af, 6.16 and the stable kernels since July 2025, put it
 * back: a uprobe in the middle of an instruction corrupts the target);
 * CAP_SYS_PTRACE to read other users' targets (process_vm_readv,
 * /proc/PID/root and map_files) and CAP_DAC_READ_SEARCH for their files.
 * Not kept: binding the socket and a metrics port, opening the recording,
 * CAP_SYS_RESOURCE (BPF memory is charged to the memory cgroup since 5.11,
 * so libbpf never raises RLIMIT_MEMLOCK on the kernels we run on). */
#define AGENT_KEPT_CAPS (PRIVS_BIT(CAP_BPF) | PRIVS_BIT(CAP_PERFMON) | PRIVS_BIT(CAP_SYS_ADMIN) | \
			 PRIVS_BIT(CAP_SYS_PTRACE) | PRIVS_BIT(CAP_DAC_READ_SEARCH))

static void drop_privileges(void)
{
	char err[160], kept[200];
	unsigned threads = privs_threads();

	if (threads > 1)
		log_warn("%u threads already run: they keep their capabilities", threads - 1);
	if (privs_drop(AGENT_KEPT_CAPS, err, sizeof(err))) {
		log_warn("%s", err);
		return;
	}
	privs_names(AGENT_KEPT_CAPS, kept, sizeof(kept));
	log_info("capabilities: kept at most %s; every other one dropped, bounding set too; no_new_privs",
		 kept);
}

static bool child_watched(pid_t pid, void *ctx)
{
	struct agent *a = ctx;

	for (size_t i = 0; i < a->ntargets; i++)
		if (target_pid(a->targets[i]) == pid)
			return true;
	return agent_attaching(a, pid);
}

static int child_attach(pid_t pid, void *ctx)
{
	int err = agent_attach_later(ctx, pid);

	if (err)
		log_warn("PID %d (a descendant of a --children master): cannot watch it: %s", pid,
			 err == -ENOSPC ? "too many targets" : ls_strerror(err));
	return err;
}

static void masters_gone(void *ctx)
{
	struct agent *a = ctx;

	if (!a->ntargets)
		agent_stop(a, "no target and no master left");
}

static int attach_all(struct agent *a)
{
	static const struct children_ops kid_ops = {
		.watched = child_watched, .attach = child_attach, .masters_gone = masters_gone,
	};

	for (size_t i = 0; i < a->opts.npids; i++) {
		int err = agent_attach_now(a, a->opts.pids[i]);

		if (err) {
			fprintf(stderr, "loopscope: cannot watch PID %d: %s\n", a->opts.pids[i],
				ls_strerror(err));
			return err;
		}
	}
	if (a->opts.nmasters)
		return children_new(a->loop, a->opts.masters, a->opts.nmasters, &kid_ops, a, &a->kids);
	return 0;
}

static void start_handles(struct agent *a)
{
	uv_signal_init(a->loop, &a->sigint);
	uv_signal_init(a->loop, &a->sigterm);
	a->sigint.data = a->sigterm.data = a;
	uv_signal_start(&a->sigint, on_signal, SIGINT);
	uv_signal_start(&a->sigterm, on_signal, SIGTERM);
	uv_timer_init(a->loop, &a->prune_timer);
	a->prune_timer.data = a;
	uv_timer_start(&a->prune_timer, on_prune, PRUNE_INTERVAL_MS, PRUNE_INTERVAL_MS);
}

int agent_main(const struct agent_opts *opts)
{
	struct agent a = { .opts = *opts, .loop = uv_default_loop() };
	int err;

	signal(SIGPIPE, SIG_IGN);
	/* One malloc arena: with one per pool thread, each kept the peak of
	 * the snapshots it happened to run (RSS grew by ~90 MB a snapshot at
	 * 100,000 tasks until every arena had its own). */
	mallopt(M_ARENA_MAX, 1);
	json_object_seed(0);  /* now, on this thread: the pool's threads build JSON too */
	a.started = clock_unix_s();
	a.started_mono = clock_mono_s();
	a.hist = history_new(opts->retain_s, opts->history_bytes);
	a.owners = owners_new();
	if (!a.hist || !a.owners)
		return 1;
	start_handles(&a);
	err = open_record(&a);
	if (!err)
		err = attach_all(&a);
	if (!err)
		err = open_metrics(&a);
	if (!err)
		err = open_socket(&a);
	if (err) {
		agent_stop(&a, "could not start");
	} else {
		drop_privileges();
		log_info("listening on %s (%zu target%s)", a.socket_path, a.ntargets,
			 a.ntargets == 1 ? "" : "s");
		printf("%s\n", a.socket_path);
		fflush(stdout);
	}
	uv_run(a.loop, UV_RUN_DEFAULT);
	recorder_close(a.rec);
	uv_loop_close(a.loop);
	history_free(a.hist);
	owners_free(a.owners);
	return err ? 1 : 0;
}
