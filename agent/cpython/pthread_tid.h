/* SPDX-License-Identifier: GPL-2.0-only */
/* Python 3.10's PyThreadState has no native thread id, only the pthread_t
 * (threading.get_ident()), which in glibc is the address of the thread's
 * struct pthread, whose `tid` field holds the kernel thread id. */
#ifndef LOOPSCOPE_PTHREAD_TID_H
#define LOOPSCOPE_PTHREAD_TID_H

/* Offset of the tid inside struct pthread, measured on our own threads
 * (same libc as the target on this host); -1 when it cannot be found. */
int pthread_tid_offset(void);

#endif
