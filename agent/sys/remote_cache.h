/* The page cache behind remote_snapshot_begin (remote.h's private half). */
#ifndef LOOPSCOPE_REMOTE_CACHE_H
#define LOOPSCOPE_REMOTE_CACHE_H

#include "remote.h"

int remote_read_direct(struct remote *r, uint64_t addr, void *buf, size_t len);
int remote_cache_read(struct remote *r, uint64_t addr, void *buf, size_t len);

#endif
