/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elf_file.h"
#include "errors.h"

struct elf_file {
	int fd;
	Elf *elf;
};

int elf_file_open(const char *path, struct elf_file **out)
{
	struct elf_file *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0) {
		int err = -errno;

		free(e);
		return err;
	}
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		elf_file_close(e);
		return -ENOEXEC;
	}
	*out = e;
	return 0;
}

static Elf_Scn *section_by_type(Elf *elf, Elf64_Word type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			return scn;
	return NULL;
}

static Elf_Scn *section_by_name(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

static int symbol_in(Elf *elf, Elf_Scn *scn, const char *name, uint64_t *value, uint64_t *size)
{
	Elf_Data *data;
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return -LS_ENOSYMBOL;
	data = elf_getdata(scn, NULL);
	if (!data)
		return -LS_ENOSYMBOL;
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym sym;
		const char *n;

		if (!gelf_getsym(data, (int)i, &sym) || !sym.st_value)
			continue;
		n = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (n && !strcmp(n, name)) {
			*value = sym.st_value;
			if (size)
				*size = sym.st_size;
			return 0;
		}
	}
	return -LS_ENOSYMBOL;
}

int elf_file_symbol(struct elf_file *e, const char *name, uint64_t *value, uint64_t *size)
{
	if (!symbol_in(e->elf, section_by_type(e->elf, SHT_SYMTAB), name, value, size))
		return 0;
	return symbol_in(e->elf, section_by_type(e->elf, SHT_DYNSYM), name, value, size);
}

int elf_file_has_section(struct elf_file *e, const char *name)
{
	return section_by_name(e->elf, name) != NULL;
}

int elf_file_section(struct elf_file *e, const char *name, uint64_t *vaddr, uint64_t *size)
{
	Elf_Scn *scn = section_by_name(e->elf, name);
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh))
		return -ENOENT;
	*vaddr = sh.sh_addr;
	*size = sh.sh_size;
	return 0;
}

uint64_t elf_file_base_vaddr(struct elf_file *e)
{
	size_t n;

	if (elf_getphdrnum(e->elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e->elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			return ph.p_vaddr & ~(uint64_t)(ph.p_align ? ph.p_align - 1 : 0xfff);
	}
	return 0;
}

int elf_file_vaddr_to_offset(struct elf_file *e, uint64_t vaddr, uint64_t *offset)
{
	size_t n;

	if (elf_getphdrnum(e->elf, &n))
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_memsz) {
			*offset = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

void elf_file_build_id(struct elf_file *e, char *out, size_t len)
{
	Elf_Scn *scn = section_by_name(e->elf, ".note.gnu.build-id");
	Elf_Data *data;
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	out[0] = 0;
	if (!scn || !(data = elf_getdata(scn, NULL)))
		return;
	if (gelf_getnote(data, off, &nh, &name_off, &desc_off) == 0 || nh.n_type != NT_GNU_BUILD_ID)
		return;
	for (size_t i = 0; i < nh.n_descsz && 2 * i + 2 < len; i++)
		snprintf(out + 2 * i, 3, "%02x", ((unsigned char *)data->d_buf)[desc_off + i]);
}

void elf_file_close(struct elf_file *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e);
}
