/* SPDX-License-Identifier: GPL-2.0-only */
/* This process's own capabilities, to say which one is missing before the
 * kernel refuses with a bare EPERM. */
#ifndef LOOPSCOPE_CAPS_H
#define LOOPSCOPE_CAPS_H

#include <stdbool.h>

/* Whether cap (CAP_SYS_ADMIN...) is in this process's effective set
 * (CapEff in /proc/self/status); true when it cannot be read, so that the
 * kernel, not a guess, has the last word. */
bool caps_have(int cap);

#endif
