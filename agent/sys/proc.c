/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "errors.h"
#include "maps.h"
#include "proc.h"

int proc_parse_pid(const char *arg, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

#define PF_EXITING 0x00000004  /* include/linux/sched.h */
#define PF_KTHREAD 0x00200000

/* /proc/PID/stat from its state on (the fields after "(comm)", which may
 * itself hold spaces and parentheses); 0 or -ESRCH. */
static int read_stat(pid_t pid, char *buf, size_t len, char **fields)
{
	char path[64], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -ESRCH;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -ESRCH;
	*fields = p + 2;
	return 0;
}

int proc_stat_field(pid_t pid, int field, unsigned long long *value)
{
	char buf[1024], *p, *end;
	int err = read_stat(pid, buf, sizeof(buf), &p);

	if (err)
		return err;
	/* fields[0] is field 3 (state) in proc(5)'s numbering */
	for (int i = 3; i < field && p; i++) {
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
	if (!p || field < 4)
		return -EINVAL;
	*value = strtoull(p, &end, 10);
	return end == p ? -EINVAL : 0;
}

/* A process whose state is Z (zombie) or X (dead) cannot be attached to. */
static char proc_state(pid_t pid)
{
	char buf[1024], *p;

	return read_stat(pid, buf, sizeof(buf), &p) ? 0 : p[0];
}

/* Without an exe link: a kernel thread, or a process tearing itself down
 * (its mm already gone) between kill -9 and becoming a zombie. */
static int why_no_exe(pid_t pid)
{
	unsigned long long flags;

	if (proc_stat_field(pid, 9, &flags))
		return -ESRCH;
	return flags & PF_KTHREAD ? -LS_EKTHREAD : -LS_EEXITING;
}

int proc_check(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	char state;

	if (kill(pid, 0) && errno == ESRCH)
		return -ESRCH;
	state = proc_state(pid);
	if (!state || state == 'Z' || state == 'X')
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (readlink(path, exe, sizeof(exe)) < 0) {
		if (errno == ENOENT)
			return why_no_exe(pid);
		return errno == EACCES ? -EPERM : -errno;
	}
	return 0;
}

bool proc_has_thread(pid_t pid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, tid);
	return tid > 0 && access(path, F_OK) == 0;
}

/* The first number after `key` (e.g. "Tgid:") in /proc/PID/status. */
static int status_number(pid_t pid, const char *key, unsigned long long *value)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -ESRCH;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, key, klen) && sscanf(line + klen, "%llu", value) == 1;
	fclose(f);
	return found ? 0 : -ESRCH;
}

int proc_tgid(pid_t pid, pid_t *tgid)
{
	unsigned long long v;
	int err = status_number(pid, "Tgid:", &v);

	if (!err)
		*tgid = (pid_t)v;
	return err;
}

int proc_uid(pid_t pid, uid_t *uid)
{
	unsigned long long v;
	int err = status_number(pid, "Uid:", &v);  /* real, effective, saved, fs: the first */

	if (!err)
		*uid = (uid_t)v;
	return err;
}

void proc_thread_name(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, (int)len, f)) {
		snprintf(buf, len, "?");
	} else {
		buf[strcspn(buf, "\n")] = 0;
	}
	if (f)
		fclose(f);
}

int proc_threads(pid_t pid, pid_t **tids, size_t *count)
{
	char path[64];
	struct dirent *de;
	size_t n = 0, cap = 16;
	pid_t *v, *grown;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	v = malloc(cap * sizeof(*v));
	if (!v) {
		closedir(d);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		pid_t tid;

		if (proc_parse_pid(de->d_name, &tid))
			continue;
		if (n == cap) {
			cap *= 2;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = grown;
		}
		v[n++] = tid;
	}
	closedir(d);
	*tids = v;
	*count = n;
	return 0;
}

int proc_pidfd(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

int proc_ref_open(struct proc_ref *r, pid_t pid)
{
	r->pid = pid;
	r->pidfd = proc_pidfd(pid);
	if (r->pidfd == -ESRCH)
		return -ESRCH;
	if (r->pidfd < 0)
		r->pidfd = -1;
	/* read after the pidfd: had the PID changed hands in between, the
	 * pidfd's process is gone and proc_ref_gone says so */
	if (proc_stat_field(pid, 22, &r->start)) {
		proc_ref_close(r);
		return -ESRCH;
	}
	return 0;
}

bool proc_ref_gone(const struct proc_ref *r)
{
	struct pollfd p = { .fd = r->pidfd, .events = POLLIN };
	unsigned long long start;

	if (r->pidfd >= 0)
		return poll(&p, 1, 0) > 0; /* survives an exec, never names another */
	if (proc_stat_field(r->pid, 22, &start) || start != r->start)
		return true;
	return !proc_alive(r->pid);
}

void proc_ref_close(struct proc_ref *r)
{
	if (r->pidfd >= 0)
		close(r->pidfd);
	r->pidfd = -1;
}

int proc_alive(pid_t pid)
{
	char state = proc_state(pid);
	unsigned long long flags = 0;

	if (!state || state == 'Z' || state == 'X')
		return 0;
	/* killed, and tearing itself down: as good as gone */
	return proc_stat_field(pid, 9, &flags) || !(flags & PF_EXITING);
}

void proc_root_path(pid_t pid, const char *path, char *out, size_t len)
{
	snprintf(out, len, "/proc/%d/root%s", pid, path);
}

/* The first line of /proc/PID/task/TID/<name>. */
static int read_task_line(pid_t pid, pid_t tid, const char *name, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", pid, tid, name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	return ok ? 0 : -EIO;
}

int proc_thread_syscall(pid_t pid, pid_t tid, long *nr, unsigned long *arg0)
{
	char buf[256];
	int err = read_task_line(pid, tid, "syscall", buf, sizeof(buf));

	if (err)
		return err;
	if (!strncmp(buf, "running", 7))
		return -EBUSY;
	if (sscanf(buf, "%ld %lx", nr, arg0) != 2)
		return -EIO;
	return 0;
}

int proc_thread_runtime(pid_t pid, pid_t tid, uint64_t *ns)
{
	char buf[128];
	unsigned long long v;
	int err = read_task_line(pid, tid, "schedstat", buf, sizeof(buf));

	if (err)
		return err;
	if (sscanf(buf, "%llu", &v) != 1)
		return -EIO;
	*ns = v;
	return 0;
}

void proc_exe_path(pid_t pid, char *out, size_t len)
{
	char link[64], shown[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, shown, sizeof(shown) - 1);
	shown[n > 0 ? n : 0] = 0;
	maps_target_path(pid, shown, out, len);
}
