/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ns_tids.h"
#include "proc.h"

/* The first and last ids of the NSpid: line of a status file; how many. */
static int read_nspid(const char *path, pid_t *first, pid_t *last)
{
	char line[256];
	int count = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *at = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (long v; (v = strtol(at, &end, 10)) > 0 && end != at; at = end) {
			if (!count++)
				*first = (pid_t)v;
			*last = (pid_t)v;
		}
		break;
	}
	fclose(f);
	return count;
}

bool ns_tids_nested(pid_t pid)
{
	char path[64];
	pid_t first, last;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return read_nspid(path, &first, &last) > 1;
}

int ns_tids_read(pid_t pid, struct ns_tids *out)
{
	pid_t *tids;
	size_t n;
	int err = proc_threads(pid, &tids, &n);

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v) {
		free(tids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		char path[80];
		pid_t host, ns;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tids[i]);
		if (read_nspid(path, &host, &ns) > 1) /* a thread gone meanwhile is left out */
			out->v[out->n++] = (struct ns_tid){ host, ns };
	}
	free(tids);
	return 0;
}

pid_t ns_tids_host(const struct ns_tids *t, pid_t ns_tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].ns == ns_tid)
			return t->v[i].host;
	return 0;
}

void ns_tids_free(struct ns_tids *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
