#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "errors.h"
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

/* A process whose state is Z (zombie) or X (dead) cannot be attached to. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
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
			return -LS_EKTHREAD;
		return errno == EACCES ? -EPERM : -errno;
	}
	return 0;
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

int proc_alive(pid_t pid)
{
	char state = proc_state(pid);

	return state && state != 'Z' && state != 'X';
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
