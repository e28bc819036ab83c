/* SPDX-License-Identifier: GPL-2.0-only */
/* Symbols and strings of an ELF file on disk (the target's executable or
 * libpython, opened through /proc/PID/root). */
#ifndef LOOPSCOPE_ELF_H
#define LOOPSCOPE_ELF_H

#include <stddef.h>
#include <stdint.h>

struct elf_file;

int elf_file_open(const char *path, struct elf_file **out);
/* Looks NAME up in .symtab, then .dynsym; 0 or -LS_ENOSYMBOL. */
int elf_file_symbol(struct elf_file *e, const char *name, uint64_t *value, uint64_t *size);
/* The page-aligned virtual address of the first PT_LOAD segment: the load
 * bias is where that segment is mapped minus this. */
uint64_t elf_file_base_vaddr(struct elf_file *e);
/* The file offset of a virtual address (for uprobes); 0 or -ENOENT. */
int elf_file_vaddr_to_offset(struct elf_file *e, uint64_t vaddr, uint64_t *offset);
/* The GNU build id as lowercase hex, or "" */
void elf_file_build_id(struct elf_file *e, char *out, size_t len);
/* Whether the file has a section of that name (".debug_info"). */
int elf_file_has_section(struct elf_file *e, const char *name);
/* The address and size of a named section (".AsyncioDebug"); -ENOENT. */
int elf_file_section(struct elf_file *e, const char *name, uint64_t *vaddr, uint64_t *size);
void elf_file_close(struct elf_file *e);

#endif
