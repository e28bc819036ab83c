/* SPDX-License-Identifier: GPL-2.0-only */
/* Code objects read from the target, cached by address: names, file, and
 * the line table that maps an instruction offset to a line number. */
#ifndef LOOPSCOPE_CODE_H
#define LOOPSCOPE_CODE_H

#include <stddef.h>
#include <stdint.h>

struct py_proc;
struct code_cache;

struct code_info {
	uint64_t addr;
	uint64_t filename_obj, name_obj;  /* identity check against reuse */
	const char *file;                 /* interned */
	const char *func;                 /* qualname on 3.11+, name on 3.10 */
	int firstlineno;
	int firsttraceable;               /* 3.11+: first traceable code unit */
	uint8_t *linetable;
	size_t linetable_len;
	/* code_line's last answer (offset 0: none yet): the tasks of a
	 * snapshot wait at a few lines, each decoded once, not per task */
	int memo_offset, memo_line;
};

struct cpy_layout;

struct code_cache *code_cache_new(void);
void code_cache_free(struct code_cache *c);

/* The code object at addr, read once and then checked cheaply. NULL with
 * *err set when addr is not a readable code object. */
const struct code_info *code_get(struct py_proc *p, uint64_t addr, int *err);
/* The line of the instruction at byte offset `offset`, -1 when none. */
int code_line(const struct py_proc *p, const struct code_info *ci, int offset);

/* Instruction positions read from a frame are hostile: a churning target
 * hands over garbage. Bytecode is never this long. */
#define CODE_MAX_UNITS (1 << 24)
/* The code unit (index) an instruction pointer of 3.11+ points at in the
 * code object at `code`: -1 before the first, CODE_MAX_UNITS when it
 * points nowhere a frame could run. */
int code_instr_unit(const struct cpy_layout *L, uint64_t code, uint64_t instr);
/* A code unit (3.10's f_lasti, or the above) as code_line's byte offset:
 * negative stays "not started", garbage becomes an offset past any line
 * table (line -1), never an overflow. */
int code_unit_offset(int64_t unit);

#endif
