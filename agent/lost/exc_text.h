/* SPDX-License-Identifier: GPL-2.0-only */
/* An unretrieved exception's text as Python's str() would make it, from
 * what the probe copied: BaseException's (str of the one arg, else the
 * args tuple), OSError's ("[Errno 2] No such file or directory: 'x'"),
 * KeyError's (repr of its key). An exception whose type has another str()
 * (a custom __str__) cannot have it run from outside: its args are shown,
 * and the text says so. */
#ifndef LOOPSCOPE_EXC_TEXT_H
#define LOOPSCOPE_EXC_TEXT_H

#include <linux/types.h>
#include <stddef.h>
#include "lost.h"
#include "pyproc.h"

/* "Type: text" (or "Type" when the text is empty) into buf. */
void exc_text_render(const struct lost_event *e, enum py_exc_str kind, char *buf, size_t len);

#endif
