/* SPDX-License-Identifier: GPL-2.0-only */
#include <string.h>
#include "errors.h"

static const char *const messages[] = {
	[LS_ENOTPYTHON - LS_ERR_FIRST] = "not a Python process",
	[LS_EUNSUPPORTED - LS_ERR_FIRST] = "unsupported Python version",
	[LS_ENOLOOP - LS_ERR_FIRST] = "no asyncio event loop found",
	[LS_ECHANGED - LS_ERR_FIRST] = "target memory changed while it was read",
	[LS_EBADDATA - LS_ERR_FIRST] = "unexpected data in target memory",
	[LS_EKTHREAD - LS_ERR_FIRST] = "a kernel thread, not a user process",
	[LS_EEXITING - LS_ERR_FIRST] = "the process exited while loopscope was attaching",
	[LS_ENOSYMBOL - LS_ERR_FIRST] = "symbol not found",
	[LS_ENOTFOUND - LS_ERR_FIRST] = "not found",
	[LS_EPROTO - LS_ERR_FIRST] = "malformed protocol message",
	[LS_ENOFILE - LS_ERR_FIRST] = "a file the target maps cannot be opened",
};

const char *ls_strerror(int err)
{
	int code = err < 0 ? -err : err;

	if (code > LS_ERR_FIRST && code < LS_ERR_LAST)
		return messages[code - LS_ERR_FIRST];
	return strerror(code);
}
