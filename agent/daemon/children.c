/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent.h"
#include "children.h"
#include "log.h"
#include "proc.h"

#define SCAN_MS 100
#define DESCENDANTS_MAX 4096
#define REFUSED_MAX 256        /* pids whose attach failed, not tried again */

struct children {
	uv_timer_t timer;
	const struct children_ops *ops;
	void *ctx;
	pid_t masters[AGENT_MAX_TARGETS];
	size_t nmasters;
	pid_t refused[REFUSED_MAX];
	size_t nrefused, refused_next;
	bool stopping;
};

/* Appends the children of every thread of pid (/proc/PID/task/TID/children). */
static size_t direct_children(pid_t pid, pid_t *out, size_t n, size_t max)
{
	char path[64], buf[4096];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && (e = readdir(d)) && n < max) {
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children", pid, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			for (char *tok = strtok(buf, " \n"); tok && n < max; tok = strtok(NULL, " \n"))
				out[n++] = (pid_t)atoi(tok);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

size_t children_of(pid_t pid, pid_t *out, size_t max)
{
	size_t n = direct_children(pid, out, 0, max);

	/* breadth first: out[] is its own queue */
	for (size_t i = 0; i < n && n < max; i++)
		n = direct_children(out[i], out, n, max);
	return n;
}

/* A Python interpreter by its executable's name: cheap, and never an
 * attach attempt on every shell or helper a master runs. */
static bool is_python(pid_t pid)
{
	char path[64], exe[512];
	ssize_t n;
	const char *base;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = 0;
	base = strrchr(exe, '/');
	return !strncmp(base ? base + 1 : exe, "python", 6);
}

static bool was_refused(const struct children *c, pid_t pid)
{
	for (size_t i = 0; i < c->nrefused; i++)
		if (c->refused[i] == pid)
			return true;
	return false;
}

static void refuse(struct children *c, pid_t pid)
{
	c->refused[c->refused_next++ % REFUSED_MAX] = pid;
	if (c->nrefused < REFUSED_MAX)
		c->nrefused++;
}

void children_refuse(struct children *c, pid_t pid)
{
	if (c && !c->stopping)
		refuse(c, pid);
}

static void drop_dead_masters(struct children *c)
{
	size_t j = 0;

	for (size_t i = 0; i < c->nmasters; i++) {
		if (proc_alive(c->masters[i]) > 0)
			c->masters[j++] = c->masters[i];
		else
			log_info("master PID %d has exited", c->masters[i]);
	}
	c->nmasters = j;
}

static void scan(uv_timer_t *h)
{
	struct children *c = h->data;
	pid_t *kids = malloc(DESCENDANTS_MAX * sizeof(*kids));

	drop_dead_masters(c);
	for (size_t m = 0; kids && m < c->nmasters && !c->stopping; m++) {
		size_t n = children_of(c->masters[m], kids, DESCENDANTS_MAX);

		for (size_t i = 0; i < n && !c->stopping; i++) {
			pid_t pid = kids[i];

			if (c->ops->watched(pid, c->ctx) || was_refused(c, pid) || !is_python(pid))
				continue;
			log_info("PID %d: a new Python descendant of master %d", pid, c->masters[m]);
			if (c->ops->attach(pid, c->ctx))
				refuse(c, pid);
		}
	}
	free(kids);
	if (!c->nmasters && !c->stopping)
		c->ops->masters_gone(c->ctx);
}

int children_new(uv_loop_t *loop, const pid_t *masters, size_t n, const struct children_ops *ops,
		 void *ctx, struct children **out)
{
	struct children *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->ops = ops;
	c->ctx = ctx;
	memcpy(c->masters, masters, n * sizeof(*masters));
	c->nmasters = n;
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	uv_timer_start(&c->timer, scan, 0, SCAN_MS);
	*out = c;
	return 0;
}

size_t children_masters(const struct children *c)
{
	return c && !c->stopping ? c->nmasters : 0;
}

static void closed(uv_handle_t *h)
{
	free(h->data);
}

void children_stop(struct children *c)
{
	if (!c || c->stopping)
		return;
	c->stopping = true;
	uv_close((uv_handle_t *)&c->timer, closed);
}
