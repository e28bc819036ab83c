/* SPDX-License-Identifier: GPL-2.0-only */
/* The one way loopscope reads another process's memory. Every address that
 * comes from the target is hostile: reads are bounded, a bad pointer is an
 * error code, never a crash. */
#ifndef LOOPSCOPE_REMOTE_H
#define LOOPSCOPE_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct remote_cache;

struct remote {
	pid_t pid;
	struct remote_cache *cache;  /* set between remote_snapshot_begin/end */
};

/* Reads len bytes at addr. 0, -EFAULT (unmapped or partly unmapped),
 * -ESRCH (the process is gone), -EPERM. */
int remote_read(struct remote *r, uint64_t addr, void *buf, size_t len);
int remote_read_ptr(struct remote *r, uint64_t addr, uint64_t *out);
int remote_read_i32(struct remote *r, uint64_t addr, int32_t *out);
int remote_read_i64(struct remote *r, uint64_t addr, int64_t *out);

/* Between begin and end, reads go through a page cache: each page of the
 * target is read once (with read-ahead), which turns a walk over 100,000
 * objects into a few thousand syscalls, and gives the walk one consistent
 * view. Only for one-shot snapshots: the cache never refreshes. */
int remote_snapshot_begin(struct remote *r);
void remote_snapshot_end(struct remote *r);
/* Reads between pause and resume see the live memory, past the snapshot's
 * cache (e.g. to check whether what the snapshot read has moved on since). */
struct remote_cache *remote_pause_cache(struct remote *r);
void remote_resume_cache(struct remote *r, struct remote_cache *c);

/* Values at an offset of a local copy of a remote struct; the offset comes
 * from a layout table and is checked against the copy's size. */
uint64_t field_ptr(const void *copy, size_t size, int off);
int64_t field_i64(const void *copy, size_t size, int off);
int32_t field_i32(const void *copy, size_t size, int off);
int8_t field_i8(const void *copy, size_t size, int off);

#endif
