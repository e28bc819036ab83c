/* SPDX-License-Identifier: GPL-2.0-only */
/* Error codes: functions return 0 or a negative code, either -errno or one
 * of the loopscope codes below (outside errno's range). */
#ifndef LOOPSCOPE_ERRORS_H
#define LOOPSCOPE_ERRORS_H

enum {
	LS_ERR_FIRST = 10000,
	LS_ENOTPYTHON,    /* the process has no CPython interpreter */
	LS_EUNSUPPORTED,  /* a CPython version we have no layout for */
	LS_ENOLOOP,       /* no asyncio event loop in the process */
	LS_ECHANGED,      /* memory changed under the reader: retry */
	LS_EBADDATA,      /* target memory does not look like what we expect */
	LS_EKTHREAD,      /* a kernel thread: nothing to attach to */
	LS_EEXITING,      /* the process is exiting (it was alive a moment ago) */
	LS_ENOSYMBOL,     /* a symbol we need is not in the binary */
	LS_ENOTFOUND,     /* the thing asked for (a task, a thread) is not there */
	LS_EPROTO,        /* a malformed protocol message */
	LS_ENOFILE,       /* a file the target maps cannot be opened (py_proc.file_error says which) */
	LS_ERR_LAST,
};

/* A human-readable message for a negative code (errno or LS_E*). */
const char *ls_strerror(int err);

#endif
