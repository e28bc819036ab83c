/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "maps.h"

static int maps_push(struct maps *m, size_t *cap, const struct map_entry *e)
{
	if (m->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct map_entry *grown = realloc(m->entries, ncap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		m->entries = grown;
		*cap = ncap;
	}
	m->entries[m->count++] = *e;
	return 0;
}

/* The directory a chrooted target has as its root, as we see it ("" for
 * ours). /proc/PID/maps shows file names from our root; the target knows
 * them without this prefix. */
static void root_prefix(pid_t pid, char *out, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/root", pid);
	n = readlink(link, out, len - 1);
	out[n > 0 ? n : 0] = 0;
	if (!strcmp(out, "/") || out[0] != '/')
		out[0] = 0;
}

/* A mapped file's name as the target sees it. */
static void target_path(const char *prefix, const char *shown, char *out, size_t len)
{
	size_t n = strlen(prefix);

	if (n && !strncmp(shown, prefix, n) && shown[n] == '/')
		shown += n;
	snprintf(out, len, "%s", shown);
	out[strcspn(out, "\n")] = 0;
}

void maps_target_path(pid_t pid, const char *shown, char *out, size_t len)
{
	char prefix[256];

	root_prefix(pid, prefix, sizeof(prefix));
	target_path(prefix, shown, out, len);
}

int maps_read(pid_t pid, struct maps *out)
{
	char path[64], line[512], prefix[256];
	size_t cap = 0;
	FILE *f;
	int err = 0;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	root_prefix(pid, prefix, sizeof(prefix));
	while (!err && fgets(line, sizeof(line), f)) {
		struct map_entry e = { 0 };
		int consumed = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %*s %*s %n",
			   &e.start, &e.end, e.perms, &e.offset, &consumed) < 4)
			continue;
		if (consumed > 0)
			target_path(prefix, line + consumed, e.path, sizeof(e.path));
		err = maps_push(out, &cap, &e);
	}
	fclose(f);
	if (err)
		maps_free(out);
	return err;
}

const struct map_entry *maps_first_of(const struct maps *m, const char *path)
{
	for (size_t i = 0; i < m->count; i++)
		if (!strcmp(m->entries[i].path, path))
			return &m->entries[i];
	return NULL;
}

const struct map_entry *maps_find(const struct maps *m, uint64_t addr)
{
	for (size_t i = 0; i < m->count; i++)
		if (addr >= m->entries[i].start && addr < m->entries[i].end)
			return &m->entries[i];
	return NULL;
}

void maps_free(struct maps *m)
{
	free(m->entries);
	memset(m, 0, sizeof(*m));
}
