/* SPDX-License-Identifier: GPL-2.0-only */
/* The memory map of a process (/proc/PID/maps). */
#ifndef LOOPSCOPE_MAPS_H
#define LOOPSCOPE_MAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct map_entry {
	uint64_t start, end, offset;
	char perms[5];
	char path[256];  /* "" for anonymous mappings; as the target sees it
			  * (a chrooted target's root taken off) */
};

struct maps {
	size_t count;
	struct map_entry *entries;
};

int maps_read(pid_t pid, struct maps *out);
/* The lowest mapping of path, the one its load bias is computed from. */
const struct map_entry *maps_first_of(const struct maps *m, const char *path);
/* The mapping that contains addr, or NULL. */
const struct map_entry *maps_find(const struct maps *m, uint64_t addr);
void maps_free(struct maps *m);
/* A path shown by /proc (maps, exe links) as the target sees it. */
void maps_target_path(pid_t pid, const char *shown, char *out, size_t len);

#endif
