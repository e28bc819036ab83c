/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdio.h>
#include <sys/syscall.h>
#include "syscalls.h"

/* Generated at build time from <asm/unistd.h> (see Makefile). */
static const char *const names[] = {
#include "syscall_names.h"
};

const char *syscall_name(int nr)
{
	static char unknown[32];

	if (nr >= 0 && nr < (int)(sizeof(names) / sizeof(names[0])) && names[nr])
		return names[nr];
	snprintf(unknown, sizeof(unknown), "syscall_%d", nr);
	return unknown;
}

bool syscall_is_epoll_wait(long nr)
{
#ifdef SYS_epoll_wait
	if (nr == SYS_epoll_wait)
		return true;
#endif
#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif
	return nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2;
}
