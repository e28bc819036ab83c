/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "log.h"
#include "recorder.h"

struct recorder {
	char *path;
	int fd;
	size_t max_bytes, size;
	unsigned keep;
	uint64_t bytes, errors;
};

static int open_file(struct recorder *r, bool truncate)
{
	struct stat st;

	r->fd = open(r->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
		     (truncate ? O_TRUNC : 0), 0600);
	if (r->fd < 0)
		return -errno;
	if (fstat(r->fd, &st) || !S_ISREG(st.st_mode)) {
		close(r->fd);
		r->fd = -1;
		return -EINVAL;
	}
	r->size = (size_t)st.st_size;
	return 0;
}

int recorder_open(const char *path, size_t max_bytes, unsigned keep, struct recorder **out)
{
	struct recorder *r = calloc(1, sizeof(*r));
	int err;

	if (!r || !(r->path = strdup(path))) {
		free(r);
		return -ENOMEM;
	}
	r->max_bytes = max_bytes;
	r->keep = keep;
	err = open_file(r, false);
	if (err) {
		recorder_close(r);
		return err;
	}
	*out = r;
	return 0;
}

/* FILE.(keep-1) -> FILE.keep, ..., FILE -> FILE.1, then a new FILE. */
static void rotate(struct recorder *r)
{
	size_t n = strlen(r->path) + 16;
	char from[n], to[n];

	close(r->fd);
	r->fd = -1;
	for (unsigned k = r->keep; k >= 1; k--) {
		if (k == 1)
			snprintf(from, n, "%s", r->path);
		else
			snprintf(from, n, "%s.%u", r->path, k - 1);
		snprintf(to, n, "%s.%u", r->path, k);
		if (rename(from, to) && errno != ENOENT)
			log_warn("--record: cannot rename %s: %s", from, strerror(errno));
	}
	if (!r->keep)
		unlink(r->path);
	if (open_file(r, true))
		log_warn("--record: cannot reopen %s: %s", r->path, strerror(errno));
}

static void put(struct recorder *r, struct iovec *iov, int n)
{
	size_t len = 0;
	ssize_t w;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	/* a line bigger than the limit still goes, alone in its file */
	if (r->fd >= 0 && r->size && r->size + len > r->max_bytes)
		rotate(r);
	if (r->fd < 0) {
		r->errors++;
		return;
	}
	w = writev(r->fd, iov, n);
	if (w != (ssize_t)len) {
		/* ENOSPC and the like: said once, counted, the agent goes on */
		if (!r->errors++)
			log_warn("--record: cannot write %s: %s", r->path, w < 0 ? strerror(errno) : "short write");
		if (w > 0)
			r->size += (size_t)w;
		return;
	}
	r->size += len;
	r->bytes += len;
}

void recorder_event(struct recorder *r, double now, const char *line, size_t len)
{
	char stamp[48];
	struct iovec iov[2];
	int n;

	if (!r || len < 2 || line[0] != '{')
		return;
	n = snprintf(stamp, sizeof(stamp), "{\"rec_ts\":%.6f,", now);
	iov[0] = (struct iovec){ stamp, (size_t)n };
	iov[1] = (struct iovec){ (void *)(line + 1), len - 1 };
	put(r, iov, 2);
}

void recorder_snapshot(struct recorder *r, double now, pid_t pid, const char *ps, size_t len)
{
	char head[96];
	struct iovec iov[3];
	int n;

	if (!r || !ps || !len)
		return;
	n = snprintf(head, sizeof(head), "{\"rec_ts\":%.6f,\"event\":\"snapshot\",\"pid\":%d,\"ps\":",
		     now, (int)pid);
	iov[0] = (struct iovec){ head, (size_t)n };
	iov[1] = (struct iovec){ (void *)ps, len };
	iov[2] = (struct iovec){ "}\n", 2 };
	put(r, iov, 3);
}

uint64_t recorder_bytes(const struct recorder *r)
{
	return r ? r->bytes : 0;
}

uint64_t recorder_errors(const struct recorder *r)
{
	return r ? r->errors : 0;
}

void recorder_close(struct recorder *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r);
}
