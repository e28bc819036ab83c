/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef LOOPSCOPE_SYSCALLS_H
#define LOOPSCOPE_SYSCALLS_H

/* The name of a syscall of this architecture, or "syscall_N". The returned
 * string is static or, for unknown numbers, in a buffer reused per call. */
const char *syscall_name(int nr);

#include <stdbool.h>

/* epoll_wait, epoll_pwait or epoll_pwait2: how event loops poll. */
bool syscall_is_epoll_wait(long nr);

#endif
